/**
 * Flush: moving a table's hot rows into immutable cold segments, and
 * recovering an interrupted flush on open.
 *
 * One partition is flushed in three steps, each one storage commit (plus
 * the segment bytes, written before the entry is committed):
 *   1. the manifest entry in status `in_progress`, then the segment bytes;
 *   2. the entry becomes `committed` (readers now merge the segment);
 *   3. the flushed hot rows are deleted — only those whose version did not
 *      change since the snapshot — in the same commit that marks the entry
 *      `hot_purged`.
 * A crash after 1 leaves an in_progress entry: open deletes it and its
 * bytes (the rows are still hot). A crash after 2 leaves a committed entry
 * not purged: open deletes the hot rows the segment holds with the same
 * `_seq` (until then hot shadows the identical cold copy). No row is lost
 * or duplicated at any point.
 *
 * `FLUSH TABLE` / `STORAGE FLUSH TABLE` queue a `flush` job and return at
 * once with its id; the job runs right after (await `engine.jobs.idle()`).
 */
import type { Catalog } from '../catalog/catalog';
import { KalamError } from '../core/errors';
import type { SeqGenerator } from '../core/ids';
import { deletedSlot, seqSlot, type StoredRow, type TableDef } from '../core/schema';
import type { Value } from '../core/types';
import { hashKey } from '../core/values';
import { SegmentCache } from '../storage/cold/cache';
import type { ColdTier } from '../storage/cold/cold-tier';
import { loadSegmentCodec } from '../storage/cold/segment-loader';
import type { SegmentKey, SegmentMeta } from '../storage/cold/types';
import { storeOf, type HotChange, type HotTier } from '../storage/hot-tier';
import type { UnitOfWork } from '../storage/unit-of-work';
import { flushPolicyOf, isFlushDue, pendingRows } from './flush-policy';
import type { JobRecord, RecordedRunner } from './job';
import type { JobScheduler } from './scheduler';

/** What flushing needs: the tiers, `_seq` for segment ids, the job queue, the write lock and the one commit path. */
export interface FlushContext {
  readonly catalog: Catalog;
  readonly hot: HotTier;
  readonly cold: ColdTier;
  readonly seq: SeqGenerator;
  readonly jobs: Pick<JobScheduler, 'enqueue' | 'active'>;
  exclusive<T>(fn: () => Promise<T> | T): Promise<T>;
  commit(unit: UnitOfWork): Promise<void>;
}

const q = (t: TableDef) => `${t.namespace}.${t.name}`;
const keyOf = (m: SegmentMeta): SegmentKey => ({ tableId: m.table_id, user: m.user_id, segmentId: m.id });

/** Why a flush runs: a statement, the table's FLUSH_POLICY, the default policy (a partition reached its row bound) or the engine's hot budget. */
export type FlushTrigger = 'manual' | 'policy' | 'auto' | 'budget';

/**
 * Which partitions of the table a flush job writes. Called before each pass
 * of the job: the job repeats while it returns partitions and the previous
 * pass flushed rows (so rows that arrive during a flush that keeps a bound
 * are flushed by the same job). Without it, one pass over every partition
 * with hot rows.
 */
export type PartitionChoice = (t: TableDef) => readonly string[];

/** Queues a flush of `t`, or says why not (the KalamDB messages). */
export function requestFlush(engine: FlushContext, t: TableDef, trigger: FlushTrigger, choose?: PartitionChoice): JobRecord | string {
  if (t.type === 'STREAM') throw new KalamError('UNSUPPORTED', 'STORAGE FLUSH TABLE is not supported for STREAM tables');
  const active = activeFlush(engine, t);
  if (active) return `Storage flush skipped: a flush is already queued or running for table '${q(t)}' (job ${active.job_id})`;
  if (pendingRows(engine.hot, t) === 0) return `Storage flush skipped: no pending writes for table '${q(t)}'`;
  return engine.jobs.enqueue('flush', flushParameters(t, trigger), (record, isCancelled) => flushTableJob(engine, t.id, record, isCancelled, choose));
}

const flushParameters = (t: TableDef, trigger: FlushTrigger) => ({ namespace_id: t.namespace, table_name: t.name, table_id: t.id, trigger });

