/**
 * The hot tier: every table's rows in memory, partitioned by user, each
 * partition a Map from primary-key hash to the newest version of the row.
 * It is loaded from the KV store at open and changed only after a commit
 * succeeded, so it always equals what is durable.
 *
 * A stored row is a frozen array: the table's columns in declaration order,
 * then `_seq` (bigint), then `_deleted` (boolean). Tombstones stay (soft
 * delete) so a WHERE that names `_deleted` can see them.
 */
import type { Value } from '../types';
import { decodeKey, encodeKey, prefixUpperBound } from './keys';
import type { KvStore, StoreName } from './kv';

export type StoredRow = readonly Value[];

/** pk hash → newest row version. Insertion order is the scan order. */
export type Partition = Map<string, StoredRow>;

export interface TableRows {
  /** user id ('' for SHARED tables) → partition; shrunk when a partition empties. */
  partitions: Map<string, Partition>;
  /** Live rows (not tombstones) across partitions. */
  liveRows: number;
  tombstones: number;
}

export class HotTier {
  /** table id → rows; an entry per existing table, removed by DROP TABLE. */
  private readonly tables = new Map<number, TableRows>();

  table(tableId: number): TableRows {
    let t = this.tables.get(tableId);
    if (!t) {
      t = { partitions: new Map(), liveRows: 0, tombstones: 0 };
      this.tables.set(tableId, t);
    }
    return t;
  }

  partition(tableId: number, user: string): Partition | undefined {
    return this.tables.get(tableId)?.partitions.get(user);
  }

  dropTable(tableId: number): void {
    this.tables.delete(tableId);
  }

  /**
   * Replaces (or with `row === null` removes) the version stored under
   * `pkHash`. `deletedSlot` is the index of `_deleted` in the row.
   */
  put(tableId: number, user: string, pkHash: string, row: StoredRow | null, deletedSlot: number): void {
    const t = this.table(tableId);
    let p = t.partitions.get(user);
    const before = p?.get(pkHash);
    if (before) {
      if (before[deletedSlot] === true) t.tombstones--;
      else t.liveRows--;
    }
    if (row === null) {
      if (p && before) {
        p.delete(pkHash);
        if (p.size === 0) t.partitions.delete(user);
      }
      return;
    }
    if (!p) {
      p = new Map();
      t.partitions.set(user, p);
    }
    p.set(pkHash, row);
    if (row[deletedSlot] === true) t.tombstones++;
    else t.liveRows++;
  }

  /**
   * Loads one table's rows from storage. Calls `onRow` with each so the
   * caller can compute the pk hash and observe `_seq`.
   */
  async load(
    kv: KvStore,
    store: StoreName,
    tableId: number,
    onRow: (user: string, row: StoredRow) => string,
    deletedSlot: number,
  ): Promise<void> {
    const lower = encodeKey([tableId]);
    await kv.scan(store, { lower, upper: prefixUpperBound(lower) }, (key, value) => {
      const parts = decodeKey(key);
      const user = String(parts[1]);
      const row = Object.freeze(value as Value[]);
      this.put(tableId, user, onRow(user, row), row, deletedSlot);
    });
  }
}

/** The storage key of a row: (table id, user id, primary key). */
export function rowKey(tableId: number, user: string, pk: Value): Uint8Array {
  return encodeKey([tableId, user, pk as string | number | bigint | boolean | Uint8Array | null]);
}
