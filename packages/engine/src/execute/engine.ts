/**
 * The api layer: `openDatabase()`, `Database`, `Session`. One engine owns
 * one catalog, one hot tier, one plan cache and one live registry, shared by
 * every session; a session is only a user id, a role and a namespace.
 */
import type { ArrowTable } from '../api/arrow';
import { loadArrow } from '../api/arrow-loader';
import { checkReturnsRows } from '../api/returns-rows';
import { canImpersonate, checkRead, checkSystemRead, checkWrite, impersonationDenied, isAdmin } from '../auth/permissions';
import { UserRegistry } from '../auth/users';
import { AuditLog } from '../system/audit';
import { Catalog, DEFAULT_NAMESPACE } from '../catalog/catalog';
import { type ColumnDef, type TableDef } from '../core/schema';
import { executeDdl, type DdlStatement } from './ddl';
import { KalamError, toKalamError } from '../core/errors';
import { SeqGenerator, uuidV7 } from '../core/ids';
import { JobScheduler, resolveJobSettings } from '../jobs/scheduler';
import { analyzeLive, type Analysis } from '../live/analyze';
import { LIVE_DEFAULTS, LiveRegistry, type CommitGroups } from '../live/registry';
import { Subscription, type LiveDeps } from '../live/subscription';
import { isCurrent, loadCold, residentCold, type LiveCold, type LoadedCold } from '../live/cold';
import type { LiveChange, LiveChangeCallback, LiveOptions } from '../live/types';
import { retentionHours } from '../jobs/retention';
import { PlanCache } from '../plan/cache';
import type { ExecContext, StagedRows, Tuple } from '../exec/context';
import { planSelect, type SelectPlan } from '../plan/select';
import type { RelationSource, SourceResolver } from '../plan/source';
import { planDelete, planInsert, planUpdate, type RowChange, type WriteOutcome, type WritePlan } from '../plan/write';
import { deletedSlot, seqSlot } from '../core/schema';
import { isDml, type DmlStatement, type Statement, type SubscribeStmt } from '../sql/ast';
import { liftLiterals, splitStatements, tokenize, type Token } from '../sql/lexer';
import { parseStatement } from '../sql/parse';
import { HotTier, PAGE_ROWS, type HotChange } from '../storage/hot-tier';
import { type StoredRow } from '../core/schema';
import { openIdbStore } from '../storage/idb';
import { openOpfsStore } from '../storage/opfs';
import type { Durability } from '../storage/opfs-log';
import { runGroup, WriteGroup, WriteOverlay } from './group-commit';
import type { KvStore, KvWrite, StoreName } from '../storage/kv';
import { openMemoryStore } from '../storage/memory';
import { systemSource, type SystemEnv } from '../system/tables';
import { STREAM_REFUSED, TRANSACTION_DEFAULTS, TransactionRegistry, type CommittedLookup, type Transaction } from './transaction';
import type { ColumnInfo, JsonValue, Role, Row, SessionOptions, StatementResult, Value } from '../core/types';
import { ROLES } from '../core/types';
import { hashKey } from '../core/values';
import { executeStorageStatement, flushDueTables, hasFlushPolicies, recoverFlushes } from './flush';
import { isStorageStatement } from '../sql/parse-storage';
import { scanTemplates, resolveBounds, type ScanTemplate } from '../plan/scan-bounds';
import { ColdTier, COLD_DEFAULTS, NOTHING } from '../storage/cold/cold-tier';
import { SegmentCache } from '../storage/cold/cache';
import { Manifest } from '../storage/cold/manifest';
import { kvSegmentStore } from '../storage/cold/kv-segment-store';
import { mergedRows, newestVersion } from '../storage/cold/merge';
import type { ScanBounds } from '../storage/cold/prune';
import type { ColdReads, DecodedSegment, PreparedPartition, SegmentStore } from '../storage/cold/types';

export interface OpenOptions {
  /** IndexedDB database name, or OPFS directory name (default 'kalamlite'). */
  name?: string;
  /** 'opfs' needs a dedicated worker with OPFS sync access handles; elsewhere it fails with UNSUPPORTED (use 'idb'). */
  storage: 'memory' | 'idb' | 'opfs' | KvStore;
  /** IndexedDB factory (tests pass fake-indexeddb's); defaults to globalThis.indexedDB. */
  indexedDB?: IDBFactory;
  /** Compiled plans kept (LRU). Default 256. */
  planCacheSize?: number;
  /** Live queries open at once across all sessions. Default 1000. */
  maxLiveQueries?: number;
  /** Live queries one session may hold open at once (KalamDB: 10 per user). Default 100. */
  maxSubscriptionsPerSession?: number;
  /** Entries kept in system.audit_log (oldest dropped). Default 10,000. */
  maxAuditEntries?: number;
  /** Schema versions kept per table in system.schemas (oldest dropped). Default 64. */
  maxSchemaVersions?: number;
  /** Rows one explicit transaction may stage before it fails. Default 100,000. */
  maxTransactionRows?: number;
  /** Explicit transactions open at once across all sessions. Default 1000. */
  maxOpenTransactions?: number;
  /** Expired STREAM rows are deleted every this many ms (0: never on a timer). Default 60,000. */
  streamEvictionIntervalMs?: number;
  /** Tombstones past DELETED_RETENTION_HOURS are purged every this many ms (0: never on a timer). Default 3,600,000. */
  retentionIntervalMs?: number;
  /** Rows a background job removes per storage commit. Default 1000. */
  jobBatchSize?: number;
  /** Records kept in system.jobs (oldest dropped). Default 500. */
  maxJobHistory?: number;
  /** Tables with a FLUSH_POLICY are checked every this many ms (0: never on a timer). Default 60,000. */
  flushCheckIntervalMs?: number;
  /** Decoded cold segments kept in memory (LRU), by their rough size in bytes. Default 64 MiB. */
  segmentCacheBytes?: number;
  /** Where cold segment bytes live; default: the KV store's `segments` store. */
  segmentStore?: SegmentStore;
  /** More name → value pairs for system.stats from whoever hosts the engine (the worker reports its connected clients). */
  hostMetrics?: () => readonly [string, Value][];
  /** Write statements committed together in one storage commit at most (group commit). Default 1000. */
  maxGroupCommitStatements?: number;
  /**
   * When a write is acknowledged ('idb' and 'opfs'). 'relaxed' (default):
   * once the browser has it — it survives the worker, the tab or the
   * browser crashing, and the page reloading (IndexedDB's own default in
   * Chromium). 'strict': once it is flushed to the disk, so it also survives
   * a power loss; each commit pays for the flush.
   */
  durability?: Durability;
}

export const DEFAULTS = { planCacheSize: 256, maxLiveQueries: LIVE_DEFAULTS.maxLiveQueries, maxSubscriptionsPerSession: LIVE_DEFAULTS.maxSubscriptionsPerSession, maxAuditEntries: 10_000, maxGroupCommitStatements: 1000 } as const;

type Plan = SelectPlan | WritePlan;

/** Mutable per-session state (USE changes the namespace). */
export interface SessionState {
  user: string;
  role: Role;
  namespace: string;
}

const SEQ_EPOCH_MS = 1704067200000;

