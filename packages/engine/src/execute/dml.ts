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
import type { ColdReads } from '../storage/cold/types';
import type { PreparedCold } from './cold-reads';
import type { GroupCommitter } from './group-commit';
import type { Plan, Planned, StatementPlanner } from './planner';
import { okResult, rowsResult } from './results';
import type { SessionState } from './session-state';
import { STREAM_REFUSED, type CommittedLookup, type Transaction } from './transaction';

export interface DmlContext {
  readonly catalog: Catalog;
  readonly planner: StatementPlanner;
  readonly groups: GroupCommitter;
  committedLookup(cold?: ColdReads): CommittedLookup;
  assertOpen(): void;
  context(state: SessionState, params: readonly Value[], tx?: Transaction): ExecContext;
  prepareCold(plan: { tableIds: readonly number[] }, user: string, params: readonly Value[]): Promise<PreparedCold>;
}

/** Runs a planned statement; `text` and `params` re-plan a write whose tables an ALTER changed while it waited. */
export async function runPlanned(
  engine: DmlContext,
  state: SessionState,
  planned: Extract<Planned, { plan: Plan }>,
  text: string,
  params: readonly Value[],
  tx?: Transaction,
): Promise<StatementResult> {
  const { plan } = planned;
  if (tx) {
    const prepared = await engine.prepareCold(plan, state.user, planned.params);
    try {
      return runInTransaction(engine, tx, state, plan, planned.params, prepared.reads);
    } finally {
      prepared.release();
    }
  }
  if (plan.kind === 'select') {
    const prepared = await engine.prepareCold(plan, state.user, planned.params);
    try {
      return rowsResult(plan.columns, plan.run({ ...engine.context(state, planned.params), cold: prepared.reads }));
    } finally {
      prepared.release();
    }
  }
  checkWrite(state.role, plan.target);
  const stamp = engine.planner.schemaStamp(plan.tableIds);
  const prepared = await engine.prepareCold(plan, state.user, planned.params);
  const outcome = await engine.groups.join((staged) => {
    engine.assertOpen();
    // An ALTER TABLE that ran while this write waited for the lock changed the row layout: plan it again.
    const current = engine.planner.schemaStamp(plan.tableIds) === stamp ? planned : engine.planner.plan(state, text, params);
    if ('stmt' in current || current.plan.kind !== 'write') throw new KalamError('INTERNAL', 'Internal error: a write statement re-planned as something else. This is a bug in kalamlite; please report it.');
    if (current !== planned) checkWrite(state.role, current.plan.target);
    return current.plan.run({ ...engine.context(state, current.params), staged, cold: prepared.reads });
  }).finally(() => prepared.release());
  return okResult(outcome.message, outcome.count);
}

/** A statement inside an open transaction: reads see its staged rows, writes are staged. */
function runInTransaction(engine: DmlContext, tx: Transaction, state: SessionState, plan: Plan, params: Value[], cold?: ColdReads): StatementResult {
  tx.assertOpen();
  for (const id of plan.tableIds) {
    if (engine.catalog.tableById(id)?.type === 'STREAM') throw new KalamError('TRANSACTION_ERROR', STREAM_REFUSED);
  }
  const ctx: ExecContext = { ...engine.context(state, params, tx), cold };
  if (plan.kind === 'select') return rowsResult(plan.columns, plan.run(ctx));
  checkWrite(state.role, plan.target);
  engine.assertOpen();
  const outcome = plan.run(ctx);
  tx.stage(outcome.changes, engine.committedLookup(cold));
  return okResult(outcome.message, outcome.count);
}
