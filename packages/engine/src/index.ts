/** @kalamlite/engine — the public face. Everything else is internal. */
export { openDatabase, type Database, type Session, type LiveStop, type SessionTransaction, type OpenOptions, type StatementOptions, type BackupOptions, type BackupProgress, type ImportResult } from './api/database';
export { checkDurability, resolveOptions, DEFAULTS, OPTION_NAMES } from './execute/options';
/** exportDatabase()/importDatabase() options as the engine checks them (hosts check them where they are given). */
export { checkBackupOptions } from './execute/backup-format';
export { resolveSessionOptions, resolveStatementOptions, type ResolvedSession } from './api/session-options';
/** The engine's check of statement parameters: its frozen copy, or INVALID_PARAMETER (hosts use it before keying by content). */
export { validateParams } from './execute/validate';
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
/** Deep-freezes a JSON value in place (a host's copy of a row that crossed a boundary): what queries return is deeply immutable. */
export { freezeJson } from './core/values';
export type { KvStore, KvWrite, KvRange, StoreName } from './storage/kv';
