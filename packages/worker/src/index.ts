export { createClient, createLocalClient } from './client';
export type { ClientOptions, ClientSession, ClientTransaction, KalamClient } from './types';
export type { ClientStorage } from './protocol';
export { shareRows } from './share';
export { contentKey } from './content-key';
export { KalamError, isKalamError } from '@kalamlite/engine';
export type {
  ColumnInfo,
  ErrorCode,
  KalamErrorShape,
  Role,
  Row,
  SessionOptions,
  StatementResult,
  Value,
} from '@kalamlite/engine';
