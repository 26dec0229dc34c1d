import { afterEach, describe, expect, it } from 'vitest';
import { Engine, type OpenOptions } from '../execute/engine';
import { flushPartition } from './flush-run';
import { requestAutoCompaction } from './compact';
import {
  as, compact, expectClean, expectError, expectSortedRun, flush, insert, levels, maxSegmentsPerKey, range, root, rows, run, SMALL, stat, svc,
} from './compact.fixture';

let open: Engine[] = [];
afterEach(async () => {
  for (const e of open) await e.close();
  open = [];
});

async function engineWith(options: Partial<OpenOptions> = {}, ddl = 'CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT)'): Promise<Engine> {
  const engine = await Engine.open({ storage: 'memory', ...SMALL, ...options });
  open.push(engine);
  await engine.execute(root, `CREATE NAMESPACE app; ${ddl}`);
  return engine;
}

const tableId = (engine: Engine, name = 't') => engine.catalog.requireTable('app', name).id;
const all = (engine: Engine) => rows(engine, 'SELECT id, a, b FROM app.t ORDER BY id');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('STORAGE COMPACT TABLE', () => {
  it('merges overlapping flushes into one sorted run at level 1, drops shadowed versions, and answers the same', async () => {
    const engine = await engineWith({ compactL0Segments: 0 });
    await insert(engine, range(0, 40, 2));
    await flush(engine);
    await insert(engine, range(1, 41, 2));
    await engine.execute(root, 'UPDATE app.t SET a = 7 WHERE id < 10');
    await flush(engine);
    await engine.execute(root, 'UPDATE app.t SET a = 9 WHERE id BETWEEN 5 AND 15');
    await flush(engine);
    const before = await all(engine);
    // Flushes of 21, 26 and 11 rows, in segments of at most 16.
    expect(levels(engine, tableId(engine))).toEqual([5, 0]);
    const message = await compact(engine);
    expect(message).toMatch(/^Storage compaction started for table 'app\.t'\. Job ID: CO\d{8}$/);
    const jobId = message.split('Job ID: ')[1];
    const [job] = await rows(engine, `SELECT job_type, status, rows_affected, message, parameters FROM system.jobs WHERE job_id = '${jobId}'`);
    expect(job.job_type).toBe('compact');
    expect(job.status).toBe('completed');
    // 58 versions of 42 keys were read; 16 of them were shadowed.
    expect(job.rows_affected).toBe(58);
    expect(job.message).toBe('Compacted 5 segment(s) of app.t merged into 3 (58 row(s) read, 16 shadowed version(s) and 0 expired tombstone(s) dropped), 0 segment(s) moved to level 1, in 1 partition(s)');
    expect(job.parameters).toEqual({ namespace_id: 'app', table_name: 't', table_id: tableId(engine), trigger: 'manual' });
    expect(await all(engine)).toEqual(before);
    // Cut evenly (58 rows read: 4 × 15 at most), not 16 + 16 + 10.
    expect(await rows(engine, 'SELECT level, row_count, status FROM system.manifest ORDER BY row_count')).toEqual([
      { level: 1, row_count: 12, status: 'committed' }, { level: 1, row_count: 15, status: 'committed' }, { level: 1, row_count: 15, status: 'committed' },
    ]);
    expectSortedRun(engine, tableId(engine), '');
    for (const m of engine.cold.manifest.all()) expect(Math.max(...m.groups!.rows)).toBeLessThanOrEqual(4);
    expect([stat(engine, 'compactions'), stat(engine, 'compaction_rows_shadowed'), stat(engine, 'segments_l0'), stat(engine, 'segments_l1')]).toEqual([1, 16, 0, 3]);
    expect([stat(engine, 'compaction_segments_merged'), stat(engine, 'compaction_segments_written'), stat(engine, 'compaction_rows_read'), stat(engine, 'compaction_outputs_in_progress')]).toEqual([5, 3, 58, 0]);
    await expectClean(engine);
    // A point lookup now reads one segment.
    const read = stat(engine, 'segments_read') as number;
    expect(await rows(engine, 'SELECT a FROM app.t WHERE id = 7')).toEqual([{ a: 9 }]);
    expect(stat(engine, 'segments_read')).toBe(read + 1);
  });

  it('says why nothing was queued, and refuses STREAM tables and the user role', async () => {
    const engine = await engineWith({ compactL0Segments: 0, rowGroupRows: 8 });
    expect(await run(engine, 'STORAGE COMPACT TABLE app.t')).toBe("Storage compaction skipped: no cold segments for table 'app.t'");
    await insert(engine, range(1, 10));
    await flush(engine);
    // One level 0 segment that overlaps nothing: moved up without rewriting.
    const id = engine.cold.manifest.all()[0].id;
    expect(await compact(engine)).toMatch(/Job ID: CO/);
    expect(engine.cold.manifest.all().map((m) => [m.id, m.level])).toEqual([[id, 1]]);
    expect(stat(engine, 'compaction_segments_moved')).toBe(1);
    expect(await run(engine, 'STORAGE COMPACT TABLE app.t')).toBe("Storage compaction skipped: nothing to compact for table 'app.t'");
    await engine.execute(root, 'CREATE STREAM TABLE app.s (v INT) WITH (TTL_SECONDS = 60)');
    await expectError(engine.execute(root, 'STORAGE COMPACT TABLE app.s'), 'UNSUPPORTED', /^STORAGE COMPACT TABLE is not supported for STREAM tables$/);
    await expectError(engine.execute(as('alice'), 'STORAGE COMPACT TABLE app.t'), 'PERMISSION_DENIED', /STORAGE COMPACT needs the service, dba or system role/);
    await expectError(engine.execute(root, 'STORAGE COMPACT TABLE app.nope'), 'TABLE_NOT_FOUND');
    await expectError(engine.execute(root, 'STORAGE COMPACT app.t'), 'PARSE_ERROR', /expected TABLE or ALL/);
    await insert(engine, range(5, 15, 10).map((i) => i + 100));
    await flush(engine);
    await insert(engine, [104, 106]);
    await flush(engine);
    const first = await run(engine, 'STORAGE COMPACT TABLE app.t', svc);
    expect(await run(engine, 'STORAGE COMPACT TABLE app.t')).toBe(`Storage compaction skipped: a compaction is already queued or running for table 'app.t' (job ${first.split('Job ID: ')[1]})`);
    await engine.jobs.idle();
  });

  it('STORAGE COMPACT ALL [IN ns] queues one job per table with something to compact', async () => {
    const engine = await engineWith({ compactL0Segments: 0 });
    await engine.execute(root, 'CREATE USER TABLE app.u (id INT PRIMARY KEY, a INT, b TEXT); CREATE NAMESPACE other; CREATE SHARED TABLE other.x (id INT PRIMARY KEY, a INT, b TEXT)');
    for (const t of ['app.t', 'other.x']) {
      await insert(engine, [1, 3], 0, t);
      await flush(engine, t);
      await insert(engine, [2], 0, t);
      await flush(engine, t);
    }
    expect(await run(engine, 'STORAGE COMPACT ALL IN app')).toMatch(/^Storage compaction started for 1 table\(s\) in namespace 'app'\. Job IDs: CO\d{8}$/);
    await engine.jobs.idle();
    expect(await run(engine, 'STORAGE COMPACT ALL IN NAMESPACE app')).toBe("Storage compaction skipped: nothing to compact in namespace 'app'");
    expect(await run(engine, 'STORAGE COMPACT ALL')).toMatch(/^Storage compaction started for 1 table\(s\)\. Job IDs: CO\d{8}$/);
    await engine.jobs.idle();
    expect(await run(engine, 'STORAGE COMPACT ALL')).toBe('Storage compaction skipped: nothing to compact');
    await expectError(engine.execute(root, 'STORAGE COMPACT ALL IN nope'), 'NAMESPACE_NOT_FOUND');
    expect(await rows(engine, 'SELECT table_name, level FROM system.manifest ORDER BY table_name')).toEqual([{ table_name: 't', level: 1 }, { table_name: 'x', level: 1 }]);
  });

  it('compacts each user partition of a USER table on its own; a user reads only their rows', async () => {
    const engine = await engineWith({ compactL0Segments: 0 }, 'CREATE USER TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT)');
    for (const [user, ids] of [['alice', [1, 2, 3]], ['bob', [2, 3, 4]]] as const) {
      await insert(engine, [...ids], 1, 'app.t', svc.user === user ? svc : { ...svc, user });
    }
    await flush(engine);
    await engine.execute({ ...svc, user: 'alice' }, 'UPDATE app.t SET a = 2 WHERE id = 2');
    await engine.execute({ ...svc, user: 'bob' }, 'DELETE FROM app.t WHERE id = 4');
    await flush(engine);
    await compact(engine);
    expect(await rows(engine, 'SELECT scope, level, row_count FROM system.manifest ORDER BY scope')).toEqual([
      { scope: 'alice', level: 1, row_count: 3 }, { scope: 'bob', level: 1, row_count: 3 },
    ]);
    expect(await rows(engine, 'SELECT id, a FROM app.t ORDER BY id', { ...svc, user: 'alice' })).toEqual([{ id: 1, a: 1 }, { id: 2, a: 2 }, { id: 3, a: 1 }]);
    expect(await rows(engine, 'SELECT id, a FROM app.t ORDER BY id', { ...svc, user: 'bob' })).toEqual([{ id: 2, a: 1 }, { id: 3, a: 1 }]);
    expect(await rows(engine, 'SELECT id FROM app.t WHERE _deleted = true', { ...svc, user: 'bob' })).toEqual([{ id: 4 }]);
    expect(await rows(engine, 'SELECT id FROM app.t', { ...svc, user: 'carol' })).toEqual([]);
  });

  it('merges segments written under older schema versions by column id, as the current version reads them', async () => {
    const engine = await engineWith({ compactL0Segments: 0 });
    await insert(engine, [1, 3]);
    await flush(engine);
    await engine.execute(root, "ALTER TABLE app.t ADD COLUMN tag TEXT DEFAULT 'none'");
    await engine.execute(root, 'ALTER TABLE app.t RENAME COLUMN b TO title');
    await engine.execute(root, "INSERT INTO app.t (id, a, title, tag) VALUES (2, 5, 'two', 'hot')");
    await flush(engine);
    await engine.execute(root, 'ALTER TABLE app.t DROP COLUMN a');
    const before = await rows(engine, 'SELECT * FROM app.t ORDER BY id');
    expect(before).toEqual([{ id: 1, title: 'r1', tag: 'none' }, { id: 2, title: 'two', tag: 'hot' }, { id: 3, title: 'r3', tag: 'none' }]);
    await compact(engine);
    expect(await rows(engine, 'SELECT * FROM app.t ORDER BY id')).toEqual(before);
    const t = engine.catalog.requireTable('app', 't');
    expect(await rows(engine, 'SELECT schema_version, level FROM system.manifest')).toEqual([{ schema_version: t.version, level: 1 }]);
    // The dropped column's values are gone from the rewritten segment.
    expect(Object.keys(engine.cold.manifest.all()[0].column_stats).sort()).toEqual([...t.columns.map((c) => String(c.id)), '_seq'].sort());
  });
});

