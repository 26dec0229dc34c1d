/**
 * Crash safety of a compaction: a crash after each of its steps (stopAfter,
 * then the engine closed without finishing, as jobs/flush.test.ts does),
 * and a storage failure mid-way, leave after a reopen the same answers, no
 * leftover bytes and no entries other than committed ones — with the
 * segment bytes in the KV store (IndexedDB) and in a file store outside it.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import type { Value } from '../core/types';
import type { ExecContext } from '../exec/context';
import { Engine, type OpenOptions, type SessionState } from '../execute/engine';
import type { GroupLocation, SegmentKey, SegmentRef, SegmentStore } from '../storage/cold/types';
import { openMemoryStore } from '../storage/memory';
import type { KvStore } from '../storage/kv';
import { FileSegmentStore, segmentFileName } from '../storage/cold/file-segment-store';
import { FakeDirectory } from '../storage/opfs.fixture';
import { LogStore } from '../storage/opfs-log';
import { compactPartition } from './compact';
import { coldStorage, compact, durable, expectClean, flush, insert, range, root, rows, SMALL, stat } from './compact.fixture';
import { SLICE_BYTES } from './segment-encode';

let open: Engine[] = [];
afterEach(async () => {
  for (const e of open) await e.close();
  open = [];
});

async function openWith(options: OpenOptions): Promise<Engine> {
  const engine = await Engine.open(options);
  open.push(engine);
  return engine;
}

async function closeIt(engine: Engine): Promise<void> {
  await engine.close();
  open = open.filter((e) => e !== engine);
}

/** Three overlapping flushes with updates and deletes (one tombstone past retention). */
async function build(engine: Engine): Promise<void> {
  await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT) WITH (DELETED_RETENTION_HOURS = 0)');
  await insert(engine, range(0, 30, 2));
  await flush(engine);
  await insert(engine, range(1, 31, 2), 1);
  await engine.execute(root, 'UPDATE app.t SET a = 5 WHERE id BETWEEN 4 AND 12');
  await engine.execute(root, 'DELETE FROM app.t WHERE id IN (7, 20)');
  await flush(engine);
  await engine.execute(root, "UPDATE app.t SET b = 'late' WHERE id > 25");
  await flush(engine);
  await new Promise((r) => setTimeout(r, 3));
}

/** The answers every check compares: a scan, point lookups, ranges both ways, a filter, COUNT(*), tombstones. */
async function answers(engine: Engine): Promise<unknown[]> {
  return [
    await rows(engine, 'SELECT id, a, b FROM app.t'),
    await rows(engine, 'SELECT id, a, b FROM app.t WHERE id = 9'),
    await rows(engine, 'SELECT id, a, b FROM app.t WHERE id = 7'),
    await rows(engine, 'SELECT id FROM app.t WHERE id BETWEEN 10 AND 22'),
    await rows(engine, 'SELECT id FROM app.t WHERE id > 3 ORDER BY id DESC LIMIT 4'),
    await rows(engine, "SELECT id FROM app.t WHERE b = 'late'"),
    await rows(engine, 'SELECT COUNT(*) AS c FROM app.t'),
  ];
}

const t = (engine: Engine) => engine.catalog.requireTable('app', 't');
const ids = (engine: Engine) => engine.cold.manifest.all().map((m) => m.id).sort();

