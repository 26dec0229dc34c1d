/**
 * Lazily prepared segments (types.ts LazyGroups): a read in key order loads
 * each row group when the merge reaches it (a few ahead as a scan goes on,
 * within the cache's room) and unpins it once past it. Loaded on first use
 * (cold-tier.ts), so worker.js holds only the hooks.
 */
import type { TableDef } from '../../core/schema';
import { RowGroupCache } from './cache';
import type { ScanBounds } from './prune';
import { coversColumns, type ColumnSelection, type LazyGroups, type LazyLoads, type PreparedGroup, type RowGroupData, type SegmentMeta } from './types';

/** What a lazy read uses of the cold tier (cold-tier.ts ColdTier). */
export interface LazyHost {
  readonly cache: RowGroupCache;
  load(meta: SegmentMeta, indexes: readonly number[], t: TableDef, pinned: string[], columns: ColumnSelection): Promise<RowGroupData[]>;
  shape(t: TableDef, index: number, data: RowGroupData, columns: ColumnSelection, scans?: readonly ScanBounds[]): PreparedGroup;
  countRead(segments: number, groups: number): void;
}

/** Groups of one segment a lazy read loads ahead at most (1, 1, then doubling as it goes on, within the cache's room). */
const LAZY_AHEAD = 8;

/** A segment's groups loaded as a read reaches them (LazyGroups), counted in row_groups_read as they load. */
export function lazyGroups(
  cold: LazyHost,
  t: TableDef,
  meta: SegmentMeta,
  indexes: readonly number[],
  columns: ColumnSelection,
  scans: readonly ScanBounds[],
  loads: LazyLoads,
): LazyGroups {
  // Per slot, bounded by the segment's groups; a passed slot drops its group.
  const slots: (PreparedGroup | undefined)[] = [];
  const keys: (string | undefined)[] = [];
  const asked: boolean[] = [];
  // Groups wanted at once: 1, 1, then doubling to LAZY_AHEAD (a LIMIT that needs two groups reads two).
  let ahead = 0.5;
  /** The most a group of this read held, decoded: what one more pinned group is counted as. */
  let per = 0;
  let isRead = false;
  const hold = (k: number, key: string, data: RowGroupData) => {
    // Loaded after the execution ended (read ahead, not needed): nothing holds it.
    if (loads.closed) return cold.cache.unpin([key]);
    cold.countRead(isRead ? 0 : 1, 1);
    isRead = true;
    loads.held.add(key);
    keys[k] = key;
    slots[k] = cold.shape(t, indexes[k], data, columns, scans);
    per = Math.max(per, data.bytes);
    cold.cache.resize(key);
  };
  return {
    indexes,
    at: (k) => slots[k],
    want: (k, step) => {
      let room = cold.cache.capacityBytes - cold.cache.stats().pinnedBytes;
      for (let n = 0, j = k; n < ahead && j >= 0 && j < indexes.length; n++, j += step) {
        if (asked[j]) continue;
        // Slot k itself always loads; those ahead only while the pinned groups leave room in the cache's bound for one more.
        const bytes = Math.max(per, meta.groups!.bytes[indexes[j]]);
        room -= bytes;
        if (n > 0 && room < bytes) break;
        asked[j] = true;
        const key = RowGroupCache.key(meta.id, indexes[j]);
        const hit = cold.cache.getIf(key, true, (data) => coversColumns(data, t, columns));
        if (hit) {
          hold(j, key, hit);
          continue;
        }
        const pinned: string[] = [];
        // A failed load leaves the slot empty: the read then runs again prepared in full, which reports the error.
        const p: Promise<void> = cold.load(meta, [indexes[j]], t, pinned, columns)
          .then(([data]) => hold(j, pinned[0], data))
          .catch(() => undefined)
          .finally(() => loads.loads.delete(p));
        loads.loads.add(p);
      }
      ahead = Math.min(ahead * 2, LAZY_AHEAD);
    },
    pass: (k) => {
      const key = keys[k];
      slots[k] = keys[k] = undefined;
      if (key !== undefined && loads.held.delete(key)) cold.cache.unpin([key]);
    },
  };
}
