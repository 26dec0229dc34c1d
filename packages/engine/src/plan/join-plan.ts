/**
 * Inner joins planned as one set. The WHERE's AND terms and every INNER
 * JOIN's ON terms go into one pool (for inner joins they mean the same):
 *
 * - a term over one relation filters that relation's own scan, so it can
 *   turn it into a primary-key lookup or key range (planSourceScan);
 * - a term over several relations joins them as soon as they are all
 *   joined: an equality between the relations joined so far and the next
 *   one makes a hash join (or, when it is the next one's primary key and
 *   the rows joined so far are few, one lookup per row; when it is the
 *   first column of one of its secondary indexes and they are few against
 *   its estimate, one index probe per row: plan/index-join.ts), the other
 *   terms filter the joined pairs;
 * - a term with a subquery, or over no relation of this block, filters the
 *   joined rows at the end, as the WHERE did before.
 *
 * The join order is chosen per execution from row estimates (chooseOrder):
 * each relation's partition row count, known from counts alone, times a
 * guess of what its own WHERE terms keep. The fewest first, then always
 * the fewest among the relations a term links to those joined (a comma
 * list in any order does not turn into a cross product). A hash join
 * builds on the smaller side: the rows joined so far when they are fewer
 * than the next relation's estimate. Output tuples keep FROM order. A
 * block with a LEFT JOIN keeps planJoins' one-join-at-a-time plan.
 */
import type { DataType, Value } from '../core/types';
import { coerce, isTrue } from '../core/values';
import type { Evaluator, ExecContext, Tuple } from '../exec/context';
import { innerHashJoin } from '../exec/hash-join';
import { nestedLoopJoin } from '../exec/operators';
import { PAUSE } from '../exec/pace';
import type { Expr } from '../sql/ast';
import { isFloatType, isIntType, staticType } from './arith';
import { compileExpr, sqlEquals } from './compile';
import { andAll, conjuncts, isAggregateCall, isSubquery, walk } from './expr-walk';
import { describe, describeChosen, exprText, nodesOf } from './explain';
import { planJoins, planSourceScan, type PlannedSource, type RowSource } from './scan-plan';
import type { Scope } from './scope';
import type { ScanOptions } from './source';

/** Rows joined so far before a primary-key join decides between one lookup per row and a hash join. */
export const LOOKUP_JOIN_MAX_ROWS = 1024;

/** One equi-join step another join method may take over (plan/index-join.ts, registered when secondary indexes load). */
export interface JoinStepPlan {
  left: RowSource;
  leftKey: Evaluator;
  source: PlannedSource;
  rExpr: Expr;
  ownPred: Evaluator | undefined;
  residual: Evaluator | undefined;
  hashed: (leftRows: Iterable<Tuple>, ctx: ExecContext) => Iterable<Tuple>;
  rightEstimate: (ctx: ExecContext) => number;
  rightRows: RowSource;
  opts: ScanOptions;
  detail: string;
}
export const joinHooks: { indexJoin?(step: JoinStepPlan): RowSource | undefined } = {};

export interface Term {
  expr: Expr;
  /** The relations (indexes into the sources) it reads. */
  refs: Set<number>;
}

export interface InnerJoinPlan {
  input: RowSource;
  /** Terms left for a filter over the joined rows (full block scope), if any. */
  rest: Expr | undefined;
}

/**
 * Plans `sources` (two or more, no LEFT JOIN) with `where`; undefined when
 * this planner does not apply (the caller then uses planJoins and filters
 * by the WHERE).
 */
