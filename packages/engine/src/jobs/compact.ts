/**
 * Compaction: the `compact` job (KalamDB's job type, ids `CO…`), queued by
 * `STORAGE COMPACT TABLE t` / `STORAGE COMPACT ALL`, by a flush that left a
 * partition with `compactL0Segments` level 0 segments, and by the retention
 * job for partitions whose segments hold tombstones past retention.
 *
 * Levels. A flush writes level 0 segments (they may overlap each other).
 * Level 1 is one sorted run: its segments never overlap, and each key's
 * level 1 version is older than its level 0 ones. A compaction of a
 * partition (compact-plan.ts) merges every level 0 segment with the
 * segments overlapping it, and packs neighbours below maxSegmentRows, into new level 1
 * segments (compact-merge.ts, a chunk loaded by the first compaction that
 * merges: the merge, the swap and the deletes of steps 1 to 3 below), and
 * moves a level 0 segment that overlaps
 * nothing to level 1 without rewriting it. Read amplification: a key's
 * versions are in at most one level 1 segment and the level 0 segments,
 * so at most compactL0Segments segments hold versions of a key at rest
 * (compactL0Segments − 1 at level 0), and compactL0Segments + 1 between the
 * flush that wrote the compactL0Segments-th level 0 segment and the
 * compaction it queued (jobs run one at a time; no other flush of the
 * table runs in between).
 *
 * Crash safety, each step one unit of work:
 *   1. each output segment: its bytes and its entry `in_progress`;
 *   2. ONE commit: the outputs become `committed`, the inputs' entries
 *      become `obsolete` (no longer read; the dropped tombstones are
 *      published to live queries as removals);
 *   3. once every execution prepared before step 2 released its pins
 *      (ColdTier.drain, as a flush waits before purging hot rows), the
 *      inputs' bytes and their obsolete entries are deleted together.
 * Open removes in_progress entries with their bytes (as for a flush) and
 * deletes obsolete segments (recoverCompactions). KILL JOB before step 2
 * removes the outputs written so far; after it, the job finishes step 3.
 * A compaction is abandoned, leaving nothing, when the table was altered
 * or dropped, or the partition's segments changed, before step 2.
 */
import { KalamError } from '../core/errors';
import type { TableDef } from '../core/schema';
import type { ColdTier } from '../storage/cold/cold-tier';
import { formatOf, levelOf, type SegmentMeta } from '../storage/cold/types';
import type { CompactionPlan } from './compact-plan';
import { hasExpiredTombstones } from './tombstone-age';
import type { CompactContext, CompactOutcome, CompactPartitionOptions } from './compact-merge';
import { loadCompactMerge } from './compact-merge-loader';
import type { JobRecord } from './job';
import { retentionHours } from './retention';
import { deleteObsolete, removeEntry, segmentHooks, type SegmentJobContext } from './segment-write';

export type { CompactContext, CompactOutcome, CompactPartitionOptions } from './compact-merge';

/** Why a compaction runs: the statement, a flush (level 0 segments reached compactL0Segments), or retention (cold tombstones past it). */
export type CompactTrigger = 'manual' | 'auto' | 'retention' | 'index_build';

const HOUR_MS = 3_600_000;
const q = (t: TableDef) => `${t.namespace}.${t.name}`;

/** Tombstones written before this are past the table's retention at `now`. */
export const retentionCutoff = (t: TableDef, now: number) => now - retentionHours(t) * HOUR_MS;

function activeCompaction(engine: Pick<CompactContext, 'jobs'>, t: TableDef): JobRecord | undefined {
  return engine.jobs.active('compact').find((r) => r.parameters.table_id === t.id);
}

const compactParameters = (t: TableDef, trigger: CompactTrigger) => ({ namespace_id: t.namespace, table_name: t.name, table_id: t.id, trigger });

/** A partition can be compacted once every segment is format 2 and every flush into it finished (its hot rows purged). */
function compactable(segments: readonly SegmentMeta[]): boolean {
  return segments.every((m) => formatOf(m) === 2 && m.hot_purged);
}

const isEmptyPlan = (p: CompactionPlan) => p.merges.length === 0 && p.moves.length === 0;

/** The plan for one partition now (compact-plan.ts, loaded with the merge step). */
export async function partitionPlan(engine: Pick<CompactContext, 'cold'>, t: TableDef, user: string, now: number, rewriteUnknown: boolean): Promise<CompactionPlan> {
  const segments = engine.cold.manifest.segments(t.id, user);
  if (segments.length === 0 || !compactable(segments)) return { merges: [], moves: [] };
  const { planCompaction } = await loadCompactMerge();
  return planCompaction(segments, { rowGroupRows: engine.cold.options.rowGroupRows, maxSegmentRows: engine.cold.options.maxSegmentRows, cutoffMs: retentionCutoff(t, now), rewriteUnknown, rewrite: lacks(t) });
}