describe('a crash during a compaction (IndexedDB)', () => {
  const options = (): OpenOptions => ({ storage: 'idb', name: 'compact-crash', indexedDB: new IDBFactory(), ...SMALL, compactL0Segments: 0 });

  it('after its outputs were written: reopened, they are gone and the inputs read as before', async () => {
    const o = options();
    const first = await openWith(o);
    await build(first);
    const before = await answers(first);
    const inputs = ids(first);
    await compactPartition(first, t(first), '', { stopAfter: 1 });
    expect((await coldStorage(first.kv)).entries.filter((m) => m.status === 'in_progress').length).toBeGreaterThan(0);
    await closeIt(first);

    const second = await openWith(o);
    expect(ids(second)).toEqual(inputs);
    expect(await answers(second)).toEqual(before);
    await expectClean(second);
    // And a compaction now completes.
    await compactPartition(second, t(second), '');
    expect(await answers(second)).toEqual(before);
    await expectClean(second);
  });

  it('after the swap: reopened, the inputs\' bytes and obsolete entries are deleted and the outputs answer', async () => {
    const o = options();
    const first = await openWith(o);
    await build(first);
    const before = await answers(first);
    await compactPartition(first, t(first), '', { stopAfter: 2 });
    const outputs = ids(first);
    expect(first.cold.manifest.obsolete.length).toBeGreaterThan(0);
    expect(await answers(first)).toEqual(before);
    await closeIt(first);

    const second = await openWith(o);
    expect(ids(second)).toEqual(outputs);
    expect(second.cold.manifest.all().every((m) => m.level === 1)).toBe(true);
    expect(await answers(second)).toEqual(before);
    await expectClean(second);
  });

  it('completed: reopened, the same answers and nothing left over', async () => {
    const o = options();
    const first = await openWith(o);
    await build(first);
    const before = await answers(first);
    const inputs = ids(first).length;
    const outcome = await compactPartition(first, t(first), '');
    expect(outcome).toMatchObject({ aborted: false, segmentsMerged: inputs, tombstonesPurged: 2 });
    await expectClean(first);
    await closeIt(first);
    const second = await openWith(o);
    expect(await answers(second)).toEqual(before);
    await expectClean(second);
  });
});

describe('close() during a compaction', () => {
  it('stops it before its swap, removes what it wrote, and the reopened database answers the same', async () => {
    const kv: KvStore = durable(openMemoryStore());
    const o: OpenOptions = { storage: kv, ...SMALL, rowGroupRows: 32, maxSegmentRows: 512, compactL0Segments: 0 };
    const first = await openWith(o);
    await first.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT)');
    for (let round = 0; round < 4; round++) {
      await first.execute(root, `INSERT INTO app.t (id, a, b) VALUES ${range(round, 8000, 4).map((k) => `(${k}, ${round}, 'text ${k}')`).join(', ')}`);
      await flush(first);
    }
    const count = await rows(first, 'SELECT COUNT(*) AS c, SUM(a) AS s FROM app.t');
    const jobId = (await first.execute(root, 'STORAGE COMPACT TABLE app.t'))[0].message.split('Job ID: ')[1];
    const { until } = await import('./compact.fixture');
    await until(async () => (await coldStorage(kv)).entries.some((m) => m.status === 'in_progress'), 'an output written');
    const record = first.jobs.history.find(jobId)!;
    await closeIt(first);
    expect(record.status).toBe('cancelled');
    expect(record.message).toMatch(/^Cancelled: the database closed during the compaction/);
    const second = await openWith(o);
    expect(await rows(second, 'SELECT COUNT(*) AS c, SUM(a) AS s FROM app.t')).toEqual(count);
    expect(second.cold.manifest.all().every((m) => m.level !== 1)).toBe(true);
    await expectClean(second);
  });
});

describe('executions in flight during a compaction', () => {
  it('the inputs\' bytes are deleted only once executions prepared before the swap are done', async () => {
    const engine = await openWith({ storage: 'memory', ...SMALL, compactL0Segments: 0, segmentCacheBytes: 0 });
    await build(engine);
    const before = await answers(engine);
    const inputs = ids(engine).length;
    const planned = engine.plan(root, 'SELECT id, a, b FROM app.t', []);
    if ('stmt' in planned) throw new Error('expected a plan');
    const prepared = await engine.prepareCold(planned.plan, root.user, planned.params);
    const compacting = compactPartition(engine, t(engine), '');
    // Swapped (outputs committed, inputs obsolete), waiting for the prepared read.
    for (let waited = 0; engine.cold.manifest.obsolete.length === 0 && waited < 5000; waited += 2) await new Promise((r) => setTimeout(r, 2));
    expect(stat(engine, 'segments_obsolete')).toBe(inputs);
    expect((await coldStorage(engine.kv)).withBytes.length).toBe(inputs + engine.cold.manifest.all().length);
    expect(await answers(engine)).toEqual(before);
    const context = (engine as unknown as { context(s: SessionState, p: readonly Value[]): ExecContext }).context(root, planned.params);
    const seen = planned.plan.kind === 'select' ? planned.plan.run({ ...context, cold: prepared.reads }) : [];
    expect(seen).toEqual((before[0] as Record<string, Value>[]).map((r) => [r.id, r.a, r.b]));
    prepared.release();
    await compacting;
    expect(stat(engine, 'segments_obsolete')).toBe(0);
    await expectClean(engine);
  });
});

