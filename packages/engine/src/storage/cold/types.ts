/**
 * The cold tier's contract: immutable Arrow IPC segments of one table
 * partition, listed in a manifest with KalamDB's segment fields, read
 * through a bounded cache.
 *
 * A segment holds the latest version per primary key (tombstones included)
 * of one partition at flush time, sorted by key and cut into row groups
 * (format 2), each stored and read on its own. Columns are stored under their stable
 * column id (field name `c<id>`), so a segment written under an older
 * schema version reads under the current one: an added column reads as
 * NULL, a dropped one is gone, a renamed one keeps its values.
 */
import { KalamError } from '../../core/errors';
import type { ColumnDef, TableDef } from '../../core/schema';
import type { Value } from '../../core/types';
import type { KvWrite } from '../kv';

/**
 * KalamDB's segment statuses (`tombstone` is not used: segments are deleted
 * with their table), and `obsolete`: a segment a compaction replaced, no
 * longer read, whose bytes are deleted once no execution prepared before
 * the replacement is in flight (open deletes those a crash left).
 */
export type SegmentStatus = 'in_progress' | 'committed' | 'obsolete';

/**
 * A segment's level (see jobs/compact.ts). 0: a flush output (segments of a
 * partition at level 0 may overlap in key range); 1: part of the
 * partition's one sorted run (level 1 segments never overlap each other,
 * and hold only versions older than any level 0 segment's of the same key).
 */
export type SegmentLevel = 0 | 1;

/** min/max over non-null values and the count of nulls, per column. */
export interface ColumnStats {
  min: Value;
  max: Value;
  null_count: number;
}

/**
 * Format 2: per-row-group metadata of a segment, column-wise (one array
 * element per row group, in key order) so the manifest stays compact.
 */
export interface RowGroupsMeta {
  /** Rows in each group. */
  rows: number[];
  /** Where each group's bytes start, counted from the start of the segment's data (a file store adds its header). */
  offsets: number[];
  /** Bytes of each group (an Arrow IPC stream of one record batch). */
  bytes: number[];
  min_seq: bigint[];
  max_seq: bigint[];
  /** The row identity (primary key, or `_seq` without one) of each group's first and last row: exact, the groups' key order. */
  key_min: Value[];
  key_max: Value[];
  /**
   * Per column id (as a string): each group's min, max and null count. A
   * null min or max is not known (an unordered type, or text longer than
   * STATS_TEXT_MAX, whose min is kept as a prefix and whose max is dropped).
   */
  columns: Record<string, { min: Value[]; max: Value[]; nulls: number[] }>;
}

/** The segment format an entry describes: 1 = one Arrow IPC blob, unsorted (rewritten to 2 at open); 2 = sorted row groups. */
export const SEGMENT_FORMAT = 2;

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
  /** Absent: format 1. */
  format?: 2;
  /** Format 2: the row groups (rows sorted by key, cut every rowGroupRows rows). */
  groups?: RowGroupsMeta;
  /** Absent: 0 (a flush output, or written before compaction existed). */
  level?: SegmentLevel;
  /** Tombstones the segment holds (absent: not known, written before this was counted). */
  tombstones?: number;
  /** The oldest tombstone's `_seq` (its DELETE's time), null when there is none; absent: not known. */
  tombstone_min_seq?: bigint | null;
  /** Per secondary index, its record of the segment's live rows (storage/cold/index-record.ts); absent: none written. */
  index_records?: IndexRecordMeta[];
  /** Locations after the row groups holding index record pages (reserved while in_progress: removed with the segment). */
  index_pages?: number;
  /** The row pages (small copies of each group's rows for point reads); absent: none written (older segments, or rowPageRows 0). */
  row_pages?: RowPagesMeta;
}

/**
 * A segment's row pages: each row group's rows again (a group of at least
 * MIN_PAGES_PER_GROUP pages: pagesOf), cut every `rows` rows into pages
 * (each an Arrow IPC stream of one record batch, as a group), stored at
 * locations `at` … `at + count - 1` after the index record pages, then
 * one page directory at location `at + count` (`dir_offset`,
 * `dir_bytes`): every page's first key, offset and bytes, and each group's
 * first page (storage/cold/row-pages.ts). A point or narrow key read of an uncached
 * group fetches the directory (cached) and the pages holding its keys, not
 * the group. While in_progress, `count` is reserved and `at` not known.
 */
export interface RowPagesMeta {
  rows: number;
  count: number;
  at: number;
  dir_offset: number;
  dir_bytes: number;
}

/**
 * A segment's record of one secondary index: its live rows' (indexed
 * values, key, `_seq`) sorted in index order, stored as pages (row groups
 * of those columns) at locations after the segment's row groups.
 */