describe('tombstones', () => {
  it('drops tombstones past DELETED_RETENTION_HOURS with the versions they hide, and keeps younger ones', async () => {
    const engine = await engineWith({ compactL0Segments: 0 }, 'CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT) WITH (DELETED_RETENTION_HOURS = 0)');
    await engine.execute(root, 'CREATE SHARED TABLE app.k (id INT PRIMARY KEY, a INT, b TEXT)');
    for (const t of ['app.t', 'app.k']) {
      await insert(engine, range(1, 6), 0, t);
      await flush(engine, t);
      await engine.execute(root, `DELETE FROM ${t} WHERE id IN (2, 4)`);
      await flush(engine, t);
    }
    await sleep(3);
    expect(await rows(engine, 'SELECT id FROM app.t WHERE _deleted = true')).toEqual([{ id: 2 }, { id: 4 }]);
    await compact(engine, 'app.t');
    await compact(engine, 'app.k');
    expect(await rows(engine, 'SELECT id FROM app.t ORDER BY id')).toEqual([{ id: 1 }, { id: 3 }, { id: 5 }, { id: 6 }]);
    expect(await rows(engine, 'SELECT id FROM app.t WHERE _deleted = true')).toEqual([]);
    expect(await rows(engine, 'SELECT id FROM app.k WHERE _deleted = true')).toEqual([{ id: 2 }, { id: 4 }]);
    expect(stat(engine, 'compaction_tombstones_purged')).toBe(2);
    expect(await rows(engine, "SELECT row_count FROM system.manifest WHERE table_name = 't'")).toEqual([{ row_count: 4 }]);
    // A purged key can be inserted again.
    await insert(engine, [2], 9);
    expect(await rows(engine, 'SELECT id, a FROM app.t WHERE id = 2')).toEqual([{ id: 2, a: 9 }]);
  });

  it('the retention job queues compactions of tables whose segments hold tombstones past retention', async () => {
    const engine = await engineWith({ compactL0Segments: 0 }, 'CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT) WITH (DELETED_RETENTION_HOURS = 1)');
    await insert(engine, range(1, 20));
    await engine.execute(root, 'DELETE FROM app.t WHERE id > 15');
    await flush(engine);
    expect(await engine.jobs.run('retention', Date.now())).toEqual([]);
    await engine.jobs.idle();
    expect(engine.jobs.history.list().filter((r) => r.job_type === 'compact')).toEqual([]);
    await engine.jobs.run('retention', Date.now() + 2 * 3_600_000);
    await engine.jobs.idle();
    const [job] = engine.jobs.history.list().filter((r) => r.job_type === 'compact');
    // Both segments (ids 1–16, 17–20) hold tombstones: each rewritten (together they exceed maxSegmentRows), 15 rows left.
    expect([job.status, job.parameters.trigger, job.rows_affected]).toEqual(['completed', 'retention', 20]);
    expect(await rows(engine, 'SELECT row_count, level FROM system.manifest ORDER BY row_count')).toEqual([{ row_count: 15, level: 1 }]);
    expect(await rows(engine, 'SELECT COUNT(*) AS c FROM app.t WHERE _deleted = true')).toEqual([{ c: 0 }]);
    // Nothing left to purge: the next run queues nothing.
    await engine.jobs.run('retention', Date.now() + 2 * 3_600_000);
    await engine.jobs.idle();
    expect(engine.jobs.history.list().filter((r) => r.job_type === 'compact')).toHaveLength(1);
  });
});

