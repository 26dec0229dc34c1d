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
 * eviction walks from the least recently used end, skipping pinned entries
 * and shrinking a scanned group once before it evicts it (see `trim`).
 */
import type { RowGroupData } from './types';

/** What the cache holds: row groups and row pages (RowGroupData), and page directories (row-pages.ts), each with its rough size. */
export interface Sized {
  readonly bytes: number;
  /** Gives up part of what it holds (RowGroupData.shrink); false: nothing to give up. */
  shrink?(): boolean;
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
  /** Groups that gave up their Arrow data instead of being evicted (kept the columns scans read). */
  shrinks: number;
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
  private shrinks = 0;

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

  /** As `get`, but an entry `usable` refuses (a shrunk group without a column the read needs) counts as a miss and is left alone. */
  getIf<T extends Sized = RowGroupData>(key: string, pin: boolean, usable: (data: T) => boolean): T | undefined {
    const e = this.entries.get(key);
    if (e && !usable(e.data as T)) {
      this.misses++;
      return undefined;
    }
    return this.get<T>(key, pin);
  }

  /** Looks without counting or reordering. */
  peek<T extends Sized = RowGroupData>(key: string): T | undefined {
    return this.entries.get(key)?.data as T | undefined;
  }

  /**
   * Adds a loaded group (pinned when `pin`; unpinned and larger than the
   * bound: not kept), evicting unpinned groups past the bound. A group
   * replacing one of the same key (a shrunk one, read again whole) keeps
   * its pins: the executions holding the key release them.
   */
  set(key: string, segmentId: string, data: Sized, pin = false): void {
    const carried = this.entries.get(key)?.pins ?? 0;
    this.remove(key);
    if (!pin && carried === 0 && data.bytes > this.capacityBytes) return; // never kept: it would evict everything else
    const e: Entry = { segmentId, data, bytes: data.bytes, pins: 0 };
    this.entries.set(key, e);
    this.used += e.bytes;
    if (carried > 0) {
      e.pins = carried;
      this.pinnedUsed += e.bytes;
      this.pinnedCount++;
    }
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

  /**
   * Evicts unpinned groups, least recently used first, until within the
   * bound. A group a scan read whole columns of shrinks first instead
   * (RowGroupData.shrink: it keeps those columns, a fraction of its bytes)
   * and goes to the most recently used end: a second chance, so a scan of
   * more groups than the bound holds keeps every group's scanned columns
   * when those fit (a repeated GROUP BY or COUNT then reads no storage).
   * Reached again, it is evicted.
   */
  trim(): void {
    if (this.used <= this.capacityBytes) return;
    for (const [k, e] of this.entries) {
      if (this.used <= this.capacityBytes || this.used === this.pinnedUsed) break;
      if (e.pins > 0) continue;
      this.entries.delete(k);
      if (e.data.shrink?.()) {
        this.shrinks++;
        this.used += e.data.bytes - e.bytes;
        e.bytes = e.data.bytes;
        this.entries.set(k, e);
        continue;
      }
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
      shrinks: this.shrinks,
    };
  }
}
