import { afterEach, describe, expect, it } from 'vitest';
import type { RowChange } from '../core/schema';
import { hashKey } from '../core/values';
import { Engine, type OpenOptions, type SessionState } from './engine';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };

let open: Engine[] = [];
afterEach(async () => {
  for (const e of open) await e.close();
  open = [];
});

async function engineWith(options: Partial<OpenOptions>): Promise<Engine> {
  const engine = await Engine.open({ storage: 'memory', flushCheckIntervalMs: 0, compactL0Segments: 0, ...options });
  open.push(engine);
  await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.big (id INT PRIMARY KEY, grp INT, label TEXT)');
  return engine;
}

const stat = (engine: Engine, name: string) => engine.metrics().find(([k]) => k === name)?.[1] as number;
const rows = async (engine: Engine, sql: string) => (await engine.execute(root, sql))[0].rows;

/** Inserts ids [from, to) straight through the commit path, then flushes them to one or more cold segments and empties the cache. */
async function coldRows(engine: Engine, from: number, to: number): Promise<void> {
  const t = engine.catalog.requireTable('app', 'big');
  for (let start = from; start < to; start += 10_000) {
    const changes: RowChange[] = [];
    for (let id = start; id < Math.min(to, start + 10_000); id++) {
      changes.push({ table: t, user: '', pkHash: hashKey(id), pk: id, row: Object.freeze([id, id % 7, `label ${id}`, engine.seq.next(), false]) });
    }
    await engine.exclusive(() => engine.commit({ rows: changes }));
  }
  await engine.execute(root, 'FLUSH TABLE app.big');
  await engine.jobs.idle();
  engine.cold.cache.forget(new Set(engine.cold.manifest.all().map((m) => m.id)));
}

/** Row groups read by one statement (system.stats row_groups_read). */
async function groupsRead(engine: Engine, sql: string): Promise<{ rows: readonly Record<string, unknown>[]; groups: number }> {
  const before = stat(engine, 'row_groups_read');
  const out = await rows(engine, sql);
  return { rows: out, groups: stat(engine, 'row_groups_read') - before };
}

