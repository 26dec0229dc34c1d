/**
 * Decides whether an aggregate takes the columnar path
 * (exec/columnar-aggregate.ts): one table read whole (no WHERE, no join),
 * GROUP BY of plain columns or none, and only COUNT(*), and COUNT, SUM,
 * AVG, MIN or MAX of a plain column (no DISTINCT, FILTER or ORDER BY).
 * Anything else, and every execution while `columnarAggregates.enabled` is
 * off, takes the row path. Loaded on first use with the columnar
 * aggregation (execute/sql-extensions.ts), registered with plan/block.ts.
 */
import { columnarAggregate, columnarAggregates, type ColumnFold } from '../exec/columnar-aggregate';
import type { Expr } from '../sql/ast';
import type { ColumnarAggregatePlanner } from './block';
import { safeResolve } from './expr-walk';

const FOLDED = new Set(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX']);

export const planColumnarAggregate: ColumnarAggregatePlanner = (src, scope, groupKeys, aggs) => {
  const t = src.table;
  const runs = src.runs?.bind(src);
  if (!t || !runs || t.type === 'STREAM') return undefined;
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
  return (ctx) => (columnarAggregates.enabled ? columnarAggregate(runs(ctx), groupSlots, folds, ctx) : undefined);
};