export function planInnerJoins(sources: PlannedSource[], scope: Scope, where: Expr | undefined, opts: ScanOptions): InnerJoinPlan | undefined {
  if (sources.some((s) => s.from.join !== 'first' && s.from.join !== 'inner' && s.from.join !== 'cross')) return undefined;
  if (sources.some((s) => s.from.join === 'inner' && !s.from.on)) return undefined; // planJoins says what is wrong
  const owner: number[] = [];
  sources.forEach((s, i) => { for (let k = 0; k < s.scope.width; k++) owner.push(i); });
  if (owner.length !== scope.width) return undefined;

  const single: Expr[][] = sources.map(() => []);
  const multi: Term[] = [];
  const rest: Expr[] = [];
  for (const expr of conjuncts(where)) {
    const refs = relationsOf(expr, scope, owner);
    if (!refs || refs.size === 0) rest.push(expr);
    else if (refs.size === 1) single[[...refs][0]].push(expr);
    else multi.push({ expr, refs });
  }
  for (let i = 1; i < sources.length; i++) {
    for (const expr of conjuncts(sources[i].from.on)) {
      const refs = relationsOf(expr, scope, owner);
      // An ON term may read only its own join's relations and those before; anything else is planJoins' to judge.
      if (!refs || [...refs].some((r) => r > i)) return undefined;
      if (refs.size === 0) rest.push(expr);
      else if (refs.size === 1) single[[...refs][0]].push(expr);
      else multi.push({ expr, refs });
    }
  }

  const scans = sources.map((s, i) => planSourceScan(s.src, s.scope, andAll(single[i]), opts));
  const ownPreds = sources.map((s, i) => (single[i].length > 0 ? compileExpr(andAll(single[i])!, s.scope) : undefined));
  const selectivity = sources.map((s, i) => selectivityOf(single[i], s));
  const estimate = (i: number, ctx: ExecContext) => Math.max(1, (sources[i].src.estimate?.(ctx) ?? UNKNOWN_ROWS) * selectivity[i]);

  /** The joins in `order`: each step joins the next relation under the terms that became applicable. */
  const inOrder = (order: readonly number[]): RowSource => {
    const joined = new Set([order[0]]);
    let leftScope = sources[order[0]].scope;
    let left: RowSource = scans[order[0]];
    const used = new Set<Term>();
    for (let k = 1; k < order.length; k++) {
      const next = order[k];
      const terms = multi.filter((t) => !used.has(t) && t.refs.has(next) && [...t.refs].every((r) => r === next || joined.has(r)));
      terms.forEach((t) => used.add(t));
      const rightEstimate = (ctx: ExecContext) => estimate(next, ctx);
      left = joinStep(left, leftScope, sources[next], scans[next], ownPreds[next], terms.map((t) => t.expr), joined, next, scope, owner, opts, rightEstimate);
      leftScope = leftScope.concat(sources[next].scope);
      joined.add(next);
    }
    return inFromOrder(left, order, sources);
  };
  return { input: inEstimatedOrder(sources.length, multi, estimate, inOrder), rest: andAll(rest) };
}

/** Rows assumed for a relation that cannot estimate its own (a derived table, a CTE, a system table). */
const UNKNOWN_ROWS = 1000;
/** Join orders whose plans one planned block keeps (each order's plan is built on first use). */
const MAX_JOIN_ORDERS = 8;

/**
 * The block's joins in the order chosen per execution from the relations'
 * row estimates (chooseOrder); each order's plan is built once and kept, up
 * to MAX_JOIN_ORDERS, so a cached plan does not re-plan every execution.
 */
function inEstimatedOrder(count: number, multi: readonly Term[], estimate: (i: number, ctx: ExecContext) => number, inOrder: (order: readonly number[]) => RowSource): RowSource {
  // Lives with the plan (the plan cache's bound covers it): at most MAX_JOIN_ORDERS plans.
  const plans = new Map<string, RowSource>();
  const planFor = (ctx: ExecContext): RowSource => {
    const order = chooseOrder(count, multi, (i) => estimate(i, ctx));
    const key = order.join(',');
    let plan = plans.get(key);
    if (!plan) {
      plan = chosen.build(() => inOrder(order));
      if (plans.size < MAX_JOIN_ORDERS) plans.set(key, plan);
    }
    return plan;
  };
  const chosen = describeChosen((ctx: ExecContext) => planFor(ctx)(ctx), planFor);
  return chosen.source;
}

/**
 * Greedy join order: the relation with the fewest estimated rows first,
 * then, each time, the one with the fewest among those a term links to the
 * relations joined so far (any one when none is linked). Ties go to FROM
 * order.
 */