/** Segments lacking a record of one of `t`'s indexes: every compaction rewrites them (writing their records). */
const lacks = (t: TableDef) => (m: SegmentMeta) => !!segmentHooks.lacksRecords?.(m, t);

/** Whether a trigger compacts this partition now. */
function isDue(engine: Pick<CompactContext, 'cold'>, t: TableDef, user: string, trigger: CompactTrigger, now: number): boolean {
  const segments = engine.cold.manifest.segments(t.id, user);
  if (segments.length === 0) return false;
  if (segments.some(lacks(t))) return true;
  switch (trigger) {
    case 'index_build': return false;
    case 'manual': return true;
    case 'auto': {
      const n = engine.cold.options.compactL0Segments;
      return n > 0 && segments.filter((m) => levelOf(m) === 0).length >= n;
    }
    case 'retention': {
      const cutoff = retentionCutoff(t, now);
      return segments.some((m) => hasExpiredTombstones(m, cutoff, false));
    }
  }
}

function queue(engine: CompactContext, t: TableDef, trigger: CompactTrigger, now?: number): JobRecord {
  return engine.jobs.enqueue('compact', compactParameters(t, trigger), (record, isCancelled) => compactTableJob(engine, t.id, trigger, record, isCancelled, now));
}

/** STORAGE COMPACT: queues a compaction of `t`, or says why not (the KalamDB messages, as flush's). */
export async function requestCompaction(engine: CompactContext, t: TableDef, now: number = Date.now()): Promise<JobRecord | string> {
  if (t.type === 'STREAM') throw new KalamError('UNSUPPORTED', 'STORAGE COMPACT TABLE is not supported for STREAM tables');
  const active = activeCompaction(engine, t);
  if (active) return `Storage compaction skipped: a compaction is already queued or running for table '${q(t)}' (job ${active.job_id})`;
  const partitions = [...engine.cold.manifest.partitions(t.id).keys()];
  if (partitions.length === 0) return `Storage compaction skipped: no cold segments for table '${q(t)}'`;
  let empty = true;
  for (const user of partitions) empty &&= isEmptyPlan(await partitionPlan(engine, t, user, now, true));
  // A job queued meanwhile (the plan loads its chunk on first use): this one is not needed.
  const queued = activeCompaction(engine, t);
  if (queued) return `Storage compaction skipped: a compaction is already queued or running for table '${q(t)}' (job ${queued.job_id})`;
  if (empty) {
    return `Storage compaction skipped: nothing to compact for table '${q(t)}'`;
  }
  return queue(engine, t, 'manual');
}

/** After a flush: queues a compaction of `t` when one of its partitions has compactL0Segments level 0 segments. */
export function requestAutoCompaction(engine: CompactContext, t: TableDef): JobRecord | undefined {
  // Not once close() began: a job queued now would only be recorded as cancelled.
  if (engine.cold.options.compactL0Segments === 0 || engine.jobs.stopped || activeCompaction(engine, t)) return undefined;
  const now = Date.now();
  for (const user of engine.cold.manifest.partitions(t.id).keys()) {
    if (isDue(engine, t, user, 'auto', now)) return queue(engine, t, 'auto');
  }
  return undefined;
}

/** The retention job: queues a compaction of each table whose segments hold tombstones past retention at `now`. */
export function requestRetentionCompactions(engine: CompactContext, now: number): JobRecord[] {
  const out: JobRecord[] = [];
  for (const t of engine.catalog.listTables()) {
    if (t.type === 'STREAM' || activeCompaction(engine, t)) continue;
    for (const user of engine.cold.manifest.partitions(t.id).keys()) {
      if (!isDue(engine, t, user, 'retention', now)) continue;
      out.push(queue(engine, t, 'retention', now));
      break;
    }
  }
  return out;
}

/**
 * Queues the build of `t`'s index records for segments written before the
 * index (a compaction that rewrites them: trigger `index_build`), when one
 * is needed and no compaction of the table is queued or running.
 */
export function requestIndexBuild(engine: CompactContext, t: TableDef): JobRecord | undefined {
  if (engine.jobs.stopped || activeCompaction(engine, t)) return undefined;
  for (const user of engine.cold.manifest.partitions(t.id).keys()) if (isDue(engine, t, user, 'index_build', 0)) return queue(engine, t, 'index_build');
  return undefined;
}

/** Open: queues the compactions a crash (or a killed compaction) left due, index record builds included. */
export function requestDueCompactions(engine: CompactContext): JobRecord[] {
  const out: JobRecord[] = [];
  for (const t of engine.catalog.listTables()) {
    const r = t.type === 'STREAM' ? undefined : requestAutoCompaction(engine, t) ?? requestIndexBuild(engine, t);
    if (r) out.push(r);
  }
  return out;
}



