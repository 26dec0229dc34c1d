/**
 * The async step before a plan runs: the cold row groups its scans cannot
 * rule out are loaded (and pinned), with the columns it reads, so that
 * execution itself stays synchronous; and the committed versions of keys
 * for transactions (from the hot tier and the row groups loaded for them).
 */
import type { Catalog } from '../catalog/catalog';
import type { StoredRow, TableDef } from '../core/schema';
import type { Value } from '../core/types';
import { resolveBounds, type ScanTemplate } from '../plan/scan-bounds';
import { NOTHING, pkStatsKey, type ColdTier, type ColumnSelection } from '../storage/cold/cold-tier';
import type { ScanBounds } from '../storage/cold/prune';
import type { ColdReads, LazyLoads, PreparedPartition } from '../storage/cold/types';
import type { HotTier } from '../storage/hot-tier';
import type { PartitionViews } from './partition-views';
import type { CommittedLookup } from './transaction';

/** Prepared cold reads: pass `reads` in the ExecContext; call `release` when the run is over (a flush waits for it). */
export interface PreparedCold {
  reads: ColdReads;
  release(): void;
}

/**
 * Prepares one partition of a plan through the index read the plan makes
 * in it (execute/index-cold.ts), or undefined when it cannot.
 */
export type IndexPrepare = (plan: object, s: PartitionScans, params: readonly Value[], pinned: string[]) => Promise<PreparedPartition | undefined>;

/** One partition to prepare: its scans' bounds and the columns they read. */
export interface PartitionScans {
  table: TableDef;
  user: string;
  bounds: ScanBounds[];
  columns: ColumnSelection;
}

const union = (a: ColumnSelection, b: ColumnSelection): ColumnSelection => (a === 'all' || b === 'all' ? 'all' : new Set([...a, ...b]));
const slotKey = (tableId: number, user: string) => `${tableId}\u0001${user}`;

export class ColdReader {
  /** Set when secondary indexes load. */
  indexPrepare?: IndexPrepare;
  /**
   * Vector indexes (plan/vector-scan.ts): for a plan reading a table through
   * one, the primary keys of its candidates as bounds, so only their row
   * groups are loaded; `prepared` is told the reads they were loaded into.
   */
  vectorNarrow?: (plan: object, user: string, params: readonly Value[]) => { tableId: number; bounds: ScanBounds; prepared(reads: ColdReads): void }[] | undefined;

  constructor(
    private readonly catalog: Catalog,
    private readonly hot: HotTier,
    private readonly cold: ColdTier,
    private readonly views: PartitionViews,
    private readonly scansOf: (plan: object) => readonly ScanTemplate[],
  ) {}

  /**
   * For each table a plan reads, in the session's partition (USER/STREAM:
   * `user`; SHARED: ''), loads the cold row groups its scans cannot rule
   * out (manifest stats against the WHERE's simple conjuncts) and the
   * columns the statement names.
   */
  async prepare(plan: { tableIds: readonly number[] }, user: string, params: readonly Value[], indexed?: boolean, lazy?: boolean): Promise<PreparedCold> {
    const scans = new Map<number, { bounds: ScanBounds[]; columns: ColumnSelection }>();
    const templates = this.scansOf(plan);
    // A SELECT through a vector index reads only its candidates' row groups (a table the statement reads once).
    const narrowed = indexed ? this.vectorNarrow?.(plan, user, params)?.filter((n) => templates.filter((x) => x.tableId === n.tableId).length === 1) : undefined;
    for (const tpl of templates) {
      let s = scans.get(tpl.tableId);
      if (!s) scans.set(tpl.tableId, (s = { bounds: [], columns: new Set() }));
      s.columns = union(s.columns, tpl.columns);
      const b = resolveBounds(tpl.bounds, params);
      if (b !== 'none') s.bounds.push(b);
    }
    for (const n of narrowed ?? []) {
      const s = scans.get(n.tableId);
      if (s) s.bounds = [n.bounds];
    }
    for (const id of plan.tableIds) if (!scans.has(id)) scans.set(id, { bounds: [null], columns: 'all' });
    const list: PartitionScans[] = [];
    for (const [id, s] of scans) {
      const t = this.catalog.tableById(id);
      if (!t || t.type === 'STREAM') continue;
      list.push({ table: t, user: t.type === 'SHARED' ? '' : user, bounds: s.bounds, columns: s.columns });
    }
    const prepared = await this.load(list, indexed ? plan : undefined, params, lazy);
    for (const n of narrowed ?? []) n.prepared(prepared.reads);
    return prepared;
  }

