/**
 * EXPLAIN [ANALYZE] <select>: the plan as rows, one per operator, in tree
 * order (`id`, `parent_id`), with each scan's relation and access path, the
 * cold row groups its WHERE let it skip, an estimate of the rows it reads
 * and, with ANALYZE (the statement is run, its rows thrown away), the rows
 * each operator produced and the time spent in it, its inputs included.
 */
import { partitionOf, type TableDef } from '../core/schema';
import type { StatementResult, Value } from '../core/types';
import { drain, type CancelSignal, type Pace } from '../exec/pace';
import type { ExecContext } from '../exec/context';
import type { PlanNode } from '../plan/explain';
import type { ColdReads } from '../storage/cold/types';
import type { ColdTier } from '../storage/cold/cold-tier';
import type { HotTier } from '../storage/hot-tier';
import type { PreparedCold } from './cold-reads';
import { estimatePartitionRows } from './partition-views';
import type { StatementPlanner } from './planner';
import { rowsResult } from './results';
import type { SessionState } from './session-state';

export interface ExplainContext {
  readonly planner: StatementPlanner;
  readonly hot: HotTier;
  readonly cold: ColdTier;
  context(state: SessionState, params: readonly Value[]): ExecContext;
  pace(signal?: CancelSignal): Pace;
  prepareCold(plan: { tableIds: readonly number[] }, user: string, params: readonly Value[]): Promise<PreparedCold>;
}

const COLUMNS = [
  { name: 'id', type: 'INT' },
  { name: 'parent_id', type: 'INT' },
  { name: 'operator', type: 'TEXT' },
  { name: 'detail', type: 'TEXT' },
  { name: 'estimated_rows', type: 'BIGINT' },
  { name: 'actual_rows', type: 'BIGINT' },
  { name: 'actual_loops', type: 'INT' },
  { name: 'actual_ms', type: 'DOUBLE' },
] as const;

export async function executeExplain(
  engine: ExplainContext,
  state: SessionState,
  stmt: { analyze: boolean; text: string },
  params: readonly Value[],
  signal?: CancelSignal,
): Promise<StatementResult> {
  const { plan, params: all } = engine.planner.planExplained(state, stmt.text, params, stmt.analyze);
  const prepared = await engine.prepareCold(plan, state.user, all);
  try {
    const ctx: ExecContext = { ...engine.context(state, all), cold: prepared.reads, pace: engine.pace(signal) };
    if (stmt.analyze) await drain(plan.rows(ctx), ctx);
    const rows: Value[][] = [];
    const visit = (node: PlanNode, parent: number | null) => {
      node.resolve?.(ctx); // a join order chosen per execution: the one this session's estimates give
      const id = rows.length + 1;
      const table = node.source?.table;
      const cold = table ? coldDetail(engine.cold, prepared.reads, table, state.user) : '';
      rows.push([
        id,
        parent,
        node.operator,
        node.detail + (cold ? `; ${cold}` : ''),
        node.estimate !== undefined ? BigInt(node.estimate) : node.access === 'pk lookup' ? 1n : table ? BigInt(estimateRows(engine, table, state.user)) : null,
        node.actual ? BigInt(node.actual.rows) : null,
        node.actual ? node.actual.loops : null,
        node.actual ? Math.round(node.actual.ms * 1000) / 1000 : null,
      ]);
      for (const child of node.children) visit(child, id);
    };
    if (plan.explain) visit(plan.explain, null);
    return rowsResult(COLUMNS.map((c) => ({ ...c })), rows);
  } finally {
    prepared.release();
  }
}

/** Rows a full read of the session's partition may meet: hot rows plus cold rows (older versions included: an upper bound). */
function estimateRows(engine: ExplainContext, t: TableDef, user: string): number {
  return estimatePartitionRows(engine.hot, engine.cold, t.id, partitionOf(t, user));
}

/** "cold: 2 of 40 row groups in 1 of 3 segments" for the session's partition; '' when it has no segment. */
function coldDetail(cold: ColdTier, reads: ColdReads, t: TableDef, user: string): string {
  const partition = partitionOf(t, user);
  const all = cold.manifest.segments(t.id, partition);
  if (all.length === 0) return '';
  let groups = 0;
  for (const m of all) groups += m.groups?.rows.length ?? 1;
  const read = reads.partition(t.id, partition)?.segments ?? [];
  let groupsRead = 0;
  for (const s of read) groupsRead += s.groups.length;
  return `cold: ${groupsRead} of ${groups} row groups in ${read.length} of ${all.length} segments read`;
}