export function chooseOrder(count: number, multi: readonly Term[], estimate: (i: number) => number): number[] {
  const est = Array.from({ length: count }, (_, i) => estimate(i));
  const joined = new Set<number>();
  const order: number[] = [];
  while (order.length < count) {
    let best = -1;
    let bestLinked = false;
    for (let i = 0; i < count; i++) {
      if (joined.has(i)) continue;
      const linked = order.length > 0 && multi.some((t) => t.refs.has(i) && [...t.refs].every((r) => r === i || joined.has(r)));
      if (best < 0 || (linked && !bestLinked) || (linked === bestLinked && est[i] < est[best])) {
        best = i;
        bestLinked = linked;
      }
    }
    order.push(best);
    joined.add(best);
  }
  return order;
}

const RANGE_OPS = new Set(['<', '<=', '>', '>=']);

/**
 * The share of a relation's rows its own WHERE terms keep, guessed from
 * their shape (no statistics on values yet): an equality on the primary key
 * keeps one row, another equality or IS NULL a tenth, each IN item a tenth,
 * a range, BETWEEN or LIKE three tenths, anything else a half.
 */
function selectivityOf(terms: readonly Expr[], source: PlannedSource): number {
  const isPk = (e: Expr) => e.kind === 'column' && source.src.pkSlot !== undefined && safeSlot(source.scope, e) === source.src.pkSlot;
  let share = 1;
  for (const t of terms) {
    if (t.kind === 'binary' && t.op === '=') share *= isPk(t.left) || isPk(t.right) ? 0 : 0.1;
    else if (t.kind === 'in' && !t.negated) share *= Math.min(1, 0.1 * t.list.length);
    else if ((t.kind === 'binary' && RANGE_OPS.has(t.op)) || (t.kind === 'between' && !t.negated) || (t.kind === 'like' && !t.negated)) share *= 0.3;
    else if (t.kind === 'isNull' && !t.negated) share *= 0.1;
    else share *= 0.5;
  }
  return share;
}

/**
 * A block with an outer join (LEFT, RIGHT or FULL), joined one join at a
 * time in FROM order by planJoins. A WHERE term over one relation that no
 * join null-extends filters that relation's own scan (so it can be a
 * primary-key lookup or range): rows it rejects could only have produced
 * joined rows it rejects too. A term over a relation an outer join may
 * null-extend stays above the joins — `WHERE b.id IS NULL` after `a LEFT
 * JOIN b` must see the NULLs the join makes — as do terms over several
 * relations and terms with subqueries.
 */
export function planOuterJoins(sources: PlannedSource[], scope: Scope, where: Expr | undefined, opts: ScanOptions): InnerJoinPlan {
  const owner: number[] = [];
  sources.forEach((s, i) => { for (let k = 0; k < s.scope.width; k++) owner.push(i); });
  const pushed: Expr[][] = sources.map(() => []);
  const rest: Expr[] = [];
  const nullable = nullExtended(sources);
  for (const expr of conjuncts(where)) {
    const refs = owner.length === scope.width ? relationsOf(expr, scope, owner) : undefined;
    const only = refs?.size === 1 ? [...refs][0] : undefined;
    if (only !== undefined && !nullable[only]) pushed[only].push(expr);
    else rest.push(expr);
  }
  const scans = sources.map((s, i) => (pushed[i].length > 0 ? planSourceScan(s.src, s.scope, andAll(pushed[i]), opts) : undefined));
  return { input: planJoins(sources, opts, scans), rest: andAll(rest) };
}

/** Per relation, whether some outer join may give it NULL-extended rows (LEFT: its right side; RIGHT: all before it; FULL: both). */
function nullExtended(sources: readonly PlannedSource[]): boolean[] {
  const out = sources.map(() => false);
  sources.forEach((s, k) => {
    const join = s.from.join;
    if (join === 'left' || join === 'full') out[k] = true;
    if (join === 'right' || join === 'full') for (let j = 0; j < k; j++) out[j] = true;
  });
  return out;
}

/** The relations of this block a term reads; undefined when it has a subquery or aggregate, or a name this scope cannot resolve. */
function relationsOf(e: Expr, scope: Scope, owner: readonly number[]): Set<number> | undefined {
  const out = new Set<number>();
  let ok = true;
  walk(e, (x) => {
    if (x.kind === 'star' || isSubquery(x) || isAggregateCall(x)) ok = false;
    else if (x.kind === 'column') {
      try {
        const r = scope.resolveOuter(x.table, x.name);
        if (r.depth === 0) out.add(owner[r.slot]);
      } catch {
        ok = false; // compiled with the whole WHERE, so the error is the usual one
      }
    }
  });
  return ok ? out : undefined;
}