  /** Loads one partition's row groups that `bounds` cannot rule out, all columns (an export's key window). */
  preparePartition(table: TableDef, user: string, bounds: ScanBounds): Promise<PreparedCold> {
    return this.load([{ table, user, bounds: [bounds], columns: 'all' }]);
  }

  /** Loads the row groups that may hold these keys (all columns): a transaction's commit-time checks. */
  prepareKeys(keys: Iterable<{ table: TableDef; user: string; pk: Value }>): Promise<PreparedCold> {
    const byPartition = new Map<string, { table: TableDef; user: string; pks: Value[] }>();
    for (const k of keys) {
      if (k.table.type === 'STREAM' || !this.cold.manifest.hasSegments(k.table.id, k.user)) continue;
      const slot = slotKey(k.table.id, k.user);
      let p = byPartition.get(slot);
      if (!p) byPartition.set(slot, (p = { table: k.table, user: k.user, pks: [] }));
      p.pks.push(k.pk);
    }
    const list: PartitionScans[] = [];
    for (const { table, user, pks } of byPartition.values()) {
      const key = pkStatsKey(table);
      const bounds: ScanBounds = key === undefined ? null : [{ key, isPk: true, op: 'in', values: pks }];
      list.push({ table, user, bounds: [bounds], columns: 'all' });
    }
    return this.load(list);
  }

  /** `lazy`: segments of many selected groups load group by group as the read reaches them (a SELECT whose driver waits at pauses; storage/cold/types.ts LazyGroups). */
  private async load(list: readonly PartitionScans[], plan?: object, params?: readonly Value[], lazy?: boolean): Promise<PreparedCold> {
    const token = this.cold.pin();
    const pinned: string[] = [];
    const loads: LazyLoads | undefined = lazy ? { loads: new Set(), held: new Set(), closed: false } : undefined;
    const unpinLazy = () => {
      if (!loads) return;
      loads.closed = true;
      this.cold.cache.unpin([...loads.held]);
      loads.held.clear();
    };
    const prepared = new Map<string, PreparedPartition>();
    try {
      for (const s of list) {
        prepared.set(
          slotKey(s.table.id, s.user),
          s.bounds.length === 0 ? NOTHING : (plan && (await this.indexPrepare?.(plan, s, params!, pinned))) || (await this.cold.prepare(s.table, s.user, s.bounds, s.columns, pinned, loads)),
        );
      }
    } catch (e) {
      this.cold.unpin(token);
      this.cold.cache.unpin(pinned);
      unpinLazy();
      throw e;
    }
    let released = false;
    return {
      reads: {
        partition: (tableId, u) => prepared.get(slotKey(tableId, u)),
        loading: () => (loads && loads.loads.size > 0 ? Promise.all(loads.loads) : undefined),
        tier: this.cold,
      },
      release: () => {
        if (released) return;
        released = true;
        this.cold.unpin(token);
        this.cold.cache.unpin(pinned);
        unpinLazy();
      },
    };
  }

  /**
   * The committed version of a key (no staged layer), for transactions:
   * hot, else the cold row groups `cold` was prepared with (or, without
   * them, the cached ones; INTERNAL when neither covers the partition).
   */
  committedLookup(cold?: ColdReads): CommittedLookup {
    return (tableId, user, pkHash, pk) => {
      const row = this.hot.partition(tableId, user)?.get(pkHash);
      if (row) return row;
      if (!this.cold.manifest.hasSegments(tableId, user)) return undefined;
      return this.views.viewById(tableId, user, cold)?.get(pk, pkHash) as StoredRow | undefined;
    };
  }
}
