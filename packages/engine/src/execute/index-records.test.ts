/**
 * Per-segment index records: flushes and compactions write, for each
 * secondary index, the segment's live rows sorted in index order, stored
 * with the segment and deleted with it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Value } from '../core/types';
import { recordLayout, recordOf } from '../storage/cold/index-record';
import { pageReaders } from './index-cold';
import { loadSegmentCodec } from '../storage/cold/segment-loader';
import { segmentKeyOf, type SegmentMeta } from '../storage/cold/types';
import { segmentHooks } from '../jobs/segment-hooks';
import { encodeKey, prefixUpperBound } from '../storage/keys';
import type { KvStore } from '../storage/kv';
import { openMemoryStore } from '../storage/memory';
import { Engine, type SessionState } from './engine';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
let kv: KvStore;
let engine: Engine;

/** The memory store, kept open across a close and reopen of the engine. */
function durable(store: KvStore): KvStore {
  return { kind: store.kind, get: (s, k) => store.get(s, k), scan: (s, r, v) => store.scan(s, r, v), commit: (w) => store.commit(w), close: async () => undefined };
}

beforeEach(async () => {
  kv = durable(openMemoryStore());
  engine = await Engine.open({ storage: kv, rowGroupRows: 4, maxSegmentRows: 16, flushCheckIntervalMs: 0, compactL0Segments: 0 });
  await engine.execute(root, `CREATE NAMESPACE app;
    CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT);
    CREATE INDEX t_a ON app.t (a);
    CREATE INDEX t_b_id ON app.t (b DESC, id)`);
});

afterEach(async () => {
  await engine.close();
});

const run = async (sql: string) => (await engine.execute(root, sql))[0];
const table = () => engine.catalog.requireTable('app', 't');
const segments = () => engine.cold.manifest.segments(table().id, '');

/** A segment's record of an index, read back from the segment store: (indexed values…, key) per entry, in stored order. */
async function entries(meta: SegmentMeta, name: string): Promise<Value[][]> {
  const t = table();
  const index = t.indexes!.find((x) => x.name === name)!;
  const record = recordOf(meta, t, index)!;
  expect(record, `segment ${meta.id} has a record of ${name}`).toBeDefined();
  const layout = recordLayout(t, index);
  const codec = await loadSegmentCodec();
  const bytes = await engine.cold.store.readGroups(segmentKeyOf(meta), record.at.map((at, p) => ({ index: at, offset: record.offsets[p], bytes: record.bytes[p] })));
  const out: Value[][] = [];
  for (const b of bytes) {
    const page = codec.decodeRowGroup(b!, t.columns[t.pk]);
    const columns = layout.table.columns.map((c) => page.column(c));
    for (let i = 0; i < page.rows; i++) out.push([...columns.slice(0, index.columns.length).map((c) => c[i]), page.keys[i]]);
  }
  expect(out.length).toBe(record.entries);
  return out;
}

async function segmentRecords(): Promise<number> {
  let n = 0;
  await kv.scan('segments', { lower: new Uint8Array([]), upper: prefixUpperBound(new Uint8Array([0xff])) }, () => void n++);
  return n;
}

