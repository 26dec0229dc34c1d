/**
 * The in-engine job scheduler. One timer (never more) waits for the next
 * job type that is due; it is `unref`'d where the runtime allows, so it
 * never keeps a Node process alive, and `stop()` (called by close) clears
 * it and waits for a running job to reach a batch boundary.
 *
 * Runs never overlap: each run is chained after the previous one. A job
 * works one table at a time, in batches of at most `jobBatchSize` rows, each
 * batch one storage commit taken under the engine's write lock, so user
 * statements interleave between batches. A table with nothing to remove
 * leaves no record in `system.jobs`; a failing job records status `failed`
 * with the error's message and never throws into the engine.
 *
 * Tests drive it deterministically with `runDue(now)` / `run(type, now)`:
 * `now` is the logical time rows are judged against (TTL, retention).
 */
import { KalamError, toKalamError } from '../core/errors';
import type { RowChange } from '../core/schema';
import type { Value } from '../core/types';
import { JobHistory } from './history';
import type { JobEnv, JobRecord, JobType, RecordedRunner, TableJob } from './job';
import { planRetention } from './retention';
import { planStreamEviction } from './stream-eviction';
import { JOB_DEFAULTS as JOBS } from '../core/defaults';

export interface JobSettings {
  /** How often expired STREAM rows are deleted (ms; 0 = never on a timer). KalamDB: 60 s. */
  streamEvictionIntervalMs: number;
  /** How often tombstones past DELETED_RETENTION_HOURS are purged (ms; 0 = never on a timer). */
  retentionIntervalMs: number;
  /** Rows removed per storage commit. */
  jobBatchSize: number;
  /** Records kept in system.jobs; the oldest is dropped past it. */
  maxJobHistory: number;
  /** How often tables with a FLUSH_POLICY are checked (ms; 0 = never on a timer). KalamDB: 60 s. */
  flushCheckIntervalMs: number;
}

export const JOB_DEFAULTS: Readonly<JobSettings> = JOBS;

/** The job types with a timer here (a flush also runs on its statement; compactions only when queued; topic_retention has its own timer, execute/topics.ts). */
type ScheduledType = Exclude<JobType, 'job_cleanup' | 'compact' | 'import_rollback' | 'topic_retention' | 'vector_index'>;

/** KILL JOB refused: the job is unknown or already finished. */
export type KillOutcome = { killed: JobRecord } | { finished: JobRecord } | undefined;

interface Schedule {
  type: ScheduledType;
  intervalMs: number;
  /** Logical time the type is next due; Infinity when it has no interval. */
  nextDue: number;
}

export class JobScheduler {
  readonly history: JobHistory;
  readonly settings: JobSettings;
  private readonly schedules: Schedule[];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private isStopped = false;
  /** The current run; every run is chained after it. */
  private running: Promise<unknown> = Promise.resolve();
  private completed = 0;
  private failed = 0;
  private readonly removed: Record<ScheduledType, number> = { stream_eviction: 0, retention: 0, flush: 0 };
  /** Ids of queued or running jobs KILL JOB asked to stop; an id leaves when its job ends. */
  private readonly cancelled = new Set<string>();
  private cancelledCount = 0;

  constructor(
    private readonly env: JobEnv,
    settings: JobSettings,
    private readonly clock: () => number = Date.now,
  ) {
    this.settings = settings;
    this.history = new JobHistory(settings.maxJobHistory);
    this.schedules = [
      { type: 'stream_eviction', intervalMs: settings.streamEvictionIntervalMs, nextDue: Infinity },
      { type: 'retention', intervalMs: settings.retentionIntervalMs, nextDue: Infinity },
      { type: 'flush', intervalMs: settings.flushCheckIntervalMs, nextDue: Infinity },
    ];
  }

  /** Schedules every job type one interval from `now` and arms the timer. */
  start(now: number = this.clock()): void {
    if (this.isStopped) return;
    for (const s of this.schedules) s.nextDue = s.intervalMs > 0 && this.isWanted(s.type) ? now + s.intervalMs : Infinity;
    this.arm();
  }

  /** True while a timer is pending (false after stop). */
  get hasTimer(): boolean {
    return this.timer !== undefined;
  }

  get stopped(): boolean {
    return this.isStopped;
  }