/** The smallest `_seq` taken at or after `ms` (any worker). */
export const seqAtMillis = (ms: number): bigint => BigInt(Math.max(0, Math.floor(ms) - SEQ_EPOCH_MS)) << 22n;

export const storeOf = (t: TableDef): StoreName => (t.type === 'USER' ? 'user' : t.type === 'SHARED' ? 'shared' : 'stream');

/** Row changes as the hot tier stages them (storage/hot-tier.ts). */
export function* hotChanges(changes: Iterable<{ table: TableDef; user: string; pkHash: string; row: StoredRow | null }>): Generator<HotChange> {
  for (const c of changes) yield { tableId: c.table.id, user: c.user, pkHash: c.pkHash, row: c.row, store: storeOf(c.table), deletedSlot: deletedSlot(c.table) };
}

export function isExpired(t: TableDef, row: StoredRow, now: number): boolean {
  if (t.type !== 'STREAM' || !t.ttlSeconds) return false;
  const seq = row[seqSlot(t)] as bigint;
  return Number(seq >> 22n) + SEQ_EPOCH_MS < now - t.ttlSeconds * 1000;
}

export class Engine implements SourceResolver {
  readonly seq = new SeqGenerator();
  readonly snowflake = new SeqGenerator(undefined, 0n);
  readonly plans: PlanCache<Plan>;
  readonly live: LiveRegistry;
  private writeChain: Promise<unknown> = Promise.resolve();
  private closed = false;
  private commits = 0;
  /** When this engine opened: removals before it are not known to live replay (`from`). */
  readonly openedAt = Date.now();
  /**
   * The newest `_seq` committed (at open: the newest stored). A live
   * delivery reflects every commit up to it, so a client that reconnects
   * (to a new host tab after failover) passes it back as `from` to resume.
   */
  committedSeq = 0n;
  /** The group write statements join until it takes the write lock (group-commit.ts); its members are bounded by maxGroupCommitStatements. */
  private forming: WriteGroup | undefined;
  private groupCommits = 0;
  private groupedStatements = 0;
  readonly systemEnv: SystemEnv;
  /** Background jobs (stream eviction, tombstone retention); started by open, stopped by close. */
  readonly jobs: JobScheduler;
  options: OpenOptions = { storage: 'memory' };
  /** Open explicit transactions (system.transactions). */
  readonly transactions: TransactionRegistry;
  /** The cold tier (manifest, segment store, segment cache); set by open. */
  cold!: ColdTier;
  /** Cold scan templates per plan (the plan cache owns plans; this follows them). */
  private readonly coldScans = new WeakMap<object, ScanTemplate[]>();

  private constructor(
    readonly kv: KvStore,
    readonly catalog: Catalog,
    readonly hot: HotTier,
    readonly users: UserRegistry,
    readonly audit: AuditLog,
    options: OpenOptions,
  ) {
    this.plans = new PlanCache<Plan>(options.planCacheSize ?? DEFAULTS.planCacheSize);
    this.live = new LiveRegistry({
      maxLiveQueries: options.maxLiveQueries ?? DEFAULTS.maxLiveQueries,
      maxSubscriptionsPerSession: options.maxSubscriptionsPerSession ?? DEFAULTS.maxSubscriptionsPerSession,
    });
    this.transactions = new TransactionRegistry({
      maxRows: options.maxTransactionRows ?? TRANSACTION_DEFAULTS.maxRows,
      maxOpen: options.maxOpenTransactions ?? TRANSACTION_DEFAULTS.maxOpen,
    });
    this.jobs = new JobScheduler(
      {
        catalog,
        hot,
        commit: (changes) => this.commitChanges(changes),
        withWriteLock: (fn) => this.withWriteLock(fn),
        flushDue: (now, run) => flushDueTables(this, now, run),
        hasFlushPolicies: () => hasFlushPolicies(this),
        coldMayHold: (t, user, pk) => this.cold.mayHold(t, user, pk as Value),
      },
      resolveJobSettings(options),
    );
    this.systemEnv = {
      catalog,
      metrics: () => this.metrics(),
      users: () => users.list(),
      live: () => this.live.list(),
      audit: () => audit.list(),
      jobs: () => this.jobs.history.list(),
      settings: () => this.settings(),
      transactions: () => this.transactions.list(),
      segments: () => this.cold.manifest.all(),
    };
  }

