/**
 * The storage contract every backend (memory, IndexedDB, OPFS) implements.
 * Keys are order-preserving binary tuples (see keys.ts); values are
 * structured-clone-able records.
 */
export type StoreName = 'system' | 'user' | 'shared' | 'stream' | 'segments';

export const STORE_NAMES: readonly StoreName[] = ['system', 'user', 'shared', 'stream', 'segments'];

/** One write of a batch: `value === undefined` deletes the key — with `upper`, every key in [key, upper) (only to a store whose `rangeDeletes` is true). */
export interface KvWrite {
  store: StoreName;
  key: Uint8Array;
  value?: unknown;
  /** With no value: the exclusive end of a range of keys to delete. */
  upper?: Uint8Array;
}

export interface KvRange {
  /** inclusive */
  lower: Uint8Array;
  /** exclusive */
  upper: Uint8Array;
}

export interface KvStore {
  readonly kind: 'memory' | 'idb' | 'opfs';
  get(store: StoreName, key: Uint8Array): Promise<unknown | undefined>;
  /** Several keys' values (undefined: absent), in the order asked, in one read (IndexedDB: one transaction); optional: `get` each otherwise. */
  getMany?(store: StoreName, keys: readonly Uint8Array[]): Promise<(unknown | undefined)[]>;
  /**
   * Visits every entry with lower <= key < upper in ascending byte order.
   * Reads in bounded batches, so a large range never sits in memory twice.
   */
  scan(store: StoreName, range: KvRange, visit: (key: Uint8Array, value: unknown) => void): Promise<void>;
  /** Applies all writes atomically; resolves only once they are durable. */
  commit(writes: readonly KvWrite[]): Promise<void>;
  close(): Promise<void>;
  /** Whether commit() takes range deletes (a write with `upper`): one request for a whole range, not one per key. */
  readonly rangeDeletes?: boolean;
  /** When later commits resolve: 'relaxed' once the browser has them, 'strict' once flushed to disk (see OpenOptions.durability). */
  setDurability?(durability: 'relaxed' | 'strict'): void;
}
