import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter';
import { isKalamError, openDatabase, type Database, type KalamError, type Row, type Value } from '@kalamlite/engine';
import { createClient, createLocalClient } from './client';
import type { HostLimits, LiveChange } from './protocol';
import { installKalamErrorTransfer } from './transfer';
import type { KalamClient } from './types';
import { createWorkerApi } from './worker-api';

/** A memory database with a SHARED table `app.items (id BIGINT, n BIGINT)` anyone may write. */
async function openTestDatabase(hostMetrics?: () => readonly [string, Value][]): Promise<Database> {
  const db = await openDatabase({ storage: 'memory', hostMetrics });
  await db
    .session({ user: 'admin', role: 'dba' })
    .execute(
      "CREATE NAMESPACE IF NOT EXISTS app; CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, n BIGINT NOT NULL) WITH (ACCESS_LEVEL = 'public')",
    );
  return db;
}

const ports: MessagePort[] = [];
afterEach(() => {
  for (const port of ports.splice(0)) port.close();
});

async function channelClient(limits: Partial<HostLimits> = {}): Promise<KalamClient> {
  installKalamErrorTransfer();
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  expose(createWorkerApi((options) => openTestDatabase(options.hostMetrics)), nodeEndpoint(port1));
  return createClient({ name: 'test', storage: 'memory', worker: nodeEndpoint(port2), limits });
}

async function localClient(limits: Partial<HostLimits> = {}): Promise<KalamClient> {
  return createLocalClient(await openTestDatabase(), limits);
}

/** Records deliveries and lets a test wait until one satisfies a condition. */
function recorder() {
  const deliveries: { rows: readonly Row[]; change: LiveChange }[] = [];
  let waiting: (() => void) | undefined;
  return {
    deliveries,
    onChange(rows: readonly Row[], change: LiveChange) {
      deliveries.push({ rows, change });
      waiting?.();
    },
    async until(check: (rows: readonly Row[]) => boolean): Promise<{ rows: readonly Row[]; change: LiveChange }> {
      for (;;) {
        const last = deliveries[deliveries.length - 1];
        if (last !== undefined && check(last.rows)) return last;
        await new Promise<void>((resolve) => (waiting = resolve));
      }
    },
  };
}

const WINDOW = 'SELECT id, n FROM app.items ORDER BY id DESC LIMIT 20';
const ABOVE = 'SELECT id, n FROM app.items WHERE id > $1 ORDER BY id DESC LIMIT 20';
const insertMany = (from: number, count: number) => {
  const values = Array.from({ length: count }, (_, i) => `(${from + i}, ${from + i})`).join(', ');
  return `INSERT INTO app.items (id, n) VALUES ${values}`;
};