export interface IndexRecordMeta {
  name: string;
  /** The index's columns (id, direction, type) when written: a record of another definition is not read. */
  columns: { id: number; desc: boolean; type: string }[];
  entries: number;
  /** Per page: its location in the segment's store, offset, bytes, entries, first and last tuple. */
  at: number[];
  offsets: number[];
  bytes: number[];
  rows: number[];
  first: Value[][];
  last: Value[][];
}

export const formatOf = (m: Pick<SegmentMeta, 'format'>): 1 | 2 => (m.format === 2 ? 2 : 1);

/** Where a segment's bytes live: (table id, user id, segment id). */
export interface SegmentKey {
  tableId: number;
  user: string;
  segmentId: string;
}

/** A segment's bytes as a store removes them: its key, and its layout (format 1: one blob; 2: `groups` row groups). */
export interface SegmentRef extends SegmentKey {
  format: 1 | 2;
  groups: number;
}

/** Where one row group's bytes are. */
export interface GroupLocation {
  index: number;
  offset: number;
  bytes: number;
}

/** Where row group `index` of segment `m` is (a format 2 segment: format 1 ones are rewritten at open). */
export const groupLocation = (m: SegmentMeta, index: number): GroupLocation => ({ index, offset: m.groups!.offsets[index], bytes: m.groups!.bytes[index] });

/** Row group `index` of segment `m`, listed in the manifest, was not in the segment store. */
export const missingGroup = (m: SegmentMeta, index: number, t: Pick<TableDef, 'namespace' | 'name'>): KalamError =>
  new KalamError('STORAGE_ERROR', `Row group ${index} of segment ${m.id} of table '${t.namespace}.${t.name}' is listed in the manifest but its data is missing: the storage was changed outside kalamlite`);

export const levelOf = (m: Pick<SegmentMeta, 'level'>): SegmentLevel => (m.level === 1 ? 1 : 0);

export const segmentKeyOf = (m: SegmentMeta): SegmentKey => ({ tableId: m.table_id, user: m.user_id, segmentId: m.id });
export const segmentRefOf = (m: SegmentMeta): SegmentRef => ({
  ...segmentKeyOf(m),
  format: formatOf(m),
  // Row pages come after the index pages actually written (at most those reserved) and end with their directory.
  groups: (m.groups?.rows.length ?? 0) + (m.index_pages ?? 0) + (m.row_pages ? m.row_pages.count + 1 : 0),
});

/** A group gets row pages only when it is at least this many pages long (a read of fewer pages than this would fetch as much as the group). */
export const MIN_PAGES_PER_GROUP = 4;

/** Row pages a group of `rows` rows gets, `per` rows a page (0: none, it is too short). */
export const pagesOf = (rows: number, per: number): number => (per > 0 && rows >= per * MIN_PAGES_PER_GROUP ? Math.ceil(rows / per) : 0);

/**
 * Segment byte storage. Format 2 segments are row groups, each read on its
 * own. A store inside the KV store (IndexedDB, memory) gives `write`: the
 * KV writes storing or deleting a segment's groups, committed in the same
 * storage commit as the manifest entry that refers to them. A store outside
 * it (OPFS files) gives `put` and `delete`, each durable when it resolves:
 * bytes are put before the commit that refers to them and deleted after the
 * commit that stops referring to them; `list` names every segment it holds,
 * so open can delete those no committed entry refers to (a crash between
 * the put and the commit).
 */
export interface SegmentStore {
  /** The bytes of some row groups of one segment, in the order asked (undefined: missing). */
  readGroups(key: SegmentKey, groups: readonly GroupLocation[]): Promise<(Uint8Array | undefined)[]>;
  /** Format 1: a segment's one blob (read once, at open, to rewrite it as format 2). */
  get(key: SegmentKey): Promise<Uint8Array | undefined>;
  /** The KV writes storing a segment's row groups (`groups`, the first at location `first`, 0 by default), or removing `ref`'s bytes. */
  write?(key: SegmentKey, groups: readonly Uint8Array[], first?: number): KvWrite[];
  remove?(ref: SegmentRef): KvWrite[];
  put?(key: SegmentKey, groups: readonly Uint8Array[]): Promise<void>;
  /** Deleting a missing segment is not an error. */
  delete?(refs: readonly SegmentRef[]): Promise<void>;
  list?(): Promise<SegmentKey[]>;
  close?(): Promise<void> | void;
}

/**
 * One row group decoded for reading: its rows' keys, `_seq` and `_deleted`,
 * and each column's values materialized on first use (for a column
 * definition: by column id, converted to its current type). Independent of
 * the table's version: rows are laid out per definition when produced.
 * Lives in the row-group cache; loaded with the codec (segment.ts).
 */
