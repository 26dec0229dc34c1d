/**
 * The api layer: `openDatabase()`, `Database`, `Session`. One engine owns
 * one catalog, one hot tier, one plan cache and one live registry, shared by
 * every session; a session is only a user id, a role and a namespace.
 */
import { canImpersonate, checkRead, checkWrite, impersonationDenied } from './auth/permissions';
import { UserRegistry } from './auth/users';
import { AuditLog } from './system/audit';
import { Catalog, DEFAULT_NAMESPACE, type ColumnDef, type TableDef } from './catalog/catalog';
import { executeDdl, type DdlStatement } from './ddl';
import { KalamError, toKalamError } from './errors';
import { SeqGenerator } from './ids';
import { LiveRegistry, type CommitFootprint } from './live/registry';
import { PlanCache } from './plan/cache';
import type { ExecContext, Tuple } from './plan/context';
import { planSelect, type SelectPlan } from './plan/select';
import type { RelationSource, SourceResolver } from './plan/source';
import { deletedSlot, planDelete, planInsert, planUpdate, seqSlot, type RowChange, type WritePlan } from './plan/write';
import { isDml, type DmlStatement, type Statement } from './sql/ast';
import { liftLiterals, splitStatements, tokenize } from './sql/lexer';
import { parseStatement } from './sql/parse';
import { HotTier, rowKey, type StoredRow } from './storage/hot-tier';
import { openIdbStore } from './storage/idb';
import type { KvStore, KvWrite, StoreName } from './storage/kv';
import { openMemoryStore } from './storage/memory';
import { systemSource, type SystemEnv } from './system/tables';
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
  options: OpenOptions = { storage: 'memory' };

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
    this.systemEnv = {
      catalog,
      metrics: () => this.metrics(),
      users: () => users.list(),
      audit: () => audit.list(),
      settings: () => this.settings(),
    };
  }

  static async open(options: OpenOptions): Promise<Engine> {
    const kv =
      options.storage === 'memory' ? openMemoryStore()
      : options.storage === 'idb' ? await openIdbStore(options.name ?? 'kalamlite', options.indexedDB)
      : options.storage;
    const catalog = await Catalog.load(kv);
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
    return {
      name: `${t.namespace}.${t.name}`,
      columns,
      table: t,
      pkSlot: t.pk >= 0 ? t.pk : undefined,
      *rows(ctx, opts) {
        checkRead(ctx.role, t);
        // Only this session's partition is ever opened (USER/STREAM: its user id).
        const p = hot.partition(t.id, partitionUser(ctx));
        if (!p) return;
        for (const row of p.values()) if (visible(row, ctx, opts.includeDeleted)) yield row;
      },
      lookup(ctx, pk, opts) {
        checkRead(ctx.role, t);
        const row = hot.partition(t.id, partitionUser(ctx))?.get(hashKey(pk));
        return row && visible(row, ctx, opts.includeDeleted) ? row : undefined;
      },
    };
  }

  // -- execution --

  private context(state: SessionState, params: readonly Value[]): ExecContext {
    const seq = this.seq;
    const snowflake = this.snowflake;
    return {
      params,
      user: state.user,
      role: state.role,
      now: Date.now(),
      snowflakeId: () => snowflake.next(),
      nextSeq: () => seq.next(),
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new KalamError('CLOSED', 'The database is closed: open it again with openDatabase()');
  }

  async execute(state: SessionState, sql: string, params: readonly Value[] = []): Promise<StatementResult[]> {
    this.assertOpen();
    if (typeof sql !== 'string') throw new KalamError('INVALID_SQL', 'SQL must be a string');
    validateParams(params);
    const statements = splitStatements(sql);
    if (statements.length === 0) throw new KalamError('PARSE_ERROR', 'Empty statement: write a SQL statement to run');
    if (params.length > 0 && statements.length > 1) {
      throw new KalamError('INVALID_PARAMETER', 'Parameters ($1, $2, …) can only be used with a single statement');
    }
    const results: StatementResult[] = [];
    for (const s of statements) {
      try {
        results.push(await this.runStatement(state, s.text, params));
      } catch (e) {
        const err = toKalamError(e);
        throw err.position !== undefined && s.start > 0 ? new KalamError(err.code, err.message, err.position + s.start) : err;
      }
    }
    return results;
  }

  /** Plans a DML statement through the plan cache. */
  plan(state: SessionState, text: string, params: readonly Value[]): { plan: Plan; params: Value[] } | { stmt: Statement } {
    const tokens = tokenize(text);
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

  private async runStatement(state: SessionState, text: string, params: readonly Value[]): Promise<StatementResult> {
    const planned = this.plan(state, text, params);
    if ('stmt' in planned) {
      const stmt = planned.stmt;
      if (stmt.kind === 'executeAs') return this.executeAs(state, stmt, params);
      return this.withWriteLock(() => executeDdl(this, state, stmt as DdlStatement));
    }
    const { plan } = planned;
    if (plan.kind === 'select') {
      const rows = toRows(plan.columns, plan.run(this.context(state, planned.params)));
      return { kind: 'rows', columns: plan.columns, rows, rowCount: rows.length, message: `${rows.length} row(s)` };
    }
    checkWrite(state.role, plan.target);
    return this.withWriteLock(async () => {
      this.assertOpen();
      const outcome = plan.run(this.context(state, planned.params));
      await this.commitChanges(outcome.changes);
      return { kind: 'ok', columns: [], rows: [], rowCount: outcome.count, message: outcome.message };
    });
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
    const plan = planned.plan;
    const run = () => toRows(plan.columns, plan.run(this.context(snapshot, planned.params)));
    const first = run();
    const sub = this.live.add(snapshot.user, plan.tableIds, () => {
      try {
        onRows(run());
      } catch (e) {
        onError(toKalamError(e));
      }
    });
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
      ['audit_log_entries', this.audit.size],
      ['audit_log_max', this.audit.max],
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
    await this.writeChain;
    this.closed = true;
    await this.kv.close();
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
}

export interface Database {
  session(options: SessionOptions): Session;
  close(): Promise<void>;
}

const USER_ID = /^[A-Za-z0-9_.@-]{1,128}$/;

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
      };
    },
    close: () => engine.close(),
  };
}
