/**
 * Planning of one SELECT block (no WITH, no set operation): binds names,
 * picks a primary-key lookup or a partition scan, chooses hash or
 * nested-loop joins, and compiles every expression into a closure once.
 * The result runs many times (the plan cache holds it). Where its FROM
 * items come from (tables, CTEs, derived tables) is the caller's `BlockEnv`.
 */
import { KalamError } from '../core/errors';
import { aggregate, type AggregateName, type AggregateSpec } from '../exec/aggregate';
import { distinct, distinctOn, filter, limit, project, sortRows, type SortKey } from '../exec/operators';
import type { Expr, FromTable, OrderItem, SelectStmt } from '../sql/ast';
import type { ColumnInfo, Value } from '../core/types';
import { stableJson } from '../core/values';
import { staticType } from './arith';
import { compileExpr, type CompileHook } from './compile';
import type { Evaluator, ExecContext, Tuple } from '../exec/context';
import { Scope, type ScopeColumn } from './scope';
import type { RelationSource, ScanOptions } from './source';
import { containsAggregate, hasColumns, isAggregateCall, mentionsColumn, safeResolve, walk } from './expr-walk';
import { describe, exprText, nodesOf } from './explain';
import { planInnerJoins, planOuterJoins } from './join-plan';
import { usingResolver } from './call-hooks';
import { planSourceScan, type RowSource, type ScanSource } from './scan-plan';
import { checkWindowPlacement, containsWindow, windowPlanner, windowType } from './window-check';
import { fits } from './scalar-args';
import { SQL_LIMIT_DEFAULTS } from '../sql/limits';
import { planVectorOrder } from './vector-plan';

export { conjuncts, mentionsColumn, walk } from './expr-walk';
export { planSourceScan, type RowSource, type ScanSource } from './scan-plan';

/** A planned query: its output columns and its rows for one execution (lazy where it can be). */
export interface QueryPlan {
  columns: ColumnInfo[];
  rows(ctx: ExecContext): Iterable<Tuple>;
}

/** What a block needs from the query around it. */
export interface BlockEnv {
  /** An empty scope of this query: its outer scope and env carry over to every scope built from it. */
  base: Scope;
  /** The relation a FROM item reads (table, CTE or derived table); records the tables read. */
  source(from: FromTable): RelationSource;
}

export interface BlockOptions {
  /** Order a single-table read by primary key when there is no ORDER BY (not worth it under EXISTS or IN). */
  defaultOrder: boolean;
}

export const EMPTY_SCOPE = new Scope([]);

/** Plans an aggregate over one table read whole as a columnar fold; undefined (or an execution's undefined): the row path. */
export type ColumnarAggregatePlanner = (
  stmt: SelectStmt, sources: readonly { src: RelationSource }[], scope: Scope, groupKeys: readonly Expr[], aggs: readonly { expr: Expr; spec: AggregateSpec }[],
) => ((ctx: ExecContext) => Iterable<Tuple> | undefined) | undefined;
/** `columnar`: plan/columnar.ts, set when its chunk loads (execute/sql-extensions.ts). */
export const aggregateHooks: { columnar?: ColumnarAggregatePlanner } = {};

function sourceScope(src: RelationSource, relation: string, base: Scope): Scope {
  return base.withColumns(src.columns.map((c): ScopeColumn => ({ relation, name: c.name, type: c.type, hidden: c.hidden })));
}

function isOuterColumn(scope: Scope, e: Extract<Expr, { kind: 'column' }>): boolean {
  try {
    return scope.resolveOuter(e.table, e.name).depth > 0;
  } catch {
    return false;
  }
}

/** Structural identity of an expression with columns bound to slots. */
function exprKey(e: Expr, scope: Scope): string {
  return stableJson(bindForKey(e, scope));
}

