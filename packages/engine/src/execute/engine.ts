/**
 * The engine: one catalog, one hot tier, one cold tier, one plan cache and
 * one live registry, shared by every session. This class only builds the
 * parts, opens and closes them, and hands each executor the narrow context
 * it declares (DdlContext, FlushContext, LiveContext, …): statement
 * dispatch is dispatch.ts, batches and transactions batch.ts, the one
 * commit path commit.ts.
 */
import { decimalMath } from '../core/decimal-registry';
import { intervalMath } from '../core/interval-registry';
import { ensureIndexSupport, loadIndexSupport, type UniqueCheck } from './index-loader';
import { ensureVectorIndexes } from './vector-index-loader';
import type { VectorIndexes } from './vector-index';
import { UserRegistry } from '../auth/users';
import { Catalog } from '../catalog/catalog';
import { KalamError } from '../core/errors';
import { SeqGenerator } from '../core/ids';
import { normalizeTime } from '../core/datetime';
import { deletedSlot, seqSlot, type RowChange, type StoredRow, type TableDef } from '../core/schema';
import type { Value } from '../core/types';
import { freezeJson } from '../core/values';
import type { ExecContext } from '../exec/context';
import { newPace, type CancelSignal, type Pace } from '../exec/pace';
import { flushAfterCommit, waitForHotRoom, type AutoFlushCounters, type HotBudget } from '../jobs/auto-flush';
import { recoverCompactions, requestDueCompactions, requestRetentionCompactions } from '../jobs/compact';
import { flushDueTables, hasFlushPolicies, recoverFlushes } from '../jobs/flush';
import { hasFormat1, loadSegmentUpgrade } from '../jobs/segment-upgrade-loader';
import { sweepSegmentFiles } from '../jobs/segment-write';
import { JobScheduler } from '../jobs/scheduler';
import { LiveRegistry } from '../live/registry';
import type { LiveChangeCallback, LiveOptions } from '../live/types';
import type { PlanCache } from '../plan/cache';
import type { RelationSource } from '../plan/source';
import { RowGroupCache } from '../storage/cold/cache';
import { ColdTier } from '../storage/cold/cold-tier';
import { kvSegmentStore } from '../storage/cold/kv-segment-store';
import { guardSegmentStore, guardStore } from '../storage/guarded-store';
import { Manifest } from '../storage/cold/manifest';
import type { ColdReads } from '../storage/cold/types';
import type { PartitionView } from '../storage/partition-view';
import { HotTier, storeOf } from '../storage/hot-tier';
import { openIdbStore } from '../storage/idb';
import type { KvStore } from '../storage/kv';
import { openMemoryStore } from '../storage/memory';
import type { Durability } from '../storage/opfs-log';
import type { UnitOfWork } from '../storage/unit-of-work';
import { AuditLog } from '../system/audit';
import { MigrationLog } from '../system/migrations';
import type { SystemEnv } from '../system/tables';
import { beginTransaction, commitTransaction, executeBatch, rollbackTransaction } from './batch';
import { ColdReader, type PreparedCold } from './cold-reads';
import { PartitionViews } from './partition-views';
import { Committer } from './commit';
import { runStatement } from './dispatch';
import { hasImportMarker } from './import-marker';
import { loadBackup, loadTopics } from './lazy-executors';
import { loadColumnTypesFor, loadSqlExtensions } from './sql-extensions';
import type { TopicLog } from './topic-log';
import type { Files } from './files';
import { loadFiles } from './files-loader';
import type { JobRecord } from '../jobs/job';
import { encodeKey, prefixUpperBound } from '../storage/keys';
import { GroupCommitter } from './group-commit';
import { LiveQueries, type LiveOwner, type LiveStop } from './live';
import { checkDurability, resolveOptions, sqlLimitsOf, type OpenOptions, type ResolvedOptions } from './options';
import { StatementPlanner, type Plan, type Planned } from './planner';
import type { SessionState } from './session-state';
import { QueryRegistry, type CallOptions, type StatementSignal } from './queries';
import type { CommittedLookup } from './transaction';
import { metricsOf, settingsOf } from './stats';
import { TableSources } from './table-source';
import { loadSqlParser } from '../sql/parser-loader';
import type { MigrateResult } from './migrate';
import { loadMigrate } from './migrate-loader';
import { loadOpfs } from './opfs-loader';
import { TransactionRegistry, type Transaction } from './transaction';

