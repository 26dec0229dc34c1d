/**
 * Opening live queries (session.live, SUBSCRIBE TO) and what each
 * subscription is given to plan, read and re-run itself (live/subscription.ts's
 * LiveDeps): one small object per subscription whose methods live on a
 * shared prototype, over the engine parts in LiveContext.
 */
import type { Catalog } from '../catalog/catalog';
import { KalamError, toKalamError } from '../core/errors';
import { seqAtMillis, uuidV7 } from '../core/ids';
import { isExpired, type StoredRow, type TableDef } from '../core/schema';
import type { ColumnInfo, JsonValue, Row, StatementResult, Value } from '../core/types';
import type { ExecContext } from '../exec/context';
import { retentionHours } from '../jobs/retention';
import { analyzeLive, type Analysis } from '../live/analyze';
import { isCurrent, loadCold, residentCold, type LiveCold, type LoadedCold } from '../live/cold';
import type { LiveRegistry } from '../live/registry';
import { Subscription, type LiveDeps } from '../live/subscription';
import type { LiveChangeCallback, LiveOptions } from '../live/types';
import type { SelectPlan } from '../plan/select';
import type { SourceResolver } from '../plan/source';
import type { SubscribeStmt } from '../sql/ast';
import { splitStatements } from '../sql/lexer';
import { parseStatement } from '../sql/parse';
import type { ColdTier } from '../storage/cold/cold-tier';
import type { ColdReads } from '../storage/cold/types';
import type { PreparedCold } from './cold-reads';
import type { StatementPlanner } from './planner';
import { toRows } from './results';
import type { SessionState } from './session-state';
import { loadSqlExtensions } from './sql-extensions';
import { checkLiveOptionCombination, validateLiveOptions, validateParams } from './validate';

/** Stops a live query; `liveId` is its id in system.live and for KILL LIVE QUERY. */
export type LiveStop = (() => void) & { readonly liveId: string };

/** Who owns a subscription: the session (limits) and the client it serves (system.live). */
export interface LiveOwner {
  session: number;
  client?: string;
}

export interface LiveContext {
  readonly catalog: Catalog;
  readonly cold: ColdTier;
  readonly live: LiveRegistry;
  readonly planner: StatementPlanner;
  readonly sources: SourceResolver;
  /** When the engine opened: removals before it are not known to live replay (`from`). */
  readonly openedAt: number;
  readonly committedSeq: bigint;
  assertOpen(): void;
  context(state: SessionState, params: readonly Value[]): ExecContext;
  prepareCold(plan: { tableIds: readonly number[] }, user: string, params: readonly Value[]): Promise<PreparedCold>;
  /** A partition's merged view (hot over the given or cached cold row groups). */
  partitionView(tableId: number, user: string, cold?: ColdReads): Iterable<[string, StoredRow]> | undefined;
}

const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A subscription's view of the engine (LiveDeps), for one session snapshot and query. */
class SubscriptionDeps implements LiveDeps {
  constructor(
    private readonly queries: LiveQueries,
    private readonly state: SessionState,
    private readonly text: string,
    private readonly params: readonly Value[],
  ) {}

  private get ctx(): LiveContext {
    return this.queries.ctx;
  }

