/**
 * Cold row groups for live queries.
 *
 * A live subscription reads its partitions synchronously (a maintained
 * window's refill, a re-run), inside a commit's fan-out. Its cold row groups
 * come from one of two places:
 *   - the row-group cache, when every row group of its partitions is there
 *     now (`residentCold`; the common case, no await);
 *   - otherwise a load (`loadCold`, what `Engine.prepareCold` does for a
 *     statement): the subscription's refresh waits for it, and its later
 *     refreshes queue behind, so deliveries stay in commit order.
 *
 * Trade-off (chosen over subscriptions retaining their row groups in the
 * cache): memory stays within `segmentCacheBytes` plus what in-flight
 * refreshes hold, however many live queries are open and however large
 * their partitions are; the price is that a live query whose row groups
 * were evicted reloads (and decodes) them at its next refill or re-run —
 * counted in system.stats as `live_cold_loads`. A loaded set is pinned
 * (ColdTier.pin) until the refresh ran, so a flush that commits a segment
 * meanwhile keeps the hot rows that set does not cover.
 */
import type { Catalog } from '../catalog/catalog';
import { NOTHING, type ColdTier } from '../storage/cold/cold-tier';
import type { ColdReads, PreparedPartition } from '../storage/cold/types';

/** The cold segments of a subscription's partitions, read synchronously. */
export interface LiveCold {
  reads: ColdReads;
  /**
   * The table ids and versions the segments were decoded for (`coldKey`);
   * undefined: taken from the cache just now, current by construction.
   */
  key?: string;
}

/** A loaded set: pinned until `release`. */
export interface LoadedCold extends LiveCold {
  key: string;
  release(): void;
}

export interface ColdSource {
  readonly catalog: Catalog;
  readonly cold: ColdTier;
  prepareCold(plan: { tableIds: readonly number[] }, user: string, params: readonly []): Promise<{ reads: ColdReads; release: () => void }>;
}

/** Partitions without segments, for any table: shared (no allocation per subscriber). */
const NO_COLD: LiveCold = Object.freeze({ reads: Object.freeze({ partition: () => NOTHING }) });

/** Which table versions cold segments must be decoded for to be read now. */
export function coldKey(catalog: Catalog, tableIds: readonly number[]): string {
  let key = '';
  for (const id of tableIds) key += `${id}:${catalog.tableById(id)?.version ?? -1},`;
  return key;
}

/** Whether `c` can be read now for these tables. */
export function isCurrent(catalog: Catalog, c: LiveCold, tableIds: readonly number[]): boolean {
  return c.key === undefined || c.key === coldKey(catalog, tableIds);
}

const partitionOf = (type: string, user: string) => (type === 'SHARED' ? '' : user);

/** Every segment of the partitions `user` reads in these tables, when all are in the cache; undefined otherwise. Never loads. */
export function residentCold(src: ColdSource, tableIds: readonly number[], user: string): LiveCold | undefined {
  let found: Map<string, PreparedPartition> | undefined;
  for (const id of tableIds) {
    const t = src.catalog.tableById(id);
    if (!t || t.type === 'STREAM') continue;
    const partition = partitionOf(t.type, user);
    if (!src.cold.manifest.hasSegments(id, partition)) continue;
    const r = src.cold.resident(t, partition);
    if (!r) return undefined;
    (found ??= new Map()).set(`${id}\u0001${partition}`, r);
  }
  if (!found) return NO_COLD;
  const map = found;
  return { reads: { partition: (tableId, u) => map.get(`${tableId}\u0001${u}`) ?? NOTHING } };
}

/** Loads every segment of those partitions (through the cache), pinned until release. */
export async function loadCold(src: ColdSource, tableIds: readonly number[], user: string): Promise<LoadedCold> {
  const key = coldKey(src.catalog, tableIds);
  const { reads, release } = await src.prepareCold({ tableIds }, user, []);
  return { reads, key, release };
}
