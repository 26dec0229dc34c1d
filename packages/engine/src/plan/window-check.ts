/**
 * The part of window function planning every SELECT block runs (block.ts):
 * where window functions may appear and their types. Planning the Window
 * operator itself (window-plan.ts, exec/window-fn.ts) is a SQL extension
 * loaded on first use (execute/sql-extensions.ts): it registers here.
 */
import { KalamError } from '../core/errors';
import type { ColumnInfo } from '../core/types';
import type { Expr, SelectStmt } from '../sql/ast';
import { isAggregateCall, walk } from './expr-walk';
import type { planWindows } from './window-plan';

type WindowExpr = Extract<Expr, { kind: 'window' }>;

const AGGREGATE_NAMES = new Set<string>(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX']);

export function containsWindow(e: Expr | undefined): boolean {
  if (!e) return false;
  let found = false;
  walk(e, (x) => { if (x.kind === 'window') found = true; });
  return found;
}

/**
 * Refuses window functions where PostgreSQL does (they are computed after
 * WHERE, GROUP BY and HAVING, so they cannot be read there), and inside an
 * aggregate's arguments or another window function.
 */
export function checkWindowPlacement(stmt: SelectStmt): void {
  const refuse = (e: Expr | undefined, where: string) => {
    if (containsWindow(e)) {
      throw new KalamError('INVALID_SQL', `Window functions are not allowed in ${where}: compute them in a subquery, then filter its rows (SELECT … FROM (SELECT …, row_number() OVER (…) AS n FROM t) AS s WHERE n <= 3)`);
    }
  };
  refuse(stmt.where, 'WHERE');
  stmt.groupBy.forEach((g) => refuse(g, 'GROUP BY'));
  refuse(stmt.having, 'HAVING');
  stmt.from.forEach((f) => refuse(f.on, 'JOIN conditions'));
  const inSelect = [...stmt.items.map((i) => i.expr), ...stmt.orderBy.map((o) => o.expr)];
  for (const e of inSelect) {
    walk(e, (x) => {
      if (isAggregateCall(x) && (x.args.some(containsWindow) || containsWindow(x.filter))) {
        throw new KalamError('INVALID_SQL', 'Aggregate function calls cannot contain window function calls: compute the window function in a subquery first');
      }
      if (x.kind === 'window' && (x.args.some(containsWindow) || x.over.partitionBy.some(containsWindow) || x.over.orderBy.some((o) => containsWindow(o.expr)))) {
        throw new KalamError('INVALID_SQL', 'Window function calls cannot be nested: compute the inner one in a subquery first');
      }
    });
  }
}

/** The type of a window function's values, given its first argument's. */
export function windowType(w: WindowExpr, argType: () => ColumnInfo['type']): ColumnInfo['type'] {
  switch (w.name) {
    case 'ROW_NUMBER': case 'RANK': case 'DENSE_RANK': case 'NTILE': case 'COUNT': return 'INT';
    case 'PERCENT_RANK': case 'CUME_DIST': case 'AVG': return 'DOUBLE';
    default: return AGGREGATE_NAMES.has(w.name) || w.args.length > 0 ? argType() : 'UNKNOWN';
  }
}

let planner: typeof planWindows | undefined;

/** Called by the window functions extension as it loads. */
export function registerWindowPlanner(plan: typeof planWindows): void {
  planner = plan;
}

/** The window planner; UNSUPPORTED when a statement reached planning without the extension loading first (a bug). */
export function windowPlanner(): typeof planWindows {
  if (planner === undefined) {
    throw new KalamError('UNSUPPORTED', 'Window functions are not loaded: this statement reached planning before they were loaded (execute/sql-extensions.ts). This is a bug in kalamlite; please report it with the statement');
  }
  return planner;
}
