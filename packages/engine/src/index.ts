/** @kalamlite/engine — the public face. Everything else is internal. */
export { openDatabase, type Database, type Session, type LiveStop, type SessionTransaction, type OpenOptions } from './api/database';
export { checkDurability, resolveOptions, DEFAULTS, OPTION_NAMES } from './execute/options';
export { resolveSessionOptions, type ResolvedSession } from './api/session-options';
export type { LiveChange, LiveChangeCallback, LiveOptions } from './live/types';
// Arrow loads on first use: loadArrow() resolves to resultToArrow, encodeArrow and decodeArrow.
export { loadArrow, SQL_TYPE_KEY, type ArrowCodecs } from './api/arrow-loader';
export type { ArrowTable } from './api/arrow';
export { KalamError, isKalamError, toKalamError, type ErrorCode, type KalamErrorShape } from './core/errors';
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
} from './core/types';
export { ROLES } from './core/types';
export type { KvStore, KvWrite, KvRange, StoreName } from './storage/kv';
