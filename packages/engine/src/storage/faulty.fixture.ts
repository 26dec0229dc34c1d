/**
 * KvStore wrappers for tests of storage failures: a store that fails the
 * commits it is told to (with whatever a backend might throw), and one whose
 * commits can hang until the test settles them. Both keep the inner store's
 * data across `close()` when asked, so a test can reopen over it and compare
 * memory with disk. Not a test file.
 */
import type { KvStore, KvWrite } from './kv';

export interface FaultyControl {
  /** Commits made through this wrapper (failed, hung and successful), counted from when `armed` was last set. */
  commits: number;
  /** While false, nothing fails or hangs (opening the database, setting up). */
  armed: boolean;
  /** What the n-th armed commit throws (1-based); undefined: it goes through. */
  failure?: (n: number) => unknown;
  /** While true, each armed commit hangs until `release` settles it. */
  hang: boolean;
  /** Hung commits, oldest first: `land` applies the batch and resolves, `fail` rejects without applying it. */
  readonly hung: { writes: readonly KvWrite[]; land(): Promise<void>; fail(error?: unknown): void }[];
  /** Reads fail with this while set. */
  readFailure?: unknown;
}

export interface FaultyStore extends KvStore {
  readonly control: FaultyControl;
}

/**
 * `inner` behind a wrapper that fails or hangs commits as `control` says.
 * With `keepOnClose`, closing the wrapper leaves `inner` open (a memory
 * store that would otherwise lose its data).
 */
export function faultyStore(inner: KvStore, options: { keepOnClose?: boolean } = {}): FaultyStore {
  const control: FaultyControl = { commits: 0, armed: false, hang: false, hung: [] };
  return {
    kind: inner.kind,
    control,
    async get(store, key) {
      if (control.readFailure !== undefined) throw control.readFailure;
      return inner.get(store, key);
    },
    async scan(store, range, visit) {
      if (control.readFailure !== undefined) throw control.readFailure;
      return inner.scan(store, range, visit);
    },
    commit(writes) {
      if (!control.armed) return inner.commit(writes);
      const n = ++control.commits;
      const failure = control.failure?.(n);
      if (failure !== undefined) return Promise.reject(failure);
      if (!control.hang) return inner.commit(writes);
      const batch = writes.slice();
      return new Promise<void>((resolve, reject) => {
        control.hung.push({
          writes: batch,
          async land() {
            await inner.commit(batch);
            resolve();
          },
          fail(error: unknown = new Error('the disk went away')) {
            reject(error);
          },
        });
      });
    },
    async close() {
      if (!options.keepOnClose) await inner.close();
    },
    setDurability: inner.setDurability?.bind(inner),
  };
}

/** `inner` seen through a wrapper whose close leaves it open: reopen a memory store's data. */
export function reopened(inner: KvStore): KvStore {
  return { kind: inner.kind, get: (s, k) => inner.get(s, k), scan: (s, r, v) => inner.scan(s, r, v), commit: (w) => inner.commit(w), close: async () => undefined };
}
