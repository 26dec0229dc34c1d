/**
 * Running statements: what `system.queries` lists and `KILL QUERY` stops,
 * and the cancellation an AbortSignal passed to `query()` / `execute()`
 * asks for. One entry per call (a query, or a batch of an execute),
 * registered when the call starts and removed when it settles.
 *
 * Cancellation is cooperative: an entry is the statement's CancelSignal
 * (exec/pace.ts), and the statement stops with QUERY_CANCELLED at its next
 * pause point — a scan's time-slice check, the driver's yield, the start
 * of each statement of a batch, the moment a write gets the write lock. A
 * write computing its changes stops and writes nothing. Once a write's
 * changes are computed it is committing (`state: 'committing'`): it is no
 * longer cancelled, since other statements of its group commit may already
 * build on it; it commits or fails as a whole.
 *
 * KILL QUERY mirrors KILL LIVE QUERY (live/registry.ts): the dba and system
 * roles may kill any statement, every other role only its own user's; an
 * id the caller may not kill is QUERY_NOT_FOUND, as one that does not exist.
 */
import { canKillQuery } from '../auth/permissions';
import { KalamError } from '../core/errors';
import { thrownMessage } from '../core/json';
import type { Role } from '../core/types';
import type { CancelSignal } from '../exec/pace';
import type { QueryInfo } from '../system/tables';
import { QUERY_DEFAULTS } from '../core/defaults';

/** Characters of SQL text system.queries keeps per statement (PostgreSQL's track_activity_query_size). */
export const QUERY_SQL_CHARS = 1024;

export { QUERY_DEFAULTS };

/** What a caller may pass to stop a call: a standard AbortSignal (or anything shaped like one). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  readonly reason?: unknown;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** Options of one call (`query`, `execute`, `queryArrow`), as the api layer checked them. */
export interface CallOptions {
  /** Aborting it cancels the call (QUERY_CANCELLED). */
  signal?: AbortSignalLike;
  /** The client the session belongs to (session option `client`), shown in system.queries. */
  client?: string;
}

/** A statement's CancelSignal, told when a write starts committing (from then on it is not cancelled). */
export interface StatementSignal extends CancelSignal {
  /** The write's changes are computed: it commits whatever is asked now. */
  markCommitting(): void;
  /** The commit ended (the next statement of a batch can be cancelled again). */
  doneCommitting(): void;
}

export class RunningQuery implements StatementSignal {
  isCancelled = false;
  reason: string | undefined;
  /** 'committing' once a write's changes are computed (not cancelled any more). */
  state: 'running' | 'committing' = 'running';
  /** Removes the AbortSignal listener; set while one is attached. */
  detach: (() => void) | undefined;

  constructor(
    /** '' when the registry was full: the call runs untracked (its AbortSignal still works). */
    readonly id: string,
    readonly user: string,
    readonly role: Role,
    readonly client: string | undefined,
    readonly sql: string,
    readonly transactionId: string | undefined,
    readonly startedAt: number,
  ) {}

  /** Asks the statement to stop at its next pause point; false when it is already committing. */
  cancel(reason: string): boolean {
    if (this.state === 'committing') return false;
    if (!this.isCancelled) {
      this.isCancelled = true;
      this.reason = reason;
    }
    return true;
  }

  markCommitting(): void {
    this.state = 'committing';
  }

  doneCommitting(): void {
    this.state = 'running';
  }

  /** Throws QUERY_CANCELLED when the statement was asked to stop (at the points a batch checks between statements). */
  throwIfCancelled(): void {
    if (this.isCancelled && this.state !== 'committing') throw cancelled(this.reason);
  }
}

export function cancelled(reason: string | undefined): KalamError {
  return new KalamError('QUERY_CANCELLED', `The statement was cancelled${reason ? `: ${reason}` : ''}`);
}

/** Why an AbortSignal was aborted, in words (its reason read without running its code beyond name and message). */
function abortReason(signal: AbortSignalLike): string {
  let detail = '';
  try {
    const r = signal.reason;
    if (typeof r === 'string') detail = r;
    else if (r instanceof Error && r.name !== 'AbortError') detail = thrownMessage(r);
  } catch {
    // A reason that cannot be read says nothing more.
  }
  return `its AbortSignal was aborted${detail ? ` (${detail.length > 100 ? `${detail.slice(0, 100)}…` : detail})` : ''}`;
}

export class QueryRegistry {
  /** query id → running call; at most `maxRunning` entries, each removed when its call settles. */
  private readonly running = new Map<string, RunningQuery>();
  private next = 1;
  /** Calls that ran untracked because the registry was full. */
  untracked = 0;
  /** Calls that ended with QUERY_CANCELLED. */
  cancelledCount = 0;

  constructor(readonly maxRunning: number) {}

  get size(): number {
    return this.running.size;
  }

  /**
   * Registers a call. Throws QUERY_CANCELLED at once when its signal is
   * already aborted (nothing runs). Call `finish` when the call settles.
   */
  start(who: { user: string; role: Role }, sql: unknown, options: CallOptions, transactionId?: string): RunningQuery {
    const { signal } = options;
    if (signal?.aborted) {
      this.cancelledCount++;
      throw new KalamError('QUERY_CANCELLED', `The statement was cancelled before it started: ${abortReason(signal)}`);
    }
    const isTracked = this.running.size < this.maxRunning;
    const text = typeof sql === 'string' ? (sql.length > QUERY_SQL_CHARS ? `${sql.slice(0, QUERY_SQL_CHARS)}…` : sql) : '';
    const q = new RunningQuery(isTracked ? `Q${this.next++}` : '', who.user, who.role, options.client, text, transactionId, Date.now());
    if (isTracked) this.running.set(q.id, q);
    else this.untracked++;
    if (signal) {
      const onAbort = () => q.cancel(abortReason(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      q.detach = () => signal.removeEventListener('abort', onAbort);
    }
    return q;
  }

  /** The call settled: forgets it (and its signal listener). `error` is what it failed with, if it failed. */
  finish(q: RunningQuery, error?: unknown): void {
    q.detach?.();
    q.detach = undefined;
    if (q.id !== '') this.running.delete(q.id);
    if (error instanceof KalamError && error.code === 'QUERY_CANCELLED') this.cancelledCount++;
  }

  /** KILL QUERY: the statement stops at its next pause point. Answers what happened. */
  kill(queryId: string, by: { user: string; role: Role }): string {
    const q = this.running.get(queryId);
    if (!q || !canKillQuery(by, q.user)) {
      throw new KalamError('QUERY_NOT_FOUND', `Query '${queryId}' not found: it finished already, or it is not yours. Running statements are listed in system.queries (dba and system roles)`);
    }
    if (!q.cancel(`KILL QUERY '${queryId}' by '${by.user}'`)) return `Query '${queryId}' is committing its writes: it cannot be cancelled any more and will finish`;
    return `Query '${queryId}' cancelled`;
  }

  /** Every running call is asked to stop (the database is closing). */
  cancelAll(reason: string): void {
    for (const q of this.running.values()) q.cancel(reason);
  }

  list(now = Date.now()): QueryInfo[] {
    return [...this.running.values()].map((q) => ({
      query_id: q.id,
      user_id: q.user,
      role: q.role,
      owner: q.client ?? null,
      transaction_id: q.transactionId ?? null,
      state: q.state === 'committing' ? 'committing' : q.isCancelled ? 'cancelling' : 'running',
      started_at: q.startedAt,
      elapsed_ms: Math.max(0, now - q.startedAt),
      sql: q.sql,
    }));
  }
}
