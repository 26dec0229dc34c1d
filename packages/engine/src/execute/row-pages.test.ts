import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import type { RowChange } from '../core/schema';
import { hashKey } from '../core/values';
import { FileSegmentStore } from '../storage/cold/file-segment-store';
import { LogStore } from '../storage/opfs-log';
import { FakeDirectory } from '../storage/opfs.fixture';
import { Engine, type OpenOptions, type SessionState } from './engine';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };

let open: Engine[] = [];
afterEach(async () => {
  for (const e of open) await e.close();
  open = [];
});

async function engineWith(options: Partial<OpenOptions> = {}, create = true): Promise<Engine> {
  const engine = await Engine.open({ storage: 'memory', flushCheckIntervalMs: 0, compactL0Segments: 0, ...options } as OpenOptions);
  open.push(engine);
  if (create) await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, grp INT, label TEXT)');
  return engine;
}

const stat = (engine: Engine, name: string) => engine.metrics().find(([k]) => k === name)?.[1] as number;
const rows = async (engine: Engine, sql: string) => (await engine.execute(root, sql))[0].rows;

async function bulkInsert(engine: Engine, ids: readonly number[], label = (id: number) => `label ${id}`): Promise<void> {
  const t = engine.catalog.requireTable('app', 't');
  for (let start = 0; start < ids.length; start += 10_000) {
    const changes: RowChange[] = ids.slice(start, start + 10_000).map((id) => ({
      table: t, user: '', pkHash: hashKey(id), pk: id, row: Object.freeze([id, id % 100, label(id), engine.seq.next(), false]),
    }));
    await engine.exclusive(() => engine.commit({ rows: changes }));
  }
}

async function flush(engine: Engine): Promise<void> {
  await engine.execute(root, 'FLUSH TABLE app.t');
  await engine.jobs.idle();
}

function clearCache(engine: Engine): void {
  engine.cold.cache.forget(new Set(engine.cold.manifest.all().map((m) => m.id)));
}

