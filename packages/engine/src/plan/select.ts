/**
 * SELECT planning at the query level: WITH, set operations (UNION,
 * INTERSECT, EXCEPT), derived tables and subqueries in expressions, around
 * the block planner (block.ts).
 *
 * Every table any part of a statement reads is resolved through the
 * `SourceResolver` (so every scan stays confined to the session's
 * partition, and access checks apply inside subqueries too) and listed in
 * the plan's `tableIds` (plan invalidation, live queries, EXECUTE AS USER).
 *
 * Each query level has a `PlanEnv`: its CTEs, its outer scope (what a
 * correlated reference resolves in) and its depth, the length of
 * `ctx.outer` while it runs. A subquery in an expression is one level
 * deeper; a derived table, a CTE body or a set-operation member runs at the
 * level of the query that reads it.
 */
import { KalamError } from '../core/errors';
import { distinct, sortRows, type SortKey } from '../exec/operators';
import { concatRows, exceptRows, intersectRows } from '../exec/setops';
import { collect } from '../exec/pace';
import type { CommonTableExpr, FromTable, SelectStmt } from '../sql/ast';
import type { ColumnInfo } from '../core/types';
import { constantInt, keepCount, planBlock, window, type BlockEnv, type BlockOptions, type QueryPlan } from './block';
import { seriesPlanner } from './call-hooks';
import { compileExpr } from './compile';
import { tableFunctionCall } from '../sql/convert-from';
import { describe, exprText, nodeOf, nodesOf, type PlanNode } from './explain';
import type { ExecContext, Tuple } from '../exec/context';
import { Scope, type NestedQuery, type QueryEnv, type ScopeColumn } from './scope';
import type { RelationSource, SourceColumn, SourceResolver } from './source';

export interface SelectPlan {
  kind: 'select';
  columns: ColumnInfo[];
  /** Tables read by any part of the statement (plan invalidation, live queries, access checks). */
  tableIds: number[];
  /** The statement planned (live queries analyze it for incremental maintenance). */
  stmt: SelectStmt;
  /** The result rows, with PAUSE where the statement's pace asks to yield (exec/pace.ts: drain them). */
  rows(ctx: ExecContext): Iterable<Tuple>;
  /** The result rows at once, never yielding (for callers that cannot wait). */
  run(ctx: ExecContext): Tuple[];
  /** What EXPLAIN shows: set only when planned for EXPLAIN (explain.ts). */
  explain?: PlanNode;
}

/** What every level of one statement shares. */
interface PlanRoot {
  resolver: SourceResolver;
  defaultNamespace: string;
  /** Grows while planning only; bounded by the tables the statement names. */
  tableIds: Set<number>;
  /** Every resolved relation by name, to authorize before a run; bounded likewise. */
  sources: Map<string, RelationSource>;
}

const newRoot = (resolver: SourceResolver, defaultNamespace: string): PlanRoot =>
  ({ resolver, defaultNamespace, tableIds: new Set(), sources: new Map() });

function authorizeAll(root: PlanRoot, ctx: ExecContext): void {
  for (const src of root.sources.values()) src.authorize?.(ctx);
}

interface CteBinding {
  plan: QueryPlan;
  /** Depth of the query that holds the WITH: the CTE runs with `ctx.outer` cut to it. */
  depth: number;
}

class PlanEnv implements QueryEnv, BlockEnv {
  correlated = false;
  readonly base: Scope;
  /** This WITH clause's CTEs; bounded by its length. */
  private readonly ctes = new Map<string, CteBinding>();

  constructor(
    private readonly root: PlanRoot,
    readonly enclosing: PlanEnv | undefined,
    outer: Scope | undefined,
    private readonly depth: number,
  ) {
    this.base = new Scope([], outer, this);
  }

  /** A query at this same level (a WITH body, a derived table): same outer scope and depth. */
  sameLevel(): PlanEnv {
    return new PlanEnv(this.root, this, this.base.outer, this.depth);
  }

  planNested(stmt: SelectStmt, scope: Scope): NestedQuery {
    const env = new PlanEnv(this.root, this, scope, this.depth + 1);
    const plan = planQuery(stmt, env, { defaultOrder: false });
    // Planning is done, so every correlated reference inside has been seen.
    return { columns: plan.columns, correlated: env.correlated, rows: plan.rows };
  }

