/**
 * What the planner reads from: a relation with columns and a way to produce
 * rows for one execution. Table sources confine USER and STREAM scans to
 * the executing session's partition here, by key prefix — no SQL shape can
 * reach another user's rows because no other partition is ever opened.
 */
import type { DataType, Value } from '../core/types';
import type { ExecContext, Tuple } from '../exec/context';
import type { TableDef } from '../core/schema';
import type { IndexDef } from '../core/schema';
import type { IndexBound } from '../storage/hot-index';
import type { KeyRange } from '../storage/key-range';

/** A read through a secondary index (plan/index-plan.ts): its spans in index order, read forwards or reversed. */
export interface IndexScanRequest {
  index: IndexDef;
  spans: readonly { lower?: IndexBound; upper?: IndexBound }[];
  /** Reversed: spans last first, each from its end, rows of equal values still in key order. */
  reverse: boolean;
  /** A join's probe (plan/index-join.ts), not the plan's scan of the table: never served by rows prepared for that scan. */
  probe?: boolean;
}

export interface SourceColumn {
  name: string;
  type: DataType | 'UNKNOWN';
  /** `_seq`/`_deleted`: readable by name, not expanded by `*`. */
  hidden: boolean;
}

export interface ScanOptions {
  /** Keep soft-deleted rows (the WHERE clause names `_deleted`). */
  includeDeleted: boolean;
  /** Only rows whose primary key (`_seq` without one) is in this range: a table source reads no other (others may still come). */
  range?: KeyRange;
  /** Rows in descending key order (a table source; others ignore it). */
  descending?: boolean;
  /**
   * Ascending reads of a table source: a run of cold rows no other tier or
   * segment has a version of comes as one storage/partition-view.ts ColdRun
   * (tombstones included), typed as a row; others ignore it. Only a
   * columnar aggregate asks (plan/columnar.ts).
   */
  runs?: boolean;
}

export interface RelationSource {
  /** Qualified name, for messages. */
  name: string;
  columns: readonly SourceColumn[];
  /** Set for user tables (plan invalidation, live queries); undefined for system tables. */
  table?: TableDef;
  /** Rows of one execution; a user table's come in primary-key order (ascending unless `opts.descending`). */
  rows(ctx: ExecContext, opts: ScanOptions): Iterable<Tuple>;
  /** Point lookup by primary key within the session's partition. */
  lookup?(ctx: ExecContext, pk: Value, opts: ScanOptions): Tuple | undefined;
  /**
   * Rows a full read of the session's partition may meet, from counts alone
   * (no row read; an upper bound). The join planner orders joins and picks
   * hash-join build sides by it. Undefined: not known (derived tables, system tables).
   */
  estimate?(ctx: ExecContext): number;
  /**
   * The session partition's rows in `req`'s spans, in index order (staged
   * rows of a transaction laid over them), or undefined when this execution
   * cannot read them through the index (its partition has cold segments
   * not prepared through it): the caller scans instead.
   */
  indexRows?(ctx: ExecContext, req: IndexScanRequest): Iterable<Tuple> | undefined;
  /** Slot of the primary key in the tuple, when there is one. */
  pkSlot?: number;
  /**
   * Throws when the session may not read this relation. Statements call it
   * once per execution for every relation they name, before reading any
   * row, so a read that is never pulled (LIMIT 0, `false AND EXISTS (…)`)
   * is refused as well as one that is.
   */
  authorize?(ctx: ExecContext): void;
}

export interface SourceResolver {
  /** Resolves a (possibly unqualified) table name to a source, or throws TABLE_NOT_FOUND. */
  resolve(namespace: string | undefined, name: string, defaultNamespace: string): RelationSource;
}
