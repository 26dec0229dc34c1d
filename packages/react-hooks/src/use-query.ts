import { useMemo, useSyncExternalStore } from 'react';
import type { Value } from '@kalamlite/worker';
import { paramsKey } from './params-key';
import { useSession } from './provider';
import { createQueryStore, type QuerySnapshot } from './store';

export interface QueryResult extends QuerySnapshot {
  /** Runs the query again; rows that did not change keep their identity. */
  refetch(): Promise<void>;
}

/** The result of running `sql` once (and again on refetch()). */
export function useQuery(sql: string, params?: readonly Value[]): QueryResult {
  const session = useSession();
  const key = paramsKey(params);
  const store = useMemo(() => createQueryStore(session, sql, params), [session, sql, key]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  return useMemo(() => ({ ...snapshot, refetch: store.refetch }), [snapshot, store]);
}