describe('levels and automatic compaction', () => {
  it('a flush that leaves compactL0Segments level 0 segments queues a compaction behind itself', async () => {
    const engine = await engineWith({ compactL0Segments: 3 });
    for (let round = 0; round < 2; round++) {
      await insert(engine, range(round, 30, 3));
      await flush(engine);
    }
    expect(levels(engine, tableId(engine))).toEqual([2, 0]);
    await insert(engine, range(2, 30, 3));
    await flush(engine);
    expect(engine.jobs.history.list().map((r) => [r.job_type, r.parameters.trigger, r.status])).toEqual([
      ['flush', 'manual', 'completed'], ['flush', 'manual', 'completed'], ['flush', 'manual', 'completed'], ['compact', 'auto', 'completed'],
    ]);
    const [l0, l1] = levels(engine, tableId(engine));
    expect(l0).toBe(0);
    expect(l1).toBe(2); // 31 rows in segments of at most 16, cut evenly
    expect((await rows(engine, 'SELECT COUNT(*) AS c FROM app.t'))[0].c).toBe(31);
  });

  it('keeps at most compactL0Segments segments holding any key at rest, one more between a flush and its compaction', async () => {
    const N = 3;
    const engine = await engineWith({ compactL0Segments: N, maxSegmentRows: 24 });
    const id = tableId(engine);
    // Keys spread over the whole range in every flush: each flush overlaps all the others.
    const written = new Set<number>();
    for (let round = 0; round < 12; round++) {
      const keys = range((round * 7) % 5, 99, 5 + (round % 3));
      const fresh = keys.filter((k) => !written.has(k));
      const old = keys.filter((k) => written.has(k));
      if (fresh.length > 0) await insert(engine, fresh, round);
      if (old.length > 0) await engine.execute(root, `UPDATE app.t SET a = ${round} WHERE id IN (${old.join(', ')})`);
      for (const k of keys) written.add(k);
      await flush(engine);
      const [l0] = levels(engine, id);
      expect(l0).toBeLessThan(N);
      expect(maxSegmentsPerKey(engine, id, '', 99)).toBeLessThanOrEqual(N);
      expectSortedRun(engine, id, '');
    }
    // Between a flush and its compaction: flush N times without the job (flushPartition), then the compaction it would queue.
    const t = engine.catalog.requireTable('app', 't');
    for (let i = 0; i < N; i++) {
      await engine.execute(root, `UPDATE app.t SET a = a + 1 WHERE id < 100`);
      await flushPartition(engine, t, '');
    }
    expect(maxSegmentsPerKey(engine, id, '', 99)).toBe(N + 1);
    expect(requestAutoCompaction(engine, t)?.parameters.trigger).toBe('auto');
    await engine.jobs.idle();
    expect(maxSegmentsPerKey(engine, id, '', 99)).toBe(1);
    expect(levels(engine, id)[0]).toBe(0);
  });

  it('many tiny flushes of growing keys end as few segments: small neighbours are merged', async () => {
    const engine = await engineWith({ compactL0Segments: 4, rowGroupRows: 16, maxSegmentRows: 64 });
    for (let i = 1; i <= 40; i++) {
      await insert(engine, [i]);
      await flush(engine);
    }
    // Each compaction merges the small tail with the new level 0 segments (groups of at most maxSegmentRows):
    // every segment but the last ends with more than half a row group.
    const segments = [...engine.cold.manifest.segments(tableId(engine), '')].sort((x, y) => (x.groups!.key_min[0] as number) - (y.groups!.key_min[0] as number));
    expect(segments.slice(0, -1).filter((m) => m.row_count <= 8)).toEqual([]);
    expect(segments.length).toBeLessThanOrEqual(5);
    expectSortedRun(engine, tableId(engine), '');
    expect((await rows(engine, 'SELECT COUNT(*) AS c FROM app.t'))[0].c).toBe(40);
  });

  it('flushes of growing keys below maxSegmentRows end as about ceil(rows / maxSegmentRows) segments, and reads answer the same', async () => {
    const engine = await engineWith({ compactL0Segments: 4, rowGroupRows: 4, maxSegmentRows: 16 });
    // 24 flushes of 4 rows (a quarter of a segment each): without merging neighbours, 24 segments.
    for (let f = 0; f < 24; f++) {
      await insert(engine, range(f * 4, f * 4 + 3), f);
      if (f % 5 === 4) await engine.execute(root, `UPDATE app.t SET b = 'u${f}' WHERE id = ${f * 2}`);
      await flush(engine);
    }
    await compact(engine);
    const id = tableId(engine);
    const segments = engine.cold.manifest.segments(id, '');
    expect(segments.reduce((n, m) => n + m.row_count, 0)).toBe(96);
    expect(segments.length).toBeLessThanOrEqual(Math.ceil(96 / 16) + 2);
    expect(segments.every((m) => m.row_count <= 16)).toBe(true);
    expectSortedRun(engine, id, '');
    const expected = range(0, 95).map((i) => {
      const f = Math.floor(i / 4);
      const updated = range(0, 23).find((g) => g % 5 === 4 && g * 2 === i);
      return { id: i, a: f, b: updated !== undefined ? `u${updated}` : `r${i}` };
    });
    expect(await all(engine)).toEqual(expected);
    expect(await rows(engine, 'SELECT id, a, b FROM app.t ORDER BY id DESC LIMIT 3')).toEqual(expected.slice(-3).reverse());
    expect(await rows(engine, 'SELECT id FROM app.t WHERE id BETWEEN 30 AND 33')).toEqual([{ id: 30 }, { id: 31 }, { id: 32 }, { id: 33 }]);
    expect(await rows(engine, 'SELECT COUNT(*) AS c, SUM(a) AS s FROM app.t')).toEqual([{ c: 96, s: expected.reduce((n, r) => n + r.a, 0) }]);
  });

  it('open queues the compaction a crash left due', async () => {
    const { openMemoryStore } = await import('../storage/memory');
    const { durable } = await import('./compact.fixture');
    const kv = durable(openMemoryStore());
    const first = await Engine.open({ storage: kv, ...SMALL, compactL0Segments: 0 });
    await first.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT)');
    for (let i = 0; i < 3; i++) {
      await insert(first, [i, i + 10]);
      await flush(first);
    }
    await first.close();
    const second = await Engine.open({ storage: kv, ...SMALL, compactL0Segments: 3 });
    open.push(second);
    await second.jobs.idle();
    expect(second.jobs.history.list().map((r) => [r.job_type, r.status, r.parameters.trigger])).toEqual([['compact', 'completed', 'auto']]);
    expect(levels(second, tableId(second))).toEqual([0, 1]);
  });
});

