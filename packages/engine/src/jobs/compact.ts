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
 * segments (compact-merge.ts, a chunk loaded by the first compaction: the
 * planning, the job's work, the merge, the swap and the deletes of steps 1
 * to 3 below; this file keeps the triggers), and
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
import { isDue, planInputs, type CompactTrigger } from './compact-due';
import type { CompactionPlan } from './compact-plan';
import type { CompactContext, CompactOutcome, CompactPartitionOptions } from './compact-merge';
import { loadCompactMerge } from './compact-merge-loader';
import type { JobRecord } from './job';
import { deleteObsolete } from './segment-write';

export type { CompactContext, CompactOutcome, CompactPartitionOptions } from './compact-merge';
export { retentionCutoff, type CompactTrigger } from './compact-due';

const q = (t: TableDef) => `${t.namespace}.${t.name}`;

function activeCompaction(engine: Pick<CompactContext, 'jobs'>, t: TableDef): JobRecord | undefined {
  return engine.jobs.active('compact').find((r) => r.parameters.table_id === t.id);
}

const compactParameters = (t: TableDef, trigger: CompactTrigger) => ({ namespace_id: t.namespace, table_name: t.name, table_id: t.id, trigger });

/** The plan for one partition now (compact-plan.ts, loaded with the merge step). */
async function partitionPlan(engine: CompactContext, t: TableDef, user: string, now: number): Promise<CompactionPlan | undefined> {
  const inputs = planInputs(engine, t, user, now, true);
  return inputs && (await loadCompactMerge()).planCompaction(...inputs);
}

/** The job's work (compact-merge.ts compactTableJob) loads with the merge step. */
function queue(engine: CompactContext, t: TableDef, trigger: CompactTrigger, now?: number): JobRecord {
  return engine.jobs.enqueue('compact', compactParameters(t, trigger), async (record, isCancelled) =>
    (await loadCompactMerge()).compactTableJob(engine, t.id, trigger, record, isCancelled, now),
  );
}

/** Compacts one partition as planned now (compact-merge.ts). */
export async function compactPartition(engine: CompactContext, t: TableDef, user: string, options: CompactPartitionOptions = {}): Promise<CompactOutcome> {
  return (await loadCompactMerge()).compactPartition(engine, t, user, options);
}

/** STORAGE COMPACT: queues a compaction of `t`, or says why not (the KalamDB messages, as flush's). */
export async function requestCompaction(engine: CompactContext, t: TableDef, now: number = Date.now()): Promise<JobRecord | string> {
  if (t.type === 'STREAM') throw new KalamError('UNSUPPORTED', 'STORAGE COMPACT TABLE is not supported for STREAM tables');
  const active = activeCompaction(engine, t);
  if (active) return `Storage compaction skipped: a compaction is already queued or running for table '${q(t)}' (job ${active.job_id})`;
  const partitions = [...engine.cold.manifest.partitions(t.id).keys()];
  if (partitions.length === 0) return `Storage compaction skipped: no cold segments for table '${q(t)}'`;
  let empty = true;
  for (const user of partitions) {
    const plan = await partitionPlan(engine, t, user, now);
    empty &&= !plan || plan.merges.length + plan.moves.length === 0;
  }
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

/** Open (before anything reads): deletes the segments a crash left obsolete. */
export async function recoverCompactions(engine: Pick<CompactContext, 'cold' | 'commit'>): Promise<number> {
  const left = [...engine.cold.manifest.obsolete];
  await deleteObsolete(engine, left);
  return left.length;
}
