/**
 * The cold tier's contract: immutable Arrow IPC segments of one table
 * partition, listed in a manifest with KalamDB's segment fields, read
 * through a bounded cache.
 *
 * A segment holds the latest version per primary key (tombstones included)
 * of one partition at flush time. Columns are stored under their stable
 * column id (field name `c<id>`), so a segment written under an older
 * schema version reads under the current one: an added column reads as
 * NULL, a dropped one is gone, a renamed one keeps its values.
 */
import type { Value } from '../../core/types';
import type { StoredRow } from '../../core/schema';
import type { KvWrite } from '../kv';

/** KalamDB's segment statuses; `tombstone` is not used (segments are deleted with their table). */
export type SegmentStatus = 'in_progress' | 'committed';

/** min/max over non-null values and the count of nulls, per column. */
export interface ColumnStats {
  min: Value;
  max: Value;
  null_count: number;
}

/** One manifest entry (KalamDB's SegmentMetadata). Stored in the `system` store. */
export interface SegmentMeta {
  id: string;
  table_id: number;
  /** The partition: the user id for USER tables, '' for SHARED. */
  user_id: string;
  min_seq: bigint;
  max_seq: bigint;
  row_count: number;
  size_bytes: number;
  created_at: number;
  /** Keyed by column id (as a string), plus `_seq`; values are the column's type. */
  column_stats: Record<string, ColumnStats>;
  /** The table version the segment was written under. */
  schema_version: number;
  status: SegmentStatus;
  /** Set in the same commit that removed the flushed rows from the hot tier (recovery skips those segments). */
  hot_purged: boolean;
}

/** Where a segment's bytes live: (table id, user id, segment id). */
export interface SegmentKey {
  tableId: number;
  user: string;
  segmentId: string;
}

/**
 * Segment byte storage. A store inside the KV store (IndexedDB, memory)
 * gives `write`: the KV write that stores or deletes a segment's bytes,
 * committed in the same storage commit as the manifest entry that refers to
 * them. A store outside it (files) gives `put` and `delete`, each durable
 * when it resolves: bytes are put before the commit that refers to them and
 * deleted after the commit that stops referring to them.
 */
export interface SegmentStore {
  get(key: SegmentKey): Promise<Uint8Array | undefined>;
  /** The KV write storing `bytes` under `key`, or deleting `key` when `bytes` is undefined. */
  write?(key: SegmentKey, bytes?: Uint8Array): KvWrite;
  put?(key: SegmentKey, bytes: Uint8Array): Promise<void>;
  /** Deleting a missing key is not an error. */
  delete?(keys: readonly SegmentKey[]): Promise<void>;
}

/** A segment decoded for the current table definition: rows in the hot tier's layout. */
export interface DecodedSegment {
  meta: SegmentMeta;
  /** The table version the rows are laid out for. */
  tableVersion: number;
  /** Frozen rows: current columns in order, then `_seq`, `_deleted`. */
  rows: readonly StoredRow[];
  /** pk hash → row (point lookups and shadowing). */
  index: ReadonlyMap<string, StoredRow>;
  /** Rough decoded size, what the segment cache is bounded by. */
  bytes: number;
}

/** The segments one execution reads for one partition, newest first. */
export interface PreparedPartition {
  segments: readonly DecodedSegment[];
}

/** What an execution was prepared with: the cold segments per (table, partition). */
export interface ColdReads {
  partition(tableId: number, user: string): PreparedPartition | undefined;
}
