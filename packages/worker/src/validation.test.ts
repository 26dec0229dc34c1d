/**
 * Validation lives in the engine: a bad option, session, statement,
 * parameter or live option reaches the caller of a client — in-process or
 * over the worker boundary — as the engine's own KalamError. The worker
 * checks only what is its own (limits, transport, protocol) and converts a
 * value that cannot cross the boundary in one place.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isKalamError, openDatabase, OPTION_NAMES, type Database, type KalamError, type KvStore, type SessionOptions } from '@kalamlite/engine';
import { createClient, createLocalClient } from './client';
import { caught, closePorts, createChannelClient, openTestDatabase } from './testing/channel.fixture';
import type { ClientOptions, KalamClient } from './types';
import { createWorkerApi } from './worker-api';

afterEach(closePorts);

const SELECT = 'SELECT id, title FROM app.todos WHERE id = $1';
const CLIENT_OPTION_NAMES = ['name', 'storage', 'durability', 'limits', 'transport', 'worker', 'workerUrl', 'startTimeoutMs'];

/** Fails the test if `promise` has not settled within `ms`: a bad option must never leave createClient hanging. */
async function within<T>(promise: Promise<T>, ms = 2000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('createClient options', () => {
  const cases: [string, Partial<ClientOptions> | Record<string, unknown>, (message: string) => void][] = [
    ['an unknown storage', { storage: 'disk' }, (m) => ["'idb'", "'opfs'", "'memory'"].forEach((s) => expect(m).toContain(s))],
    ['an unknown option name', { nmae: 'typo' }, (m) => CLIENT_OPTION_NAMES.forEach((n) => expect(m).toContain(n))],
    ['a bad durability', { durability: 'always' }, (m) => ["'relaxed'", "'strict'"].forEach((s) => expect(m).toContain(s))],
    ['an empty name', { name: '' }, (m) => expect(m).toContain('non-empty string')],
    ['an unknown transport', { transport: 'pigeon' }, (m) => ["'auto'", "'shared-worker'", "'leader'", "'worker'"].forEach((s) => expect(m).toContain(s))],
    ['an unknown limit', { limits: { maxSubscription: 5 } }, (m) => ['maxSubscriptions', 'maxPendingChanges'].forEach((s) => expect(m).toContain(s))],
    ['a limit out of range', { limits: { maxPendingChanges: 0 } }, (m) => expect(m).toContain('positive integer')],
  ];

  for (const [what, options, names] of cases) {
    it(`refuses ${what} with INVALID_OPTION naming what is allowed, without a worker (never hanging)`, async () => {
      // No `worker`: in Node the default transport would need a Worker, so this only passes if nothing starts.
      const error = await caught(within(createClient({ name: 'test', storage: 'memory', ...options } as ClientOptions)));
      expect(error.code).toBe('INVALID_OPTION');
      names(error.message);
    });

    it(`refuses ${what} with INVALID_OPTION before opening, with a worker`, async () => {
      const error = await caught(within(createChannelClient(options as Partial<ClientOptions>)));
      expect(error.code).toBe('INVALID_OPTION');
      names(error.message);
    });
  }

  it('reports a bad storage, name or durability with the message of the engine itself', async () => {
    for (const options of [{ storage: 'disk' }, { name: '' }, { durability: 'always' }]) {
      const fromEngine = await caught(openDatabase({ name: 'test', storage: 'memory', ...options } as never));
      const fromClient = await caught(createClient({ name: 'test', storage: 'memory', ...options } as never));
      expect(fromClient.message).toBe(fromEngine.message);
    }
  });

  it('refuses a KvStore, which the engine takes but cannot cross to a worker', async () => {
    const kv = { get: async () => undefined, scan: async () => [], commit: async () => undefined, close: async () => undefined } as unknown as KvStore;
    const error = await caught(within(createClient({ name: 'test', storage: kv as never })));
    expect(error.code).toBe('INVALID_OPTION');
    expect(error.message).toContain('createLocalClient');
  });

  it('refuses options that are not an object', async () => {
    expect((await caught(createClient(undefined as never))).code).toBe('INVALID_OPTION');
  });
});

describe("the worker's open()", () => {
  /** A worker API whose engine is never opened: the options must be refused before. */
  function unopened() {
    let opened = 0;
    const api = createWorkerApi(async (options) => {
      opened++;
      return openDatabase({ ...options, storage: 'memory' });
    });
    return { api, opened: () => opened };
  }

  const cases: [string, Record<string, unknown>, readonly string[]][] = [
    ['an unknown storage', { name: 'x', storage: 'disk' }, ["'idb'", "'opfs'", "'memory'"]],
    ['an unknown option name', { name: 'x', storage: 'memory', bogus: 1 }, OPTION_NAMES],
    ['a bad durability', { name: 'x', storage: 'memory', durability: 'always' }, ["'relaxed'", "'strict'"]],
    ['a bad limit', { name: 'x', storage: 'memory', limits: { maxSubscriptions: -1 } }, ['maxSubscriptions']],
  ];

  for (const [what, options, names] of cases) {
    it(`refuses ${what} with INVALID_OPTION naming what is allowed, before opening anything`, async () => {
      const { api, opened } = unopened();
      const error = await caught(api.open(options as never, () => {}));
      expect(error.code).toBe('INVALID_OPTION');
      for (const name of names) expect(error.message).toContain(name);
      expect(opened()).toBe(0);
    });
  }

  it('passes the engine options on and keeps its limits to itself', async () => {
    const api = createWorkerApi((options) => openDatabase({ ...options, storage: 'memory' }));
    await api.open({ name: 'x', storage: 'memory', limits: { maxSubscriptions: 3 } }, () => {});
    expect((await api.stats()).maxSubscriptions).toBe(3);
    await api.close();
  });
});

/** A session of the engine or of a client, loosely typed: the tests feed it bad input on purpose. */
type AnySession = Record<'query' | 'execute' | 'live' | 'begin', (...args: unknown[]) => Promise<never>>;

/** Bad input and the code the engine answers it with. */
const BAD_INPUT: [string, string, (session: (options: SessionOptions) => AnySession) => Promise<unknown>][] = [
  // A bad session throws where it is made; async turns that into the rejection the other cases give.
  ['an unknown role', 'INVALID_PARAMETER', async (s) => s({ user: 'alice', role: 'root' as never }).query(SELECT, ['a'])],
  ['an empty user', 'INVALID_PARAMETER', async (s) => s({ user: '' }).query(SELECT, ['a'])],
  ['a user id with spaces', 'INVALID_PARAMETER', async (s) => s({ user: 'no spaces' }).execute(SELECT, ['a'])],
  ['SQL that is a number (query)', 'INVALID_SQL', (s) => s({ user: 'alice' }).query(42)],
  ['SQL that is null (execute)', 'INVALID_SQL', (s) => s({ user: 'alice' }).execute(null)],
  ['SQL that is an object (in a transaction)', 'INVALID_SQL', async (s) => ((await s({ user: 'alice' }).begin()) as unknown as AnySession).execute({})],
  ['parameters that are not an array', 'INVALID_PARAMETER', (s) => s({ user: 'alice' }).query(SELECT, 'a')],
  ['an undefined parameter', 'INVALID_PARAMETER', (s) => s({ user: 'alice' }).query(SELECT, [undefined])],
  ['a NaN parameter', 'INVALID_PARAMETER', (s) => s({ user: 'alice' }).query(SELECT, [NaN])],
  ['a function as a parameter', 'INVALID_PARAMETER', (s) => s({ user: 'alice' }).query(SELECT, [() => 1])],
  ['a symbol as a parameter', 'INVALID_PARAMETER', (s) => s({ user: 'alice' }).execute(SELECT, [Symbol('x')])],
  ['live options that are a number', 'INVALID_OPTION', (s) => s({ user: 'alice' }).live(SELECT, ['a'], () => {}, undefined, 5)],
  ['a negative lastRows', 'INVALID_OPTION', (s) => s({ user: 'alice' }).live(SELECT, ['a'], () => {}, undefined, { lastRows: -1 })],
  ['a zero batchSize', 'INVALID_OPTION', (s) => s({ user: 'alice' }).live(SELECT, ['a'], () => {}, undefined, { batchSize: 0 })],
  ['lastRows greater than batchSize (KalamDB refuses it too)', 'UNSUPPORTED', (s) => s({ user: 'alice' }).live(SELECT, ['a'], () => {}, undefined, { lastRows: 3, batchSize: 2 })],
  ['a from that is no _seq', 'INVALID_OPTION', (s) => s({ user: 'alice' }).live(SELECT, ['a'], () => {}, undefined, { from: 'soon' })],
];


for (const [transport, connect] of [
  ['in-process', async () => createLocalClient(await openTestDatabase())],
  ['over Comlink', () => createChannelClient()],
] as const) {
  describe(`a client ${transport} answers bad input with the engine's error`, () => {
    let db: Database;
    let client: KalamClient;

    for (const [what, code, run] of BAD_INPUT) {
      it(`${what}: ${code}`, async () => {
        db = await openTestDatabase();
        client = await connect();
        // The engine's db.session() throws at once, a client session on its first statement.
        const fromEngine = await caught((async () => run((options) => db.session(options) as unknown as AnySession))());
        const fromClient = await caught(run((options) => client.session(options) as unknown as AnySession));
        expect(fromEngine.code).toBe(code);
        expect(fromClient.code).toBe(code);
        // Parameters are judged by the engine's validateParams where the client reads them, before structured clone.
        expect(fromClient.message).toBe(fromEngine.message);
        // Nothing broke: the same client still runs statements.
        expect((await client.session({ user: 'alice' }).query(SELECT, ['a'])).rows).toEqual([]);
        await client.close();
        await db.close();
      });
    }

    it('refuses hostile parameters (Proxies, throwing getters, cycles, huge sparse arrays) at once, for every call: INVALID_PARAMETER, or LIMIT_EXCEEDED for too many values', async () => {
      client = await connect();
      const alice = client.session({ user: 'alice' });
      const boom = () => {
        throw new Error('hostile');
      };
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const sparse: unknown[] = [];
      sparse[1e8] = 1;
      const hostile: [string, unknown, string][] = [
        ['a Proxy as the array', new Proxy(['a'], { get: boom }), 'INVALID_PARAMETER'],
        ['a Proxy value', [new Proxy({ a: 1 }, { ownKeys: boom })], 'INVALID_PARAMETER'],
        ['a throwing getter', [{ get a() { return boom(); } }], 'INVALID_PARAMETER'],
        ['a cycle', [cyclic], 'INVALID_PARAMETER'],
        ['a huge sparse array', sparse, 'LIMIT_EXCEEDED'],
        ['a huge sparse array inside JSON', [{ sparse }], 'INVALID_PARAMETER'],
      ];
      for (const [what, params, code] of hostile) {
        const started = Date.now();
        const calls: [string, () => Promise<unknown>][] = [
          ['query', () => alice.query(SELECT, params as never)],
          ['execute', () => alice.execute(SELECT, params as never)],
          ['queryArrow', () => alice.queryArrow(SELECT, params as never)],
          ['live', () => alice.live(SELECT, params as never, () => {})],
          ['a transaction', () => alice.transaction((tx) => tx.query(SELECT, params as never))],
        ];
        for (const [call, run] of calls) expect([what, call, (await caught(run())).code]).toEqual([what, call, code]);
        expect([what, Date.now() - started < 1000]).toEqual([what, true]);
      }
      expect((await alice.query(SELECT, ['a'])).rows).toEqual([]);
      await client.close();
    });

    if (transport === 'over Comlink') {
      it('converts a value that cannot cross the boundary (a function in live options) once, saying what can be sent', async () => {
        client = await connect();
        const error = await caught(client.session({ user: 'alice' }).live(SELECT, ['a'], () => {}, undefined, { lastRows: (() => 1) as never }));
        expect(error.code).toBe('INVALID_PARAMETER');
        expect(error.message).toContain('cannot be sent to the database worker');
        expect(error.message).toContain('Pass parameters as null, booleans, numbers');
        await client.close();
      });
    }

    it('refuses a session namespace that is not a string as INVALID_PARAMETER, when the session is made', async () => {
      client = await connect();
      const error = await caught((async () => client.session({ user: 'alice', namespace: 5 as never }))());
      expect(error.code).toBe('INVALID_PARAMETER');
      await client.close();
    });

    it('refuses live SQL that is not a string as INVALID_SQL', async () => {
      client = await connect();
      const alice = client.session({ user: 'alice' });
      for (const sql of [null, undefined, 42, ['SELECT 1']]) {
        expect((await caught(alice.live(sql as never, [], () => {}))).code).toBe('INVALID_SQL');
      }
      await client.close();
    });

    it('refuses session options that are not an object, when the session is made', async () => {
      client = await connect();
      const error = await caught((async () => client.session(null as never))());
      expect(error.code).toBe('INVALID_PARAMETER');
      expect(error.message).toContain('Session options must be an object');
      await client.close();
    });

    it('keeps its own checks: a live() without a callback, a transaction() without one', async () => {
      client = await connect();
      const alice = client.session({ user: 'alice' });
      expect((await caught(alice.live(SELECT, ['a'], undefined as never))).code).toBe('INVALID_OPTION');
      expect((await caught(alice.transaction(undefined as never))).code).toBe('INVALID_PARAMETER');
      await client.close();
    });
  });
}

describe('the host keeps its own protocol checks', () => {
  it('refuses a subscription id in use, a bad one, and an unknown transaction', async () => {
    const { createHost } = await import('./host');
    const host = createHost(await openTestDatabase(), () => {});
    const alice = { user: 'alice', role: 'user' as const };
    await host.live(alice, SELECT, ['a'], 1);
    expect((await caught(host.live(alice, SELECT, ['a'], 1))).code).toBe('INVALID_PARAMETER');
    expect((await caught(host.live(alice, SELECT, ['a'], 1.5))).code).toBe('INVALID_PARAMETER');
    expect((await caught(host.commit('nope'))).code).toBe('TRANSACTION_ERROR');
    await host.close();
    expect((await caught(host.query(alice, SELECT, ['a']))).code).toBe('CLOSED');
  });

  it('fails every worker call before open() with a KalamError (CLOSED), never a TypeError', async () => {
    const api = createWorkerApi(() => openTestDatabase());
    const alice = { user: 'alice', role: 'user' as const };
    for (const call of [
      () => api.execute(alice, SELECT),
      () => api.queryArrow(alice, 'SELECT 1'),
      () => api.live(alice, SELECT, [], 1),
      () => api.begin(alice),
      () => api.commit('t'),
      () => api.stats(),
      () => api.unsubscribe(1),
    ]) {
      const error: unknown = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isKalamError(error)).toBe(true);
      expect((error as KalamError).code).toBe('CLOSED');
    }
  });
});
