/**
 * The Window operator: window functions over the rows of a SELECT after
 * WHERE, GROUP BY and HAVING (before DISTINCT, ORDER BY and LIMIT). It
 * reads every input row (passing PAUSEs on), splits them into partitions,
 * orders each partition (ORDER BY semantics of operators.ts), and appends
 * each function's value to its row: output rows are [input values…, one
 * value per window function…], in input order.
 *
 * Frames follow PostgreSQL: ROWS counts rows, GROUPS counts peer groups
 * (rows equal under the window's ORDER BY), RANGE compares the single
 * ORDER BY value; the default frame (RANGE UNBOUNDED PRECEDING to CURRENT
 * ROW) ends at the current row's last peer, and without ORDER BY every row
 * of the partition is a peer. While it computes, it yields PAUSE when the
 * statement's slice is used up (pace.ts).
 */
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import { compareValues, tupleKey } from '../core/values';
import { finish, newState, step, type AggregateName, type AggregateSpec } from './aggregate';
import type { Evaluator, ExecContext, Tuple } from './context';
import { comparator, type SortKey } from './operators';
import { isSliceOver, PAUSE } from './pace';

export type WindowFnName =
  | 'ROW_NUMBER' | 'RANK' | 'DENSE_RANK' | 'PERCENT_RANK' | 'CUME_DIST' | 'NTILE'
  | 'LAG' | 'LEAD' | 'FIRST_VALUE' | 'LAST_VALUE' | 'NTH_VALUE'
  | Exclude<AggregateName, 'STRING_AGG'>;

export type BoundKind = 'unboundedPreceding' | 'preceding' | 'currentRow' | 'following' | 'unboundedFollowing';

export interface FrameSpec {
  unit: 'ROWS' | 'RANGE' | 'GROUPS';
  start: { kind: BoundKind; offset?: Evaluator };
  end: { kind: BoundKind; offset?: Evaluator };
}

/** PostgreSQL's default frame. */
export const DEFAULT_FRAME: FrameSpec = { unit: 'RANGE', start: { kind: 'unboundedPreceding' }, end: { kind: 'currentRow' } };

export interface WindowFnSpec {
  name: WindowFnName;
  /** Arguments in order; none for COUNT(*) and the ranking functions. */
  args: Evaluator[];
  frame: FrameSpec;
  /** Index of its value among the values appended to a row. */
  slot: number;
}

/** Functions over one window (same PARTITION BY and ORDER BY): its rows are partitioned and sorted once. */
export interface WindowGroup {
  partitionBy: Evaluator[];
  orderBy: SortKey[];
  fns: WindowFnSpec[];
}

/** One sorted partition. */
interface Partition {
  rows: Tuple[];
  /** Index of rows[p] in the operator's input. */
  index: number[];
  /** ORDER BY values of rows[p]. */
  keys: Value[][];
  /** Peer group of rows[p], from 0. */
  peer: number[];
  /** First and last position of each peer group. */
  groupStart: number[];
  groupEnd: number[];
  /** Positions of the first and last row whose (single) ORDER BY value is not NULL; first > last when none is. */
  firstValued: number;
  lastValued: number;
}

/** An offset resolved for one execution. */
interface Bound {
  kind: BoundKind;
  n: number | bigint;
}

export function* windowRows(input: Iterable<Tuple>, groups: readonly WindowGroup[], count: number, ctx: ExecContext): Generator<Tuple> {
  // Lives for one execution: every input row and its window values.
  const rows: Tuple[] = [];
  for (const r of input) {
    if (r === PAUSE) yield r;
    else rows.push(r);
  }
  const values = rows.map(() => new Array<Value>(count).fill(null));
  for (const g of groups) {
    const bounds = g.fns.map((f) => [resolve(f.frame.start, f.frame.unit, 'starting', ctx), resolve(f.frame.end, f.frame.unit, 'ending', ctx)] as const);
    for (const members of partitions(rows, g.partitionBy, ctx)) {
      const part = sortPartition(rows, members, g.orderBy, ctx);
      for (let i = 0; i < g.fns.length; i++) {
        const f = g.fns[i];
        const out = (p: number, v: Value) => { values[part.index[p]][f.slot] = v; };
        yield* compute(f, part, bounds[i][0], bounds[i][1], f.frame.unit, g.orderBy[0]?.descending ?? false, out, ctx);
      }
    }
  }
  for (let i = 0; i < rows.length; i++) yield (rows[i] as Value[]).concat(values[i]);
}

