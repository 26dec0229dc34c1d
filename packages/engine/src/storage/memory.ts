/**
 * The in-memory KvStore: one sorted array of keys (and a parallel array of
 * values) per store, searched by binary search.
 *
 * - Keys are copied on commit, so a caller that reuses its key buffer cannot
 *   disturb the order. Values are kept by reference, not cloned: the engine
 *   writes frozen rows, and a value must not be mutated after it is committed
 *   (IndexedDB would have cloned it; here the mutation would show).
 * - The batch passed to commit is read once, during the call; changing that
 *   array or its write objects afterwards changes nothing stored.
 * - Keys handed to a scan's visitor are the stored ones: read-only.
 * - A scan whose visitor commits keeps going from the last key it visited,
 *   so it never visits a key twice or out of order; writes made ahead of the
 *   scan position become visible to it (unlike IndexedDB's snapshot).
 */
import type { KvRange, KvStore, KvWrite, StoreName } from './kv';
import { STORE_NAMES } from './kv';
import { compareBytes } from './keys';
import { assertKey, assertStoreName, closedError, validateWrites } from './writes';

interface SortedEntries {
  /** Ascending by compareBytes, no duplicates; values[i] belongs to keys[i]. Bounded only by the data stored. */
  keys: Uint8Array[];
  values: unknown[];
  /** Bumped on every change, so a running scan knows to re-find its place. */
  version: number;
}

/** First index whose key is >= key (or > key when `isAfter`). */
function search(keys: readonly Uint8Array[], key: Uint8Array, isAfter: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareBytes(keys[mid], key);
    if (c < 0 || (isAfter && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function apply(entries: SortedEntries, write: KvWrite): void {
  const { keys, values } = entries;
  const i = search(keys, write.key, false);
  if (write.upper !== undefined) {
    const end = search(keys, write.upper, false);
    if (end <= i) return;
    keys.splice(i, end - i);
    values.splice(i, end - i);
    entries.version++;
    return;
  }
  const isPresent = i < keys.length && compareBytes(keys[i], write.key) === 0;
  if (write.value === undefined) {
    if (!isPresent) return;
    keys.splice(i, 1);
    values.splice(i, 1);
  } else if (isPresent) {
    values[i] = write.value;
  } else {
    keys.splice(i, 0, write.key.slice());
    values.splice(i, 0, write.value);
  }
  entries.version++;
}

export function openMemoryStore(): KvStore {
  const stores = new Map<StoreName, SortedEntries>();
  for (const name of STORE_NAMES) stores.set(name, { keys: [], values: [], version: 0 });
  let isClosed = false;

  function entriesOf(store: StoreName): SortedEntries {
    if (isClosed) throw closedError();
    assertStoreName(store);
    return stores.get(store)!;
  }

  return {
    kind: 'memory',
    rangeDeletes: true,

    async get(store, key) {
      const { keys, values } = entriesOf(store);
      assertKey(key);
      const i = search(keys, key, false);
      return i < keys.length && compareBytes(keys[i], key) === 0 ? values[i] : undefined;
    },

    async scan(store, range: KvRange, visit) {
      const entries = entriesOf(store);
      const { lower, upper } = range;
      if (compareBytes(lower, upper) >= 0) return;
      let version = entries.version;
      let i = search(entries.keys, lower, false);
      while (i < entries.keys.length) {
        const key = entries.keys[i];
        if (compareBytes(key, upper) >= 0) return;
        visit(key, entries.values[i]);
        if (isClosed) return;
        if (entries.version !== version) {
          version = entries.version;
          i = search(entries.keys, key, true);
        } else {
          i++;
        }
      }
    },

    async commit(writes) {
      if (isClosed) throw closedError();
      validateWrites(writes);
      for (let i = 0; i < writes.length; i++) apply(stores.get(writes[i].store)!, writes[i]);
    },

    async close() {
      isClosed = true;
      stores.clear();
    },
  };
}
