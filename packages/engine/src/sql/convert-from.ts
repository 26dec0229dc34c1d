/**
 * The FROM list (`fromItems`): tables, subqueries, joins (INNER, LEFT,
 * RIGHT, FULL, CROSS; ON or USING) — and items that are neither tables nor
 * subqueries, converted into subqueries the planner already knows:
 * - `(VALUES (…), (…)) AS t (a, b)` (and a top-level `VALUES …`, which
 *   rewrite.ts wraps as one) becomes `SELECT … UNION ALL SELECT …`, so
 *   its columns take their names (`column1`, `column2`, … unless aliased)
 *   and types as a UNION's do; its rows count against maxSetOperationArms.
 * - `generate_series(start, stop[, step]) AS s (n)` becomes the one-item
 *   query `SELECT generate_series(…) AS n`, which plan/select.ts plans as a
 *   row source (plan/generate-series.ts, a SQL extension).
 */
import { KalamError } from '../core/errors';
import type { Expr, FromTable, SelectStmt, TableName } from './ast';
import { limitExceeded } from './limits';

/* node-sql-parser's AST is untyped JSON; we read it structurally. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Node = any;

/** What the FROM conversion needs of convert.ts (passed in: convert.ts imports this module). */
export interface FromConverter {
  expr(x: Node): Expr;
  exprList(x: Node, what: string): Expr[];
  tableName(x: Node): TableName;
  identText(x: Node): string;
  selectStmt(x: Node): SelectStmt;
  unionAll(members: SelectStmt[]): SelectStmt;
  /** The rows a VALUES list may have (maxSetOperationArms). */
  maxValuesRows(): number;
}

const unsupported = (what: string): never => {
  throw new KalamError('UNSUPPORTED', `${what} is not supported yet`);
};

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

/** `AS s(a, b)` reaches us as the string 's(a, b)'. */
function aliasOf(identText: (x: Node) => string, as: Node): { alias: string; columns?: string[] } {
  const text = identText(as);
  const m = /^\s*([^\s(]+)\s*\(([^)]*)\)\s*$/.exec(text);
  if (!m) return { alias: text.toLowerCase() };
  return { alias: m[1].replace(/^"|"$/g, '').toLowerCase(), columns: m[2].split(',').map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase()) };
}

/** The FROM list as our FromTable items. */
export function fromItems(from: Node[] | null, c: FromConverter): FromTable[] {
  if (!from) return [];
  return from.map((f, i) => {
    let join: FromTable['join'] = 'first';
    if (i > 0) {
      const j = String(f.join ?? 'CROSS JOIN').toUpperCase();
      if (j === 'INNER JOIN' || j === 'JOIN') join = 'inner';
      else if (j === 'LEFT JOIN' || j === 'LEFT OUTER JOIN') join = 'left';
      else if (j === 'RIGHT JOIN' || j === 'RIGHT OUTER JOIN') join = 'right';
      else if (j === 'FULL JOIN' || j === 'FULL OUTER JOIN') join = 'full';
      else if (j === 'CROSS JOIN') join = 'cross';
      else unsupported(j);
    }
    let item: FromTable;
    if (f.expr?.type === 'values') {
      const rows = (f.expr.values as Node[]).map((r) => c.exprList(r, 'A VALUES row'));
      const { alias, columns } = f.as ? aliasOf(c.identText, f.as) : { alias: '*values*', columns: undefined };
      item = { table: { name: alias }, subquery: valuesQuery(rows, c.maxValuesRows(), c.unionAll), alias, join };
      if (columns) item.columnAliases = columns;
    } else if (f.expr?.type === 'function') {
      const call = c.expr(f.expr);
      if (call.kind !== 'call') return unsupported('This expression in FROM');
      const as = f.as ? aliasOf(c.identText, f.as) : undefined;
      const { query, alias } = tableFunctionQuery(call, as?.alias, as?.columns);
      item = { table: { name: alias }, subquery: query, alias, join };
    } else if (f.expr) {
      if (!f.expr.ast) unsupported('This expression in FROM');
      if (String(f.prefix ?? '').toUpperCase() === 'LATERAL') unsupported('LATERAL');
      if (!f.as) throw new KalamError('INVALID_SQL', 'A subquery in FROM needs an alias: (SELECT …) AS name');
      const { alias, columns } = aliasOf(c.identText, f.as);
      item = { table: { name: alias }, subquery: c.selectStmt(f.expr.ast), alias, join };
      if (columns) item.columnAliases = columns;
    } else {
      item = { table: c.tableName(f), join };
      if (f.as) item.alias = c.identText(f.as).toLowerCase();
    }
    if (f.on) item.on = c.expr(f.on);
    if (Array.isArray(f.using)) item.using = (f.using as Node[]).map((u) => c.identText(u).toLowerCase());
    return item;
  });
}