function bindForKey(e: Expr, scope: Scope): unknown {
  if (e.kind === 'column') {
    const { depth, slot } = scope.resolveOuter(e.table, e.name);
    return depth === 0 ? { slot } : { depth, slot };
  }
  if (e.kind === 'subquery' || e.kind === 'exists') return { kind: e.kind, query: e.query };
  if (e.kind === 'inSubquery') return { kind: e.kind, arg: bindForKey(e.arg, scope), query: e.query, negated: e.negated };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (v && typeof v === 'object' && 'kind' in (v as object)) out[k] = bindForKey(v as Expr, scope);
    else if (Array.isArray(v)) out[k] = v.map((x) => (x && typeof x === 'object' && 'kind' in x ? bindForKey(x as Expr, scope) : x && typeof x === 'object' ? Object.fromEntries(Object.entries(x).map(([kk, vv]) => [kk, vv && typeof vv === 'object' ? bindForKey(vv as Expr, scope) : vv])) : x));
    else out[k] = v;
  }
  return out;
}

function outputName(item: { expr: Expr; alias?: string }): string {
  if (item.alias) return item.alias;
  const e = item.expr;
  if (e.kind === 'column') return e.name;
  if (e.kind === 'call' || e.kind === 'window') return e.name.toLowerCase();
  if (e.kind === 'cast' && e.arg.kind === 'column') return e.arg.name;
  return '?column?';
}

function uniqueNames(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = seen.get(n) ?? 0;
    seen.set(n, k + 1);
    return k === 0 ? n : `${n}_${k + 1}`;
  });
}

export function constantInt(e: Expr | undefined, what: string): Evaluator | undefined {
  if (!e) return undefined;
  if (hasColumns(e)) throw new KalamError('INVALID_SQL', `${what} must be a constant`);
  const ev = compileExpr(e, EMPTY_SCOPE);
  return (row, ctx) => {
    const v = ev(row, ctx);
    const n = typeof v === 'bigint' ? Number(v) : typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      throw new KalamError('INVALID_PARAMETER', `${what} must be a non-negative integer`);
    }
    return n;
  };
}

