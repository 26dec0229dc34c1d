/**
 * The guarding store: a KvStore wrapper (Dexie's dbcore middleware idea,
 * see CONVENTIONS) that the engine puts around every store it opens —
 * memory, IndexedDB, OPFS or a custom `KvStore` — and around a custom
 * segment store. Backends stay as they are; this one wrapper makes two
 * promises at the KvStore boundary:
 *
 * - **Every failure is a KalamError.** A KalamError the backend threw passes
 *   through unchanged (the IndexedDB and OPFS backends map their own); a
 *   quota failure (storage/quota.ts) becomes QUOTA_EXCEEDED; anything else
 *   — a raw Error, a string, a hostile thrown object — STORAGE_ERROR naming
 *   the operation and the backend's error. An error thrown by a scan's
 *   visitor is the caller's, not the storage's: it passes through as it is.
 * - **Every operation ends within `timeoutMs`** (storageTimeoutMs). A get,
 *   commit or close that has not settled by then fails with
 *   STORAGE_TIMEOUT; a scan does when it makes no progress (visits no entry)
 *   for that long. A timed-out read's late answer is dropped (a late scan
 *   visits nothing more). A timed-out commit may still complete: its late
 *   outcome is kept with the error (`lateOutcome`), and the one commit path
 *   (execute/commit.ts) decides what it means for memory.
 */
import { KalamError } from '../core/errors';
import type { KvRange, KvStore, KvWrite, StoreName } from './kv';
import type { SegmentKey, SegmentStore } from './cold/types';
import { isQuotaError, quotaExceeded } from './quota';
import { MAX_TIMER_MS } from '../core/defaults';

export interface GuardOptions {
  /** What the store is, for messages: 'IndexedDB', 'OPFS', 'memory', 'custom KvStore', … */
  readonly backend: string;
  /** Milliseconds after which an operation that has not settled (a scan: made no progress) fails with STORAGE_TIMEOUT. */
  readonly timeoutMs: number;
}

/** The largest delay setTimeout takes (about 24.8 days); storageTimeoutMs is validated against it. */
export { MAX_TIMER_MS };

/**
 * For a STORAGE_TIMEOUT of a commit: resolves true once that commit
 * completed after all, false once it failed (nothing of it was written).
 * Never rejects. Kept only while the error is referenced.
 */
const lateOutcomes = new WeakMap<KalamError, Promise<boolean>>();

/** STORAGE_TIMEOUTs the guard's own timer raised (a backend may throw one of its own). */
const guardTimeouts = new WeakSet<KalamError>();

/** The late outcome of a commit that failed with the guard's STORAGE_TIMEOUT (see lateOutcomes); undefined for any other error. */
export function lateOutcome(e: unknown): Promise<boolean> | undefined {
  return e instanceof KalamError ? lateOutcomes.get(e) : undefined;
}

/** A failure of `action` on the backend, as a KalamError: a backend's KalamError as it is, a quota failure QUOTA_EXCEEDED, anything else STORAGE_ERROR. */
export function storageFailure(action: string, backend: string, e: unknown): KalamError {
  let isQuota = false;
  try {
    if (e instanceof KalamError) return e;
    isQuota = isQuotaError(e);
  } catch {
    // A hostile thrown value (a Proxy whose traps throw): described below as one that cannot be read.
  }
  if (isQuota) return quotaExceeded(action);
  return new KalamError(
    'STORAGE_ERROR',
    `Storage error while ${action} (${backend}): ${describeThrown(e)}. Nothing of the failed operation was saved; retry, and if it keeps failing, close and reopen the database.`,
  );
}

/** The backend's error as text: its name and message only (a value that cannot be read gives a fixed text). */
function describeThrown(e: unknown): string {
  const cut = (t: string) => (t.length > 300 ? `${t.slice(0, 300)}…` : t);
  try {
    if (typeof e === 'string') return cut(e);
    if (typeof e === 'object' && e !== null) {
      const { name, message } = e as { name?: unknown; message?: unknown };
      if (typeof message === 'string') {
        const prefix = typeof name === 'string' && name !== '' && name !== 'Error' ? `${name}: ` : '';
        return `${prefix}${cut(message) || 'no message'}`;
      }
      return `a thrown ${Array.isArray(e) ? 'array' : 'object'}`;
    }
    return typeof e === 'function' || typeof e === 'symbol' ? `a thrown ${typeof e}` : `the value ${String(e)} was thrown`;
  } catch {
    return 'a thrown value that cannot be read';
  }
}

interface RunOptions {
  /** Asked when the time is up: true re-arms the timer (a scan that visited entries since). */
  isProgressing?: () => boolean;
  /** A commit: its late outcome is kept with the STORAGE_TIMEOUT. */
  isCommit?: boolean;
}

/**
 * `operation` (a synchronous throw included) under the guard's error
 * mapping and time bound. A timed-out operation keeps running in the
 * backend; its late result is dropped, or for a commit kept as the
 * error's lateOutcome.
 */