  /** Runs every job type due by `now`, then schedules each one interval later. Resolves with the records created. */
  runDue(now: number = this.clock()): Promise<JobRecord[]> {
    return this.chain(async () => {
      const out: JobRecord[] = [];
      for (const s of this.schedules) {
        if (s.nextDue > now) continue;
        s.nextDue = s.intervalMs > 0 && this.isWanted(s.type) ? now + s.intervalMs : Infinity;
        out.push(...(await this.runType(s.type, now)));
      }
      return out;
    });
  }

  /** Runs one job type now, whatever its schedule. Resolves with the records created. */
  run(type: ScheduledType, now: number = this.clock()): Promise<JobRecord[]> {
    return this.chain(() => this.runType(type, now));
  }

  /**
   * Queues one recorded job (a FLUSH statement): its record is in
   * system.jobs as `queued` at once; it runs after the jobs before it.
   * Resolves with the record when the job is queued (not when it ends:
   * `idle()` waits for that).
   */
  enqueue(type: JobType, parameters: JobRecord['parameters'], work: Parameters<RecordedRunner>[2]): JobRecord {
    const record = this.history.start(type, parameters, this.clock(), 'queued');
    void this.chain(() => this.runRecorded(record, work)).catch(() => undefined);
    return record;
  }

  /** Resolves when every job queued so far has ended, and those they queued (a flush queues its compaction). */
  async idle(): Promise<void> {
    for (let p = this.running; ; p = this.running) {
      await p;
      if (p === this.running) return;
    }
  }

  /** The queued or running jobs of a type (a second FLUSH of the same table is refused while one is). */
  active(type: JobType): JobRecord[] {
    return this.history.list().filter((r) => r.job_type === type && (r.status === 'queued' || r.status === 'running'));
  }

  /** KILL JOB: a queued job never starts; a running one stops at its next safe point. */
  kill(jobId: string): KillOutcome {
    const record = this.history.find(jobId);
    if (!record) return undefined;
    if (record.status !== 'queued' && record.status !== 'running') return { finished: record };
    this.cancelled.add(record.job_id);
    if (record.status === 'queued') this.finishCancelled(record);
    return { killed: record };
  }

  /** Called when a table gains or loses a FLUSH_POLICY: arms the flush check when one is needed. */
  policiesChanged(now: number = this.clock()): void {
    const s = this.schedules.find((x) => x.type === 'flush')!;
    const wanted = s.intervalMs > 0 && this.env.hasFlushPolicies?.() === true;
    if (wanted && s.nextDue === Infinity) s.nextDue = now + s.intervalMs;
    if (!wanted) s.nextDue = Infinity;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.arm();
  }

  /** Clears the timer and waits for a running job to stop at its next batch boundary. */
  async stop(): Promise<void> {
    this.isStopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  metrics(): [string, Value][] {
    return [
      ['job_history_size', this.history.size],
      ['job_history_max', this.history.max],
      ['job_history_dropped', this.history.dropped],
      ['jobs_completed', this.completed],
      ['jobs_failed', this.failed],
      ['stream_rows_evicted', this.removed.stream_eviction],
      ['tombstones_purged', this.removed.retention],
      ['rows_flushed', this.removed.flush],
      ['jobs_cancelled', this.cancelledCount],
    ];
  }

  // -- internals --

  private chain<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.running.then(fn);
    this.running = run.catch(() => undefined);
    return run;
  }

  private arm(): void {
    if (this.isStopped || this.timer !== undefined) return;
    const due = Math.min(...this.schedules.map((s) => s.nextDue));
    if (due === Infinity) return;
    const timer = setTimeout(() => {
      this.timer = undefined;
      void this.runDue(this.clock()).catch(() => undefined).finally(() => this.arm());
    }, Math.max(0, due - this.clock()));
    // Node: a pending job must not keep the process alive. Browsers return a number.
    (timer as { unref?: () => void }).unref?.();
    this.timer = timer;
  }

  /** The flush check exists only while some table has a FLUSH_POLICY (nothing runs for what nothing uses). */
  private isWanted(type: ScheduledType): boolean {
    return type !== 'flush' || this.env.hasFlushPolicies?.() === true;
  }

  private finishCancelled(record: JobRecord): void {
    record.status = 'cancelled';
    record.message = record.message ?? 'Cancelled by KILL JOB';
    record.finished_at = this.clock();
    this.cancelled.delete(record.job_id);
    this.cancelledCount++;
  }