describe('per-segment index records', () => {
  it('a flush writes each index\'s record of the segment\'s live rows in index order, tombstones left out', async () => {
    await run(`INSERT INTO app.t (id, a, b) VALUES (1, 5, 'x'), (2, NULL, 'y'), (3, 1, NULL), (4, 5, 'a'), (5, 2, 'y'), (6, 0, 'q')`);
    await run('FLUSH TABLE app.t');
    await engine.jobs.idle();
    await run('DELETE FROM app.t WHERE id = 4');
    await run(`UPDATE app.t SET a = 9 WHERE id = 1`);
    await run('FLUSH TABLE app.t');
    await engine.jobs.idle();
    const [first, second] = segments();
    expect(await entries(first, 't_a')).toEqual([[0, 6], [1, 3], [2, 5], [5, 1], [5, 4], [null, 2]]);
    expect(await entries(first, 't_b_id')).toEqual([[null, 3, 3], ['y', 2, 2], ['y', 5, 5], ['x', 1, 1], ['q', 6, 6], ['a', 4, 4]]);
    // The second flush holds id 1's new version and id 4's tombstone: only the live row has an entry.
    expect(await entries(second, 't_a')).toEqual([[9, 1]]);
    expect(first.index_records!.map((r) => r.name)).toEqual(['t_a', 't_b_id']);
    // Pages are at most a row group's rows (4), each listed with its first and last tuple.
    const rec = first.index_records![0];
    expect(rec.rows).toEqual([4, 2]);
    expect(rec.first).toEqual([[0], [5]]);
    expect(rec.last).toEqual([[5], [null]]);
  });

  it('a compaction writes the records of its outputs (newest versions only) and deletes the inputs\' with their row groups', async () => {
    await run(`INSERT INTO app.t (id, a, b) VALUES ${Array.from({ length: 10 }, (_, i) => `(${i}, ${i % 5}, 'r')`).join(', ')}`);
    for (let round = 0; round < 3; round++) {
      if (round > 0) await run(`UPDATE app.t SET a = ${round} WHERE id < ${round * 3}`);
      await run('FLUSH TABLE app.t');
      await engine.jobs.idle();
    }
    await run('DELETE FROM app.t WHERE id = 3');
    await run('FLUSH TABLE app.t');
    await engine.jobs.idle();
    await run('STORAGE COMPACT TABLE app.t');
    await engine.jobs.idle();
    const out = segments();
    expect(out.every((m) => m.level === 1)).toBe(true);
    const all: Value[][] = [];
    for (const m of out) all.push(...(await entries(m, 't_a')));
    const live = (await run('SELECT a, id FROM app.t ORDER BY a, id')).rows.map((r) => [r.a, r.id]);
    expect(all.sort((x, y) => (x[0] as number) - (y[0] as number) || (x[1] as number) - (y[1] as number))).toEqual(live);
    expect(live).toHaveLength(9);
    // Only the outputs' groups and pages are stored.
    const expected = out.reduce((n, m) => n + m.groups!.rows.length + (m.index_pages ?? 0), 0);
    expect(await segmentRecords()).toBe(expected);
  });

  it('a compaction merging small neighbours (growing keys) writes each output\'s records; index reads answer the same', async () => {
    // 12 flushes of 3 rows: each far below maxSegmentRows (16), merged in groups of at most 16 rows.
    for (let f = 0; f < 12; f++) {
      await run(`INSERT INTO app.t (id, a, b) VALUES ${[0, 1, 2].map((j) => `(${f * 3 + j}, ${(f * 3 + j) % 4}, 'r${f}')`).join(', ')}`);
      await run('FLUSH TABLE app.t');
      await engine.jobs.idle();
    }
    expect(segments()).toHaveLength(12);
    await run('STORAGE COMPACT TABLE app.t');
    await engine.jobs.idle();
    const out = segments();
    expect(out.length).toBeLessThanOrEqual(Math.ceil(36 / 16) + 1);
    for (const m of out) {
      expect((await entries(m, 't_a')).length).toBe(m.row_count);
      expect((await entries(m, 't_b_id')).length).toBe(m.row_count);
    }
    const viaIndex = (await run('SELECT id FROM app.t WHERE a = 2 ORDER BY id')).rows.map((r) => r.id);
    expect(viaIndex).toEqual(Array.from({ length: 36 }, (_, i) => i).filter((i) => i % 4 === 2));
    expect((await run(`SELECT id FROM app.t WHERE b = 'r7' ORDER BY id`)).rows.map((r) => r.id)).toEqual([21, 22, 23]);
  });

  it('a record is read only for the index definition it was written for', async () => {
    await run(`INSERT INTO app.t (id, a, b) VALUES (1, 5, 'x')`);
    await run('FLUSH TABLE app.t');
    await engine.jobs.idle();
    const [meta] = segments();
    const t = table();
    expect(recordOf(meta, t, t.indexes![0])).toBeDefined();
    expect(recordOf(meta, t, { ...t.indexes![0], columns: [{ id: t.indexes![0].columns[0].id, desc: true }] })).toBeUndefined();
    await run('DROP INDEX app.t_a');
    await run('CREATE INDEX t_a ON app.t (b)');
    expect(recordOf(meta, table(), table().indexes!.find((x) => x.name === 't_a')!)).toBeUndefined();
  });

  it('CREATE INDEX on a table with cold segments queues their build (a compaction rewriting them with the record); reads use it once built', async () => {
    await run('CREATE SHARED TABLE app.v (id INT PRIMARY KEY, a INT)');
    await run(`INSERT INTO app.v (id, a) VALUES ${Array.from({ length: 30 }, (_, i) => `(${i}, ${i % 4})`).join(', ')}`);
    await run('FLUSH TABLE app.v');
    await engine.jobs.idle();
    const v = () => engine.catalog.requireTable('app', 'v');
    const created = await run('CREATE INDEX v_a ON app.v (a)');
    expect(created.message).toMatch(/Job ID: /);
    const job = (await run('SELECT job_id, job_type, parameters FROM system.jobs')).rows.filter((r) => JSON.stringify(r.parameters).includes('index_build'));
    expect(job).toHaveLength(1);
    expect(job[0].job_type).toBe('compact');
    expect(created.message).toContain(String(job[0].job_id));
    await engine.jobs.idle();
    const segs = engine.cold.manifest.segments(v().id, '');
    expect(segs.length).toBeGreaterThan(0);
    for (const m of segs) expect(recordOf(m, v(), v().indexes![0])?.entries).toBe(m.row_count);
    const stat = async () => Number((await run("SELECT metric_value FROM system.stats WHERE metric_name = 'index_cold_reads'")).rows[0].metric_value);
    const before = await stat();
    expect((await run('SELECT id FROM app.v WHERE a = 3 ORDER BY a LIMIT 4')).rows).toEqual([{ id: 3 }, { id: 7 }, { id: 11 }, { id: 15 }]);
    expect(await stat()).toBe(before + 1);
    // Nothing left to build: a second CREATE INDEX builds only its own.
    expect((await run('SELECT COUNT(*) AS n FROM system.jobs WHERE status IN (\'queued\', \'running\')')).rows[0].n).toBe(0);
  });

  it('segments lacking a record (written before the index, or a build cut off) are rebuilt by a job queued at open', async () => {
    const hook = segmentHooks.indexRecords;
    segmentHooks.indexRecords = undefined;
    try {
      await run(`INSERT INTO app.t (id, a, b) VALUES (1, 5, 'x'), (2, 6, 'y'), (3, 5, 'z')`);
      await run('FLUSH TABLE app.t');
      await engine.jobs.idle();
    } finally {
      segmentHooks.indexRecords = hook;
    }
    expect(segments()[0].index_records).toBeUndefined();
    // Until built, the partition is read by the ordinary scan, with the same answers.
    expect((await run('SELECT id FROM app.t WHERE a = 5 ORDER BY a')).rows).toEqual([{ id: 1 }, { id: 3 }]);
    await engine.close();
    engine = await Engine.open({ storage: kv, rowGroupRows: 4, maxSegmentRows: 16, flushCheckIntervalMs: 0, compactL0Segments: 0 });
    await engine.jobs.idle();
    const [meta] = segments();
    expect(await entries(meta, 't_a')).toEqual([[5, 1], [5, 3], [6, 2]]);
    expect((await run('SELECT id FROM app.t WHERE a = 5 ORDER BY a')).rows).toEqual([{ id: 1 }, { id: 3 }]);
  });

  it('DROP TABLE deletes the records with the row groups', async () => {
    await run(`INSERT INTO app.t (id, a, b) VALUES (1, 5, 'x'), (2, 6, 'y')`);
    await run('FLUSH TABLE app.t');
    await engine.jobs.idle();
    expect(await segmentRecords()).toBe(1 + 2);
    await run('DROP TABLE app.t');
    await engine.jobs.idle();
    expect(await segmentRecords()).toBe(0);
  });

  it('a cold read through the index fetches the record pages of all the partition\'s segments together, not one after another', async () => {
    // Four segments whose keys interleave in the index's order (a = id % 10), compaction off: a read of the
    // smallest values needs a record page of each.
    for (let f = 0; f < 4; f++) {
      const values = Array.from({ length: 4 }, (_, i) => `(${f * 4 + i}, ${(f * 4 + i) % 10}, 'v')`).join(', ');
      await run(`INSERT INTO app.t (id, a, b) VALUES ${values}`);
      await run('FLUSH TABLE app.t');
      await engine.jobs.idle();
    }
    await engine.close();
    // Reopened over a store whose segment reads of record pages wait a turn, counting how many are in flight at once.
    const t0 = table();
    const recordKeys = new Set(segments().flatMap((m) => recordOf(m, t0, t0.indexes!.find((x) => x.name === 't_a')!)!.at.map((at) => encodeKey([t0.id, '', m.id, at]).join())));
    expect(recordKeys.size).toBe(4);
    let inFlight = 0;
    let most = 0;
    const slow: KvStore = {
      ...kv,
      get: async (s, k) => {
        if (s !== 'segments' || !recordKeys.has(k.join())) return kv.get(s, k);
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
        return kv.get(s, k);
      },
    };
    engine = await Engine.open({ storage: slow, rowGroupRows: 4, maxSegmentRows: 16, flushCheckIntervalMs: 0, compactL0Segments: 0 });
    const stat = async () => Number((await run("SELECT metric_value FROM system.stats WHERE metric_name = 'index_cold_reads'")).rows[0].metric_value);
    const before = await stat();
    expect((await run('SELECT id, a FROM app.t WHERE a >= 0 ORDER BY a LIMIT 3')).rows).toEqual([{ id: 0, a: 0 }, { id: 10, a: 0 }, { id: 1, a: 1 }]);
    expect(await stat()).toBe(before + 1);
    expect(most).toBe(4);
  });

  it('a read through the index during a flush of a newer version does not answer with the version it replaced', async () => {
    // One segment of keys 0-7 (alone: its candidates are read in it only).
    await run(`INSERT INTO app.t (id, a, b) VALUES ${Array.from({ length: 8 }, (_, i) => `(${i}, ${i}, 'v')`).join(', ')}`);
    await run('FLUSH TABLE app.t');
    await engine.jobs.idle();
    await engine.close();
    // Reopened over a store whose reads of record pages wait until the test lets them go.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let waiting = 0;
    const t0 = table();
    const recordKeys = new Set(segments().flatMap((m) => recordOf(m, t0, t0.indexes!.find((x) => x.name === 't_a')!)!.at.map((at) => encodeKey([t0.id, '', m.id, at]).join())));
    const gated: KvStore = {
      ...kv,
      get: async (s, k) => {
        if (s === 'segments' && recordKeys.has(k.join())) {
          waiting++;
          await gate;
        }
        return kv.get(s, k);
      },
    };
    engine = await Engine.open({ storage: gated, rowGroupRows: 4, maxSegmentRows: 16, flushCheckIntervalMs: 0, compactL0Segments: 0 });
    const read = run('SELECT id, a FROM app.t WHERE a >= 0 ORDER BY a LIMIT 3');
    while (waiting === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    // Meanwhile key 1 gets a newer version, and a flush of it starts before the read resolves its candidates.
    await run('UPDATE app.t SET a = 50 WHERE id = 1');
    const flushed = run('FLUSH TABLE app.t').then(() => engine.jobs.idle());
    await new Promise((resolve) => setTimeout(resolve, 5));
    release();
    expect((await read).rows).toEqual([{ id: 0, a: 0 }, { id: 2, a: 2 }, { id: 3, a: 3 }]);
    await flushed;
    expect(segments()).toHaveLength(2);
    expect((await run('SELECT id, a FROM app.t WHERE a >= 0 ORDER BY a LIMIT 3')).rows).toEqual([{ id: 0, a: 0 }, { id: 2, a: 2 }, { id: 3, a: 3 }]);
  });

  it('a record page the cache shrinks between two reads of it (a column decoded whole) still gives every value of its other columns', async () => {
    const t = table();
    const col = (name: string) => t.columns.find((c) => c.name === name)!;
    // The record of an index on (b, a): pages of b, a, then the key.
    const layout = recordLayout(t, { name: 't_b_a', columns: [{ id: col('b').id, desc: false }, { id: col('a').id, desc: false }] } as unknown as Parameters<typeof recordLayout>[1]);
    expect(layout.table.columns.map((c) => c.name)).toEqual(['b', 'a', 'id']);
    const codec = await loadSegmentCodec();
    const rows = Array.from({ length: 300 }, (_, i) => [`w${String(i).padStart(3, '0')}`, i * 2, i, BigInt(i + 1), false] as unknown as Parameters<typeof codec.encodeRowGroup>[1][number]);
    const page = codec.decodeRowGroup(codec.encodeRowGroup(layout.table, rows, 0, rows.length).bytes, layout.table.columns[2]);
    let grown = 0;
    const indexColumns = layout.table.columns.slice(0, 2);
    const [b, a] = pageReaders(page, indexColumns, () => void grown++);
    // Past 64 values, b is decoded whole (a scan's read: the cache may shrink the page to what it decoded).
    for (let i = 0; i < 100; i++) expect(b(i)).toBe(`w${String(i).padStart(3, '0')}`);
    expect(grown).toBe(1);
    expect(page.shrink?.()).toBe(true);
    expect(page.covers?.(indexColumns[1])).toBe(false);
    // The page's readers, made before, still read a one value at a time, past the bound too.
    for (let i = 0; i < 300; i++) expect(a(i)).toBe(i * 2);
    expect(grown).toBe(1);
    // Readers asked for again (the next read of the cached page) give the same values.
    const [b2, a2] = pageReaders(page, indexColumns, () => void grown++);
    expect([b2(299), a2(299), a2(5)]).toEqual(['w299', 598, 10]);
  });

  it('reads pages of hundreds of entries a few values at a time, and whole once a read goes through most of them: the same rows as without the index', async () => {
    await engine.close();
    engine = await Engine.open({ storage: kv, rowGroupRows: 500, maxSegmentRows: 1000, flushCheckIntervalMs: 0, compactL0Segments: 0 });
    // Two segments (keys that only grow) of 1,000 rows: record pages of 500 entries, values repeated in runs.
    const model = Array.from({ length: 2000 }, (_, id) => ({ id, a: ((id % 1000) * 7) % 13, b: `w${String(((id % 1000) * 31) % 97).padStart(2, '0')}` }));
    for (let f = 0; f < 2; f++) {
      await run(`INSERT INTO app.t (id, a, b) VALUES ${model.slice(f * 1000, f * 1000 + 1000).map((r) => `(${r.id}, ${r.a}, '${r.b}')`).join(', ')}`);
      await run('FLUSH TABLE app.t');
      await engine.jobs.idle();
    }
    expect(segments()).toHaveLength(2);
    const byB = (x: { b: string; id: number }, y: { b: string; id: number }) => (x.b < y.b ? 1 : x.b > y.b ? -1 : x.id - y.id);
    const cases: [string, { id: number }[]][] = [
      ["SELECT id, b FROM app.t WHERE b >= 'w40' ORDER BY b DESC, id LIMIT 5", model.filter((r) => r.b >= 'w40').sort(byB).slice(0, 5).map(({ id, b }) => ({ id, b }))],
      ["SELECT id, b FROM app.t WHERE b BETWEEN 'w10' AND 'w60' ORDER BY b DESC, id", model.filter((r) => r.b >= 'w10' && r.b <= 'w60').sort(byB).map(({ id, b }) => ({ id, b }))],
      ['SELECT id, a FROM app.t WHERE a <= 6 ORDER BY a, id LIMIT 7', model.filter((r) => r.a <= 6).sort((x, y) => x.a - y.a || x.id - y.id).slice(0, 7).map(({ id, a }) => ({ id, a }))],
      ['SELECT id, a FROM app.t WHERE a >= 2 ORDER BY a, id', model.filter((r) => r.a >= 2).sort((x, y) => x.a - y.a || x.id - y.id).map(({ id, a }) => ({ id, a }))],
      ['SELECT id, a FROM app.t WHERE a > 3 ORDER BY a DESC, id LIMIT 300', model.filter((r) => r.a > 3).sort((x, y) => y.a - x.a || x.id - y.id).slice(0, 300).map(({ id, a }) => ({ id, a }))],
    ];
    for (const [sql, expected] of cases) {
      const plan = (await run(`EXPLAIN ${sql}`)).rows.map((r) => String(r.detail)).join(' ');
      expect(plan, sql).toMatch(/index t_/);
      expect((await run(sql)).rows, sql).toEqual(expected);
    }
  });
});
