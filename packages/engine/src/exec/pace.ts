/**
 * Pacing a statement: execution is synchronous generators pulling rows, so
 * a long statement would hold the worker's one thread until it ends. Scans
 * instead yield PAUSE — a sentinel in the row stream, never a row — once
 * the statement has run for its time slice; every operator passes PAUSE on
 * unchanged, and the top-level driver (`drain`) yields to the event loop
 * there, so other clients' statements and commits run in between. At the
 * same points a cancelled statement stops (QUERY_CANCELLED) and one past its
 * time budget fails (STATEMENT_TIMEOUT).
 *
 * Consumers that cannot wait (a subquery inside an expression, a write
 * computing its changes under the write lock) skip PAUSE: they still stop
 * on cancellation and timeout, they only do not give the thread away.
 *
 * Invariant: PAUSE is the only Tuple compared by identity; an operator
 * that buffers rows never stores it, one that counts rows never counts it.
 */
import { yieldToEventLoop } from '../core/yield';
import { KalamError } from '../core/errors';
import type { CancelSignal, ExecContext, Pace, Tuple } from './context';

export type { CancelSignal, Pace };

/** The pause sentinel: an empty frozen tuple no row is identical to. */
export const PAUSE: Tuple = Object.freeze([]) as Tuple;

/** Rows between clock reads when the slice is not 0. */
const CHECK_EVERY = 256;

export function newPace(sliceMs: number, budgetMs: number, signal?: CancelSignal): Pace {
  const now = performance.now();
  return { sliceMs, sliceStart: now, deadline: budgetMs > 0 ? now + budgetMs : Infinity, budgetMs, signal, rows: 0 };
}

/** Throws when the statement was cancelled or ran past its budget. */
export function checkStop(pace: Pace, now = performance.now()): void {
  if (pace.signal?.isCancelled) {
    throw new KalamError('QUERY_CANCELLED', `The statement was cancelled${pace.signal.reason ? `: ${pace.signal.reason}` : ''}`);
  }
  if (now > pace.deadline) {
    throw new KalamError(
      'STATEMENT_TIMEOUT',
      `The statement ran longer than its time budget of ${pace.budgetMs} ms (statementTimeoutMs): narrow it with a WHERE on the primary key, add a LIMIT, or raise the budget`,
    );
  }
}

/** True when the current slice is used up (and the stop conditions hold); called once per row by scans. */
export function isSliceOver(pace: Pace): boolean {
  if (pace.sliceMs > 0 && ++pace.rows < CHECK_EVERY) return false;
  pace.rows = 0;
  const now = performance.now();
  checkStop(pace, now);
  return now - pace.sliceStart >= pace.sliceMs;
}

/** A scan's rows with PAUSE yielded whenever the statement's slice is used up. */
export function* paced(rows: Iterable<Tuple>, ctx: ExecContext): Generator<Tuple> {
  const pace = ctx.pace;
  if (!pace) {
    yield* rows;
    return;
  }
  for (const row of rows) {
    if (row !== PAUSE && isSliceOver(pace)) yield PAUSE;
    yield row;
  }
}

/** Every row, PAUSE skipped: for consumers that cannot wait (they still stop on cancel/timeout, checked by the scans). */
export function collect(rows: Iterable<Tuple>): Tuple[] {
  const out: Tuple[] = [];
  for (const row of rows) if (row !== PAUSE) out.push(row);
  return out;
}

/**
 * Every row, giving the thread away at each PAUSE: the driver of a
 * statement whose caller can wait (a query). A new slice starts after each
 * pause.
 */
export async function drain(rows: Iterable<Tuple>, ctx: ExecContext): Promise<Tuple[]> {
  const out: Tuple[] = [];
  const it = rows[Symbol.iterator]();
  for (;;) {
    const r = it.next();
    if (r.done) break;
    if (r.value !== PAUSE) {
      out.push(r.value);
      continue;
    }
    await yieldToEventLoop();
    // A scan paused for cold row groups being loaded (storage/partition-view.ts WAIT).
    await ctx.cold?.loading?.();
    if (ctx.pace) {
      checkStop(ctx.pace);
      ctx.pace.sliceStart = performance.now();
    }
  }
  return out;
}
