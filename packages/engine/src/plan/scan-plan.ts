/**
 * How one SELECT block reads its FROM items: a primary-key lookup, a key
 * range, or a partition scan for one relation (filtered by the WHERE terms
 * that are its own), and hash or nested-loop joins between relations.
 */
/** A RowSource over one relation that can also produce its rows in primary-key order, descending or not. */
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import { coerce, compareValues } from '../core/values';
import { hashJoin } from '../exec/hash-join';
import { filter, nestedLoopJoin, type JoinKind } from '../exec/operators';
import { paced } from '../exec/pace';
import type { Evaluator, ExecContext, Tuple } from '../exec/context';
import type { Expr } from '../sql/ast';
import type { KeyRange } from '../storage/key-range';
import { compileExpr, sqlEquals } from './compile';
import { describe, exprText, nodesOf, type Access, type PlanNode } from './explain';
import { andAll, conjuncts, hasColumns, isRowConstant, safeResolve } from './expr-walk';
import { Scope } from './scope';
import type { RelationSource, ScanOptions } from './source';

/** Rows of a relation (or a join of several) for one execution. */
export type RowSource = (ctx: ExecContext) => Iterable<Tuple>;

export interface ScanSource extends RowSource {
  ordered?(descending: boolean): RowSource;
  /** Rows in the order of `keys` (columns of this relation), through an index; undefined when no index has that order. */
  orderedBy?(keys: readonly OrderKey[], keep: (ctx: ExecContext) => number | undefined): RowSource | undefined;
}

/** One ORDER BY key on a column of the scanned relation. */
/** (slot -1: the key is not a column of the relation, and no index serves it) */
export interface OrderKey {
  slot: number;
  descending: boolean;
  nullsFirst: boolean;
}

type IndexPlanner = (src: RelationSource, scope: Scope, where: Expr | undefined, opts: ScanOptions, pred: Evaluator | undefined, scan: ScanSource) => ScanSource | undefined;
/** plan/index-plan.ts, registered when secondary indexes load (execute/index-support.ts); until then no table has an index. */
let indexPlanner: IndexPlanner | undefined;
/** Told when a plan is begun and made (execute/planner.ts), so the index planner can hand over the index reads it planned. */
export const planHooks: { begin?(): void; planned?(plan: object): void } = {};
export function registerIndexPlanner(planner: IndexPlanner): void {
  indexPlanner = planner;
}

const RANGE_OPS = new Set(['<', '<=', '>', '>=']);
const FLIP_OP: Record<string, string> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/**
 * Rows of one source filtered by `where`, using a primary-key lookup when
 * the WHERE has `pk = <constant>` at its top level, one lookup per key
 * when it has `pk IN (<constants>)` or an OR of such equalities (the keys
 * deduplicated, in key order: keyListLookups),
 * and reading only the key range its top-level `pk <op> <constant>` and
 * `pk BETWEEN` conjuncts allow (the source reads that range in O(log n +
 * k); `where` still filters every row).
 */
export function planSourceScan(src: RelationSource, scope: Scope, where: Expr | undefined, opts: ScanOptions): ScanSource {
  const pred = where ? compileExpr(where, scope) : undefined;
  if (src.lookup && src.pkSlot !== undefined && src.table) {
    const pkCol = src.table.columns[src.pkSlot];
    for (const c of conjuncts(where)) {
      if (c.kind !== 'binary' || c.op !== '=') continue;
      let constant: Expr | undefined;
      for (const [a, b] of [[c.left, c.right], [c.right, c.left]] as const) {
        if (a.kind === 'column' && isRowConstant(b, scope) && safeResolve(scope, a) === src.pkSlot) constant = b;
      }
      if (!constant) continue;
      // Literals, parameters, or an enclosing query's columns (a correlated lookup): read with no row of ours.
      const keyEval = compileExpr(constant, scope);
      const lookup = src.lookup.bind(src);
      const keyText = `${pkCol.name} = ${exprText(constant)}`;
      return describe((ctx) => {
        const raw = keyEval([], ctx);
        if (raw === null) return [];
        let key: Value;
        try {
          key = coerce(raw, pkCol.type, pkCol.name);
        } catch {
          return scanAll(src, pred, opts, ctx); // not comparable as the key type: fall back to a filtered scan
        }
        const row = lookup(ctx, key, opts);
        return row && (!pred || filterOne(pred, row, ctx)) ? [row] : [];
      }, () => scanNode(src, 'pk lookup', keyText, where));
    }
    const lookups = keyListLookups(src, scope, where, pred, opts);
    if (lookups) return lookups;
  }
  const range = src.pkSlot !== undefined && src.table ? keyRangeOf(src, scope, where) : undefined;
  const scan = (ctx: ExecContext, descending: boolean): Iterable<Tuple> => {
    const r = range?.(ctx);
    if (r === 'empty') return [];
    return scanAll(src, pred, r || descending ? { ...opts, range: r, descending } : opts, ctx);
  };
  const access: Access = range ? 'pk range' : 'full scan';
  const out: ScanSource = describe((ctx: ExecContext) => scan(ctx, false), () => scanNode(src, access, '', where));
  if (src.table) {
    out.ordered = (descending) => describe((ctx) => scan(ctx, descending), () => scanNode(src, range ? 'pk range' : 'pk order', descending ? 'descending' : '', where));
  }
  return (!range && indexPlanner?.(src, scope, where, opts, pred, out)) || out;
}

