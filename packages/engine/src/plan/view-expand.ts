/**
 * Views are expanded where they are read, under the reading session: each
 * FROM item naming a view becomes a derived table holding the view's query
 * (a fresh parse of its text), so the planner resolves the tables inside
 * it for the caller — a USER table's scan stays confined to the caller's
 * partition, a SHARED table's access level is checked against the
 * caller's role — and the plan's `tableIds` name the tables underneath
 * (plan invalidation, live queries, EXECUTE AS USER). A view grants no
 * rights of its creator.
 *
 * Inside a view's query, unqualified table names are qualified with the
 * view's namespace (not the reader's), except the query's own WITH names.
 * The derived table is marked with the view's name, and the select planner
 * plans it on its own: the reading query's columns and WITH names do not
 * reach into it.
 *
 * The statement is rewritten in place: it is a fresh parse, owned by the
 * plan being built.
 */
import type { ViewDef } from '../catalog/catalog';
import { KalamError } from '../core/errors';
import type { DmlStatement, Expr, FromTable, SelectStmt, TableName } from '../sql/ast';
import { limitExceeded, type SqlLimits } from '../sql/limits';
import { isSubquery, walk } from './expr-walk';

export interface ViewLookup {
  findView(namespace: string, name: string): ViewDef | undefined;
  /** The view's query, parsed afresh (the expansion rewrites it in place). */
  parseView(view: ViewDef): SelectStmt;
}

interface Expansion {
  readonly lookup: ViewLookup;
  readonly limits: SqlLimits;
  /** Views expanded so far; at most limits.maxViewExpansions. */
  count: number;
  /** The views being expanded, outermost first (a cycle names one twice); at most maxViewExpansions long. */
  readonly path: string[];
}

/**
 * Replaces every view a statement reads with its query; returns how many
 * views were expanded (0: the statement reads none). A write whose target
 * is a view is refused: views are read-only. `within`: the statement is
 * the query of this view (qualified name), so reading it again is a cycle.
 */
export function expandViews(stmt: DmlStatement, lookup: ViewLookup, namespace: string, limits: SqlLimits, within?: string): number {
  const x: Expansion = { lookup, limits, count: 0, path: within === undefined ? [] : [within] };
  const none = new Set<string>();
  switch (stmt.kind) {
    case 'select':
      expandQuery(stmt, namespace, false, none, x);
      break;
    case 'insert':
      refuseViewTarget(stmt.table, namespace, lookup, 'INSERT into');
      if (stmt.select) expandQuery(stmt.select, namespace, false, none, x);
      for (const row of stmt.rows) for (const e of row) expandExpr(e, namespace, false, none, x);
      break;
    case 'update':
      refuseViewTarget(stmt.table, namespace, lookup, 'UPDATE');
      for (const s of stmt.set) expandExpr(s.value, namespace, false, none, x);
      expandExpr(stmt.where, namespace, false, none, x);
      break;
    case 'delete':
      refuseViewTarget(stmt.table, namespace, lookup, 'DELETE from');
      expandExpr(stmt.where, namespace, false, none, x);
      break;
  }
  return x.count;
}

function refuseViewTarget(t: TableName, namespace: string, lookup: ViewLookup, verb: string): void {
  const ns = t.namespace ?? namespace;
  if (ns !== 'system' && lookup.findView(ns, t.name)) {
    throw new KalamError('INVALID_SQL', `Cannot ${verb} '${ns}.${t.name}': it is a view, and views are read-only. Write to the table its query reads instead`);
  }
}

/**
 * `namespace`: where unqualified names resolve; `qualify`: write it into
 * them (inside a view's query); `ctes`: WITH names visible here.
 */
function expandQuery(q: SelectStmt, namespace: string, qualify: boolean, ctes: ReadonlySet<string>, x: Expansion): void {
  if (q.with && q.with.length > 0) {
    // Each WITH query sees the ones before it (non-recursive, as the planner binds them).
    const seen = new Set(ctes);
    for (const c of q.with) {
      expandQuery(c.query, namespace, qualify, seen, x);
      seen.add(c.name);
    }
    ctes = seen;
  }
  if (q.setOp) {
    expandQuery(q.setOp.left, namespace, qualify, ctes, x);
    expandQuery(q.setOp.right, namespace, qualify, ctes, x);
  }
  for (const f of q.from) {
    if (f.subquery) expandQuery(f.subquery, namespace, qualify, ctes, x);
    else expandFrom(f, namespace, qualify, ctes, x);
    expandExpr(f.on, namespace, qualify, ctes, x);
  }
  for (const item of q.items) expandExpr(item.expr, namespace, qualify, ctes, x);
  expandExpr(q.where, namespace, qualify, ctes, x);
  for (const g of q.groupBy) expandExpr(g, namespace, qualify, ctes, x);
  expandExpr(q.having, namespace, qualify, ctes, x);
  for (const o of q.orderBy) expandExpr(o.expr, namespace, qualify, ctes, x);
}

function expandExpr(e: Expr | undefined, namespace: string, qualify: boolean, ctes: ReadonlySet<string>, x: Expansion): void {
  if (!e) return;
  walk(e, (node) => {
    if (isSubquery(node)) expandQuery((node as { query: SelectStmt }).query, namespace, qualify, ctes, x);
  });
}

function expandFrom(f: FromTable, namespace: string, qualify: boolean, ctes: ReadonlySet<string>, x: Expansion): void {
  const { name } = f.table;
  if (f.table.namespace === undefined && ctes.has(name)) return;
  const ns = f.table.namespace ?? namespace;
  const view = ns === 'system' ? undefined : x.lookup.findView(ns, name);
  if (!view) {
    if (qualify) f.table = { namespace: ns, name };
    return;
  }
  const key = `${ns}.${name}`;
  const at = x.path.indexOf(key);
  if (at >= 0) {
    throw new KalamError(
      'INVALID_SQL',
      `View '${key}' reads itself (${[...x.path.slice(at), key].join(' → ')}): a view cannot refer to itself, directly or through other views. Replace one of them with CREATE OR REPLACE VIEW`,
    );
  }
  if (++x.count > x.limits.maxViewExpansions) {
    throw limitExceeded('maxViewExpansions', `The views this statement reads (counting each use, also inside other views: ${x.path.concat(key).join(' → ')} …)`, x.limits.maxViewExpansions);
  }
  const query = x.lookup.parseView(view);
  x.path.push(key);
  expandQuery(query, view.namespace, true, new Set(), x);
  x.path.pop();
  const relation = f.alias ?? view.name;
  f.subquery = query;
  f.table = { name: relation };
  f.alias = relation;
  f.view = key;
  // (A named table in FROM never has a column alias list of its own: the parser gives those to subqueries only.)
  if (view.columns) f.columnAliases = view.columns;
}