/** Segment files outside the KV store (as OPFS keeps them): put before the commit, deleted after it; listed at open. */
function fileStore(failPut?: () => boolean): SegmentStore & { files: Map<string, Uint8Array[]> } {
  const files = new Map<string, Uint8Array[]>();
  const name = (k: SegmentKey) => `${k.tableId}/${k.user}/${k.segmentId}`;
  return {
    files,
    async readGroups(key: SegmentKey, groups: readonly GroupLocation[]) {
      const f = files.get(name(key));
      return groups.map((g) => f?.[g.index]);
    },
    async get() {
      return undefined;
    },
    async put(key, groups) {
      if (failPut?.()) throw new Error('disk full');
      files.set(name(key), [...groups]);
    },
    async delete(refs: readonly SegmentRef[]) {
      for (const r of refs) files.delete(name(r));
    },
    async list() {
      return [...files.keys()].map((k) => {
        const [tableId, user, segmentId] = k.split('/');
        return { tableId: Number(tableId), user, segmentId };
      });
    },
  };
}

describe('a crash during a compaction (segment files outside the KV store)', () => {
  const filesOf = (store: ReturnType<typeof fileStore>) => [...store.files.keys()].map((k) => k.split('/')[2]).sort();

  async function expectFilesClean(engine: Engine, store: ReturnType<typeof fileStore>): Promise<void> {
    expect(filesOf(store)).toEqual(ids(engine));
    expect((await coldStorage(engine.kv)).entries.map((m) => m.status).filter((s) => s !== 'committed')).toEqual([]);
  }

  for (const stopAfter of [1, 2] as const) {
    it(`after step ${stopAfter}: reopened, the same answers, and files only of committed segments`, async () => {
      const kv: KvStore = durable(openMemoryStore());
      const store = fileStore();
      const o: OpenOptions = { storage: kv, segmentStore: store, ...SMALL, compactL0Segments: 0 };
      const first = await openWith(o);
      await build(first);
      const before = await answers(first);
      await compactPartition(first, t(first), '', { stopAfter });
      await closeIt(first);
      const second = await openWith(o);
      expect(await answers(second)).toEqual(before);
      await expectFilesClean(second, store);
    });
  }

  it('a storage failure mid-way fails the job; what it wrote is removed now or at the next open', async () => {
    const kv: KvStore = durable(openMemoryStore());
    let puts = 0;
    let failAt = -1;
    const store = fileStore(() => ++puts === failAt);
    const o: OpenOptions = { storage: kv, segmentStore: store, ...SMALL, compactL0Segments: 0, maxSegmentRows: 8 };
    const first = await openWith(o);
    await build(first);
    const before = await answers(first);
    const inputs = ids(first);
    failAt = puts + 2; // the second output segment
    const message = (await first.execute(root, 'STORAGE COMPACT TABLE app.t'))[0].message;
    await first.jobs.idle();
    const [job] = await rows(first, `SELECT status, message FROM system.jobs WHERE job_id = '${message.split('Job ID: ')[1]}'`);
    expect(job.status).toBe('failed');
    expect(job.message).toMatch(/disk full/);
    expect(ids(first)).toEqual(inputs);
    expect(await answers(first)).toEqual(before);
    await expectFilesClean(first, store);
    await closeIt(first);
    const second = await openWith(o);
    expect(await answers(second)).toEqual(before);
    await expectFilesClean(second, store);
  });
});