async function run<T>(operation: () => Promise<T>, action: () => string, guard: GuardOptions, options: RunOptions = {}): Promise<T> {
  const { backend, timeoutMs } = guard;
  let mapped: Promise<T>;
  try {
    mapped = Promise.resolve(operation()).catch((e: unknown) => {
      throw storageFailure(action(), backend, e);
    });
  } catch (e) {
    throw storageFailure(action(), backend, e);
  }
  let handle: ReturnType<typeof setTimeout> | undefined;
  const timer = new Promise<never>((_, reject) => {
    const arm = () => {
      handle = setTimeout(() => {
        if (options.isProgressing?.()) return arm();
        const what = options.isCommit ? ": the write's outcome is unknown — the storage may still complete it, and then it is applied" : '';
        const error = new KalamError(
          'STORAGE_TIMEOUT',
          `The storage (${backend}) did not finish ${action()} within ${timeoutMs} ms (storageTimeoutMs)${what}. Check the device's storage, or raise storageTimeoutMs if it is only slow.`,
        );
        guardTimeouts.add(error);
        if (options.isCommit) lateOutcomes.set(error, mapped.then(() => true, () => false));
        reject(error);
      }, timeoutMs);
      // Node: a pending storage timer must not keep the process alive.
      (handle as { unref?: () => void }).unref?.();
    };
    arm();
  });
  try {
    return await Promise.race([mapped, timer]);
  } finally {
    clearTimeout(handle);
  }
}

/** Wraps a store the engine opened; a store already guarded is returned as it is. */
export function guardStore(inner: KvStore, guard: GuardOptions): KvStore {
  if (guardedStores.has(inner)) return inner;
  const store: KvStore = {
    get kind() {
      return inner.kind;
    },

    get(name: StoreName, key: Uint8Array) {
      return run(() => inner.get(name, key), () => `reading from the '${name}' store`, guard);
    },
    getMany(name: StoreName, keys: readonly Uint8Array[]) {
      const many = inner.getMany?.bind(inner);
      return run(() => (many ? many(name, keys) : Promise.all(keys.map((k) => inner.get(name, k)))), () => `reading ${keys.length} keys from the '${name}' store`, guard);
    },

    async scan(name: StoreName, range: KvRange, visit: (key: Uint8Array, value: unknown) => void) {
      let visits = 0;
      let seen = 0;
      let isAbandoned = false;
      let visitorError: { error: unknown } | undefined;
      const guardedVisit = (key: Uint8Array, value: unknown) => {
        // A scan that timed out delivers nothing more (this stops the backend's loop): the caller has moved on.
        if (isAbandoned) throw ABANDONED;
        visits++;
        try {
          visit(key, value);
        } catch (e) {
          visitorError = { error: e };
          throw e;
        }
      };
      const isProgressing = () => {
        const moved = visits !== seen;
        seen = visits;
        return moved;
      };
      try {
        await run(() => inner.scan(name, range, guardedVisit), () => `scanning the '${name}' store`, guard, { isProgressing });
      } catch (e) {
        const isTimeout = e instanceof KalamError && guardTimeouts.has(e);
        if (isTimeout) isAbandoned = true;
        // The visitor's own failure is the caller's, not the storage's.
        else if (visitorError !== undefined) throw visitorError.error;
        throw e;
      }
    },

    commit(writes: readonly KvWrite[]) {
      return run(() => inner.commit(writes), () => `committing ${writes.length} write(s)`, guard, { isCommit: true });
    },

    close() {
      return run(() => inner.close(), () => 'closing the database', guard);
    },
  };
  if (typeof inner.setDurability === 'function') store.setDurability = (durability) => inner.setDurability!(durability);
  if (inner.rangeDeletes) Object.defineProperty(store, 'rangeDeletes', { value: true, enumerable: true });
  guardedStores.add(store);
  return store;
}

/** Stores guardStore made (weakly held). */
const guardedStores = new WeakSet<KvStore>();

/** Thrown into a backend's scan loop once the scan timed out, to stop it; never reaches a caller. */
const ABANDONED = new KalamError('STORAGE_TIMEOUT', 'The scan was abandoned after it timed out.');

/**
 * A segment store outside the KV store (OPFS segment files, or a custom one
 * given as the `segmentStore` option) under the same error mapping and time
 * bound as the KV store. The KV segment store needs none: it reads and
 * writes through the guarded KV store.
 */
export function guardSegmentStore(inner: SegmentStore, guard: GuardOptions): SegmentStore {
  const seg = (k: SegmentKey) => `segment ${k.segmentId} of table ${k.tableId}`;
  /** The synchronous parts (`write`, `remove`: KV writes built in memory) only get the error mapping. */
  const sync = <T>(fn: () => T, action: () => string): T => {
    try {
      return fn();
    } catch (e) {
      throw storageFailure(action(), guard.backend, e);
    }
  };
  const store: SegmentStore = {
    readGroups: (key, groups) => run(() => inner.readGroups(key, groups), () => `reading ${groups.length} row group(s) of ${seg(key)}`, guard),
    get: (key) => run(() => inner.get(key), () => `reading ${seg(key)}`, guard),
  };
  if (typeof inner.write === 'function') store.write = (key, groups, first) => sync(() => inner.write!(key, groups, first), () => `preparing the write of ${seg(key)}`);
  if (typeof inner.remove === 'function') store.remove = (ref) => sync(() => inner.remove!(ref), () => `preparing the removal of ${seg(ref)}`);
  if (typeof inner.put === 'function') store.put = (key, groups) => run(() => inner.put!(key, groups), () => `writing ${seg(key)}`, guard);
  if (typeof inner.delete === 'function') store.delete = (refs) => run(() => inner.delete!(refs), () => `deleting ${refs.length} segment(s)`, guard);
  if (typeof inner.list === 'function') store.list = () => run(() => inner.list!(), () => 'listing the segments', guard);
  if (typeof inner.close === 'function') store.close = () => run(async () => inner.close!(), () => 'closing the segment store', guard);
  return store;
}
