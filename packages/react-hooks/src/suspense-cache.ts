import type { ClientSession } from '@kalamlite/worker';
import type { QueryStore } from './store';

/**
 * How long a store started for a suspended render is kept once its first
 * result arrived, waiting for the component to mount and take it over. A
 * render that is abandoned (never commits) does not leak a live query.
 */
export const SUSPENSE_RETAIN_MS = 10_000;

interface Pending {
  store: QueryStore;
  /** Drops the cache's own hold on the store (which keeps its live query running while the component suspends). */
  release: () => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

// Owner: this module; an entry per store whose component has suspended but
// not mounted yet, removed when the component mounts (`adoptStore`) or
// SUSPENSE_RETAIN_MS after its first result. Keyed weakly by session.
const pendingBySession = new WeakMap<ClientSession, Map<string, Pending>>();

/**
 * The store for `key`: the one a suspended render of the same query started,
 * or a new one. React discards the state of a render that suspends, so the
 * store must live here until the component mounts. The store is subscribed
 * (started) at once, so the promise a suspended render throws can settle.
 */
export function suspenseStore(session: ClientSession, key: string, create: () => QueryStore, retainMs = SUSPENSE_RETAIN_MS): QueryStore {
  let pending = pendingBySession.get(session);
  const found = pending?.get(key);
  if (found !== undefined) return found.store;
  if (pending === undefined) pendingBySession.set(session, (pending = new Map()));
  const store = create();
  const entry: Pending = { store, release: store.subscribe(noop), timer: undefined };
  pending.set(key, entry);
  void store.whenSettled().then(() => {
    if (pending.get(key) === entry) entry.timer = setTimeout(() => drop(session, key, entry), retainMs);
  });
  return store;
}

/** The component using `store` has mounted (and subscribed): the cache lets go of it. */
export function adoptStore(session: ClientSession, key: string, store: QueryStore): void {
  const entry = pendingBySession.get(session)?.get(key);
  if (entry !== undefined && entry.store === store) drop(session, key, entry);
}

/** Stores waiting for their component (tests read it to check nothing leaks). */
export function pendingSuspenseStores(session: ClientSession): number {
  return pendingBySession.get(session)?.size ?? 0;
}

function drop(session: ClientSession, key: string, entry: Pending): void {
  if (entry.timer !== undefined) clearTimeout(entry.timer);
  const pending = pendingBySession.get(session);
  if (pending?.get(key) === entry) pending.delete(key);
  entry.release();
}

function noop(): void {}
