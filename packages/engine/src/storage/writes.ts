/**
 * Checks a batch before any of it is applied, so every backend can apply a
 * commit all-or-nothing: a batch with one bad write is refused whole.
 */
import { KalamError } from '../core/errors';
import { compareBytes } from './keys';
import { STORE_NAMES, type KvWrite, type StoreName } from './kv';

export function assertStoreName(store: unknown): asserts store is StoreName {
  if (!(STORE_NAMES as readonly unknown[]).includes(store)) {
    throw new KalamError(
      'INTERNAL',
      `Internal error: unknown storage area ${JSON.stringify(store)} (expected one of ${STORE_NAMES.join(', ')}). This is a bug in kalamlite; please report it.`,
    );
  }
}

export function assertKey(key: unknown): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array) || key.length === 0) {
    throw new KalamError(
      'INTERNAL',
      'Internal error: a storage key must be a non-empty Uint8Array (see storage/keys.ts). This is a bug in kalamlite; please report it.',
    );
  }
}

export function validateWrites(writes: readonly KvWrite[]): void {
  if (!Array.isArray(writes)) {
    throw new KalamError('INTERNAL', 'Internal error: commit() takes an array of writes. This is a bug in kalamlite; please report it.');
  }
  for (let i = 0; i < writes.length; i++) {
    const w = writes[i];
    if (w === null || typeof w !== 'object') {
      throw new KalamError('INTERNAL', `Internal error: write ${i} of a commit is not an object. This is a bug in kalamlite; please report it.`);
    }
    assertStoreName(w.store);
    assertKey(w.key);
    if (w.upper !== undefined) {
      assertKey(w.upper);
      if (w.value !== undefined || compareBytes(w.key, w.upper) >= 0) {
        throw new KalamError('INTERNAL', `Internal error: write ${i} of a commit is a range delete with a value or an empty range. This is a bug in kalamlite; please report it.`);
      }
    }
  }
}

/** The distinct stores a batch touches, in first-seen order. */
export function touchedStores(writes: readonly KvWrite[]): StoreName[] {
  const out: StoreName[] = [];
  for (const w of writes) if (!out.includes(w.store)) out.push(w.store);
  return out;
}

export function closedError(): KalamError {
  return new KalamError('CLOSED', 'The database is closed. Open it again with openDatabase() to keep using it.');
}