  static async open(options: OpenOptions): Promise<Engine> {
    resolveJobSettings(options); // refuse bad job settings before opening storage
    const group = options.maxGroupCommitStatements;
    if (group !== undefined && !(Number.isInteger(group) && group >= 1)) {
      throw new KalamError('INVALID_OPTION', `maxGroupCommitStatements must be a whole number of at least 1 (got ${String(group)})`);
    }
    const durability = checkDurability(options.durability ?? 'relaxed');
    const kv =
      options.storage === 'memory' ? openMemoryStore()
      : options.storage === 'idb' ? await openIdbStore(options.name ?? 'kalamlite', options.indexedDB, durability)
      : options.storage === 'opfs' ? await openOpfsStore(options.name ?? 'kalamlite', { durability })
      : options.storage;
    const catalog = await Catalog.load(kv, { maxSchemaVersions: options.maxSchemaVersions });
    const hot = new HotTier();
    const users = await UserRegistry.load(kv);
    const audit = await AuditLog.load(kv, options.maxAuditEntries ?? DEFAULTS.maxAuditEntries);
    const engine = new Engine(kv, catalog, hot, users, audit, options);
    engine.options = options;
    const cacheBytes = options.segmentCacheBytes ?? COLD_DEFAULTS.segmentCacheBytes;
    if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0) {
      throw new KalamError('INVALID_OPTION', `segmentCacheBytes must be a whole number of bytes >= 0 (got ${String(cacheBytes)})`);
    }
    const manifest = await Manifest.load(kv);
    for (const m of manifest.all()) {
      engine.seq.observe(m.max_seq);
      if (m.max_seq > engine.committedSeq) engine.committedSeq = m.max_seq;
    }
    engine.cold = new ColdTier(manifest, options.segmentStore ?? kvSegmentStore(kv), new SegmentCache(cacheBytes));
    for (const t of catalog.listTables()) {
      const pk = t.pk;
      const seqAt = seqSlot(t);
      await hot.load(kv, storeOf(t), t.id, (_user, row) => {
        engine.seq.observe(row[seqAt] as bigint);
        if ((row[seqAt] as bigint) > engine.committedSeq) engine.committedSeq = row[seqAt] as bigint;
        return hashKey(pk >= 0 ? row[pk] : row[seqAt]);
      }, deletedSlot(t));
    }
    await recoverFlushes(engine);
    engine.jobs.start();
    return engine;
  }

  // -- SourceResolver --

  resolve(namespace: string | undefined, name: string, defaultNamespace: string): RelationSource {
    const ns = namespace ?? defaultNamespace;
    if (ns === 'system') return systemSource(name, this.systemEnv);
    return this.tableSource(this.catalog.requireTable(ns, name));
  }

  tableSource(t: TableDef): RelationSource {
    const hot = this.hot;
    const del = deletedSlot(t);
    const columns = [
      ...t.columns.map((c: ColumnDef) => ({ name: c.name, type: c.type, hidden: false })),
      { name: '_seq', type: 'BIGINT' as const, hidden: true },
      { name: '_deleted', type: 'BOOLEAN' as const, hidden: true },
    ];
    const partitionUser = (ctx: ExecContext) => (t.type === 'SHARED' ? '' : ctx.user);
    const visible = (row: StoredRow, ctx: ExecContext, includeDeleted: boolean) =>
      (includeDeleted || row[del] !== true) && !isExpired(t, row, ctx.now);
    const stagedPartition = (ctx: ExecContext) => {
      if (!ctx.staged) return undefined;
      // A group commit's overlay (earlier statements of the group) may hold STREAM rows; a transaction may not.
      if (t.type === 'STREAM' && !(ctx.staged instanceof WriteOverlay)) throw new KalamError('TRANSACTION_ERROR', STREAM_REFUSED);
      return ctx.staged.partition(t.id, partitionUser(ctx));
    };
    const cold = this.cold;
    const name = `${t.namespace}.${t.name}`;
    // The cold segments this execution reads, newest first (prepareCold loaded them; see there).
    const coldSegments = (ctx: ExecContext): readonly DecodedSegment[] => {
      if (t.type === 'STREAM') return NOTHING.segments;
      const user = partitionUser(ctx);
      const prepared = ctx.cold?.partition(t.id, user);
      if (prepared && prepared.segments.every((s) => s.tableVersion === t.version)) return prepared.segments;
      const resident = cold.resident(t, user);
      if (resident) return resident.segments;
      throw new KalamError('INTERNAL', `Internal error: a read of '${name}' was not prepared for its cold segments (Engine.prepareCold). This is a bug in kalamlite; please report it.`);
    };
    return {
      name: `${t.namespace}.${t.name}`,
      columns,
      table: t,
      pkSlot: t.pk >= 0 ? t.pk : undefined,
      *rows(ctx, opts) {
        checkRead(ctx.role, t);
        // Only this session's partition is ever opened (USER/STREAM: its user id).
        const p = hot.partition(t.id, partitionUser(ctx));
        // An open transaction's staged versions of the same partition replace the committed ones.
        const staged = stagedPartition(ctx);
        const segments = coldSegments(ctx);
        if (segments.length > 0) {
          yield* mergedRows(p, staged, segments, (row) => visible(row, ctx, opts.includeDeleted));
          return;
        }
        if (p && !staged) for (const row of p.values()) if (visible(row, ctx, opts.includeDeleted)) yield row;
        if (!staged) return;
        if (p) for (const [k, row] of p) if (!staged.has(k) && visible(row, ctx, opts.includeDeleted)) yield row;
        for (const row of staged.values()) if (row && visible(row, ctx, opts.includeDeleted)) yield row;
      },
      authorize(ctx) {
        checkRead(ctx.role, t);
      },
      lookup(ctx, pk, opts) {
        checkRead(ctx.role, t);
        const k = hashKey(pk);
        const staged = stagedPartition(ctx);
        const segments = coldSegments(ctx);
        const row = segments.length > 0
          ? newestVersion(hot.partition(t.id, partitionUser(ctx)), staged, segments, k)
          : staged?.has(k) ? staged.get(k) : hot.partition(t.id, partitionUser(ctx))?.get(k);
        return row && visible(row, ctx, opts.includeDeleted) ? row : undefined;
      },
    };
  }

  // -- execution --

  private context(state: SessionState, params: readonly Value[], tx?: Transaction): ExecContext {
    const seq = this.seq;
    const snowflake = this.snowflake;
    return {
      params,
      user: state.user,
      role: state.role,
      now: Date.now(),
      snowflakeId: () => snowflake.next(),
      nextSeq: () => seq.next(),
      staged: tx,
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new KalamError('CLOSED', 'The database is closed: open it again with openDatabase()');
  }

  /**
   * Runs a batch. `tx` is an API transaction (session.begin/transaction) the
   * batch runs in; BEGIN … COMMIT inside the batch opens one that must end
   * in the same batch. Any failure inside a transaction rolls it back.
   */
  async execute(state: SessionState, sql: string, params: readonly Value[] = [], tx?: Transaction): Promise<StatementResult[]> {
    if (!tx) return this.executeBatch(state, sql, params, undefined);
    tx.assertOpen();
    tx.touch();
    try {
      return await this.executeBatch(state, sql, params, tx);
    } catch (e) {
      this.rollbackTransaction(tx, toKalamError(e).message);
      throw e;
    } finally {
      tx.touch();
    }
  }

  private async executeBatch(state: SessionState, sql: string, params: readonly Value[], tx: Transaction | undefined): Promise<StatementResult[]> {
    this.assertOpen();
    if (typeof sql !== 'string') throw new KalamError('INVALID_SQL', 'SQL must be a string');
    validateParams(params);
    const statements = splitStatements(sql);
    if (statements.length === 0) throw new KalamError('PARSE_ERROR', 'Empty statement: write a SQL statement to run');
    if (params.length > 0 && statements.length > 1) {
      throw new KalamError('INVALID_PARAMETER', 'Parameters ($1, $2, …) can only be used with a single statement');
    }
    const results: StatementResult[] = [];
    let own: Transaction | undefined; // opened by BEGIN in this batch
    for (const s of statements) {
      try {
        const control = TX_CONTROL.test(s.text) ? parseStatement(s.text) : undefined;
        if (control?.kind === 'begin' || control?.kind === 'commit' || control?.kind === 'rollback') {
          if (tx) throw txError(`${control.kind.toUpperCase()} cannot run inside session.transaction(): the transaction commits when the callback returns and rolls back when it throws`);
          if (control.kind === 'begin') {
            if (own) throw txError('A transaction is already open: nested transactions are not supported. COMMIT or ROLLBACK it first');
            own = this.beginTransaction(state.user, 'sql');
            results.push(okResult(`Transaction ${own.id} started`));
            continue;
          }
          if (!own) throw txError(`${control.kind.toUpperCase()} without an open transaction: start one with BEGIN`);
          const ending = own;
          own = undefined;
          if (control.kind === 'commit') await this.commitTransaction(ending);
          else this.rollbackTransaction(ending);
          results.push(okResult(`Transaction ${ending.id} ${control.kind === 'commit' ? 'committed' : 'rolled back'}`));
          continue;
        }
        results.push(await this.runStatement(state, s.text, params, tx ?? own));
      } catch (e) {
        const err = toKalamError(e);
        if (own) this.rollbackTransaction(own, err.message);
        throw err.position !== undefined && s.start > 0 ? new KalamError(err.code, err.message, err.position + s.start) : err;
      }
    }
    if (own) {
      this.rollbackTransaction(own, 'the batch ended without COMMIT');
      throw txError(`Transaction ${own.id} was rolled back: the batch ended while it was still open. End it with COMMIT (or ROLLBACK) in the same execute() call`);
    }
    return results;
  }

  // -- explicit transactions --

  /** The committed (hot-tier) version of a key, for commit-time conflict checks. */
  private readonly committedRow: CommittedLookup = (tableId, user, pkHash) => {
    const row = this.hot.partition(tableId, user)?.get(pkHash);
    if (row) return row;
    const t = this.catalog.tableById(tableId);
    return t && this.cold.manifest.hasSegments(tableId, user) ? this.cold.cachedRow(t, user, pkHash) : undefined;
  };

  beginTransaction(owner: string, origin: 'sql' | 'api'): Transaction {
    this.assertOpen();
    return this.transactions.begin(owner, origin);
  }

  /** Writes everything `tx` staged in one storage commit, under the write lock; any conflict rolls it back. */
  async commitTransaction(tx: Transaction): Promise<void> {
    tx.assertOpen();
    tx.state = 'committing';
    try {
      await this.withWriteLock(async () => {
        this.assertOpen();
        const changes = tx.changesForCommit(this.committedRow, (id) => this.catalog.tableById(id), () => this.seq.next());
        await this.commitChanges(changes);
      });
    } catch (e) {
      this.transactions.finish(tx, 'rolled_back', toKalamError(e).message);
      throw e;
    }
    this.transactions.finish(tx, 'committed');
  }

  rollbackTransaction(tx: Transaction, reason?: string): void {
    this.transactions.finish(tx, 'rolled_back', reason);
  }

  /** A statement inside an open transaction: reads see its staged rows, writes are staged. */
  private runInTransaction(tx: Transaction, state: SessionState, plan: Plan, params: Value[], cold?: ColdReads): StatementResult {
    tx.assertOpen();
    for (const id of plan.tableIds) {
      if (this.catalog.tableById(id)?.type === 'STREAM') throw txError(STREAM_REFUSED);
    }
    const ctx: ExecContext = { ...this.context(state, params, tx), cold };
    if (plan.kind === 'select') {
      const rows = toRows(plan.columns, plan.run(ctx));
      return { kind: 'rows', columns: plan.columns, rows, rowCount: rows.length, message: `${rows.length} row(s)` };
    }
    checkWrite(state.role, plan.target);
    this.assertOpen();
    const outcome = plan.run(ctx);
    tx.stage(outcome.changes, this.committedRow);
    return okResult(outcome.message, outcome.count);
  }

  /** Plans a DML statement through the plan cache. */
  plan(state: SessionState, text: string, params: readonly Value[]): { plan: Plan; params: Value[] } | { stmt: Statement } {
    const tokens = tokenize(text);
    // system.* is for dba/system: refuse before anything else, even a name that does not exist.
    if (!isAdmin(state.role)) {
      for (let i = 0; i + 1 < tokens.length; i++) {
        const t = tokens[i];
        if ((t.type === 'word' || t.type === 'quoted') && t.text.toLowerCase() === 'system' && tokens[i + 1].text === '.') {
          const name = tokens[i + 2]?.text.toLowerCase() ?? '';
          checkSystemRead(state.role, name);
        }
      }
    }
    const planned = this.planUnchecked(state, text, params, tokens);
    if ('plan' in planned) {
      // Every table the statement names is checked up front, whether or not execution reaches it.
      for (const id of planned.plan.tableIds) {
        const t = this.catalog.tableById(id);
        if (t) checkRead(state.role, t);
      }
      if (planned.plan.kind === 'write') checkWrite(state.role, planned.plan.target);
    }
    return planned;
  }

  private planUnchecked(
    state: SessionState,
    text: string,
    params: readonly Value[],
    tokens: Token[],
  ): { plan: Plan; params: Value[] } | { stmt: Statement } {
    const head = tokens[0]?.text.toUpperCase();
    if (head !== 'SELECT' && head !== 'INSERT' && head !== 'UPDATE' && head !== 'DELETE' && head !== 'WITH' && head !== '(') {
      return { stmt: parseStatement(text, tokens) };
    }
    const lifted = liftLiterals(text, tokens);
    const userParams: Value[] = [];
    for (let i = 0; i < lifted.paramCount; i++) userParams.push(params[i] as Value);
    const key = `${state.namespace}\u0001${lifted.text}`;
    let plan = this.plans.get(key);
    if (plan) return { plan, params: [...userParams, ...lifted.literals] };
    let stmt: Statement;
    let usedKey = key;
    let allParams: Value[];
    try {
      stmt = parseStatement(lifted.text);
      allParams = [...userParams, ...lifted.literals];
    } catch {
      // Some literals cannot become parameters (typed literals, type arguments): plan the text as written.
      stmt = parseStatement(text, tokens);
      usedKey = `${state.namespace}\u0002${text}`;
      allParams = params.slice() as Value[];
      const hit = this.plans.get(usedKey);
      if (hit) return { plan: hit, params: allParams };
    }
    if (!isDml(stmt)) return { stmt };
    plan = this.planDml(stmt, state.namespace);
    const ns = state.namespace;
    this.coldScans.set(plan, scanTemplates(stmt, (n, name) => (n ?? ns) === 'system' ? undefined : this.catalog.findTable(n ?? ns, name)));
    this.plans.set(usedKey, plan);
    return { plan, params: allParams };
  }

  private planDml(stmt: DmlStatement, namespace: string): Plan {
    switch (stmt.kind) {
      case 'select': return planSelect(stmt, this, namespace);
      case 'insert': return planInsert(stmt, this, namespace);
      case 'update': return planUpdate(stmt, this, namespace);
      case 'delete': return planDelete(stmt, this, namespace);
    }
  }

  private async runStatement(state: SessionState, text: string, params: readonly Value[], tx?: Transaction): Promise<StatementResult> {
    const planned = this.plan(state, text, params);
    if ('stmt' in planned) {
      const stmt = planned.stmt;
      if (tx) refuseInTransaction(stmt);
      if (stmt.kind === 'executeAs') return this.executeAs(state, stmt, params);
      if (isStorageStatement(stmt)) return executeStorageStatement(this, state, stmt);
      if (stmt.kind === 'subscribe') return this.subscribeStatement(state, stmt, params);
      if (stmt.kind === 'killLiveQuery') {
        this.live.kill(stmt.liveId, state);
        return okResult(`Live query '${stmt.liveId}' killed`);
      }
      return this.withWriteLock(() => executeDdl(this, state, stmt as DdlStatement));
    }
    const { plan } = planned;
    if (tx) {
      const prepared = await this.prepareCold(plan, state.user, planned.params);
      try {
        return this.runInTransaction(tx, state, plan, planned.params, prepared.reads);
      } finally {
        prepared.release();
      }
    }
    if (plan.kind === 'select') {
      const prepared = await this.prepareCold(plan, state.user, planned.params);
      try {
        const rows = toRows(plan.columns, plan.run({ ...this.context(state, planned.params), cold: prepared.reads }));
        return { kind: 'rows', columns: plan.columns, rows, rowCount: rows.length, message: `${rows.length} row(s)` };
      } finally {
        prepared.release();
      }
    }
    checkWrite(state.role, plan.target);
    const stamp = this.schemaStamp(plan.tableIds);
    const prepared = await this.prepareCold(plan, state.user, planned.params);
    const outcome = await this.groupWrite((staged) => {
      this.assertOpen();
      // An ALTER TABLE that ran while this write waited for the lock changed the row layout: plan it again.
      const current = this.schemaStamp(plan.tableIds) === stamp ? planned : this.plan(state, text, params);
      if ('stmt' in current || current.plan.kind !== 'write') throw new KalamError('INTERNAL', 'Internal error: a write statement re-planned as something else. This is a bug in kalamlite; please report it.');
      if (current !== planned) checkWrite(state.role, current.plan.target);
      return current.plan.run({ ...this.context(state, current.params), staged, cold: prepared.reads });
    }).finally(() => prepared.release());
    return { kind: 'ok', columns: [], rows: [], rowCount: outcome.count, message: outcome.message };
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

  /**
   * Loads every cold segment of the partitions a live query reads, pinned
   * until released, so its first result can be read synchronously (later
   * refreshes load what they need themselves: live/cold.ts). Undefined when
   * the query does not plan: errors are left for liveQuery to report.
   */
  async warmCold(state: SessionState, sql: string, params: readonly Value[]): Promise<LoadedCold | undefined> {
    try {
      const statements = splitStatements(sql);
      if (statements.length !== 1) return;
      let text = statements[0].text;
      if (/^\s*SUBSCRIBE\b/i.test(text)) {
        const stmt = parseStatement(text);
        if (stmt.kind !== 'subscribe') return;
        text = stmt.query;
      }
      const planned = this.plan(state, text, params);
      if ('stmt' in planned) return;
      return await loadCold(this, planned.plan.tableIds, state.user);
    } catch {
      // planning and storage errors surface from liveQuery itself
      return undefined;
    }
  }

  /** session.live: loads the query's cold segments, then opens it (the first result is delivered when this resolves). */
  async openLive(
    state: SessionState,
    sql: string,
    params: readonly Value[],
    onChange: LiveChangeCallback,
    onError: (e: KalamError) => void,
    options: LiveOptions = {},
    owner: { session: number; client?: string } = { session: 0 },
  ): Promise<LiveStop> {
    const cold = await this.warmCold(state, sql, params);
    try {
      const { stop, liveId } = this.subscribe(state, sql, params, onChange, onError, options, owner, cold);
      return Object.assign(stop, { liveId });
    } finally {
      cold?.release();
    }
  }

  /**
   * The async step before a plan runs: for each table it reads, in the
   * session's partition (USER/STREAM: `user`; SHARED: ''), loads the cold
   * segments its scans cannot rule out (manifest stats against the WHERE's
   * simple conjuncts). `reads` goes into the ExecContext; call `release`
   * when the run is over (a flush waits for it before removing hot rows).
   */
  async prepareCold(plan: { tableIds: readonly number[] }, user: string, params: readonly Value[]): Promise<{ reads: ColdReads; release: () => void }> {
    const templates = this.coldScans.get(plan) ?? [];
    const scans = new Map<number, ScanBounds[]>();
    for (const tpl of templates) {
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
   * Joins the forming write group (group-commit.ts): `run` is called under
   * the write lock with the changes of the group's earlier statements, and
   * the promise settles after the group's one storage commit.
   */
  private groupWrite(run: (staged: StagedRows | undefined) => WriteOutcome): Promise<WriteOutcome> {
    let group = this.forming;
    if (!group || group.members.length >= (this.options.maxGroupCommitStatements ?? DEFAULTS.maxGroupCommitStatements)) {
      const fresh = (group = new WriteGroup());
      this.forming = fresh;
      void this.withWriteLock(() => {
        if (this.forming === fresh) this.forming = undefined; // later arrivals form the next group
        this.groupCommits++;
        this.groupedStatements += fresh.members.length;
        return runGroup(fresh, (changes) => this.commitChanges(changes));
      });
    }
    const joining = group;
    return new Promise((resolve, reject) => joining.members.push({ run, resolve, reject }));
  }

  /** The schema versions of the tables a plan read when it was compiled (a dropped table reads as -1). */
  schemaStamp(tableIds: readonly number[]): string {
    return tableIds.map((id) => this.catalog.tableById(id)?.version ?? -1).join(',');
  }

  /** Runs `fn` after every earlier write finished: writes are serialized. */
  withWriteLock<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.writeChain.then(fn, fn);
    this.writeChain = run.catch(() => undefined);
    return run;
  }

  /** Commits row changes in one storage transaction, then applies them and notifies live queries. */
  async commitChanges(changes: readonly RowChange[], extra: KvWrite[] = []): Promise<void> {
    if (changes.length === 0 && extra.length === 0) return;
    const staged = this.hot.stage(hotChanges(changes));
    await this.kv.commit(extra.length === 0 ? staged.writes : [...extra, ...staged.writes]);
    this.commits++;
    staged.apply();
    const groups: CommitGroups = new Map();
    for (const c of changes) {
      if (c.row !== null && (c.row[seqSlot(c.table)] as bigint) > this.committedSeq) this.committedSeq = c.row[seqSlot(c.table)] as bigint;
      let byUser = groups.get(c.table.id);
      if (!byUser) groups.set(c.table.id, (byUser = new Map()));
      let list = byUser.get(c.user);
      if (!list) byUser.set(c.user, (list = []));
      list.push(c);
    }
    const now = Date.now();
    this.live.publish(groups, now, seqAtMillis(now + 1));
  }

  /** Live queries: the first result is delivered before this returns (see `subscribe`). */
  liveQuery(
    state: SessionState,
    sql: string,
    params: readonly Value[],
    onChange: LiveChangeCallback,
    onError: (e: KalamError) => void,
    options: LiveOptions = {},
    owner: { session: number; client?: string } = { session: 0 },
  ): LiveStop {
    const { stop, liveId } = this.subscribe(state, sql, params, onChange, onError, options, owner);
    return Object.assign(stop, { liveId });
  }

  /**
   * Opens a live query (a SELECT, or `SUBSCRIBE TO …`) for a session and
   * delivers its first result synchronously — with `batchSize`, the first
   * batch; `loaded` settles when the last batch was delivered.
   */
  subscribe(
    state: SessionState,
    sql: string,
    params: readonly Value[],
    onChange: LiveChangeCallback,
    onError: (e: KalamError) => void,
    options: LiveOptions,
    owner: { session: number; client?: string },
    /** The query's cold segments, loaded by the caller (openLive); without them they come from the cache or load first. */
    cold?: LiveCold,
  ): { liveId: string; stop: () => void; loaded: Promise<void> } {
    this.assertOpen();
    validateParams(params);
    if (typeof onChange !== 'function') throw new KalamError('INVALID_PARAMETER', 'live() needs a callback: session.live(sql, params, (rows, change) => …)');
    const statements = splitStatements(sql);
    if (statements.length !== 1) throw new KalamError('INVALID_SQL', 'A live query is exactly one SELECT statement');
    let text = statements[0].text;
    let opts = validateLiveOptions(options);
    if (/^\s*SUBSCRIBE\b/i.test(text)) {
      const stmt = parseStatement(text);
      if (stmt.kind !== 'subscribe') throw new KalamError('INVALID_SQL', 'A live query must be a SELECT statement or SUBSCRIBE TO …');
      text = stmt.query;
      opts = { ...stmt.options, ...opts };
    }
    const snapshot: SessionState = { ...state };
    this.live.checkLimits(owner.session);
    const id = this.live.allocateId();
    const liveId = `${snapshot.user}-${owner.client ?? `s${owner.session}`}-${id}`;
    const deps: LiveDeps = {
      plan: () => {
        const planned = this.plan(snapshot, text, params);
        if ('stmt' in planned || planned.plan.kind !== 'select') throw new KalamError('INVALID_SQL', 'A live query must be a SELECT statement');
        return { plan: planned.plan, params: planned.params };
      },
      analyze: (plan) => this.analyzeLive(plan, snapshot.namespace),
      context: (ps) => this.context(snapshot, ps),
      run: (plan, ctx) => toRows(plan.columns, plan.run(ctx)),
      partition: (tableId, user, cold) => this.readablePartition(tableId, user, cold),
      residentCold: (ids) => residentCold(this, ids, snapshot.user),
      loadCold: (ids) => {
        this.live.coldLoads++;
        return loadCold(this, ids, snapshot.user);
      },
      isCurrent: (cold, ids) => isCurrent(this.catalog, cold, ids),
      isExpired,
      schemaStamp: (ids) => this.schemaStamp(ids),
      committedSeq: () => this.committedSeq,
      watermark: (t) => {
        // Tombstones are durable (hot and cold) and carry their delete's
        // `_seq`, so a `from` older than this open (a client resuming on a
        // new host after failover) still replays: only what retention may
        // have purged is unknown. Before this open, removals are unknown: tombstones are kept DELETED_RETENTION_HOURS; STREAM removals leave none.
        const before = t.type === 'STREAM' ? seqAtMillis(this.openedAt) : seqAtMillis(this.openedAt - retentionHours(t) * 3_600_000);
        const removed = this.live.removedSeq(t.id);
        return removed > before ? removed : before;
      },
      pause: () => new Promise((resolve) => setTimeout(resolve, 0)),
    };
    const sub = new Subscription(id, liveId, { user: snapshot.user, session: owner.session, client: owner.client }, text, opts, deps, onChange, onError);
    sub.prepare();
    this.live.add(sub, (tid) => this.catalog.tableById(tid));
    let loaded: Promise<void> | undefined;
    try {
      loaded = sub.start(new Map(), cold);
    } catch (e) {
      this.live.remove(liveId);
      throw e;
    }
    return { liveId, stop: () => this.live.remove(liveId), loaded: loaded ?? Promise.resolve() };
  }

  /**
   * `SUBSCRIBE TO …` run as a statement (KalamDB's HTTP path): checks the
   * query and answers with a subscription id; the subscription itself is
   * opened with `session.live` (which also accepts the SUBSCRIBE text).
   */
  private subscribeStatement(state: SessionState, stmt: SubscribeStmt, params: readonly Value[]): StatementResult {
    const planned = this.plan(state, stmt.query, params);
    if ('stmt' in planned || planned.plan.kind !== 'select') throw new KalamError('INVALID_SQL', 'SUBSCRIBE TO needs a table or a SELECT statement');
    validateLiveOptions(stmt.options);
    const t = planned.plan.tableIds.map((id) => this.catalog.tableById(id)).find((x) => x);
    const columns: ColumnInfo[] = [
      { name: 'subscription_id', type: 'TEXT' }, { name: 'channel', type: 'TEXT' }, { name: 'select_query', type: 'TEXT' }, { name: 'options', type: 'JSON' },
    ];
    const o = stmt.options;
    const options: { [key: string]: JsonValue } = {};
    if (o.lastRows !== undefined) options.last_rows = o.lastRows;
    if (o.batchSize !== undefined) options.batch_size = o.batchSize;
    if (o.from !== undefined) options.from = o.from.toString();
    const row = Object.freeze({
      subscription_id: `sub-${t ? `${t.namespace}-${t.name}` : 'query'}-${uuidV7()}`,
      channel: 'session.live',
      select_query: stmt.query,
      options,
    });
    return { kind: 'rows', columns, rows: [row], rowCount: 1, message: 'Use session.live() with this query to receive changes' };
  }

  /** Live-query analysis per plan (the plan cache keeps plans; this follows them). */
  private readonly liveAnalyses = new WeakMap<SelectPlan, Analysis>();

  private analyzeLive(plan: SelectPlan, namespace: string): Analysis {
    let a = this.liveAnalyses.get(plan);
    if (!a) {
      try {
        a = analyzeLive(plan.stmt, this, namespace, plan.columns.map((c) => c.name));
      } catch (e) {
        a = { kind: 'rerun', reason: toKalamError(e).message };
      }
      this.liveAnalyses.set(plan, a);
    }
    return a;
  }

  /**
   * EXECUTE AS USER: runs one DML statement as another user's subject under
   * the role hierarchy; refused on SHARED tables; every attempt audited.
   */
  private async executeAs(
    state: SessionState,
    stmt: Extract<Statement, { kind: 'executeAs' }>,
    params: readonly Value[],
  ): Promise<StatementResult> {
    const actor = { user: state.user, role: state.role };
    const target = { user: stmt.user, role: this.users.roleOf(stmt.user) };
    const record = (outcome: 'allowed' | 'denied', table: string | null, details: string | null) =>
      this.recordAudit(actor, 'EXECUTE_AS_USER', table, stmt.user, outcome, details);
    if (!canImpersonate(actor, target)) {
      await record('denied', null, 'role_not_allowed');
      throw impersonationDenied(actor, target);
    }
    const as: SessionState = { user: target.user, role: target.role, namespace: state.namespace };
    let planned;
    try {
      planned = this.plan(as, stmt.sql, params);
    } catch (e) {
      await record('denied', null, `invalid_statement: ${toKalamError(e).message}`);
      throw e;
    }
    if ('stmt' in planned) {
      await record('denied', null, 'not_dml');
      throw new KalamError('INVALID_SQL', 'EXECUTE AS USER wraps one SELECT, INSERT, UPDATE or DELETE statement');
    }
    for (const id of planned.plan.tableIds) {
      const t = this.catalog.tableById(id);
      if (t && t.type === 'SHARED') {
        const name = `${t.namespace}.${t.name}`;
        await record('denied', name, 'shared_table');
        throw new KalamError(
          'PERMISSION_DENIED',
          `EXECUTE AS USER is not allowed on SHARED tables (table '${name}'). AS USER impersonation is only supported for USER and STREAM tables.`,
        );
      }
    }
    const first = planned.plan.tableIds.map((id) => this.catalog.tableById(id)).find((t) => t);
    await record('allowed', first ? `${first.namespace}.${first.name}` : null, null);
    return this.runStatement(as, stmt.sql, params);
  }

  /** Appends to system.audit_log (durably, bounded). */
  async recordAudit(
    actor: { user: string; role: Role },
    action: string,
    target: string | null,
    subject: string | null,
    outcome: 'allowed' | 'denied',
    details: string | null,
  ): Promise<void> {
    const { writes, apply } = this.audit.append({
      audit_id: this.seq.next(),
      timestamp: Date.now(),
      actor_user_id: actor.user,
      actor_role: actor.role,
      action,
      target,
      subject_user_id: subject,
      outcome,
      details,
    });
    await this.kv.commit(writes);
    apply();
  }

  settings(): [string, Value, string][] {
    const o = this.options;
    return [
      ['plan_cache_size', o.planCacheSize ?? DEFAULTS.planCacheSize, 'Compiled plans kept (LRU)'],
      ['max_live_queries', o.maxLiveQueries ?? DEFAULTS.maxLiveQueries, 'Live queries open at once'],
      ['max_subscriptions_per_session', this.live.limits.maxSubscriptionsPerSession, 'Live queries one session may hold open at once'],
      ['max_audit_entries', o.maxAuditEntries ?? DEFAULTS.maxAuditEntries, 'Entries kept in system.audit_log'],
      ['max_schema_versions', this.catalog.maxSchemaVersions, 'Schema versions kept per table in system.schemas'],
      ['max_transaction_rows', this.transactions.limits.maxRows, 'Rows one explicit transaction may stage'],
      ['max_open_transactions', this.transactions.limits.maxOpen, 'Explicit transactions open at once'],
      ['stream_eviction_interval_ms', this.jobs.settings.streamEvictionIntervalMs, 'How often expired STREAM rows are deleted (0: never)'],
      ['retention_interval_ms', this.jobs.settings.retentionIntervalMs, 'How often tombstones past DELETED_RETENTION_HOURS are purged (0: never)'],
      ['job_batch_size', this.jobs.settings.jobBatchSize, 'Rows a background job removes per storage commit'],
      ['max_job_history', this.jobs.settings.maxJobHistory, 'Records kept in system.jobs'],
      ['flush_check_interval_ms', this.jobs.settings.flushCheckIntervalMs, 'How often tables with a FLUSH_POLICY are checked (0: never)'],
      ['segment_cache_bytes', this.cold.cache.capacityBytes, 'Decoded cold segments kept in memory (LRU, rough bytes)'],
      ['max_group_commit_statements', o.maxGroupCommitStatements ?? DEFAULTS.maxGroupCommitStatements, 'Write statements committed together in one storage commit at most'],
      ['durability', o.durability ?? 'relaxed', "When a write is acknowledged: 'relaxed' (the browser has it) or 'strict' (flushed to disk)"],
      ['storage', this.kv.kind, 'Storage backend'],
    ];
  }

  metrics(): [string, Value][] {
    const p = this.plans.stats();
    const out: [string, Value][] = [
      ['plan_cache_size', p.size],
      ['plan_cache_capacity', p.capacity],
      ['plan_cache_hits', p.hits],
      ['plan_cache_misses', p.misses],
      ['plan_cache_evictions', p.evictions],
      ['plan_cache_invalidations', p.invalidations],
      ['live_queries', this.live.size],
      ['live_queries_max', this.live.maxSubscriptions],
      ['live_queries_max_per_session', this.live.limits.maxSubscriptionsPerSession],
      ['live_queries_maintained', this.live.list().filter((s) => s.isMaintained).length],
      ['live_index_entries', this.live.indexSize],
      ['live_sessions', this.live.sessionsWithSubscriptions],
      ['live_cold_loads', this.live.coldLoads],
      ['live_subscriptions_examined', this.live.subscriptionsExamined],
      ['live_deliveries', this.live.deliveries],
      ['commits', this.commits],
      ['group_commits', this.groupCommits],
      ['group_commit_statements', this.groupedStatements],
      ['transactions_open', this.transactions.size],
      ['transactions_max', this.transactions.limits.maxOpen],
      ['transactions_committed', this.transactions.committed],
      ['transactions_rolled_back', this.transactions.rolledBack],
      ['audit_log_entries', this.audit.size],
      ['audit_log_max', this.audit.max],
      ['schema_versions', this.catalog.schemaVersionCount],
      ['schema_versions_max_per_table', this.catalog.maxSchemaVersions],
      ...this.jobs.metrics(),
      ...this.cold.metrics(),
      ['users', this.users.list().length],
      ['namespaces', this.catalog.listNamespaces().length],
      ['tables', this.catalog.listTables().length],
      ['storage', this.kv.kind],
      ['hot_pages', this.hot.pageCount()],
      ['hot_page_rows_max', PAGE_ROWS],
    ];
    if (this.options.hostMetrics) out.push(...this.options.hostMetrics());
    for (const t of this.catalog.listTables()) {
      const rows = this.hot.table(t.id);
      out.push([`table_rows.${t.namespace}.${t.name}`, rows.liveRows]);
      out.push([`table_tombstones.${t.namespace}.${t.name}`, rows.tombstones]);
    }
    return out;
  }

  /** Changes when later writes are acknowledged (OpenOptions.durability). */
  setDurability(durability: Durability): void {
    this.assertOpen();
    checkDurability(durability);
    this.kv.setDurability?.(durability);
    this.options = { ...this.options, durability };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.jobs.stop();
    await this.writeChain;
    this.closed = true;
    this.transactions.rollbackAll('the database was closed');
    await this.kv.close();
  }
}

/** BEGIN / START / COMMIT / ROLLBACK at the start of a statement (after whitespace and comments). */
const TX_CONTROL = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*(?:BEGIN|START|COMMIT|ROLLBACK)\b/i;

const txError = (message: string) => new KalamError('TRANSACTION_ERROR', message);

function okResult(message: string, rowCount = 0): StatementResult {
  return { kind: 'ok', columns: [], rows: [], rowCount, message };
}

/** Inside an explicit transaction only DML and read-only introspection run. */
function refuseInTransaction(stmt: Statement): void {
  switch (stmt.kind) {
    case 'showNamespaces': case 'showTables': case 'describeTable': case 'showStats': case 'use':
      return;
    case 'executeAs':
      throw txError('EXECUTE AS USER is not supported inside explicit transactions: run it outside BEGIN … COMMIT');
    case 'begin': case 'commit': case 'rollback':
      throw txError(`${stmt.kind.toUpperCase()} must be a statement of its own inside an explicit transaction`);
    default:
      throw txError('DDL and user management statements are not supported inside explicit transactions: run them before BEGIN or after COMMIT');
  }
}

function toRows(columns: readonly ColumnInfo[], tuples: readonly Tuple[]): Row[] {
  const n = columns.length;
  const names = columns.map((c) => c.name);
  const out = new Array<Row>(tuples.length);
  for (let r = 0; r < tuples.length; r++) {
    const t = tuples[r];
    const o: Record<string, Value> = {};
    for (let i = 0; i < n; i++) o[names[i]] = t[i];
    out[r] = Object.freeze(o);
  }
  return out;
}

function validateLiveOptions(options: LiveOptions | undefined): LiveOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') throw new KalamError('INVALID_OPTION', 'Live query options must be an object: { lastRows?, batchSize?, from? }');
  const count = (name: string, v: unknown, min: number) => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new KalamError('INVALID_OPTION', `Live query option ${name} must be a whole number of at least ${min}, got ${String(v)}`);
    }
    return v;
  };
  const out: LiveOptions = {};
  const lastRows = count('lastRows', options.lastRows, 0);
  const batchSize = count('batchSize', options.batchSize, 1);
  if (lastRows !== undefined) out.lastRows = lastRows;
  if (batchSize !== undefined) out.batchSize = batchSize;
  const from = options.from as unknown;
  if (from !== undefined) {
    if (typeof from === 'bigint' && from >= 0n) out.from = from;
    else if ((typeof from === 'number' && Number.isSafeInteger(from) && from >= 0) || (typeof from === 'string' && /^\d+$/.test(from))) out.from = BigInt(from);
    else throw new KalamError('INVALID_OPTION', `Live query option from must be a _seq (a non-negative bigint), got ${String(from)}`);
  }
  return out;
}

