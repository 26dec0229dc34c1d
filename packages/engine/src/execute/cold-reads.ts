/**
 * The async step before a plan runs: the cold segments its scans cannot
 * rule out are loaded (and pinned) so that execution itself stays
 * synchronous; and the partition views that code reading partitions
 * directly (live maintenance, commit-time conflict checks) needs.
 */
import type { Catalog } from '../catalog/catalog';
import type { StoredRow } from '../core/schema';
import type { Value } from '../core/types';
import { resolveBounds, type ScanTemplate } from '../plan/scan-bounds';
import { NOTHING, type ColdTier } from '../storage/cold/cold-tier';
import type { ScanBounds } from '../storage/cold/prune';
import type { ColdReads, PreparedPartition } from '../storage/cold/types';
import type { HotTier } from '../storage/hot-tier';
import { KalamError } from '../core/errors';

/** Prepared cold reads: pass `reads` in the ExecContext; call `release` when the run is over (a flush waits for it). */
export interface PreparedCold {
  reads: ColdReads;
  release(): void;
}

export class ColdReader {
  constructor(
    private readonly catalog: Catalog,
    private readonly hot: HotTier,
    private readonly cold: ColdTier,
    private readonly scansOf: (plan: object) => readonly ScanTemplate[],
  ) {}

  /**
   * For each table a plan reads, in the session's partition (USER/STREAM:
   * `user`; SHARED: ''), loads the cold segments its scans cannot rule out
   * (manifest stats against the WHERE's simple conjuncts).
   */
  async prepare(plan: { tableIds: readonly number[] }, user: string, params: readonly Value[]): Promise<PreparedCold> {
    const scans = new Map<number, ScanBounds[]>();
    for (const tpl of this.scansOf(plan)) {
      let list = scans.get(tpl.tableId);
      if (!list) scans.set(tpl.tableId, (list = []));
      const b = resolveBounds(tpl.bounds, params);
      if (b !== 'none') list.push(b);
    }
    for (const id of plan.tableIds) if (!scans.has(id)) scans.set(id, [null]);
    const token = this.cold.pin();
    const prepared = new Map<string, PreparedPartition>();
    try {
      for (const [id, list] of scans) {
        const t = this.catalog.tableById(id);
        if (!t || t.type === 'STREAM') continue;
        const partition = t.type === 'SHARED' ? '' : user;
        prepared.set(`${id}\u0001${partition}`, list.length === 0 ? NOTHING : await this.cold.prepare(t, partition, list));
      }
    } catch (e) {
      this.cold.unpin(token);
      throw e;
    }
    let released = false;
    return {
      reads: { partition: (tableId, u) => prepared.get(`${tableId}\u0001${u}`) },
      release: () => {
        if (released) return;
        released = true;
        this.cold.unpin(token);
      },
    };
  }

  /**
   * A partition's newest version per key across tiers, for code that reads
   * partitions directly (live maintenance). The hot partition itself when
   * the partition has no cold segments; otherwise a merged copy built from
   * `cold` (loaded for the current table version; see live/cold.ts) or,
   * without it, the cached segments.
   */
  readablePartition(tableId: number, user: string, cold?: ColdReads): Map<string, StoredRow> | undefined {
    const hot = this.hot.partition(tableId, user);
    const t = this.catalog.tableById(tableId);
    if (!t || t.type === 'STREAM' || !this.cold.manifest.hasSegments(tableId, user)) return hot;
    const given = cold?.partition(tableId, user);
    const segments = given && given.segments.every((s) => s.tableVersion === t.version) ? given.segments : this.cold.resident(t, user)?.segments;
    if (!segments) {
      throw new KalamError('INTERNAL', `Internal error: the cold segments of '${t.namespace}.${t.name}' were read without being loaded (live/cold.ts). This is a bug in kalamlite; please report it.`);
    }
    const merged = new Map<string, StoredRow>();
    for (let s = segments.length - 1; s >= 0; s--) for (const [k, row] of segments[s].index) merged.set(k, row);
    if (hot) for (const [k, row] of hot) merged.set(k, row);
    return merged;
  }

  /** The committed version of a key, for commit-time conflict checks (cold: from cached segments only). */
  readonly committedRow = (tableId: number, user: string, pkHash: string): StoredRow | undefined => {
    const row = this.hot.partition(tableId, user)?.get(pkHash);
    if (row) return row;
    const t = this.catalog.tableById(tableId);
    return t && this.cold.manifest.hasSegments(tableId, user) ? this.cold.cachedRow(t, user, pkHash) : undefined;
  };
}
