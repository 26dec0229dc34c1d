/**
 * The work of a flush job (flush.ts describes the three steps), loaded on
 * first use: writing a partition's snapshot as segments, purging the
 * flushed hot rows, and recovering flushes a crash interrupted.
 */
import { KalamError } from '../core/errors';
import { deletedSlot, seqSlot, type StoredRow, type TableDef } from '../core/schema';
import type { Value } from '../core/types';
import { hashKey } from '../core/values';
import { TimeSlice, yieldToEventLoop } from '../core/yield';
import { RowGroupCache } from '../storage/cold/cache';
import { loadSegmentCodec, type SegmentCodec } from '../storage/cold/segment-loader';
import { groupLocation, pagesOf, segmentKeyOf, segmentRefOf, type RowGroupData, type SegmentMeta } from '../storage/cold/types';
import { storeOf, type HotChange } from '../storage/hot-tier';
import type { StateChange } from '../storage/unit-of-work';
import { requestAutoCompaction } from './compact';
import type { JobRecord } from './job';
import { entryChange, loadSegmentEncode, removeEntry, type SegmentJobContext } from './segment-write';

/** What flushing needs: the tiers, `_seq` for segment ids, the job queue, the write lock and the one commit path. */
export type FlushContext = SegmentJobContext;

/**
 * Which partitions of the table a flush job writes. Called before each pass
 * of the job: the job repeats while it returns partitions and the previous
 * pass flushed rows (so rows that arrive during a flush that keeps a bound
 * are flushed by the same job). Without it, one pass over every partition
 * with hot rows.
 */
export type PartitionChoice = (t: TableDef) => readonly string[];

const q = (t: TableDef) => `${t.namespace}.${t.name}`;

/** Hot rows removed per commit in step 3 (each commit holds the write lock briefly). */
export const PURGE_ROWS = 1024;

/** The work of one flush job: the chosen partitions (default: every partition with hot rows), into one or more segments each. */
export async function flushTableJob(engine: FlushContext, tableId: number, record: JobRecord, isCancelled: () => boolean, choose?: PartitionChoice): Promise<void> {
  const t = engine.catalog.tableById(tableId);
  if (!t) {
    record.status = 'skipped';
    record.message = 'Skipped: the table was dropped before the flush started';
    record.finished_at = Date.now();
    return;
  }
  let segments = 0;
  for (let pass = choose ? choose(t) : [...engine.hot.table(t.id).partitions.keys()]; pass.length > 0 && !isCancelled();) {
    const before = record.rows_affected;
    for (const user of pass) {
      if (isCancelled()) break;
      const done = await flushPartition(engine, t, user, { isCancelled });
      segments += done.segments;
      record.rows_affected += done.rows;
      if (done.aborted) return finish(engine, record, t, segments, isCancelled);
    }
    if (!choose || record.rows_affected === before) break;
    pass = choose(t);
  }
  finish(engine, record, t, segments, isCancelled);
}

function finish(engine: FlushContext, record: JobRecord, t: TableDef, segments: number, isCancelled: () => boolean): void {
  const what = `${record.rows_affected} row(s) of ${q(t)} into ${segments} segment(s)`;
  record.message = isCancelled() ? `Cancelled by KILL JOB after flushing ${what}` : `Flushed ${what}`;
  // A partition with compactL0Segments level 0 segments now is compacted next (queued behind this job).
  if (segments > 0) requestAutoCompaction(engine, t);
}

export interface FlushPartitionOptions {
  isCancelled?: () => boolean;
  /** Tests: stop after step 1 or 2 of the first segment, as a crash there would. */
  stopAfter?: 1 | 2;
}

/** What a partition flush did: rows written into committed segments, and whether it stopped early (cancelled, or the table changed). */
export interface FlushOutcome {
  rows: number;
  segments: number;
  aborted: boolean;
}

