export { createClient, createLocalClient } from './client';
export type { ClientOptions, ClientSession, ClientTransaction, KalamClient } from './types';
export type { EngineOptions } from './engine-options';
export type { ConsumeOptions, TopicMessage } from './consume';
export type { ChangeSet, ClientStats, ClientStorage, DeletedRow, HostLimits, LiveChange, LiveOptions } from './protocol';
export { MAX_PENDING_CHANGES, MAX_SUBSCRIPTIONS } from './host';
export { transportOf } from './tabs/transport-info';
export type { ClientTransportInfo } from './tabs/transport-info';
export type { Transport } from './tabs/protocol';
export { shareRows } from './share';
export { contentKey } from './content-key';
export { KalamError, isKalamError } from '@kalamlite/engine';
export type {
  ArrowTable,
  ColumnInfo,
  ErrorCode,
  InsertManyError,
  InsertManyOptions,
  InsertManyProgress,
  KalamErrorShape,
  Role,
  Row,
  SessionOptions,
  StatementResult,
  Value,
} from '@kalamlite/engine';
