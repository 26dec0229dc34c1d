/**
 * Index scans: a table scan whose WHERE constrains a secondary index's
 * leading columns, or whose ORDER BY is an index's order, reads through
 * the index (loaded with the other index code, registered with
 * plan/scan-plan.ts by execute/index-support.ts).
 *
 * What an index serves: equality on a prefix of its columns, then on the
 * next column one of `= c`, `IN (c, …)` (first column only), a range
 * (`<`, `<=`, `>`, `>=`, `BETWEEN`, combined) or a prefix `LIKE 'abc%'`
 * (TEXT); and `ORDER BY` the index's remaining columns (all of them, each
 * in the index's direction or each reversed, NULLs where that direction
 * puts them by default), so `LIMIT n` stops the read after n rows.
 *
 * The index only narrows: the scan's whole WHERE is still applied to every
 * row it yields, so a row the index would wrongly include is filtered out.
 * It must never leave out a row the WHERE accepts, so a constant is used
 * only when it already has the column's own representation (a number for
 * a numeric column, a string for TEXT, a boolean for BOOLEAN): anything
 * else (text compared with a number column, a timestamp as text) runs the
 * ordinary scan, where typed-compare.ts gives `=` its meaning. So does an
 * execution the index cannot serve (RelationSource.indexRows says so: cold
 * segments not prepared through the index). A transaction's staged rows
 * are laid over the index read (execute/index-support.ts).
 */
import type { IndexDef, TableDef } from '../core/schema';
import type { Value } from '../core/types';
import type { Evaluator, ExecContext, Tuple } from '../exec/context';
import { filter, sortRows, type SortKey } from '../exec/operators';
import { paced } from '../exec/pace';
import type { Expr } from '../sql/ast';
import { compareIndexValue, type IndexBound } from '../storage/hot-index';
import { compileExpr } from './compile';
import { describe, exprText, type PlanNode } from './explain';
import { conjuncts, isRowConstant, safeResolve } from './expr-walk';
import type { OrderKey, RowSource, ScanSource } from './scan-plan';
import type { Scope } from './scope';
import type { IndexScanRequest, RelationSource, ScanOptions } from './source';

/** What the WHERE says about one column: constants per execution. */
type Constraint = (
  | { kind: 'eq'; value: Evaluator }
  | { kind: 'in'; values: Evaluator[] }
  | { kind: 'range'; bounds: { op: '<' | '<=' | '>' | '>='; value: Evaluator }[] }
  | { kind: 'prefix'; pattern: Evaluator }
) & { fixed?: boolean };

/** A literal or a parameter: the same value in every part of one execution (so a read can be prepared ahead of it). */
const isFixed = (...es: Expr[]) => es.every((e) => e.kind === 'literal' || e.kind === 'param');

const FLIP: Record<string, '<' | '<=' | '>' | '>='> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
const NUMERIC = new Set(['SMALLINT', 'INT', 'BIGINT', 'FLOAT', 'DOUBLE']);

/** The value as the index holds it, `null` when it can match nothing (SQL NULL), undefined when the index cannot judge it. */
function indexValue(raw: Value, type: string): Value | undefined {
  if (raw === null) return null;
  if (NUMERIC.has(type)) return typeof raw === 'number' || typeof raw === 'bigint' ? raw : undefined;
  if (type === 'TEXT') return typeof raw === 'string' ? raw : undefined;
  if (type === 'BOOLEAN') return typeof raw === 'boolean' ? raw : undefined;
  return undefined;
}

/** The constraints of the WHERE's top-level conjuncts on each column slot of the table. */
function constraintsOf(scope: Scope, where: Expr | undefined): Map<number, Constraint[]> {
  const out = new Map<number, Constraint[]>();
  const add = (slot: number, c: Constraint) => {
    const list = out.get(slot);
    if (list) list.push(c);
    else out.set(slot, [c]);
  };
  const slotOf = (e: Expr) => (e.kind === 'column' ? safeResolve(scope, e) : -1);
  for (const c of conjuncts(where)) {
    if (c.kind === 'binary' && (c.op === '=' || c.op in FLIP)) {
      for (const [col, other, op] of [[c.left, c.right, c.op], [c.right, c.left, c.op === '=' ? '=' : FLIP[c.op]]] as const) {
        const slot = slotOf(col);
        if (slot < 0 || !isRowConstant(other, scope)) continue;
        const value = compileExpr(other, scope);
        add(slot, op === '=' ? { kind: 'eq', value, fixed: isFixed(other) } : { kind: 'range', bounds: [{ op: op as '<', value }], fixed: isFixed(other) });
        break;
      }
    } else if (c.kind === 'between' && !c.negated && slotOf(c.arg) >= 0 && isRowConstant(c.low, scope) && isRowConstant(c.high, scope)) {
      add(slotOf(c.arg), { kind: 'range', bounds: [{ op: '>=', value: compileExpr(c.low, scope) }, { op: '<=', value: compileExpr(c.high, scope) }], fixed: isFixed(c.low, c.high) });
    } else if (c.kind === 'in' && !c.negated && slotOf(c.arg) >= 0 && c.list.length > 0 && c.list.every((x) => isRowConstant(x, scope))) {
      add(slotOf(c.arg), { kind: 'in', values: c.list.map((x) => compileExpr(x, scope)), fixed: isFixed(...c.list) });
    } else if (c.kind === 'like' && !c.negated && !c.caseInsensitive && !c.escape && slotOf(c.arg) >= 0 && isRowConstant(c.pattern, scope)) {
      add(slotOf(c.arg), { kind: 'prefix', pattern: compileExpr(c.pattern, scope), fixed: isFixed(c.pattern) });
    }
  }
  return out;
}