/** Flushes one partition into as many segments as its snapshot needs. */
export async function flushPartition(engine: FlushContext, t: TableDef, user: string, options: FlushPartitionOptions = {}): Promise<FlushOutcome> {
  const { hot } = engine;
  const outcome: FlushOutcome = { rows: 0, segments: 0, aborted: false };
  if (!hot.partition(t.id, user)?.size) return outcome;
  const codec = await loadSegmentCodec();
  // Looked up again: the load yields, and the partition may have changed meanwhile.
  const partition = hot.partition(t.id, user);
  if (!partition || partition.size === 0) return outcome;
  // The snapshot: the newest version per key, tombstones included (they shadow older cold versions), in key order.
  const rows = partition.snapshot();
  const per = engine.cold.options.maxSegmentRows;
  for (let start = 0; start < rows.length; start += per) {
    const n = await flushSegment(engine, codec, t, user, rows, start, Math.min(rows.length, start + per), options);
    if (n === 'aborted') {
      outcome.aborted = true;
      break;
    }
    outcome.rows += n;
    outcome.segments++;
    if (options.stopAfter) break;
  }
  return outcome;
}

/** Writes rows[start, end) of a snapshot as one segment (steps 1–3); resolves with the rows written, or 'aborted'. */
async function flushSegment(
  engine: FlushContext,
  codec: SegmentCodec,
  t: TableDef,
  user: string,
  rows: readonly StoredRow[],
  start: number,
  end: number,
  options: FlushPartitionOptions,
): Promise<number | 'aborted'> {
  const { cold } = engine;
  const per = cold.options.rowGroupRows;
  const pageRows = codec.pageRowsFor(t, cold.options.rowPageRows);
  const groupRows: number[] = [];
  for (let a = start; a < end; a += per) groupRows.push(Math.min(per, end - a));
  const pages = t.pk >= 0 ? groupRows.reduce((n, r) => n + pagesOf(r, pageRows), 0) : 0;
  const { encodeGroups, pendingSegment, putSegmentBytes, segmentBytes, segmentMeta } = await loadSegmentEncode();
  const pending = pendingSegment(`S${engine.seq.next()}`, t, user, {
    level: 0,
    hot_purged: false,
    row_count: end - start,
    // The group count is known from the start: recovery removes every group of an unfinished segment.
    groups: { rows: groupRows, offsets: [], bytes: [], min_seq: [], max_seq: [], key_min: [], key_max: [], columns: {} },
    // At most a page per group per index.
    index_pages: groupRows.length * (t.indexes?.length ?? 0),
    // Reserved with their directory: where they start is known once the index pages are written.
    row_pages: pages > 0 ? { rows: pageRows, count: pages, at: 0, dir_offset: 0, dir_bytes: 0 } : undefined,
  });

  // 1. entry in_progress, then the bytes (a crash in between leaves an entry recovery removes, never stray bytes)
  await engine.commit({ state: [entryChange(cold, pending)] });
  const abandon = async () => {
    await removeEntry(engine, pending);
    return 'aborted' as const;
  };
  const slice = new TimeSlice(8, true);
  const encoded = await encodeGroups(codec, t, rows, start, end, per, pageRows, slice, options.isCancelled);
  if (!encoded) return abandon();
  const meta = segmentMeta(pending, t, encoded, codec, pageRows);
  await putSegmentBytes(engine, meta, segmentBytes(codec, t, meta, encoded), () => slice.pause());
  if (options.stopAfter === 1) return end - start;
  if (options.isCancelled?.()) return abandon();
  // The new row groups go into the cache once committed (a read right after a flush finds them; the
  // LRU keeps the newest within its bound): decoded now, a group at a time.
  const decoded: RowGroupData[] = [];
  for (const e of encoded) {
    decoded.push(codec.decodeRowGroup(e.bytes, t.pk >= 0 ? t.columns[t.pk] : undefined));
    await slice.pause();
  }
  encoded.length = 0;
  const gen = await engine.exclusive(async () => {
    // ALTER and DROP take the write lock too: a table changed since the snapshot is not flushed.
    if (engine.catalog.tableById(t.id) !== t || options.isCancelled?.()) return abandon();
    // 2. committed: readers merge it from now on (hot still shadows the same rows)
    const committed: SegmentMeta = { ...meta, status: 'committed' };
    await engine.commit({
      state: [entryChange(cold, committed, () => {
        cold.manifest.add(committed);
        decoded.forEach((data, g) => cold.cache.set(RowGroupCache.key(committed.id, g), committed.id, data));
      })],
    });
    return { generation: cold.manifest.generation, committed };
  });
  if (gen === 'aborted') return gen;
  if (options.stopAfter === 2) return end - start;
  // Executions prepared before the segment existed read these rows from hot: let them finish first.
  await cold.drain(gen.generation);
  const seqAt = seqSlot(t);
  const keySlot = t.pk >= 0 ? t.pk : seqAt;
  // 3. delete the flushed hot rows that did not change meanwhile
  await purgeHot(engine, t.id, user, end - start, (i) => rows[start + i][keySlot], (i) => rows[start + i][seqAt], gen.committed);
  return end - start;
}