describe('reading while compacting', () => {
  it('a transaction staged over cold rows commits after a compaction replaced them, also over a purged tombstone', async () => {
    const engine = await engineWith({ compactL0Segments: 0 }, 'CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT) WITH (DELETED_RETENTION_HOURS = 0)');
    await insert(engine, range(1, 8));
    await flush(engine);
    await engine.execute(root, 'DELETE FROM app.t WHERE id = 3');
    await engine.execute(root, 'UPDATE app.t SET a = 1 WHERE id = 5');
    await flush(engine);
    await sleep(3);
    const tx = engine.beginTransaction('root', 'api');
    await engine.execute(root, "UPDATE app.t SET b = 'tx' WHERE id IN (2, 5)", [], tx);
    await engine.execute(root, "INSERT INTO app.t (id, a, b) VALUES (3, 3, 'again')", [], tx); // over a cold tombstone
    await compact(engine);
    expect(stat(engine, 'compaction_tombstones_purged')).toBe(1);
    // Inside the transaction: its staged rows over the new segments.
    expect(await rows(engine, 'SELECT id, a, b FROM app.t WHERE id BETWEEN 2 AND 5 ORDER BY id')).toEqual([
      { id: 2, a: 0, b: 'r2' }, { id: 4, a: 0, b: 'r4' }, { id: 5, a: 1, b: 'r5' },
    ]);
    expect((await engine.execute(root, 'SELECT id, a, b FROM app.t WHERE id BETWEEN 2 AND 5 ORDER BY id', [], tx))[0].rows).toEqual([
      { id: 2, a: 0, b: 'tx' }, { id: 3, a: 3, b: 'again' }, { id: 4, a: 0, b: 'r4' }, { id: 5, a: 1, b: 'tx' },
    ]);
    await engine.commitTransaction(tx);
    expect(await rows(engine, 'SELECT id, a, b FROM app.t WHERE id BETWEEN 2 AND 5 ORDER BY id')).toEqual([
      { id: 2, a: 0, b: 'tx' }, { id: 3, a: 3, b: 'again' }, { id: 4, a: 0, b: 'r4' }, { id: 5, a: 1, b: 'tx' },
    ]);
  });

  it('live queries over a partition being compacted stay equal to a fresh run, and learn of purged tombstones', async () => {
    const engine = await engineWith({ compactL0Segments: 0, segmentCacheBytes: 4_000 }, 'CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT) WITH (DELETED_RETENTION_HOURS = 0)');
    await insert(engine, range(1, 30));
    await flush(engine);
    await engine.execute(root, 'UPDATE app.t SET a = id % 4 WHERE id <= 20');
    await engine.execute(root, 'DELETE FROM app.t WHERE id IN (4, 8, 25)');
    await flush(engine);
    await engine.execute(root, 'DELETE FROM app.t WHERE id = 12');
    await flush(engine);
    await insert(engine, [8], 5); // hot again over its cold tombstone
    const queries = [
      'SELECT id, a FROM app.t WHERE a > 1 ORDER BY a DESC, id LIMIT 5',
      'SELECT id FROM app.t WHERE _deleted = true',
      'SELECT id, b FROM app.t WHERE id BETWEEN 3 AND 13',
      'SELECT COUNT(*) AS c FROM app.t',
    ];
    const latest = new Map<string, readonly unknown[]>();
    const errors: unknown[] = [];
    const stops = [];
    for (const sql of queries) stops.push(await engine.openLive(root, sql, [], (r) => latest.set(sql, r), (e) => errors.push(e)));
    const expectFresh = async () => {
      await engine.live.idle();
      for (const sql of queries) expect(latest.get(sql), sql).toEqual(await rows(engine, sql));
    };
    await expectFresh();
    expect(latest.get(queries[1])).toEqual([{ id: 4 }, { id: 12 }, { id: 25 }]);
    await sleep(3);
    await compact(engine);
    expect(stat(engine, 'compaction_tombstones_purged')).toBe(4);
    await expectFresh();
    expect(latest.get(queries[1])).toEqual([]);
    expect(latest.get(queries[2])).toContainEqual({ id: 8, b: 'r8' });
    await engine.execute(root, 'UPDATE app.t SET a = 3 WHERE id = 9');
    await engine.execute(root, 'DELETE FROM app.t WHERE id = 10');
    await expectFresh();
    expect(errors).toEqual([]);
    for (const stop of stops) stop();
  });

  it('a from older than a purged tombstone answers with a snapshot', async () => {
    const engine = await engineWith({ compactL0Segments: 0 }, 'CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT) WITH (DELETED_RETENTION_HOURS = 0)');
    await insert(engine, [1, 2]);
    const [{ s }] = await rows(engine, 'SELECT MAX(_seq) AS s FROM app.t');
    await engine.execute(root, 'DELETE FROM app.t WHERE id = 1');
    await flush(engine);
    const seen: unknown[] = [];
    (await engine.openLive(root, 'SELECT id FROM app.t', [], (_r, c) => seen.push(c), () => undefined, { from: s as bigint }))();
    expect(seen[0]).toEqual({ kind: 'changes', inserted: [], updated: [], deleted: [1] });
    await sleep(3);
    await insert(engine, [3]);
    await flush(engine);
    await compact(engine);
    expect(stat(engine, 'compaction_tombstones_purged')).toBe(1);
    (await engine.openLive(root, 'SELECT id FROM app.t', [], (_r, c) => seen.push(c), () => undefined, { from: s as bigint }))();
    expect(seen[1]).toEqual({ kind: 'snapshot', resumed: false });
  });

  it('writes keep flowing while a compaction runs: it yields between row groups', async () => {
    const engine = await engineWith({ compactL0Segments: 0, rowGroupRows: 32, maxSegmentRows: 4096 });
    for (let round = 0; round < 4; round++) {
      await engine.execute(root, `INSERT INTO app.t (id, a, b) VALUES ${range(round, 6000, 4).map((k) => `(${k}, ${round}, 'some text ${k}')`).join(', ')}`);
      await flush(engine);
    }
    const message = await run(engine, 'STORAGE COMPACT TABLE app.t');
    const jobId = message.split('Job ID: ')[1];
    const status = () => engine.jobs.history.find(jobId)!.status;
    let during = 0;
    for (let i = 0; status() !== 'completed' && i < 10_000; i++) {
      await engine.execute(root, `INSERT INTO app.t (id, a, b) VALUES (${100_000 + i}, 1, 'w')`);
      if (status() === 'running') during++;
    }
    await engine.jobs.idle();
    expect(status()).toBe('completed');
    expect(during).toBeGreaterThan(3);
    expect((await rows(engine, 'SELECT COUNT(*) AS c FROM app.t WHERE id < 100000'))[0].c).toBe(6001);
  });
});

