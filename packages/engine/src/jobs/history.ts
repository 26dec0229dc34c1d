/**
 * The job history behind `system.jobs`: in memory only (it is diagnostics,
 * not data) and bounded by `maxJobHistory`. Adding a record past the bound
 * drops the oldest one — that is kalamlite's `job_cleanup`, done on every
 * append so the bound always holds; the count of dropped records is in
 * `system.stats` (`job_history_dropped`).
 */
import { JOB_ID_PREFIX, type JobRecord, type JobType } from './job';

export class JobHistory {
  /** Oldest first; `records.length <= max`. */
  private readonly records: JobRecord[] = [];
  private nextId = 1;
  private droppedCount = 0;

  constructor(readonly max: number) {}

  get size(): number {
    return this.records.length;
  }

  /** Records dropped to keep the bound (job_cleanup). */
  get dropped(): number {
    return this.droppedCount;
  }

  list(): readonly JobRecord[] {
    return this.records;
  }

  find(jobId: string): JobRecord | undefined {
    return this.records.find((r) => r.job_id === jobId);
  }

  /** Creates and keeps a record in status `running` (or `queued` when asked: it starts later). */
  start(type: JobType, parameters: JobRecord['parameters'], now: number, status: 'running' | 'queued' = 'running'): JobRecord {
    const record: JobRecord = {
      job_id: `${JOB_ID_PREFIX[type]}${String(this.nextId++).padStart(8, '0')}`,
      job_type: type,
      status,
      parameters,
      message: null,
      created_at: now,
      started_at: status === 'running' ? now : null,
      finished_at: null,
      rows_affected: 0,
    };
    this.records.push(record);
    const overflow = this.records.length - this.max;
    if (overflow > 0) {
      this.records.splice(0, overflow);
      this.droppedCount += overflow;
    }
    return record;
  }
}