/** One index's use for a scan: its equality prefix, then at most one more constraint on the next column. */
interface IndexAccess {
  index: IndexDef;
  slots: number[];
  types: string[];
  desc: boolean[];
  /** Columns fixed by `=`, in index order. */
  eq: Evaluator[];
  next?: Constraint;
  /** Every constant it uses is a literal or a parameter. */
  fixed: boolean;
}

function accessFor(t: TableDef, index: IndexDef, constraints: Map<number, Constraint[]>): IndexAccess {
  const slots = index.columns.map((c) => t.columns.findIndex((col) => col.id === c.id));
  const access: IndexAccess = { index, slots, types: slots.map((s) => t.columns[s].type), desc: index.columns.map((c) => c.desc), eq: [], fixed: true };
  for (let i = 0; i < slots.length; i++) {
    const list = constraints.get(slots[i]) ?? [];
    const eq = list.find((c) => c.kind === 'eq');
    if (eq && eq.kind === 'eq') {
      access.eq.push(eq.value);
      access.fixed &&= eq.fixed === true;
      continue;
    }
    const rest = list.find((c) => (c.kind === 'in' ? i === 0 : c.kind === 'prefix' ? access.types[i] === 'TEXT' : true));
    if (rest?.kind === 'range') {
      // Every range conjunct on the column narrows the one span.
      access.next = { kind: 'range', bounds: list.flatMap((c) => (c.kind === 'range' ? c.bounds : [])) };
      access.fixed &&= list.every((c) => c.kind !== 'range' || c.fixed === true);
    } else if (rest) {
      access.next = rest;
      access.fixed &&= rest.fixed === true;
    }
    break;
  }
  return access;
}

/** The successor of every string with `prefix` as its prefix (exclusive upper end), or undefined when there is none. */
function prefixEnd(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const code = prefix.charCodeAt(i);
    if (code < 0xffff) return prefix.slice(0, i) + String.fromCharCode(code + 1);
  }
  return undefined;
}

type Span = IndexScanRequest['spans'][number];

/** The spans of one execution, in index order; 'empty' when nothing can match, undefined when the index cannot judge a constant. */
function spansOf(a: IndexAccess, ctx: ExecContext): Span[] | 'empty' | undefined {
  const prefix: Value[] = [];
  for (let i = 0; i < a.eq.length; i++) {
    const v = indexValue(a.eq[i]([], ctx), a.types[i]);
    if (v === undefined) return undefined;
    if (v === null) return 'empty';
    prefix.push(v);
  }
  const k = a.eq.length;
  const at = (v: Value): IndexBound => ({ tuple: [...prefix, v], inclusive: true });
  const whole: Span = prefix.length > 0 ? { lower: { tuple: prefix, inclusive: true }, upper: { tuple: prefix, inclusive: true } } : {};
  const next = a.next;
  if (!next) return [whole];
  const type = a.types[k];
  switch (next.kind) {
    case 'eq':
    case 'in': {
      const values: Value[] = [];
      for (const ev of next.kind === 'eq' ? [next.value] : next.values) {
        const v = indexValue(ev([], ctx), type);
        if (v === undefined) return undefined;
        if (v !== null) values.push(v);
      }
      if (values.length === 0) return 'empty';
      // In index order, each value once.
      values.sort((x, y) => (a.desc[k] ? -1 : 1) * compareIndexValue(x, y));
      const distinct = values.filter((v, i) => i === 0 || compareIndexValue(v, values[i - 1]) !== 0);
      return distinct.map((v) => ({ lower: at(v), upper: at(v) }));
    }
    case 'range': {
      let lo: { v: Value; inclusive: boolean } | undefined;
      let hi: { v: Value; inclusive: boolean } | undefined;
      for (const b of next.bounds) {
        const v = indexValue(b.value([], ctx), type);
        if (v === undefined) return undefined;
        if (v === null) return 'empty';
        const inclusive = b.op === '<=' || b.op === '>=';
        if (b.op === '>' || b.op === '>=') {
          const c = lo ? compareIndexValue(v, lo.v) : 1;
          if (c > 0 || (c === 0 && !inclusive)) lo = { v, inclusive };
        } else {
          const c = hi ? compareIndexValue(v, hi.v) : -1;
          if (c < 0 || (c === 0 && !inclusive)) hi = { v, inclusive };
        }
      }
      return [rangeSpan(prefix, lo, hi, a.desc[k], whole)];
    }
    case 'prefix': {
      const p = next.pattern([], ctx);
      if (p === null) return 'empty';
      if (typeof p !== 'string') return undefined;
      let fixed = '';
      for (const ch of p) {
        if (ch === '%' || ch === '_') break;
        if (ch === '\\') return undefined; // an escaped wildcard: the ordinary scan reads it
        fixed += ch;
      }
      if (fixed === '') return [whole];
      const end = prefixEnd(fixed);
      return [rangeSpan(prefix, { v: fixed, inclusive: true }, end === undefined ? undefined : { v: end, inclusive: false }, a.desc[k], whole)];
    }
  }
}

