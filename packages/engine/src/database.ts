/**
 * The api layer: `openDatabase()`, `Database`, `Session`. One engine owns
 * one catalog, one hot tier, one plan cache and one live registry, shared by
 * every session; a session is only a user id, a role and a namespace.
 */
import { canImpersonate, checkRead, checkSystemRead, checkWrite, impersonationDenied, isAdmin } from './auth/permissions';
import { UserRegistry } from './auth/users';
import { AuditLog } from './system/audit';
import { Catalog, DEFAULT_NAMESPACE, type ColumnDef, type TableDef } from './catalog/catalog';
import { executeDdl, type DdlStatement } from './ddl';
import { KalamError, toKalamError } from './errors';
import { SeqGenerator } from './ids';
import { JobScheduler, resolveJobSettings } from './jobs/scheduler';
import { LiveRegistry, type CommitFootprint } from './live/registry';
import { PlanCache } from './plan/cache';
import type { ExecContext, Tuple } from './plan/context';
import { planSelect, type SelectPlan } from './plan/select';
import type { RelationSource, SourceResolver } from './plan/source';
import { deletedSlot, planDelete, planInsert, planUpdate, seqSlot, type RowChange, type WritePlan } from './plan/write';
import { isDml, type DmlStatement, type Statement } from './sql/ast';
import { liftLiterals, splitStatements, tokenize, type Token } from './sql/lexer';
import { parseStatement } from './sql/parse';
import { HotTier, rowKey, type StoredRow } from './storage/hot-tier';
import { openIdbStore } from './storage/idb';
import type { KvStore, KvWrite, StoreName } from './storage/kv';
import { openMemoryStore } from './storage/memory';
import { systemSource, type SystemEnv } from './system/tables';
import { STREAM_REFUSED, TRANSACTION_DEFAULTS, TransactionRegistry, type CommittedLookup, type Transaction } from './transaction';
import type { ColumnInfo, Role, Row, SessionOptions, StatementResult, Value } from './types';
import { ROLES } from './types';
import { hashKey } from './values';

export interface OpenOptions {
  /** IndexedDB database name (default 'kalamlite'). */
  name?: string;
  storage: 'memory' | 'idb' | KvStore;
  /** IndexedDB factory (tests pass fake-indexeddb's); defaults to globalThis.indexedDB. */
  indexedDB?: IDBFactory;
  /** Compiled plans kept (LRU). Default 256. */
  planCacheSize?: number;
  /** Live queries open at once across all sessions. Default 1000. */
  maxLiveQueries?: number;
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
}

export const DEFAULTS = { planCacheSize: 256, maxLiveQueries: 1000, maxAuditEntries: 10_000 } as const;

type Plan = SelectPlan | WritePlan;

/** Mutable per-session state (USE changes the namespace). */
export interface SessionState {
  user: string;
  role: Role;
  namespace: string;
}

const SEQ_EPOCH_MS = 1704067200000;