/**
 * `pk IN (<constants>)` — or `pk = a OR pk = b …` — at the WHERE's top
 * level: a lookup per key, the keys coerced to the key's type,
 * deduplicated and in ascending order (as a scan returns rows), NULLs
 * skipped; the whole WHERE filters each row found. A key that does not
 * coerce reads as the filtered scan would.
 */
function keyListLookups(src: RelationSource, scope: Scope, where: Expr | undefined, pred: Evaluator | undefined, opts: ScanOptions): ScanSource | undefined {
  const pkCol = src.table!.columns[src.pkSlot!];
  const isPk = (e: Expr) => e.kind === 'column' && safeResolve(scope, e) === src.pkSlot;
  /** The constants a conjunct names the key by, or undefined. */
  const keysOf = (c: Expr): Expr[] | undefined => {
    if (c.kind === 'in') return !c.negated && isPk(c.arg) && c.list.length > 0 && c.list.every((x) => isRowConstant(x, scope)) ? c.list : undefined;
    if (c.kind !== 'binary') return undefined;
    if (c.op === 'OR') {
      const left = keysOf(c.left);
      const right = left && keysOf(c.right);
      return right && [...left!, ...right];
    }
    if (c.op !== '=') return undefined;
    if (isPk(c.left) && isRowConstant(c.right, scope)) return [c.right];
    if (isPk(c.right) && isRowConstant(c.left, scope)) return [c.left];
    return undefined;
  };
  let list: Expr[] | undefined;
  for (const c of conjuncts(where)) if (!list && (c.kind === 'in' || (c.kind === 'binary' && c.op === 'OR'))) list = keysOf(c);
  if (!list) return undefined;
  const evals = list.map((x) => compileExpr(x, scope));
  const lookup = src.lookup!.bind(src);
  return describe((ctx) => {
    const keys: Value[] = [];
    for (const e of evals) {
      const raw = e([], ctx);
      if (raw === null) continue;
      try {
        keys.push(coerce(raw, pkCol.type, pkCol.name));
      } catch {
        return scanAll(src, pred, opts, ctx); // not comparable as the key type: the filtered scan
      }
    }
    keys.sort(compareValues);
    const out: Tuple[] = [];
    for (let i = 0; i < keys.length; i++) {
      if (i > 0 && compareValues(keys[i], keys[i - 1]) === 0) continue;
      const row = lookup(ctx, keys[i], opts);
      if (row && (!pred || filterOne(pred, row, ctx))) out.push(row);
    }
    return out;
  }, () => ({ ...scanNode(src, 'pk lookup', `${pkCol.name} IN (${evals.length} keys)`, where), estimate: evals.length }));
}

function scanNode(src: RelationSource, access: Access, how: string, where: Expr | undefined): PlanNode {
  const filter = where ? `filter: ${exprText(where)}` : '';
  return {
    operator: src.table ? 'Scan' : 'Scan relation',
    detail: [src.name, access + (how ? ` (${how})` : ''), filter].filter(Boolean).join('; '),
    // A derived table or CTE: its query is below the scan.
    children: nodesOf(src.rows),
    source: src,
    access,
  };
}

/** The key range a WHERE's top-level `pk <op> constant` / `pk BETWEEN a AND b` conjuncts allow, per execution ('empty': a NULL bound, no row). */
function keyRangeOf(src: RelationSource, scope: Scope, where: Expr | undefined): ((ctx: ExecContext) => KeyRange | 'empty' | undefined) | undefined {
  const pkCol = src.table!.columns[src.pkSlot!];
  const bounds: { op: string; value: Evaluator }[] = [];
  const isPk = (e: Expr) => e.kind === 'column' && safeResolve(scope, e) === src.pkSlot;
  for (const c of conjuncts(where)) {
    if (c.kind === 'binary' && RANGE_OPS.has(c.op)) {
      if (isPk(c.left) && isRowConstant(c.right, scope)) bounds.push({ op: c.op, value: compileExpr(c.right, scope) });
      else if (isPk(c.right) && isRowConstant(c.left, scope)) bounds.push({ op: FLIP_OP[c.op], value: compileExpr(c.left, scope) });
    } else if (c.kind === 'between' && !c.negated && isPk(c.arg) && isRowConstant(c.low, scope) && isRowConstant(c.high, scope)) {
      bounds.push({ op: '>=', value: compileExpr(c.low, scope) }, { op: '<=', value: compileExpr(c.high, scope) });
    }
  }
  if (bounds.length === 0) return undefined;
  return (ctx) => {
    const range: KeyRange = {};
    for (const b of bounds) {
      const raw = b.value([], ctx);
      if (raw === null) return 'empty';
      let v: Value;
      try {
        v = coerce(raw, pkCol.type, pkCol.name);
      } catch {
        continue; // not comparable as the key type: the filter decides
      }
      const inclusive = b.op === '<=' || b.op === '>=';
      if (b.op === '>' || b.op === '>=') {
        const c = range.lower ? compareValues(v, range.lower.value) : 1;
        if (c > 0 || (c === 0 && !inclusive)) range.lower = { value: v, inclusive };
      } else {
        const c = range.upper ? compareValues(v, range.upper.value) : -1;
        if (c < 0 || (c === 0 && !inclusive)) range.upper = { value: v, inclusive };
      }
    }
    return range.lower || range.upper ? range : undefined;
  };
}

