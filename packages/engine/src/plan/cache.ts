/**
 * Bounded O(1) LRU of compiled plans, keyed by SQL text with literals
 * lifted out (plus the session's default namespace). A `Map` keeps access
 * order: a hit is moved to the end; the first entry is the least recently
 * used. DDL invalidates exactly the plans that read or write the changed
 * table.
 */
export interface CacheStats {
  size: number;
  capacity: number;
  hits: number;
  misses: number;
  evictions: number;
  invalidations: number;
}

export class PlanCache<P extends { tableIds: readonly number[] }> {
  /** Bounded by `capacity`; shrunk by eviction and by DDL invalidation. */
  private readonly entries = new Map<string, P>();
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private invalidations = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError('plan cache capacity must be a non-negative integer');
  }

  /** The plan cached under `key`; one `isCurrent` rejects is dropped (an invalidation) and missed. */
  get(key: string, isCurrent?: (plan: P) => boolean): P | undefined {
    const plan = this.entries.get(key);
    if (plan === undefined) {
      this.misses++;
      return undefined;
    }
    if (isCurrent && !isCurrent(plan)) {
      this.entries.delete(key);
      this.invalidations++;
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, plan);
    return plan;
  }

  set(key: string, plan: P): void {
    if (this.capacity === 0) return;
    this.entries.delete(key);
    this.entries.set(key, plan);
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.evictions++;
    }
  }

  /** Drops every plan that names one of these tables. */
  invalidateTables(tableIds: Iterable<number>): void {
    const ids = new Set(tableIds);
    for (const [key, plan] of this.entries) {
      if (plan.tableIds.some((id) => ids.has(id))) {
        this.entries.delete(key);
        this.invalidations++;
      }
    }
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  stats(): CacheStats {
    return {
      size: this.entries.size,
      capacity: this.capacity,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      invalidations: this.invalidations,
    };
  }
}