export const storeOf = (t: TableDef): StoreName => (t.type === 'USER' ? 'user' : t.type === 'SHARED' ? 'shared' : 'stream');

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
  readonly systemEnv: SystemEnv;
  /** Background jobs (stream eviction, tombstone retention); started by open, stopped by close. */
  readonly jobs: JobScheduler;
  options: OpenOptions = { storage: 'memory' };
  /** Open explicit transactions (system.transactions). */
  readonly transactions: TransactionRegistry;

  private constructor(
    readonly kv: KvStore,
    readonly catalog: Catalog,
    readonly hot: HotTier,
    readonly users: UserRegistry,
    readonly audit: AuditLog,
    options: OpenOptions,
  ) {
    this.plans = new PlanCache<Plan>(options.planCacheSize ?? DEFAULTS.planCacheSize);
    this.live = new LiveRegistry(options.maxLiveQueries ?? DEFAULTS.maxLiveQueries);
    this.transactions = new TransactionRegistry({
      maxRows: options.maxTransactionRows ?? TRANSACTION_DEFAULTS.maxRows,
      maxOpen: options.maxOpenTransactions ?? TRANSACTION_DEFAULTS.maxOpen,
    });
    this.jobs = new JobScheduler(
      { catalog, hot, commit: (changes) => this.commitChanges(changes), withWriteLock: (fn) => this.withWriteLock(fn) },
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
    };
  }

  static async open(options: OpenOptions): Promise<Engine> {
    resolveJobSettings(options); // refuse bad job settings before opening storage
    const kv =
      options.storage === 'memory' ? openMemoryStore()
      : options.storage === 'idb' ? await openIdbStore(options.name ?? 'kalamlite', options.indexedDB)
      : options.storage;
    const catalog = await Catalog.load(kv, { maxSchemaVersions: options.maxSchemaVersions });
    const hot = new HotTier();
    const users = await UserRegistry.load(kv);
    const audit = await AuditLog.load(kv, options.maxAuditEntries ?? DEFAULTS.maxAuditEntries);
    const engine = new Engine(kv, catalog, hot, users, audit, options);
    engine.options = options;
    for (const t of catalog.listTables()) {
      const pk = t.pk;
      const seqAt = seqSlot(t);
      await hot.load(kv, storeOf(t), t.id, (_user, row) => {
        engine.seq.observe(row[seqAt] as bigint);
        return hashKey(pk >= 0 ? row[pk] : row[seqAt]);
      }, deletedSlot(t));
    }
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
      if (t.type === 'STREAM') throw new KalamError('TRANSACTION_ERROR', STREAM_REFUSED);
      return ctx.staged.partition(t.id, partitionUser(ctx));
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
        if (p && !staged) for (const row of p.values()) if (visible(row, ctx, opts.includeDeleted)) yield row;
        if (!staged) return;
        if (p) for (const [k, row] of p) if (!staged.has(k) && visible(row, ctx, opts.includeDeleted)) yield row;
        for (const row of staged.values()) if (row && visible(row, ctx, opts.includeDeleted)) yield row;
      },
      lookup(ctx, pk, opts) {
        checkRead(ctx.role, t);
        const k = hashKey(pk);
        const staged = stagedPartition(ctx);
        const row = staged?.has(k) ? staged.get(k) : hot.partition(t.id, partitionUser(ctx))?.get(k);
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
  private readonly committedRow: CommittedLookup = (tableId, user, pkHash) => this.hot.partition(tableId, user)?.get(pkHash);

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
  private runInTransaction(tx: Transaction, state: SessionState, plan: Plan, params: Value[]): StatementResult {
    tx.assertOpen();
    for (const id of plan.tableIds) {
      if (this.catalog.tableById(id)?.type === 'STREAM') throw txError(STREAM_REFUSED);
    }
    const ctx = this.context(state, params, tx);
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
    if (head !== 'SELECT' && head !== 'INSERT' && head !== 'UPDATE' && head !== 'DELETE' && head !== 'WITH') {
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
      return this.withWriteLock(() => executeDdl(this, state, stmt as DdlStatement));
    }
    const { plan } = planned;
    if (tx) return this.runInTransaction(tx, state, plan, planned.params);
    if (plan.kind === 'select') {
      const rows = toRows(plan.columns, plan.run(this.context(state, planned.params)));
      return { kind: 'rows', columns: plan.columns, rows, rowCount: rows.length, message: `${rows.length} row(s)` };
    }
    checkWrite(state.role, plan.target);
    const stamp = this.schemaStamp(plan.tableIds);
    return this.withWriteLock(async () => {
      this.assertOpen();
      // An ALTER TABLE that ran while this write waited for the lock changed the row layout: plan it again.
      const current = this.schemaStamp(plan.tableIds) === stamp ? planned : this.plan(state, text, params);
      if ('stmt' in current || current.plan.kind !== 'write') throw new KalamError('INTERNAL', 'Internal error: a write statement re-planned as something else. This is a bug in kalamlite; please report it.');
      if (current !== planned) checkWrite(state.role, current.plan.target);
      const outcome = current.plan.run(this.context(state, current.params));
      await this.commitChanges(outcome.changes);
      return { kind: 'ok', columns: [], rows: [], rowCount: outcome.count, message: outcome.message };
    });
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
    const writes: KvWrite[] = extra.slice();
    for (const c of changes) {
      const key = rowKey(c.table.id, c.user, c.pk);
      writes.push(c.row === null ? { store: storeOf(c.table), key } : { store: storeOf(c.table), key, value: c.row });
    }
    await this.kv.commit(writes);
    this.commits++;
    const footprint: CommitFootprint = new Map();
    for (const c of changes) {
      this.hot.put(c.table.id, c.user, c.pkHash, c.row, deletedSlot(c.table));
      let users = footprint.get(c.table.id);
      if (!users) footprint.set(c.table.id, (users = new Set()));
      users.add(c.user);
    }
    this.live.notify(footprint);
  }

  liveQuery(
    state: SessionState,
    sql: string,
    params: readonly Value[],
    onRows: (rows: readonly Row[]) => void,
    onError: (e: KalamError) => void,
  ): () => void {
    this.assertOpen();
    validateParams(params);
    const statements = splitStatements(sql);
    if (statements.length !== 1) throw new KalamError('INVALID_SQL', 'A live query is exactly one SELECT statement');
    const snapshot: SessionState = { ...state };
    const planned = this.plan(snapshot, statements[0].text, params);
    if ('stmt' in planned || planned.plan.kind !== 'select') {
      throw new KalamError('INVALID_SQL', 'A live query must be a SELECT statement');
    }
    let current = { plan: planned.plan, params: planned.params, stamp: this.schemaStamp(planned.plan.tableIds) };
    const text = statements[0].text;
    const run = () => {
      // After an ALTER TABLE the query is planned again against the new definition (a dropped column it names fails here).
      if (this.schemaStamp(current.plan.tableIds) !== current.stamp) {
        const again = this.plan(snapshot, text, params);
        if ('stmt' in again || again.plan.kind !== 'select') throw new KalamError('INTERNAL', 'Internal error: a live query re-planned as something else. This is a bug in kalamlite; please report it.');
        current = { plan: again.plan, params: again.params, stamp: this.schemaStamp(again.plan.tableIds) };
      }
      const { plan: p } = current;
      return toRows(p.columns, p.run(this.context(snapshot, current.params)));
    };
    const plan = planned.plan;
    const first = run();
    const sub = this.live.add(snapshot.user, plan.tableIds, () => {
      try {
        onRows(run());
      } catch (e) {
        onError(toKalamError(e));
      }
    }, statements[0].text);
    onRows(first);
    return () => this.live.remove(sub.id);
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
      ['max_audit_entries', o.maxAuditEntries ?? DEFAULTS.maxAuditEntries, 'Entries kept in system.audit_log'],
      ['max_schema_versions', this.catalog.maxSchemaVersions, 'Schema versions kept per table in system.schemas'],
      ['max_transaction_rows', this.transactions.limits.maxRows, 'Rows one explicit transaction may stage'],
      ['max_open_transactions', this.transactions.limits.maxOpen, 'Explicit transactions open at once'],
      ['stream_eviction_interval_ms', this.jobs.settings.streamEvictionIntervalMs, 'How often expired STREAM rows are deleted (0: never)'],
      ['retention_interval_ms', this.jobs.settings.retentionIntervalMs, 'How often tombstones past DELETED_RETENTION_HOURS are purged (0: never)'],
      ['job_batch_size', this.jobs.settings.jobBatchSize, 'Rows a background job removes per storage commit'],
      ['max_job_history', this.jobs.settings.maxJobHistory, 'Records kept in system.jobs'],
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
      ['live_deliveries', this.live.deliveries],
      ['commits', this.commits],
      ['transactions_open', this.transactions.size],
      ['transactions_max', this.transactions.limits.maxOpen],
      ['transactions_committed', this.transactions.committed],
      ['transactions_rolled_back', this.transactions.rolledBack],
      ['audit_log_entries', this.audit.size],
      ['audit_log_max', this.audit.max],
      ['schema_versions', this.catalog.schemaVersionCount],
      ['schema_versions_max_per_table', this.catalog.maxSchemaVersions],
      ...this.jobs.metrics(),
      ['users', this.users.list().length],
      ['namespaces', this.catalog.listNamespaces().length],
      ['tables', this.catalog.listTables().length],
      ['storage', this.kv.kind],
    ];
    for (const t of this.catalog.listTables()) {
      const rows = this.hot.table(t.id);
      out.push([`table_rows.${t.namespace}.${t.name}`, rows.liveRows]);
      out.push([`table_tombstones.${t.namespace}.${t.name}`, rows.tombstones]);
    }
    return out;
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

export interface Session {
  readonly user: string;
  readonly role: Role;
  /** The namespace unqualified names resolve in; `USE ns` changes it. */
  readonly namespace: string;
  execute(sql: string, params?: readonly Value[]): Promise<StatementResult[]>;
  query(sql: string, params?: readonly Value[]): Promise<StatementResult>;
  live(
    sql: string,
    params: readonly Value[] | undefined,
    onRows: (rows: readonly Row[]) => void,
    onError?: (e: KalamError) => void,
  ): Promise<() => void>;
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
  close(): Promise<void>;
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
  return {
    session(opts) {
      const role = opts.role ?? 'user';
      if (!ROLES.includes(role)) throw new KalamError('INVALID_PARAMETER', `Unknown role '${String(role)}': use one of ${ROLES.join(', ')}`);
      if (typeof opts.user !== 'string' || !USER_ID.test(opts.user)) {
        throw new KalamError('INVALID_PARAMETER', `Invalid user id '${String(opts.user)}': use 1 to 128 letters, digits, '_', '.', '@' or '-'`);
      }
      const state: SessionState = { user: opts.user, role, namespace: (opts.namespace ?? DEFAULT_NAMESPACE).toLowerCase() };
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
        async live(sql, params, onRows, onError) {
          return engine.liveQuery(state, sql, params ?? [], onRows, onError ?? (() => undefined));
        },
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
    close: () => engine.close(),
  };
}
