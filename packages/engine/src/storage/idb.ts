/**
 * The IndexedDB KvStore: one database per name, holding exactly the object
 * stores of STORE_NAMES with out-of-line binary keys. IndexedDB orders binary
 * keys bytewise, unsigned, a shorter prefix first — the same order as
 * compareBytes — so ranges of encoded tuple keys scan in tuple order.
 *
 * - Keys are written as the Uint8Array given (IndexedDB copies the bytes of
 *   the view) and come back as ArrayBuffers, which scans wrap in Uint8Arrays.
 * - A commit is one readwrite transaction over the stores it touches, with
 *   the durability hint asked for (strict: flushed to disk), and
 *   resolves after the transaction's `complete` event; if any write fails, the
 *   transaction is aborted and nothing is applied.
 * - A scan is one readonly transaction (a consistent snapshot) read in
 *   batches of SCAN_BATCH keys and values, moving the lower bound past the
 *   last key of each batch.
 * - When another tab asks to upgrade or delete the database (versionchange),
 *   this connection closes at once so that tab is not blocked; later calls
 *   here fail with STORAGE_ERROR asking for a reload.
 * - The IndexedDB classes (IDBKeyRange, IDBTransaction, …) must be globals,
 *   as in browsers and workers; in Node, import 'fake-indexeddb/auto' first.
 */
import { unwrap, wrap, type IDBPDatabase } from 'idb';
import { KalamError } from '../core/errors';
import type { KvRange, KvStore, KvWrite, StoreName } from './kv';
import { STORE_NAMES } from './kv';
import { compareBytes } from './keys';
import { quotaExceeded } from './quota';
import { assertKey, assertStoreName, closedError, touchedStores, validateWrites } from './writes';

/** The schema version; bump only with an upgrade step for existing databases. */
const DB_VERSION = 1;
/** Entries read per request while scanning. */
export const SCAN_BATCH = 1000;

export async function openIdbStore(name: string, factory: IDBFactory | undefined = globalThis.indexedDB, durability: 'relaxed' | 'strict' = 'relaxed'): Promise<KvStore> {
  if (factory === undefined) {
    throw new KalamError(
      'STORAGE_ERROR',
      "IndexedDB is not available here. Use storage: 'memory', or pass an IDBFactory as the indexedDB option.",
    );
  }
  const raw = await openConnection(name, factory);
  const missing = STORE_NAMES.filter((s) => !raw.objectStoreNames.contains(s));
  if (missing.length > 0) {
    raw.close();
    throw new KalamError(
      'STORAGE_ERROR',
      `The IndexedDB database "${name}" exists but was not made by kalamlite (it lacks the object stores ${missing.join(', ')}). Choose another database name.`,
    );
  }
  return new IdbStore(wrap(raw) as IDBPDatabase, name, durability);
}

function openConnection(name: string, factory: IDBFactory): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    let request: IDBOpenDBRequest;
    try {
      request = factory.open(name, DB_VERSION);
    } catch (e) {
      reject(storageError(`opening the database "${name}"`, e));
      return;
    }
    let isSettled = false;
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const store of STORE_NAMES) {
        if (!db.objectStoreNames.contains(store)) db.createObjectStore(store);
      }
    };
    request.onsuccess = () => {
      const db = request.result;
      if (isSettled) {
        // We already gave up on this open (it was blocked); do not leak the connection.
        db.close();
        return;
      }
      isSettled = true;
      resolve(db);
    };
    request.onerror = () => {
      if (isSettled) return;
      isSettled = true;
      const error = request.error;
      if (error?.name === 'VersionError') {
        reject(
          new KalamError(
            'STORAGE_ERROR',
            `The database "${name}" was written by a newer version of kalamlite. Reload the page to get the newest version.`,
          ),
        );
      } else {
        reject(storageError(`opening the database "${name}"`, error));
      }
    };
    request.onblocked = () => {
      if (isSettled) return;
      isSettled = true;
      reject(
        new KalamError(
          'STORAGE_ERROR',
          `The database "${name}" is held open by another tab running an older version of this app. Close or reload the other tabs of this site, then try again.`,
        ),
      );
    };
  });
}

