/**
 * The jobs layer's contract: what a background job is, what it records in
 * `system.jobs`, and the narrow view of the engine a job works through.
 *
 * A job removes rows for one table. It never writes on its own: it hands
 * batches of removals to `JobEnv.commit`, which commits them in one storage
 * transaction and only then updates the hot tier and live queries — the
 * same path a user's DELETE takes.
 */
import type { Catalog } from '../catalog/catalog';
import type { TableDef } from '../core/schema';
import type { RowChange } from '../core/schema';
import type { HotTier } from '../storage/hot-tier';
import type { JsonValue } from '../core/types';

/** The job types kalamlite runs (a subset of KalamDB's, and `import_rollback`: an interrupted import undone at open, execute/import-recovery.ts). */
export type JobType = 'flush' | 'compact' | 'stream_eviction' | 'retention' | 'job_cleanup' | 'import_rollback' | 'topic_retention' | 'vector_index';

/** KalamDB's job statuses; `retrying` does not occur here. */
export type JobStatus = 'new' | 'queued' | 'running' | 'completed' | 'failed' | 'skipped' | 'cancelled';

/** The 2-letter job id prefix KalamDB gives each job type. */
export const JOB_ID_PREFIX: Record<JobType, string> = {
  flush: 'FL',
  compact: 'CO',
  stream_eviction: 'SE',
  retention: 'RT',
  job_cleanup: 'JC',
  import_rollback: 'IR',
  topic_retention: 'TR',
  vector_index: 'VI',
};

/** One row of `system.jobs`. Mutable while the job runs; final once `finished_at` is set. */
export interface JobRecord {
  job_id: string;
  job_type: JobType;
  status: JobStatus;
  parameters: { [key: string]: JsonValue };
  message: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  rows_affected: number;
}

/** What a job may touch: the shared catalog and hot tier, and the engine's commit path. */
export interface JobEnv {
  readonly catalog: Catalog;
  readonly hot: HotTier;
  /** Commits removals (`row === null`) in one storage transaction, then applies them. */
  commit(changes: readonly RowChange[]): Promise<void>;
  /** Runs `fn` while no statement writes (the engine's write lock). */
  withWriteLock<T>(fn: () => Promise<T> | T): Promise<T>;
  /** The flush policy check (src/jobs/flush.ts): flushes the tables due by `now`, one record each. Absent: no flush jobs. */
  flushDue?(now: number, run: RecordedRunner): Promise<JobRecord[]>;
  /** True when some table has a FLUSH_POLICY (only then is the flush check scheduled). */
  hasFlushPolicies?(): boolean;
  /** Whether a tombstone may still shadow an older cold version (retention keeps it then). */
  coldMayHold?(table: TableDef, user: string, pk: unknown): boolean;
  /** After a retention run: queues compactions of the tables whose cold segments hold tombstones past retention at `now` (compact.ts). */
  compactExpired?(now: number): JobRecord[];
  /** After a retention run's rows: deletes the files of tombstones past retention at `now` (execute/files.ts), one record per table. */
  purgeFiles?(now: number, run: RecordedRunner): Promise<JobRecord[]>;
}

/**
 * Runs `work` as one job recorded in system.jobs: queued, then running,
 * then completed (or failed, or cancelled by KILL JOB). `work` may set the
 * record's message and rows_affected; `isCancelled()` turns true after KILL JOB.
 */
export type RecordedRunner = (
  type: JobType,
  parameters: JobRecord['parameters'],
  work: (record: JobRecord, isCancelled: () => boolean) => Promise<void>,
) => Promise<JobRecord>;

/**
 * The work one job does on one table: `removals()` yields, lazily and from
 * the current hot tier, each row to remove. The runner pulls a bounded batch
 * at a time while holding the write lock, so every yielded row is the
 * current version when it is committed.
 */
export interface TableJob {
  type: 'stream_eviction' | 'retention';
  table: TableDef;
  parameters: { [key: string]: JsonValue };
  removals(): Iterator<RowChange>;
}
