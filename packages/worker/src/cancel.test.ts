import { afterEach, describe, expect, it } from 'vitest';
import { KalamError, type Database, type Session } from '@kalamlite/engine';
import { createLocalClient } from './client';
import { createHost, MAX_CANCELLABLE_CALLS } from './host';
import { caught, closePorts, createChannelClient, openTestDatabase } from './testing/channel.fixture';
import type { KalamClient } from './types';

/** 300 todos crossed three times: 27 million rows, far longer than any test waits; the engine pauses every few ms. */
const LONG = 'SELECT COUNT(*) AS n FROM app.todos x, app.todos y, app.todos z';

afterEach(closePorts);

async function withTodos(client: KalamClient): Promise<void> {
  const values = Array.from({ length: 300 }, (_, i) => `('t${i}', 'todo ${i}')`).join(', ');
  await client.session({ user: 'alice' }).execute(`INSERT INTO app.todos (id, title) VALUES ${values}`);
}

/** Waits until system.queries lists `sql` (a positive condition; gives up after 5 s). */
async function untilRunning(client: KalamClient, sql: string): Promise<void> {
  const admin = client.session({ user: 'admin', role: 'dba' });
  const deadline = Date.now() + 5_000;
  while ((await admin.query('SELECT COUNT(*) AS n FROM system.queries WHERE sql = $1', [sql])).rows[0].n === 0) {
    if (Date.now() > deadline) throw new Error(`${sql} was not listed in system.queries within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

for (const [transport, connect] of [
  ['in-process', async () => createLocalClient(await openTestDatabase())],
  ['over Comlink', createChannelClient],
] as const) {
  describe(`an AbortSignal on a client ${transport}`, () => {
    it('cancels a running query in the engine: it fails with QUERY_CANCELLED and the client keeps working', async () => {
      const client = await connect();
      await withTodos(client);
      const alice = client.session({ user: 'alice' });
      const controller = new AbortController();
      const long = alice.query(LONG, [], { signal: controller.signal });
      await untilRunning(client, LONG);
      controller.abort();
      const e = await caught(long);
      expect([e.code, e.message]).toEqual(['QUERY_CANCELLED', expect.stringContaining('AbortSignal')]);
      expect((await alice.query('SELECT COUNT(*) AS n FROM app.todos')).rows).toEqual([{ n: 300 }]);
      const admin = client.session({ user: 'admin', role: 'dba' });
      expect((await admin.query("SELECT metric_value FROM system.stats WHERE metric_name = 'queries_cancelled'")).rows).toEqual([{ metric_value: '1' }]);
      await client.close();
    });

    it('cancels execute() and queryArrow() too, and a statement inside a transaction, rolling it back', async () => {
      const client = await connect();
      await withTodos(client);
      const alice = client.session({ user: 'alice' });
      for (const run of [(signal: AbortSignal) => alice.execute(LONG, [], { signal }), (signal: AbortSignal) => alice.queryArrow(LONG, [], { signal })]) {
        const controller = new AbortController();
        const long = run(controller.signal);
        await untilRunning(client, LONG);
        controller.abort();
        expect((await caught(long)).code).toBe('QUERY_CANCELLED');
      }
      const controller = new AbortController();
      const done = alice.transaction(async (tx) => {
        await tx.execute("INSERT INTO app.todos (id, title) VALUES ('new', 'staged')");
        await tx.query(LONG, [], { signal: controller.signal });
      });
      await untilRunning(client, LONG);
      controller.abort();
      expect((await caught(done)).code).toBe('QUERY_CANCELLED');
      expect((await alice.query("SELECT COUNT(*) AS n FROM app.todos WHERE id = 'new'")).rows).toEqual([{ n: 0 }]);
      await client.close();
    });

    it('an already aborted signal sends nothing: the write is not made', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      const e = await caught(alice.execute("INSERT INTO app.todos (id, title) VALUES ('x', 'y')", [], { signal: AbortSignal.abort() }));
      expect(e.code).toBe('QUERY_CANCELLED');
      expect((await alice.query('SELECT COUNT(*) AS n FROM app.todos')).rows).toEqual([{ n: 0 }]);
      await client.close();
    });

    it('a signal aborted after the call ended changes nothing', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      const controller = new AbortController();
      await alice.execute("INSERT INTO app.todos (id, title) VALUES ('x', 'y')", [], { signal: controller.signal });
      controller.abort();
      expect((await alice.query('SELECT id FROM app.todos', [], { signal: controller.signal }).catch((x: KalamError) => x.code))).toBe('QUERY_CANCELLED');
      expect((await alice.query('SELECT id FROM app.todos')).rows).toEqual([{ id: 'x' }]);
      await client.close();
    });

    it('refuses options that are not { signal: AbortSignal } with INVALID_OPTION, on the page', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      for (const options of [7, { signal: 'stop' }, { deadline: 5 }]) {
        expect((await caught(alice.query('SELECT 1', [], options as never))).code).toBe('INVALID_OPTION');
      }
      await client.close();
    });
  });
}

describe('the host\'s cancellable calls', () => {
  /** A database whose every query runs until its signal aborts it. */
  function hangingDatabase(): Database {
    const session = {
      query: (_sql: string, _params: unknown, options?: { signal?: AbortSignal }) =>
        new Promise((_resolve, reject) => {
          options?.signal?.addEventListener('abort', () => reject(new KalamError('QUERY_CANCELLED', 'The statement was cancelled')));
        }),
      namespace: 'default',
    } as unknown as Session;
    return { session: () => session } as unknown as Database;
  }

  it(`holds at most ${MAX_CANCELLABLE_CALLS} running calls with an id; past it LIMIT_EXCEEDED; cancel and close free them`, async () => {
    const host = createHost(hangingDatabase(), () => undefined);
    const key = { user: 'alice', role: 'user' as const };
    const calls = Array.from({ length: MAX_CANCELLABLE_CALLS }, (_, i) => host.query(key, 'SELECT 1', [], i + 1));
    for (const c of calls) c.catch(() => undefined);
    const past = await caught(host.query(key, 'SELECT 1', [], MAX_CANCELLABLE_CALLS + 1));
    expect([past.code, past.message]).toEqual(['LIMIT_EXCEEDED', expect.stringContaining(String(MAX_CANCELLABLE_CALLS))]);
    expect((await caught(host.query(key, 'SELECT 1', [], 7))).code).toBe('INVALID_PARAMETER'); // an id in use
    await host.cancel(5);
    expect((await caught(calls[4])).code).toBe('QUERY_CANCELLED');
    await host.cancel(5); // ended: ignored
    await host.cancel(123_456); // unknown: ignored
    // The freed place takes a new call.
    const next = host.query(key, 'SELECT 1', [], MAX_CANCELLABLE_CALLS + 1);
    await host.close();
    expect((await caught(next)).code).toBe('QUERY_CANCELLED');
    for (const c of calls.slice(5)) expect((await caught(c)).code).toBe('QUERY_CANCELLED');
  });
});