class IdbStore implements KvStore {
  readonly kind = 'idb' as const;
  readonly rangeDeletes = true;
  private readonly db: IDBPDatabase;
  private readonly name: string;
  /** Set once the connection is gone; every later call throws it. */
  private closedBy: KalamError | undefined;

  /** The durability hint of every commit's transaction. */
  private durability: 'relaxed' | 'strict';

  setDurability(durability: 'relaxed' | 'strict'): void {
    this.durability = durability;
  }

  constructor(db: IDBPDatabase, name: string, durability: 'relaxed' | 'strict') {
    this.db = db;
    this.name = name;
    this.durability = durability;
    const raw = unwrap(db) as IDBDatabase;
    raw.onversionchange = () => {
      this.closedBy ??= new KalamError(
        'STORAGE_ERROR',
        `The database "${name}" was closed because another tab is upgrading or deleting it. Reload this page.`,
      );
      raw.close();
    };
    raw.onclose = () => {
      this.closedBy ??= new KalamError(
        'STORAGE_ERROR',
        `The browser closed the database "${name}" (its data may have been cleared). Reload this page.`,
      );
    };
  }

  private assertOpen(): void {
    if (this.closedBy !== undefined) throw this.closedBy;
  }

  async get(store: StoreName, key: Uint8Array): Promise<unknown | undefined> {
    this.assertOpen();
    assertStoreName(store);
    assertKey(key);
    try {
      return await this.db.get(store, idbKey(key));
    } catch (e) {
      throw this.closedBy ?? storageError(`reading from "${this.name}"`, e);
    }
  }

  async getMany(store: StoreName, keys: readonly Uint8Array[]): Promise<(unknown | undefined)[]> {
    this.assertOpen();
    assertStoreName(store);
    for (const key of keys) assertKey(key);
    try {
      const objectStore = this.db.transaction(store, 'readonly').store;
      return await Promise.all(keys.map((key) => objectStore.get(idbKey(key))));
    } catch (e) {
      throw this.closedBy ?? storageError(`reading from "${this.name}"`, e);
    }
  }

  async scan(store: StoreName, range: KvRange, visit: (key: Uint8Array, value: unknown) => void): Promise<void> {
    this.assertOpen();
    assertStoreName(store);
    const { lower, upper } = range;
    if (compareBytes(lower, upper) >= 0) return;
    let objectStore;
    let bounds: IDBKeyRange;
    try {
      objectStore = this.db.transaction(store, 'readonly').store;
      // An empty lower bound is the start of the store (and not a valid key everywhere).
      bounds = lower.length === 0 ? IDBKeyRange.upperBound(idbKey(upper), true) : IDBKeyRange.bound(idbKey(lower), idbKey(upper), false, true);
    } catch (e) {
      throw this.closedBy ?? storageError(`reading from "${this.name}"`, e);
    }
    for (;;) {
      let keys: IDBValidKey[];
      let values: unknown[];
      try {
        [keys, values] = await Promise.all([objectStore.getAllKeys(bounds, SCAN_BATCH), objectStore.getAll(bounds, SCAN_BATCH)]);
      } catch (e) {
        throw this.closedBy ?? storageError(`reading from "${this.name}"`, e);
      }
      if (keys.length !== values.length) {
        throw new KalamError('STORAGE_ERROR', `Reading from "${this.name}" returned mismatched keys and values. Retry; if it persists, reload the page.`);
      }
      for (let i = 0; i < keys.length; i++) visit(toBytes(keys[i]), values[i]);
      if (keys.length < SCAN_BATCH) return;
      if (this.closedBy !== undefined) throw this.closedBy;
      bounds = IDBKeyRange.bound(keys[keys.length - 1], idbKey(upper), true, true);
    }
  }

