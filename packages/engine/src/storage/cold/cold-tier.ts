/**
 * The cold tier as the engine sees it: the manifest, the segment store and
 * the segment cache, and `prepare`, the async step that loads the segments
 * one execution needs before it runs synchronously.
 */
import type { TableDef } from '../../core/schema';
import { KalamError } from '../../core/errors';
import type { Value } from '../../core/types';
import { compareValues } from '../../core/values';
import type { StoredRow } from '../../core/schema';
import { SegmentCache } from './cache';
import { Manifest } from './manifest';
import { selectSegments, type ScanBounds } from './prune';
import { loadSegmentCodec } from './segment-loader';
import type { DecodedSegment, PreparedPartition, SegmentMeta, SegmentStore } from './types';

export const COLD_DEFAULTS = { segmentCacheBytes: 64 * 1024 * 1024 } as const;

export const NOTHING: PreparedPartition = Object.freeze({ segments: Object.freeze([]) as readonly DecodedSegment[] });

/** The stats key of a table's primary key column, when it has one. */
export const pkStatsKey = (t: TableDef): string | undefined => (t.pk >= 0 ? String(t.columns[t.pk].id) : undefined);

export class ColdTier {
  /** Segments handed to executions by prepare (from the cache or storage): what pruning saves. */
  private read = 0;
  /** Segments fetched from the segment store and decoded. */
  private loads = 0;
  /** Loads in flight, so concurrent executions share one; bounded by segments being loaded, emptied as they settle. */
  private readonly inflight = new Map<string, Promise<DecodedSegment>>();

  /**
   * Executions between prepare and the end of their run, by the manifest
   * generation they were prepared at. A flush waits for those prepared
   * before its segment was committed before it removes hot rows, so none of
   * them misses a row. Bounded by executions in flight.
   */
  private readonly pins = new Map<number, number>();
  /** Flushes waiting for older pins to go; bounded by flushes in flight. */
  private waiters: { before: number; resolve: () => void }[] = [];

  constructor(
    readonly manifest: Manifest,
    readonly store: SegmentStore,
    readonly cache: SegmentCache,
  ) {}

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

  /** Whether a key may have a version in some segment of the partition (by pk range). */
  mayHold(t: TableDef, user: string, pk: Value): boolean {
    const key = pkStatsKey(t);
    for (const m of this.manifest.segments(t.id, user)) {
      const s = key === undefined ? undefined : m.column_stats[key];
      if (!s || s.min === null || s.max === null) return true;
      try {
        if (compareValues(pk, s.min) >= 0 && compareValues(pk, s.max) <= 0) return true;
      } catch {
        return true;
      }
    }
    return false;
  }

  /** Loads what one scan set of one partition needs. Partitions with no segments cost nothing. */
  async prepare(t: TableDef, user: string, scans: readonly ScanBounds[]): Promise<PreparedPartition> {
    const all = this.manifest.segments(t.id, user);
    if (all.length === 0) return NOTHING;
    const chosen = selectSegments(all, scans, pkStatsKey(t));
    if (chosen.length === 0) return NOTHING;
    this.read += chosen.length;
    const decoded = await Promise.all(chosen.map((m) => this.segment(m, t)));
    return { segments: decoded.reverse() };
  }

  /**
   * Every segment of a partition if all are in the cache (a read that was
   * not prepared: it can only be served from memory), NOTHING when the
   * partition has none, undefined otherwise.
   */
  resident(t: TableDef, user: string): PreparedPartition | undefined {
    const all = this.manifest.segments(t.id, user);
    if (all.length === 0) return NOTHING;
    const out: DecodedSegment[] = [];
    for (let i = all.length - 1; i >= 0; i--) {
      const seg = this.cache.peek(SegmentCache.key(all[i].id, t.version));
      if (!seg) return undefined;
      out.push(seg);
    }
    return { segments: out };
  }

  /** The newest cold version of a key among cached segments (commit-time checks; never loads). */
  cachedRow(t: TableDef, user: string, pkHash: string): StoredRow | undefined {
    const all = this.manifest.segments(t.id, user);
    for (let i = all.length - 1; i >= 0; i--) {
      const seg = this.cache.peek(SegmentCache.key(all[i].id, t.version));
      if (!seg) return undefined;
      const row = seg.index.get(pkHash);
      if (row) return row;
    }
    return undefined;
  }

  private segment(meta: SegmentMeta, t: TableDef): Promise<DecodedSegment> {
    const key = SegmentCache.key(meta.id, t.version);
    const hit = this.cache.get(key);
    if (hit) return Promise.resolve(hit);
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = (async () => {
        // The codec loads (once, on the first segment read) while the bytes are fetched.
        const [bytes, { decodeSegment }] = await Promise.all([
          this.store.get({ tableId: meta.table_id, user: meta.user_id, segmentId: meta.id }),
          loadSegmentCodec(),
        ]);
        if (!bytes) {
          throw new KalamError(
            'STORAGE_ERROR',
            `Segment ${meta.id} of table '${t.namespace}.${t.name}' is listed in the manifest but its data is missing: the storage was changed outside kalamlite`,
          );
        }
        this.loads++;
        const seg = decodeSegment(meta, bytes, t);
        this.cache.set(key, seg);
        return seg;
      })().finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  metrics(): [string, Value][] {
    const c = this.cache.stats();
    return [
      ['segments', this.manifest.size],
      ['segments_read', this.read],
      ['segment_loads', this.loads],
      ['segment_cache_size', c.size],
      ['segment_cache_bytes', c.bytes],
      ['segment_cache_capacity_bytes', c.capacityBytes],
      ['segment_cache_hits', c.hits],
      ['segment_cache_misses', c.misses],
      ['segment_cache_evictions', c.evictions],
      ['segment_pins', this.pinCount],
    ];
  }
}
