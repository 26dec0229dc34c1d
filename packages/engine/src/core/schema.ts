/**
 * Table definitions and the layout of a stored row: the schema types every
 * layer shares (storage encodes rows by them, the catalog persists them,
 * the planner binds names against them).
 *
 * A stored row is a frozen array: the table's columns in declaration order,
 * then `_seq` (bigint), then `_deleted` (boolean).
 */
import { seqMillis } from './ids';
import type { DataType, TableType, Value } from './types';

export type DefaultSpec =
  | { kind: 'literal'; value: Value }
  | { kind: 'function'; name: 'NOW' | 'SNOWFLAKE_ID' | 'UUID_V7' | 'ULID' | 'CURRENT_USER' };

export interface ColumnDef {
  /** Stable id: survives renames (schema evolution keys data by it later). */
  id: number;
  name: string;
  type: DataType;
  notNull: boolean;
  primaryKey: boolean;
  default?: DefaultSpec;
  /** DECIMAL's precision; EMBEDDING's dimension n. */
  precision?: number;
  scale?: number;
}

export type AccessLevel = 'public' | 'private' | 'restricted' | 'dba';

/**
 * A secondary index (CREATE [UNIQUE] INDEX): kept in the table's
 * definition, so DROP TABLE drops it and a rename keeps it (columns by id).
 */
/** An approximate nearest-neighbour index on an EMBEDDING column (by stable column id), by the metric its queries order by. */
export interface VectorIndexDef {
  columnId: number;
  metric: 'cosine' | 'l2' | 'dot';
  createdAt: number;
}

export interface IndexDef {
  /** Unique among the indexes of the table's namespace. */
  name: string;
  /** Key columns in order, by stable column id; `desc` as written (ASC|DESC). */
  columns: { id: number; desc: boolean }[];
  unique: boolean;
  createdAt: number;
}

export interface TableDef {
  id: number;
  namespace: string;
  name: string;
  type: Exclude<TableType, 'SYSTEM'>;
  /** User columns in declaration order; rows store values in this order, then _seq, _deleted. */
  columns: ColumnDef[];
  /** Index of the primary-key column in `columns`, or -1 (STREAM tables may have none). */
  pk: number;
  options: Record<string, string>;
  accessLevel?: AccessLevel;
  ttlSeconds?: number;
  version: number;
  createdAt: number;
  /** When this version was made (CREATE or the last ALTER); createdAt when absent. */
  updatedAt?: number;
  /** Secondary indexes, in creation order (absent: none). */
  indexes?: IndexDef[];
  /** Vector (HNSW) indexes, one per EMBEDDING column at most (absent: none; execute/vector-index-ddl.ts). */
  vectorIndexes?: VectorIndexDef[];
  /** Id the next added column gets; ids are never reused, so data keyed by column id stays unambiguous. */
  nextColumnId?: number;
}

/** An index's key columns by their current names, `DESC` added where written (system.indexes, DESCRIBE). */
export function indexColumnNames(t: TableDef, index: IndexDef): string[] {
  return index.columns.map((c) => {
    const name = t.columns.find((x) => x.id === c.id)?.name ?? `#${c.id}`;
    return c.desc ? `${name} DESC` : name;
  });
}

/** One stored row version: the table's columns, then `_seq`, then `_deleted`. Frozen. */
export type StoredRow = readonly Value[];

/** A rough size of a row in memory: 16 bytes a row, 8 a value, plus string and byte lengths (what hot-tier and cache budgets count). */
export function rowBytes(row: readonly Value[]): number {
  let n = 16;
  for (const v of row) n += typeof v === 'string' ? 16 + v.length * 2 : ArrayBuffer.isView(v) ? 16 + v.byteLength : 8;
  return n;
}

/** Slots of the system columns in a stored row. */
export const seqSlot = (t: TableDef) => t.columns.length;
export const deletedSlot = (t: TableDef) => t.columns.length + 1;

/** The partition a session reads and writes in this table: its user id, '' for SHARED tables. */
export const partitionOf = (table: TableDef, user: string) => (table.type === 'SHARED' ? '' : user);

/** Whether a STREAM row has outlived its table's TTL at `now` (never for other tables). */
export function isExpired(t: TableDef, row: StoredRow, now: number): boolean {
  if (t.type !== 'STREAM' || !t.ttlSeconds) return false;
  return seqMillis(row[seqSlot(t)] as bigint) < now - t.ttlSeconds * 1000;
}

/** One row version a write produces: `row === null` removes the key (STREAM hard delete, purges). */
export interface RowChange {
  table: TableDef;
  /** Partition: the user id for USER/STREAM tables, '' for SHARED. */
  user: string;
  pkHash: string;
  pk: Value;
  row: StoredRow | null;
  /** The version this replaces, if any. */
  before?: StoredRow;
}
