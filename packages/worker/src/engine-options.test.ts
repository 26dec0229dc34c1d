/**
 * createClient's `engine` option reaches the engine: over a dedicated worker
 * (a Comlink pair in this thread) and over the origin's shared engine (a
 * SharedWorker, a leader tab's worker: the fake browser of
 * tabs/browser.fixture.ts), where the client that opens the engine decides.
 */
import 'fake-indexeddb/auto';
import { MessageChannel } from 'node:worker_threads';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createClient } from './client';
import { ENGINE_OPTION_NAMES } from './engine-options';
import { caught, closePorts } from './testing/channel.fixture';
import { fakeBrowser } from './tabs/browser.fixture';
import { transportOf } from './tabs/transport-info';
import type { ClientOptions, KalamClient } from './types';
import { createWorkerApi } from './worker-api';

const ports: { close(): void }[] = [];

afterEach(() => {
  for (const port of ports.splice(0)) port.close();
  closePorts();
  vi.unstubAllGlobals();
});

/** A client of a dedicated worker (createWorkerApi with the engine's own openDatabase) over a Comlink pair. */
function dedicated(options: Partial<ClientOptions> = {}): Promise<KalamClient> {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  expose(createWorkerApi(), nodeEndpoint(port1));
  return createClient({ name: 'opts', storage: 'memory', worker: nodeEndpoint(port2), ...options });
}

const dba = (client: KalamClient) => client.session({ user: 'root', role: 'dba' });

async function setting(client: KalamClient, name: string): Promise<unknown> {
  return (await dba(client).query('SELECT value FROM system.settings WHERE name = $1', [name])).rows[0]?.value;
}

describe('createClient({ engine }) over a dedicated worker', () => {
  it('opens the engine with the options: system.settings shows them and the limits apply', async () => {
    const client = await dedicated({ engine: { maxTransactionRows: 3, planCacheSize: 7, statementTimeoutMs: 0 } });
    expect(await setting(client, 'max_transaction_rows')).toBe('3');
    expect(await setting(client, 'plan_cache_size')).toBe('7');
    expect(await setting(client, 'statement_timeout_ms')).toBe('0');
    await dba(client).execute("CREATE SHARED TABLE t (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'public')");
    const error = await caught(
      dba(client).transaction(async (tx) => {
        for (let id = 1; id <= 4; id++) await tx.execute('INSERT INTO t (id) VALUES ($1)', [id]);
      }),
    );
    expect(error.code).toBe('TRANSACTION_ERROR');
    expect(error.message).toMatch(/maxTransactionRows/);
    await client.close();
  });

  it('leaves every other option at its default', async () => {
    const client = await dedicated();
    expect(await setting(client, 'max_transaction_rows')).toBe('100000');
    await client.close();
  });

  it('refuses a bad engine option on the page with INVALID_OPTION naming it, before any worker starts', async () => {
    const cases: [unknown, RegExp][] = [
      [{ maxTransactionRows: 0 }, /^maxTransactionRows must be a positive integer \(got 0\)/],
      [{ storageTimeoutMs: 2 ** 31 }, /^storageTimeoutMs must be a whole number from 1 to 2147483647/],
      [{ maxTransactionRows: () => 5 }, /^maxTransactionRows must be a positive integer \(got a function\)/],
      [{ bogus: 1 }, /^Unknown engine option 'bogus'\. Valid engine options: planCacheSize, /],
      [{ storage: 'idb' }, /^Give storage as createClient\(\)'s own option/],
      [{ durability: 'strict' }, /^Give durability as createClient\(\)'s own option/],
      [{ hostMetrics: () => [] }, /^The engine option hostMetrics cannot cross to a worker/],
      [{ segmentStore: {} }, /^The engine option segmentStore cannot cross to a worker/],
      [{ indexedDB: {} }, /^The engine option indexedDB cannot cross to a worker/],
      ['fast', /^engine must be an object of engine options/],
    ];
    // A worker that must never be asked anything.
    const worker = { postMessage: vi.fn(), addEventListener: vi.fn(), removeEventListener: vi.fn() };
    for (const [engine, message] of cases) {
      const error = await caught(createClient({ name: 'x', storage: 'memory', worker, engine: engine as ClientOptions['engine'] }));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.message).toMatch(message);
    }
    expect(worker.postMessage).not.toHaveBeenCalled();
    expect(ENGINE_OPTION_NAMES).not.toContain('hostMetrics');
    expect(ENGINE_OPTION_NAMES).toContain('maxTransactionRows');
  });

  it('the worker checks the engine options it receives too', async () => {
    const api = createWorkerApi();
    const open = (engine: unknown) => api.open({ name: 'x', storage: 'memory', engine: engine as never }, () => undefined);
    expect((await caught(open({ hostMetrics: 5 }))).code).toBe('INVALID_OPTION');
    expect((await caught(open({ maxLiveQueries: -1 }))).message).toMatch(/^maxLiveQueries must be a positive integer/);
    await open({ maxLiveQueries: 2 });
    await api.close();
  });
});

describe.each(['shared-worker', 'leader'] as const)("createClient({ engine }) on the origin's shared engine (%s)", (kind) => {
  it('opens the engine with the first client’s options; a client joining it open keeps them; the next opening client’s apply', async () => {
    const browser = fakeBrowser({ shared: kind === 'shared-worker' });
    browser.install();
    const name = `opts-${kind}`;
    const a = await createClient({ name, storage: 'memory', engine: { maxTransactionRows: 3 } });
    expect(transportOf(a).kind).toBe(kind);
    expect(await setting(a, 'max_transaction_rows')).toBe('3');
    // Joins the engine as it is: its own options are not applied.
    const b = await createClient({ name, storage: 'memory', engine: { maxTransactionRows: 9 } });
    expect(await setting(b, 'max_transaction_rows')).toBe('3');
    await dba(b).execute("CREATE SHARED TABLE IF NOT EXISTS t (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'public')");
    const error = await caught(dba(b).transaction(async (tx) => tx.execute('INSERT INTO t (id) VALUES (1), (2), (3), (4)')));
    expect(error.message).toMatch(/maxTransactionRows/);
    await a.close();
    await b.close();
    // The last client closed the engine: the next one opens it with its own options.
    const c = await createClient({ name, storage: 'memory', engine: { maxTransactionRows: 9 } });
    expect(await setting(c, 'max_transaction_rows')).toBe('9');
    await c.close();
  });
});