  plan() {
    const planned = this.ctx.planner.plan(this.state, this.text, this.params);
    if ('stmt' in planned || planned.plan.kind !== 'select') throw new KalamError('INVALID_SQL', 'A live query must be a SELECT statement');
    return { plan: planned.plan, params: planned.params };
  }
  analyze(plan: SelectPlan): Analysis {
    return this.queries.analyze(plan, this.state.namespace);
  }
  context(ps: readonly Value[]): ExecContext {
    return this.ctx.context(this.state, ps);
  }
  run(plan: SelectPlan, ctx: ExecContext): Row[] {
    return toRows(plan.columns, plan.run(ctx));
  }
  partition(tableId: number, user: string, cold?: ColdReads) {
    return this.ctx.partitionView(tableId, user, cold);
  }
  residentCold(ids: readonly number[]): LiveCold | undefined {
    return residentCold(this.ctx, ids, this.state.user);
  }
  loadCold(ids: readonly number[]): Promise<LoadedCold> {
    this.ctx.live.coldLoads++;
    return loadCold(this.ctx, ids, this.state.user);
  }
  isCurrent(cold: LiveCold, ids: readonly number[]): boolean {
    return isCurrent(this.ctx.catalog, cold, ids);
  }
  isExpired(t: TableDef, row: StoredRow, now: number): boolean {
    return isExpired(t, row, now);
  }
  schemaStamp(ids: readonly number[]): string {
    return this.ctx.planner.schemaStamp(ids);
  }
  committedSeq(): bigint {
    return this.ctx.committedSeq;
  }
  watermark(t: TableDef): bigint {
    // Tombstones are durable (hot and cold) and carry their delete's `_seq`, so a
    // `from` older than this open (a client resuming on a new host after failover)
    // still replays: only what retention may have purged is unknown. Before this
    // open, removals are unknown: tombstones are kept DELETED_RETENTION_HOURS;
    // STREAM removals leave none.
    const openedAt = this.ctx.openedAt;
    const before = t.type === 'STREAM' ? seqAtMillis(openedAt) : seqAtMillis(openedAt - retentionHours(t) * 3_600_000);
    const removed = this.ctx.live.removedSeq(t.id);
    return removed > before ? removed : before;
  }
  pause(): Promise<void> {
    return pause();
  }
  scheduleExpiry(sub: Subscription, at: number | undefined): void {
    this.ctx.live.scheduleExpiry(sub, at);
  }
}

export class LiveQueries {
  /** Live-query analysis per plan (the plan cache keeps plans; this follows them). */
  private readonly analyses = new WeakMap<SelectPlan, Analysis>();

  constructor(readonly ctx: LiveContext) {}

  /** session.live: loads the query's cold segments, then opens it (the first result is delivered when this resolves). */
  async open(
    state: SessionState,
    sql: string,
    params: readonly Value[],
    onChange: LiveChangeCallback,
    onError: (e: KalamError) => void,
    options: LiveOptions = {},
    owner: LiveOwner = { session: 0 },
  ): Promise<LiveStop> {
    params = validateParams(params, this.ctx.planner.limits.maxParameters, this.ctx.planner.limits.maxJsonDepth); // copied before the first await: the caller may change its values meanwhile
    await loadSqlExtensions(sql, this.ctx.catalog);
    const cold = await this.warmCold(state, sql, params);
    try {
      const { stop, liveId } = this.subscribe(state, sql, params, onChange, onError, options, owner, cold);
      return Object.assign(stop, { liveId });
    } finally {
      cold?.release();
    }
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
    owner: LiveOwner,
    /** The query's cold segments, loaded by the caller (open); without them they come from the cache or load first. */
    cold?: LiveCold,
  ): { liveId: string; stop: () => void; loaded: Promise<void> } {
    this.ctx.assertOpen();
    params = validateParams(params, this.ctx.planner.limits.maxParameters, this.ctx.planner.limits.maxJsonDepth);
    if (typeof onChange !== 'function') throw new KalamError('INVALID_PARAMETER', 'live() needs a callback: session.live(sql, params, (rows, change) => …)');
    if (typeof sql !== 'string') throw new KalamError('INVALID_SQL', 'SQL must be a string');
    const statements = splitStatements(sql, this.ctx.planner.limits);
    if (statements.length !== 1) throw new KalamError('INVALID_SQL', 'A live query is exactly one SELECT statement');
    let text = statements[0].text;
    let opts = validateLiveOptions(options);
    if (/^\s*SUBSCRIBE\b/i.test(text)) {
      const stmt = parseStatement(text);
      if (stmt.kind !== 'subscribe') throw new KalamError('INVALID_SQL', 'A live query must be a SELECT statement or SUBSCRIBE TO …');
      text = stmt.query;
      opts = { ...stmt.options, ...opts };
      checkLiveOptionCombination(opts);
    }
    const snapshot: SessionState = { ...state };
    const { live } = this.ctx;
    live.checkLimits(owner.session);
    const id = live.allocateId();
    // join() builds one flat string (a template literal would keep a tree of parts for as long as the query lives).
    const liveId = [snapshot.user, owner.client ?? `s${owner.session}`, id].join('-');
    text = live.internText(text); // given back by live.remove once added, here if it is not
    const deps = new SubscriptionDeps(this, snapshot, text, params);
    const sub = new Subscription(id, liveId, { user: snapshot.user, session: owner.session, client: owner.client }, text, opts, deps, onChange, onError);
    try {
      sub.prepare();
      live.add(sub, (tid) => this.ctx.catalog.tableById(tid));
    } catch (e) {
      live.releaseText(text);
      throw e;
    }
    let loaded: Promise<void> | undefined;
    try {
      loaded = sub.start(new Map(), cold);
    } catch (e) {
      live.remove(liveId);
      throw e;
    }
    return { liveId, stop: () => live.remove(liveId), loaded: loaded ?? Promise.resolve() };
  }

