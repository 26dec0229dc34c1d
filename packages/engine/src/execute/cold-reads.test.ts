import { afterEach, describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import type { RowChange } from '../core/schema';
import type { Value } from '../core/types';
import { hashKey } from '../core/values';
import { RowGroupCache } from '../storage/cold/cache';
import { Engine, type OpenOptions, type SessionState } from './engine';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const bob: SessionState = { user: 'bob', role: 'dba', namespace: 'default' };

let open: Engine[] = [];
afterEach(async () => {
  for (const e of open) await e.close();
  open = [];
});

/** Without row pages (execute/row-pages.test.ts covers them): these tests count row groups. */
async function engineWith(options: Partial<OpenOptions> = {}): Promise<Engine> {
  const engine = await Engine.open({ storage: 'memory', flushCheckIntervalMs: 0, rowPageRows: 0, ...options });
  open.push(engine);
  await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.big (id INT PRIMARY KEY, grp INT, label TEXT)');
  return engine;
}

const stat = (engine: Engine, name: string) => engine.metrics().find(([k]) => k === name)?.[1] as number;
const rows = async (engine: Engine, sql: string, state = root) => (await engine.execute(state, sql))[0].rows;

/** Inserts ids [from, to) straight through the commit path (the SQL text of 100,000 rows would only slow the test). */
async function bulkInsert(engine: Engine, from: number, to: number, grp: (id: number) => number): Promise<void> {
  const t = engine.catalog.requireTable('app', 'big');
  for (let start = from; start < to; start += 10_000) {
    const changes: RowChange[] = [];
    for (let id = start; id < Math.min(to, start + 10_000); id++) {
      changes.push({ table: t, user: '', pkHash: hashKey(id), pk: id, row: Object.freeze([id, grp(id), `label ${id}`, engine.seq.next(), false]) });
    }
    await engine.exclusive(() => engine.commit({ rows: changes }));
  }
}

async function flush(engine: Engine, table = 'app.big'): Promise<void> {
  await engine.execute(root, `FLUSH TABLE ${table}`);
  await engine.jobs.idle();
}

/** Row groups read and loaded (fetched and decoded) by `fn`. */
async function counting(engine: Engine, fn: () => Promise<unknown>): Promise<{ read: number; loaded: number; skipped: number }> {
  const r0 = stat(engine, 'row_groups_read');
  const l0 = stat(engine, 'row_group_loads');
  const s0 = stat(engine, 'row_groups_skipped');
  await fn();
  return { read: stat(engine, 'row_groups_read') - r0, loaded: stat(engine, 'row_group_loads') - l0, skipped: stat(engine, 'row_groups_skipped') - s0 };
}

/** Drops every cached row group: the next reads load from storage. */
function clearCache(engine: Engine): void {
  engine.cold.cache.forget(new Set(engine.cold.manifest.all().map((m) => m.id)));
}

describe('row-group pruning on a 100,000-row flushed partition', () => {
  it('a point lookup loads one row group, a 20-row key range one or two, a selective non-key filter skips the rest', async () => {
    const engine = await engineWith();
    await bulkInsert(engine, 0, 100_000, (id) => Math.floor(id / 1000));
    await flush(engine);
    const groups = stat(engine, 'row_groups');
    expect(groups).toBe(Math.ceil(65_536 / 2048) + Math.ceil((100_000 - 65_536) / 2048));
    expect(stat(engine, 'segments')).toBe(2);
    clearCache(engine);

    let c = await counting(engine, async () => expect(await rows(engine, 'SELECT id, grp, label FROM app.big WHERE id = 54321')).toEqual([{ id: 54321, grp: 54, label: 'label 54321' }]));
    expect(c).toEqual({ read: 1, loaded: 1, skipped: groups - 1 });

    c = await counting(engine, async () => expect((await rows(engine, 'SELECT id FROM app.big WHERE id BETWEEN 70000 AND 70019')).map((r) => r.id)).toEqual(Array.from({ length: 20 }, (_, i) => 70_000 + i)));
    expect(c.read).toBeGreaterThanOrEqual(1);
    expect(c.read).toBeLessThanOrEqual(2);
    expect(c.loaded).toBe(c.read);

    c = await counting(engine, async () => expect(await rows(engine, 'SELECT COUNT(*) AS n FROM app.big WHERE grp = 42')).toEqual([{ n: 1000 }]));
    expect(c.read).toBeLessThanOrEqual(2);
    expect(c.skipped).toBeGreaterThanOrEqual(groups - 2);

    // Again: served from the cache.
    c = await counting(engine, async () => expect(await rows(engine, 'SELECT grp FROM app.big WHERE id = 54321')).toEqual([{ grp: 54 }]));
    expect(c).toEqual({ read: 1, loaded: 0, skipped: groups - 1 });

    // An unbounded scan reads every group; COUNT(*) across both segments and hot rows.
    await bulkInsert(engine, 100_000, 100_010, () => 0);
    c = await counting(engine, async () => expect(await rows(engine, 'SELECT COUNT(*) AS n FROM app.big')).toEqual([{ n: 100_010 }]));
    expect(c.read).toBe(groups);
  });

  it('a newer row group skipped by its stats is still read when it shadows an older one that is read', async () => {
    const engine = await engineWith({ rowGroupRows: 4 });
    await bulkInsert(engine, 1, 101, () => 1); // 25 groups, grp = 1 everywhere
    await flush(engine);
    await engine.execute(root, 'UPDATE app.big SET grp = 2 WHERE id = 50');
    await flush(engine); // one group: id 50, grp 2 (its stats rule out grp = 1)
    await bulkInsert(engine, 500, 501, () => 2);
    await flush(engine); // one group: id 500, grp 2, overlapping nothing
    expect(stat(engine, 'segments')).toBe(3);
    const c = await counting(engine, async () => {
      const ids = (await rows(engine, 'SELECT id FROM app.big WHERE grp = 1')).map((r) => r.id);
      expect(ids).toHaveLength(99);
      expect(ids).not.toContain(50);
    });
    // Every group of the first segment, and the newer one holding id 50 — not the one holding id 500.
    expect(c).toEqual({ read: 26, loaded: 0, skipped: 1 });
    expect(await rows(engine, 'SELECT id, grp FROM app.big WHERE grp = 2 ORDER BY id')).toEqual([{ id: 50, grp: 2 }, { id: 500, grp: 2 }]);
  });
});

describe('the row-group cache under reads larger than its bound', () => {
  it('stays within its byte bound after a scan of a partition larger than the bound, and holds what the scan pinned only while it runs', async () => {
    const engine = await engineWith({ segmentCacheBytes: 200_000, rowGroupRows: 1024 });
    await bulkInsert(engine, 0, 30_000, (id) => id % 7);
    await flush(engine);
    expect(stat(engine, 'segment_cache_bytes')).toBeLessThanOrEqual(200_000);
    clearCache(engine);
    expect(await rows(engine, 'SELECT grp, COUNT(*) AS n FROM app.big GROUP BY grp ORDER BY grp')).toHaveLength(7);
    expect(stat(engine, 'segment_cache_bytes')).toBeLessThanOrEqual(200_000);
    expect(stat(engine, 'segment_cache_pinned_bytes')).toBe(0);
    expect(stat(engine, 'segment_cache_evictions')).toBeGreaterThan(0);

    // While a scan is prepared, its row groups are pinned: more than the bound is held, and released after.
    const planned = engine.plan(root, 'SELECT COUNT(*) AS n FROM app.big WHERE label <> $1', ['x']);
    if ('stmt' in planned) throw new Error('expected a plan');
    const prepared = await engine.prepareCold(planned.plan, root.user, planned.params);
    expect(stat(engine, 'segment_cache_pinned_bytes')).toBeGreaterThan(200_000);
    expect(stat(engine, 'segment_cache_bytes')).toBe(stat(engine, 'segment_cache_pinned_bytes'));
    const seen = planned.plan.kind === 'select' ? planned.plan.run({ ...engine.context(root, planned.params), cold: prepared.reads }) : [];
    expect([...seen]).toEqual([[30_000]]);
    prepared.release();
    expect(stat(engine, 'segment_cache_pinned_bytes')).toBe(0);
    expect(stat(engine, 'segment_cache_bytes')).toBeLessThanOrEqual(200_000);
  });

  it('keeps a group an execution pinned through eviction pressure until it is released', async () => {
    const engine = await engineWith({ segmentCacheBytes: 100_000, rowGroupRows: 1024 });
    await bulkInsert(engine, 0, 30_000, () => 0);
    await flush(engine);
    clearCache(engine);
    const planned = engine.plan(root, 'SELECT label FROM app.big WHERE id = $1', [5]);
    if ('stmt' in planned) throw new Error('expected a plan');
    const prepared = await engine.prepareCold(planned.plan, root.user, planned.params);
    const segment = engine.cold.manifest.all()[0].id;
    const pinnedKey = RowGroupCache.key(segment, 0);
    expect(engine.cold.cache.peek(pinnedKey)).toBeDefined();
    // Pressure: lookups across every other group.
    for (let id = 1024; id < 30_000; id += 1024) expect(await rows(engine, `SELECT label FROM app.big WHERE id = ${id}`)).toEqual([{ label: `label ${id}` }]);
    expect(stat(engine, 'segment_cache_evictions')).toBeGreaterThan(0);
    expect(engine.cold.cache.peek(pinnedKey)).toBeDefined();
    prepared.release();
    for (let id = 1024; id < 30_000; id += 1024) await rows(engine, `SELECT label FROM app.big WHERE id = ${id}`);
    expect(engine.cold.cache.peek(pinnedKey)).toBeUndefined();
    expect(stat(engine, 'segment_cache_bytes')).toBeLessThanOrEqual(100_000);
  });
});

describe('scans of more row groups than the cache holds', () => {
  it('keep the columns they read: a repeated GROUP BY loads nothing, a read of another column loads the groups again and answers right', async () => {
    const engine = await engineWith({ segmentCacheBytes: 900_000, rowGroupRows: 1024 });
    await bulkInsert(engine, 0, 30_000, (id) => id % 7);
    await flush(engine);
    clearCache(engine);
    const evicted = stat(engine, 'segment_cache_evictions');
    const groupBy = 'SELECT grp, COUNT(*) AS n, SUM(id) AS s FROM app.big GROUP BY grp ORDER BY grp';
    const expected = Array.from({ length: 7 }, (_, g) => {
      let n = 0;
      let sum = 0;
      for (let id = g; id < 30_000; id += 7) (n++, (sum += id));
      return { grp: g, n, s: sum };
    });
    const first = await counting(engine, async () => expect(await rows(engine, groupBy)).toEqual(expected));
    expect(first.loaded).toBe(30);
    // The 30 groups whole (~41 KB each) are more than the bound: the least recently used gave up their label column (to ~18 KB) instead of going.
    expect(stat(engine, 'segment_cache_shrinks')).toBeGreaterThan(0);
    expect(stat(engine, 'segment_cache_evictions')).toBe(evicted);
    expect(stat(engine, 'segment_cache_bytes')).toBeLessThanOrEqual(900_000);
    const again = await counting(engine, async () => expect(await rows(engine, groupBy)).toEqual(expected));
    expect(again.loaded).toBe(0);
    // label was given up by the shrunk groups: they load again, whole.
    const labels = await counting(engine, async () => expect(await rows(engine, "SELECT COUNT(*) AS n FROM app.big WHERE label LIKE '%99'")).toEqual([{ n: 300 }]));
    expect(labels.loaded).toBeGreaterThan(0);
    expect(stat(engine, 'segment_cache_bytes')).toBeLessThanOrEqual(900_000);
    // A point read of a shrunk group that gave up a column it reads gets it whole again.
    for (let id = 0; id < 30_000; id += 1024) expect(await rows(engine, `SELECT * FROM app.big WHERE id = ${id}`)).toEqual([{ id, grp: id % 7, label: `label ${id}` }]);
    expect(stat(engine, 'segment_cache_pinned_bytes')).toBe(0);
  });
});

describe('transactions over cold rows the cache no longer holds', () => {
  it('a commit sees a key another session inserted, flushed and got evicted meanwhile: PRIMARY_KEY_VIOLATION', async () => {
    const engine = await engineWith({ segmentCacheBytes: 0 });
    const tx = engine.beginTransaction('root', 'api');
    await engine.execute(root, "INSERT INTO app.big (id, grp, label) VALUES (7, 1, 'mine')", [], tx);
    await engine.execute(bob, "INSERT INTO app.big (id, grp, label) VALUES (7, 2, 'theirs')");
    await flush(engine);
    expect(stat(engine, 'segment_cache_size')).toBe(0);
    expect(stat(engine, 'table_rows.app.big')).toBe(0); // only cold now
    const e = await engine.commitTransaction(tx).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(KalamError);
    expect((e as KalamError).code).toBe('PRIMARY_KEY_VIOLATION');
    expect(await rows(engine, 'SELECT label FROM app.big WHERE id = 7')).toEqual([{ label: 'theirs' }]);
  });

  it('updates of cold rows commit when nothing changed them, and conflict when a newer cold version exists', async () => {
    const engine = await engineWith({ segmentCacheBytes: 0, rowGroupRows: 4 });
    await bulkInsert(engine, 0, 40, () => 0);
    await flush(engine);
    const tx = engine.beginTransaction('root', 'api');
    await engine.execute(root, "UPDATE app.big SET label = 'tx' WHERE id BETWEEN 10 AND 12", [], tx);
    await engine.commitTransaction(tx);
    expect((await rows(engine, 'SELECT label FROM app.big WHERE id BETWEEN 10 AND 12')).map((r) => r.label)).toEqual(['tx', 'tx', 'tx']);

    const late = engine.beginTransaction('root', 'api');
    await engine.execute(root, "UPDATE app.big SET label = 'late' WHERE id = 20", [], late);
    await engine.execute(bob, "UPDATE app.big SET label = 'bob' WHERE id = 20");
    await flush(engine);
    const e = await engine.commitTransaction(late).then(() => undefined, (x: unknown) => x);
    expect((e as KalamError).code).toBe('TRANSACTION_ERROR');
    expect(await rows(engine, 'SELECT label FROM app.big WHERE id = 20')).toEqual([{ label: 'bob' }]);
    expect(stat(engine, 'segment_pins')).toBe(0);
  });
});

describe('key ranges and key order', () => {
  it('reads ranges and ORDER BY the key (either way, with LIMIT) across hot rows and several segments', async () => {
    const engine = await engineWith({ rowGroupRows: 8, maxSegmentRows: 32 });
    await bulkInsert(engine, 0, 100, () => 0);
    await flush(engine);
    await engine.execute(root, 'DELETE FROM app.big WHERE id IN (5, 6, 95)');
    await engine.execute(root, 'UPDATE app.big SET grp = 9 WHERE id BETWEEN 40 AND 44');
    await bulkInsert(engine, 100, 110, () => 1);
    const ids = async (sql: string) => (await rows(engine, sql)).map((r) => r.id as Value);
    expect(await ids('SELECT id FROM app.big WHERE id > 2 AND id < 9')).toEqual([3, 4, 7, 8]);
    expect(await ids('SELECT id FROM app.big WHERE id >= 90 ORDER BY id DESC LIMIT 8')).toEqual([109, 108, 107, 106, 105, 104, 103, 102]);
    expect(await ids('SELECT id FROM app.big WHERE id < 100 ORDER BY id DESC LIMIT 3')).toEqual([99, 98, 97]);
    expect(await ids('SELECT id FROM app.big ORDER BY id LIMIT 6')).toEqual([0, 1, 2, 3, 4, 7]);
    expect(await ids('SELECT id FROM app.big WHERE grp = 9 AND id BETWEEN 41 AND 100')).toEqual([41, 42, 43, 44]);
    expect(await ids('SELECT id FROM app.big WHERE id BETWEEN 50 AND 40')).toEqual([]);
    expect(await ids('SELECT id FROM app.big WHERE id > NULL')).toEqual([]);
    expect(await ids("SELECT id FROM app.big WHERE id >= '107'")).toEqual([107, 108, 109]);
  });
});

describe('reads of a few rows of a row group', () => {
  it('decode only those rows: the values equal a scan of the materialized columns, for every type, an added and a retyped column', async () => {
    const engine = await engineWith({ rowGroupRows: 256 });
    await engine.execute(root, `CREATE SHARED TABLE app.typed (id BIGINT PRIMARY KEY, b BOOLEAN, s SMALLINT, i INT, f DOUBLE, t TEXT, j JSON,
      ts TIMESTAMP, d DATE, y BYTES, n INT)`);
    const values: string[] = [];
    for (let id = 0; id < 1000; id++) {
      const nul = id % 7 === 0;
      values.push(`(${id}, ${nul ? 'NULL' : id % 2 === 0}, ${nul ? 'NULL' : id % 300}, ${nul ? 'NULL' : id * 3}, ${nul ? 'NULL' : id / 4},
        ${nul ? 'NULL' : `'tëxt ${id}'`}, ${nul ? 'NULL' : `'{"k": ${id}, "a": [1, "x"]}'`}, ${nul ? 'NULL' : 1_700_000_000_000 + id},
        ${nul ? 'NULL' : `'2024-01-${String((id % 28) + 1).padStart(2, '0')}'`}, NULL, ${id})`);
    }
    await engine.execute(root, `INSERT INTO app.typed (id, b, s, i, f, t, j, ts, d, y, n) VALUES ${values.join(', ')}`);
    await flush(engine, 'app.typed');
    await engine.execute(root, "ALTER TABLE app.typed ADD COLUMN extra TEXT DEFAULT 'dflt'");
    await engine.execute(root, 'ALTER TABLE app.typed ALTER COLUMN n TYPE TEXT');
    const narrow0 = stat(engine, 'row_groups_read_narrow');
    // The whole table, read with its columns materialized (no key bound).
    const all = await rows(engine, 'SELECT * FROM app.typed ORDER BY id');
    expect(all).toHaveLength(1000);
    expect(stat(engine, 'row_groups_read_narrow')).toBe(narrow0);
    const byId = new Map(all.map((r) => [r.id, r]));
    clearCache(engine);
    const bytes0 = stat(engine, 'segment_cache_bytes');
    for (const id of [0n, 7n, 255n, 256n, 500n, 999n]) {
      const [row] = await rows(engine, `SELECT * FROM app.typed WHERE id = ${id}`);
      expect(row).toEqual(byId.get(id));
    }
    expect(await rows(engine, 'SELECT id, t, n, extra FROM app.typed WHERE id BETWEEN 510 AND 514')).toEqual(
      [510n, 511n, 512n, 513n, 514n].map((id) => ({ id, t: byId.get(id)!.t, n: String(id), extra: 'dflt' })));
    expect(await rows(engine, 'SELECT id, j FROM app.typed WHERE id IN (3, 700)')).toEqual([
      { id: 3n, j: { k: 3, a: [1, 'x'] } },
      { id: 700n, j: null },
    ]);
    // Each of those read its group value by value: nothing materialized, the cached groups hold their bytes only.
    expect(stat(engine, 'row_groups_read_narrow') - narrow0).toBeGreaterThanOrEqual(9);
    const cached = stat(engine, 'segment_cache_bytes') - bytes0;
    await rows(engine, 'SELECT * FROM app.typed WHERE id BETWEEN 0 AND 999');
    expect(stat(engine, 'segment_cache_bytes') - bytes0).toBeGreaterThan(cached); // a wide range materializes the columns
  });
});
