import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Engine, type SessionState } from '../execute/engine';
import { openDatabase, type Database, type LiveStop, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { Row, Value } from '../core/types';
import type { LiveChange, LiveOptions } from './types';

interface Probe {
  deliveries: { rows: readonly Row[]; change: LiveChange }[];
  errors: KalamError[];
  stop: LiveStop;
  readonly last: readonly Row[];
}

async function probe(s: Session, sql: string, options?: LiveOptions, params: Value[] = []): Promise<Probe> {
  const deliveries: Probe['deliveries'] = [];
  const errors: KalamError[] = [];
  const stop = await s.live(sql, params, (rows, change) => deliveries.push({ rows, change }), (e) => errors.push(e), options);
  return { deliveries, errors, stop, get last() { return deliveries[deliveries.length - 1].rows; } };
}

const ids = (rows: readonly Row[]) => rows.map((r) => r.id);

async function stats(s: Session): Promise<Record<string, string>> {
  return Object.fromEntries((await s.query('SELECT * FROM system.stats')).rows.map((r) => [r.metric_name as string, r.metric_value as string]));
}

let db: Database;
let root: Session;
let alice: Session;
let bob: Session;

async function setup(options: { maxLiveQueries?: number; maxSubscriptionsPerSession?: number } = {}) {
  db = await openDatabase({ storage: 'memory', ...options });
  root = db.session({ user: 'root', role: 'system' });
  alice = db.session({ user: 'alice', role: 'service', client: 'tab-1' });
  bob = db.session({ user: 'bob', role: 'service' });
  await root.execute('CREATE NAMESPACE app');
  await root.execute('CREATE USER TABLE app.notes (id INT PRIMARY KEY, rank INT, body TEXT)');
  await root.execute('CREATE SHARED TABLE app.board (id INT PRIMARY KEY, owner TEXT, note TEXT)');
}

beforeEach(() => setup());
afterEach(() => db.close());

describe('maintained live queries', () => {
  it('replaces a row that leaves a full LIMIT window with the next one from storage', async () => {
    for (let i = 1; i <= 6; i++) await alice.execute(`INSERT INTO app.notes (id, rank, body) VALUES (${i}, ${i * 10}, 'n${i}')`);
    const p = await probe(alice, 'SELECT id, rank FROM app.notes ORDER BY rank LIMIT 3');
    expect(ids(p.last)).toEqual([1, 2, 3]);
    await alice.execute('DELETE FROM app.notes WHERE id = 2');
    expect(ids(p.last)).toEqual([1, 3, 4]);
    const change = p.deliveries[1].change;
    expect(change).toEqual({ kind: 'changes', inserted: [{ id: 4, rank: 40 }], updated: [], deleted: [2], deletedRows: [{ key: 2, old: { id: 2, rank: 20 } }] });
    // The old row is the very object the previous delivery held: nothing is copied per subscriber.
    expect(change.kind === 'changes' && change.deletedRows?.[0].old).toBe(p.deliveries[0].rows[1]);
    // An update that moves a row out of the window behind the others, and one that stops matching.
    await alice.execute('UPDATE app.notes SET rank = 99 WHERE id = 1');
    expect(ids(p.last)).toEqual([3, 4, 5]);
    expect(p.errors).toEqual([]);
  });

  it('keeps the row object of a row whose projected columns did not change, and shares one object between equal projections', async () => {
    await alice.execute("INSERT INTO app.notes (id, rank, body) VALUES (1, 1, 'a'), (2, 2, 'b')");
    const p = await probe(alice, 'SELECT id, rank FROM app.notes');
    const q = await probe(alice, 'SELECT * FROM app.notes');
    const r = await probe(alice, 'SELECT * FROM app.notes WHERE rank > 0');
    const first = p.last;
    await alice.execute("UPDATE app.notes SET body = 'changed' WHERE id = 1");
    expect(p.deliveries).toHaveLength(1); // nothing it shows changed
    expect(p.last[0]).toBe(first[0]);
    expect(q.last[0]).toEqual({ id: 1, rank: 1, body: 'changed' });
    expect(r.last[0]).toBe(q.last[0]); // built once in the commit's fan-out
    expect(q.deliveries[1].change).toEqual({ kind: 'changes', inserted: [], updated: [{ row: q.last[0], old: q.deliveries[0].rows[0] }], deleted: [] });
  });

  it('looks at no subscription of bob when alice writes her USER rows, and at every reader on a SHARED change', async () => {
    const bobs = await Promise.all([probe(bob, 'SELECT * FROM app.notes'), probe(bob, 'SELECT * FROM app.notes WHERE rank > 1')]);
    const alices = await probe(alice, 'SELECT * FROM app.notes');
    const before = Number((await stats(root)).live_subscriptions_examined);
    await alice.execute("INSERT INTO app.notes (id, rank, body) VALUES (1, 5, 'a')");
    expect(Number((await stats(root)).live_subscriptions_examined) - before).toBe(1);
    expect(bobs.map((b) => b.deliveries.length)).toEqual([1, 1]);
    expect(ids(alices.last)).toEqual([1]);

    const boardA = await probe(alice, "SELECT id FROM app.board WHERE owner = 'alice'");
    const boardB = await probe(bob, 'SELECT id FROM app.board');
    const mid = Number((await stats(root)).live_subscriptions_examined);
    await root.execute("INSERT INTO app.board (id, owner, note) VALUES (1, 'bob', 'x')");
    expect(Number((await stats(root)).live_subscriptions_examined) - mid).toBe(2);
    expect(boardA.deliveries).toHaveLength(1); // examined, but its result did not change: not invoked
    expect(ids(boardB.last)).toEqual([1]);
  });

  it('leaves the registry, the routing index and the per-session counts empty after 10,000 subscriptions come and go', async () => {
    await db.close();
    await setup({ maxLiveQueries: 10_000, maxSubscriptionsPerSession: 10_000 });
    await alice.execute("INSERT INTO app.notes (id, rank, body) VALUES (1, 1, 'a')");
    const stops: LiveStop[] = [];
    // A subscription that fails to open leaves nothing behind.
    await expect(alice.live('SELECT nope FROM app.notes', [], () => undefined)).rejects.toMatchObject({ code: 'COLUMN_NOT_FOUND' });
    expect((await stats(root)).live_texts).toBe('0');
    const sessions = Array.from({ length: 10 }, (_, i) => db.session({ user: `u${i}`, role: 'service' }));
    for (let i = 0; i < 10_000; i++) {
      const s = i % 3 === 0 ? alice : sessions[i % 10];
      const sql = i % 7 === 0 ? 'SELECT COUNT(*) AS c FROM app.notes' : i % 2 ? 'SELECT * FROM app.notes WHERE rank > $1' : 'SELECT id FROM app.board';
      stops.push(await s.live(sql, i % 7 !== 0 && i % 2 ? [i] : [], () => undefined));
    }
    const full = await stats(root);
    expect(Number(full.live_queries)).toBe(10_000);
    expect(Number(full.live_index_entries)).toBe(10_000);
    expect(full.live_texts).toBe('3'); // one shared copy per distinct query text
    for (const stop of stops) stop();
    const after = await stats(root);
    expect([after.live_queries, after.live_index_entries, after.live_sessions, after.live_texts]).toEqual(['0', '0', '0', '0']);
  }, 60_000);

  it('keeps a window of many rows (keys found through its index) equal to its query run afresh', async () => {
    for (let i = 1; i <= 40; i++) await alice.execute(`INSERT INTO app.notes (id, rank, body) VALUES (${i}, ${(i * 7) % 23}, 'n${i}')`);
    const sql = 'SELECT id, rank FROM app.notes ORDER BY rank DESC, id LIMIT 25';
    const window = await probe(alice, sql);
    const all = await probe(alice, 'SELECT id, rank FROM app.notes WHERE rank >= 0');
    const fresh = async (q: string) => (await alice.query(q)).rows;
    for (let step = 0; step < 30; step++) {
      const id = 1 + ((step * 13) % 45);
      if (step % 3 === 0) await alice.execute(`DELETE FROM app.notes WHERE id = ${id}`);
      else if (step % 3 === 1) await alice.execute(`UPDATE app.notes SET rank = ${(step * 5) % 31} WHERE id = ${id}`);
      else await alice.execute(`INSERT INTO app.notes (id, rank, body) VALUES (${100 + step}, ${step % 29}, 'x')`);
      expect(window.last).toEqual(await fresh(sql));
      expect(all.last).toEqual(await fresh('SELECT id, rank FROM app.notes WHERE rank >= 0'));
    }
    expect(all.last.length).toBeGreaterThan(25);
    expect([window.errors, all.errors]).toEqual([[], []]);
  });
});

describe('options', () => {
  it('delivers the first result in batches of batchSize, then the changes committed meanwhile, with nothing lost or doubled', async () => {
    for (let i = 1; i <= 10; i++) await alice.execute(`INSERT INTO app.notes (id, rank, body) VALUES (${i}, ${i}, 'x')`);
    const deliveries: { rows: readonly Row[]; change: LiveChange }[] = [];
    let written: Promise<unknown> | undefined;
    await alice.live('SELECT id FROM app.notes ORDER BY id', [], (rows, change) => {
      deliveries.push({ rows, change });
      // Commits land while the load is still delivering.
      if (deliveries.length === 1) written = alice.execute("INSERT INTO app.notes (id, rank, body) VALUES (11, 11, 'x'); DELETE FROM app.notes WHERE id = 3");
    }, undefined, { batchSize: 4 });
    await vi.waitFor(() => expect(deliveries.length).toBeGreaterThanOrEqual(4));
    await written;
    expect(deliveries.map((d) => d.rows.length)).toEqual([4, 8, 10, 10]);
    expect(deliveries.map((d) => d.change.kind === 'snapshot' && d.change.hasMore)).toEqual([true, true, undefined, false]);
    expect(ids(deliveries[2].rows)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(deliveries[3].change).toEqual({ kind: 'changes', inserted: [{ id: 11 }], updated: [], deleted: [3], deletedRows: [{ key: 3, old: deliveries[2].rows[2] }] });
    expect(ids(deliveries[3].rows)).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('starts from the lastRows newest rows, keeps newer ones coming, and lastRows 0 starts empty', async () => {
    for (let i = 1; i <= 5; i++) await alice.execute(`INSERT INTO app.notes (id, rank, body) VALUES (${i}, ${10 - i}, 'x')`);
    const p = await probe(alice, 'SELECT id FROM app.notes ORDER BY rank', { lastRows: 2 });
    expect(ids(p.last)).toEqual([5, 4]);
    const none = await probe(alice, 'SELECT id FROM app.notes', { lastRows: 0 });
    expect(none.last).toEqual([]);
    await alice.execute("INSERT INTO app.notes (id, rank, body) VALUES (6, 0, 'x')");
    expect(ids(p.last)).toEqual([6, 5, 4]);
    expect(ids(none.last)).toEqual([6]);
    await alice.execute('UPDATE app.notes SET body = \'y\' WHERE id = 1'); // an old row written again is new
    expect(ids(p.last)).toEqual([6, 5, 4, 1]);
  });

  it('replays inserts, updates and deletes after `from`, and answers with a fresh snapshot when from lies beyond retention', async () => {
    await alice.execute("INSERT INTO app.notes (id, rank, body) VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c')");
    const [{ s }] = (await alice.query('SELECT MAX(_seq) AS s FROM app.notes')).rows;
    await alice.execute("INSERT INTO app.notes (id, rank, body) VALUES (4, 4, 'd')");
    await alice.execute("UPDATE app.notes SET body = 'B' WHERE id = 2");
    await alice.execute('DELETE FROM app.notes WHERE id = 3');
    const p = await probe(alice, 'SELECT id, body FROM app.notes', { from: s as bigint });
    expect(ids(p.last)).toEqual([1, 2, 4]);
    expect(p.deliveries[0].change).toEqual({ kind: 'changes', inserted: [{ id: 2, body: 'B' }, { id: 4, body: 'd' }], updated: [], deleted: [3] });
    const old = await probe(alice, 'SELECT id FROM app.notes', { from: 1n });
    expect(old.deliveries[0].change).toEqual({ kind: 'snapshot', resumed: false });
    expect(ids(old.last)).toEqual([1, 2, 4]);
  });

  it('resumes with from and lastRows as with from alone: a row inserted while away is an insert, not a delete', async () => {
    await alice.execute("INSERT INTO app.notes (id, rank, body) VALUES (1, 1, 'a')");
    const first = await probe(alice, 'SELECT id, body FROM app.notes', { lastRows: 0 });
    await alice.execute("INSERT INTO app.notes (id, rank, body) VALUES (2, 2, 'b')");
    expect(ids(first.last)).toEqual([2]);
    const [{ s }] = (await alice.query('SELECT MAX(_seq) AS s FROM app.notes')).rows;
    first.stop();
    await alice.execute("INSERT INTO app.notes (id, rank, body) VALUES (3, 3, 'c')"); // while away
    for (const lastRows of [0, 1, 5]) {
      const resumed = await probe(alice, 'SELECT id, body FROM app.notes', { from: s as bigint, lastRows });
      expect(resumed.deliveries[0].change).toEqual({ kind: 'changes', inserted: [{ id: 3, body: 'c' }], updated: [], deleted: [] });
      expect(ids(resumed.last)).toContain(3);
      resumed.stop();
    }
    // Beyond retention the fresh snapshot honours lastRows.
    const old = await probe(alice, 'SELECT id FROM app.notes', { from: 1n, lastRows: 1 });
    expect(old.deliveries[0].change).toEqual({ kind: 'snapshot', resumed: false });
    expect(ids(old.last)).toEqual([3]);
  });

  it('refuses lastRows greater than batchSize with UNSUPPORTED, as KalamDB does, and accepts them equal', async () => {
    await alice.execute("INSERT INTO app.notes (id, rank, body) VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c')");
    const refused = { code: 'UNSUPPORTED', message: expect.stringContaining('last_rows (3) cannot exceed batch_size (2); paginated last_rows replay is not supported') };
    await expect(alice.live('SELECT id FROM app.notes', [], () => undefined, undefined, { lastRows: 3, batchSize: 2 })).rejects.toMatchObject(refused);
    await expect(alice.live('SUBSCRIBE TO app.notes OPTIONS (last_rows = 3, batch_size = 2)', [], () => undefined)).rejects.toMatchObject(refused);
    await expect(alice.live('SUBSCRIBE TO app.notes OPTIONS (last_rows = 3)', [], () => undefined, undefined, { batchSize: 2 })).rejects.toMatchObject(refused);
    await expect(alice.execute('SUBSCRIBE TO app.notes OPTIONS (last_rows = 3, batch_size = 2)')).rejects.toMatchObject(refused);
    const p = await probe(alice, 'SELECT id FROM app.notes', { lastRows: 2, batchSize: 2 });
    expect(ids(p.last)).toEqual([2, 3]);
  });

  it('accepts SUBSCRIBE TO … OPTIONS (…) as a live query, and answers it through execute() with a subscription id', async () => {
    await alice.execute("INSERT INTO app.notes (id, rank, body) VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c')");
    const p = await probe(alice, "SUBSCRIBE TO app.notes WHERE rank > 1 OPTIONS (last_rows = 1)");
    expect(p.last).toEqual([{ id: 3, rank: 3, body: 'c' }]);
    const q = await probe(alice, 'SUBSCRIBE TO SELECT id FROM app.notes WHERE rank < 3');
    expect(ids(q.last)).toEqual([1, 2]);
    const [res] = await alice.execute('SUBSCRIBE TO app.notes WHERE id = 1 OPTIONS (batch_size=10, from=5)');
    expect(res.rows[0].subscription_id).toMatch(/^sub-app-notes-/);
    expect(res.rows[0].select_query).toBe('SELECT * FROM app.notes WHERE id = 1');
    expect(res.rows[0].options).toEqual({ batch_size: 10, from: '5' });
    await expect(alice.execute('SUBSCRIBE TO app.notes OPTIONS (colour = 1)')).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    await expect(alice.execute('SUBSCRIBE TO app.secret')).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
  });
});

describe('limits, KILL LIVE QUERY and system.live', () => {
  it('refuses a subscription past maxSubscriptionsPerSession or maxLiveQueries with SUBSCRIPTION_LIMIT_EXCEEDED', async () => {
    await db.close();
    await setup({ maxLiveQueries: 3, maxSubscriptionsPerSession: 2 });
    const a1 = await alice.live('SELECT * FROM app.notes', [], () => undefined);
    await alice.live('SELECT * FROM app.notes', [], () => undefined);
    const perSession = await alice.live('SELECT * FROM app.notes', [], () => undefined).catch((e) => e);
    expect([perSession.code, perSession.message]).toEqual(['SUBSCRIPTION_LIMIT_EXCEEDED', expect.stringContaining('Maximum subscriptions reached')]);
    await bob.live('SELECT * FROM app.notes', [], () => undefined);
    const total = await bob.live('SELECT * FROM app.notes', [], () => undefined).catch((e) => e);
    expect(total.code).toBe('SUBSCRIPTION_LIMIT_EXCEEDED');
    a1();
    await bob.live('SELECT * FROM app.notes', [], () => undefined);
    const s = await stats(root);
    expect([s.live_queries, s.live_queries_max, s.live_queries_max_per_session, s.live_sessions]).toEqual(['3', '3', '2', '2']);
  });

  it('lists subscriptions in system.live with their owner and query, and KILL LIVE QUERY ends one and tells its owner', async () => {
    const p = await probe(alice, 'SELECT * FROM app.notes WHERE rank > $1', undefined, [1]);
    const listed = (await root.query('SELECT live_id, user_id, owner, query, maintained, changes FROM system.live_queries')).rows;
    expect(listed).toEqual([{ live_id: p.stop.liveId, user_id: 'alice', owner: 'tab-1', query: 'SELECT * FROM app.notes WHERE rank > $1', maintained: true, changes: 0 }]);
    expect(p.stop.liveId).toMatch(/^alice-tab-1-\d+$/);
    const notYours = await bob.execute(`KILL LIVE QUERY '${p.stop.liveId}'`).catch((e) => e);
    expect(notYours.code).toBe('LIVE_QUERY_NOT_FOUND');
    await alice.execute(`KILL LIVE QUERY '${p.stop.liveId}'`);
    expect(p.errors.map((e) => e.code)).toEqual(['LIVE_QUERY_KILLED']);
    await alice.execute("INSERT INTO app.notes (id, rank, body) VALUES (1, 5, 'a')");
    expect(p.deliveries).toHaveLength(1);
    expect((await root.query('SELECT * FROM system.live')).rows).toEqual([]);
    const q = await probe(bob, 'SELECT * FROM app.notes');
    await root.execute(`KILL LIVE QUERY '${q.stop.liveId}'`);
    expect(q.errors.map((e) => e.code)).toEqual(['LIVE_QUERY_KILLED']);
    expect((await stats(root)).live_queries).toBe('0');
  });
});

describe('queries that are re-run', () => {
  it('re-runs a join or aggregate once per commit and delivers only when its result changed', async () => {
    const p = await probe(alice, 'SELECT COUNT(*) AS c FROM app.notes');
    const j = await probe(alice, 'SELECT n.id, b.note FROM app.notes n JOIN app.board b ON b.id = n.id');
    await alice.execute("INSERT INTO app.notes (id, rank, body) VALUES (1, 1, 'a'), (2, 2, 'b')");
    expect(p.deliveries.map((d) => d.rows)).toEqual([[{ c: 0 }], [{ c: 2 }]]);
    expect(j.deliveries).toHaveLength(1);
    await root.execute("INSERT INTO app.board (id, owner, note) VALUES (2, 'x', 'hello')");
    expect(j.last).toEqual([{ id: 2, note: 'hello' }]);
    expect(j.deliveries[1].change).toEqual({ kind: 'snapshot' });
    expect((await stats(root)).live_queries_maintained).toBe('0');
  });
});

describe('retention and from', () => {
  it('answers from with a snapshot once the retention job purged tombstones it would need', async () => {
    const engine = await Engine.open({ storage: 'memory', retentionIntervalMs: 0, streamEvictionIntervalMs: 0 });
    const as = (user: string): SessionState => ({ user, role: user === 'root' ? 'system' : 'service', namespace: 'default' });
    await engine.execute(as('root'), "CREATE NAMESPACE app; CREATE USER TABLE app.t (id INT PRIMARY KEY, v INT) WITH (DELETED_RETENTION_HOURS = 0)");
    await engine.execute(as('alice'), 'INSERT INTO app.t (id, v) VALUES (1, 1), (2, 2)');
    const [{ rows: [{ s }] }] = await engine.execute(as('alice'), 'SELECT MAX(_seq) AS s FROM app.t');
    await engine.execute(as('alice'), 'DELETE FROM app.t WHERE id = 1');
    const seen: LiveChange[] = [];
    engine.liveQuery(as('alice'), 'SELECT id FROM app.t', [], (_r, c) => seen.push(c), () => undefined, { from: s as bigint })();
    expect(seen[0]).toEqual({ kind: 'changes', inserted: [], updated: [], deleted: [1] });
    await engine.jobs.run('retention', Date.now() + 1000);
    engine.liveQuery(as('alice'), 'SELECT id FROM app.t', [], (_r, c) => seen.push(c), () => undefined, { from: s as bigint })();
    expect(seen[1]).toEqual({ kind: 'snapshot', resumed: false });
    await engine.close();
  });
});