export function scanAll(src: RelationSource, pred: Evaluator | undefined, opts: ScanOptions, ctx: ExecContext): Iterable<Tuple> {
  const rows = paced(src.rows(ctx, opts), ctx);
  return pred ? filter(rows, pred, ctx) : rows;
}

export function filterOne(pred: Evaluator, row: Tuple, ctx: ExecContext): boolean {
  for (const _ of filter([row], pred, ctx)) return true;
  return false;
}

export interface PlannedSource {
  src: RelationSource;
  relation: string;
  from: { join: string; on?: Expr };
  scope: Scope;
}

/**
 * Joins `sources` one at a time in FROM order (outer joins): each ON's
 * equality makes a hash join, else a nested loop. `scans[i]`, when given,
 * reads relation i (a scan filtered by WHERE terms pushed down to it,
 * join-plan.ts planOuterJoins); otherwise the relation is read whole.
 */
export function planJoins(sources: PlannedSource[], opts: ScanOptions, scans: readonly (RowSource | undefined)[] = []): RowSource {
  let leftScope = sources[0].scope;
  let left: RowSource = scans[0] ?? describe((ctx) => paced(sources[0].src.rows(ctx, opts), ctx), () => scanNode(sources[0].src, 'full scan', '', undefined));
  for (let i = 1; i < sources.length; i++) {
    const s = sources[i];
    const rightScope = s.scope;
    const joinedScope = leftScope.concat(rightScope);
    const kind: JoinKind = s.from.join === 'left' || s.from.join === 'right' || s.from.join === 'full' || s.from.join === 'cross' ? s.from.join : 'inner';
    const named = kind === 'inner' || kind === 'cross' ? '' : `${kind} `;
    if (kind !== 'cross' && !s.from.on) throw new KalamError('INVALID_SQL', 'JOIN needs an ON condition');
    const prevLeft = left;
    const width = rightScope.width;
    const rightRows = scans[i] ?? describe((ctx: ExecContext) => paced(s.src.rows(ctx, opts), ctx), () => scanNode(s.src, 'full scan', '', undefined));
    // find an equality between one left column expression and one right column expression
    const parts = conjuncts(s.from.on);
    let equi: { l: Evaluator; r: Evaluator; rest: Expr[] } | undefined;
    for (let k = 0; k < parts.length && !equi; k++) {
      const p = parts[k];
      if (p.kind !== 'binary' || p.op !== '=') continue;
      for (const [a, b] of [[p.left, p.right], [p.right, p.left]] as const) {
        if (equi) break;
        try {
          // Own columns only: a name that is not on this side must not bind to an enclosing query.
          const l = compileExpr(a, new Scope(leftScope.columns));
          const r = compileExpr(b, new Scope(rightScope.columns));
          if (!hasColumns(a) || !hasColumns(b)) continue;
          equi = { l, r, rest: parts.filter((_, j) => j !== k) };
        } catch {
          /* not an equi-join on this orientation */
        }
      }
    }
    if (equi) {
      const { l, r } = equi;
      const residualExpr = andAll(equi.rest);
      const residual = residualExpr ? compileExpr(residualExpr, joinedScope) : undefined;
      const jk = kind === 'cross' ? 'inner' : kind;
      const leftWidth = leftScope.width;
      left = describe((ctx) => hashJoin(prevLeft(ctx), rightRows(ctx), l, r, residual, jk, width, sqlEquals, ctx, leftWidth),
        () => ({ operator: `Hash ${named}join`, detail: exprText(s.from.on), children: nodesOf(prevLeft, rightRows) }));
    } else {
      const on = s.from.on ? compileExpr(s.from.on, joinedScope) : undefined;
      const leftWidth = leftScope.width;
      left = describe((ctx) => nestedLoopJoin(prevLeft(ctx), rightRows(ctx), on, kind, width, ctx, leftWidth),
        () => ({ operator: `Nested loop ${named}join`, detail: exprText(s.from.on), children: nodesOf(prevLeft, rightRows) }));
    }
    leftScope = joinedScope;
  }
  return left;
}
