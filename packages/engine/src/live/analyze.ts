/**
 * Decides whether a live SELECT can be maintained incrementally and, if so,
 * compiles what maintenance needs: the WHERE predicate, the sort keys (with
 * the primary key — `_seq` without one — as the final tie-break, as the
 * query planner orders ties), LIMIT/OFFSET and the projection, all over the
 * table's stored row tuples.
 *
 * Maintained: one table of the catalog (not a system table, CTE or derived
 * table), no join, aggregate, GROUP BY, HAVING, DISTINCT, set operation,
 * WITH or subquery. Everything else is re-run per commit.
 */
import type { TableDef } from '../core/schema';
import { KalamError } from '../core/errors';
import { constantInt, mentionsColumn, walk } from '../plan/block';
import { compileExpr } from '../plan/compile';
import type { Evaluator } from '../exec/context';
import { AGGREGATES } from '../plan/functions';
import { Scope, type ScopeColumn } from '../plan/scope';
import type { SourceResolver } from '../plan/source';
import type { Expr, SelectItem, SelectStmt } from '../sql/ast';
import type { Value } from '../core/types';
import { stableJson } from '../core/values';

export interface SortSpec {
  eval: Evaluator;
  descending: boolean;
  nullsFirst: boolean;
}

export interface MaintainedQuery {
  table: TableDef;
  /** Over stored rows; undefined: every row matches. */
  where?: Evaluator;
  /** WHERE names `_deleted`: tombstones are rows like any other. */
  includeDeleted: boolean;
  /** ORDER BY keys, then the tie-break (primary key, or `_seq`). */
  keys: SortSpec[];
  limit?: Evaluator;
  offset?: Evaluator;
  /** One evaluator per output column, named `names`. */
  project: Evaluator[];
  names: string[];
  /** Slot of the row identity: the primary key, or `_seq` without one. */
  keySlot: number;
  seqSlot: number;
  deletedSlot: number;
  /**
   * The projection's identity: two subscriptions with equal `shape(params,
   * user)` build equal rows from one stored row (so they share the object).
   */
  shape(params: readonly Value[], user: string): string;
}

export type Analysis = { kind: 'maintained'; query: MaintainedQuery } | { kind: 'rerun'; reason: string };

const rerun = (reason: string): Analysis => ({ kind: 'rerun', reason });

function hasSubqueryOrAggregate(e: Expr | undefined): boolean {
  if (!e) return false;
  let found = false;
  walk(e, (x) => {
    if (x.kind === 'subquery' || x.kind === 'exists' || x.kind === 'inSubquery') found = true;
    else if (x.kind === 'call' && AGGREGATES.has(x.name)) found = true;
  });
  return found;
}

function hasWindow(e: Expr): boolean {
  let found = false;
  walk(e, (x) => { if (x.kind === 'window') found = true; });
  return found;
}

/**
 * `names` are the output column names the query planner chose for `stmt`
 * (so a maintained row has exactly the keys a fresh run's rows have).
 */