/** The flush queued or running for a table, if any. */
export function activeFlush(engine: Pick<FlushContext, 'jobs'>, t: TableDef): JobRecord | undefined {
  return engine.jobs.active('flush').find((r) => r.parameters.table_id === t.id);
}

/** The policy check the scheduler runs (JobEnv.flushDue). */
export async function flushDueTables(engine: FlushContext, now: number, run: RecordedRunner): Promise<JobRecord[]> {
  const out: JobRecord[] = [];
  for (const t of engine.catalog.listTables()) {
    const policy = flushPolicyOf(t);
    if (!policy || activeFlush(engine, t) || !isFlushDue(engine.hot, t, policy, now)) continue;
    out.push(await run('flush', flushParameters(t, 'policy'), (record, isCancelled) => flushTableJob(engine, t.id, record, isCancelled)));
  }
  return out;
}

/** True when some table has a FLUSH_POLICY. */
export function hasFlushPolicies(engine: FlushContext): boolean {
  return engine.catalog.listTables().some((t) => flushPolicyOf(t) !== undefined);
}

/** The work of one flush job: the chosen partitions (default: every partition with hot rows). */
async function flushTableJob(engine: FlushContext, tableId: number, record: JobRecord, isCancelled: () => boolean, choose?: PartitionChoice): Promise<void> {
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
      const n = await flushPartition(engine, t, user, { isCancelled });
      if (n === 'aborted') return finish(record, t, segments, isCancelled);
      if (n > 0) {
        segments++;
        record.rows_affected += n;
      }
    }
    if (!choose || record.rows_affected === before) break;
    pass = choose(t);
  }
  finish(record, t, segments, isCancelled);
}

function finish(record: JobRecord, t: TableDef, segments: number, isCancelled: () => boolean): void {
  const what = `${record.rows_affected} row(s) of ${q(t)} into ${segments} segment(s)`;
  record.message = isCancelled() ? `Cancelled by KILL JOB after flushing ${what}` : `Flushed ${what}`;
}

export interface FlushPartitionOptions {
  isCancelled?: () => boolean;
  /** Tests: stop after step 1 or 2, as a crash there would. */
  stopAfter?: 1 | 2;
}

/** Flushes one partition; resolves with the rows written, or 'aborted' (cancelled, or the table changed meanwhile). */
export async function flushPartition(engine: FlushContext, t: TableDef, user: string, options: FlushPartitionOptions = {}): Promise<number | 'aborted'> {
  const { cold, hot } = engine;
  if (!hot.partition(t.id, user)?.size) return 0;
  const { encodeSegment, residentSegment } = await loadSegmentCodec();
  // Looked up again: the load yields, and the partition may have changed meanwhile.
  const partition = hot.partition(t.id, user);
  if (!partition || partition.size === 0) return 0;
  // The snapshot: the newest version per key, tombstones included (they shadow older cold versions).
  const rows: StoredRow[] = [...partition.values()];
  const encoded = encodeSegment(t, rows);
  const meta: SegmentMeta = {
    id: `S${engine.seq.next()}`,
    table_id: t.id,
    user_id: user,
    min_seq: encoded.minSeq,
    max_seq: encoded.maxSeq,
    row_count: rows.length,
    size_bytes: encoded.bytes.byteLength,
    created_at: Date.now(),
    column_stats: encoded.stats,
    schema_version: t.version,
    status: 'in_progress',
    hot_purged: false,
  };
  // 1. entry in_progress, then the bytes (a crash in between leaves an entry recovery removes, never stray bytes)
  await engine.commit({ state: [entryChange(cold, meta)] });
  await engine.commit({ segments: { put: [{ key: keyOf(meta), bytes: encoded.bytes }] } });
  if (options.stopAfter === 1) return rows.length;
  const abandon = async () => {
    await removeEntry(engine, meta);
    return 'aborted' as const;
  };
  if (options.isCancelled?.()) return abandon();
  const gen = await engine.exclusive(async () => {
    // ALTER and DROP take the write lock too: a table changed since the snapshot is not flushed.
    if (engine.catalog.tableById(t.id) !== t || options.isCancelled?.()) return abandon();
    // 2. committed: readers merge it from now on (hot still shadows the same rows)
    const committed: SegmentMeta = { ...meta, status: 'committed' };
    await engine.commit({
      state: [entryChange(cold, committed, () => {
        cold.manifest.add(committed);
        cold.cache.set(SegmentCache.key(committed.id, t.version), residentSegment(committed, rows, t, encoded.bytes.byteLength));
      })],
    });
    return { generation: cold.manifest.generation, committed };
  });
  if (gen === 'aborted') return gen;
  if (options.stopAfter === 2) return rows.length;
  // Executions prepared before the segment existed read these rows from hot: let them finish first.
  await cold.drain(gen.generation);
  const seqAt = seqSlot(t);
  const flushed = rows.map((row) => ({ pk: t.pk >= 0 ? row[t.pk] : row[seqAt], seq: row[seqAt] }));
  // 3. delete the flushed hot rows that did not change meanwhile
  await engine.exclusive(async () => {
    const current = engine.catalog.tableById(t.id);
    if (current) await purgeHot(engine, current, user, flushed, gen.committed);
  });
  return rows.length;
}

