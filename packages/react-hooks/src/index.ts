export { KalamProvider, useKalamClient, useSession, type KalamProviderProps } from './provider';
export { useLiveQuery, type LiveQueryResult } from './use-live-query';
export { useSuspenseLiveQuery, type SuspenseLiveQueryResult } from './use-suspense-live-query';
export { useQuery, type QueryResult } from './use-query';
export type { QuerySnapshot, QueryStatus } from './store';
export type { LiveChange, LiveOptions } from '@kalamlite/worker';
