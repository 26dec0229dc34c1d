/**
 * A KvStore wrapper for tests: counts commits and can be told to fail the
 * next commits the way a full disk does (a QuotaExceededError DOMException,
 * mapped as the IndexedDB backend maps it). Not a test file.
 */
import type { PageRecord } from './hot-tier';
import { encodeKey, prefixUpperBound } from './keys';
import type { KvStore, KvWrite, StoreName } from './kv';
import { storageError } from './idb';

export interface RecordingStore extends KvStore {
  /** Every batch committed successfully, in order. */
  readonly committed: (readonly KvWrite[])[];
  /** While true, every commit fails with QUOTA_EXCEEDED and applies nothing. */
  isFull: boolean;
}

export function recordingStore(inner: KvStore): RecordingStore {
  const store: RecordingStore = {
    kind: inner.kind,
    committed: [],
    isFull: false,
    get: (s, key) => inner.get(s, key),
    scan: (s, range, visit) => inner.scan(s, range, visit),
    async commit(writes) {
      if (store.isFull) throw storageError('writing to "test"', new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
      await inner.commit(writes);
      store.committed.push(writes.slice());
    },
    close: () => inner.close(),
  };
  return store;
}

/** Rows a table has in storage: every row of every page under the table's key prefix (see hot-tier.ts). */
export async function storedRowCount(kv: KvStore, store: StoreName, tableId: number): Promise<number> {
  let n = 0;
  const lower = encodeKey([tableId]);
  await kv.scan(store, { lower, upper: prefixUpperBound(lower) }, (_key, value) => {
    n += (value as PageRecord).rows.length;
  });
  return n;
}

/**
 * Per recorded commit, how many rows it wrote that no earlier commit wrote.
 * A page write carries its unchanged rows too, as the same frozen objects
 * (the memory store keeps values by reference), so they are not counted again.
 */
export function newRowsPerCommit(committed: readonly (readonly KvWrite[])[]): number[] {
  const seen = new Set<unknown>();
  return committed.map((batch) => {
    let n = 0;
    for (const w of batch) {
      const rows = (w.value as Partial<PageRecord> | undefined)?.rows;
      if (!Array.isArray(rows)) continue;
      for (const row of rows) {
        if (seen.has(row)) continue;
        seen.add(row);
        n++;
      }
    }
    return n;
  });
}