function validateParams(params: readonly unknown[]): void {
  if (!Array.isArray(params)) throw new KalamError('INVALID_PARAMETER', 'Parameters must be an array of values');
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    const t = typeof v;
    if (v === null || t === 'string' || t === 'boolean' || t === 'bigint' || v instanceof Uint8Array || v instanceof Date) continue;
    if (t === 'number') {
      if (Number.isNaN(v)) throw new KalamError('INVALID_PARAMETER', `Parameter $${i + 1} is NaN: pass a number or null`);
      continue;
    }
    if (t === 'undefined') throw new KalamError('INVALID_PARAMETER', `Parameter $${i + 1} is undefined: pass null for SQL NULL`);
    if (t === 'object' && (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype)) continue; // JSON
    throw new KalamError('INVALID_PARAMETER', `Parameter $${i + 1} has unsupported type ${t}: pass a string, number, bigint, boolean, Uint8Array, Date, JSON value or null`);
  }
}

// ---------------------------------------------------------------- public API

/** Stops a live query; `liveId` is its id in system.live and for KILL LIVE QUERY. */
export type LiveStop = (() => void) & { readonly liveId: string };

export interface Session {
  readonly user: string;
  readonly role: Role;
  /** The namespace unqualified names resolve in; `USE ns` changes it. */
  readonly namespace: string;
  execute(sql: string, params?: readonly Value[]): Promise<StatementResult[]>;
  query(sql: string, params?: readonly Value[]): Promise<StatementResult>;
  /** Exactly one statement returning rows; its result as an Arrow table (types mapped as in arrow.ts). */
  queryArrow(sql: string, params?: readonly Value[]): Promise<ArrowTable>;
  /**
   * A live query (a SELECT, or `SUBSCRIBE TO …`): `onChange` receives the
   * whole current result (immutable, rows shared) and what changed — first
   * now, then after each commit that changed it. Resolves (after the first
   * delivery) with the function that stops it. See live/types.ts.
   */
  live(
    sql: string,
    params: readonly Value[] | undefined,
    onChange: (rows: readonly Row[], change: LiveChange, seq: bigint) => void,
    onError?: (e: KalamError) => void,
    options?: LiveOptions,
  ): Promise<LiveStop>;
  /** Opens an explicit transaction; end it with `commit()` or `rollback()` (prefer `transaction()`). */
  begin(): Promise<SessionTransaction>;
  /**
   * Runs `fn` in a transaction: commits when it resolves, rolls back and
   * rethrows when it throws. A statement that fails rolls the transaction back.
   */
  transaction<T>(fn: (tx: SessionTransaction) => Promise<T> | T): Promise<T>;
}