  source(f: FromTable): RelationSource {
    if (f.subquery && f.view !== undefined) return this.viewSource(f, f.subquery, f.view);
    if (f.subquery) {
      const plan = planQuery(f.subquery, this.sameLevel(), { defaultOrder: true });
      return derivedSource(f.table.name, plan, f.columnAliases, (ctx) => ctx);
    }
    if (f.table.namespace === undefined) {
      const cte = this.cte(f.table.name);
      if (cte) {
        const depth = cte.depth;
        const atDefinition = (ctx: ExecContext): ExecContext =>
          ctx.outer && ctx.outer.length > depth ? { ...ctx, outer: ctx.outer.slice(0, depth) } : ctx;
        return derivedSource(f.table.name, cte.plan, f.columnAliases, atDefinition);
      }
    }
    const src = this.root.resolver.resolve(f.table.namespace, f.table.name, this.root.defaultNamespace);
    if (src.table) this.root.tableIds.add(src.table.id);
    if (!this.root.sources.has(src.name)) this.root.sources.set(src.name, src);
    return src;
  }

  /**
   * A view's query (plan/view-expand.ts), planned as a statement of its own:
   * no outer scope and no WITH names of the reading query reach it, and it
   * runs at depth 0 (as a CTE of the top level does).
   */
  private viewSource(f: FromTable, query: SelectStmt, view: string): RelationSource {
    let plan: QueryPlan;
    try {
      plan = planQuery(query, new PlanEnv(this.root, undefined, undefined, 0), { defaultOrder: true });
    } catch (e) {
      // The reader did not write the view's query: say the problem is inside it (positions are the view's, not the reader's).
      if (e instanceof KalamError && e.code !== 'LIMIT_EXCEEDED') throw new KalamError(e.code, `${e.message} (in view '${view}')`);
      throw e;
    }
    const atTop = (ctx: ExecContext): ExecContext => (ctx.outer && ctx.outer.length > 0 ? { ...ctx, outer: ctx.outer.slice(0, 0) } : ctx);
    return derivedSource(f.table.name, plan, f.columnAliases, atTop);
  }

  /** Binds a WITH clause in this env: each CTE sees the ones before it, not itself (non-recursive). */
  bind(list: readonly CommonTableExpr[]): void {
    for (const c of list) {
      if (this.ctes.has(c.name)) throw new KalamError('INVALID_SQL', `WITH query name '${c.name}' is specified more than once: give each a different name`);
      const plan = planQuery(c.query, this.sameLevel(), { defaultOrder: true });
      this.ctes.set(c.name, { plan: c.columns ? renamed(c.name, plan, c.columns) : plan, depth: this.depth });
    }
  }

  private cte(name: string): CteBinding | undefined {
    for (let e: PlanEnv | undefined = this; e; e = e.enclosing) {
      const hit = e.ctes.get(name);
      if (hit) return hit;
    }
    return undefined;
  }
}

/** `name (a, b)`: the first columns take the given names. */
function renamed(name: string, plan: QueryPlan, aliases: readonly string[]): QueryPlan {
  if (aliases.length > plan.columns.length) {
    throw new KalamError('INVALID_SQL', `'${name}' has ${plan.columns.length} column(s) available but ${aliases.length} column name(s) are given`);
  }
  if (new Set(aliases).size !== aliases.length) throw new KalamError('DUPLICATE_COLUMN', `A column name is given more than once for '${name}'`);
  return { columns: plan.columns.map((c, i) => ({ name: aliases[i] ?? c.name, type: c.type })), rows: plan.rows };
}

function derivedSource(name: string, plan: QueryPlan, aliases: readonly string[] | undefined, contextOf: (ctx: ExecContext) => ExecContext): RelationSource {
  const p = aliases ? renamed(name, plan, aliases) : plan;
  const columns: SourceColumn[] = p.columns.map((c) => ({ name: c.name, type: c.type, hidden: false }));
  const rows = describe((ctx: ExecContext) => p.rows(contextOf(ctx)), () => ({ operator: 'Subquery', detail: name, children: nodesOf(p.rows) }));
  return { name, columns, rows };
}

function planQuery(stmt: SelectStmt, env: PlanEnv, options: BlockOptions): QueryPlan {
  if (stmt.with && stmt.with.length > 0) {
    env = env.sameLevel();
    env.bind(stmt.with);
  }
  // FROM generate_series(…), as sql/convert-from.ts made it (also a bare SELECT generate_series(…)).
  const fn = tableFunctionCall(stmt);
  if (fn) return seriesPlanner()(fn, stmt.items[0].alias ?? fn.name.toLowerCase(), env.base);
  return stmt.setOp ? planSetOperation(stmt, env, options) : planBlock(stmt, env, options);
}

