/**
 * Flush: moving a table's hot rows into immutable cold segments, and
 * recovering an interrupted flush on open.
 *
 * A partition's snapshot (the newest version per key, tombstones included,
 * in key order) is cut into segments of at most `maxSegmentRows` rows,
 * each cut into row groups of `rowGroupRows` rows, encoded one group at a
 * time with a turn of the event loop between groups (a flush never holds
 * the worker for long). Each segment is written in three steps, each one
 * storage commit (plus the segment bytes, written before the entry is
 * committed):
 *   1. the manifest entry in status `in_progress` (with its group count),
 *      then the segment bytes;
 *   2. the entry becomes `committed`, with its row-group stats (readers now
 *      merge the segment);
 *   3. the flushed hot rows are deleted — only those whose version did not
 *      change since the snapshot — in commits of PURGE_ROWS rows (highest
 *      keys first), the last of which marks the entry `hot_purged`.
 * A crash after 1 leaves an in_progress entry: open deletes it and its
 * bytes (the rows are still hot). A crash after 2 leaves a committed entry
 * not purged: open deletes the hot rows the segment holds with the same
 * `_seq` (until then hot shadows the identical cold copy). No row is lost
 * or duplicated at any point.
 *
 * `FLUSH TABLE` / `STORAGE FLUSH TABLE` queue a `flush` job and return at
 * once with its id; the job runs right after (await `engine.jobs.idle()`).
 * A flush's segments are level 0; once a partition has `compactL0Segments`
 * of them, the flush job queues a compaction right behind itself
 * (compact.ts).
 */
import { KalamError } from '../core/errors';
import type { TableDef } from '../core/schema';
import { lazyModule } from '../core/lazy-module';
import { flushPolicyOf, isFlushDue, pendingRows } from './flush-policy';
import type { JobRecord, RecordedRunner } from './job';
import type { FlushContext, PartitionChoice } from './flush-run';

/** The work of a flush (flush-run.ts), loaded by the first flush or, in the background, after the first write (preloadFlush). */
const loadFlushRun = lazyModule('the flush job', () => import('./flush-run'));

let preloaded = false;

/** Starts loading the flush job's code once (the first write to a table that flushes), so the first flush does not wait for it. */
export function preloadFlush(): void {
  if (preloaded) return;
  preloaded = true;
  void loadFlushRun().catch(() => undefined);
}

export type { FlushContext, PartitionChoice } from './flush-run';

const q = (t: TableDef) => `${t.namespace}.${t.name}`;

/** Why a flush runs: a statement, the table's FLUSH_POLICY, the default policy (a partition reached its row bound) or the engine's hot budget. */
export type FlushTrigger = 'manual' | 'policy' | 'auto' | 'budget';


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

/** The work of one flush job (flush-run.ts). */
async function flushTableJob(engine: FlushContext, tableId: number, record: JobRecord, isCancelled: () => boolean, choose?: PartitionChoice): Promise<void> {
  return (await loadFlushRun()).flushTableJob(engine, tableId, record, isCancelled, choose);
}

/** Open: finishes or undoes every flush a crash interrupted (flush-run.ts); nothing to load when none was. */
export async function recoverFlushes(engine: FlushContext): Promise<void> {
  const { cold, catalog } = engine;
  if (cold.manifest.pending.length === 0 && cold.manifest.all().every((m) => m.hot_purged && catalog.tableById(m.table_id))) return;
  await (await loadFlushRun()).recoverFlushes(engine);
}
