/**
 * Where reads get a partition's merged view (storage/partition-view.ts):
 * the hot partition, the staged versions given, and the cold row groups
 * the execution was prepared with — or, for a read that was not prepared,
 * the partition's row groups if every one is in the cache. A read of a
 * partition with cold data that was neither is a bug (INTERNAL).
 */
import type { Catalog } from '../catalog/catalog';
import { KalamError } from '../core/errors';
import type { TableDef } from '../core/schema';
import { NOTHING, type ColdTier } from '../storage/cold/cold-tier';
import type { ColdReads, PreparedPartition } from '../storage/cold/types';
import type { HotTier } from '../storage/hot-tier';
import { PartitionView, type StagedLayer } from '../storage/partition-view';

export class PartitionViews {
  constructor(
    private readonly catalog: Catalog,
    private readonly hot: HotTier,
    private readonly cold: ColdTier,
  ) {}

  /** The view of table `t`'s partition `user` (USER/STREAM: a user id; SHARED: ''). */
  view(t: TableDef, user: string, cold: ColdReads | undefined, staged?: StagedLayer): PartitionView {
    return new PartitionView(t, this.hot.partition(t.id, user), staged, this.coldOf(t, user, cold));
  }

  /** Rows table `t`'s partition `user` may hold: an upper bound read from counts alone (see estimatePartitionRows). */
  estimate(t: TableDef, user: string): number {
    return estimatePartitionRows(this.hot, this.cold, t.id, user);
  }

  /** The view by table id (undefined: the table is gone). */
  viewById(tableId: number, user: string, cold: ColdReads | undefined): PartitionView | undefined {
    const t = this.catalog.tableById(tableId);
    return t ? this.view(t, user, cold) : undefined;
  }

  private coldOf(t: TableDef, user: string, cold: ColdReads | undefined): PreparedPartition {
    if (t.type === 'STREAM' || !this.cold.manifest.hasSegments(t.id, user)) return NOTHING;
    const prepared = cold?.partition(t.id, user);
    if (prepared) return prepared.table && prepared.table.version !== t.version ? this.cold.reshape(prepared, t) : prepared;
    const resident = this.cold.resident(t, user);
    if (resident) return resident;
    throw new KalamError('INTERNAL', `Internal error: a read of '${t.namespace}.${t.name}' was not prepared for its cold row groups (ColdReader.prepare). This is a bug in kalamlite; please report it.`);
  }
}

/**
 * Rows a full read of a partition may meet, from counts the engine keeps
 * (no row is read): the hot rows plus each cold segment's row count (older
 * versions and tombstones included, so an upper bound).
 */
export function estimatePartitionRows(hot: HotTier, cold: ColdTier, tableId: number, partition: string): number {
  let n = hot.partition(tableId, partition)?.count ?? 0;
  for (const m of cold.manifest.segments(tableId, partition)) n += m.row_count;
  return n;
}
