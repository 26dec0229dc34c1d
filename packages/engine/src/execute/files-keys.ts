/**
 * The file code's records in the system store (execute/files.ts): their
 * keys, the record, and the writes that delete one. Part of the file
 * code's chunk.
 */
import type { TableDef } from '../core/schema';
import { decodeKey, encodeKey } from '../storage/keys';
import type { KvWrite } from '../storage/kv';

/** A committed file's record, `['file', id]` in the system store. */
export interface FileRecord {
  /** table id */
  t: number;
  /** partition: the owner for USER/STREAM tables, '' for SHARED */
  u: string;
  /** the FILE column's id (absent in records written before it was kept) */
  c?: number;
  size: number;
  mime: string;
  name: string;
  /** Soft-deleted: the ms of the tombstone's `_seq`; the file is kept until retention purges it (`['file_r', table, d, id]`). */
  d?: number;
}

export const MARKER = encodeKey(['file_store']);
export const recordKey = (id: string) => encodeKey(['file', id]);
export const tableKey = (tableId: number, id: string) => encodeKey(['file_t', tableId, id]);
/** A file whose row is a tombstone, by deletion time: the retention job purges a range of these. */
export const retainKey = (tableId: number, at: number, id: string) => encodeKey(['file_r', tableId, at, id]);

/** FILE column slots of a table version (cached per definition: a new version is a new object). */
const slotCache = new WeakMap<TableDef, number[]>();
export function fileSlots(t: TableDef): number[] {
  let slots = slotCache.get(t);
  if (!slots) slotCache.set(t, (slots = t.columns.flatMap((c, i) => (c.type === 'FILE' ? [i] : []))));
  return slots;
}

/** Deletes a file's records (its retention entry too when its row was a tombstone, deleted at `at`). */
export function freeWrites(id: string, tableId: number, at: number | undefined): KvWrite[] {
  const writes: KvWrite[] = [{ store: 'system', key: recordKey(id) }, { store: 'system', key: tableKey(tableId, id) }];
  if (at !== undefined) writes.push({ store: 'system', key: retainKey(tableId, at, id) });
  return writes;
}

/** The file id at the end of a `['file', id]` or `['file_t', table, id]` key. */
export const keyId = (key: Uint8Array) => decodeKey(key).at(-1) as string;