export function analyzeLive(stmt: SelectStmt, resolver: SourceResolver, defaultNamespace: string, names: readonly string[]): Analysis {
  if (stmt.setOp) return rerun('set operation');
  if (stmt.with && stmt.with.length > 0) return rerun('WITH');
  if (stmt.distinct || stmt.distinctOn) return rerun('DISTINCT');
  if (stmt.from.length !== 1) return rerun(stmt.from.length === 0 ? 'no table' : 'join');
  const from = stmt.from[0];
  if (from.subquery) return rerun('derived table');
  if (stmt.groupBy.length > 0 || stmt.having) return rerun('GROUP BY');
  // A window function's value depends on other rows (its partition): a change to one row can move every row's.
  if ([...stmt.items.map((i) => i.expr), ...stmt.orderBy.map((o) => o.expr)].some(hasWindow)) return rerun('window function');
  if (hasSubqueryOrAggregate(stmt.where)) return rerun('subquery in WHERE');
  if (stmt.items.some((i) => hasSubqueryOrAggregate(i.expr))) return rerun('aggregate or subquery in the select list');
  if (stmt.orderBy.some((o) => hasSubqueryOrAggregate(o.expr))) return rerun('aggregate or subquery in ORDER BY');
  const src = resolver.resolve(from.table.namespace, from.table.name, defaultNamespace);
  const table = src.table;
  if (!table) return rerun('system table');

  const relation = from.alias ?? from.table.name;
  const scope = new Scope(src.columns.map((c): ScopeColumn => ({ relation, name: c.name, type: c.type, hidden: c.hidden })));
  const seqSlot = table.columns.length;
  const deletedSlot = seqSlot + 1;
  const keySlot = table.pk >= 0 ? table.pk : seqSlot;

  const items: SelectItem[] = stmt.items.flatMap((item) => {
    if (item.expr.kind !== 'star') return [item];
    const rel = item.expr.table;
    if (rel !== undefined && rel !== relation) throw new KalamError('TABLE_NOT_FOUND', `Table or alias '${rel}' is not in the FROM clause`);
    return scope.columns.filter((c) => !c.hidden).map((c): SelectItem => ({ expr: { kind: 'column', table: relation, name: c.name }, alias: c.name }));
  });
  if (items.length !== names.length) return rerun('select list');
  const project = items.map((i) => compileExpr(i.expr, scope));

  const keys: SortSpec[] = stmt.orderBy.map((o) => {
    const target = orderTarget(o.expr, items);
    return { eval: target >= 0 ? project[target] : compileExpr(o.expr, scope), descending: o.descending, nullsFirst: o.nullsFirst };
  });
  // Ties (and a query without ORDER BY) are ordered by the row identity, as the planner does.
  const slot = keySlot;
  keys.push({ eval: (r) => r[slot], descending: false, nullsFirst: false });

  const plain = items.every((i) => i.expr.kind === 'column');
  const slots = plain ? items.map((i) => scope.resolve((i.expr as { table?: string }).table, (i.expr as { name: string }).name)) : [];
  const params = new Set<number>();
  let callsFunction = false;
  for (const i of items) {
    walk(i.expr, (x) => {
      if (x.kind === 'param') params.add(x.index);
      else if (x.kind === 'call') callsFunction = true;
    });
  }
  const exprText = plain ? '' : stableJson(items.map((i) => i.expr));
  const head = `${table.id}@${table.version}|${names.join('\u0001')}|`;
  // A plain projection's shape is one string for every subscription of this plan.
  const plainShape = plain ? [head, slots.join(',')].join('') : '';
  const shape = plain
    ? () => plainShape
    : (ps: readonly Value[], user: string) =>
      `${head}${exprText}|${stableJson([...params].map((p) => ps[p] ?? null))}${callsFunction ? `|${user}` : ''}`;

  return {
    kind: 'maintained',
    query: {
      table,
      where: stmt.where ? compileExpr(stmt.where, scope) : undefined,
      includeDeleted: mentionsColumn(stmt.where, '_deleted'),
      keys,
      limit: constantInt(stmt.limit, 'LIMIT'),
      offset: constantInt(stmt.offset, 'OFFSET'),
      project,
      names: names.slice(),
      keySlot,
      seqSlot,
      deletedSlot,
      shape,
    },
  };
}

/** ORDER BY an ordinal or an output alias names a select item (as the planner resolves it). */
function orderTarget(e: Expr, items: readonly SelectItem[]): number {
  if (e.kind === 'literal' && typeof e.value === 'number' && Number.isInteger(e.value)) {
    if (e.value < 1 || e.value > items.length) throw new KalamError('INVALID_SQL', `ORDER BY position ${e.value} is not in the select list`);
    return e.value - 1;
  }
  if (e.kind === 'column' && !e.table) return items.findIndex((it) => it.alias === e.name);
  return -1;
}
