/**
 * Running a planned SELECT, INSERT, UPDATE or DELETE: prepare its cold
 * reads, then run it — a SELECT at once, a write by joining the forming
 * group commit, either inside an open transaction by staging its changes.
 */
import { checkWrite } from '../auth/permissions';
import type { Catalog } from '../catalog/catalog';
import { KalamError } from '../core/errors';
import type { StatementResult, Value } from '../core/types';
import type { ExecContext } from '../exec/context';
import { drain, type CancelSignal, type Pace } from '../exec/pace';
import { cancelled, type StatementSignal } from './queries';
import { NOT_LOADED, type ColdReads } from '../storage/cold/types';
import type { PreparedCold } from './cold-reads';
import type { GroupCommitter } from './group-commit';
import type { IndexHost } from './index-loader';
import type { WritePlan } from '../plan/write';
import type { Plan, Planned, StatementPlanner } from './planner';
import { okResult, rowsResult } from './results';
import type { SessionState } from './session-state';
import { STREAM_REFUSED, type CommittedLookup, type Transaction } from './transaction';

export interface DmlContext extends IndexHost {
  readonly catalog: Catalog;
  readonly planner: StatementPlanner;
  readonly groups: GroupCommitter;
  committedLookup(cold?: ColdReads): CommittedLookup;
  assertOpen(): void;
  waitForHotRoom(): Promise<void>;
  context(state: SessionState, params: readonly Value[], tx?: Transaction): ExecContext;
  /** A statement's pace: its time slice, time budget and cancellation (exec/pace.ts). */
  pace(signal?: CancelSignal): Pace;
  prepareCold(plan: { tableIds: readonly number[] }, user: string, params: readonly Value[], indexed?: boolean, lazy?: boolean): Promise<PreparedCold>;
}

/** Runs a planned statement; `text` and `params` re-plan a write whose tables an ALTER changed while it waited. */
export async function runPlanned(
  engine: DmlContext,
  state: SessionState,
  planned: Extract<Planned, { plan: Plan }>,
  text: string,
  params: readonly Value[],
  tx?: Transaction,
  signal?: StatementSignal,
): Promise<StatementResult> {
  const { plan } = planned;
  const pace = engine.pace(signal);
  if (tx) {
    const prepared = await engine.prepareCold(plan, state.user, planned.params);
    try {
      stopIfCancelled(signal);
      return await runInTransaction(engine, tx, state, plan, planned.params, prepared.reads, pace);
    } finally {
      prepared.release();
    }
  }
  // Cold groups load as the scans reach them; a read that could not wait for one (NOT_LOADED) runs again prepared in full.
  for (let lazy = true; plan.kind === 'select'; lazy = false) {
    const prepared = await engine.prepareCold(plan, state.user, planned.params, true, lazy);
    try {
      stopIfCancelled(signal);
      const ctx: ExecContext = { ...engine.context(state, planned.params), cold: prepared.reads, pace };
      return rowsResult(plan.columns, await drain(plan.rows(ctx), ctx));
    } catch (e) {
      if (!lazy || e !== NOT_LOADED) throw e;
    } finally {
      prepared.release();
    }
  }
  const replan = () => engine.planner.plan(state, text, params);
  return runWrite(engine, state, { plan, params: planned.params }, replan, () => engine.prepareCold(plan, state.user, planned.params), pace, signal);
}

/**
 * A write outside a transaction: waits for room in the hot tier, prepares
 * its cold reads (`prepare`: the row groups it may read), then joins the
 * forming group commit (one storage commit, through the one commit path).
 * `replan` plans it again when an ALTER TABLE changed one of its tables
 * while it waited for the write lock.
 */
export async function runWrite(
  engine: DmlContext,
  state: SessionState,
  planned: { plan: WritePlan; params: Value[] },
  replan: () => Planned,
  prepare: () => Promise<PreparedCold>,
  pace: Pace,
  signal?: StatementSignal,
): Promise<StatementResult> {
  const { plan } = planned;
  checkWrite(state.role, plan.target);
  await engine.waitForHotRoom();
  const stamp = engine.planner.schemaStamp(plan.tableIds);
  const prepared = await prepare();
  const outcome = await engine.groups.join((staged) => {
    engine.assertOpen();
    // Cancelled while it waited for the write lock: it writes nothing.
    stopIfCancelled(signal);
    // An ALTER TABLE that ran while this write waited for the lock changed the row layout: plan it again.
    const current = engine.planner.schemaStamp(plan.tableIds) === stamp ? planned : replan();
    if ('stmt' in current || current.plan.kind !== 'write') throw new KalamError('INTERNAL', 'Internal error: a write statement re-planned as something else. This is a bug in kalamlite; please report it.');
    if (current !== planned) checkWrite(state.role, current.plan.target);
    // The write lock is held: no pause, but the budget and cancellation still stop it.
    const computed = current.plan.run({ ...engine.context(state, current.params), staged, cold: prepared.reads, pace });
    // Its changes join the group's one commit (later members may build on them): it is not cancelled any more.
    signal?.markCommitting();
    const unique = engine.uniqueCheck?.(computed.changes, staged);
    return unique ? unique.then(() => computed) : computed;
  }).finally(() => {
    prepared.release();
    signal?.doneCommitting();
  });
  return okResult(outcome.message, outcome.count);
}

/** QUERY_CANCELLED when the statement was asked to stop. */
function stopIfCancelled(signal: CancelSignal | undefined): void {
  if (signal?.isCancelled) throw cancelled(signal.reason);
}

/** A statement inside an open transaction: reads see its staged rows, writes are staged. */
async function runInTransaction(engine: DmlContext, tx: Transaction, state: SessionState, plan: Plan, params: Value[], cold: ColdReads | undefined, pace: Pace): Promise<StatementResult> {
  tx.assertOpen();
  for (const id of plan.tableIds) {
    if (engine.catalog.tableById(id)?.type === 'STREAM') throw new KalamError('TRANSACTION_ERROR', STREAM_REFUSED);
  }
  const ctx: ExecContext = { ...engine.context(state, params, tx), cold, pace };
  if (plan.kind === 'select') return rowsResult(plan.columns, await drain(plan.rows(ctx), ctx));
  checkWrite(state.role, plan.target);
  engine.assertOpen();
  const outcome = plan.run(ctx);
  tx.stage(outcome.changes, engine.committedLookup(cold));
  return okResult(outcome.message, outcome.count);
}
