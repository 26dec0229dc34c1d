import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Row } from '@kalamlite/engine';
import { createClient, createLocalClient } from './client';
import { MAX_SUBSCRIPTIONS } from './host';
import { SessionCache } from './session-cache';
import { caught, closePorts, createChannelClient, openTestDatabase } from './testing/channel.fixture';
import { createWorkerApi } from './worker-api';

const INSERT = 'INSERT INTO app.todos (id, title) VALUES ($1, $2)';
const UPDATE = 'UPDATE app.todos SET title = $2 WHERE id = $1';
const SELECT = 'SELECT id, title FROM app.todos ORDER BY id';

afterEach(closePorts);

/** Collects every result a live query delivers and lets a test wait for the next one. */
function recorder() {
  const results: (readonly Row[])[] = [];
  let waiting: (() => void) | undefined;
  return {
    results,
    onRows(rows: readonly Row[]) {
      results.push(rows);
      waiting?.();
    },
    async next(count: number): Promise<readonly Row[]> {
      while (results.length < count) await new Promise<void>((resolve) => (waiting = resolve));
      return results[count - 1];
    },
  };
}

for (const [transport, connect] of [
  ['in-process', async () => createLocalClient(await openTestDatabase())],
  ['over Comlink', createChannelClient],
] as const) {
  describe(`a client ${transport}`, () => {
    it('runs statements and returns frozen rows', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      expect(alice.role).toBe('user');
      const [inserted] = await alice.execute(INSERT, ['a', 'milk']);
      expect(inserted.rowCount).toBe(1);
      const { rows } = await alice.query(SELECT);
      expect(rows).toEqual([{ id: 'a', title: 'milk' }]);
      expect(Object.isFrozen(rows)).toBe(true);
      expect(Object.isFrozen(rows[0])).toBe(true);
      await client.close();
    });

    it('returns JSON values deep-frozen, from queries and live queries', async () => {
      const client = await connect();
      const admin = client.session({ user: 'admin', role: 'dba' });
      await admin.execute('CREATE SHARED TABLE app.docs (id INT PRIMARY KEY, j JSON)');
      await admin.execute('INSERT INTO app.docs (id, j) VALUES (1, $1)', [{ a: { b: [1] } }]);
      const deepFrozen = (v: unknown): boolean => typeof v !== 'object' || v === null || (Object.isFrozen(v) && Object.values(v).every(deepFrozen));
      const { rows } = await admin.query('SELECT j FROM app.docs');
      expect(rows).toEqual([{ j: { a: { b: [1] } } }]);
      expect(deepFrozen(rows)).toBe(true);
      const live = recorder();
      const stop = await admin.live('SELECT id, j FROM app.docs', undefined, live.onRows);
      expect(deepFrozen(await live.next(1))).toBe(true);
      await admin.execute('INSERT INTO app.docs (id, j) VALUES (2, $1)', [{ c: [{ d: 1 }] }]);
      const second = await live.next(2);
      expect(second[1]).toEqual({ id: 2, j: { c: [{ d: 1 }] } });
      expect(deepFrozen(second)).toBe(true);
      stop();
      await client.close();
    });

    it('delivers a live result now and after each commit that changes it, sharing unchanged rows', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      await alice.execute(INSERT, ['a', 'milk']);
      const live = recorder();
      const stop = await alice.live(SELECT, undefined, live.onRows);
      const first = await live.next(1);
      expect(first).toEqual([{ id: 'a', title: 'milk' }]);

      await alice.execute(INSERT, ['b', 'eggs']);
      const second = await live.next(2);
      expect(second).toEqual([{ id: 'a', title: 'milk' }, { id: 'b', title: 'eggs' }]);
      expect(second[0]).toBe(first[0]);

      await alice.execute(UPDATE, ['b', 'bread']);
      const third = await live.next(3);
      expect(third[0]).toBe(first[0]);
      expect(third[1]).toEqual({ id: 'b', title: 'bread' });
      stop();
      await client.close();
    });

    it('does not deliver a result again when a commit leaves it unchanged', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      await alice.execute(INSERT, ['a', 'milk']);
      const live = recorder();
      const stop = await alice.live(SELECT, undefined, live.onRows);
      await live.next(1);
      await alice.execute(UPDATE, ['a', 'milk']);
      await alice.execute(UPDATE, ['zzz', 'nothing']);
      // A commit that does change it: its result is the next one delivered, none came in between.
      await alice.execute(INSERT, ['b', 'eggs']);
      expect((await live.next(2)).map((r) => r.id)).toEqual(['a', 'b']);
      expect(live.results).toHaveLength(2);
      stop();
      await client.close();
    });

    it('stops delivering once a live query is stopped', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      const live = recorder();
      const stop = await alice.live(SELECT, [], live.onRows);
      await live.next(1);
      stop();
      stop();
      // Another live query of the session (another query: no shared subscription) sees the insert.
      const other = recorder();
      const stopOther = await alice.live('SELECT id FROM app.todos', [], other.onRows);
      await other.next(1);
      await alice.execute(INSERT, ['a', 'milk']);
      await other.next(2);
      expect(live.results).toHaveLength(1);
      stopOther();
      await client.close();
    });

    it('keeps each user to their own rows', async () => {
      const client = await connect();
      await client.session({ user: 'alice' }).execute(INSERT, ['a', 'milk']);
      const { rows } = await client.session({ user: 'bob' }).query(SELECT);
      expect(rows).toEqual([]);
      await client.close();
    });

    it('fails with KalamErrors carrying code and position, and keeps working afterwards', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      expect((await caught(alice.query('SELECT * FROM app.missing'))).code).toBe('TABLE_NOT_FOUND');
      const syntax = await caught(alice.query('SELECT * FROM app.todos WHERE id = = 1'));
      expect(syntax.code).toBe('PARSE_ERROR');
      expect(syntax.position).toBe(35);
      expect(syntax.message).toContain("Syntax error near '='");
      await alice.execute(INSERT, ['a', 'milk']);
      expect((await caught(alice.execute(INSERT, ['a', 'again']))).code).toBe('PRIMARY_KEY_VIOLATION');
      expect((await caught(alice.live('SELECT id FROM app.todos WHERE', undefined, () => {}))).code).toBe('PARSE_ERROR');
      expect((await alice.query(SELECT)).rows).toHaveLength(1);
      await client.close();
    });

    it('rejects malformed input with KalamErrors instead of failing inside', async () => {
      const client = await connect();
      // The engine judges a session when it first runs a statement (client.session() itself does not throw).
      expect(() => client.session({ user: '' })).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER' }));
      expect(() => client.session({ user: 'no spaces allowed' })).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER' }));
      expect(() => client.session({ user: 'x', role: 'root' as never })).toThrow(/Unknown role/);
      const alice = client.session({ user: 'alice' });
      expect((await caught(alice.query(42 as never))).code).toBe('INVALID_SQL');
      expect((await caught(alice.query(SELECT, 'a' as never))).code).toBe('INVALID_PARAMETER');
      expect((await caught(alice.live(SELECT, undefined, null as never))).code).toBe('INVALID_OPTION');
      expect((await caught(alice.query(SELECT, [Symbol('x') as never]))).code).toBe('INVALID_PARAMETER');
      expect((await alice.query(SELECT)).rows).toEqual([]);
      await client.close();
    });

    it('runs later statements of a session in the namespace a USE switched to, and only that session', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      const other = client.session({ user: 'alice' });
      await alice.execute('USE app');
      expect(alice.namespace).toBe('app');
      await alice.execute('INSERT INTO todos (id, title) VALUES ($1, $2)', ['a', 'milk']);
      expect((await alice.query('SELECT id FROM todos')).rows).toEqual([{ id: 'a' }]);
      expect(other.namespace).toBeUndefined();
      expect((await caught(other.query('SELECT id FROM todos'))).code).toBe('TABLE_NOT_FOUND');
      await client.close();
    });

    it('refuses statements after close', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      await client.close();
      expect((await caught(alice.query(SELECT))).code).toBe('CLOSED');
      await client.close();
    });
  });
}