describe('what a compaction holds in memory', () => {
  it('reads each input one row group at a time, through a cache smaller than the partition, and keeps the cache within its bound', async () => {
    const { openMemoryStore } = await import('../storage/memory');
    const { kvSegmentStore } = await import('../storage/cold/kv-segment-store');
    const kv = openMemoryStore();
    const inner = kvSegmentStore(kv);
    const asked: number[] = [];
    const segmentStore = { ...inner, readGroups: (k: Parameters<typeof inner.readGroups>[0], g: Parameters<typeof inner.readGroups>[1]) => (asked.push(g.length), inner.readGroups(k, g)) };
    const engine = await Engine.open({ storage: kv, segmentStore, ...SMALL, rowGroupRows: 16, maxSegmentRows: 256, segmentCacheBytes: 6_000, compactL0Segments: 0 });
    open.push(engine);
    await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT)');
    for (let round = 0; round < 4; round++) {
      await engine.execute(root, `INSERT INTO app.t (id, a, b) VALUES ${range(round, 800, 4).map((k) => `(${k}, ${round}, 'text of row ${k}')`).join(', ')}`);
      await flush(engine);
    }
    const inputs = engine.cold.manifest.all();
    const groups = inputs.reduce((n, m) => n + m.groups!.rows.length, 0);
    // Held at once: at most one row group per input.
    let held = 0;
    let mostHeld = 0;
    const readGroup = engine.cold.readGroup.bind(engine.cold);
    engine.cold.readGroup = async (...a) => {
      const g = await readGroup(...a);
      mostHeld = Math.max(mostHeld, ++held);
      return { data: g.data, release: () => { held--; g.release(); } };
    };
    const before = await rows(engine, 'SELECT COUNT(*) AS c, SUM(a) AS s FROM app.t');
    const loadsBefore = stat(engine, 'compaction_group_loads') as number;
    asked.length = 0;
    await compact(engine);
    expect(mostHeld).toBeLessThanOrEqual(inputs.length);
    expect(held).toBe(0);
    expect(asked.filter((n) => n !== 1)).toEqual([]);
    expect((stat(engine, 'compaction_group_loads') as number) - loadsBefore).toBeLessThanOrEqual(groups);
    expect(stat(engine, 'segment_cache_bytes') as number).toBeLessThanOrEqual(6_000);
    expect(stat(engine, 'segment_cache_pinned')).toBe(0);
    expect(await rows(engine, 'SELECT COUNT(*) AS c, SUM(a) AS s FROM app.t')).toEqual(before);
    await expectClean(engine);
  });
});

