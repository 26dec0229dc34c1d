/**
 * The cold tier as the engine sees it: the manifest, the segment store and
 * the row-group cache, and `prepare`, the async step that loads the row
 * groups one execution needs — and materializes the columns it reads —
 * before it runs synchronously.
 */
import type { ColumnDef, TableDef } from '../../core/schema';
import { KalamError } from '../../core/errors';
import { lazyModule } from '../../core/lazy-module';
import type { Value } from '../../core/types';
import { compareValues } from '../../core/values';
import { lowerIndex, upperIndex, type KeyRange } from '../key-range';
import { RowGroupCache } from './cache';
import { Manifest } from './manifest';
import { selectRowGroups, type ScanBounds } from './prune';
import { loadSegmentCodec, type SegmentCodec } from './segment-loader';
import { coversColumns, groupLocation, missingGroup, NOT_LOADED, segmentKeyOf, type ColumnSelection, type LazyLoads, type PreparedGroup, type PreparedPartition, type PreparedSegment, type RowGroupData, type SegmentMeta, type SegmentStore } from './types';
import { COLD_DEFAULTS } from '../../core/defaults';

export type { ColumnSelection } from './types';

/**
 * Defaults. rowGroupRows 2048 and maxSegmentRows 65,536: see
 * docs/ARCHITECTURE.md (storage) for the measurements behind them;
 * compactL0Segments 4: see jobs/compact.ts.
 */
export { COLD_DEFAULTS };

export interface ColdOptions {
  /** Rows per row group, at most. */
  rowGroupRows: number;
  /** Rows per row page (a group's rows again, in small pages for point reads: row-pages.ts); 0: segments written get none. */
  rowPageRows: number;
  /** Rows per segment, at most (a flush of more writes several segments). */
  maxSegmentRows: number;
  /** Level 0 segments a partition may have before a flush queues its compaction (0: never automatically). */
  compactL0Segments: number;
}

/** What compactions did since open (system.stats). */
export interface CompactionCounters {
  /** Partition compactions that changed the manifest. */
  runs: number;
  /** Segments merged (replaced by new ones). */
  segmentsMerged: number;
  /** Segments written by merges. */
  segmentsWritten: number;
  /** Level 0 segments moved to level 1 without being rewritten. */
  segmentsMoved: number;
  /** Rows read from merged segments. */
  rowsRead: number;
  /** Versions dropped because a newer version of the same key was among the inputs. */
  rowsShadowed: number;
  /** Tombstones dropped because they were older than the table's DELETED_RETENTION_HOURS. */
  tombstonesPurged: number;
  /** Row groups a compaction read that were not in the cache (decoded outside it). */
  groupLoads: number;
  /** Merges run in the compaction helper worker (jobs/compaction-worker.ts), not in the engine's thread. */
  offloaded: number;
  /** Output segments written `in_progress` by compactions still running (not yet swapped in or removed). */
  readonly outputs: Set<string>;
}

export const NOTHING: PreparedPartition = Object.freeze({ table: undefined, segments: Object.freeze([]) as readonly PreparedSegment[] });

/** The stats key of a table's primary key column, when it has one. */
export const pkStatsKey = (t: TableDef): string | undefined => (t.pk >= 0 ? String(t.columns[t.pk].id) : undefined);

const keyColumn = (t: TableDef): ColumnDef | undefined => (t.pk >= 0 ? t.columns[t.pk] : undefined);

/** A prepared partition and the columns it was prepared with (to lay it out again for a newer table version). */
interface Prepared extends PreparedPartition {
  readonly selection?: ColumnSelection;
}

/** A lazily prepared read loads segments of more selected groups than this group by group (see LazyGroups). */
const LAZY_MIN_GROUPS = 2;
/** Reads of row pages (row-pages.ts), loaded by the first read of a segment that has them. */
const loadRowPages = lazyModule('cold row page reads', () => import('./row-pages'));
/** The lazy reads of segments (lazy-groups.ts), loaded by the first read that prepares one. */
const loadLazyGroups = lazyModule('the lazy reads of cold row groups', () => import('./lazy-groups'));

/** A prepared group reads values one by one when its scans reach at most 1/FEW_ROWS_FRACTION of its rows. */
const FEW_ROWS_FRACTION = 8;

/**
 * How many rows of a group `scans` can reach through primary-key bounds
 * alone (`pkKey`: the key column's id as text): the IN/= values, or the rows
 * between a lower and an upper bound; the group's row count when a scan
 * has neither.
 */