export function planBlock(stmt: SelectStmt, env: BlockEnv, options: BlockOptions): QueryPlan {
  const base = env.base;
  // 1. sources and scope
  const planned = stmt.from.map((f) => {
    const src = env.source(f);
    const relation = f.alias ?? f.table.name;
    return { src, relation, from: f, scope: sourceScope(src, relation, base) };
  });
  const sources = stmt.from.some((f) => f.using) ? usingResolver()(planned) : planned;
  const relations = new Set<string>();
  for (const s of sources) {
    if (relations.has(s.relation)) throw new KalamError('INVALID_SQL', `Table name '${s.relation}' is specified more than once: give each an alias`);
    relations.add(s.relation);
  }
  const scope = sources.reduce((acc, s) => acc.concat(s.scope), base);
  checkWindowPlacement(stmt);
  const includeDeleted = mentionsColumn(stmt.where, '_deleted');
  const opts: ScanOptions = { includeDeleted };

  // 2. FROM + WHERE
  let input: RowSource;
  if (sources.length === 0) {
    const pred = stmt.where ? compileExpr(stmt.where, base) : undefined;
    input = (ctx) => (pred ? filter([[]], pred, ctx) : [[]]);
  } else if (sources.length === 1) {
    input = planSourceScan(sources[0].src, scope, stmt.where, opts);
  } else {
    const joins = planInnerJoins(sources, scope, stmt.where, opts) ?? planOuterJoins(sources, scope, stmt.where, opts);
    input = joins.input;
    const rest = joins.rest;
    if (rest) {
      const pred = compileExpr(rest, scope);
      const joined = input;
      input = describe((ctx) => filter(joined(ctx), pred, ctx), () => ({ operator: 'Filter', detail: exprText(rest), children: nodesOf(joined) }));
    }
  }

  // 3. select list
  const items = stmt.items.flatMap((item) => {
    if (item.expr.kind !== 'star') return [item];
    const rel = item.expr.table;
    if (rel !== undefined && !scope.columns.some((c) => c.relation === rel)) {
      throw new KalamError('TABLE_NOT_FOUND', `Table or alias '${rel}' is not in the FROM clause`);
    }
    if (sources.length === 0) throw new KalamError('INVALID_SQL', 'SELECT * needs a FROM clause');
    const listed = scope.columns.filter((c) => !c.hidden && (rel === undefined ? !c.merged : c.relation === rel));
    // JOIN … USING's columns first, as PostgreSQL lists them; a FULL JOIN's read unqualified (COALESCE of both copies).
    if (rel === undefined) listed.sort((a, b) => (b.using ?? -1) - (a.using ?? -1));
    return listed.map((c) => ({ expr: { kind: 'column', table: rel === undefined && c.coalesce ? undefined : c.relation, name: c.name } as Expr, alias: c.name }));
  });
  const names = uniqueNames(items.map(outputName));
  const columns: ColumnInfo[] = items.map((it, i) => ({ name: names[i], type: typeOf(it.expr, scope) }));

  const isAggregate = stmt.groupBy.length > 0 || items.some((i) => containsAggregate(i.expr)) || containsAggregate(stmt.having)
    || stmt.orderBy.some((o) => containsAggregate(o.expr));
  if (containsAggregate(stmt.where)) throw new KalamError('INVALID_SQL', 'Aggregate functions are not allowed in WHERE: use HAVING');

  const limitEval = constantInt(stmt.limit, 'LIMIT');
  const offsetEval = constantInt(stmt.offset, 'OFFSET');

  // 4. evaluators over the rows that reach projection
  let rowsScope = scope;
  let prepare: RowSource = input;
  let hook: CompileHook | undefined;
  if (isAggregate) {
    const groupKeys = stmt.groupBy.map((g) => resolveGroupRef(g, items));
    const groupEvals = groupKeys.map((g) => compileExpr(g, scope));
    const groupKeyStrings = groupKeys.map((g) => exprKey(g, scope));
    const groupKeyIndex = new Map<string, number>(); // key → first group key: a lookup per expression node, not a scan
    groupKeyStrings.forEach((k, i) => { if (!groupKeyIndex.has(k)) groupKeyIndex.set(k, i); });
    const aggIndex = new Map<string, number>();
    const aggs: { key: string; expr: Expr; spec: AggregateSpec }[] = [];
    const collect = (e: Expr | undefined) => {
      if (!e) return;
      walk(e, (x) => {
        if (!isAggregateCall(x)) return;
        const key = exprKey(x, scope);
        if (aggIndex.has(key)) return;
        if (x.args.some(containsAggregate) || containsAggregate(x.filter)) throw new KalamError('INVALID_SQL', 'Aggregate function calls cannot be nested');
        const arity = x.name === 'STRING_AGG' ? 2 : 1;
        if (!x.star && x.args.length !== arity) throw new KalamError('INVALID_SQL', `${x.name.toLowerCase()}() takes exactly ${arity === 2 ? 'two arguments (a value and a separator)' : 'one argument'}`);
        if (x.star && x.name !== 'COUNT') throw new KalamError('INVALID_SQL', `${x.name}(*) is not valid: only COUNT(*)`);
        const spec: AggregateSpec = { name: x.name as AggregateName, arg: x.star ? undefined : compileExpr(x.args[0], scope), distinct: x.distinct };
        if (x.filter) spec.filter = compileExpr(x.filter, scope);
        if (arity === 2) {
          spec.separator = compileExpr(x.args[1], scope);
          spec.checkText = (length, ctx) => fits(length, 'STRING_AGG', ctx.limits?.maxTextLength ?? SQL_LIMIT_DEFAULTS.maxTextLength);
        }
        if (x.orderBy?.length) spec.orderBy = x.orderBy.map((o) => ({ eval: compileExpr(o.expr, scope), descending: o.descending, nullsFirst: o.nullsFirst }));
        aggIndex.set(key, aggs.length);
        aggs.push({ key, expr: x, spec });
      });
    };
    items.forEach((i) => collect(i.expr));
    collect(stmt.having);
    stmt.orderBy.forEach((o) => collect(o.expr));
    const g = groupKeys.length;
    const groupKinds = new Set(groupKeys.map((k) => k.kind));
    hook = (e) => {
      if (e.kind === 'literal' || e.kind === 'param') return undefined;
      if (e.kind === 'column' && isOuterColumn(scope, e)) return undefined; // an enclosing query's column is a constant here
      // No group key of this kind: nothing to match, so no key to build (each is as big as the node's subtree).
      if (e.kind !== 'column' && !groupKinds.has(e.kind) && !isAggregateCall(e)) return undefined;
      let key: string;
      try {
        key = exprKey(e, scope);
      } catch (err) {
        if (e.kind === 'column') throw err;
        return undefined;
      }
      const gi = groupKeyIndex.get(key) ?? -1;
      if (gi >= 0) return (r) => r[gi];
      if (isAggregateCall(e)) {
        const ai = aggIndex.get(key)!;
        return (r) => r[g + ai];
      }
      if (e.kind === 'column') {
        throw new KalamError('INVALID_SQL', `Column '${e.name}' must appear in the GROUP BY clause or be used in an aggregate function`);
      }
      return undefined;
    };
    // Group rows are [group keys…, aggregates…]: a subquery here may read the grouped columns.
    rowsScope = base.withColumns([
      ...groupKeys.map((k): ScopeColumn => {
        const slot = k.kind === 'column' ? safeResolve(scope, k) : -1;
        return slot >= 0 ? { ...scope.columns[slot] } : { relation: '', name: '', type: 'UNKNOWN', hidden: true };
      }),
      ...aggs.map((): ScopeColumn => ({ relation: '', name: '', type: 'UNKNOWN', hidden: true })),
    ]);
    const specs = aggs.map((a) => a.spec);
    const having = stmt.having ? compileExpr(stmt.having, rowsScope, hook) : undefined;
    const grouping = input;
    const columnar = aggregateHooks.columnar?.(stmt, sources, scope, groupKeys, aggs);
    prepare = describe((ctx) => {
      const grouped = columnar?.(ctx) ?? aggregate(grouping(ctx), groupEvals, specs, ctx);
      return having ? filter(grouped, having, ctx) : grouped;
    }, () => ({
      operator: 'Aggregate',
      detail: [groupKeys.length ? `group by ${groupKeys.map(exprText).join(', ')}` : 'one group', `${aggs.length} aggregate(s)`, stmt.having ? `having ${exprText(stmt.having)}` : '']
        .filter(Boolean).join('; '),
      children: nodesOf(grouping),
    }));
  } else if (stmt.having) {
    throw new KalamError('INVALID_SQL', 'HAVING needs GROUP BY or an aggregate function');
  }
  // 4b. window functions: over the rows above, before projection, DISTINCT, ORDER BY and LIMIT
  const windowed = [...items.map((i) => i.expr), ...stmt.orderBy.map((o) => o.expr)];
  const windows = windowed.some(containsWindow) ? windowPlanner()(windowed, rowsScope, hook) : undefined;
  if (windows) {
    prepare = windows.wrap(prepare);
    rowsScope = windows.scope;
    hook = windows.hook;
  }
  const outputEvals = items.map((i) => compileExpr(i.expr, rowsScope, hook));

  // 5. ORDER BY (KalamDB orders single-table reads by primary key by default)
  let order: OrderItem[] = stmt.orderBy;
  if (order.length === 0 && options.defaultOrder && !isAggregate && !stmt.distinct && sources.length === 1 && sources[0].src.pkSlot !== undefined) {
    const src = sources[0];
    order = [{ expr: { kind: 'column', table: src.relation, name: src.src.columns[src.src.pkSlot!].name }, descending: false, nullsFirst: false }];
  }

  let rows: (ctx: ExecContext) => Iterable<Tuple>;
  const prepareRows: RowSource = (ctx) => prepare(ctx);
  if (stmt.distinct) {
    // project → distinct → sort: ORDER BY must name output columns
    const keys: SortKey[] = order.map((o) => {
      const idx = orderTarget(o.expr, items, names, scope);
      if (idx < 0) throw new KalamError('INVALID_SQL', 'For SELECT DISTINCT, ORDER BY expressions must appear in the select list');
      return { eval: (r) => r[idx], descending: o.descending, nullsFirst: o.nullsFirst };
    });
    itemKeyCache.delete(items); // planning data: the plan does not keep it
    rows = (ctx) => {
      const projected = distinct(project(prepareRows(ctx), outputEvals, ctx));
      const sorted = keys.length ? sortRows(projected, keys, ctx, keepCount(limitEval, offsetEval, ctx)) : projected;
      return window(sorted, limitEval, offsetEval, ctx);
    };
  } else {
    const keys: SortKey[] = order.map((o) => {
      const idx = orderTarget(o.expr, items, names, scope, true);
      const ev = idx >= 0 ? outputEvals[idx] : compileExpr(o.expr, rowsScope, hook);
      return { eval: ev, descending: o.descending, nullsFirst: o.nullsFirst };
    });
    // Ties of a single-table ORDER BY are broken by the primary key (`_seq` without one), so the
    // order is deterministic and a maintained live query (live/analyze.ts) orders them alike.
    const only = sources.length === 1 ? sources[0].src : undefined;
    if (only?.table && !isAggregate && stmt.orderBy.length > 0) {
      const tie = only.pkSlot ?? only.columns.findIndex((c) => c.name === '_seq' && c.hidden);
      if (tie >= 0) keys.push({ eval: (r) => r[tie], descending: false, nullsFirst: false });
    }
    // Ordered by the primary key alone: the table reads its rows in that order, and LIMIT stops the read.
    const scan = input as ScanSource;
    if (only && !isAggregate && !windows && order.length === 1 && scan.ordered && only.pkSlot !== undefined) {
      const idx = orderTarget(order[0].expr, items, names, scope, true);
      const e = idx >= 0 ? items[idx].expr : order[0].expr;
      if (e.kind === 'column' && safeResolve(scope, e) === only.pkSlot) {
        prepare = scan.ordered(order[0].descending);
        keys.length = 0;
      }
    }
    // Ordered by an index's columns: the index reads its rows in that order (plan/index-plan.ts).
    if (keys.length > 0 && only && !isAggregate && !windows && !stmt.distinctOn && scan.orderedBy) {
      const ordered = scan.orderedBy(order.map((o) => {
        const idx = orderTarget(o.expr, items, names, scope, true);
        const e = idx >= 0 ? items[idx].expr : o.expr;
        return { slot: e.kind === 'column' ? safeResolve(scope, e) : -1, descending: o.descending, nullsFirst: o.nullsFirst };
      }), (ctx) => keepCount(limitEval, offsetEval, ctx));
      if (ordered) {
        prepare = ordered;
        keys.length = 0;
      }
    }
    // Ordered by a distance its table's vector index serves: candidates through the index, sorted exactly below (plan/vector-plan.ts).
    if (keys.length > 0 && only?.table?.vectorIndexes && sources.length === 1 && order.length === 1 && limitEval && !isAggregate && !windows && !stmt.distinctOn) {
      const idx = orderTarget(order[0].expr, items, names, scope, true);
      const near = planVectorOrder({ src: only, scope, order: idx >= 0 ? items[idx].expr : order[0].expr, descending: order[0].descending, where: stmt.where, exact: prepare, keep: (ctx) => keepCount(limitEval, offsetEval, ctx) });
      if (near) prepare = near;
    }
    const on = stmt.distinctOn?.map((e) => {
      const idx = orderTarget(e, items, names, scope, true);
      return idx >= 0 ? outputEvals[idx] : compileExpr(e, rowsScope, hook);
    });
    if (stmt.distinctOn) checkDistinctOn(stmt.distinctOn, stmt.orderBy, (e) => sameAs(e, items, names, scope));
    rows = (ctx) => {
      const input = prepareRows(ctx);
      // DISTINCT ON keeps rows out of the sorted ones, so LIMIT cannot bound the sort.
      const sorted = keys.length ? sortRows(input, keys, ctx, on ? undefined : keepCount(limitEval, offsetEval, ctx)) : input;
      return project(window(on ? distinctOn(sorted, on, ctx) : sorted, limitEval, offsetEval, ctx), outputEvals, ctx);
    };
  }
  const steps = () => [
    stmt.distinct ? 'distinct' : stmt.distinctOn ? `distinct on ${stmt.distinctOn.map(exprText).join(', ')}` : '',
    order.length ? `order by ${order.map((o) => exprText(o.expr) + (o.descending ? ' DESC' : '')).join(', ')}` : '',
    stmt.limit ? `limit ${exprText(stmt.limit)}` : '',
    stmt.offset ? `offset ${exprText(stmt.offset)}` : '',
  ].filter(Boolean).join('; ');
  return { columns, rows: describe(rows, () => ({ operator: 'Select', detail: `${items.length} column(s)${steps() ? '; ' + steps() : ''}`, children: nodesOf(prepare) })) };
}

