/**
 * Pull-based operators over tuples. Each is a generator: nothing runs until
 * the consumer pulls, so LIMIT stops a scan early. Only sort, top-K,
 * aggregate and the build side of a hash join hold rows.
 */
import { isTrue } from '../core/values';
import type { Evaluator, ExecContext, Tuple } from './context';
import type { Value } from '../core/types';
import { compareValues, hashKey, tupleKey } from '../core/values';

export function* filter(input: Iterable<Tuple>, pred: Evaluator, ctx: ExecContext): Generator<Tuple> {
  for (const row of input) if (isTrue(pred(row, ctx))) yield row;
}

export function* project(input: Iterable<Tuple>, exprs: readonly Evaluator[], ctx: ExecContext): Generator<Tuple> {
  const n = exprs.length;
  for (const row of input) {
    const out = new Array<Value>(n);
    for (let i = 0; i < n; i++) out[i] = exprs[i](row, ctx);
    yield out;
  }
}

export function* limit(input: Iterable<Tuple>, offset: number, count: number): Generator<Tuple> {
  if (count <= 0) return;
  let skipped = 0;
  let taken = 0;
  for (const row of input) {
    if (skipped < offset) { skipped++; continue; }
    yield row;
    if (++taken >= count) return;
  }
}

export function* distinct(input: Iterable<Tuple>): Generator<Tuple> {
  // Lives for one execution; holds one key per distinct output row.
  const seen = new Set<string>();
  for (const row of input) {
    const k = tupleKey(row);
    if (seen.has(k)) continue;
    seen.add(k);
    yield row;
  }
}

export interface SortKey {
  eval: Evaluator;
  descending: boolean;
  nullsFirst: boolean;
}

function comparator(keys: readonly SortKey[]): (a: Value[], b: Value[]) => number {
  return (a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const x = a[i];
      const y = b[i];
      if (x === y) continue;
      const k = keys[i];
      if (x === null) return k.nullsFirst ? -1 : 1;
      if (y === null) return k.nullsFirst ? 1 : -1;
      const c = compareValues(x, y);
      if (c !== 0) return k.descending ? -c : c;
    }
    return 0;
  };
}

/**
 * Sorts by `keys`; with `keep` set, keeps only the first `keep` rows in a
 * bounded buffer (top-K) instead of sorting everything. Stable.
 */
export function sortRows(input: Iterable<Tuple>, keys: readonly SortKey[], ctx: ExecContext, keep?: number): Tuple[] {
  const cmpKeys = comparator(keys);
  // entries: [key values..., then the row at index keys.length, then arrival order]
  type Entry = Value[];
  const n = keys.length;
  const cmp = (a: Entry, b: Entry) => cmpKeys(a, b) || (a[n + 1] as number) - (b[n + 1] as number);
  const make = (row: Tuple, seq: number): Entry => {
    const e = new Array<Value>(n + 2);
    for (let i = 0; i < n; i++) e[i] = keys[i].eval(row, ctx);
    e[n] = row as unknown as Value;
    e[n + 1] = seq;
    return e;
  };
  let seq = 0;
  if (keep !== undefined && keep <= 4096) {
    if (keep <= 0) return [];
    // Bounded sorted buffer: buf.length <= keep; buf sorted by cmp.
    const buf: Entry[] = [];
    for (const row of input) {
      const e = make(row, seq++);
      if (buf.length === keep && cmp(e, buf[keep - 1]) >= 0) continue;
      let lo = 0;
      let hi = buf.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cmp(buf[mid], e) <= 0) lo = mid + 1;
        else hi = mid;
      }
      buf.splice(lo, 0, e);
      if (buf.length > keep) buf.pop();
    }
    return buf.map((e) => e[n] as unknown as Tuple);
  }
  const all: Entry[] = [];
  for (const row of input) all.push(make(row, seq++));
  all.sort(cmp);
  const out = all.map((e) => e[n] as unknown as Tuple);
  return keep === undefined ? out : out.slice(0, keep);
}

export type JoinKind = 'inner' | 'left' | 'cross';

/**
 * Nested-loop join: for each left row, the right side is re-scanned through
 * `right()` (a fresh iterable each time, or a buffered array).
 */
export function* nestedLoopJoin(
  left: Iterable<Tuple>,
  right: readonly Tuple[],
  on: Evaluator | undefined,
  kind: JoinKind,
  rightWidth: number,
  ctx: ExecContext,
): Generator<Tuple> {
  const nulls = new Array<Value>(rightWidth).fill(null);
  for (const l of left) {
    let matched = false;
    for (const r of right) {
      const row = (l as Value[]).concat(r as Value[]);
      if (on && !isTrue(on(row, ctx))) continue;
      matched = true;
      yield row;
    }
    if (!matched && kind === 'left') yield (l as Value[]).concat(nulls);
  }
}

/**
 * Hash join on `leftKey = rightKey`; `residual` filters matched pairs
 * (the rest of the ON condition). The right side is the build side.
 */
export function* hashJoin(
  left: Iterable<Tuple>,
  right: Iterable<Tuple>,
  leftKey: Evaluator,
  rightKey: Evaluator,
  residual: Evaluator | undefined,
  kind: 'inner' | 'left',
  rightWidth: number,
  ctx: ExecContext,
): Generator<Tuple> {
  // Lives for one execution: the build side of the join.
  const table = new Map<string, Tuple[]>();
  for (const r of right) {
    const k = rightKey(r, ctx);
    if (k === null) continue;
    const h = hashKey(k); // 5 and 5n hash alike
    const bucket = table.get(h);
    if (bucket) bucket.push(r);
    else table.set(h, [r]);
  }
  const nulls = new Array<Value>(rightWidth).fill(null);
  for (const l of left) {
    const k = leftKey(l, ctx);
    let matched = false;
    if (k !== null) {
      const h = hashKey(k);
      const bucket = table.get(h);
      if (bucket) {
        for (const r of bucket) {
          const row = (l as Value[]).concat(r as Value[]);
          if (residual && !isTrue(residual(row, ctx))) continue;
          matched = true;
          yield row;
        }
      }
    }
    if (!matched && kind === 'left') yield (l as Value[]).concat(nulls);
  }
}