/** The input positions of each partition's rows, in input order. */
function partitions(rows: readonly Tuple[], by: readonly Evaluator[], ctx: ExecContext): number[][] {
  if (by.length === 0) return [rows.map((_, i) => i)];
  // Lives for one execution: one entry per partition.
  const parts = new Map<string, number[]>();
  for (let i = 0; i < rows.length; i++) {
    const k = tupleKey(by.map((e) => e(rows[i], ctx)));
    const list = parts.get(k);
    if (list) list.push(i);
    else parts.set(k, [i]);
  }
  return [...parts.values()];
}

function sortPartition(input: readonly Tuple[], members: number[], orderBy: readonly SortKey[], ctx: ExecContext): Partition {
  const m = members.length;
  const keyOf = members.map((i) => orderBy.map((k) => k.eval(input[i], ctx)));
  const cmp = comparator(orderBy);
  const order = members.map((_, i) => i);
  if (orderBy.length > 0) order.sort((a, b) => cmp(keyOf[a], keyOf[b]) || a - b);
  const index = order.map((i) => members[i]);
  const rows = index.map((i) => input[i]);
  const keys = order.map((i) => keyOf[i]);
  const peer: number[] = new Array<number>(m);
  const groupStart: number[] = [];
  const groupEnd: number[] = [];
  for (let p = 0; p < m; p++) {
    if (p === 0 || (orderBy.length > 0 && cmp(keys[p - 1], keys[p]) !== 0)) {
      if (p > 0) groupEnd.push(p - 1);
      groupStart.push(p);
    }
    peer[p] = groupStart.length - 1;
  }
  if (m > 0) groupEnd.push(m - 1);
  let firstValued = 0;
  let lastValued = m - 1;
  while (firstValued < m && keys[firstValued][0] === null) firstValued++;
  while (lastValued >= 0 && keys[lastValued][0] === null) lastValued--;
  return { rows, index, keys, peer, groupStart, groupEnd, firstValued, lastValued };
}

function resolve(b: FrameSpec['start'], unit: FrameSpec['unit'], which: 'starting' | 'ending', ctx: ExecContext): Bound {
  if (!b.offset) return { kind: b.kind, n: 0 };
  const v = b.offset([], ctx);
  if (v === null) throw new KalamError('INVALID_PARAMETER', `Frame ${which} offset must not be null`);
  if (typeof v !== 'number' && typeof v !== 'bigint') throw new KalamError('TYPE_MISMATCH', `Frame ${which} offset must be a number, got ${typeof v}`);
  if (v < 0) throw new KalamError('INVALID_PARAMETER', `Frame ${which} offset must not be negative`);
  if (unit !== 'RANGE') {
    if (typeof v === 'number' && !Number.isInteger(v)) throw new KalamError('INVALID_PARAMETER', `Frame ${which} offset of a ${unit} frame must be a whole number`);
    return { kind: b.kind, n: Number(v) };
  }
  return { kind: b.kind, n: v };
}

/** The frame of position p as [first, last] (empty when first > last). */
function frameOf(part: Partition, p: number, start: Bound, end: Bound, unit: FrameSpec['unit'], descending: boolean): [number, number] {
  const m = part.rows.length;
  const g = part.peer[p];
  const groups = part.groupStart.length;
  const n = Number(start.n);
  let s: number;
  switch (start.kind) {
    case 'unboundedPreceding': s = 0; break;
    case 'currentRow': s = unit === 'ROWS' ? p : part.groupStart[g]; break;
    case 'preceding':
    case 'following': {
      const back = start.kind === 'preceding';
      if (unit === 'ROWS') s = back ? p - n : p + n;
      else if (unit === 'GROUPS') s = back ? part.groupStart[Math.max(0, g - n)] : g + n < groups ? part.groupStart[g + n] : m;
      else s = rangeEdge(part, p, start.n, back, descending, true);
      break;
    }
    default: s = m;
  }
  const k = Number(end.n);
  let e: number;
  switch (end.kind) {
    case 'unboundedFollowing': e = m - 1; break;
    case 'currentRow': e = unit === 'ROWS' ? p : part.groupEnd[g]; break;
    case 'preceding':
    case 'following': {
      const back = end.kind === 'preceding';
      if (unit === 'ROWS') e = back ? p - k : p + k;
      else if (unit === 'GROUPS') e = back ? (g - k >= 0 ? part.groupEnd[g - k] : -1) : part.groupEnd[Math.min(groups - 1, g + k)];
      else e = rangeEdge(part, p, end.n, back, descending, false);
      break;
    }
    default: e = -1;
  }
  return [Math.max(0, s), Math.min(m - 1, e)];
}

/**
 * RANGE offset PRECEDING/FOLLOWING: the first (start) or last (end)
 * position whose ORDER BY value lies within `n` of the current row's, in
 * the window's direction. A NULL current value has its NULL peers as that
 * bound; a non-NULL one never reaches the NULLs.
 */