/** One join of the rows so far with relation `next` under `terms`. */
function joinStep(
  left: RowSource,
  leftScope: Scope,
  source: PlannedSource,
  rightRows: RowSource,
  ownPred: Evaluator | undefined,
  terms: Expr[],
  joined: Set<number>,
  next: number,
  scope: Scope,
  owner: readonly number[],
  opts: ScanOptions,
  rightEstimate: (ctx: ExecContext) => number,
): RowSource {
  const joinedScope = leftScope.concat(source.scope);
  const width = source.scope.width;
  const detail = terms.map(exprText).join(' AND ');
  if (terms.length === 0) {
    return describe((ctx) => nestedLoopJoin(left(ctx), rightRows(ctx), undefined, 'cross', width, ctx), () => ({ operator: 'Cross join', detail: '', children: nodesOf(left, rightRows) }));
  }
  const sideOf = (e: Expr): 'left' | 'right' | undefined => {
    const refs = relationsOf(e, scope, owner);
    if (!refs || refs.size === 0) return undefined;
    if ([...refs].every((r) => r === next)) return 'right';
    return [...refs].every((r) => joined.has(r)) ? 'left' : undefined;
  };
  for (let k = 0; k < terms.length; k++) {
    const t = terms[k];
    if (t.kind !== 'binary' || t.op !== '=') continue;
    const a = sideOf(t.left);
    const b = sideOf(t.right);
    if (!a || !b || a === b) continue;
    const [lExpr, rExpr] = a === 'left' ? [t.left, t.right] : [t.right, t.left];
    const leftKey = compileExpr(lExpr, leftScope);
    const rightKey = compileExpr(rExpr, source.scope);
    const others = andAll(terms.filter((_, j) => j !== k));
    const residual = others ? compileExpr(others, joinedScope) : undefined;
    const hashed = (leftRows: Iterable<Tuple>, ctx: ExecContext) =>
      innerHashJoin(leftRows, () => rightRows(ctx), leftKey, rightKey, residual, rightEstimate(ctx), width, sqlEquals, ctx);
    const pk = source.src.pkSlot;
    if (source.src.lookup && source.src.table && pk !== undefined && rExpr.kind === 'column' && safeSlot(source.scope, rExpr) === pk
      && sameFamily(staticType(lExpr, leftScope), source.src.table.columns[pk].type)) {
      return describe(lookupOrHash(left, leftKey, source, ownPred, residual, hashed, opts), () => ({
        operator: 'Lookup join',
        detail: `${detail}; a primary-key lookup per row, a hash join past ${LOOKUP_JOIN_MAX_ROWS} rows`,
        children: nodesOf(left, rightRows),
      }));
    }
    const indexed = joinHooks.indexJoin?.({ left, leftKey, source, rExpr, ownPred, residual, hashed, rightEstimate, rightRows, opts, detail });
    if (indexed) return indexed;
    return describe((ctx) => hashed(left(ctx), ctx), () => ({ operator: 'Hash join', detail, children: nodesOf(left, rightRows) }));
  }
  const on = compileExpr(andAll(terms)!, joinedScope);
  return describe((ctx) => nestedLoopJoin(left(ctx), rightRows(ctx), on, 'inner', width, ctx), () => ({ operator: 'Nested loop join', detail, children: nodesOf(left, rightRows) }));
}

/**
 * Whether a key of type `a` is converted to a primary key of type `b` as
 * `=` compares them (numbers with numbers, text with text, or one type):
 * then a lookup finds every row `=` would match. Text against numbers is
 * compared by reading the text as a number, which no lookup can invert.
 */
function sameFamily(a: DataType | undefined, b: DataType): boolean {
  if (a === undefined) return false;
  const numeric = (t: DataType) => isIntType(t) || isFloatType(t) || t === 'DECIMAL';
  const textual = (t: DataType) => t === 'TEXT' || t === 'UUID';
  return a === b || (numeric(a) && numeric(b)) || (textual(a) && textual(b));
}

