import type { Row } from '@kalamlite/engine';

/**
 * A new result as an edit of the previous one, by row identity: drop the
 * rows at `removed` (ascending indices into the previous result), then put
 * `rows[k]` at `added[k]` (ascending indices into the new result). Every
 * other row is the same object, in the same relative order.
 */
export interface RowPatch {
  length: number;
  removed: number[];
  added: number[];
  rows: Row[];
}

/**
 * The patch from `prev` to `next`, or `undefined` when the rows both hold
 * changed their relative order (a snapshot is then needed). The engine
 * shares unchanged row objects between results, so a one-row change is a
 * one-entry patch. A common prefix and suffix are skipped by pointer
 * comparison; only the middle is indexed.
 */
export function diffRows(prev: readonly Row[], next: readonly Row[]): RowPatch | undefined {
  let start = 0;
  const shorter = Math.min(prev.length, next.length);
  while (start < shorter && prev[start] === next[start]) start++;
  let prevEnd = prev.length;
  let nextEnd = next.length;
  while (prevEnd > start && nextEnd > start && prev[prevEnd - 1] === next[nextEnd - 1]) {
    prevEnd--;
    nextEnd--;
  }
  const patch: RowPatch = { length: next.length, removed: [], added: [], rows: [] };
  if (start === prevEnd) {
    for (let j = start; j < nextEnd; j++) {
      patch.added.push(j);
      patch.rows.push(next[j]);
    }
    return patch;
  }
  if (start === nextEnd) {
    for (let i = start; i < prevEnd; i++) patch.removed.push(i);
    return patch;
  }
  // Rows of the middle of `prev`; those found again in `next` are survivors.
  const previous = new Set<Row>();
  for (let i = start; i < prevEnd; i++) previous.add(prev[i]);
  let i = start;
  for (let j = start; j < nextEnd; j++) {
    const row = next[j];
    if (!previous.has(row)) {
      patch.added.push(j);
      patch.rows.push(row);
      continue;
    }
    // Survivors must come in `prev`'s order: everything skipped is removed.
    while (i < prevEnd && prev[i] !== row) patch.removed.push(i++);
    if (i === prevEnd) return undefined;
    i++;
  }
  while (i < prevEnd) patch.removed.push(i++);
  return patch;
}

/**
 * Applies a patch to the rows it was computed against. Returns `undefined`
 * when the patch does not fit them (the caller then needs a fresh result).
 */
export function applyPatch(
  prev: readonly Row[],
  patch: { length: number; removed: readonly number[]; added: readonly number[]; rows: readonly Row[] },
): Row[] | undefined {
  const { length, removed, added, rows } = patch;
  if (prev.length - removed.length + added.length !== length || added.length !== rows.length) return undefined;
  const out = new Array<Row>(length);
  let i = 0;
  let r = 0;
  let a = 0;
  for (let j = 0; j < length; j++) {
    if (a < added.length && added[a] === j) {
      out[j] = rows[a++];
      continue;
    }
    while (r < removed.length && removed[r] === i) {
      i++;
      r++;
    }
    if (i >= prev.length) return undefined;
    out[j] = prev[i++];
  }
  return a === added.length ? out : undefined;
}