describe('abandoned compactions', () => {
  async function threeFlushes(engine: Engine): Promise<void> {
    for (let round = 0; round < 3; round++) {
      await insert(engine, range(round, 30, 3));
      await flush(engine);
    }
  }

  for (const change of ['DROP TABLE app.t', 'ALTER TABLE app.t ADD COLUMN c INT']) {
    it(`leaves nothing when ${change.split(' ')[0]} comes before its outputs are committed`, async () => {
      const engine = await engineWith({ compactL0Segments: 0 });
      await threeFlushes(engine);
      const before = engine.cold.manifest.all().map((m) => m.id).sort();
      const t = engine.catalog.requireTable('app', 't');
      const { compactPartition } = await import('./compact');
      // The change runs as the compaction asks for the write lock (after writing its outputs).
      let changed = false;
      const ctx = Object.create(engine, {
        exclusive: {
          value: async <T>(fn: () => Promise<T> | T): Promise<T> => {
            if (!changed) {
              changed = true;
              await engine.execute(root, change);
            }
            return engine.exclusive(fn);
          },
        },
      }) as Engine;
      const outcome = await compactPartition(ctx, t, '');
      expect(outcome.aborted).toBe(true);
      if (change.startsWith('DROP')) expect(engine.cold.manifest.all()).toEqual([]);
      else expect(engine.cold.manifest.all().map((m) => m.id).sort()).toEqual(before);
      await expectClean(engine);
    });
  }
});

