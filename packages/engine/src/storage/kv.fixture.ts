/**
 * A KvStore wrapper for tests: counts commits and can be told to fail the
 * next commits the way a full disk does (a QuotaExceededError DOMException,
 * mapped as the IndexedDB backend maps it). Not a test file.
 */
import type { KvStore, KvWrite } from './kv';
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
