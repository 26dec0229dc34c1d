import { freezeJson, type Row } from '@kalamlite/engine';
import { rowKey } from './content-key';

const EMPTY: readonly Row[] = Object.freeze([]);

/**
 * Structural sharing between two results of the same query: every row of
 * `next` whose content equals a row of `prev` is replaced by that previous
 * object, and when the outcome is element-wise identical to `prev`, `prev`
 * itself is returned. So identity means "unchanged" for React.memo and
 * useMemo. Equal duplicates pair up with previous duplicates in order. The
 * result and its rows are frozen (the input array is never frozen in place:
 * it may belong to the engine). O(n) expected.
 */
export function shareRows(prev: readonly Row[] | undefined, next: readonly Row[]): readonly Row[] {
  if (next.length === 0) return prev !== undefined && prev.length === 0 ? prev : EMPTY;
  if (prev === undefined || prev.length === 0) return freezeRows(next);

  // Rows that are already the same object (the in-process engine shares row
  // objects) need no content key; the key index is built only if needed.
  const previousObjects = new Set<Row>(prev);
  let byContent: Map<string, Row[]> | undefined;
  const shared: Row[] = new Array(next.length);
  let isSameAsPrev = next.length === prev.length;

  for (let i = 0; i < next.length; i++) {
    let row = next[i];
    if (!previousObjects.has(row)) {
      byContent ??= indexByContent(prev, next);
      const candidates = byContent.get(rowKey(row));
      const reused = candidates?.pop();
      row = reused ?? freezeRow(row);
    }
    shared[i] = row;
    if (isSameAsPrev && row !== prev[i]) isSameAsPrev = false;
  }
  return isSameAsPrev ? prev : Object.freeze(shared);
}

/**
 * Previous rows by content key, leaving out those `next` holds as the same
 * object (they are reused by identity), so an in-process result with one
 * changed row computes only a few keys. Each list is reversed so `pop()`
 * yields equal rows in their previous order.
 */
function indexByContent(rows: readonly Row[], next: readonly Row[]): Map<string, Row[]> {
  const nextObjects = new Set<Row>(next);
  const index = new Map<string, Row[]>();
  for (let i = rows.length - 1; i >= 0; i--) {
    if (nextObjects.has(rows[i])) continue;
    const key = rowKey(rows[i]);
    const list = index.get(key);
    if (list === undefined) index.set(key, [rows[i]]);
    else list.push(rows[i]);
  }
  return index;
}

function freezeRows(rows: readonly Row[]): readonly Row[] {
  if (rows.length === 0) return EMPTY;
  for (let i = 0; i < rows.length; i++) freezeRow(rows[i]);
  return Object.isFrozen(rows) ? rows : Object.freeze(rows.slice());
}

function freezeRow(row: Row): Row {
  if (Object.isFrozen(row)) return row;
  for (const k in row) freezeJson(row[k]); // JSON values arrive as copies: deep-frozen, as the engine hands them out
  return Object.freeze(row);
}