export function keepCount(limitEval: Evaluator | undefined, offsetEval: Evaluator | undefined, ctx: ExecContext): number | undefined {
  if (!limitEval) return undefined;
  return (limitEval([], ctx) as number) + (offsetEval ? (offsetEval([], ctx) as number) : 0);
}

export function window(rows: Iterable<Tuple>, limitEval: Evaluator | undefined, offsetEval: Evaluator | undefined, ctx: ExecContext): Iterable<Tuple> {
  if (!limitEval && !offsetEval) return rows;
  const off = offsetEval ? (offsetEval([], ctx) as number) : 0;
  const lim = limitEval ? (limitEval([], ctx) as number) : Number.POSITIVE_INFINITY;
  return limit(rows, off, lim);
}

/** What `e` stands for, so that `g` and `1` and an alias of `g` compare alike (a select item, else the expression). */
function sameAs(e: Expr, items: { expr: Expr; alias?: string }[], names: string[], scope: Scope): string {
  const i = orderTarget(e, items, names, scope);
  if (i >= 0) return `#${i}`;
  try {
    return exprKey(e, scope);
  } catch {
    return stableJson(e);
  }
}

/** PostgreSQL's rule: the leftmost ORDER BY expressions are DISTINCT ON's (in any order), so "first" means something. */
function checkDistinctOn(on: readonly Expr[], orderBy: readonly OrderItem[], key: (e: Expr) => string): void {
  const keys = new Set(on.map(key));
  for (const o of orderBy.slice(0, on.length)) {
    if (!keys.has(key(o.expr))) throw new KalamError('INVALID_SQL', 'SELECT DISTINCT ON expressions must match initial ORDER BY expressions: start the ORDER BY with the DISTINCT ON expressions');
  }
}