export interface RowGroupData {
  readonly rows: number;
  /** The row identity of each row (primary key, or `_seq`), ascending. */
  readonly keys: ArrayLike<Value>;
  readonly seqs: ArrayLike<bigint>;
  /** 1 where the row is a tombstone. */
  readonly deleted: Uint8Array;
  /**
   * The values of column `c` in row order: a view of the Arrow buffer for a
   * number column without nulls, else materialized once per column id and
   * type.
   */
  column(c: ColumnDef): ArrayLike<Value>;
  /**
   * Row `i`'s value of column `c`, decoded alone (from the column's values
   * when they are materialized already), holding nothing: for a read of a
   * few rows of the group (a point or narrow key range).
   */
  reader(c: ColumnDef): (i: number) => Value;
  /** Rough bytes held now (grows as columns are materialized, falls when it shrinks): what the cache is bounded by. */
  readonly bytes: number;
  /** Whether `column(c)` and `reader(c)` can still be read (absent: always): false for a column a shrunk group gave up. */
  covers?(c: ColumnDef): boolean;
  /**
   * Keeps only what scans read of it (its keys, `_seq`, `_deleted` and
   * the columns they materialized), dropping the rest; false when it did
   * not (never scanned, or shrunk already). The cache asks before it
   * evicts the group (cache.ts).
   */
  shrink?(): boolean;
}

/** Which of a table's columns an execution reads besides the key: column ids, or all. */
export type ColumnSelection = ReadonlySet<number> | 'all';

/** Whether a loaded group (or page) still holds every column of `t` a read of `columns` needs (a shrunk one may not). */
export function coversColumns(data: RowGroupData, t: TableDef, columns: ColumnSelection): boolean {
  if (!data.covers) return true;
  for (let slot = 0; slot < t.columns.length; slot++) {
    const c = t.columns[slot];
    if ((slot === t.pk || columns === 'all' || columns.has(c.id)) && !data.covers(c)) return false;
  }
  return true;
}

/** A row group prepared for one execution: its data and the column values it reads, by slot of the table version it was prepared for (null: not read). */
export interface PreparedGroup {
  readonly index: number;
  readonly data: RowGroupData;
  readonly columns: readonly (ArrayLike<Value> | null)[];
  /**
   * Instead of `columns` (then all null), when the execution reads only a
   * few rows of the group: each value decoded as it is read (RowGroupData.reader).
   */
  readonly readers?: readonly (((i: number) => Value) | null)[];
}

/** One segment as an execution reads it: its prepared groups in key order (the others were ruled out for it). */
export interface PreparedSegment {
  readonly meta: SegmentMeta;
  readonly groups: readonly PreparedGroup[];
  /** Instead of `groups` (then empty): groups loaded as an ordered read reaches them. */
  readonly lazy?: LazyGroups;
}

/**
 * A segment's row groups for a read in key order that loads each group
 * when the merge reaches it and unpins it once past it (ColdTier.prepare
 * with `lazy`): an `ORDER BY pk LIMIT n` reads only the groups it needs, and
 * a scan holds a few groups per segment, not all it reads.
 */
export interface LazyGroups {
  /** The group indexes the read may need, in key order. */
  readonly indexes: readonly number[];
  /** Slot k's group once loaded (undefined before, and after `pass`). */
  at(k: number): PreparedGroup | undefined;
  /** Starts loading slot k (with a few more in the read's direction as it goes on); done at once when cached. */
  want(k: number, step: 1 | -1): void;
  /** The read is past slot k: its pin goes. */
  pass(k: number): void;
}

/** Thrown by a read that reached a lazily prepared group it could not wait for (a consumer that skips pauses): the statement is run again, prepared in full. */
export const NOT_LOADED = new Error('A row group was read before it was loaded');

/** What one execution's lazily prepared segments share: loads in flight, groups pinned, whether it ended. */
export interface LazyLoads {
  /** Bounded by the groups being loaded (a few per segment read); each removes itself when it settles. */
  readonly loads: Set<Promise<void>>;
  /** Cache keys pinned for the execution and not passed yet; unpinned at release. */
  readonly held: Set<string>;
  closed: boolean;
}

/** The cold data one execution reads in one partition, laid out for `table` (one version), newest segment first. */
export interface PreparedPartition {
  readonly table: TableDef | undefined;
  readonly segments: readonly PreparedSegment[];
}

/** What an execution was prepared with: the cold data per (table, partition). */
export interface ColdReads {
  partition(tableId: number, user: string): PreparedPartition | undefined;
  /** Lazily prepared groups being loaded: a driver that can wait awaits this at a pause (exec/pace.ts drain). */
  loading?(): Promise<unknown> | undefined;
  /** The cold tier's count of row groups aggregates folded from their columns (system.stats; plan/columnar.ts counts). */
  readonly tier?: { columnarGroups: number };
}