export type { OpenOptions, SessionState };

/** The backend as storage messages name it. */
function backendName(options: ResolvedOptions): string {
  switch (options.storage) {
    case 'memory': return 'memory';
    case 'idb': return `IndexedDB "${options.name}"`;
    case 'opfs': return `OPFS "${options.name}"`;
    default: return 'custom KvStore';
  }
}

/** What an open reads from the store first (Engine.readStored). */
interface StoredState {
  catalog: Catalog;
  users: UserRegistry;
  audit: AuditLog;
  manifest: Manifest;
  migrations: MigrationLog;
  hasTopics: boolean;
  hasFiles: boolean;
  importMarker: boolean;
}

export class Engine {
  readonly seq = new SeqGenerator();
  readonly snowflake = new SeqGenerator(undefined, 0n);
  /** When this engine opened: removals before it are not known to live replay (`from`). */
  readonly openedAt = Date.now();
  readonly committer: Committer;
  readonly sources: TableSources;
  readonly planner: StatementPlanner;
  readonly coldReader: ColdReader;
  readonly views: PartitionViews;
  readonly live: LiveRegistry;
  readonly liveQueries: LiveQueries;
  readonly groups: GroupCommitter;
  /** Background jobs (stream eviction, tombstone retention, flush); started by open, stopped by close. */
  readonly jobs: JobScheduler;
  /** Open explicit transactions (system.transactions). */
  readonly transactions: TransactionRegistry;
  /** Running statements (system.queries, KILL QUERY, AbortSignal cancellation). */
  readonly queries: QueryRegistry;
  readonly systemEnv: SystemEnv;
  readonly budget: HotBudget;
  /** The IndexedDB database whose KV store holds the segments, when a compaction helper may open it itself (storage 'idb', the global indexedDB, no custom segment store). */
  readonly segmentsIdb: { readonly name: string; readonly durability: 'relaxed' | 'strict' } | undefined;
  readonly autoFlush: AutoFlushCounters = { autoFlushes: 0, budgetFlushes: 0, writesWaited: 0 };
  /** Set once secondary indexes are loaded (index-loader.ts): at open when a table has one, or by the first CREATE INDEX. */
  uniqueCheck?: UniqueCheck;
  /** FILE columns (execute/files.ts): attached at open when files were ever stored, or on first use. */
  declare files: Files | undefined;
  /** Topics (execute/topic-log.ts): attached with the topic code at open when the database has topics, or by the first topic statement. */
  topics: TopicLog | undefined;
  /** Vector indexes (execute/vector-index.ts): installed at open when a table has one, or by the first CREATE VECTOR INDEX. */
  declare vectors: VectorIndexes | undefined;
  private closed = false;
  /** The last migrate() call: the next one runs after it (one at a time). Never rejects. */
  private migrating: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly kv: KvStore,
    readonly catalog: Catalog,
    readonly hot: HotTier,
    readonly cold: ColdTier,
    readonly users: UserRegistry,
    readonly audit: AuditLog,
    readonly migrations: MigrationLog,
    readonly options: ResolvedOptions,
  ) {
    this.budget = { hotBudgetBytes: options.hotBudgetBytes, hotPartitionRows: options.hotPartitionRows };
    // A compaction helper opens this IndexedDB database itself to read and write segment bytes (jobs/compact-offload.ts).
    this.segmentsIdb = options.storage === 'idb' && !options.indexedDB && !options.segmentStore ? { name: options.name, durability: options.durability } : undefined;
    this.systemEnv = {
      catalog,
      metrics: () => this.metrics(),
      users: () => users.list(),
      live: () => this.live.list(),
      audit: () => audit.list(),
      jobs: () => this.jobs.history.list(),
      settings: () => this.settings(),
      transactions: () => this.transactions.list(),
      segments: () => cold.manifest.all(),
      queries: () => this.queries.list(),
      migrations: () => migrations.list(),
      topics: () => this.topics?.rows() ?? [],
      topicOffsets: () => this.topics?.offsetRows() ?? [],
    };
    this.views = new PartitionViews(catalog, hot, cold);
    this.sources = new TableSources(catalog, this.views, this.systemEnv);
    this.planner = new StatementPlanner(catalog, this.sources, options.planCacheSize, sqlLimitsOf(options));
    this.coldReader = new ColdReader(catalog, hot, cold, this.views, (plan) => this.planner.scansOf(plan));
    this.live = new LiveRegistry({ maxLiveQueries: options.maxLiveQueries, maxSubscriptionsPerSession: options.maxSubscriptionsPerSession });
    this.committer = new Committer({ kv, hot, cold, plans: this.planner.plans, live: this.live }, options.storageTimeoutMs);
    this.committer.attachFiles = async () => (await loadFiles()).attachFiles(this);
    this.queries = new QueryRegistry(options.maxRunningQueries);
    this.groups = new GroupCommitter(this, options.maxGroupCommitStatements);
    this.liveQueries = new LiveQueries(this);
    this.transactions = new TransactionRegistry({ maxRows: options.maxTransactionRows, maxOpen: options.maxOpenTransactions });
    this.jobs = new JobScheduler(
      {
        catalog,
        hot,
        commit: (rows) => this.commit({ rows, isCleanup: true }),
        withWriteLock: (fn) => this.exclusive(fn),
        flushDue: (now, run) => flushDueTables(this, now, run),
        hasFlushPolicies: () => hasFlushPolicies(this),
        coldMayHold: (t, user, pk) => cold.mayHold(t, user, pk as Value),
        compactExpired: (now) => requestRetentionCompactions(this, now),
        purgeFiles: async (now, run) => (this.files ? this.files.purgeRetained(now, options.jobBatchSize, run) : []),
      },
      {
        streamEvictionIntervalMs: options.streamEvictionIntervalMs,
        retentionIntervalMs: options.retentionIntervalMs,
        jobBatchSize: options.jobBatchSize,
        maxJobHistory: options.maxJobHistory,
        flushCheckIntervalMs: options.flushCheckIntervalMs,
      },
    );
  }

  static async open(given: OpenOptions): Promise<Engine> {
    const options = resolveOptions(given);
    const { durability, storageTimeoutMs: timeoutMs } = options;
    // The SQL grammar loads while the storage opens (sql/parser-loader.ts).
    const parserLoaded = loadSqlParser();
    parserLoaded.catch(() => undefined); // awaited below with the stored state's reads (a storage error wins)
    const opened =
      options.storage === 'memory' ? openMemoryStore()
      : options.storage === 'idb' ? await openIdbStore(options.name, options.indexedDB, durability)
      : options.storage === 'opfs' ? await (await loadOpfs()).openOpfsStore(options.name, { durability })
      : options.storage;
    // Every store the engine uses is guarded: failures are KalamErrors, operations are bounded in time (storage/guarded-store.ts).
    const kv = guardStore(opened, { backend: backendName(options), timeoutMs });
    try {
      // The stored state is read while the grammar loads (its reads are independent, so they go at once).
      const [stored, parser] = await Promise.allSettled([Engine.readStored(kv, options), parserLoaded]);
      if (stored.status === 'rejected') throw stored.reason; // a storage error wins
      if (parser.status === 'rejected') throw parser.reason;
      return await Engine.load(kv, options, stored.value);
    } catch (e) {
      // A store the engine opened is the engine's to close (a custom one stays the caller's); the open's own failure is the one to report.
      if (typeof options.storage === 'string') await kv.close().catch(() => undefined);
      throw e;
    }
  }

  /**
   * What an open reads before anything else, all at once: the catalog, users, audit log, manifest and
   * migration log, and whether the store holds topics, stored files or an interrupted import.
   */
  private static async readStored(kv: KvStore, options: ResolvedOptions): Promise<StoredState> {
    const topicKey = encodeKey(['topic']);
    let hasTopics = false;
    const [catalog, users, audit, manifest, migrations, , fileStore, importMarker] = await Promise.all([
      Catalog.load(kv, { maxSchemaVersions: options.maxSchemaVersions }),
      UserRegistry.load(kv),
      AuditLog.load(kv, options.maxAuditEntries),
      Manifest.load(kv),
      MigrationLog.load(kv),
      kv.scan('system', { lower: topicKey, upper: prefixUpperBound(topicKey) }, () => void (hasTopics = true)),
      kv.get('system', encodeKey(['file_store'])),
      hasImportMarker(kv),
    ]);
    return { catalog, users, audit, manifest, migrations, hasTopics, hasFiles: Boolean(fileStore) /* its value is 1 */, importMarker };
  }

  private static async load(kv: KvStore, options: ResolvedOptions, stored: StoredState): Promise<Engine> {
    const { catalog, users, audit, manifest, migrations } = stored;
    // Modules the open will install are fetched now, while the hot rows are read.
    if (catalog.listTables().some((t) => t.indexes?.length)) void loadIndexSupport().catch(() => undefined);
    // OPFS: segment bytes in files of their own (the KV store there is a log replayed at open). A segment
    // store other than the KV one is guarded as the KV store is (the KV one reads and writes through it).
    const guard = { timeoutMs: options.storageTimeoutMs };
    const segmentStore =
      options.segmentStore ? guardSegmentStore(options.segmentStore, { ...guard, backend: 'custom segment store' })
      : options.storage === 'opfs' ? guardSegmentStore(await (await loadOpfs()).openOpfsSegmentStore(options.name), { ...guard, backend: `OPFS segment files "${options.name}"` })
      : kvSegmentStore(kv);
    const cold = new ColdTier(manifest, segmentStore, new RowGroupCache(options.segmentCacheBytes), {
      rowGroupRows: options.rowGroupRows,
      rowPageRows: options.rowPageRows,
      maxSegmentRows: options.maxSegmentRows,
      compactL0Segments: options.compactL0Segments,
    });
    cold.preload();
    const engine = new Engine(kv, catalog, new HotTier(), cold, users, audit, migrations, options);
    for (const m of manifest.all()) {
      engine.seq.observe(m.max_seq);
      engine.committer.observe(m.max_seq);
    }
    await loadColumnTypesFor(catalog); // before any DECIMAL, INTERVAL or EMBEDDING value is read
    for (const t of catalog.listTables()) await engine.loadHot(t);
    // Format 1 segments (one blob each, in the KV store) are rewritten as sorted row groups first.
    if (hasFormat1(manifest)) await (await loadSegmentUpgrade()).upgradeSegments(engine, kvSegmentStore(kv));
    // Segments a compaction replaced before a crash, then outputs it (or a flush) did not finish.
    await recoverCompactions(engine);
    await recoverFlushes(engine);
    await sweepSegmentFiles(engine);
    await ensureIndexSupport(engine);
    await ensureVectorIndexes(engine, (s, sql, ps) => runStatement(engine, s, sql, ps));
    // An import a crash cut off is dropped before any statement can see part of it (import-recovery.ts).
    // The topic code loads at open only when the store holds a topic (execute/topics.ts).
    if (stored.hasTopics) await (await loadTopics()).attachTopics(engine);
    // Files were stored once: their totals are read and blobs a crash left without a record deleted (execute/files.ts).
    if (stored.hasFiles) await engine.committer.attachFiles!();
    if (stored.importMarker) await (await loadBackup()).rollBackInterruptedImport(engine);
    engine.jobs.start();
    // A database written before the hot tier was bounded (or with a larger budget) is brought under it.
    flushAfterCommit(engine, new Map());
    requestDueCompactions(engine);
    // A migration a crash cut off is taken back. Should that fail, the open still succeeds (the data is
    // readable) and the journal stays: the next migrate() tries again and reports why (MIGRATION_FAILED).
    if (migrations.pendingUndo()) await engine.migrate(undefined).catch(() => undefined);
    return engine;
  }

  /** Loads a table's hot rows; a table stored one record per row (format 1) is rewritten into pages. */
  private async loadHot(t: TableDef): Promise<void> {
    const pk = t.pk;
    const seqAt = seqSlot(t);
    const json = t.columns.flatMap((c, i) => (c.type === 'JSON' || c.type === 'FILE' ? [i] : []));
    // DECIMAL's and INTERVAL's chunks are loaded before the tables (Engine.load).
    const types = new Set(t.columns.map((c) => c.type));
    // TIME written before its text was PostgreSQL's ('10:23', now '10:23:00') reads as it is written now (not a key: it places the row).
    const times = t.columns.flatMap((c, i) => (c.type === 'TIME' && i !== pk ? [i] : []));
    const revive = types.has('DECIMAL') || types.has('INTERVAL') || times.length > 0 ? (row: Value[]) => {
      if (types.has('DECIMAL')) decimalMath().reviveRow(t, row);
      if (types.has('INTERVAL')) intervalMath().reviveRow(t, row);
      for (const i of times) {
        const v = row[i];
        const time = typeof v === 'string' ? normalizeTime(v) : undefined;
        if (time !== undefined && time !== v && !Object.isFrozen(row)) row[i] = time;
      }
    } : undefined;
    const moved = await this.hot.load(this.kv, storeOf(t), t.id, (_user, row) => {
      for (const i of json) freezeJson(row[i]); // read back from storage: deep-frozen as when it was written
      this.seq.observe(row[seqAt] as bigint);
      this.committer.observe(row[seqAt] as bigint);
      return pk >= 0 ? row[pk] : row[seqAt];
    }, deletedSlot(t), revive);
    if (moved) await this.commit({ state: [moved] });
  }

  // -- the contexts executors are given --

  get plans(): PlanCache<Plan> {
    return this.planner.plans;
  }

  get committedSeq(): bigint {
    return this.committer.committedSeq;
  }

  get commits(): number {
    return this.committer.commits;
  }

  committedLookup(cold?: ColdReads): CommittedLookup {
    return this.coldReader.committedLookup(cold);
  }

  prepareKeys(keys: Iterable<{ table: TableDef; user: string; pk: Value }>): Promise<PreparedCold> {
    return this.coldReader.prepareKeys(keys);
  }

  /** Loads the SQL extensions `text` needs (execute/sql-extensions.ts): for SQL the engine compiles itself (a topic source's WHERE). */
  loadSqlExtensions(text: string): Promise<void> {
    return loadSqlExtensions(text, this.catalog);
  }

  /** One statement's changes checked before they join a group commit (commit.ts vet: FILE values). */
  vet(changes: readonly RowChange[]): Promise<void> | undefined {
    return this.committer.vet(changes);
  }

  /** The one commit path (commit.ts); then the flushes the rows it added call for (jobs/auto-flush.ts). */
  async commit(unit: UnitOfWork): Promise<void> {
    await this.committer.commit(unit);
    if (!unit.rows || unit.rows.length === 0) return;
    const changed = new Map<TableDef, Set<string>>();
    for (const c of unit.rows) {
      let users = changed.get(c.table);
      if (!users) changed.set(c.table, (users = new Set()));
      users.add(c.user);
    }
    flushAfterCommit(this, changed);
  }

  /** Runs the topic_retention job now (also run every retentionIntervalMs); undefined when no topic has a retention setting. */
  async runTopicRetention(now = Date.now()): Promise<JobRecord | undefined> {
    return (await loadTopics()).runRetentionNow(this, now);
  }

  /** Resolves true when a commit adds messages to `topic`, false after `timeoutMs`. */
  async waitForTopic(topic: string, timeoutMs: number): Promise<boolean> {
    return (await loadTopics()).waitForTopic(this, topic, timeoutMs);
  }

  /** Back-pressure before a write: waits while the hot tier is past twice its budget and a flush drains it. */
  waitForHotRoom(): Promise<void> {
    return waitForHotRoom(this);
  }

  /** Runs `fn` after every earlier write finished: writes are serialized. */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    return this.committer.exclusive(fn);
  }

  /** One of each for every context (a live query keeps its context: no closures per context). */
  private readonly nextSnowflake = () => this.snowflake.next();
  private readonly nextSeq = () => this.seq.next();

  context(state: SessionState, params: readonly Value[], tx?: Transaction): ExecContext {
    return {
      params,
      user: state.user,
      role: state.role,
      now: Date.now(),
      snowflakeId: this.nextSnowflake,
      nextSeq: this.nextSeq,
      staged: tx,
      limits: this.planner.limits,
    };
  }

  pace(signal?: CancelSignal): Pace {
    return newPace(this.options.statementSliceMs, this.options.statementTimeoutMs, signal);
  }

  tableSource(t: TableDef): RelationSource {
    return this.sources.tableSource(t);
  }

  /** `indexed`: a SELECT outside a transaction, whose index reads may be prepared through the indexes' cold records; `lazy`: whose cold groups may load as its scans reach them. */
  prepareCold(plan: { tableIds: readonly number[] }, user: string, params: readonly Value[], indexed?: boolean, lazy?: boolean): Promise<PreparedCold> {
    return this.coldReader.prepare(plan, user, params, indexed, lazy);
  }

  /** Whether live queries read a table partition (a compaction publishes the tombstones it drops to them). */
  hasLiveReaders(tableId: number, user: string): boolean {
    return this.live.countFor(tableId, user) > 0;
  }

  /** A partition's merged view (live maintenance reads partitions directly). */
  partitionView(tableId: number, user: string, cold?: ColdReads): PartitionView | undefined {
    return this.views.viewById(tableId, user, cold);
  }

  assertOpen(): void {
    if (this.closed) throw new KalamError('CLOSED', 'The database is closed: open it again with openDatabase()');
  }

  // -- the engine's own API (the api layer and tests use it) --

  /**
   * Runs a batch. `tx` is an API transaction (session.begin/transaction) the
   * batch runs in; BEGIN … COMMIT inside the batch opens one that must end
   * in the same batch. Any failure inside a transaction rolls it back.
   */
  execute(state: SessionState, sql: string, params: readonly Value[] = [], tx?: Transaction, call: CallOptions = {}) {
    return executeBatch(this, state, sql, params, tx, call);
  }

  runStatement(state: SessionState, text: string, params: readonly Value[], tx?: Transaction, signal?: StatementSignal) {
    return runStatement(this, state, text, params, tx, signal);
  }

  plan(state: SessionState, text: string, params: readonly Value[]): Planned {
    return this.planner.plan(state, text, params);
  }

  beginTransaction(owner: string, origin: 'sql' | 'api'): Transaction {
    return beginTransaction(this, owner, origin);
  }

  commitTransaction(tx: Transaction): Promise<void> {
    return commitTransaction(this, tx);
  }

  rollbackTransaction(tx: Transaction, reason?: string): void {
    rollbackTransaction(this, tx, reason);
  }

  /** session.live: the first result is delivered when this resolves. */
  openLive(state: SessionState, sql: string, params: readonly Value[], onChange: LiveChangeCallback, onError: (e: KalamError) => void, options: LiveOptions = {}, owner: LiveOwner = { session: 0 }): Promise<LiveStop> {
    return this.liveQueries.open(state, sql, params, onChange, onError, options, owner);
  }

  /** A live query opened synchronously (its first result is delivered before this returns). */
  liveQuery(state: SessionState, sql: string, params: readonly Value[], onChange: LiveChangeCallback, onError: (e: KalamError) => void, options: LiveOptions = {}, owner: LiveOwner = { session: 0 }): LiveStop {
    const { stop, liveId } = this.liveQueries.subscribe(state, sql, params, onChange, onError, options, owner);
    return Object.assign(stop, { liveId });
  }

  /**
   * Applies the migrations not applied yet (execute/migrate.ts), after any
   * migrate() call already running. `undefined`: only takes back a migration
   * a crash cut off.
   */
  migrate(migrations: unknown): Promise<MigrateResult> {
    const run = this.migrating.then(async () => {
      // The runner is loaded on first use (migrate-loader.ts): a database that never migrates never fetches it.
      const { migrate, undoInterrupted } = await loadMigrate();
      if (migrations === undefined) {
        await undoInterrupted(this);
        return { version: this.migrations.version, applied: [] };
      }
      return migrate(this, migrations);
    });
    this.migrating = run.catch(() => undefined);
    return run;
  }

  settings() {
    return settingsOf(this);
  }

  metrics() {
    return metricsOf(this);
  }

  /** Changes when later writes are acknowledged (OpenOptions.durability). */
  setDurability(durability: Durability): void {
    this.assertOpen();
    checkDurability(durability);
    this.kv.setDurability?.(durability);
    this.options.durability = durability;
  }

  /**
   * Stops the jobs, cancels running statements (they stop at their next
   * pause point), waits for the writes already queued — each bounded by
   * storageTimeoutMs — and closes the store (bounded too).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.queries.cancelAll('the database was closed');
    this.live.stopTimers();
    this.topics?.stop();
    await this.jobs.stop();
    await this.committer.drained();
    this.closed = true;
    this.committer.close();
    this.transactions.rollbackAll('the database was closed');
    await this.cold.store.close?.();
    await this.files?.store.close?.();
    await this.kv.close();
  }
}