function planSetOperation(stmt: SelectStmt, env: PlanEnv, options: BlockOptions): QueryPlan {
  const { op, all, left, right } = stmt.setOp!;
  const l = planQuery(left, env, options);
  const r = planQuery(right, env, options);
  if (l.columns.length !== r.columns.length) {
    throw new KalamError('INVALID_SQL', `Each ${op} query must have the same number of columns: the left has ${l.columns.length}, the right ${r.columns.length}`);
  }
  const columns: ColumnInfo[] = l.columns.map((c, i) => ({ name: c.name, type: c.type !== 'UNKNOWN' ? c.type : r.columns[i].type }));
  const combined = describe((ctx: ExecContext): Iterable<Tuple> => {
    switch (op) {
      case 'UNION': {
        const both = concatRows(l.rows(ctx), r.rows(ctx));
        return all ? both : distinct(both);
      }
      case 'INTERSECT': return intersectRows(l.rows(ctx), r.rows(ctx), all);
      case 'EXCEPT': return exceptRows(l.rows(ctx), r.rows(ctx), all);
    }
  }, () => ({ operator: op[0] + op.slice(1).toLowerCase() + (all ? ' all' : ''), detail: '', children: nodesOf(l.rows, r.rows) }));
  // ORDER BY names output columns (or positions); LIMIT/OFFSET apply to the combined rows.
  const outScope = env.base.withColumns(columns.map((c) => ({ relation: '', name: c.name, type: c.type, hidden: false })));
  const keys: SortKey[] = stmt.orderBy.map((o) => {
    const e = o.expr;
    if (e.kind === 'literal' && typeof e.value === 'number' && Number.isInteger(e.value)) {
      const idx = e.value - 1;
      if (idx < 0 || idx >= columns.length) throw new KalamError('INVALID_SQL', `ORDER BY position ${e.value} is not in the select list`);
      return { eval: (row) => row[idx], descending: o.descending, nullsFirst: o.nullsFirst };
    }
    return { eval: compileExpr(e, outScope), descending: o.descending, nullsFirst: o.nullsFirst };
  });
  const limitEval = constantInt(stmt.limit, 'LIMIT');
  const offsetEval = constantInt(stmt.offset, 'OFFSET');
  if (keys.length === 0 && !limitEval && !offsetEval) return { columns, rows: combined };
  const rows = (ctx: ExecContext) => {
    const input = combined(ctx);
    const sorted = keys.length ? sortRows(input, keys, ctx, keepCount(limitEval, offsetEval, ctx)) : input;
    return window(sorted, limitEval, offsetEval, ctx);
  };
  const detail = () => [
    stmt.orderBy.length ? `order by ${stmt.orderBy.map((o) => exprText(o.expr) + (o.descending ? ' DESC' : '')).join(', ')}` : '',
    stmt.limit ? `limit ${exprText(stmt.limit)}` : '',
    stmt.offset ? `offset ${exprText(stmt.offset)}` : '',
  ].filter(Boolean).join('; ');
  return { columns, rows: describe(rows, () => ({ operator: 'Sort and limit', detail: detail(), children: nodesOf(combined) })) };
}

export function planSelect(stmt: SelectStmt, resolver: SourceResolver, defaultNamespace: string): SelectPlan {
  const root = newRoot(resolver, defaultNamespace);
  const plan = planQuery(stmt, new PlanEnv(root, undefined, undefined, 0), { defaultOrder: true });
  return {
    kind: 'select',
    columns: plan.columns,
    tableIds: [...root.tableIds],
    stmt,
    ...(nodeOf(plan.rows) ? { explain: nodeOf(plan.rows) } : {}),
    rows(ctx) {
      authorizeAll(root, ctx);
      return plan.rows(ctx);
    },
    run(ctx) {
      authorizeAll(root, ctx);
      return collect(plan.rows(ctx));
    },
  };
}

/** The top-level scope of a write statement: subqueries in its expressions plan as in a SELECT. */
export interface StatementScope {
  scope: Scope;
  /** Tables the statement's subqueries read (complete once its expressions are compiled). */
  readonly tableIds: ReadonlySet<number>;
  /** Authorizes every relation the subqueries name (call at the start of each run). */
  authorize(ctx: ExecContext): void;
}

export function statementScope(resolver: SourceResolver, defaultNamespace: string, columns: readonly ScopeColumn[]): StatementScope {
  const root = newRoot(resolver, defaultNamespace);
  const env = new PlanEnv(root, undefined, undefined, 0);
  return { scope: env.base.withColumns(columns), tableIds: root.tableIds, authorize: (ctx) => authorizeAll(root, ctx) };
}
