import { useMemo, useSyncExternalStore } from 'react';
import type { Row, Value } from '@kalamlite/worker';
import { paramsKey } from './params-key';
import { useKalamContext } from './provider';
import { createQueryStore, NO_CLIENT_STORE, type QuerySnapshot } from './store';

export interface QueryResult<T = Row> extends QuerySnapshot<T> {
  /** Runs the query again; rows that did not change keep their identity. */
  refetch(): Promise<void>;
}

/**
 * The result of running `sql` once (and again on refetch()). `T` types the
 * rows. On the server, and while the provider has no client, it reports
 * status 'loading'.
 */
export function useQuery<T extends object = Row>(sql: string, params?: readonly Value[]): QueryResult<T> {
  const { session, ready } = useKalamContext('useQuery');
  const key = paramsKey(params);
  const store = useMemo(() => (ready ? createQueryStore(session, sql, params) : NO_CLIENT_STORE), [ready, session, sql, key]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  return useMemo(() => ({ ...snapshot, refetch: store.refetch }) as QueryResult<T>, [snapshot, store]);
}
