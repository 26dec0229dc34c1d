/**
 * Pull-based operators over tuples. Each is a generator: nothing runs until
 * the consumer pulls, so LIMIT stops a scan early. Only sort, top-K,
 * aggregate and the build side of a hash join hold rows.
 *
 * PAUSE (pace.ts) is passed on unchanged by every operator, also while one
 * reads its whole input (sort, the build side of a join), and is never
 * stored, counted or evaluated.
 */
import { isTrue } from '../core/values';
import type { Evaluator, ExecContext, Tuple } from './context';
import { isSliceOver, PAUSE } from './pace';
import type { Value } from '../core/types';
import { compareValues, tupleKey } from '../core/values';

export function* filter(input: Iterable<Tuple>, pred: Evaluator, ctx: ExecContext): Generator<Tuple> {
  for (const row of input) if (row === PAUSE || isTrue(pred(row, ctx))) yield row;
}

export function* project(input: Iterable<Tuple>, exprs: readonly Evaluator[], ctx: ExecContext): Generator<Tuple> {
  const n = exprs.length;
  for (const row of input) {
    if (row === PAUSE) {
      yield row;
      continue;
    }
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
    if (row === PAUSE) {
      yield row;
      continue;
    }
    if (skipped < offset) { skipped++; continue; }
    yield row;
    if (++taken >= count) return;
  }
}

export function* distinct(input: Iterable<Tuple>): Generator<Tuple> {
  // Lives for one execution; holds one key per distinct output row.
  const seen = new Set<string>();
  for (const row of input) {
    if (row === PAUSE) {
      yield row;
      continue;
    }
    const k = tupleKey(row);
    if (seen.has(k)) continue;
    seen.add(k);
    yield row;
  }
}

/** DISTINCT ON: the first row of each distinct value of `keys` (rows come in ORDER BY's order); one key kept per distinct value for one execution. */
export function* distinctOn(input: Iterable<Tuple>, keys: readonly Evaluator[], ctx: ExecContext): Generator<Tuple> {
  const seen = new Set<string>();
  for (const row of input) {
    if (row === PAUSE) {
      yield row;
      continue;
    }
    const k = tupleKey(keys.map((key) => key(row, ctx)));
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

/** Compares two arrays of key values as `keys` order them (ORDER BY semantics, NULLS FIRST/LAST). */
export function comparator(keys: readonly SortKey[]): (a: Value[], b: Value[]) => number {
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
 * bounded buffer (top-K) instead of sorting everything. Stable. Yields the
 * input's PAUSEs while it reads it, then the sorted rows.
 */
export function* sortRows(input: Iterable<Tuple>, keys: readonly SortKey[], ctx: ExecContext, keep?: number): Generator<Tuple> {
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
    if (keep <= 0) return;
    // Bounded sorted buffer: buf.length <= keep; buf sorted by cmp.
    const buf: Entry[] = [];
    for (const row of input) {
      if (row === PAUSE) {
        yield row;
        continue;
      }
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
    for (const e of buf) yield e[n] as unknown as Tuple;
    return;
  }
  const all: Entry[] = [];
  for (const row of input) {
    if (row === PAUSE) yield row;
    else all.push(make(row, seq++));
  }
  all.sort(cmp);
  const count = keep === undefined ? all.length : Math.min(keep, all.length);
  for (let i = 0; i < count; i++) yield all[i][n] as unknown as Tuple;
}

/** `left`, `right`, `full`: outer joins, keeping unmatched rows of that side (the other side's columns NULL). */
export type JoinKind = 'inner' | 'left' | 'right' | 'full' | 'cross';

/** The kinds that keep left rows without a match, and right rows without one. */
export const keepsLeft = (kind: JoinKind): boolean => kind === 'left' || kind === 'full';
export const keepsRight = (kind: JoinKind): boolean => kind === 'right' || kind === 'full';

/**
 * Nested-loop join: the right side is read once into a buffer (passing its
 * PAUSEs on), then each left row is paired with every buffered right row.
 */
export function* nestedLoopJoin(
  left: Iterable<Tuple>,
  rightInput: Iterable<Tuple>,
  on: Evaluator | undefined,
  kind: JoinKind,
  rightWidth: number,
  ctx: ExecContext,
  leftWidth = 0,
): Generator<Tuple> {
  // Lives for one execution: the right side of the join (and, for RIGHT/FULL, which of its rows matched).
  const right: Tuple[] = [];
  for (const r of rightInput) {
    if (r === PAUSE) yield r;
    else right.push(r);
  }
  const nulls = new Array<Value>(rightWidth).fill(null);
  const rightMatched = keepsRight(kind) ? new Uint8Array(right.length) : undefined;
  const pace = ctx.pace;
  for (const l of left) {
    if (l === PAUSE) {
      yield l;
      continue;
    }
    let matched = false;
    for (let i = 0; i < right.length; i++) {
      // n × m pairs: the inner loop is where a join spends its time, so it keeps the pace itself.
      if (pace && isSliceOver(pace)) yield PAUSE;
      const row = (l as Value[]).concat(right[i] as Value[]);
      if (on && !isTrue(on(row, ctx))) continue;
      matched = true;
      if (rightMatched) rightMatched[i] = 1;
      yield row;
    }
    if (!matched && keepsLeft(kind)) yield (l as Value[]).concat(nulls);
  }
  if (rightMatched) yield* unmatchedRight(right, (i) => rightMatched[i] === 1, leftWidth);
}

/** RIGHT/FULL JOIN's last rows: each right row no left row matched, after `leftWidth` NULLs. */
export function* unmatchedRight(right: readonly Tuple[], matched: (i: number) => boolean, leftWidth: number): Generator<Tuple> {
  const nulls = new Array<Value>(leftWidth).fill(null);
  for (let i = 0; i < right.length; i++) if (!matched(i)) yield nulls.concat(right[i] as Value[]);
}