const emptyOutcome = (): CompactOutcome => ({ rowsRead: 0, rowsShadowed: 0, tombstonesPurged: 0, segmentsMerged: 0, segmentsWritten: 0, segmentsMoved: 0, aborted: false });

/** Compacts one partition as planned now (compact-plan.ts). */
export async function compactPartition(engine: CompactContext, t: TableDef, user: string, options: CompactPartitionOptions = {}): Promise<CompactOutcome> {
  const { cold } = engine;
  const outcome = emptyOutcome();
  const now = options.now ?? Date.now();
  const plan = await partitionPlan(engine, t, user, now, options.rewriteUnknown ?? false);
  if (isEmptyPlan(plan)) return outcome;
  /** The partition's segment ids as this compaction expects them; any other change abandons it. */
  const expected = new Set(cold.manifest.segments(t.id, user).map((m) => m.id));
  const unchanged = () => {
    if (engine.catalog.tableById(t.id) !== t || options.isCancelled?.()) return false;
    const current = cold.manifest.segments(t.id, user);
    return current.length === expected.size && current.every((m) => expected.has(m.id));
  };
  if (plan.moves.length > 0) {
    const moved = await engine.exclusive(async () => {
      if (!unchanged()) return false;
      const metas = plan.moves.map((m): SegmentMeta => ({ ...m, level: 1 }));
      await engine.commit({
        state: [{ writes: metas.map((m) => cold.manifest.entryWrite(m)), apply: () => metas.forEach((m) => cold.manifest.add(m, false)) }],
      });
      return true;
    });
    if (!moved) return { ...outcome, aborted: true };
    outcome.segmentsMoved += plan.moves.length;
    cold.compaction.segmentsMoved += plan.moves.length;
  }
  if (plan.merges.length === 0) {
    cold.compaction.runs++;
    return outcome;
  }
  const { mergeAndSwap } = await loadCompactMerge();
  return mergeAndSwap(engine, t, user, plan.merges, { ...options, now, cutoffMs: retentionCutoff(t, now) }, outcome, expected, unchanged);
}




/** Open (before anything reads): deletes the segments a crash left obsolete. */
export async function recoverCompactions(engine: Pick<CompactContext, 'cold' | 'commit'>): Promise<number> {
  const left = [...engine.cold.manifest.obsolete];
  await deleteObsolete(engine, left);
  return left.length;
}

/** The work of one compact job: each partition the trigger makes due, one after another. */
async function compactTableJob(engine: CompactContext, tableId: number, trigger: CompactTrigger, record: JobRecord, isKilled: () => boolean, at?: number): Promise<void> {
  const t = engine.catalog.tableById(tableId);
  if (!t) {
    record.status = 'skipped';
    record.message = 'Skipped: the table was dropped before the compaction started';
    record.finished_at = Date.now();
    return;
  }
  // KILL JOB, or close(): a long merge is abandoned rather than finished first.
  const isCancelled = () => isKilled() || engine.jobs.stopped;
  // Obsolete segments whose deletion failed earlier (a storage error) go first.
  const stale = engine.cold.manifest.obsolete.filter((m) => m.table_id === tableId);
  if (stale.length > 0) {
    await engine.cold.drain(engine.cold.manifest.generation);
    await deleteObsolete(engine, stale);
  }
  const total = emptyOutcome();
  let partitions = 0;
  for (const user of [...engine.cold.manifest.partitions(t.id).keys()]) {
    if (isCancelled() || engine.catalog.tableById(tableId) !== t) break;
    const now = at ?? Date.now();
    if (!isDue(engine, t, user, trigger, now)) continue;
    const done = await compactPartition(engine, t, user, { isCancelled, now, rewriteUnknown: trigger === 'manual' });
    for (const k of ['rowsRead', 'rowsShadowed', 'tombstonesPurged', 'segmentsMerged', 'segmentsWritten', 'segmentsMoved'] as const) total[k] += done[k];
    if (done.segmentsMerged + done.segmentsMoved > 0) partitions++;
    if (done.aborted) {
      total.aborted = true;
      break;
    }
  }
  record.rows_affected = total.rowsRead;
  const what =
    `${total.segmentsMerged} segment(s) of ${q(t)} merged into ${total.segmentsWritten} (${total.rowsRead} row(s) read, ` +
    `${total.rowsShadowed} shadowed version(s) and ${total.tombstonesPurged} expired tombstone(s) dropped), ` +
    `${total.segmentsMoved} segment(s) moved to level 1, in ${partitions} partition(s)`;
  if (isKilled()) record.message = `Cancelled by KILL JOB after compacting ${what}`;
  else if (engine.jobs.stopped && total.aborted) {
    record.status = 'cancelled';
    record.message = `Cancelled: the database closed during the compaction (${what})`;
    record.finished_at = Date.now();
  }
  else if (total.aborted) record.message = `Stopped early: table ${q(t)} was dropped or altered, or its segments changed (${what})`;
  else record.message = `Compacted ${what}`;
}