/** What `fn` fetched from storage: row groups, row pages, page directories. */
async function loads(engine: Engine, fn: () => Promise<unknown>): Promise<{ groups: number; pages: number; directories: number }> {
  const g0 = stat(engine, 'row_group_loads');
  const p0 = stat(engine, 'row_page_loads');
  const d0 = stat(engine, 'row_page_directory_loads');
  await fn();
  return { groups: stat(engine, 'row_group_loads') - g0, pages: stat(engine, 'row_page_loads') - p0, directories: stat(engine, 'row_page_directory_loads') - d0 };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('row pages: point reads of uncached cold rows fetch a page, not the row group', () => {
  it('a point lookup fetches the directory once per segment and one page per key; a wide range still reads whole groups', async () => {
    const engine = await engineWith();
    await bulkInsert(engine, range(0, 20_000));
    await flush(engine);
    expect(engine.cold.options.rowPageRows).toBe(64);
    clearCache(engine);

    let c = await loads(engine, async () => expect(await rows(engine, 'SELECT id, grp, label FROM app.t WHERE id = 12345')).toEqual([{ id: 12345, grp: 45, label: 'label 12345' }]));
    expect(c).toEqual({ groups: 0, pages: 1, directories: 1 });
    // Another group of the same segment: its directory is cached.
    c = await loads(engine, async () => expect(await rows(engine, 'SELECT label FROM app.t WHERE id = 3')).toEqual([{ label: 'label 3' }]));
    expect(c).toEqual({ groups: 0, pages: 1, directories: 0 });
    // The same page again: cached.
    c = await loads(engine, async () => expect(await rows(engine, 'SELECT label FROM app.t WHERE id = 4')).toEqual([{ label: 'label 4' }]));
    expect(c).toEqual({ groups: 0, pages: 0, directories: 0 });
    // A key with no row: at most its page, and nothing is returned.
    expect(await rows(engine, 'SELECT id FROM app.t WHERE id = 99999')).toEqual([]);

    // IN across groups: one page per key; a 20-row range: one or two pages.
    c = await loads(engine, async () => expect((await rows(engine, 'SELECT id FROM app.t WHERE id IN (100, 5000, 9000, 19999) ORDER BY id')).map((r) => r.id)).toEqual([100, 5000, 9000, 19999]));
    expect(c.groups).toBe(0);
    expect(c.pages).toBe(4);
    c = await loads(engine, async () => expect((await rows(engine, 'SELECT id FROM app.t WHERE id BETWEEN 7000 AND 7019')).map((r) => r.id)).toEqual(range(7000, 7020)));
    expect(c.groups).toBe(0);
    expect(c.pages).toBeGreaterThanOrEqual(1);
    expect(c.pages).toBeLessThanOrEqual(2);
    // A range over most of a group reads the group.
    c = await loads(engine, async () => expect(await rows(engine, 'SELECT COUNT(*) AS n FROM app.t WHERE id BETWEEN 10240 AND 12000')).toEqual([{ n: 1761 }]));
    expect(c.groups).toBe(1);
    expect(c.pages).toBe(0);
    // A group already cached is read from the cache, not from pages.
    c = await loads(engine, async () => expect(await rows(engine, 'SELECT label FROM app.t WHERE id = 11000')).toEqual([{ label: 'label 11000' }]));
    expect(c).toEqual({ groups: 0, pages: 0, directories: 0 });
    expect(stat(engine, 'row_pages_read')).toBeGreaterThan(0);
  });

  it('reads a group whole once its pages read one by one would be more than a quarter of it, then answers from it', async () => {
    const engine = await engineWith();
    await bulkInsert(engine, range(0, 4096));
    await flush(engine);
    clearCache(engine);
    // The first group's 32 pages: eight read one at a time, each a page.
    for (let k = 0; k < 8; k++) {
      const c = await loads(engine, async () => expect(await rows(engine, `SELECT label FROM app.t WHERE id = ${k * 64}`)).toEqual([{ label: `label ${k * 64}` }]));
      expect(c.pages).toBe(1);
      expect(c.groups).toBe(0);
    }
    // A ninth page would make nine of 32: the group is read instead, and later reads of it load nothing.
    let c = await loads(engine, async () => expect(await rows(engine, 'SELECT label FROM app.t WHERE id = 640')).toEqual([{ label: 'label 640' }]));
    expect(c).toEqual({ groups: 1, pages: 0, directories: 0 });
    c = await loads(engine, async () => expect(await rows(engine, 'SELECT label FROM app.t WHERE id = 2000')).toEqual([{ label: 'label 2000' }]));
    expect(c).toEqual({ groups: 0, pages: 0, directories: 0 });
    // The other group is still read by pages.
    c = await loads(engine, async () => expect(await rows(engine, 'SELECT label FROM app.t WHERE id = 3000')).toEqual([{ label: 'label 3000' }]));
    expect(c).toEqual({ groups: 0, pages: 1, directories: 0 });
  });

  it('keeps reading pages, not the whole group, once the cache has no room for the group (a table larger than the cache read at random)', async () => {
    // ~52 KB stored a group: no room for one decoded beside the pages in a 100,000-byte cache.
    const engine = await engineWith({ segmentCacheBytes: 100_000 });
    await bulkInsert(engine, range(0, 4096));
    await flush(engine);
    clearCache(engine);
    for (let k = 0; k < 16; k++) {
      const c = await loads(engine, async () => expect(await rows(engine, `SELECT label FROM app.t WHERE id = ${k * 64 + 1}`)).toEqual([{ label: `label ${k * 64 + 1}` }]));
      expect([c.groups, c.pages]).toEqual([0, 1]);
    }
    expect(stat(engine, 'segment_cache_bytes')).toBeLessThanOrEqual(100_000);
    // A read needing more than a quarter of the group's pages still reads it whole.
    const c = await loads(engine, async () => expect(await rows(engine, 'SELECT COUNT(*) AS n FROM app.t WHERE id BETWEEN 2048 AND 3500')).toEqual([{ n: 1453 }]));
    expect(c.groups).toBe(1);
  });

  it('reads the newest version of a key across segments, hot rows and deletes, and writes through pages', async () => {
    const engine = await engineWith();
    await bulkInsert(engine, range(0, 10_000));
    await flush(engine);
    // A newer segment with updates and deletes of some keys.
    await engine.execute(root, "UPDATE app.t SET label = 'new' WHERE id IN (10, 5000, 9999)");
    await engine.execute(root, 'DELETE FROM app.t WHERE id IN (11, 5001)');
    await flush(engine);
    await engine.execute(root, "UPDATE app.t SET label = 'hot' WHERE id = 12");
    clearCache(engine);
    expect(await rows(engine, 'SELECT id, label FROM app.t WHERE id IN (9, 10, 11, 12, 5000, 5001, 9999) ORDER BY id')).toEqual([
      { id: 9, label: 'label 9' }, { id: 10, label: 'new' }, { id: 12, label: 'hot' }, { id: 5000, label: 'new' }, { id: 9999, label: 'new' },
    ]);
    clearCache(engine);
    // A write by key reads the old row from a page.
    const c = await loads(engine, () => engine.execute(root, "UPDATE app.t SET label = label || '!' WHERE id = 4000"));
    // The first segment's group: a page; the second segment's one group of five rows is one page long, so read whole.
    expect(c).toEqual({ groups: 1, pages: 1, directories: 1 });
    clearCache(engine);
    expect(await rows(engine, 'SELECT label FROM app.t WHERE id = 4000')).toEqual([{ label: 'label 4000!' }]);
    // After a compaction the pages of the merged segment answer the same.
    await engine.execute(root, 'STORAGE COMPACT TABLE app.t');
    await engine.jobs.idle();
    clearCache(engine);
    const before = stat(engine, 'row_page_loads');
    expect(await rows(engine, 'SELECT id, label FROM app.t WHERE id IN (10, 11, 4000) ORDER BY id')).toEqual([{ id: 10, label: 'new' }, { id: 4000, label: 'label 4000!' }]);
    expect(stat(engine, 'row_page_loads')).toBeGreaterThan(before);
  });

  it('rowPageRows 0 writes no pages: point reads load the row group, as do segments written before pages existed', async () => {
    const kv = new FakeDirectory();
    const segments = new FakeDirectory();
    const openOn = async (rowPageRows: number, create: boolean) =>
      engineWith({ storage: await LogStore.open(kv), segmentStore: new FileSegmentStore(segments), rowPageRows }, create);
    let engine = await openOn(0, true);
    await bulkInsert(engine, range(0, 5000));
    await flush(engine);
    clearCache(engine);
    let c = await loads(engine, async () => expect(await rows(engine, 'SELECT label FROM app.t WHERE id = 777')).toEqual([{ label: 'label 777' }]));
    expect(c).toEqual({ groups: 1, pages: 0, directories: 0 });
    await engine.close();
    open = [];
    // Reopened with pages: the old segment still reads whole groups, a new one has pages (in its OPFS file, at their offsets).
    engine = await openOn(64, false);
    await bulkInsert(engine, range(5000, 10_000));
    await flush(engine);
    clearCache(engine);
    c = await loads(engine, async () => expect((await rows(engine, 'SELECT id, label FROM app.t WHERE id IN (777, 7777) ORDER BY id'))).toEqual([{ id: 777, label: 'label 777' }, { id: 7777, label: 'label 7777' }]));
    expect(c).toEqual({ groups: 1, pages: 1, directories: 1 });
  });

  it('cuts the pages of wide rows to about 8 KB: an EMBEDDING(384) table gets 5-row pages', async () => {
    const engine = await engineWith({}, false);
    await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.v (id INT PRIMARY KEY, e EMBEDDING(384))');
    const t = engine.catalog.requireTable('app', 'v');
    const changes: RowChange[] = range(0, 4096).map((id) => ({
      table: t, user: '', pkHash: hashKey(id), pk: id, row: Object.freeze([id, new Float32Array(384).fill(id), engine.seq.next(), false]),
    }));
    await engine.exclusive(() => engine.commit({ rows: changes }));
    await engine.execute(root, 'FLUSH TABLE app.v');
    await engine.jobs.idle();
    const meta = engine.cold.manifest.all()[0];
    expect(meta.row_pages!.rows).toBe(Math.floor(8192 / (9 + 4 + 4 * 384)));
    expect(meta.row_pages!.count).toBe(2 * Math.ceil(2048 / meta.row_pages!.rows));
    clearCache(engine);
    const c = await loads(engine, async () => {
      const [row] = await rows(engine, 'SELECT e FROM app.v WHERE id = 3001');
      expect(Array.from(row.e as Float32Array).every((x) => x === 3001)).toBe(true);
    });
    expect(c).toEqual({ groups: 0, pages: 1, directories: 1 });
  });

  it('dropping a table removes its pages and directories from the segments store', async () => {
    const engine = await engineWith();
    await bulkInsert(engine, range(0, 3000));
    await flush(engine);
    const count = async () => {
      let n = 0;
      await engine.kv.scan('segments', { lower: new Uint8Array([0]), upper: new Uint8Array([255, 255, 255, 255]) }, () => n++);
      return n;
    };
    // 2 groups, 47 pages, 1 directory.
    expect(await count()).toBe(2 + Math.ceil(2048 / 64) + Math.ceil(952 / 64) + 1);
    await engine.execute(root, 'DROP TABLE app.t');
    await engine.jobs.idle();
    expect(await count()).toBe(0);
  });

  it('any mix of writes, flushes and compactions: point, IN and range reads of cold keys equal a model', async () => {
    type Op = { kind: 'put'; ids: number[]; tag: number } | { kind: 'del'; ids: number[] } | { kind: 'flush' } | { kind: 'compact' };
    const id = fc.integer({ min: 0, max: 3000 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('put' as const), ids: fc.array(id, { minLength: 1, maxLength: 400 }), tag: fc.nat(9) }),
      fc.record({ kind: fc.constant('del' as const), ids: fc.array(id, { minLength: 1, maxLength: 50 }) }),
      fc.constant({ kind: 'flush' as const }),
      fc.constant({ kind: 'compact' as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), fc.array(fc.array(id, { minLength: 1, maxLength: 6 }), { minLength: 3, maxLength: 3 }), async (ops, probes) => {
        const engine = await engineWith({ rowGroupRows: 256, rowPageRows: 16 });
        const model = new Map<number, string>();
        for (const o of ops) {
          if (o.kind === 'put') {
            const ids = [...new Set(o.ids)];
            await bulkInsert(engine, ids, (k) => `v${o.tag}-${k}`);
            for (const k of ids) model.set(k, `v${o.tag}-${k}`);
          } else if (o.kind === 'del') {
            await engine.execute(root, `DELETE FROM app.t WHERE id IN (${o.ids.join(',')})`);
            for (const k of o.ids) model.delete(k);
          } else if (o.kind === 'flush') await flush(engine);
          else {
            await engine.execute(root, 'STORAGE COMPACT TABLE app.t');
            await engine.jobs.idle();
          }
        }
        await flush(engine);
        for (const keys of probes) {
          clearCache(engine);
          const want = [...new Set(keys)].filter((k) => model.has(k)).sort((a, b) => a - b).map((k) => ({ id: k, label: model.get(k) }));
          expect(await rows(engine, `SELECT id, label FROM app.t WHERE id IN (${keys.join(',')}) ORDER BY id`)).toEqual(want);
          clearCache(engine);
          const lo = Math.min(...keys);
          const inRange = [...model.keys()].filter((k) => k >= lo && k <= lo + 20).sort((a, b) => a - b).map((k) => ({ id: k, label: model.get(k) }));
          expect(await rows(engine, `SELECT id, label FROM app.t WHERE id BETWEEN ${lo} AND ${lo + 20} ORDER BY id`)).toEqual(inRange);
        }
        await engine.close();
        open = open.filter((e) => e !== engine);
      }),
      { numRuns: 25, seed: 4242 },
    );
  });
});