function rangeEdge(part: Partition, p: number, n: number | bigint, back: boolean, descending: boolean, isStart: boolean): number {
  const v = part.keys[p][0];
  if (v === null) return isStart ? part.groupStart[part.peer[p]] : part.groupEnd[part.peer[p]];
  if (typeof v !== 'number' && typeof v !== 'bigint') {
    throw new KalamError('UNSUPPORTED', 'RANGE with an offset needs a numeric ORDER BY value: order by a number, or use ROWS or GROUPS');
  }
  const up = back === descending; // the bound lies at larger values
  const target: Value = typeof v === 'bigint' && (typeof n === 'bigint' || Number.isInteger(n))
    ? (up ? v + BigInt(n) : v - BigInt(n))
    : (up ? Number(v) + Number(n) : Number(v) - Number(n));
  // Values rise along the partition when ascending: `inside(q)` holds on a prefix (end) or a suffix (start).
  let lo = part.firstValued;
  let hi = part.lastValued + 1;
  if (isStart) {
    // first q with value "not before" target
    const notBefore = (q: number) => { const c = compareValues(part.keys[q][0], target); return descending ? c <= 0 : c >= 0; };
    while (lo < hi) { const mid = (lo + hi) >> 1; if (notBefore(mid)) hi = mid; else lo = mid + 1; }
    return lo > part.lastValued ? part.rows.length : lo;
  }
  // last q with value "not after" target
  const notAfter = (q: number) => { const c = compareValues(part.keys[q][0], target); return descending ? c >= 0 : c <= 0; };
  while (lo < hi) { const mid = (lo + hi) >> 1; if (notAfter(mid)) lo = mid + 1; else hi = mid; }
  return lo - 1 < part.firstValued ? -1 : lo - 1;
}

function integerArg(v: Value, what: string): number | null {
  if (v === null) return null;
  const n = typeof v === 'bigint' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new KalamError('TYPE_MISMATCH', `The ${what} must be an integer`);
  return n;
}

function* compute(
  f: WindowFnSpec, part: Partition, start: Bound, end: Bound, unit: FrameSpec['unit'], descending: boolean,
  out: (p: number, v: Value) => void, ctx: ExecContext,
): Generator<Tuple> {
  const { rows, peer, groupStart, groupEnd } = part;
  const m = rows.length;
  const pace = ctx.pace;
  const arg = (i: number, p: number): Value => f.args[i](rows[p], ctx);
  switch (f.name) {
    case 'ROW_NUMBER': for (let p = 0; p < m; p++) out(p, p + 1); return;
    case 'RANK': for (let p = 0; p < m; p++) out(p, groupStart[peer[p]] + 1); return;
    case 'DENSE_RANK': for (let p = 0; p < m; p++) out(p, peer[p] + 1); return;
    case 'PERCENT_RANK': for (let p = 0; p < m; p++) out(p, m > 1 ? groupStart[peer[p]] / (m - 1) : 0); return;
    case 'CUME_DIST': for (let p = 0; p < m; p++) out(p, (groupEnd[peer[p]] + 1) / m); return;
    case 'NTILE': {
      const buckets = m > 0 ? integerArg(arg(0, 0), 'argument of ntile') : null;
      if (buckets === null) return; // NULL buckets: every value stays NULL
      if (buckets <= 0) throw new KalamError('INVALID_PARAMETER', 'Argument of ntile must be greater than zero');
      // PostgreSQL's split: m / buckets rows each, the first m % buckets buckets one more.
      const per = Math.floor(m / buckets);
      const extra = m % buckets;
      const big = extra * (per + 1);
      for (let p = 0; p < m; p++) out(p, p < big ? Math.floor(p / (per + 1)) + 1 : extra + Math.floor((p - big) / per) + 1);
      return;
    }
    case 'LAG': case 'LEAD':
      for (let p = 0; p < m; p++) {
        if (pace && isSliceOver(pace)) yield PAUSE;
        const off = f.args.length > 1 ? integerArg(arg(1, p), `offset of ${f.name.toLowerCase()}`) : 1;
        if (off === null) continue;
        const q = f.name === 'LAG' ? p - off : p + off;
        out(p, q >= 0 && q < m ? arg(0, q) : f.args.length > 2 ? arg(2, p) : null);
      }
      return;
    case 'FIRST_VALUE': case 'LAST_VALUE': case 'NTH_VALUE': {
      const nth = f.name === 'NTH_VALUE' && m > 0 ? integerArg(arg(1, 0), 'argument of nth_value') : 1;
      if (nth === null) return;
      if (nth <= 0) throw new KalamError('INVALID_PARAMETER', 'Argument of nth_value must be greater than zero');
      for (let p = 0; p < m; p++) {
        if (pace && isSliceOver(pace)) yield PAUSE;
        const [s, e] = frameOf(part, p, start, end, unit, descending);
        const q = f.name === 'LAST_VALUE' ? e : s + nth - 1;
        out(p, s <= e && q <= e ? arg(0, q) : null);
      }
      return;
    }
    default:
      yield* aggregateOverFrames(f, f.name, part, start, end, unit, descending, out, ctx);
  }
}

