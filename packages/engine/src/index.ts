/** @kalamlite/engine — the public face. Everything else is internal. */
export { openDatabase, DEFAULTS, type Database, type Session, type SessionTransaction, type OpenOptions } from './database';
export { KalamError, isKalamError, toKalamError, type ErrorCode, type KalamErrorShape } from './errors';
export type {
  ColumnInfo,
  DataType,
  JsonValue,
  LiveCallback,
  LiveErrorCallback,
  Role,
  Row,
  SessionOptions,
  StatementResult,
  TableType,
  Value,
} from './types';
export { ROLES } from './types';
export type { KvStore, KvWrite, KvRange, StoreName } from './storage/kv';
