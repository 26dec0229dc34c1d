/**
 * The row-group cache: decoded row groups (types.ts RowGroupData) shared by
 * every query, least recently used evicted first, bounded by their rough
 * decoded size (`segmentCacheBytes`).
 *
 * An execution pins the groups it was prepared with until it ends: a pinned
 * group is never evicted, so while executions are in flight the cache may
 * hold more than its bound (`pinnedBytes` says how much is pinned); once
 * they release, it is trimmed back within the bound. A group larger than
 * the whole bound is still served to the execution that loaded it, and
 * dropped when it is released. A `Map` in access order makes get/set O(1);
 * eviction walks from the least recently used end, skipping pinned entries.
 */
import type { RowGroupData } from './types';

/** What the cache holds: row groups and row pages (RowGroupData), and page directories (row-pages.ts), each with its rough size. */
export interface Sized {
  readonly bytes: number;
}

export interface SegmentCacheStats {
  /** Row groups held. */
  size: number;
  bytes: number;
  pinnedBytes: number;
  pinned: number;
  capacityBytes: number;
  hits: number;
  misses: number;
  evictions: number;
}

interface Entry {
  readonly segmentId: string;
  readonly data: Sized;
  /** The size counted in `used` (data.bytes when last looked at). */
  bytes: number;
  /** Executions holding it. */
  pins: number;
}

export class RowGroupCache {
  /** key → entry, least recently used first. Bounded: see the class comment. */
  private readonly entries = new Map<string, Entry>();
  private used = 0;
  private pinnedUsed = 0;
  private pinnedCount = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(readonly capacityBytes: number) {}

  /** Cache key of a row group. */
  static key(segmentId: string, group: number): string {
    return `${segmentId}/${group}`;
  }

  /** The group, counted as a hit or a miss and made most recently used; pinned when `pin`. */
  get<T extends Sized = RowGroupData>(key: string, pin = false): T | undefined {
    const e = this.entries.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, e);
    if (pin) this.pinEntry(e);
    return e.data as T;
  }

  /** Looks without counting or reordering. */
  peek<T extends Sized = RowGroupData>(key: string): T | undefined {
    return this.entries.get(key)?.data as T | undefined;
  }

  /** Adds a loaded group (pinned when `pin`; unpinned and larger than the bound: not kept), evicting unpinned groups past the bound. */
  set(key: string, segmentId: string, data: Sized, pin = false): void {
    this.remove(key);
    if (!pin && data.bytes > this.capacityBytes) return; // never kept: it would evict everything else
    const e: Entry = { segmentId, data, bytes: data.bytes, pins: 0 };
    this.entries.set(key, e);
    this.used += e.bytes;
    if (pin) this.pinEntry(e);
    this.trim();
  }

  /** Releases one pin of each key (an execution ended); trims back within the bound. */
  unpin(keys: readonly string[]): void {
    for (const key of keys) {
      const e = this.entries.get(key);
      if (!e || e.pins === 0) continue;
      e.pins--;
      if (e.pins === 0) {
        this.pinnedUsed -= e.bytes;
        this.pinnedCount--;
      }
    }
    this.trim();
  }

  /** Counts what a group holds now (columns materialized since it was added), evicting others past the bound. */
  resize(key: string): void {
    const e = this.entries.get(key);
    if (!e || e.bytes === e.data.bytes) return;
    const delta = e.data.bytes - e.bytes;
    e.bytes += delta;
    this.used += delta;
    if (e.pins > 0) this.pinnedUsed += delta;
    this.trim();
  }

  /** Drops every group of these segments. */
  forget(segmentIds: ReadonlySet<string>): void {
    for (const [k, e] of this.entries) if (segmentIds.has(e.segmentId)) this.remove(k);
  }

  /** Evicts unpinned groups, least recently used first, until within the bound. */
  trim(): void {
    if (this.used <= this.capacityBytes) return;
    for (const [k, e] of this.entries) {
      if (this.used <= this.capacityBytes || this.used === this.pinnedUsed) break;
      if (e.pins > 0) continue;
      this.entries.delete(k);
      this.used -= e.bytes;
      this.evictions++;
    }
  }

  private pinEntry(e: Entry): void {
    if (e.pins++ === 0) {
      this.pinnedUsed += e.bytes;
      this.pinnedCount++;
    }
  }

  private remove(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.entries.delete(key);
    this.used -= old.bytes;
    if (old.pins > 0) {
      this.pinnedUsed -= old.bytes;
      this.pinnedCount--;
    }
  }

  stats(): SegmentCacheStats {
    return {
      size: this.entries.size,
      bytes: this.used,
      pinnedBytes: this.pinnedUsed,
      pinned: this.pinnedCount,
      capacityBytes: this.capacityBytes,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
    };
  }
}