export function rowsInKeyBounds(data: RowGroupData, scans: readonly ScanBounds[], pkKey: string): number {
  let total = 0;
  const keyAt = (i: number) => data.keys[i];
  for (const bounds of scans) {
    if (!bounds) return data.rows;
    let points: number | undefined;
    const range: KeyRange = {};
    for (const b of bounds) {
      if (!b.isPk || b.key !== pkKey) continue;
      if (b.op === '=' || b.op === 'in') points = Math.min(points ?? Infinity, b.values.length);
      else if (b.op === '>' || b.op === '>=') {
        if (!range.lower || compareValues(b.values[0], range.lower.value) > 0) range.lower = { value: b.values[0], inclusive: b.op === '>=' };
      } else if (!range.upper || compareValues(b.values[0], range.upper.value) < 0) range.upper = { value: b.values[0], inclusive: b.op === '<=' };
    }
    if (points !== undefined) total += points;
    else if (range.lower && range.upper) total += Math.max(0, upperIndex(keyAt, data.rows, range) - lowerIndex(keyAt, data.rows, range));
    else return data.rows;
  }
  return total;
}

export class ColdTier {
  /** Segments executions read at least one row group of: what pruning saves. */
  private segmentsRead = 0;
  private groupsRead = 0;
  private groupsSkipped = 0;
  /** Prepared row groups read value by value (a point or narrow key range) instead of materializing their columns. */
  private narrowGroupReads = 0;
  /** Row groups fetched from the segment store and decoded. */
  private loads = 0;
  /** Row pages read instead of their group, fetched (and decoded) row pages, and page directories fetched (row-pages.ts counts). */
  readonly pages = { read: 0, loads: 0, directoryLoads: 0 };
  /** Row groups aggregates folded from their column values without building rows, counted once per read (exec/columnar-aggregate.ts). */
  columnarGroups = 0;
  /** The segment codec once a read loaded it (for its schema cache's size in system.stats). */
  codec?: SegmentCodec;
  /** Loads in flight, so concurrent executions share one; bounded by groups being loaded, emptied as they settle. */
  private readonly inflight = new Map<string, Promise<RowGroupData>>();

  /**
   * Executions between prepare and the end of their run, by the manifest
   * generation they were prepared at. A flush waits for those prepared
   * before its segment was committed before it removes hot rows, so none of
   * them misses a row. Bounded by executions in flight.
   */
  private readonly pins = new Map<number, number>();
  /** Flushes waiting for older pins to go; bounded by flushes in flight. */
  private waiters: { before: number; resolve: () => void }[] = [];
  readonly compaction: CompactionCounters = {
    runs: 0, segmentsMerged: 0, segmentsWritten: 0, segmentsMoved: 0, rowsRead: 0, rowsShadowed: 0, tombstonesPurged: 0, groupLoads: 0, offloaded: 0, outputs: new Set(),
  };

  constructor(
    readonly manifest: Manifest,
    readonly store: SegmentStore,
    readonly cache: RowGroupCache,
    readonly options: ColdOptions = COLD_DEFAULTS,
  ) {}

  /**
   * Starts loading, while the database opens, what a first cold read needs
   * when there are segments: the segment codec (apache-arrow) and, when a
   * segment has pages, the row page reads. Nothing waits for them: they
   * load while the open reads the hot rows, so a first cold read no longer
   * fetches and compiles them first (in Chromium over 100,000 rows, the
   * first lookup after an open went from 45-55 ms to 24-50 ms). A database
   * with no segment loads neither.
   */
  preload(): void {
    if (this.manifest.size === 0) return;
    void loadSegmentCodec().catch(() => undefined);
    if (this.manifest.all().some((m) => m.row_pages)) void loadRowPages().catch(() => undefined);
  }

  /** Marks an execution in flight from now (before it reads the manifest); returns its token for `unpin`. */
  pin(): number {
    const g = this.manifest.generation;
    this.pins.set(g, (this.pins.get(g) ?? 0) + 1);
    return g;
  }

