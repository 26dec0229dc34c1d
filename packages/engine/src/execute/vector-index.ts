/**
 * Vector (HNSW) indexes, the engine side, loaded on first use
 * (execute/vector-index-loader.ts: at open when a table has one, before
 * ALTER TABLE … CREATE/DROP VECTOR INDEX): one graph (storage/hnsw.ts) per
 * (table, column, partition) — a USER table's partition is one user's rows,
 * a SHARED table's is the table — so a search never meets another user's
 * vectors, whatever the query.
 *
 * - Built by a `vector_index` job (id `VI…`, system.jobs), requested by
 *   the first query that could use it: the job reads the partition's
 *   newest rows (hot and cold) as one SELECT run as the partition's user,
 *   then adds them in slices (yielding the thread between slices; KILL JOB
 *   stops it). The query that requested it, and every one until it is
 *   built, searches exactly.
 * - Kept current on write: every committed row change of an indexed
 *   table (Committer's `vectors` hook) updates the built graphs of its
 *   partition — the old version's node is marked removed, the new one
 *   added; changes committed while a build runs are queued and replayed
 *   after it (replaying is idempotent: latest version wins).
 * - Bounded: `vectorIndexBytes` (setting max_vector_index_bytes) for all
 *   graphs; past it the least recently used are dropped from memory and
 *   rebuilt by a job when next queried. A single partition's graph larger
 *   than the bound is dropped and not rebuilt until the bound or the index
 *   changes (its queries stay exact). system.stats: vector_index_bytes,
 *   _partitions, _builds, _evictions, _searches, _exact_fallbacks.
 * - Rebuilt when updates bloat it: a graph whose removed nodes outnumber
 *   its live ones (and REBUILD_REMOVED_MIN) is dropped, and its next build
 *   reads the live rows rather than its snapshot (system.stats
 *   vector_index_rebuilds).
 * - Persisted: a snapshot record per (table, column, partition) in the
 *   system store (`['vector_index', table id, column id, partition]`: the
 *   graph's typed arrays and the newest `_seq` it covers), written after a
 *   build and after every SNAPSHOT_EVERY changes applied. A build (after an
 *   open, or an eviction) starts from the snapshot and replays only the
 *   rows with a newer `_seq` (tombstones included); without one it reads
 *   every row. DROP VECTOR INDEX deletes the index's snapshots.
 */
import { deletedSlot, seqSlot, type RowChange, type TableDef, type VectorIndexDef } from '../core/schema';
import { encodeKey } from '../storage/keys';
import type { KvStore } from '../storage/kv';
import type { UnitOfWork } from '../storage/unit-of-work';
import type { Value } from '../core/types';
import { hashKey } from '../core/values';
import type { JobRecord } from '../jobs/job';
import { Hnsw, type HnswSnapshot } from '../storage/hnsw';
import { registerVectorPlanner, vectorPlanning, type VectorSearcher } from '../plan/vector-plan';
import type { ColdReader } from './cold-reads';
import { planVectorScan } from '../plan/vector-scan';
import type { SessionState } from './session-state';
import type { StatementResult } from '../core/types';

export { executeVectorIndexStatement } from './vector-index-ddl';

/** Rows added per slice of a build before it yields the thread. */
const BUILD_SLICE = 64;
/**
 * A graph whose removed nodes (old versions of updated or deleted rows, which
 * still route searches) outnumber both this and its live ones is dropped and
 * rebuilt from the live rows, not from its snapshot (which holds them too):
 * so a partition's graph holds at most about twice its rows, and updates
 * never push it past the memory bound for good.
 */
export const REBUILD_REMOVED_MIN = 1000;
/** Changes applied to a built graph after which its snapshot is written again. */
export const SNAPSHOT_EVERY = 1000;

export interface VectorIndexHost {
  readonly catalog: { tableById(id: number): TableDef | undefined };
  readonly options: { vectorIndexBytes: number; vectorIndexEf: number };
  readonly committer: { vectors?: { apply(rows: readonly RowChange[]): void } };
  readonly kv: Pick<KvStore, 'get' | 'scan'>;
  commit(unit: UnitOfWork): Promise<void>;
  exclusive<T>(fn: () => Promise<T> | T): Promise<T>;
  readonly coldReader: Pick<ColdReader, 'vectorNarrow'>;
  readonly jobs: { enqueue(type: 'vector_index', parameters: JobRecord['parameters'], work: (record: JobRecord, isCancelled: () => boolean) => Promise<void>): JobRecord; readonly stopped?: boolean };
  vectors?: VectorIndexes;
}