/** An open explicit transaction: `session.begin()`, or the `tx` of `session.transaction()`. */
export interface SessionTransaction {
  readonly id: string;
  /** Runs statements inside the transaction: they see its staged writes; nobody else does until commit. */
  execute(sql: string, params?: readonly Value[]): Promise<StatementResult[]>;
  query(sql: string, params?: readonly Value[]): Promise<StatementResult>;
  /** Writes everything staged in one storage commit (fails, writing nothing, on a conflict). */
  commit(): Promise<void>;
  /** Drops everything staged. A no-op when the transaction already rolled back. */
  rollback(): Promise<void>;
}

export interface Database {
  session(options: SessionOptions): Session;
  /** Changes when later writes are acknowledged (see OpenOptions.durability); INVALID_OPTION for anything but 'relaxed' or 'strict'. */
  setDurability(durability: Durability): void;
  close(): Promise<void>;
}

/** The durability asked for, or INVALID_OPTION. */
export function checkDurability(durability: unknown): Durability {
  if (durability !== 'relaxed' && durability !== 'strict') {
    throw new KalamError('INVALID_OPTION', `durability must be 'relaxed' or 'strict' (got ${JSON.stringify(durability)})`);
  }
  return durability;
}

const USER_ID = /^[A-Za-z0-9_.@-]{1,128}$/;

