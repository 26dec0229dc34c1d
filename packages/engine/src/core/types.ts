/**
 * Values, rows and results as the engine hands them out. The wire mapping
 * (DIALECT.md): BIGINT ↔ bigint, TIMESTAMP ↔ ms since epoch (number),
 * DATE ↔ 'YYYY-MM-DD', JSON ↔ parsed value, BYTES ↔ Uint8Array,
 * EMBEDDING(n) ↔ Float32Array.
 */
import type { Decimal } from './decimal';
import type { Interval } from './interval';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * A value inside the engine. `Decimal` (core/decimal.ts) is DECIMAL/NUMERIC's
 * exact form; results hand it out as its text ('12.30'), so rows that cross
 * the API never hold one. `Float32Array` is EMBEDDING(n)'s form (n floats).
 * `Interval` (core/interval.ts) is INTERVAL's, handed out as its text
 * ('1 day 02:00:00') alike.
 */
export type Value = null | boolean | number | bigint | string | Uint8Array | Float32Array | Decimal | Interval | JsonValue;

/** A result row: frozen, keyed by output column name. */
export type Row = Readonly<Record<string, Value>>;

export type Role = 'user' | 'service' | 'dba' | 'system';

export const ROLES: readonly Role[] = ['user', 'service', 'dba', 'system'];

export type TableType = 'USER' | 'SHARED' | 'STREAM' | 'SYSTEM';

export type DataType =
  | 'BOOLEAN'
  | 'SMALLINT'
  | 'INT'
  | 'BIGINT'
  | 'FLOAT'
  | 'DOUBLE'
  | 'DECIMAL'
  | 'TEXT'
  | 'BYTES'
  | 'JSON'
  | 'TIMESTAMP'
  | 'DATETIME'
  | 'DATE'
  | 'TIME'
  | 'UUID'
  /** A file stored beside the row (execute/files.ts): the row holds its FileRef (core/file-ref.ts). */
  | 'FILE'
  /** EMBEDDING(n): a vector of n float32s (`ColumnDef.precision` holds n), a Float32Array. */
  | 'EMBEDDING'
  | 'INTERVAL';

/**
 * What a FILE column holds: the file's bytes live beside the row (the
 * engine's file store), the row holds this. `id` names the stored file;
 * `sha256` is the lowercase hex digest of its bytes.
 */
export interface FileRef {
  readonly id: string;
  readonly name: string;
  readonly size: number;
  readonly mime: string;
  readonly sha256: string;
}

/** A statement parameter: a value, or a Blob/File — stored as a file by a FILE column it is written to (execute/files.ts). */
export type ParamValue = Value | Blob;

export interface ColumnInfo {
  name: string;
  /** Declared type where known; 'UNKNOWN' for computed expressions of unknown type. */
  type: DataType | 'UNKNOWN';
}

/**
 * The result of one statement. `T` types its rows (`session.query<Todo>(…)`):
 * frozen objects keyed by output column name, `Row` unless given.
 */
export interface StatementResult<T = Row> {
  /** 'rows' for SELECT/SHOW/DESCRIBE, 'ok' for everything else. */
  kind: 'rows' | 'ok';
  columns: ColumnInfo[];
  rows: readonly T[];
  /** Rows returned, or rows affected by DML. */
  rowCount: number;
  /** KalamDB-style summary: 'Inserted 2 row(s)', 'Table app.notes created', … */
  message: string;
}

export interface SessionOptions {
  user: string;
  role?: Role;
  /** Namespace for unqualified table names; 'default' unless set. */
  namespace?: string;
  /** The client (tab, worker connection) this session serves: system.live's `owner` and live ids name it. */
  client?: string;
}

export type LiveCallback = (rows: readonly Row[]) => void;
export type LiveErrorCallback = (error: import('./errors').KalamError) => void;