/**
 * An aggregate over each row's frame. Frames that all start at the
 * partition's first row grow only: one running fold. Otherwise COUNT, MIN
 * and MAX slide (both ends of a frame only move forward from row to row);
 * SUM and AVG fold each frame afresh (rows × frame length: a floating-point
 * sum is not undone by subtracting), except that a frame equal to the
 * previous row's (peers) takes its value.
 */
function* aggregateOverFrames(
  f: WindowFnSpec, name: AggregateName, part: Partition, start: Bound, end: Bound, unit: FrameSpec['unit'], descending: boolean,
  out: (p: number, v: Value) => void, ctx: ExecContext,
): Generator<Tuple> {
  const rows = part.rows;
  const pace = ctx.pace;
  const spec: AggregateSpec = { name, arg: f.args[0], distinct: false };
  const empty = finish(spec, newState(spec));
  if (start.kind === 'unboundedPreceding') {
    const state = newState(spec);
    let upto = -1;
    for (let p = 0; p < rows.length; p++) {
      if (pace && isSliceOver(pace)) yield PAUSE;
      const e = frameOf(part, p, start, end, unit, descending)[1];
      while (upto < e) step(spec, state, rows[++upto], ctx);
      out(p, e < 0 ? empty : finish(spec, state));
    }
    return;
  }
  if (name === 'COUNT' || name === 'MIN' || name === 'MAX') {
    yield* slidingFrames(f, name, part, start, end, unit, descending, out, ctx);
    return;
  }
  let lastS = -1;
  let lastE = -1;
  let last: Value = empty;
  for (let p = 0; p < rows.length; p++) {
    if (pace && isSliceOver(pace)) yield PAUSE;
    const [s, e] = frameOf(part, p, start, end, unit, descending);
    if (s > e) {
      out(p, empty);
      continue;
    }
    if (s !== lastS || e !== lastE) {
      const state = newState(spec);
      for (let q = s; q <= e; q++) {
        if (pace && isSliceOver(pace)) yield PAUSE;
        step(spec, state, rows[q], ctx);
      }
      [lastS, lastE, last] = [s, e, finish(spec, state)];
    }
    out(p, last);
  }
}

/**
 * COUNT, MIN or MAX over frames whose start and end never move back: COUNT
 * from running counts, MIN/MAX from a monotonic queue (the values that can
 * still be the frame's best, best first). O(rows) per partition.
 */
function* slidingFrames(
  f: WindowFnSpec, name: 'COUNT' | 'MIN' | 'MAX', part: Partition, start: Bound, end: Bound, unit: FrameSpec['unit'], descending: boolean,
  out: (p: number, v: Value) => void, ctx: ExecContext,
): Generator<Tuple> {
  const rows = part.rows;
  const pace = ctx.pace;
  const arg = f.args[0];
  // Per partition: counted[q] = counted rows before position q; values[q] = the argument at q.
  const counted: number[] = [0];
  const values: Value[] = [];
  const queue: number[] = [];
  let head = 0;
  const isBetter = name === 'MAX' ? (a: Value, b: Value) => compareValues(a, b) >= 0 : (a: Value, b: Value) => compareValues(a, b) <= 0;
  for (let p = 0; p < rows.length; p++) {
    if (pace && isSliceOver(pace)) yield PAUSE;
    const [s, e] = frameOf(part, p, start, end, unit, descending);
    for (let q = values.length; q <= e; q++) {
      const v = arg ? arg(rows[q], ctx) : 0; // COUNT(*) counts every row
      values.push(v);
      counted.push(counted[q] + (v === null ? 0 : 1));
      if (name === 'COUNT' || v === null) continue;
      while (queue.length > head && isBetter(v, values[queue[queue.length - 1]])) queue.pop();
      queue.push(q);
    }
    while (queue.length > head && queue[head] < s) head++;
    if (name === 'COUNT') out(p, s > e ? 0 : counted[e + 1] - counted[s]);
    else out(p, s > e || queue.length === head ? null : values[queue[head]]);
  }
}