describe('KILL JOB', () => {
  it('a compaction killed before its outputs are committed removes them; the data stays as it was', async () => {
    const engine = await engineWith({ compactL0Segments: 0 });
    for (let round = 0; round < 3; round++) {
      await insert(engine, range(round, 40, 3));
      await flush(engine);
    }
    const before = await all(engine);
    const ids = engine.cold.manifest.all().map((m) => m.id).sort();
    let release!: () => void;
    const held = engine.exclusive(() => new Promise<void>((r) => (release = r)));
    const jobId = (await run(engine, 'STORAGE COMPACT TABLE app.t')).split('Job ID: ')[1];
    const { coldStorage, until } = await import('./compact.fixture');
    // Its outputs are written (in_progress); it waits for the write lock to commit them.
    await until(() => (stat(engine, 'compaction_outputs_in_progress') as number) > 0, 'outputs in progress');
    expect((await coldStorage(engine.kv)).entries.filter((m) => m.status === 'in_progress').length).toBe(stat(engine, 'compaction_outputs_in_progress'));
    expect(await run(engine, `KILL JOB '${jobId}'`)).toBe(`Job '${jobId}' cancelled`);
    release();
    await held;
    await engine.jobs.idle();
    const [job] = await rows(engine, `SELECT status, message FROM system.jobs WHERE job_id = '${jobId}'`);
    expect(job.status).toBe('cancelled');
    expect(job.message).toMatch(/^Cancelled by KILL JOB after compacting 0 segment\(s\)/);
    expect(engine.cold.manifest.all().map((m) => m.id).sort()).toEqual(ids);
    expect(await all(engine)).toEqual(before);
    expect(stat(engine, 'compaction_outputs_in_progress')).toBe(0);
    await expectClean(engine);
  });
});

describe('stats and settings', () => {
  it('system.stats counts compactions and segments per level; system.settings shows compact_l0_segments', async () => {
    const engine = await engineWith();
    const names = engine.metrics().map(([k]) => k);
    for (const k of ['segments_l0', 'segments_l1', 'segments_obsolete', 'compactions', 'compaction_segments_merged', 'compaction_segments_written',
      'compaction_segments_moved', 'compaction_rows_read', 'compaction_rows_shadowed', 'compaction_tombstones_purged', 'compaction_group_loads',
      'compaction_merges_offloaded', 'compaction_outputs_in_progress']) {
      expect(names).toContain(k);
    }
    expect(await rows(engine, "SELECT value FROM system.settings WHERE name = 'compact_l0_segments'")).toEqual([{ value: '4' }]);
    await expectError(Engine.open({ storage: 'memory', compactL0Segments: -1 }), 'INVALID_OPTION', /compactL0Segments must be a whole number of at least 0/);
    expect(stat(engine, 'compactions')).toBe(0);
  });
});
