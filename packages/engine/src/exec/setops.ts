/**
 * Set operations over tuples. Rows compare as IS NOT DISTINCT FROM does
 * (NULL equals NULL), by `tupleKey`. The right side is read whole first for
 * INTERSECT and EXCEPT; the left streams. PAUSE (pace.ts) passes through.
 */
import type { Tuple } from './context';
import { tupleKey } from '../core/values';
import { PAUSE } from './pace';

export function* concatRows(first: Iterable<Tuple>, second: Iterable<Tuple>): Generator<Tuple> {
  yield* first;
  yield* second;
}

/** Right-side row counts by key, yielding the input's PAUSEs. Lives for one execution. */
function* countKeys(rows: Iterable<Tuple>, counts: Map<string, number>): Generator<Tuple> {
  for (const r of rows) {
    if (r === PAUSE) {
      yield r;
      continue;
    }
    const k = tupleKey(r);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
}

/**
 * INTERSECT: left rows also in right, each once. INTERSECT ALL: a row
 * appearing m times left and n times right appears min(m, n) times.
 */
export function* intersectRows(left: Iterable<Tuple>, right: Iterable<Tuple>, all: boolean): Generator<Tuple> {
  const counts = new Map<string, number>();
  yield* countKeys(right, counts);
  for (const row of left) {
    if (row === PAUSE) {
      yield row;
      continue;
    }
    const k = tupleKey(row);
    const n = counts.get(k);
    if (!n) continue;
    // Without ALL, a key is spent after its first output row.
    counts.set(k, all ? n - 1 : 0);
    yield row;
  }
}

/**
 * EXCEPT: left rows not in right, each once. EXCEPT ALL: a row appearing
 * m times left and n times right appears max(m - n, 0) times.
 */
export function* exceptRows(left: Iterable<Tuple>, right: Iterable<Tuple>, all: boolean): Generator<Tuple> {
  const counts = new Map<string, number>();
  yield* countKeys(right, counts);
  // Without ALL: keys already output (they then count as "in right").
  for (const row of left) {
    if (row === PAUSE) {
      yield row;
      continue;
    }
    const k = tupleKey(row);
    const n = counts.get(k) ?? 0;
    if (all) {
      if (n > 0) { counts.set(k, n - 1); continue; }
      yield row;
      continue;
    }
    if (n > 0) continue;
    counts.set(k, 1);
    yield row;
  }
}
