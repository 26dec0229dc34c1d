import { useMemo, useSyncExternalStore } from 'react';
import type { LiveOptions, Value } from '@kalamlite/worker';
import { liveOptionsKey, paramsKey } from './params-key';
import { useSession } from './provider';
import { createLiveStore, type QuerySnapshot } from './store';

export type LiveQueryResult = QuerySnapshot;

/**
 * The current result of `sql`, kept live: the component re-renders after
 * each commit that changes it, and `changes` says what that commit changed.
 * Unchanged rows keep their object identity and an unchanged result keeps
 * the array's, so React.memo works as is. Stops on unmount; starts again
 * when the session, `sql`, the parameter values or the options change.
 */
export function useLiveQuery(sql: string, params?: readonly Value[], options?: LiveOptions): LiveQueryResult {
  const session = useSession();
  const key = paramsKey(params);
  const optionsKey = liveOptionsKey(options);
  // One store per (session, sql, parameter value, options); `params` and
  // `options` are read only when their keys change, which is the point of
  // comparing by value. Creating a store starts nothing: the live query
  // starts with the first subscriber, so StrictMode's extra render is free.
  const store = useMemo(() => createLiveStore(session, sql, params, options), [session, sql, key, optionsKey]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
