/** @kalamlite/engine — the public face. Everything else is internal. */
export {
  openDatabase,
  type Database,
  type InsertManyError,
  type InsertManyOptions,
  type InsertManyProgress,
  type Session,
  type LiveStop,
  type SessionTransaction,
  type OpenOptions,
  type StatementOptions,
  type Migration,
  type MigrateResult,
  type BackupOptions,
  type BackupProgress,
  type ImportResult,
  type ReadFileOptions,
} from './api/database';
/** The check db.migrate() makes of a migrations list (hosts use it where the list is given): a frozen copy, or INVALID_OPTION. */
export { checkMigrations } from './execute/migration-list';
export { checkDurability, resolveOptions, DEFAULTS, OPTION_NAMES } from './execute/options';
/** Compactions' merges in a helper worker (hosts that can start one install its factory; the helper serves them). */
export { useCompactionWorker, COMPACTION_WORKER_NAME, type CompactionWorker } from './jobs/compaction-worker';
export { startCompactionHelper } from './execute/compaction-helper';
export type { HelperScope } from './jobs/compact-wire';
/** exportDatabase()/importDatabase() options as the engine checks them (hosts check them where they are given). */
export { checkBackupOptions } from './execute/backup-format';
export { resolveInsertManyOptions, resolveSessionOptions, resolveStatementOptions, type ResolvedSession } from './api/session-options';
/** insertMany's row check and chunk bounds, for hosts that cut the chunks on the page (the worker's client). */
export { insertChunks, insertManyError, type CheckedRow, type ResolvedInsertManyOptions } from './execute/insert-chunks';
/** The engine's check of statement parameters: its frozen copy, or INVALID_PARAMETER (hosts use it before keying by content). */
export { validateParams } from './execute/validate';
export type { DeletedRow, LiveChange, LiveChangeCallback, LiveOptions } from './live/types';
// Arrow loads on first use: loadArrow() resolves to resultToArrow, encodeArrow and decodeArrow.
export { loadArrow, SQL_TYPE_KEY, type ArrowCodecs } from './api/arrow-loader';
export type { ArrowTable } from './api/arrow';
export { KalamError, isKalamError, toKalamError, type ErrorCode, type KalamErrorShape } from './core/errors';
export type {
  ColumnInfo,
  DataType,
  FileRef,
  JsonValue,
  LiveCallback,
  LiveErrorCallback,
  ParamValue,
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
export type { BlobStore } from './storage/blob-store';