  async commit(writes: readonly KvWrite[]): Promise<void> {
    this.assertOpen();
    validateWrites(writes);
    if (writes.length === 0) return;
    let tx;
    try {
      tx = this.db.transaction(touchedStores(writes), 'readwrite', { durability: this.durability });
    } catch (e) {
      throw this.closedBy ?? storageError(`writing to "${this.name}"`, e);
    }
    const done = tx.done;
    // Requests go through the raw transaction: their errors abort the transaction
    // and surface once, through `done`, instead of as one rejected promise each.
    const raw = unwrap(tx) as IDBTransaction;
    try {
      for (let i = 0; i < writes.length; i++) {
        const { store, key, value } = writes[i];
        const objectStore = raw.objectStore(store);
        const { upper } = writes[i];
        if (upper !== undefined) objectStore.delete(IDBKeyRange.bound(idbKey(key), idbKey(upper), false, true));
        else if (value === undefined) objectStore.delete(idbKey(key));
        else objectStore.put(value, idbKey(key));
      }
    } catch (e) {
      // put() throws synchronously, e.g. DataCloneError for a value that cannot be copied.
      done.catch(() => undefined);
      try {
        raw.abort();
      } catch {
        // Already finished or aborted: nothing of it was committed either way.
      }
      throw storageError(`writing to "${this.name}"`, e);
    }
    // Every request is queued: commit now instead of when this task ends (auto-commit).
    try {
      raw.commit?.();
    } catch {
      // Already committing or aborted: `done` reports which.
    }
    try {
      await done;
    } catch (e) {
      throw this.closedBy ?? storageError(`writing to "${this.name}"`, e);
    }
  }

  async close(): Promise<void> {
    if (this.closedBy === undefined) this.closedBy = closedError();
    this.db.close();
  }
}

/** Our keys are plain (non-shared) byte arrays, which IndexedDB takes as binary keys. */
function idbKey(key: Uint8Array): IDBValidKey {
  return key as Uint8Array<ArrayBuffer>;
}

function toBytes(key: IDBValidKey): Uint8Array {
  if (key instanceof ArrayBuffer) return new Uint8Array(key);
  if (ArrayBuffer.isView(key)) return new Uint8Array(key.buffer, key.byteOffset, key.byteLength);
  throw new KalamError('STORAGE_ERROR', 'A stored key is not binary, so this database was not written by kalamlite. Choose another database name.');
}

/** Turns an IndexedDB failure into a STORAGE_ERROR that says what to do. Nothing of the failed operation was applied. */
export function storageError(action: string, e: unknown): KalamError {
  if (e instanceof KalamError) return e;
  const name = e instanceof Error || (typeof DOMException !== 'undefined' && e instanceof DOMException) ? (e as Error).name : '';
  const detail = e instanceof Error ? e.message : String(e);
  switch (name) {
    case 'QuotaExceededError':
      return quotaExceeded(action);
    case 'AbortError':
      return new KalamError(
        'STORAGE_ERROR',
        `The IndexedDB transaction was aborted while ${action}, so nothing of it was saved. Retry; if it keeps failing, reload the page.`,
      );
    case 'DataCloneError':
      return new KalamError(
        'STORAGE_ERROR',
        `A value could not be stored while ${action}: IndexedDB cannot copy it (${detail}). Nothing of this write was saved.`,
      );
    case 'InvalidStateError':
      return new KalamError(
        'STORAGE_ERROR',
        `The IndexedDB connection was closing while ${action}. Reload the page and try again.`,
      );
    default:
      return new KalamError(
        'STORAGE_ERROR',
        `IndexedDB failed while ${action}${name ? ` (${name}: ${detail})` : ` (${detail})`}. Retry; if it keeps failing, reload the page or clear this site's data.`,
      );
  }
}