  /**
   * `SUBSCRIBE TO …` run as a statement (KalamDB's HTTP path): checks the
   * query and answers with a subscription id; the subscription itself is
   * opened with `session.live` (which also accepts the SUBSCRIBE text).
   */
  subscribeStatement(state: SessionState, stmt: SubscribeStmt, params: readonly Value[]): StatementResult {
    const planned = this.ctx.planner.plan(state, stmt.query, params);
    if ('stmt' in planned || planned.plan.kind !== 'select') throw new KalamError('INVALID_SQL', 'SUBSCRIBE TO needs a table or a SELECT statement');
    validateLiveOptions(stmt.options);
    const t = planned.plan.tableIds.map((id) => this.ctx.catalog.tableById(id)).find((x) => x);
    const columns: ColumnInfo[] = [
      { name: 'subscription_id', type: 'TEXT' }, { name: 'channel', type: 'TEXT' }, { name: 'select_query', type: 'TEXT' }, { name: 'options', type: 'JSON' },
    ];
    const o = stmt.options;
    const options: { [key: string]: JsonValue } = {};
    if (o.lastRows !== undefined) options.last_rows = o.lastRows;
    if (o.batchSize !== undefined) options.batch_size = o.batchSize;
    if (o.from !== undefined) options.from = o.from.toString();
    Object.freeze(options);
    const row = Object.freeze({
      subscription_id: `sub-${t ? `${t.namespace}-${t.name}` : 'query'}-${uuidV7()}`,
      channel: 'session.live',
      select_query: stmt.query,
      options,
    });
    return { kind: 'rows', columns, rows: [row], rowCount: 1, message: 'Use session.live() with this query to receive changes' };
  }

  analyze(plan: SelectPlan, namespace: string): Analysis {
    let a = this.analyses.get(plan);
    if (!a) {
      try {
        a = analyzeLive(plan.stmt, this.ctx.sources, namespace, plan.columns.map((c) => c.name));
      } catch (e) {
        a = { kind: 'rerun', reason: toKalamError(e).message };
      }
      this.analyses.set(plan, a);
    }
    return a;
  }

  /**
   * Loads every cold segment of the partitions a live query reads, pinned
   * until released, so its first result can be read synchronously (later
   * refreshes load what they need themselves: live/cold.ts). Undefined when
   * the query does not plan: errors are left for subscribe to report.
   */
  private async warmCold(state: SessionState, sql: string, params: readonly Value[]): Promise<LoadedCold | undefined> {
    try {
      const statements = splitStatements(sql, this.ctx.planner.limits);
      if (statements.length !== 1) return;
      let text = statements[0].text;
      if (/^\s*SUBSCRIBE\b/i.test(text)) {
        const stmt = parseStatement(text);
        if (stmt.kind !== 'subscribe') return;
        text = stmt.query;
      }
      const planned = this.ctx.planner.plan(state, text, params);
      if ('stmt' in planned) return;
      return await loadCold(this.ctx, planned.plan.tableIds, state.user);
    } catch {
      // planning and storage errors surface from subscribe itself
      return undefined;
    }
  }
}