  /** Runs one recorded job to its final status; never throws. */
  private async runRecorded(record: JobRecord, work: Parameters<RecordedRunner>[2]): Promise<JobRecord> {
    if (record.status === 'cancelled') return record;
    if (this.isStopped) {
      record.status = 'cancelled';
      record.message = 'Cancelled: the database closed before the job started';
      record.finished_at = this.clock();
      return record;
    }
    record.status = 'running';
    record.started_at = this.clock();
    const isCancelled = () => this.cancelled.has(record.job_id);
    try {
      await work(record, isCancelled);
      if (isCancelled() && record.status === 'running') this.finishCancelled(record);
      if (record.status !== 'running') return record; // the work chose skipped / cancelled itself
      record.status = 'completed';
      record.finished_at = this.clock();
      this.completed++;
      if (record.job_type === 'flush') this.removed.flush += record.rows_affected;
    } catch (e) {
      this.fail(record, e);
    } finally {
      this.cancelled.delete(record.job_id);
    }
    return record;
  }

  private readonly runner: RecordedRunner = (t, parameters, work) => this.runRecorded(this.history.start(t, parameters, this.clock()), work);

  private async runType(type: ScheduledType, now: number): Promise<JobRecord[]> {
    if (this.isStopped) return [];
    if (type === 'flush') {
      if (!this.env.flushDue) return [];
      try {
        return await this.env.flushDue(now, this.runner);
      } catch (e) {
        const record = this.history.start(type, {}, this.clock());
        this.fail(record, e);
        return [record];
      }
    }
    let jobs: TableJob[];
    if (type === 'retention') {
      // Cold tombstones past retention are dropped by compacting their segments (queued behind this run).
      try {
        this.env.compactExpired?.(now);
      } catch (e) {
        this.fail(this.history.start('compact', {}, this.clock()), e);
      }
    }
    try {
      const tables = this.env.catalog.listTables();
      jobs = type === 'stream_eviction' ? planStreamEviction(tables, this.env.hot, now) : planRetention(tables, this.env.hot, now, this.env.coldMayHold);
    } catch (e) {
      const record = this.history.start(type, {}, this.clock());
      this.fail(record, e);
      return [record];
    }
    const out: JobRecord[] = [];
    for (const job of jobs) {
      if (this.isStopped) break;
      const record = await this.runTableJob(job);
      if (record) out.push(record);
    }
    if (type === 'retention' && this.env.purgeFiles && !this.isStopped) out.push(...(await this.env.purgeFiles(now, this.runner)));
    return out;
  }

  /** Removes the job's rows batch by batch; returns its record, or undefined when there was nothing to remove. */
  private async runTableJob(job: TableJob): Promise<JobRecord | undefined> {
    const { env } = this;
    const batchSize = this.settings.jobBatchSize;
    const removals = job.removals();
    let record: JobRecord | undefined;
    try {
      for (;;) {
        if (this.isStopped) {
          if (record) record.message = `Stopped early: the database is closing (${record.rows_affected} row(s) removed)`;
          break;
        }
        const taken = await env.withWriteLock(async () => {
          // A table dropped or redefined since planning: its rows and layout are not ours to touch.
          if (env.catalog.tableById(job.table.id) !== job.table) return -1;
          const batch: RowChange[] = [];
          while (batch.length < batchSize) {
            const next = removals.next();
            if (next.done) break;
            batch.push(next.value);
          }
          if (batch.length === 0) return 0;
          record ??= this.history.start(job.type, job.parameters, this.clock());
          await env.commit(batch);
          record.rows_affected += batch.length;
          this.removed[job.type] += batch.length;
          return batch.length;
        });
        if (taken === -1 && record) record.message = `Stopped early: table ${job.table.namespace}.${job.table.name} was dropped or altered`;
        if (taken < batchSize) break;
      }
    } catch (e) {
      record ??= this.history.start(job.type, job.parameters, this.clock());
      this.fail(record, e);
      return record;
    }
    if (!record) return undefined;
    record.status = 'completed';
    record.message ??= job.type === 'stream_eviction'
      ? `Evicted ${record.rows_affected} expired row(s) from ${job.table.namespace}.${job.table.name}`
      : `Purged ${record.rows_affected} deleted row(s) from ${job.table.namespace}.${job.table.name}`;
    record.finished_at = this.clock();
    this.completed++;
    return record;
  }

  private fail(record: JobRecord, e: unknown): void {
    const err = toKalamError(e);
    record.status = 'failed';
    record.message = `${err.code}: ${err.message}`;
    record.finished_at = this.clock();
    this.failed++;
  }
}