/** Runs one SELECT as `state` (a build reads its partition's rows with it). */
export type RunSelect = (state: SessionState, sql: string, params: readonly Value[]) => Promise<StatementResult>;

/** One partition's graph. */
interface PartitionIndex {
  readonly key: string;
  readonly snapshotKey: Uint8Array;
  graph: Hnsw<Value>;
  /** The newest `_seq` the graph covers. */
  seq: bigint;
  /** Changes applied since the last snapshot; a snapshot write is under way while `saving`. */
  unsaved: number;
  saving: boolean;
  /** Node of each row's current version, by primary-key hash; bounded by the partition's rows. */
  readonly nodes: Map<string, number>;
  ready: boolean;
  /** Changes committed while the build runs, replayed after it; emptied then. */
  pending: RowChange[];
  lastUsed: number;
}

const keyOf = (t: TableDef, vi: VectorIndexDef, partition: string) => `${t.id}:${vi.columnId}:${partition}`;
/** The snapshot record's key in the system store. */
export const snapshotKeyOf = (tableId: number, columnId: number, partition: string) => encodeKey(['vector_index', tableId, columnId, partition]);

/** What a snapshot record holds. */
interface SnapshotRecord {
  seq: bigint;
  graph: HnswSnapshot<Value>;
}
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

export class VectorIndexes implements VectorSearcher {
  /** Graphs by (table, column, partition); bounded by `vectorIndexBytes` (evictOverBound). */
  private readonly graphs = new Map<string, PartitionIndex>();
  /** Partitions whose graph alone passed the bound: not rebuilt until the index or the bound changes. */
  private readonly tooLarge = new Set<string>();
  private tooLargeAt = 0;
  /** Partitions whose next build reads every live row instead of the snapshot (their graph was dropped for its removed nodes). */
  private readonly fresh = new Set<string>();
  builds = 0;
  rebuilds = 0;
  evictions = 0;
  searches = 0;
  fallbacks = 0;
  private clock = 0;

  constructor(
    private readonly engine: VectorIndexHost,
    private readonly run: RunSelect,
  ) {}

  /** The ef searches use at least (setting vector_index_ef). */
  get ef(): number {
    return this.engine.options.vectorIndexEf;
  }

  /** Bytes of all graphs. */
  bytes(): number {
    let n = 0;
    for (const g of this.graphs.values()) n += g.graph.bytes();
    return n;
  }

  metrics(): [string, Value][] {
    return [
      ['vector_index_bytes', this.bytes()],
      ['vector_index_partitions', [...this.graphs.values()].filter((g) => g.ready).length],
      ['vector_index_builds', this.builds],
      ['vector_index_evictions', this.evictions],
      ['vector_index_rebuilds', this.rebuilds],
      ['vector_index_searches', this.searches],
      ['vector_index_exact_fallbacks', this.fallbacks],
      ['vector_index_snapshots', this.snapshots],
    ];
  }

  /** The index's graphs are gone (DROP VECTOR INDEX, DROP TABLE, a new index on the column). */
  forget(tableId: number, columnId?: number): void {
    const prefix = columnId === undefined ? `${tableId}:` : `${tableId}:${columnId}:`;
    for (const k of [...this.graphs.keys()]) if (k.startsWith(prefix)) this.graphs.delete(k);
    for (const k of [...this.tooLarge]) if (k.startsWith(prefix)) this.tooLarge.delete(k);
    for (const k of [...this.fresh]) if (k.startsWith(prefix)) this.fresh.delete(k);
  }

  /** Committed row changes (Committer): each updates the graphs of its partition that exist. */
  apply(rows: readonly RowChange[]): void {
    if (this.graphs.size === 0) return;
    for (const c of rows) {
      const vis = c.table.vectorIndexes;
      if (!vis) continue;
      for (const vi of vis) {
        const g = this.graphs.get(keyOf(c.table, vi, c.user));
        if (!g) continue;
        if (g.ready) {
          applyChange(g, c, vi);
          if (bloated(g.graph)) {
            // Dropped: the next query searches exactly and requests a build from the live rows.
            this.graphs.delete(g.key);
            this.fresh.add(g.key);
            this.rebuilds++;
          } else if (++g.unsaved >= SNAPSHOT_EVERY) this.save(g);
        } else g.pending.push(c);
      }
    }
    this.evictOverBound(undefined);
  }

