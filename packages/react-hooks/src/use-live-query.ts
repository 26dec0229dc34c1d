import { useMemo, useSyncExternalStore } from 'react';
import type { LiveOptions, Row, Value } from '@kalamlite/worker';
import { liveOptionsKey, paramsKey } from './params-key';
import { useKalamContext } from './provider';
import { createLiveStore, NO_CLIENT_STORE, type QuerySnapshot } from './store';

export type LiveQueryResult<T = Row> = QuerySnapshot<T>;

/**
 * The current result of `sql`, kept live: the component re-renders after
 * each commit that changes it, and `changes` says what that commit changed.
 * Unchanged rows keep their object identity and an unchanged result keeps
 * the array's, so React.memo works as is. Stops on unmount; starts again
 * when the session, `sql`, the parameter values or the options change.
 * `T` types the rows (not checked against the query). On the server, and
 * while the provider has no client, it reports status 'loading'.
 */
export function useLiveQuery<T extends object = Row>(sql: string, params?: readonly Value[], options?: LiveOptions): LiveQueryResult<T> {
  const { session, ready } = useKalamContext('useLiveQuery');
  const key = paramsKey(params);
  const optionsKey = liveOptionsKey(options);
  // One store per (session, sql, parameter value, options); `params` and
  // `options` are read only when their keys change, which is the point of
  // comparing by value. Creating a store starts nothing: the live query
  // starts with the first subscriber, so StrictMode's extra render is free.
  const store = useMemo(() => (ready ? createLiveStore(session, sql, params, options) : NO_CLIENT_STORE), [ready, session, sql, key, optionsKey]);
  // The server snapshot is the store's: 'loading' until a client delivers (a server render never subscribes).
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot) as LiveQueryResult<T>;
}
