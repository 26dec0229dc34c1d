/**
 * FROM items that are neither tables nor subqueries, converted into
 * subqueries the planner already knows:
 * - `(VALUES (…), (…)) AS t (a, b)` (and a top-level `VALUES …`, which
 *   rewrite.ts wraps as one) becomes `SELECT … UNION ALL SELECT …`, so
 *   its columns take their names (`column1`, `column2`, … unless aliased)
 *   and types as a UNION's do; its rows count against maxSetOperationArms.
 * - `generate_series(start, stop[, step]) AS s (n)` becomes the one-item
 *   query `SELECT generate_series(…) AS n`, which plan/select.ts plans as a
 *   row source (plan/generate-series.ts, a SQL extension).
 */
import { KalamError } from '../core/errors';
import type { Expr, SelectStmt } from './ast';
import { limitExceeded } from './limits';

const block = (items: SelectStmt['items']): SelectStmt => ({ kind: 'select', distinct: false, items, from: [], groupBy: [], orderBy: [] });

/** The rows of a VALUES list as a query; `unionAll` combines several. */
export function valuesQuery(rows: readonly Expr[][], maxRows: number, unionAll: (members: SelectStmt[]) => SelectStmt): SelectStmt {
  if (rows.length > maxRows) throw limitExceeded('maxSetOperationArms', `A VALUES list of ${rows.length.toLocaleString('en-US')} rows`, maxRows);
  const width = rows[0].length;
  if (rows.some((r) => r.length !== width)) throw new KalamError('INVALID_SQL', 'VALUES lists must all be the same length');
  const members = rows.map((r) => block(r.map((e, i) => ({ expr: e, alias: `column${i + 1}` }))));
  return members.length === 1 ? members[0] : unionAll(members);
}

/** The table functions FROM accepts. */
export const TABLE_FUNCTIONS = new Set(['GENERATE_SERIES']);

/** `fn(…) AS alias (column)` as the one-item query plan/select.ts plans as a row source. */
export function tableFunctionQuery(call: Expr & { kind: 'call' }, alias: string | undefined, columns: readonly string[] | undefined): { query: SelectStmt; alias: string } {
  if (!TABLE_FUNCTIONS.has(call.name)) {
    throw new KalamError('UNSUPPORTED', `Function ${call.name.toLowerCase()}() is not supported in FROM: the table functions are generate_series(start, stop[, step]) and VALUES`);
  }
  if (columns && columns.length > 1) throw new KalamError('INVALID_SQL', `${call.name.toLowerCase()}() returns one column, but ${columns.length} column names are given`);
  const name = alias ?? call.name.toLowerCase();
  return { query: block([{ expr: call, alias: columns?.[0] ?? name }]), alias: name };
}

/** The call of a query tableFunctionQuery built (or one written `SELECT generate_series(…)`), else undefined. */
export function tableFunctionCall(q: SelectStmt): (Expr & { kind: 'call' }) | undefined {
  if (q.setOp || q.from.length > 0 || q.items.length !== 1 || q.where || q.groupBy.length > 0 || q.having || q.orderBy.length > 0 || q.limit || q.offset || q.distinct || q.distinctOn) return undefined;
  const e = q.items[0].expr;
  return e.kind === 'call' && TABLE_FUNCTIONS.has(e.name) ? e : undefined;
}