describe('ordered reads load row groups as the merge reaches them', () => {
  it('ORDER BY pk [DESC] LIMIT 10 over a 10-group segment reads one group, hot rows shadowing cold ones', async () => {
    const engine = await engineWith({ rowGroupRows: 16, maxSegmentRows: 160 });
    await coldRows(engine, 0, 160);
    expect(engine.cold.manifest.all().map((m) => m.groups!.rows.length)).toEqual([10]);
    await engine.execute(root, "UPDATE app.big SET label = 'hot' WHERE id IN (1, 158); DELETE FROM app.big WHERE id IN (3, 159)");
    const label = (id: number) => (id === 1 || id === 158 ? 'hot' : `label ${id}`);
    const up = [0, 1, 2, 4, 5, 6, 7, 8, 9, 10];
    const first = await groupsRead(engine, 'SELECT id, label FROM app.big ORDER BY id LIMIT 10');
    expect(first.rows).toEqual(up.map((id) => ({ id, label: label(id) })));
    expect(first.groups).toBe(1);
    const down = [158, 157, 156, 155, 154, 153, 152, 151, 150, 149];
    const last = await groupsRead(engine, 'SELECT id, label FROM app.big ORDER BY id DESC LIMIT 10');
    expect(last.rows).toEqual(down.map((id) => ({ id, label: label(id) })));
    expect(last.groups).toBe(1);
    // A LIMIT past the first group reads the next one only when the merge reaches it.
    const more = await groupsRead(engine, 'SELECT id FROM app.big ORDER BY id LIMIT 20');
    expect(more.rows.map((r) => r.id)).toEqual([0, 1, 2, ...Array.from({ length: 17 }, (_, i) => i + 4)]);
    expect(more.groups).toBe(2);
    // Without a LIMIT every group is read.
    const all = await groupsRead(engine, 'SELECT COUNT(*) AS n FROM app.big');
    expect(all.rows).toEqual([{ n: 158 }]);
    expect(all.groups).toBe(10);
  });

  it('merges several segments and the hot rows in key order, either way, loading each segment\'s groups as reached', async () => {
    const engine = await engineWith({ rowGroupRows: 16, maxSegmentRows: 160 });
    // Two overlapping flushes: even ids, then odd ids and new versions of some even ones.
    const t = engine.catalog.requireTable('app', 'big');
    await coldRows(engine, 0, 0);
    const put = async (ids: number[], tag: string) => {
      const changes: RowChange[] = ids.map((id) => ({ table: t, user: '', pkHash: hashKey(id), pk: id, row: Object.freeze([id, 0, `${tag} ${id}`, engine.seq.next(), false]) }));
      await engine.exclusive(() => engine.commit({ rows: changes }));
      await engine.execute(root, 'FLUSH TABLE app.big');
      await engine.jobs.idle();
    };
    await put(Array.from({ length: 100 }, (_, i) => i * 2), 'a');
    await put([...Array.from({ length: 100 }, (_, i) => i * 2 + 1), 10, 150], 'b');
    await engine.execute(root, "UPDATE app.big SET label = 'hot' WHERE id IN (11, 190)");
    engine.cold.cache.forget(new Set(engine.cold.manifest.all().map((m) => m.id)));
    const label = (id: number) => (id === 11 || id === 190 ? 'hot' : id % 2 === 1 || id === 10 || id === 150 ? `b ${id}` : `a ${id}`);
    for (const [sql, ids] of [
      ['SELECT id, label FROM app.big ORDER BY id LIMIT 25', Array.from({ length: 25 }, (_, i) => i)],
      ['SELECT id, label FROM app.big ORDER BY id DESC LIMIT 25', Array.from({ length: 25 }, (_, i) => 199 - i)],
      ['SELECT id, label FROM app.big WHERE id >= 140 ORDER BY id LIMIT 15', Array.from({ length: 15 }, (_, i) => 140 + i)],
    ] as const) {
      const out = await groupsRead(engine, sql);
      expect(out.rows, sql).toEqual(ids.map((id) => ({ id, label: label(id) })));
      expect(out.groups, sql).toBeLessThan(engine.cold.groupCount);
    }
    expect((await rows(engine, 'SELECT COUNT(*) AS n, SUM(id) AS s FROM app.big'))[0]).toEqual({ n: 200, s: 19_900 });
  });

  it('a consumer that cannot wait for a group (a subquery, a point lookup) gets the statement run again prepared in full', async () => {
    const engine = await engineWith({ rowGroupRows: 16, maxSegmentRows: 160 });
    await coldRows(engine, 0, 160);
    expect(await rows(engine, 'SELECT (SELECT COUNT(*) FROM app.big) AS n')).toEqual([{ n: 160 }]);
    engine.cold.cache.forget(new Set(engine.cold.manifest.all().map((m) => m.id)));
    expect(await rows(engine, 'SELECT id FROM app.big WHERE id IN (SELECT id + 150 FROM app.big ORDER BY id LIMIT 3) ORDER BY id')).toEqual([{ id: 150 }, { id: 151 }, { id: 152 }]);
    engine.cold.cache.forget(new Set(engine.cold.manifest.all().map((m) => m.id)));
    expect(await rows(engine, 'SELECT a.id, b.label FROM app.big a JOIN app.big b ON b.id = a.id + 100 ORDER BY a.id LIMIT 2')).toEqual([
      { id: 0, label: 'label 100' }, { id: 1, label: 'label 101' },
    ]);
    expect(stat(engine, 'segment_cache_pinned_bytes')).toBe(0);
  });
});

describe('scans release row groups as they pass them', () => {
  it('COUNT(*) and GROUP BY over more row groups than the cache holds keep the cache within its bound while they run', async () => {
    const bound = 200_000;
    const engine = await engineWith({ segmentCacheBytes: bound, rowGroupRows: 1024 });
    await coldRows(engine, 0, 30_000);
    const cache = engine.cold.cache;
    // The most the cache held at any point of a statement.
    let peak = 0;
    const set = cache.set.bind(cache);
    cache.set = (...args: Parameters<typeof set>) => {
      set(...args);
      peak = Math.max(peak, cache.stats().bytes);
    };
    const resize = cache.resize.bind(cache);
    cache.resize = (key: string) => {
      resize(key);
      peak = Math.max(peak, cache.stats().bytes);
    };
    expect(await rows(engine, 'SELECT COUNT(*) AS n FROM app.big')).toEqual([{ n: 30_000 }]);
    expect(await rows(engine, 'SELECT grp, COUNT(*) AS n FROM app.big GROUP BY grp ORDER BY grp')).toHaveLength(7);
    expect(await rows(engine, "SELECT COUNT(*) AS n FROM app.big WHERE label <> 'x'")).toEqual([{ n: 30_000 }]);
    // More than the bound was read (evictions), never more than the bound held.
    expect(stat(engine, 'segment_cache_evictions')).toBeGreaterThan(0);
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(bound);
    expect(stat(engine, 'segment_cache_pinned_bytes')).toBe(0);
    // A transaction's statements are still prepared in full: every group it reads is held while it runs.
    peak = 0;
    cache.forget(new Set(engine.cold.manifest.all().map((m) => m.id)));
    const [, counted] = await engine.execute(root, 'BEGIN; SELECT COUNT(*) AS n FROM app.big; COMMIT');
    expect(counted.rows).toEqual([{ n: 30_000 }]);
    expect(peak).toBeGreaterThan(bound);
  });
});