for (const [transport, connect] of [
  ['in-process', localClient],
  ['over a MessageChannel', channelClient],
] as const) {
  describe(`live queries on a client ${transport}`, () => {
    it('delivers a one-row change as a change set and keeps every other row object', async () => {
      const client = await connect();
      const session = client.session({ user: 'alice', role: 'dba' });
      await session.execute(insertMany(1, 30));
      const live = recorder();
      const stop = await session.live(WINDOW, [], live.onChange);
      const first = await live.until((rows) => rows.length === 20);
      expect(first.change.kind).toBe('snapshot');
      await session.execute('INSERT INTO app.items (id, n) VALUES (100, 100)');
      const next = await live.until((rows) => rows[0]?.id === 100n);
      expect(next.change).toMatchObject({ kind: 'changes', inserted: [{ id: 100n, n: 100n }] });
      expect(next.rows).toHaveLength(20);
      // Rows 30…12 are the very objects of the first result.
      for (let i = 1; i < 20; i++) expect(next.rows[i]).toBe(first.rows[i - 1]);
      expect(Object.isFrozen(next.rows) && Object.isFrozen(next.rows[0])).toBe(true);
      const stats = await client.stats();
      expect(stats.patches).toBeGreaterThan(0);
      stop();
      await client.close();
    });

    it('resumes with from and lastRows 0 as with from alone: a row inserted while away arrives as an insert', async () => {
      const client = await connect();
      const session = client.session({ user: 'alice', role: 'dba' });
      await session.execute(insertMany(1, 2));
      const first = recorder();
      const stopFirst = await session.live('SELECT id, n FROM app.items', [], first.onChange, undefined, { lastRows: 0 });
      await session.execute(insertMany(3, 1));
      await first.until((rows) => rows.length === 1);
      const [{ s }] = (await session.query('SELECT MAX(_seq) AS s FROM app.items')).rows;
      stopFirst();
      await session.execute(insertMany(4, 1)); // while away
      const resumed = recorder();
      await session.live('SELECT id, n FROM app.items', [], resumed.onChange, undefined, { from: s as bigint, lastRows: 0 });
      const got = await resumed.until(() => true); // the first delivery
      expect(got.change).toEqual({ kind: 'changes', inserted: [{ id: 4n, n: 4n }], updated: [], deleted: [] });
      expect(got.rows.map((r) => r.id)).toContain(4n);
      await client.close();
    });

    it('pairs each deleted key with the row object the client held for it (deletedRows)', async () => {
      const client = await connect();
      const session = client.session({ user: 'alice', role: 'dba' });
      await session.execute(insertMany(1, 30));
      const live = recorder();
      await session.live(WINDOW, [], live.onChange);
      const first = await live.until((rows) => rows.length === 20);
      // Two deletes and an update in one commit: each key gets its own old row, by identity.
      const tx = await session.begin();
      await tx.execute('DELETE FROM app.items WHERE id = 30 OR id = 25');
      await tx.execute('UPDATE app.items SET n = 0 WHERE id = 20');
      await tx.commit();
      const next = await live.until((rows) => rows[0]?.id === 29n);
      const change = next.change as Extract<LiveChange, { kind: 'changes' }>;
      expect([...change.deleted].sort()).toEqual([25n, 30n]);
      expect(change.deletedRows?.map((d) => d.key)).toEqual(change.deleted);
      for (const { key, old } of change.deletedRows!) expect(old).toBe(first.rows.find((r) => r.id === key));
      expect(change.updated).toEqual([{ row: { id: 20n, n: 0n }, old: { id: 20n, n: 20n } }]);
      // A row pushed out of the LIMIT window is deleted from the result too, with its old row.
      await session.execute('INSERT INTO app.items (id, n) VALUES (100, 100)');
      const added = await live.until((rows) => rows[0]?.id === 100n);
      const pushed = added.change as Extract<LiveChange, { kind: 'changes' }>;
      expect(pushed.deletedRows).toEqual([{ key: 9n, old: { id: 9n, n: 9n } }]);
      expect(pushed.deletedRows![0].old).toBe(next.rows[19]);
      // A change that removes nothing has no deletedRows.
      await session.execute('UPDATE app.items SET n = 1 WHERE id = 100');
      const updated = await live.until((rows) => rows[0]?.n === 1n);
      expect(updated.change).not.toHaveProperty('deletedRows');
      await client.close();
    });

    it('gives a deleted row the client never held no old row (inserted and deleted while a delivery was unacknowledged)', async () => {
      const client = await connect();
      const session = client.session({ user: 'alice', role: 'dba' });
      await session.execute(insertMany(1, 3));
      const seen: { rows: readonly Row[]; change: LiveChange }[] = [];
      let release: (() => void) | undefined;
      await session.live(WINDOW, [], (rows, change) => {
        seen.push({ rows, change });
        if (seen.length === 2) return new Promise<void>((resolve) => (release = resolve)); // holds the next batch back
        return undefined;
      });
      await vi.waitFor(() => expect(seen).toHaveLength(1));
      const held = seen[0].rows;
      await session.execute(insertMany(4, 1));
      await vi.waitFor(() => expect(seen).toHaveLength(2));
      const afterInsert = seen[1].rows;
      // While that delivery is unacknowledged: 5 comes and goes, 1 goes.
      await session.execute(insertMany(5, 1));
      await session.execute('DELETE FROM app.items WHERE id = 5 OR id = 1');
      release!();
      await vi.waitFor(() => expect(seen).toHaveLength(3));
      const change = seen[2].change as Extract<LiveChange, { kind: 'changes' }>;
      const byKey = new Map(change.deletedRows!.map((d) => [d.key, d.old]));
      expect(change.deleted).toContain(5n);
      expect(byKey.has(5n) && byKey.get(5n)).toBeUndefined();
      expect(byKey.get(1n)).toBe(afterInsert.find((r) => r.id === 1n));
      expect(byKey.get(1n)).toBe(held.find((r) => r.id === 1n));
      await client.close();
    });

    it('hands every live query of the client the same row object for a row of one commit', async () => {
      const client = await connect();
      const session = client.session({ user: 'alice', role: 'dba' });
      const a = recorder();
      const b = recorder();
      await session.live(WINDOW, [], a.onChange);
      await session.live('SELECT id, n FROM app.items WHERE n > $1 ORDER BY id', [0], b.onChange);
      await session.execute('INSERT INTO app.items (id, n) VALUES (7, 7)');
      const fromA = await a.until((rows) => rows.length === 1);
      const fromB = await b.until((rows) => rows.length === 1);
      expect(fromA.rows[0]).toBe(fromB.rows[0]);
      await client.close();
    });

    it("tells a live query's listener, with the error's code, when the engine ends it (KILL LIVE QUERY), and delivers nothing after", async () => {
      const client = await connect();
      const session = client.session({ user: 'alice', role: 'dba' });
      await session.execute(insertMany(1, 3));
      const live = recorder();
      const errors: KalamError[] = [];
      await session.live(WINDOW, [], live.onChange, (e) => errors.push(e));
      await live.until((rows) => rows.length === 3);
      const { rows } = await session.query('SELECT live_id FROM system.live');
      expect(rows).toHaveLength(1);
      await session.execute(`KILL LIVE QUERY '${String(rows[0].live_id)}'`);
      await vi.waitFor(() => expect(errors.map((e) => [isKalamError(e), e.code])).toEqual([[true, 'LIVE_QUERY_KILLED']]), { timeout: 5_000 });
      const delivered = live.deliveries.length;
      await session.execute(insertMany(4, 1));
      expect((await session.query(WINDOW)).rows).toHaveLength(4);
      expect(live.deliveries).toHaveLength(delivered);
      await client.close();
    });

    it('refuses live queries past maxSubscriptions with SUBSCRIPTION_LIMIT_EXCEEDED, and accepts one once another stops', async () => {
      const client = await connect({ maxSubscriptions: 3 });
      const session = client.session({ user: 'alice', role: 'dba' });
      const stops = [];
      // Different parameters: each is a subscription of its own.
      for (let i = 0; i < 3; i++) stops.push(await session.live(ABOVE, [i], () => {}));
      const error = await session.live(ABOVE, [3], () => {}).catch((e: unknown) => e);
      expect(isKalamError(error) && error.code).toBe('SUBSCRIPTION_LIMIT_EXCEEDED');
      // Joining an open identical one counts too: every live() call is a listener to bound.
      const joined = await session.live(ABOVE, [0], () => {}).catch((e: unknown) => e);
      expect(isKalamError(joined) && joined.code).toBe('SUBSCRIPTION_LIMIT_EXCEEDED');
      stops[0]();
      // stop() reaches the host over the channel: wait until the host has let the subscription go.
      await vi.waitFor(async () => expect((await client.stats()).subscriptions).toBe(2), { timeout: 5_000 });
      const again = await session.live(ABOVE, [4], () => {});
      expect((await client.stats()).subscriptions).toBe(3);
      again();
      await client.close();
    });

    it('shares one subscription among identical live queries of a session, hands a joiner the current result, and ends it with its last listener', async () => {
      const client = await connect();
      const session = client.session({ user: 'alice', role: 'dba' });
      await session.execute(insertMany(1, 5));
      const a = recorder();
      const b = recorder();
      const stopA = await session.live(WINDOW, [], a.onChange);
      const stopB = await session.live(WINDOW, [], b.onChange);
      expect((await client.stats()).subscriptions).toBe(1);
      // Over a channel the first result may land just after live() resolves; a joiner gets it either way, once.
      const [firstA, firstB] = await Promise.all([a.until((rows) => rows.length === 5), b.until((rows) => rows.length === 5)]);
      expect(b.deliveries).toHaveLength(1);
      expect(firstB.change.kind).toBe('snapshot');
      expect(firstB.rows).toBe(firstA.rows); // the same frozen array
      // Other parameters, options or another session: a subscription of its own.
      const other = await session.live(ABOVE, [2], () => {});
      const paged = await session.live(WINDOW, [], () => {}, undefined, { lastRows: 2 });
      const bob = await client.session({ user: 'bob', role: 'dba' }).live(WINDOW, [], () => {});
      expect((await client.stats()).subscriptions).toBe(4);
      other();
      paged();
      bob();

      await session.execute(insertMany(6, 1));
      const [gotA, gotB] = await Promise.all([a.until((rows) => rows.length === 6), b.until((rows) => rows.length === 6)]);
      expect(gotA.rows).toBe(gotB.rows);
      expect(gotA.change).toBe(gotB.change);
      expect(gotB.change.kind === 'changes' && gotB.change.inserted.map((r) => Number(r.id))).toEqual([6]);

      stopA();
      await session.execute(insertMany(7, 1));
      await b.until((rows) => rows.length === 7);
      expect(a.deliveries.some((d) => d.rows.length === 7)).toBe(false);
      expect((await client.stats()).subscriptions).toBe(1);
      stopB();
      stopB(); // twice is harmless
      await vi.waitFor(async () => expect((await client.stats()).subscriptions).toBe(0), { timeout: 5_000 });
      // A new one starts afresh.
      const c = recorder();
      const stopC = await session.live(WINDOW, [], c.onChange);
      expect((await c.until((rows) => rows.length === 7)).rows.map((r) => Number(r.id))).toEqual([7, 6, 5, 4, 3, 2, 1]);
      stopC();
      await client.close();
    });

    it('keeps the queue of a listener that does not drain within maxPendingChanges while 100,000 changes are written, and ends with the right result', async () => {
      const maxPendingChanges = 1024;
      const client = await connect({ maxPendingChanges });
      const session = client.session({ user: 'alice', role: 'dba' });
      const writer = client.session({ user: 'bob', role: 'dba' });
      const rowCount = 1000;
      await writer.execute(insertMany(1, rowCount));
      let release: (() => void) | undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      const all: { rows: readonly Row[]; change: LiveChange }[] = [];
      // Takes the first result, then holds every later batch until released.
      await session.live('SELECT id, n FROM app.items ORDER BY id', [], (rows, change) => {
        all.push({ rows, change });
        return all.length === 1 ? undefined : held;
      });
      const window = recorder();
      await session.live(WINDOW, [], window.onChange);
      await window.until((rows) => rows.length === 20);
      // 100 statements updating every row: 100,000 changes.
      for (let i = 0; i < 100; i++) {
        await writer.execute('UPDATE app.items SET n = n + 1 WHERE id > 0');
        expect((await client.stats()).pendingChanges).toBeLessThanOrEqual(maxPendingChanges);
      }
      await writer.execute('UPDATE app.items SET n = 0 WHERE id = 1');
      await writer.execute('DELETE FROM app.items WHERE id = 2');
      const stalled = await client.stats();
      expect(stalled.isAwaitingAck).toBe(true);
      expect(stalled.pendingChangesPeak).toBeLessThanOrEqual(maxPendingChanges);
      expect(stalled.collapses).toBeGreaterThan(0);
      expect(all.length).toBeLessThanOrEqual(2);

      release!();
      await vi.waitFor(() => expect(all[all.length - 1]?.rows.length).toBe(rowCount - 1), { timeout: 5_000 });
      const expected = (await session.query('SELECT id, n FROM app.items ORDER BY id')).rows;
      expect(expected[0]).toEqual({ id: 1n, n: 0n });
      expect(expected[1]).toEqual({ id: 3n, n: 103n });
      const last = all[all.length - 1];
      expect(last.rows).toHaveLength(rowCount - 1);
      expect(last.rows).toEqual(expected);
      expect(last.change).toMatchObject({ kind: 'snapshot', collapsed: true });
      const lastWindow = await window.until((rows) => rows[0]?.n === BigInt(rowCount + 100));
      expect(lastWindow.rows).toEqual((await session.query(WINDOW)).rows);
      expect((await client.stats()).pendingChanges).toBe(0);
      await client.close();
    }, 60_000);
  });
}

describe('a worker serving one client', () => {
  it("shows the client's live queue and its bounds in system.stats", async () => {
    const client = await channelClient({ maxPendingChanges: 64 });
    const session = client.session({ user: 'admin', role: 'dba' });
    const stop = await session.live(WINDOW, [], () => {});
    const metrics = Object.fromEntries(
      (await session.query("SELECT metric_name, metric_value FROM system.stats WHERE metric_name LIKE 'client_%'")).rows.map((r) => [
        r.metric_name,
        Number(r.metric_value),
      ]),
    );
    expect(metrics).toMatchObject({ client_live_queries: 1, client_pending_changes_max: 64, client_pending_changes: 0 });
    stop();
    await client.close();
  });
});
