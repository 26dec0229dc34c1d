import { useEffect, useMemo, useSyncExternalStore } from 'react';
import type { LiveOptions, Value } from '@kalamlite/worker';
import { liveOptionsKey, paramsKey } from './params-key';
import { useSession } from './provider';
import { createLiveStore, type QuerySnapshot } from './store';
import { adoptStore, suspenseStore } from './suspense-cache';

/** A live result that has arrived: status is 'ready', or 'error' for a failure after the first result. */
export type SuspenseLiveQueryResult = QuerySnapshot & { readonly status: 'ready' | 'error' };

/**
 * `useLiveQuery` for Suspense: the component suspends (throws a promise to
 * the nearest `<Suspense>`) until the first result arrives, and a failure
 * of the first result is thrown to the nearest error boundary. After that
 * it behaves as useLiveQuery: live, identity-preserving, stopped on unmount.
 */
export function useSuspenseLiveQuery(sql: string, params?: readonly Value[], options?: LiveOptions): SuspenseLiveQueryResult {
  const session = useSession();
  const key = `${sql.length}:${sql}${paramsKey(params)}|${liveOptionsKey(options)}`;
  const store = useMemo(() => suspenseStore(session, key, () => createLiveStore(session, sql, params, options)), [session, key]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  // Declared after useSyncExternalStore, so its subscription is in place before the cache lets go.
  useEffect(() => adoptStore(session, key, store), [session, key, store]);
  if (snapshot.status === 'loading') throw store.whenSettled();
  if (snapshot.status === 'error' && snapshot.changes === undefined) throw snapshot.error;
  return snapshot as SuspenseLiveQueryResult;
}
