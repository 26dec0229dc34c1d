/**
 * The segment cache: decoded segments, least recently used evicted first,
 * bounded by their rough decoded size (`segmentCacheBytes`). A segment
 * larger than the whole bound is handed out but not kept. A `Map` in access
 * order makes get/set O(1).
 */
import type { DecodedSegment } from './types';

export interface SegmentCacheStats {
  size: number;
  bytes: number;
  capacityBytes: number;
  hits: number;
  misses: number;
  evictions: number;
}

export class SegmentCache {
  /** key → segment, least recently used first; total `bytes` <= capacityBytes. */
  private readonly entries = new Map<string, DecodedSegment>();
  private used = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(readonly capacityBytes: number) {}

  /** Cache key: a segment decoded for one table version. */
  static key(segmentId: string, tableVersion: number): string {
    return `${segmentId}@${tableVersion}`;
  }

  get(key: string): DecodedSegment | undefined {
    const hit = this.entries.get(key);
    if (!hit) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit;
  }

  /** Looks without counting or reordering. */
  peek(key: string): DecodedSegment | undefined {
    return this.entries.get(key);
  }

  set(key: string, seg: DecodedSegment): void {
    this.remove(key);
    if (seg.bytes > this.capacityBytes) return;
    this.entries.set(key, seg);
    this.used += seg.bytes;
    for (const [k, v] of this.entries) {
      if (this.used <= this.capacityBytes) break;
      this.entries.delete(k);
      this.used -= v.bytes;
      this.evictions++;
    }
  }

  /** Drops every entry of these segment ids (any table version). */
  forget(segmentIds: ReadonlySet<string>): void {
    for (const [k, v] of this.entries) if (segmentIds.has(v.meta.id)) this.remove(k);
  }

  private remove(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.entries.delete(key);
    this.used -= old.bytes;
  }

  stats(): SegmentCacheStats {
    return { size: this.entries.size, bytes: this.used, capacityBytes: this.capacityBytes, hits: this.hits, misses: this.misses, evictions: this.evictions };
  }
}