/** GROUP BY may name an output alias or an ordinal. */
function resolveGroupRef(g: Expr, items: { expr: Expr; alias?: string }[]): Expr {
  if (g.kind === 'literal' && typeof g.value === 'number' && Number.isInteger(g.value)) {
    const item = items[g.value - 1];
    if (!item) throw new KalamError('INVALID_SQL', `GROUP BY position ${g.value} is not in the select list`);
    return item.expr;
  }
  if (g.kind === 'column' && !g.table) {
    const aliased = items.find((i) => i.alias === g.name && !(i.expr.kind === 'column' && i.expr.name === g.name));
    if (aliased && !containsAggregate(aliased.expr)) return aliased.expr;
  }
  return g;
}

/** Index of the select item an ORDER BY expression names (alias, ordinal, or same expression), or -1. */
function orderTarget(e: Expr, items: { expr: Expr; alias?: string }[], names: string[], scope: Scope, aliasOnly = false): number {
  if (e.kind === 'literal' && typeof e.value === 'number' && Number.isInteger(e.value)) {
    if (e.value < 1 || e.value > items.length) throw new KalamError('INVALID_SQL', `ORDER BY position ${e.value} is not in the select list`);
    return e.value - 1;
  }
  if (e.kind === 'column' && !e.table) {
    const i = items.findIndex((it) => it.alias === e.name);
    if (i >= 0) return i;
    if (aliasOnly) return -1;
    const j = names.indexOf(e.name);
    if (j >= 0) return j;
  }
  if (aliasOnly) return -1;
  try {
    return itemKeys(items, scope).get(exprKey(e, scope)) ?? -1;
  } catch {
    return -1;
  }
}

