import { useMemo, useSyncExternalStore } from 'react';
import type { Value } from '@kalamlite/worker';
import { paramsKey } from './params-key';
import { useSession } from './provider';
import { createLiveStore, type QuerySnapshot } from './store';

export type LiveQueryResult = QuerySnapshot;

/**
 * The current result of `sql`, kept live: the component re-renders after
 * each commit that changes it. Unchanged rows keep their object identity
 * and an unchanged result keeps the array's, so React.memo works as is.
 */
export function useLiveQuery(sql: string, params?: readonly Value[]): LiveQueryResult {
  const session = useSession();
  const key = paramsKey(params);
  // One store per (session, sql, parameter value); `params` is read only
  // when the key changes, which is the point of comparing by value.
  const store = useMemo(() => createLiveStore(session, sql, params), [session, sql, key]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