describe('the worker host', () => {
  it('refuses parameters that cannot cross the worker boundary as INVALID_PARAMETER', async () => {
    const client = await createChannelClient();
    const error = await caught(client.session({ user: 'alice' }).query(SELECT, [(() => 1) as never]));
    expect(error.code).toBe('INVALID_PARAMETER');
    await client.close();
  });

  it('refuses statements before the database is open', async () => {
    const api = createWorkerApi(() => openTestDatabase());
    expect((await caught(api.query({ user: 'a', role: 'user' }, SELECT))).code).toBe('CLOSED');
  });

  it('reports a failure to open the database as a KalamError', async () => {
    const api = createWorkerApi(async () => {
      throw new Error('IndexedDB is unavailable');
    });
    const error = await caught(api.open({ name: 'x', storage: 'idb' }, () => {}));
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toContain('IndexedDB is unavailable');
    expect((await caught(api.open({ name: 'x', storage: 'disk' as never }, () => {}))).code).toBe('INVALID_OPTION');
  });

  it("opens the engine with the durability the client asks for, and refuses an unknown one with INVALID_OPTION", async () => {
    const strict = createWorkerApi((o) => openDatabase({ ...o, storage: 'memory' }));
    await strict.open({ name: 'x', storage: 'memory', durability: 'strict' }, () => {});
    const setting = await strict.query({ user: 'root', role: 'dba' }, "SELECT value FROM system.settings WHERE name = 'durability'");
    expect(setting.value.rows[0]?.value).toBe('strict');
    await strict.close();
    const bad = createWorkerApi((o) => openDatabase({ ...o, storage: 'memory' }));
    expect((await caught(bad.open({ name: 'x', storage: 'memory', durability: 'always' as never }, () => {}))).code).toBe('INVALID_OPTION');
  });

  it(`refuses more than ${MAX_SUBSCRIPTIONS} live queries on one client`, async () => {
    const client = createLocalClient(await openTestDatabase());
    const alice = client.session({ user: 'alice' });
    // Distinct parameters, so each is a subscription of its own (identical ones share one).
    const distinct = `${SELECT.replace(/\s+ORDER BY.*$/i, '')} WHERE 1 <> $1`;
    const stops = await Promise.all(Array.from({ length: MAX_SUBSCRIPTIONS }, (_, i) => alice.live(distinct, [-1 - i], () => {})));
    const error = await caught(alice.live(distinct, [0], () => {}));
    expect(error.code).toBe('SUBSCRIPTION_LIMIT_EXCEEDED');
    expect(error.message).toContain(`may hold ${MAX_SUBSCRIPTIONS} live queries`);
    expect((await client.stats()).subscriptions).toBe(MAX_SUBSCRIPTIONS);
    stops[0]();
    const again = await alice.live(distinct, [0], () => {});
    again();
    await client.close();
  });

  it('batches the results of one commit into a single message per client', async () => {
    const batches: number[] = [];
    const { createHost } = await import('./host');
    const host = createHost(await openTestDatabase(), (events) => batches.push(events.length));
    const alice = { user: 'alice', role: 'user' as const };
    await host.live(alice, SELECT, [], 1);
    await host.live(alice, SELECT, [], 2);
    await host.live(alice, SELECT, [], 3);
    const events = () => batches.reduce((sum, n) => sum + n, 0);
    await vi.waitFor(() => expect(events()).toBe(3), { timeout: 5_000 }); // the first results
    batches.length = 0;
    await host.execute(alice, INSERT, ['a', 'milk']);
    await vi.waitFor(() => expect(batches.length).toBeGreaterThan(0), { timeout: 5_000 });
    expect(batches).toEqual([3]);
    await host.close();
  });
});

describe('the session cache', () => {
  it('drops the least recently used session when full', async () => {
    const db = await openTestDatabase();
    const cache = new SessionCache(db, 2);
    const a = cache.get({ user: 'a', role: 'user' });
    cache.get({ user: 'b', role: 'user' });
    expect(cache.get({ user: 'a', role: 'user' })).toBe(a);
    cache.get({ user: 'c', role: 'user' });
    expect(cache.count).toBe(2);
    expect(cache.get({ user: 'a', role: 'user' })).toBe(a);
    expect(cache.get({ user: 'b', role: 'user' })).not.toBe(undefined);
    expect(cache.count).toBe(2);
  });

  it('keeps sessions of different roles and namespaces apart', async () => {
    const cache = new SessionCache(await openTestDatabase());
    const user = cache.get({ user: 'a', role: 'user' });
    expect(cache.get({ user: 'a', role: 'dba' })).not.toBe(user);
    expect(cache.get({ user: 'a', role: 'user', namespace: 'app' })).not.toBe(user);
    expect(cache.get({ user: 'a', role: 'user' })).toBe(user);
  });
});