  /**
   * The `count` nearest rows' primary keys in the partition by the index's
   * metric, or undefined when its graph is not built (a build is requested).
   */
  search(t: TableDef, vi: VectorIndexDef, partition: string, query: Float32Array, count: number, ef: number): Value[] | undefined {
    const key = keyOf(t, vi, partition);
    const g = this.graphs.get(key);
    if (!g || !g.ready) {
      if (!g) this.requestBuild(t, vi, partition);
      this.fallbacks++;
      return undefined;
    }
    g.lastUsed = ++this.clock;
    this.searches++;
    return g.graph.search(query, count, Math.max(ef, count)).map((n) => n.key);
  }

  /** Live rows the partition's graph holds (undefined: not built). */
  sizeOf(t: TableDef, vi: VectorIndexDef, partition: string): number | undefined {
    const g = this.graphs.get(keyOf(t, vi, partition));
    return g?.ready ? g.graph.size : undefined;
  }

  /** Whether a partition's graph is built (tests, EXPLAIN). */
  isBuilt(t: TableDef, vi: VectorIndexDef, partition: string): boolean {
    return this.graphs.get(keyOf(t, vi, partition))?.ready === true;
  }

  /** Queues the partition's build as a `vector_index` job, unless one runs or the graph would not fit; returns the job record. */
  requestBuild(t: TableDef, vi: VectorIndexDef, partition: string): JobRecord | undefined {
    const key = keyOf(t, vi, partition);
    if (this.tooLargeAt !== this.engine.options.vectorIndexBytes) {
      this.tooLarge.clear();
      this.tooLargeAt = this.engine.options.vectorIndexBytes;
    }
    if (this.graphs.has(key) || this.tooLarge.has(key) || this.engine.jobs.stopped) return undefined;
    const column = t.columns.find((c) => c.id === vi.columnId);
    if (!column || t.pk < 0) return undefined;
    const dim = column.precision ?? 0;
    const g: PartitionIndex = {
      key,
      snapshotKey: snapshotKeyOf(t.id, vi.columnId, partition),
      graph: new Hnsw<Value>(dim, vi.metric), // HNSW_M, HNSW_EF_CONSTRUCTION; a snapshot keeps the m it was built with
      seq: 0n,
      unsaved: 0,
      saving: false,
      nodes: new Map(),
      ready: false,
      pending: [],
      lastUsed: ++this.clock,
    };
    // Registered before the partition is read: a change committed from now on is queued for replay.
    this.graphs.set(key, g);
    const pkName = t.columns[t.pk].name;
    const parameters = { table: `${t.namespace}.${t.name}`, column: column.name, metric: vi.metric, partition };
    return this.engine.jobs.enqueue('vector_index', parameters, async (record, isCancelled) => {
      try {
        const state: SessionState = { user: t.type === 'USER' ? partition : 'root', role: 'system', namespace: t.namespace };
        // From the snapshot when there is one of this index's kind: then only newer rows (tombstones too) are read.
        const snap = this.fresh.has(key) ? undefined : ((await this.engine.kv.get('system', g.snapshotKey)) as SnapshotRecord | undefined);
        const fromSnapshot = snap && snap.graph.metric === vi.metric && snap.graph.dim === dim ? Hnsw.restore(snap.graph) : undefined;
        // A snapshot taken before its graph was dropped for its removed nodes (the engine closed before the rebuild) is not used either.
        const restored = fromSnapshot && !bloated(fromSnapshot) ? fromSnapshot : undefined;
        if (restored && snap) {
          g.graph = restored;
          g.seq = snap.seq;
          for (let n = 0; n < restored.nodes; n++) if (!restored.isRemoved(n)) g.nodes.set(hashKey(restored.keyOf(n)), n);
        }
        const from = `SELECT ${quote(pkName)}, ${quote(column.name)}, _seq, _deleted FROM ${quote(t.namespace)}.${quote(t.name)}`;
        const result = restored ? await this.run(state, `${from} WHERE _seq > $1 AND (_deleted OR NOT _deleted)`, [g.seq]) : await this.run(state, from, []);
        const rows = (result as { rows?: readonly Record<string, Value>[] }).rows ?? [];
        let added = 0;
        for (let i = 0; i < rows.length; i++) {
          if (this.graphs.get(key) !== g || isCancelled()) throw new Error('cancelled');
          const r = rows[i];
          const pk = r[pkName];
          const v = r[column.name];
          const h = hashKey(pk);
          const old = g.nodes.get(h);
          if (old !== undefined) {
            g.graph.remove(old);
            g.nodes.delete(h);
          }
          if (v instanceof Float32Array && r._deleted !== true && v.length === dim) {
            g.nodes.set(h, g.graph.add(pk, v));
            added++;
          }
          if (typeof r._seq === 'bigint' && r._seq > g.seq) g.seq = r._seq;
          if (i % BUILD_SLICE === BUILD_SLICE - 1) await new Promise<void>((resolve) => setTimeout(resolve, 0));
        }
        for (const c of g.pending) applyChange(g, c, vi);
        g.pending = [];
        g.ready = true;
        this.fresh.delete(key);
        this.builds++;
        record.rows_affected = added;
        record.message = `Vector index on ${parameters.table}.${column.name} ${restored ? `loaded for partition '${partition}' from its snapshot, ${rows.length} newer row version(s) replayed` : `built for partition '${partition}'`}: ${g.graph.size} vectors, ${g.graph.bytes()} bytes`;
        if (!restored || rows.length > 0) this.save(g);
        this.evictOverBound(g);
      } catch (e) {
        if (this.graphs.get(key) === g) this.graphs.delete(key);
        if (isCancelled() || (e as Error).message === 'cancelled') return;
        throw e;
      }
    });
  }

