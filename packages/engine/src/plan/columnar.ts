/**
 * Decides whether an aggregate takes the columnar path
 * (exec/columnar-aggregate.ts): one table read whole (no WHERE, no join),
 * GROUP BY of plain columns or none, and only COUNT(*), and COUNT, SUM,
 * AVG, MIN or MAX of a plain column (no DISTINCT, FILTER or ORDER BY).
 * Anything else, and every execution while `columnarAggregates.enabled` is
 * off, takes the row path. Loaded on first use with the columnar
 * aggregation (execute/sql-extensions.ts), set in plan/block.ts's
 * aggregateHooks.
 */
import { columnarAggregate, columnarAggregates, type ColumnFold } from '../exec/columnar-aggregate';
import type { ExecContext, Tuple } from '../exec/context';
import type { Expr } from '../sql/ast';
import type { ColdRun } from '../storage/partition-view';
import type { ColumnarAggregatePlanner } from './block';
import { safeResolve } from './expr-walk';
import type { RelationSource } from './source';

const FOLDED = new Set(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX']);

/**
 * The table's visible rows in key order, with runs of cold rows no newer
 * version shadows as ColdRuns (tombstones included: the fold skips them),
 * counted in system.stats (paced by exec/columnar-aggregate.ts). A STREAM
 * table (expiry is per row) never comes here.
 */
function* partitionRuns(src: RelationSource, ctx: ExecContext): Generator<Tuple | ColdRun> {
  const tier = ctx.cold?.tier;
  let last: unknown;
  for (const row of src.rows(ctx, { includeDeleted: false, runs: true }) as Iterable<Tuple | ColdRun>) {
    if (!Array.isArray(row)) {
      const run = row as ColdRun;
      if (tier && run.group !== last) tier.columnarGroups++;
      last = run.group;
    }
    yield row;
  }
}

export const planColumnarAggregate: ColumnarAggregatePlanner = (stmt, sources, scope, groupKeys, aggs) => {
  const src = sources[0]?.src;
  const t = src?.table;
  if (sources.length !== 1 || stmt.where || !t || t.type === 'STREAM') return undefined;
  // A stored column of the table (not `_seq` / `_deleted`, not an enclosing query's).
  const slotOf = (e: Expr) => {
    const slot = e.kind === 'column' ? safeResolve(scope, e) : -1;
    return slot < t.columns.length ? slot : -1;
  };
  const groupSlots = groupKeys.map(slotOf);
  if (groupSlots.some((s) => s < 0)) return undefined;
  const folds: ColumnFold[] = [];
  for (const { expr, spec } of aggs) {
    if (expr.kind !== 'call' || !FOLDED.has(spec.name) || spec.distinct || spec.filter || spec.orderBy) return undefined;
    const slot = expr.star ? -1 : slotOf(expr.args[0]);
    if (!expr.star && slot < 0) return undefined;
    folds.push({ spec, slot });
  }
  return (ctx) => (columnarAggregates.enabled ? columnarAggregate(partitionRuns(src, ctx), groupSlots, folds, ctx) : undefined);
};