/**
 * The span of values between `lo` and `hi` (ascending terms) after the
 * equality prefix; a DESC column swaps the ends. An open end stays within
 * the prefix, and above the NULLs (a range never holds NULL).
 */
function rangeSpan(prefix: Value[], lo: { v: Value; inclusive: boolean } | undefined, hi: { v: Value; inclusive: boolean } | undefined, desc: boolean, whole: Span): Span {
  const bound = (b: { v: Value; inclusive: boolean }): IndexBound => ({ tuple: [...prefix, b.v], inclusive: b.inclusive });
  // NULLs sort above every value: an open upper end (ascending) stops before them.
  const belowNull: IndexBound = { tuple: [...prefix, null], inclusive: false };
  if (!desc) return { lower: lo ? bound(lo) : whole.lower, upper: hi ? bound(hi) : belowNull };
  return { lower: hi ? bound(hi) : { tuple: [...prefix, null], inclusive: false }, upper: lo ? bound(lo) : whole.upper };
}

/**
 * A read through an index that a plan makes, for preparing its cold data
 * before it runs (execute/index-cold.ts): the spans and the rows it will
 * ask for, and the predicate applied over them.
 */
export interface IndexRead {
  readonly tableId: number;
  readonly index: IndexDef;
  readonly reverse: boolean;
  spans(ctx: ExecContext): Span[] | 'empty' | undefined;
  /** Rows the consumer keeps at most (ORDER BY … LIMIT n), when known. */
  keep?(ctx: ExecContext): number | undefined;
  /** The scan's WHERE, applied to every row the index yields. */
  readonly pred?: Evaluator;
  /** The WHERE calls no function and holds no subquery: its value for a row is the same whenever it is evaluated. */
  readonly isPure: boolean;
}

/** One table scan the index planner saw while a plan was made; `read` when it reads through an index whose constants are literals or parameters. */
export interface PlannedScan {
  readonly tableId: number;
  read?: IndexRead;
}

/**
 * Scans of the plan being made (planning is synchronous: begun and handed
 * over by execute/planner.ts). Plans made outside that (EXPLAIN) add scans
 * nobody takes until the next plan begins; past MAX_PLANNED_SCANS they are
 * dropped (a plan missing a scan's read is only prepared the ordinary way).
 */
let planning: PlannedScan[] = [];
const MAX_PLANNED_SCANS = 1024;
/** Each plan's scans; shrinks as plans are dropped (weak). */
const planned = new WeakMap<object, readonly PlannedScan[]>();

export const indexPlanning = {
  begin(): void {
    planning = [];
  },
  planned(plan: object): void {
    planned.set(plan, planning);
    planning = [];
  },
  /** The scans the index planner saw in a plan (undefined: a plan made before indexes loaded, or outside begin/planned). */
  of(plan: object): readonly PlannedScan[] | undefined {
    return planned.get(plan);
  },
};

const IMPURE = new Set(['call', 'subquery', 'exists', 'inSubquery', 'window']);
function isPure(e: unknown): boolean {
  if (e === null || typeof e !== 'object' || e instanceof Uint8Array) return true;
  if (Array.isArray(e)) return e.every(isPure);
  return !IMPURE.has((e as { kind?: string }).kind ?? '') && Object.values(e).every(isPure);
}