  /** Writes the graph's snapshot record (one at a time per graph; a failure leaves the older one, which a build replays from). */
  private save(g: PartitionIndex): void {
    if (g.saving) return;
    g.saving = true;
    g.unsaved = 0;
    const record: SnapshotRecord = { seq: g.seq, graph: g.graph.snapshot() };
    const write = () => this.engine.commit({ state: [{ writes: [{ store: 'system', key: g.snapshotKey, value: record }], apply: () => undefined }] });
    this.snapshotsPending++;
    this.engine
      .exclusive(() => (this.graphs.get(g.key) === g ? write() : undefined))
      .then(() => this.snapshots++, () => undefined)
      .finally(() => {
        g.saving = false;
        this.snapshotsPending--;
      });
  }

  /** Snapshot writes made, and under way (tests wait for them). */
  snapshots = 0;
  snapshotsPending = 0;

  /** Drops least recently used graphs until all fit the bound (`keep` last; dropped too when alone it does not fit). */
  private evictOverBound(keep: PartitionIndex | undefined): void {
    const bound = this.engine.options.vectorIndexBytes;
    let total = this.bytes();
    if (total <= bound) return;
    const byAge = [...this.graphs.values()].filter((g) => g.ready && g !== keep).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const g of byAge) {
      if (total <= bound) return;
      total -= g.graph.bytes();
      this.graphs.delete(g.key);
      this.evictions++;
    }
    if (keep && total > bound) {
      this.graphs.delete(keep.key);
      this.tooLarge.add(keep.key);
      this.evictions++;
    }
  }
}

/** Whether a graph's removed nodes outnumber both REBUILD_REMOVED_MIN and its live ones. */
function bloated(graph: Hnsw<Value>): boolean {
  const removed = graph.nodes - graph.size;
  return removed > REBUILD_REMOVED_MIN && removed > graph.size;
}

/** One committed change on a built graph: the old version's node removed, the new live version's vector added. */
function applyChange(g: PartitionIndex, c: RowChange, vi: VectorIndexDef): void {
  const old = g.nodes.get(c.pkHash);
  if (old !== undefined) {
    g.graph.remove(old);
    g.nodes.delete(c.pkHash);
  }
  const row = c.row;
  const seq = row?.[seqSlot(c.table)];
  if (typeof seq === 'bigint' && seq > g.seq) g.seq = seq;
  if (!row || row[deletedSlot(c.table)] === true) return;
  const slot = c.table.columns.findIndex((x) => x.id === vi.columnId);
  const v = slot >= 0 ? row[slot] : null;
  if (v instanceof Float32Array && v.length === g.graph.dim) g.nodes.set(c.pkHash, g.graph.add(c.pk, v));
}

/** Installs the vector indexes into the engine's hooks (once). */
export function installVectorIndexes(engine: VectorIndexHost, run: RunSelect): VectorIndexes {
  if (engine.vectors) return engine.vectors;
  const vectors = new VectorIndexes(engine, run);
  engine.vectors = vectors;
  engine.committer.vectors = vectors;
  registerVectorPlanner(planVectorScan, vectors);
  engine.coldReader.vectorNarrow = (plan, user, params) => {
    const requests = vectorPlanning.byPlan.get(plan);
    if (!requests) return undefined;
    const out: NonNullable<ReturnType<NonNullable<ColdReader['vectorNarrow']>>> = [];
    for (const r of requests) {
      const n = r.narrow(user, params);
      if (n) out.push({ tableId: r.tableId, ...n });
    }
    return out;
  };
  return vectors;
}
