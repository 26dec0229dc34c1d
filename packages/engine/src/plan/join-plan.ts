/**
 * Inner joins planned as one set. The WHERE's AND terms and every INNER
 * JOIN's ON terms go into one pool (for inner joins they mean the same):
 *
 * - a term over one relation filters that relation's own scan, so it can
 *   turn it into a primary-key lookup or key range (planSourceScan);
 * - a term over several relations joins them as soon as they are all
 *   joined: an equality between the relations joined so far and the next
 *   one makes a hash join (or, when it is the next one's primary key and
 *   the rows joined so far are few, one lookup per row), the other terms
 *   filter the joined pairs;
 * - a term with a subquery, or over no relation of this block, filters the
 *   joined rows at the end, as the WHERE did before.
 *
 * Relations are joined in FROM order, except that one with no term linking
 * it to those already joined waits while another has one (a comma list in
 * any order does not turn into a cross product). Output tuples keep FROM
 * order. A block with a LEFT JOIN keeps planJoins' one-join-at-a-time plan.
 */
import type { DataType, Value } from '../core/types';
import { coerce, isTrue } from '../core/values';
import type { Evaluator, ExecContext, Tuple } from '../exec/context';
import { hashJoin } from '../exec/hash-join';
import { nestedLoopJoin } from '../exec/operators';
import { PAUSE } from '../exec/pace';
import type { Expr } from '../sql/ast';
import { isFloatType, isIntType, staticType } from './arith';
import { compileExpr, sqlEquals } from './compile';
import { andAll, conjuncts, isAggregateCall, isSubquery, walk } from './expr-walk';
import { describe, exprText, nodesOf } from './explain';
import { planSourceScan, type PlannedSource, type RowSource } from './scan-plan';
import type { Scope } from './scope';
import type { ScanOptions } from './source';

/** Rows joined so far before a primary-key join decides between one lookup per row and a hash join. */
export const LOOKUP_JOIN_MAX_ROWS = 1024;

interface Term {
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
  const order = [0];
  const joined = new Set([0]);
  let leftScope = sources[0].scope;
  let left: RowSource = scans[0];
  const used = new Set<Term>();
  while (order.length < sources.length) {
    const next = pickNext(sources.length, joined, multi, used);
    const terms = multi.filter((t) => !used.has(t) && t.refs.has(next) && [...t.refs].every((r) => r === next || joined.has(r)));
    terms.forEach((t) => used.add(t));
    left = joinStep(left, leftScope, sources[next], scans[next], ownPreds[next], terms.map((t) => t.expr), joined, next, scope, owner, opts);
    leftScope = leftScope.concat(sources[next].scope);
    order.push(next);
    joined.add(next);
  }
  return { input: inFromOrder(left, order, sources), rest: andAll(rest) };
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

/** The first relation in FROM order that a term links to the joined ones; the first not joined when none is linked. */
function pickNext(count: number, joined: Set<number>, multi: readonly Term[], used: Set<Term>): number {
  let first = -1;
  for (let i = 0; i < count; i++) {
    if (joined.has(i)) continue;
    if (first < 0) first = i;
    if (multi.some((t) => !used.has(t) && t.refs.has(i) && [...t.refs].every((r) => r === i || joined.has(r)))) return i;
  }
  return first;
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
    const hashed = (leftRows: Iterable<Tuple>, ctx: ExecContext) => hashJoin(leftRows, rightRows(ctx), leftKey, rightKey, residual, 'inner', width, sqlEquals, ctx);
    const pk = source.src.pkSlot;
    if (source.src.lookup && source.src.table && pk !== undefined && rExpr.kind === 'column' && safeSlot(source.scope, rExpr) === pk
      && sameFamily(staticType(lExpr, leftScope), source.src.table.columns[pk].type)) {
      return describe(lookupOrHash(left, leftKey, source, ownPred, residual, hashed, opts), () => ({
        operator: 'Lookup join',
        detail: `${detail}; a primary-key lookup per row, a hash join past ${LOOKUP_JOIN_MAX_ROWS} rows`,
        children: nodesOf(left, rightRows),
      }));
    }
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
    const head: Tuple[] = [];
    const it = left(ctx)[Symbol.iterator]();
    for (;;) {
      const n = it.next();
      if (n.done) break;
      if (n.value === PAUSE) {
        yield PAUSE;
        continue;
      }
      head.push(n.value);
      if (head.length > LOOKUP_JOIN_MAX_ROWS) {
        yield* hashed(resume(head, it), ctx); // too many for lookups: these rows, then the rest
        return;
      }
    }
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

function* resume(head: readonly Tuple[], rest: Iterator<Tuple>): Generator<Tuple> {
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
