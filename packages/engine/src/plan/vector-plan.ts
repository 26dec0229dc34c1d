/**
 * The hook a SELECT block's planning (plan/block.ts) calls for `ORDER BY
 * <distance>(col, <constant>) LIMIT k` over one table with a vector index;
 * registered when vector indexes load (execute/vector-index.ts), so until
 * then no table has one and this file is all worker.js carries.
 */
import type { TableDef, VectorIndexDef } from '../core/schema';
import type { Value } from '../core/types';
import type { ExecContext } from '../exec/context';
import type { Expr } from '../sql/ast';
import type { RowSource } from './scan-plan';
import type { Scope } from './scope';
import type { RelationSource } from './source';
import type { ScanBounds } from '../storage/cold/prune';
import type { ColdReads } from '../storage/cold/types';

/**
 * A vector index read a plan makes without a WHERE: before an execution
 * (ColdReader.prepare) it gives its candidates' primary keys as bounds, so
 * only their cold row groups are loaded, and is told the reads they went to.
 */
export interface VectorColdRequest {
  tableId: number;
  narrow(user: string, params: readonly Value[]): { bounds: ScanBounds; prepared(reads: ColdReads): void } | undefined;
}

/** The requests of the plan being made, then by plan (plans live in the plan cache; a WeakMap lets them go). */
export const vectorPlanning: { current: VectorColdRequest[] | undefined; readonly byPlan: WeakMap<object, VectorColdRequest[]> } = { current: undefined, byPlan: new WeakMap() };

/** A plan is begun (execute/planner.ts). */
export function beginVectorPlan(): void {
  vectorPlanning.current = planner ? [] : undefined;
}

/** The plan begun last is made. */
export function vectorPlanned(plan: object): void {
  const requests = vectorPlanning.current;
  vectorPlanning.current = undefined;
  if (requests && requests.length > 0) vectorPlanning.byPlan.set(plan, requests);
}

/** A partition's graphs as the planner reads them (execute/vector-index.ts). */
export interface VectorSearcher {
  /** Primary keys of the `count` nearest rows, nearest first; undefined when the graph is not built. */
  search(t: TableDef, vi: VectorIndexDef, partition: string, query: Float32Array, count: number, ef: number): Value[] | undefined;
  sizeOf(t: TableDef, vi: VectorIndexDef, partition: string): number | undefined;
  isBuilt(t: TableDef, vi: VectorIndexDef, partition: string): boolean;
  /** The least ef a search uses (setting vector_index_ef). */
  readonly ef: number;
  fallbacks: number;
}

export interface VectorPlanRequest {
  src: RelationSource;
  scope: Scope;
  /** The ORDER BY key (resolved through the select list) and its direction. */
  order: Expr;
  descending: boolean;
  where: Expr | undefined;
  /** The rows without the index (the WHERE's scan): the exact path. */
  exact: RowSource;
  /** LIMIT + OFFSET of an execution. */
  keep: (ctx: ExecContext) => number | undefined;
}

type VectorPlanner = (req: VectorPlanRequest, searcher: VectorSearcher) => RowSource | undefined;

let planner: { plan: VectorPlanner; searcher: VectorSearcher } | undefined;

export function registerVectorPlanner(plan: VectorPlanner, searcher: VectorSearcher): void {
  planner = { plan, searcher };
}

/** Candidate rows through the table's vector index (a superset of the top k the sort then orders exactly), or undefined: plan as usual. */
export function planVectorOrder(req: VectorPlanRequest): RowSource | undefined {
  return planner && req.src.table?.vectorIndexes ? planner.plan(req, planner.searcher) : undefined;
}