  unpin(token: number): void {
    const n = (this.pins.get(token) ?? 0) - 1;
    if (n > 0) this.pins.set(token, n);
    else this.pins.delete(token);
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (this.isPinnedBefore(w.before)) still.push(w);
      else w.resolve();
    }
    this.waiters = still;
  }

  /** Executions between prepare and release (live refreshes included). */
  get pinCount(): number {
    let n = 0;
    for (const c of this.pins.values()) n += c;
    return n;
  }

  /** Resolves once no execution prepared at a generation below `before` is in flight. */
  drain(before: number): Promise<void> {
    if (!this.isPinnedBefore(before)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ before, resolve }));
  }

  private isPinnedBefore(before: number): boolean {
    for (const g of this.pins.keys()) if (g < before) return true;
    return false;
  }

  /** Whether a key may have a version in some row group of the partition (by the groups' key ranges). */
  mayHold(t: TableDef, user: string, pk: Value): boolean {
    for (const m of this.manifest.segments(t.id, user)) {
      const g = m.groups;
      if (!g) return true;
      for (let i = 0; i < g.rows.length; i++) {
        try {
          if (compareValues(pk, g.key_min[i]) >= 0 && compareValues(pk, g.key_max[i]) <= 0) return true;
        } catch {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Loads the row groups one scan set of one partition needs (pinned in the
   * cache; their cache keys are added to `pinned` for the caller to unpin)
   * and materializes the columns it reads. Partitions with no segments cost
   * nothing. With `only`, just those of the partition's segments are read,
   * each for its own scans (an index read resolving each candidate in the
   * segment whose record holds it, execute/index-cold.ts).
   */
  async prepare(
    t: TableDef,
    user: string,
    scans: readonly ScanBounds[],
    columns: ColumnSelection,
    pinned: string[],
    lazy?: LazyLoads,
    only?: ReadonlyMap<SegmentMeta, readonly ScanBounds[]>,
  ): Promise<PreparedPartition> {
    const pkKey = pkStatsKey(t);
    const all = only ? this.manifest.segments(t.id, user).filter((m) => only.has(m)) : this.manifest.segments(t.id, user);
    if (all.length === 0) return NOTHING;
    const scansOf = (m: SegmentMeta) => only?.get(m) ?? scans;
    let selection = only ? undefined : selectRowGroups(all, scans, pkKey);
    if (!selection) {
      selection = { groups: new Map(), skipped: 0 };
      for (const m of all) {
        const one = selectRowGroups([m], scansOf(m), pkKey);
        selection.skipped += one.skipped;
        for (const [meta, indexes] of one.groups) selection.groups.set(meta, indexes);
      }
    }
    this.groupsSkipped += selection.skipped;
    if (selection.groups.size === 0) return NOTHING;
    const pages = t.pk >= 0 && [...selection.groups.keys()].some((m) => m.row_pages) ? await loadRowPages() : undefined;
    const loaded = await Promise.all(
      [...selection.groups].map(async ([meta, indexes]) => {
        // Keys named one by one (= / IN, a few) read the row pages holding them, however many groups that spans: not lazily.
        const paged = pages?.pointsOnly(scansOf(meta), pkKey!) ?? false;
        return {
          meta,
          indexes,
          data: lazy && !(paged && meta.row_pages) && indexes.length > LAZY_MIN_GROUPS ? undefined
            : pages && meta.row_pages ? await pages.loadGroups(this, meta, indexes, t, scansOf(meta), pinned, columns)
            : await this.load(meta, indexes, t, pinned, columns),
        };
      }),
    );
    const segments: PreparedSegment[] = [];
    const lazyGroups = loaded.some((l) => !l.data) ? (await loadLazyGroups()).lazyGroups : undefined;
    // Newest first (the manifest lists a partition's segments oldest first).
    for (let s = loaded.length - 1; s >= 0; s--) {
      const { meta, data, indexes } = loaded[s];
      if (!data) {
        segments.push({ meta, groups: [], lazy: lazyGroups!(this, t, meta, indexes, columns, scansOf(meta), lazy!) });
        continue;
      }
      this.segmentsRead++;
      this.groupsRead += indexes.length;
      segments.push({ meta, groups: indexes.map((index, i) => this.shape(t, index, data[i], columns, scansOf(meta))) });
    }
    for (const key of pinned) this.cache.resize(key);
    return { table: t, segments, selection: columns } as Prepared;
  }

  /** Counts reads of lazily prepared groups as they load (lazy-groups.ts). */
  countRead(segments: number, groups: number): void {
    this.segmentsRead += segments;
    this.groupsRead += groups;
  }

  /** Lays a prepared partition out for a newer version of its table (same row groups, columns by id). */
  reshape(p: PreparedPartition, t: TableDef): PreparedPartition {
    if (p.segments.some((s) => s.lazy)) throw NOT_LOADED;
    const selection = (p as Prepared).selection ?? 'all';
    return {
      table: t,
      segments: p.segments.map((s) => ({ meta: s.meta, groups: s.groups.map((g) => this.shape(t, g.index, g.data, selection)) })),
      selection,
    } as Prepared;
  }

  /**
   * Every row group of a partition, laid out with all columns, if all are
   * in the cache (a read that was not prepared: it can only be served from
   * memory); NOTHING when the partition has none; undefined otherwise.
   */
  resident(t: TableDef, user: string): PreparedPartition | undefined {
    const all = this.manifest.segments(t.id, user);
    if (all.length === 0) return NOTHING;
    const segments: PreparedSegment[] = [];
    for (let s = all.length - 1; s >= 0; s--) {
      const meta = all[s];
      const n = meta.groups?.rows.length ?? 0;
      const groups: PreparedGroup[] = [];
      for (let g = 0; g < n; g++) {
        const data = this.cache.peek(RowGroupCache.key(meta.id, g));
        if (!data || !coversColumns(data, t, 'all')) return undefined;
        groups.push(this.shape(t, g, data, 'all'));
      }
      segments.push({ meta, groups });
    }
    return { table: t, segments, selection: 'all' } as Prepared;
  }

  /** A loaded group laid out for one execution (its columns, or readers for a few rows). */
  shape(t: TableDef, index: number, data: RowGroupData, columns: ColumnSelection, scans?: readonly ScanBounds[]): PreparedGroup {
    const reads = (c: ColumnDef, slot: number) => slot === t.pk || columns === 'all' || columns.has(c.id);
    if (scans && t.pk >= 0 && rowsInKeyBounds(data, scans, pkStatsKey(t)!) * FEW_ROWS_FRACTION <= data.rows) {
      // A point or narrow key range: its few rows' values are decoded as read, the group's columns are not.
      this.narrowGroupReads++;
      return { index, data, columns: t.columns.map(() => null), readers: t.columns.map((c, slot) => (reads(c, slot) ? data.reader(c) : null)) };
    }
    return { index, data, columns: t.columns.map((c, slot) => (reads(c, slot) ? data.column(c) : null)) };
  }

  /**
   * Row groups `indexes` of one segment for a read of `columns`: from the
   * cache (a shrunk group that gave up one of them is read again), or
   * fetched and decoded (pinned, keys added to `pinned`).
   */
  async load(meta: SegmentMeta, indexes: readonly number[], t: TableDef, pinned: string[], columns: ColumnSelection = 'all'): Promise<RowGroupData[]> {
    const usable = (data: RowGroupData) => coversColumns(data, t, columns);
    const out = new Array<RowGroupData>(indexes.length);
    const missing: number[] = [];
    const waits: Promise<void>[] = [];
    for (let i = 0; i < indexes.length; i++) {
      const key = RowGroupCache.key(meta.id, indexes[i]);
      const hit = this.cache.getIf(key, true, usable);
      if (hit) {
        pinned.push(key);
        out[i] = hit;
        continue;
      }
      const pending = this.inflight.get(key);
      if (pending) {
        const at = i;
        waits.push(pending.then((data) => {
          out[at] = data;
          this.pinLoaded(key, meta, data, pinned);
        }));
        continue;
      }
      missing.push(i);
    }
    if (missing.length > 0) {
      const fetch = this.fetch(meta, missing.map((i) => indexes[i]), t);
      missing.forEach((i, k) => {
        const key = RowGroupCache.key(meta.id, indexes[i]);
        const one = fetch.then((all) => all[k]);
        this.inflight.set(key, one);
        void one.catch(() => undefined).finally(() => this.inflight.delete(key));
        waits.push(one.then((data) => {
          out[i] = data;
          this.pinLoaded(key, meta, data, pinned);
        }));
      });
    }
    await Promise.all(waits);
    return out;
  }

  /** A group another execution loaded: pinned for this one too (added back if it was evicted meanwhile). */
  private pinLoaded(key: string, meta: SegmentMeta, data: RowGroupData, pinned: string[]): void {
    if (this.cache.peek(key) === data) this.cache.get(key, true);
    else this.cache.set(key, meta.id, data, true);
    pinned.push(key);
  }

  /** Fetches and decodes row groups (`counted`: a query's load, in row_group_loads). */
  async fetch(meta: SegmentMeta, indexes: readonly number[], t: TableDef, counted = true): Promise<RowGroupData[]> {
    const g = meta.groups;
    if (!g) {
      throw new KalamError('INTERNAL', `Internal error: segment ${meta.id} is still in storage format 1 after open. This is a bug in kalamlite; please report it.`);
    }
    const locations = indexes.map((index) => groupLocation(meta, index));
    // The codec loads (once, on the first cold read) while the bytes are fetched.
    const [bytes, codec] = await Promise.all([this.store.readGroups(segmentKeyOf(meta), locations), loadSegmentCodec()]);
    const { decodeRowGroup } = codec;
    this.codec = codec;
    return bytes.map((b, i) => {
      if (!b) throw missingGroup(meta, indexes[i], t);
      if (counted) this.loads++;
      // Decoded for the key column only; other columns materialize on first use. Not pinned yet: load() pins.
      return decodeRowGroup(b, keyColumn(t));
    });
  }

  /**
   * One row group of a segment for a background job (a compaction reading
   * its inputs one group at a time): the cached group, pinned until
   * `release`, or — not cached — fetched and decoded outside the cache, so
   * reading segments that are about to be replaced evicts nothing queries
   * use. The caller drops it at `release`.
   */
  async readGroup(meta: SegmentMeta, index: number, t: TableDef): Promise<{ data: RowGroupData; release(): void }> {
    const key = RowGroupCache.key(meta.id, index);
    const hit = this.cache.getIf(key, true, (data) => coversColumns(data, t, 'all'));
    if (hit) {
      let released = false;
      return {
        data: hit,
        release: () => {
          if (released) return;
          released = true;
          this.cache.resize(key); // the columns it materialized count from now on
          this.cache.unpin([key]);
        },
      };
    }
    // Being loaded for a query: share that load (the query caches it).
    const pending = this.inflight.get(key);
    const data = pending ? await pending : (await this.fetch(meta, [index], t, false))[0];
    if (!pending) this.compaction.groupLoads++;
    return { data, release: () => this.cache.resize(key) };
  }

  /** Row groups in the manifest (committed segments). */
  get groupCount(): number {
    let n = 0;
    for (const m of this.manifest.all()) n += m.groups?.rows.length ?? 0;
    return n;
  }

  metrics(): [string, Value][] {
    const c = this.cache.stats();
    const levels = this.manifest.levelCounts();
    const k = this.compaction;
    return [
      ['segments', this.manifest.size],
      ['row_groups', this.groupCount],
      ['segments_read', this.segmentsRead],
      ['row_groups_read', this.groupsRead],
      ['row_groups_skipped', this.groupsSkipped],
      ['row_groups_read_narrow', this.narrowGroupReads],
      ['row_groups_aggregated_columnar', this.columnarGroups],
      ['row_group_loads', this.loads],
      ['row_pages_read', this.pages.read],
      ['row_page_loads', this.pages.loads],
      ['row_page_directory_loads', this.pages.directoryLoads],
      ['segment_loads', this.loads],
      ['segment_cache_size', c.size],
      ['segment_cache_bytes', c.bytes],
      ['segment_cache_pinned_bytes', c.pinnedBytes],
      ['segment_cache_pinned', c.pinned],
      ['segment_cache_capacity_bytes', c.capacityBytes],
      ['segment_cache_hits', c.hits],
      ['segment_cache_misses', c.misses],
      ['segment_cache_evictions', c.evictions],
      ['segment_cache_shrinks', c.shrinks],
      ['ipc_schema_cache_bytes', this.codec?.schemaCacheBytes() ?? 0],
      ['segment_pins', this.pinCount],
      ['segments_l0', levels[0]],
      ['segments_l1', levels[1]],
      ['segments_obsolete', this.manifest.obsolete.length],
      ['compactions', k.runs],
      ['compaction_segments_merged', k.segmentsMerged],
      ['compaction_segments_written', k.segmentsWritten],
      ['compaction_segments_moved', k.segmentsMoved],
      ['compaction_rows_read', k.rowsRead],
      ['compaction_rows_shadowed', k.rowsShadowed],
      ['compaction_tombstones_purged', k.tombstonesPurged],
      ['compaction_group_loads', k.groupLoads],
      ['compaction_merges_offloaded', k.offloaded],
      ['compaction_outputs_in_progress', k.outputs.size],
    ];
  }
}