/** Step 3: deletes hot rows still at the flushed version (same `_seq`), and marks the entry purged, in one commit. */
async function purgeHot(engine: FlushContext, t: TableDef, user: string, flushed: readonly { pk: Value; seq: Value }[], meta: SegmentMeta): Promise<number> {
  const seqAt = seqSlot(t);
  const partition = engine.hot.partition(t.id, user);
  const removed: HotChange[] = [];
  for (const { pk, seq } of flushed) {
    const hash = hashKey(pk);
    const current = partition?.get(hash);
    if (!current || current[seqAt] !== seq) continue;
    removed.push({ tableId: t.id, user, pkHash: hash, row: null, store: storeOf(t), deletedSlot: deletedSlot(t) });
  }
  const purged: SegmentMeta = { ...meta, hot_purged: true };
  await engine.commit({ hot: removed, state: [entryChange(engine.cold, purged, () => engine.cold.manifest.add(purged, false))] });
  return removed.length;
}

/** Open: finishes or undoes every flush a crash interrupted. */
export async function recoverFlushes(engine: FlushContext): Promise<void> {
  const { cold, catalog } = engine;
  for (const meta of cold.manifest.pending.splice(0)) await removeEntry(engine, meta);
  for (const meta of cold.manifest.all()) {
    const t = catalog.tableById(meta.table_id);
    if (!t) {
      // The table was dropped and the crash came before its segments were deleted.
      await engine.commit({
        state: [{ writes: [cold.manifest.deleteWrite(meta)], apply: () => cold.manifest.dropTable(meta.table_id) }],
        segments: { delete: [keyOf(meta)] },
      });
      continue;
    }
    if (meta.hot_purged) continue;
    const bytes = await cold.store.get(keyOf(meta));
    if (!bytes) {
      throw new KalamError('STORAGE_ERROR', `Segment ${meta.id} of table '${q(t)}' is committed in the manifest but its data is missing: the storage was changed outside kalamlite`);
    }
    const { decodeSegment } = await loadSegmentCodec();
    const seqAt = seqSlot(t);
    const flushed = decodeSegment(meta, bytes, t).rows.map((row) => ({ pk: t.pk >= 0 ? row[t.pk] : row[seqAt], seq: row[seqAt] }));
    await purgeHot(engine, t, meta.user_id, flushed, meta);
  }
}

/** A manifest entry written (and, once committed, `apply` run). */
function entryChange(cold: ColdTier, meta: SegmentMeta, apply: () => void = () => undefined) {
  return { writes: [cold.manifest.entryWrite(meta)], apply };
}

/** Removes an entry that never became readable (in_progress): its bytes first, then the entry, so a crash in between leaves only the entry. */
async function removeEntry(engine: FlushContext, meta: SegmentMeta): Promise<void> {
  await engine.commit({ segments: { delete: [keyOf(meta)] } });
  await engine.commit({ state: [{ writes: [engine.cold.manifest.deleteWrite(meta)], apply: () => undefined }] });
}
