/**
 * The one error type every failure reaches a user as. `code` is stable and
 * machine-readable; `message` says what happened and what to do.
 */
export type ErrorCode =
  | 'PARSE_ERROR'
  | 'INVALID_SQL'
  | 'UNSUPPORTED'
  | 'INVALID_PARAMETER'
  | 'INVALID_OPTION'
  | 'INVALID_NAME'
  | 'NAMESPACE_NOT_FOUND'
  | 'NAMESPACE_EXISTS'
  | 'TABLE_NOT_FOUND'
  /** A topic named by CONSUME, ACK or ALTER/DROP/CLEAR TOPIC does not exist. */
  | 'TOPIC_NOT_FOUND'
  | 'TOPIC_EXISTS'
  | 'USER_EXISTS'
  | 'USER_NOT_FOUND'
  | 'JOB_NOT_FOUND'
  | 'TABLE_EXISTS'
  | 'COLUMN_NOT_FOUND'
  | 'AMBIGUOUS_COLUMN'
  | 'DUPLICATE_COLUMN'
  | 'PRIMARY_KEY_VIOLATION'
  /** A write would give two rows the same value in a UNIQUE index's columns (NULLs never collide); nothing of the statement was written. */
  | 'UNIQUE_VIOLATION'
  /** CREATE INDEX with a name an index of the namespace already has. */
  | 'INDEX_EXISTS'
  /** DROP INDEX named no index of the namespace (list them in system.indexes). */
  | 'INDEX_NOT_FOUND'
  | 'NOT_NULL_VIOLATION'
  | 'TYPE_MISMATCH'
  /** A value of the right kind outside its column type's range (an INT past 2^31, a DATE past 9999-12-31): PostgreSQL's 22003/22008. */
  | 'OUT_OF_RANGE'
  | 'DIVISION_BY_ZERO'
  | 'PERMISSION_DENIED'
  | 'RESULT_TOO_LARGE'
  | 'SUBSCRIPTION_LIMIT_EXCEEDED'
  | 'TRANSACTION_ERROR'
  | 'LIVE_QUERY_KILLED'
  | 'LIVE_QUERY_NOT_FOUND'
  | 'CLOSED'
  /** The storage failed (any backend: IndexedDB, OPFS, memory, a custom KvStore or segment store); the message names the operation and the backend's error. Nothing of a failed write was saved. */
  | 'STORAGE_ERROR'
  /** The browser refused to store more data for this site; nothing of the write was saved. */
  | 'QUOTA_EXCEEDED'
  /**
   * The storage did not complete an operation within storageTimeoutMs. For a
   * write, its outcome is unknown: the storage may still complete it, and
   * then it is applied (memory follows disk, live queries see it). Until
   * that write's outcome is known, later writes wait for it (at most
   * storageTimeoutMs more) and then fail with this code without writing
   * anything; reads go on. See the engine README, "Storage failures".
   */
  | 'STORAGE_TIMEOUT'
  /** readFile / fileUrl named a file that no row this session may read holds (deleted, never committed, or another user's). */
  | 'FILE_NOT_FOUND'
  /** KILL QUERY named no running statement the caller may see (list them in system.queries). */
  | 'QUERY_NOT_FOUND'
  /** A statement went past one of the engine's SQL limits (length, nesting, list sizes…); the message names the option that raises it. */
  | 'LIMIT_EXCEEDED'
  /** The tab or worker hosting the engine went away mid-call; retry (the call may or may not have committed). */
  | 'LEADER_CHANGED'
  /** This build and the stored data (or another tab's build) disagree on the storage format. */
  | 'VERSION_MISMATCH'
  /** The statement was cancelled (an AbortSignal, KILL QUERY, or the database closing) before it finished. */
  | 'QUERY_CANCELLED'
  /** The statement ran longer than its time budget (statementTimeoutMs). */
  | 'STATEMENT_TIMEOUT'
  /** The database worker could not start (its script failed to load or run, CSP or the browser refused it, or it did not answer in time). */
  | 'WORKER_START_FAILED'
  /** A schema migration failed (the message names its version, the statement and the cause); it was not applied. */
  | 'MIGRATION_FAILED'
  /** A migration given disagrees with what was applied: its SQL changed since, or its version is below the highest applied but was never applied. */
  | 'MIGRATION_MISMATCH'
  /** importDatabase() into a database that already has namespaces or tables (import only fills an empty one). */
  | 'IMPORT_NOT_EMPTY'
  /** The file given to importDatabase() is not a kalamlite export, or it is damaged or truncated. Nothing was imported. */
  | 'IMPORT_INVALID_FILE'
  /** The export was written in a newer format than this build reads. Nothing was imported. */
  | 'IMPORT_VERSION_UNSUPPORTED'
  | 'INTERNAL';

export interface KalamErrorShape {
  code: ErrorCode;
  message: string;
  position?: number;
}

export class KalamError extends Error {
  readonly code: ErrorCode;
  /** Character offset in the SQL text where the problem is, when known. */
  readonly position?: number;

  constructor(code: ErrorCode, message: string, position?: number) {
    super(message);
    this.name = 'KalamError';
    this.code = code;
    if (position !== undefined) this.position = position;
  }

  toJSON(): KalamErrorShape {
    return this.position === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, position: this.position };
  }

  static from(shape: KalamErrorShape): KalamError {
    return new KalamError(shape.code, shape.message, shape.position);
  }
}

export function isKalamError(e: unknown): e is KalamError {
  return e instanceof KalamError;
}

/** Wraps anything thrown into a KalamError; unknown failures become INTERNAL. */
export function toKalamError(e: unknown): KalamError {
  let message: string;
  try {
    if (e instanceof KalamError) return e;
    message = e instanceof Error ? e.message : String(e);
  } catch {
    message = 'a thrown value that cannot be read'; // a hostile Proxy or object: instanceof or toString threw
  }
  return new KalamError('INTERNAL', `Internal error: ${message}. This is a bug in kalamlite; please report it with the statement that caused it.`);
}