function oneStatement(sql: string): void {
  if (typeof sql === 'string' && splitStatements(sql).length > 1) {
    throw new KalamError('INVALID_SQL', 'query() runs exactly one statement: use execute() for a batch');
  }
}

function openTransaction(engine: Engine, state: SessionState): { handle: SessionTransaction; tx: Transaction } {
  const tx = engine.beginTransaction(state.user, 'api');
  const handle: SessionTransaction = {
    id: tx.id,
    execute: (sql, params) => engine.execute(state, sql, params ?? [], tx),
    async query(sql, params) {
      oneStatement(sql);
      const [result] = await engine.execute(state, sql, params ?? [], tx);
      return result;
    },
    commit: () => engine.commitTransaction(tx),
    async rollback() {
      if (tx.state === 'committed' || tx.state === 'committing') tx.assertOpen();
      engine.rollbackTransaction(tx);
    },
  };
  return { handle, tx };
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  const engine = await Engine.open(options);
  let sessionCount = 0;
  return {
    session(opts) {
      const role = opts.role ?? 'user';
      if (!ROLES.includes(role)) throw new KalamError('INVALID_PARAMETER', `Unknown role '${String(role)}': use one of ${ROLES.join(', ')}`);
      if (typeof opts.user !== 'string' || !USER_ID.test(opts.user)) {
        throw new KalamError('INVALID_PARAMETER', `Invalid user id '${String(opts.user)}': use 1 to 128 letters, digits, '_', '.', '@' or '-'`);
      }
      const state: SessionState = { user: opts.user, role, namespace: (opts.namespace ?? DEFAULT_NAMESPACE).toLowerCase() };
      if (opts.client !== undefined && (typeof opts.client !== 'string' || !USER_ID.test(opts.client))) {
        throw new KalamError('INVALID_PARAMETER', `Invalid client id '${String(opts.client)}': use 1 to 128 letters, digits, '_', '.', '@' or '-'`);
      }
      const owner = { session: ++sessionCount, client: opts.client };
      return {
        get user() { return state.user; },
        get role() { return state.role; },
        get namespace() { return state.namespace; },
        execute: (sql, params) => engine.execute(state, sql, params ?? []),
        async query(sql, params) {
          if (typeof sql === 'string' && splitStatements(sql).length > 1) {
            throw new KalamError('INVALID_SQL', 'query() runs exactly one statement: use execute() for a batch');
          }
          const [result] = await engine.execute(state, sql, params ?? []);
          return result;
        },
        async queryArrow(sql, params) {
          oneStatement(sql);
          checkReturnsRows(sql);
          // Arrow loads (once, on the first call) while the statement runs.
          const [[result], { resultToArrow }] = await Promise.all([engine.execute(state, sql, params ?? []), loadArrow()]);
          return resultToArrow(result);
        },
        live: (sql, params, onChange, onError, liveOptions) => engine.openLive(state, sql, params ?? [], onChange, onError ?? (() => undefined), liveOptions, owner),
        begin: async () => openTransaction(engine, state).handle,
        async transaction(fn) {
          if (typeof fn !== 'function') throw new KalamError('INVALID_PARAMETER', 'transaction() needs a callback: session.transaction(async (tx) => { … })');
          const { handle, tx } = openTransaction(engine, state);
          let result;
          try {
            result = await fn(handle);
          } catch (e) {
            engine.rollbackTransaction(tx, toKalamError(e).message);
            throw e;
          }
          if (tx.state === 'open') await engine.commitTransaction(tx);
          else if (tx.state === 'rolled_back' && tx.abortReason !== undefined) tx.assertOpen(); // a failed statement was swallowed
          return result;
        },
      };
    },
    setDurability: (durability) => engine.setDurability(durability),
    close: () => engine.close(),
  };
}