function safeSlot(scope: Scope, e: Extract<Expr, { kind: 'column' }>): number | undefined {
  try {
    return scope.resolve(e.table, e.name);
  } catch {
    return undefined;
  }
}

/**
 * A join on the next relation's primary key: when the rows joined so far
 * are at most LOOKUP_JOIN_MAX_ROWS, one primary-key lookup each, filtered by
 * the relation's own WHERE terms (`ownPred`), so the relation is never
 * scanned; past that, a hash join over all of them.
 */
function lookupOrHash(
  left: RowSource,
  leftKey: Evaluator,
  source: PlannedSource,
  ownPred: Evaluator | undefined,
  residual: Evaluator | undefined,
  hashed: (leftRows: Iterable<Tuple>, ctx: ExecContext) => Iterable<Tuple>,
  opts: ScanOptions,
): RowSource {
  const src = source.src;
  const pkSlot = src.pkSlot!;
  const pkCol = src.table!.columns[pkSlot];
  return function* (ctx: ExecContext): Generator<Tuple> {
    const head = yield* headOrHashed(left(ctx), LOOKUP_JOIN_MAX_ROWS, hashed, ctx);
    if (head === undefined) return;
    for (const l of head) {
      const k = leftKey(l, ctx);
      if (k === null) continue;
      let key: Value;
      try {
        key = coerce(k, pkCol.type, pkCol.name);
      } catch {
        continue; // not a value of the key's type: `=` matches no key
      }
      const r = src.lookup!(ctx, key, { includeDeleted: opts.includeDeleted });
      if (!r || r[pkSlot] === null || !sqlEquals(k, r[pkSlot])) continue;
      if (ownPred && !isTrue(ownPred(r, ctx))) continue;
      const row = (l as Value[]).concat(r as Value[]);
      if (residual && !isTrue(residual(row, ctx))) continue;
      yield row;
    }
  };
}

/**
 * The left side's rows, read whole when there are at most `budget` of them
 * (PAUSE passed on as they come); past the budget, every row is joined by
 * `hashed` instead (those read, then the rest) and the result is undefined.
 */
export function* headOrHashed(rows: Iterable<Tuple>, budget: number, hashed: (leftRows: Iterable<Tuple>, ctx: ExecContext) => Iterable<Tuple>, ctx: ExecContext): Generator<Tuple, Tuple[] | undefined> {
  const head: Tuple[] = [];
  const it = rows[Symbol.iterator]();
  for (;;) {
    const n = it.next();
    if (n.done) return head;
    if (n.value === PAUSE) {
      yield PAUSE;
      continue;
    }
    head.push(n.value);
    if (head.length > budget) {
      yield* hashed(resume(head, it), ctx); // too many: these rows, then the rest
      return undefined;
    }
  }
}

export function* resume(head: readonly Tuple[], rest: Iterator<Tuple>): Generator<Tuple> {
  yield* head;
  for (let n = rest.next(); !n.done; n = rest.next()) yield n.value;
}

/** The joined tuples (relations in `order`) laid out in FROM order, as the block's scope reads them. */
function inFromOrder(input: RowSource, order: readonly number[], sources: readonly PlannedSource[]): RowSource {
  if (order.every((r, i) => r === i)) return input;
  return describe(reordered(input, order, sources), () => ({ operator: 'Reorder', detail: `joined as ${order.map((r) => sources[r].relation).join(', ')}; columns in FROM order`, children: nodesOf(input) }));
}

function reordered(input: RowSource, order: readonly number[], sources: readonly PlannedSource[]): RowSource {
  const start: number[] = [];
  let offset = 0;
  for (const r of order) {
    start[r] = offset;
    offset += sources[r].scope.width;
  }
  const slots: number[] = [];
  sources.forEach((s, r) => { for (let k = 0; k < s.scope.width; k++) slots.push(start[r] + k); });
  return function* (ctx: ExecContext): Generator<Tuple> {
    for (const row of input(ctx)) {
      if (row === PAUSE) {
        yield row;
        continue;
      }
      const out = new Array<Value>(slots.length);
      for (let i = 0; i < slots.length; i++) out[i] = row[slots[i]];
      yield out;
    }
  };
}
