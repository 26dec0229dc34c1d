import { useEffect, useMemo, useSyncExternalStore } from 'react';
import type { LiveOptions, Row, Value } from '@kalamlite/worker';
import { liveOptionsKey, paramsKey } from './params-key';
import { useKalamContext } from './provider';
import { createLiveStore, NO_CLIENT_STORE, type QuerySnapshot } from './store';
import { adoptStore, suspenseStore } from './suspense-cache';

/** A live result that has arrived: status is 'ready', or 'error' for a failure after the first result. */
export type SuspenseLiveQueryResult<T = Row> = QuerySnapshot<T> & { readonly status: 'ready' | 'error' };

/**
 * `useLiveQuery` for Suspense: the component suspends (throws a promise to
 * the nearest `<Suspense>`) until the first result arrives, and a failure
 * of the first result is thrown to the nearest error boundary. After that
 * it behaves as useLiveQuery: live, identity-preserving, stopped on unmount.
 * `T` types the rows. On the server, and while the provider has no client,
 * it suspends (the nearest `<Suspense>` shows its fallback).
 */
export function useSuspenseLiveQuery<T extends object = Row>(sql: string, params?: readonly Value[], options?: LiveOptions): SuspenseLiveQueryResult<T> {
  const { session, ready } = useKalamContext('useSuspenseLiveQuery');
  const key = `${sql.length}:${sql}${paramsKey(params)}|${liveOptionsKey(options)}`;
  const store = useMemo(() => (ready ? suspenseStore(session, key, () => createLiveStore(session, sql, params, options)) : NO_CLIENT_STORE), [ready, session, key]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  // Declared after useSyncExternalStore, so its subscription is in place before the cache lets go.
  useEffect(() => (ready ? adoptStore(session, key, store) : undefined), [ready, session, key, store]);
  if (snapshot.status === 'loading') throw store.whenSettled();
  if (snapshot.status === 'error' && snapshot.changes === undefined) throw snapshot.error;
  return snapshot as SuspenseLiveQueryResult<T>;
}