/**
 * Step 3: deletes hot rows still at the flushed version (same `_seq`), in
 * commits of PURGE_ROWS rows under the write lock, and marks the entry
 * purged in the last one.
 */
async function purgeHot(
  engine: FlushContext,
  tableId: number,
  user: string,
  count: number,
  keyAt: (i: number) => Value,
  seqAt: (i: number) => Value,
  meta: SegmentMeta,
): Promise<void> {
  // From the highest keys down: each commit removes the top of the partition's key order (cheap to cut).
  for (let to = count; ; to -= PURGE_ROWS) {
    const from = Math.max(0, to - PURGE_ROWS);
    const isLast = from === 0;
    await engine.exclusive(async () => {
      const t = engine.catalog.tableById(tableId);
      if (!t) return; // dropped meanwhile: its entries went with it
      const slot = seqSlot(t);
      const partition = engine.hot.partition(t.id, user);
      const removed: HotChange[] = [];
      for (let i = from; i < to; i++) {
        const pk = keyAt(i);
        const hash = hashKey(pk);
        const current = partition?.get(hash);
        if (!current || current[slot] !== seqAt(i)) continue;
        removed.push({ tableId: t.id, user, pkHash: hash, key: pk, row: null, store: storeOf(t), deletedSlot: deletedSlot(t) });
      }
      const state: StateChange[] = [];
      if (isLast) {
        const purged: SegmentMeta = { ...meta, hot_purged: true };
        state.push(entryChange(engine.cold, purged, () => engine.cold.manifest.add(purged, false)));
      }
      await engine.commit({ hot: removed, state });
    });
    if (isLast) return;
    await yieldToEventLoop();
  }
}

/** Open: finishes or undoes every flush a crash interrupted (format 2 entries; format 1 ones were rewritten first). */
export async function recoverFlushes(engine: FlushContext): Promise<void> {
  const { cold, catalog } = engine;
  for (const meta of cold.manifest.pending.splice(0)) await removeEntry(engine, meta);
  for (const meta of cold.manifest.all()) {
    const t = catalog.tableById(meta.table_id);
    if (!t) {
      // The table was dropped and the crash came before its segments were deleted.
      await engine.commit({
        state: [{ writes: [cold.manifest.deleteWrite(meta)], apply: () => cold.manifest.dropTable(meta.table_id) }],
        segments: { delete: [segmentRefOf(meta)] },
      });
      continue;
    }
    if (meta.hot_purged) continue;
    const codec = await loadSegmentCodec();
    const keys: Value[] = [];
    const seqs: bigint[] = [];
    const g = meta.groups!; // format 1 entries were rewritten before (segment-upgrade.ts)
    const locations = g.rows.map((_, index) => groupLocation(meta, index));
    const bytes = await cold.store.readGroups(segmentKeyOf(meta), locations);
    for (const b of bytes) {
      if (!b) throw missingData(meta, t);
      const data = codec.decodeRowGroup(b, t.pk >= 0 ? t.columns[t.pk] : undefined);
      for (let i = 0; i < data.rows; i++) {
        keys.push(data.keys[i]);
        seqs.push(data.seqs[i]);
      }
    }
    await purgeHot(engine, t.id, meta.user_id, keys.length, (i) => keys[i], (i) => seqs[i], meta);
  }
}

export const missingData = (meta: SegmentMeta, t: TableDef) =>
  new KalamError('STORAGE_ERROR', `Segment ${meta.id} of table '${q(t)}' is committed in the manifest but its data is missing: the storage was changed outside kalamlite`);
