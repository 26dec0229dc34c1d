/**
 * A subscription's delivered result and the change set between two of
 * them. Rows are compared by identity: the window keeps a row's object
 * while its projection is unchanged, so `!==` means "updated".
 */
import type { Row, Value } from '../core/types';
import { outputValue } from '../core/values';
import type { DeletedRow, LiveChange } from './types';
import { NO_ENTRIES, type LiveWindow, type WindowEntry } from './window';

export interface LiveOutput {
  rows: readonly Row[];
  /**
   * The window entries behind `rows` (same order; their `key` and `id` are
   * each row's identity hash and value); empty for a re-run query.
   */
  entries: readonly WindowEntry[];
}

/** Before the first delivery. */
export const EMPTY_OUTPUT: LiveOutput = { rows: Object.freeze([]), entries: NO_ENTRIES };

/**
 * The visible part of a window: entries [offset, cap). From the first
 * entry that is the window's own entries array, shared (see
 * LiveWindow.shareEntries), not a copy.
 */
export function outputOf(window: LiveWindow, offset: number): LiveOutput {
  const entries = offset === 0 ? window.shareEntries() : window.entries.slice(offset, window.cap);
  const rows = new Array<Row>(entries.length);
  for (let i = 0; i < entries.length; i++) rows[i] = entries[i].out;
  return { rows: Object.freeze(rows), entries };
}

/** What changed from `prev` to `next`; undefined when nothing did (same rows, same order). */
export function diffOutputs(prev: LiveOutput, next: LiveOutput): Extract<LiveChange, { kind: 'changes' }> | undefined {
  if (prev.rows.length === next.rows.length) {
    let same = true;
    for (let i = 0; i < next.rows.length && same; i++) same = prev.rows[i] === next.rows[i] && prev.entries[i].key === next.entries[i].key;
    if (same) return undefined;
  }
  // Lives for this call: identity → index in prev, shrunk as next claims them.
  const before = new Map<string, number>();
  for (let i = 0; i < prev.entries.length; i++) before.set(prev.entries[i].key, i);
  const inserted: Row[] = [];
  const updated: { row: Row; old: Row }[] = [];
  for (let i = 0; i < next.entries.length; i++) {
    const key = next.entries[i].key;
    const j = before.get(key);
    if (j === undefined) {
      inserted.push(next.rows[i]);
      continue;
    }
    before.delete(key);
    if (prev.rows[j] !== next.rows[i]) updated.push({ row: next.rows[i], old: prev.rows[j] });
  }
  const deleted: Value[] = [];
  if (before.size === 0) return { kind: 'changes', inserted, updated, deleted };
  const deletedRows: DeletedRow[] = [];
  for (const j of before.values()) {
    const key = outputValue(prev.entries[j].id); // a BYTES key as a copy
    deleted.push(key);
    deletedRows.push({ key, old: prev.rows[j] });
  }
  return { kind: 'changes', inserted, updated, deleted, deletedRows };
}
