/**
 * A subscription's delivered result and the change set between two of
 * them. Rows are compared by identity: the window keeps a row's object
 * while its projection is unchanged, so `!==` means "updated".
 */
import type { Row, Value } from '../core/types';
import { outputValue } from '../core/values';
import type { LiveChange } from './types';
import type { WindowEntry } from './window';

export interface LiveOutput {
  rows: readonly Row[];
  /** Identity hash per row (same order). */
  keys: readonly string[];
  /** Identity value per row (primary key, or `_seq`). */
  ids: readonly Value[];
}

export const EMPTY_OUTPUT: LiveOutput = { rows: Object.freeze([]), keys: [], ids: [] };

/** The visible part of a window: entries [offset, offset + limit). */
export function outputOf(entries: readonly WindowEntry[], offset: number, limit: number): LiveOutput {
  const end = Math.min(entries.length, offset + limit);
  const n = Math.max(0, end - offset);
  const rows = new Array<Row>(n);
  const keys = new Array<string>(n);
  const ids = new Array<Value>(n);
  for (let i = 0; i < n; i++) {
    const e = entries[offset + i];
    rows[i] = e.out;
    keys[i] = e.key;
    ids[i] = e.id;
  }
  return { rows: Object.freeze(rows), keys, ids };
}

/** What changed from `prev` to `next`; undefined when nothing did (same rows, same order). */
export function diffOutputs(prev: LiveOutput, next: LiveOutput): Extract<LiveChange, { kind: 'changes' }> | undefined {
  if (prev.rows.length === next.rows.length) {
    let same = true;
    for (let i = 0; i < next.rows.length && same; i++) same = prev.rows[i] === next.rows[i] && prev.keys[i] === next.keys[i];
    if (same) return undefined;
  }
  // Lives for this call: identity → index in prev, shrunk as next claims them.
  const before = new Map<string, number>();
  for (let i = 0; i < prev.keys.length; i++) before.set(prev.keys[i], i);
  const inserted: Row[] = [];
  const updated: { row: Row; old: Row }[] = [];
  for (let i = 0; i < next.keys.length; i++) {
    const j = before.get(next.keys[i]);
    if (j === undefined) {
      inserted.push(next.rows[i]);
      continue;
    }
    before.delete(next.keys[i]);
    if (prev.rows[j] !== next.rows[i]) updated.push({ row: next.rows[i], old: prev.rows[j] });
  }
  const deleted: Value[] = [];
  for (const j of before.values()) deleted.push(outputValue(prev.ids[j])); // a BYTES key as a copy
  return { kind: 'changes', inserted, updated, deleted };
}