describe('a compaction output of several MB inside the KV store', () => {
  it('is written a slice (SLICE_BYTES, or one larger row group) a commit after its in_progress entry; a failure between slices leaves nothing after a reopen', async () => {
    const inner = durable(openMemoryStore());
    let fail: ((writes: readonly { store: string }[]) => boolean) | undefined;
    const slices: number[] = [];
    const kv: KvStore = {
      ...inner,
      commit: async (writes) => {
        if (fail?.(writes)) throw new Error('disk full');
        const bytes = writes.filter((w) => w.store === 'segments' && w.value instanceof Uint8Array).reduce((n, w) => n + (w.value as Uint8Array).length, 0);
        if (bytes > 0) slices.push(bytes);
        return inner.commit(writes);
      },
    };
    const o: OpenOptions = { storage: kv, rowGroupRows: 256, compactL0Segments: 0, flushCheckIntervalMs: 0, retentionIntervalMs: 0, streamEvictionIntervalMs: 0 };
    const first = await openWith(o);
    await first.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT)');
    await first.execute(root, 'INSERT INTO app.t (id, a, b) SELECT g, 0, repeat(chr(97 + g % 26), 1000) FROM generate_series(0, 2999) AS g');
    await flush(first);
    await first.execute(root, 'UPDATE app.t SET a = 1 WHERE id >= 0'); // new versions of every key: the compaction merges both segments into one output of ~6 MB
    await flush(first);
    const before = await answers(first);
    // The first output's entry commits, then its slices: the second slice fails.
    let sliceCommits = 0;
    fail = (writes) => writes.length > 0 && writes.every((w) => w.store === 'segments') && ++sliceCommits === 2;
    const message = (await first.execute(root, 'STORAGE COMPACT TABLE app.t'))[0].message;
    await first.jobs.idle();
    const [job] = await rows(first, `SELECT status, message FROM system.jobs WHERE job_id = '${message.split('Job ID: ')[1]}'`);
    expect(job).toEqual({ status: 'failed', message: expect.stringMatching(/disk full/) });
    expect(await answers(first)).toEqual(before);
    await closeIt(first);
    const second = await openWith(o);
    expect(await answers(second)).toEqual(before);
    await expectClean(second);
    fail = undefined;
    slices.length = 0;
    await compact(second);
    expect(stat(second, 'segments')).toBe(1);
    expect(await answers(second)).toEqual(before);
    await expectClean(second);
    // Several slices, each at most SLICE_BYTES and one more row group or page (~260 KB).
    expect(slices.length).toBeGreaterThan(20);
    expect(Math.max(...slices)).toBeLessThanOrEqual(SLICE_BYTES + 300 * 1024);
  });
});

describe('a compaction over OPFS files (the file segment store and the log, over fake directories)', () => {
  const names = (engine: Engine) => engine.cold.manifest.all().map((m) => segmentFileName({ tableId: m.table_id, user: m.user_id, segmentId: m.id })).sort();

  for (const stopAfter of [1, 2, undefined] as const) {
    it(stopAfter ? `a crash after step ${stopAfter} leaves only the committed segments' files after a reopen` : 'a completed compaction deletes the inputs\' files', async () => {
      const log = new FakeDirectory();
      const segments = new FakeDirectory();
      const openOn = async () => openWith({ storage: await LogStore.open(log), segmentStore: new FileSegmentStore(segments), ...SMALL, compactL0Segments: 0 });
      const first = await openOn();
      await build(first);
      const before = await answers(first);
      expect([...segments.files.keys()].sort()).toEqual(names(first));
      await compactPartition(first, t(first), '', { stopAfter });
      if (!stopAfter) expect([...segments.files.keys()].sort()).toEqual(names(first));
      await closeIt(first);
      const second = await openOn();
      expect(await answers(second)).toEqual(before);
      expect([...segments.files.keys()].sort()).toEqual(names(second));
      expect((await coldStorage(second.kv)).entries.map((m) => m.status).filter((x) => x !== 'committed')).toEqual([]);
    });
  }
});