function scanNode(src: RelationSource, a: IndexAccess, how: string, where: Expr | undefined): PlanNode {
  const filterText = where ? `filter: ${exprText(where)}` : '';
  return {
    operator: 'Scan',
    detail: [src.name, `index ${a.index.name}${how ? ` (${how})` : ''}`, filterText].filter(Boolean).join('; '),
    children: [],
    source: src,
    access: 'index scan',
  };
}

/**
 * The index scan for `src` and `where`, or undefined when no index serves
 * it. `scan` is the ordinary scan it falls back to (and whose rows it
 * gives where the index only serves ORDER BY).
 */
export function planIndexScan(src: RelationSource, scope: Scope, where: Expr | undefined, opts: ScanOptions, pred: Evaluator | undefined, scan: ScanSource): ScanSource | undefined {
  const t = src.table;
  if (!t?.indexes || opts.includeDeleted || !src.indexRows) return undefined;
  const indexRows = src.indexRows.bind(src);
  const constraints = constraintsOf(scope, where);
  const accesses = t.indexes.map((x) => accessFor(t, x, constraints));
  // The index whose constraints reach furthest narrows the read.
  const depth = (a: IndexAccess) => a.eq.length * 2 + (a.next ? (a.next.kind === 'eq' || a.next.kind === 'in' ? 2 : 1) : 0);
  const best = accesses.reduce<IndexAccess | undefined>((b, a) => (depth(a) > 0 && (!b || depth(a) > depth(b)) ? a : b), undefined);
  const scanned: PlannedScan = { tableId: t.id };
  if (planning.length >= MAX_PLANNED_SCANS) planning = [];
  planning.push(scanned);
  const pure = isPure(where);
  const planRead = (a: IndexAccess, reverse: boolean, keep?: (ctx: ExecContext) => number | undefined): IndexRead | undefined =>
    (a.fixed ? { tableId: t.id, index: a.index, reverse, spans: (ctx) => spansOf(a, ctx), keep, pred, isPure: pure } : undefined);
  if (best) scanned.read = planRead(best, false);

  /** `order`: the ORDER BY the index read stands for, which the ordinary scan's rows are sorted by when it falls back. */
  const read = (a: IndexAccess, reverse: boolean, order?: { keys: SortKey[]; keep: (ctx: ExecContext) => number | undefined }) => (ctx: ExecContext): Iterable<Tuple> => {
    const spans = spansOf(a, ctx);
    if (spans === 'empty') return [];
    const rows = spans && indexRows(ctx, { index: a.index, spans, reverse });
    // The index cannot serve this execution: the ordinary scan (sorted, when the read stood for an ORDER BY).
    if (!rows) return order ? sortRows(scan(ctx), order.keys, ctx, order.keep(ctx)) : scan(ctx);
    const out = paced(rows, ctx);
    return pred ? filter(out, pred, ctx) : out;
  };
  const how = (a: IndexAccess) => [
    a.eq.length ? `${a.eq.length} column(s) equal` : '',
    a.next ? (a.next.kind === 'prefix' ? 'prefix LIKE' : a.next.kind === 'in' ? 'IN' : a.next.kind === 'eq' ? 'equal' : 'range') : '',
  ].filter(Boolean).join(', ');

  const out: ScanSource = best ? describe(read(best, false), () => scanNode(src, best, how(best), where)) : scan;
  const result: ScanSource = best ? out : ((ctx) => scan(ctx));
  if (!best) Object.assign(result, scan);
  // The ordinary scan's key order stays for ORDER BY the primary key when the index narrows nothing.
  if (best) delete result.ordered;
  const tie = src.pkSlot ?? t.columns.length;
  result.orderedBy = (keys: readonly OrderKey[], keep: (ctx: ExecContext) => number | undefined): RowSource | undefined => {
    for (const a of [...(best ? [best] : []), ...accesses]) {
      const k = a.eq.length;
      if (keys.length !== a.slots.length - k) continue;
      if (a.next && a.next.kind === 'in' && k !== 0) continue;
      let reverse: boolean | undefined;
      let fits = true;
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        const r = key.descending !== a.desc[k + i];
        if (key.slot !== a.slots[k + i] || key.nullsFirst !== key.descending || (reverse !== undefined && r !== reverse)) fits = false;
        reverse = r;
      }
      if (!fits) continue;
      const dir = reverse ? 'reversed' : 'in order';
      scanned.read = planRead(a, reverse!, keep);
      const sortKeys: SortKey[] = [...keys, { slot: tie, descending: false, nullsFirst: false }].map((k) => ({ eval: (r: Tuple) => r[k.slot], descending: k.descending, nullsFirst: k.nullsFirst }));
      return describe(read(a, reverse!, { keys: sortKeys, keep }), () => scanNode(src, a, [how(a), `rows ${dir}`].filter(Boolean).join(', '), where));
    }
    return undefined;
  };
  return result;
}