/** Each select item's exprKey → its first index, computed once per select list while its ORDER BY is planned (dropped after). */
const itemKeyCache = new WeakMap<object, Map<string, number>>();
function itemKeys(items: { expr: Expr }[], scope: Scope): Map<string, number> {
  let keys = itemKeyCache.get(items);
  if (!keys) {
    keys = new Map();
    for (let i = 0; i < items.length; i++) {
      try {
        const k = exprKey(items[i].expr, scope);
        if (!keys.has(k)) keys.set(k, i);
      } catch { /* an item that does not bind matches nothing */ }
    }
    itemKeyCache.set(items, keys);
  }
  return keys;
}

function typeOf(e: Expr, scope: Scope): ColumnInfo['type'] {
  switch (e.kind) {
    case 'column':
      try { return scope.columns[scope.resolve(e.table, e.name)].type; } catch { return 'UNKNOWN'; }
    case 'cast': return e.type;
    case 'call':
      if (e.name === 'COUNT') return 'INT';
      if (e.name === 'MIN' || e.name === 'MAX' || e.name === 'SUM') return e.args[0] ? typeOf(e.args[0], scope) : 'UNKNOWN';
      if (e.name === 'AVG') return e.args[0] && typeOf(e.args[0], scope) === 'INTERVAL' ? 'INTERVAL' : 'DOUBLE';
      if (e.name === 'STRING_AGG') return 'TEXT';
      return 'UNKNOWN';
    case 'window': return windowType(e, () => (e.args[0] ? typeOf(e.args[0], scope) : 'UNKNOWN'));
    case 'unary': {
      // Floating-point arithmetic is typed, so a derived table's or view's `-x * 1.0` still divides as a float outside.
      if (e.op === 'NOT') return 'BOOLEAN';
      const t = staticType(e, scope);
      return t === 'DOUBLE' || t === 'DECIMAL' || t === 'INTERVAL' ? t : 'UNKNOWN';
    }
    case 'binary': {
      const t = staticType(e, scope);
      // Interval arithmetic is typed too: INTERVAL, or the TIMESTAMP of timestamp ± interval.
      if (t === 'DOUBLE' || t === 'DECIMAL' || t === 'INTERVAL' || t === 'TIMESTAMP' || t === 'DATETIME') return t;
      return ['=', '<>', '<', '<=', '>', '>=', 'AND', 'OR'].includes(e.op) ? 'BOOLEAN' : e.op === '||' ? 'TEXT' : 'UNKNOWN';
    }
    case 'like': case 'in': case 'between': case 'isNull':
      return 'BOOLEAN';
    default: return 'UNKNOWN';
  }
}

export type { Value };
