/**
 * One live subscription. A maintained one (single-table SELECT, see
 * analyze.ts) keeps a `LiveWindow` and applies each committed row change to
 * it; any other query is re-run once per commit that touched a table it
 * reads. Either way a delivery carries the whole current result and what
 * changed, and nothing is delivered when the result did not change.
 */
import type { TableDef } from '../core/schema';
import { KalamError, toKalamError } from '../core/errors';
import type { ExecContext } from '../exec/context';
import type { SelectPlan } from '../plan/select';
import type { RowChange } from '../core/schema';
import type { StoredRow } from '../core/schema';
import type { Row, Value } from '../core/types';
import type { ColdReads } from '../storage/cold/types';
import type { Analysis } from './analyze';
import type { LiveCold, LoadedCold } from './cold';
import { MaintainedResult, type Partition } from './maintained';
import { EMPTY_OUTPUT, diffOutputs, outputOf, type LiveOutput } from './output';
import type { LiveChange, LiveChangeCallback, LiveErrorCallback, LiveOptions, LiveOwner } from './types';
import { NO_ENTRIES, shallowEqual, type RowCache, type WindowEntry } from './window';

/** What a subscription needs from the engine. */
export interface LiveDeps {
  /** Plans the subscription's SELECT as its session (access checks included); throws a KalamError. */
  plan(): { plan: SelectPlan; params: Value[] };
  analyze(plan: SelectPlan): Analysis;
  /** An execution context for the subscription's session; `now` is set per commit. */
  context(params: readonly Value[]): ExecContext;
  /** Runs a (re-run) plan: frozen result rows (`ctx.cold` holds its cold segments). */
  run(plan: SelectPlan, ctx: ExecContext): Row[];
  /** A partition's newest version per key across hot and the given cold row groups. */
  partition(tableId: number, user: string, cold: ColdReads): Partition | undefined;
  /** The cold segments of this subscription's partitions if all are in memory now (see cold.ts). */
  residentCold(tableIds: readonly number[]): LiveCold | undefined;
  /** Loads them, pinned until released. */
  loadCold(tableIds: readonly number[]): Promise<LoadedCold>;
  /** Whether a set of cold segments is current for these tables (decoded for their versions). */
  isCurrent(cold: LiveCold, tableIds: readonly number[]): boolean;
  isExpired(table: TableDef, row: StoredRow, now: number): boolean;
  schemaStamp(tableIds: readonly number[]): string;
  /** Changes after this `_seq` of the table can be replayed (tombstones older may be purged). */
  watermark(table: TableDef): bigint;
  /** The newest `_seq` committed: a delivery reflects every commit up to it (see LiveChangeCallback). */
  committedSeq(): bigint;
  /** Resolves after a pause that lets other work (commits) run: between batches of a first load. */
  pause(): Promise<void>;
  /** When `expire` is due for this subscription (a STREAM row of its window passes its TTL); undefined: never. */
  scheduleExpiry(sub: Subscription, at: number | undefined): void;
}

type Mode = MaintainedResult | { kind: 'rerun'; plan: SelectPlan; params: Value[] };

type Ctx = ExecContext & { now: number };

const NO_ROUTES: readonly (number | string)[] = Object.freeze([]);

// Bits of Subscription.flags: its booleans share one field, as every field is paid once per live query.
const ACTIVE = 1;
const LOADING = 2;
const DIRTY = 4;
const STALE = 8;
const REPLAN_DUE = 16;
const SNAPSHOT_DUE = 32;

export class Subscription {
  readonly createdAt = Date.now();
  /** Milliseconds from createdAt to the last delivery: a small integer, stored without a number box. */
  private updatedAfter = 0;
  /** Deliveries after the first result. */
  changes = 0;
  /** Fan-out bookkeeping of the registry: the commit this subscription was last touched in. */
  epoch = 0;
  /** (table id, partition) pairs whose changes reach this subscription, flat: [id, partition, id, …]; set by the registry (one pair is an array shared by its group). */
  routes: readonly (number | string)[] = NO_ROUTES;
  /** ACTIVE, LOADING, …: see the accessors below. */
  private flags = ACTIVE;
  private mode!: Mode;
  private stamp = '';
  private ctx!: Ctx;
  /** The last delivered result (a LiveOutput, kept as its two parts). */
  private deliveredRows: readonly Row[] = EMPTY_OUTPUT.rows;
  private deliveredEntries: readonly WindowEntry[] = NO_ENTRIES;
  /**
   * A refresh waiting for cold segments to load (or the first result, when
   * they were not loaded before). One at a time: later commits only mark
   * the subscription dirty, and the refresh reads the partition as it is
   * once loaded, so deliveries stay in commit order.
   */
  private waiting: Promise<void> | undefined;

  constructor(
    readonly id: number,
    readonly liveId: string,
    readonly owner: LiveOwner,
    /** The query text, stored once for system.live. */
    readonly sql: string,
    readonly options: LiveOptions,
    private readonly deps: LiveDeps,
    private readonly onChange: LiveChangeCallback,
    private readonly onError: LiveErrorCallback,
  ) {}

  get lastUpdate(): number {
    return this.createdAt + this.updatedAfter;
  }

  get isActive(): boolean { return (this.flags & ACTIVE) !== 0; }
  private set isActive(on: boolean) { this.setFlag(ACTIVE, on); }

  /** True while a batched first load is being delivered. */
  get isLoading(): boolean { return (this.flags & LOADING) !== 0; }
  private set isLoading(on: boolean) { this.setFlag(LOADING, on); }

  /** Something changed that was not delivered yet (during a load, or a re-run is due). */
  private get isDirty(): boolean { return (this.flags & DIRTY) !== 0; }
  private set isDirty(on: boolean) { this.setFlag(DIRTY, on); }

  /** Maintenance failed: the next commit re-reads the result. */
  private get isStale(): boolean { return (this.flags & STALE) !== 0; }
  private set isStale(on: boolean) { this.setFlag(STALE, on); }

  /** The schema changed (ALTER): plan again before the next read. */
  private get isReplanDue(): boolean { return (this.flags & REPLAN_DUE) !== 0; }
  private set isReplanDue(on: boolean) { this.setFlag(REPLAN_DUE, on); }

  /** Re-planned: the next delivery is the whole result, as a snapshot. */
  private get isSnapshotDue(): boolean { return (this.flags & SNAPSHOT_DUE) !== 0; }
  private set isSnapshotDue(on: boolean) { this.setFlag(SNAPSHOT_DUE, on); }

  private setFlag(bit: number, on: boolean): void {
    this.flags = on ? this.flags | bit : this.flags & ~bit;
  }

  get isMaintained(): boolean {
    return this.mode?.kind === 'maintained';
  }

  get tableIds(): readonly number[] {
    return this.mode.kind === 'maintained' ? [this.mode.query.table.id] : this.mode.plan.tableIds;
  }

  /** Plans and reads the first result (throws on bad SQL, denied access, bad options). */
  prepare(): void {
    const { plan, params } = this.deps.plan();
    this.stamp = this.deps.schemaStamp(plan.tableIds);
    this.ctx = this.deps.context(params) as Ctx;
    const analysis = this.deps.analyze(plan);
    const o = this.options;
    if (analysis.kind === 'rerun') {
      if (o.lastRows !== undefined) {
        throw new KalamError('UNSUPPORTED', `lastRows needs a single-table live query; this one is re-run on each change (${analysis.reason}). Drop lastRows or query one table`);
      }
      this.mode = { kind: 'rerun', plan, params };
      return;
    }
    const query = analysis.query;
    const t = query.table;
    const offset = query.offset ? (query.offset([], this.ctx) as number) : 0;
    const limit = query.limit ? (query.limit([], this.ctx) as number) : Number.POSITIVE_INFINITY;
    const isHidden = t.type === 'STREAM' ? (row: StoredRow) => this.deps.isExpired(t, row, this.ctx.now) : undefined;
    this.mode = new MaintainedResult(query, this.ctx, query.shape(params, this.owner.user), isHidden, offset, limit === 0 ? 0 : offset + limit);
  }

  /** The partitions this subscription listens to. */
  computeRoutes(tableById: (id: number) => TableDef | undefined): (number | string)[] {
    const out: (number | string)[] = [];
    for (const id of this.tableIds) {
      const t = tableById(id);
      if (t) out.push(id, t.type === 'SHARED' ? '' : this.owner.user);
    }
    return out;
  }

  /**
   * Delivers the first result: a snapshot (in batches with `batchSize`), or
   * with `from` the changes after that `_seq`. With its cold segments given
   * (loaded by the caller) or in the cache, the first delivery happens
   * before this returns; otherwise it follows their load. Resolves when the
   * first result has been delivered completely.
   */
  start(cache: RowCache, given?: LiveCold): Promise<void> {
    const cold = given && this.deps.isCurrent(given, this.tableIds) ? given : this.deps.residentCold(this.tableIds);
    if (!cold) return (this.waiting = this.startWhenLoaded().finally(() => this.afterWaiting()));
    try {
      return this.first(cache, cold.reads) ?? Promise.resolve();
    } finally {
      this.dropCache();
    }
  }

  /**
   * Forgets the output rows built during one read or commit (`cache` is
   * shared by the subscriptions of that read or commit only): a window
   * holds its rows, never the cache they were built in.
   */
  private dropCache(): void {
    if (this.mode?.kind === 'maintained') this.mode.cache = undefined;
  }

  /** The first result, read with these cold segments. */
  private first(cache: RowCache, cold: ColdReads): Promise<void> | undefined {
    this.ctx.now = Date.now();
    this.isDirty = false;
    const o = this.options;
    const m = this.mode;
    if (m.kind === 'rerun') {
      const out = this.rerunOutput(cold);
      if (o.from !== undefined) return void this.send(out, { kind: 'snapshot', resumed: false });
      return this.load(out);
    }
    m.cache = cache;
    const p = this.partition(m, cold);
    // `from` takes precedence over `lastRows` (as in KalamDB): a resume replays every
    // change after `from`, so no floor may hide a row written since. lastRows
    // applies when there is no `from`, or when `from` lies beyond retention.
    const isReplay = o.from !== undefined && o.from >= this.deps.watermark(m.query.table);
    if (o.lastRows !== undefined && !isReplay) m.minSeq = m.lastRowsFloor(p, o.lastRows);
    m.load(m, p ?? []);
    const out = this.windowOutput(m);
    if (o.from === undefined) return this.load(out);
    if (!isReplay) return void this.send(out, { kind: 'snapshot', resumed: false });
    this.send(out, m.replay(p, out, o.from));
  }

  private async startWhenLoaded(): Promise<void> {
    this.isLoading = true; // commits meanwhile wait for the first result (it reads them)
    let loaded: LoadedCold | undefined;
    try {
      for (;;) {
        loaded = await this.deps.loadCold(this.tableIds);
        if (!this.isActive) return;
        if (this.isReplanDue || this.deps.schemaStamp(this.tableIds) !== this.stamp) {
          this.isReplanDue = false;
          this.prepare();
        }
        if (this.deps.isCurrent(loaded, this.tableIds)) break;
        loaded.release(); // the schema changed while loading: load for the new versions
        loaded = undefined;
      }
      this.isLoading = false;
      const delivering = this.first(new Map(), loaded.reads);
      this.dropCache();
      loaded.release(); // read: a flush need not wait for a batched delivery
      loaded = undefined;
      await delivering;
    } catch (e) {
      if (this.mode.kind === 'maintained') this.isStale = true;
      this.fail(e);
    } finally {
      this.isLoading = false;
      loaded?.release();
    }
  }

  /** Applies one commit's changes to one of this subscription's partitions. */
  receive(changes: readonly RowChange[], cache: RowCache, now: number): void {
    this.ctx.now = now;
    const m = this.mode;
    if (m.kind === 'rerun' || this.isStale || this.isReplanDue || this.isSnapshotDue) {
      this.isDirty = true;
      return;
    }
    m.cache = cache;
    try {
      for (const c of changes) {
        if (c.table.id !== m.query.table.id) continue;
        if (m.apply(m, c.pkHash, c.row)) this.isDirty = true;
      }
    } catch (e) {
      this.isStale = true;
      this.isDirty = true;
      this.fail(e);
    }
  }

  /**
   * After a commit's changes were received: refills and delivers what
   * changed — at once, or after loading cold segments the cache no longer
   * holds (see cold.ts).
   */
  flush(cache: RowCache): void {
    try {
      if (!this.isDue || this.isLoading || !this.isActive || this.waiting) return;
      if (!this.refresh(cache, () => this.deps.residentCold(this.tableIds))) {
        this.waiting = this.refreshWhenLoaded().finally(() => this.afterWaiting());
      }
    } catch (e) {
      this.failRefresh(e);
    } finally {
      this.dropCache();
    }
  }

  /** Plans again (after ALTER TABLE) and delivers the whole result as a snapshot. */
  resnapshot(cache: RowCache): void {
    if (!this.isActive) return;
    this.isReplanDue = true;
    this.flush(cache);
  }

  /** Something is left to read and deliver. */
  private get isDue(): boolean {
    return this.isDirty || this.isReplanDue || this.isSnapshotDue;
  }

  get isWaiting(): boolean {
    return this.waiting !== undefined;
  }

  /** Resolves when no refresh of this subscription is waiting for cold segments. */
  get settled(): Promise<void> {
    return this.waiting ?? Promise.resolve();
  }

  /**
   * Brings the result up to date and delivers what changed. Returns false,
   * having read and delivered nothing, when it needs cold segments `cold`
   * does not provide (for the tables' current versions).
   */
  private refresh(cache: RowCache, cold: () => LiveCold | undefined): boolean {
    if (this.isReplanDue || this.deps.schemaStamp(this.tableIds) !== this.stamp) {
      const lastRows = this.mode.kind === 'maintained' ? this.mode.minSeq : undefined;
      this.isReplanDue = false;
      this.isStale = false;
      try {
        this.prepare();
      } catch (e) {
        this.isReplanDue = true; // try planning again at the next change
        throw e;
      }
      this.ctx.now = Date.now();
      if (this.mode.kind === 'maintained') this.mode.minSeq = lastRows;
      this.isSnapshotDue = true;
    }
    const m = this.mode;
    const isWholeRead = this.isSnapshotDue || this.isStale;
    let reads: ColdReads | undefined;
    if (m.kind === 'rerun' || isWholeRead || m.isRefillDue) {
      const c = cold();
      if (!c || !this.deps.isCurrent(c, this.tableIds)) return false;
      reads = c.reads;
    }
    this.isDirty = false;
    const isSnapshot = this.isSnapshotDue;
    this.isSnapshotDue = false;
    if (m.kind === 'rerun') {
      const out = this.rerunOutput(reads!);
      if (isSnapshot) this.send(out, { kind: 'snapshot' });
      else if (!sameRows(this.deliveredRows, out.rows)) this.send(out, { kind: 'snapshot' });
      return true;
    }
    m.cache = cache;
    if (isWholeRead) {
      this.isStale = false;
      m.load(m, this.partition(m, reads!) ?? []);
    } else if (reads) {
      m.settle(m, this.partition(m, reads));
    }
    const out = this.windowOutput(m);
    if (isSnapshot) {
      this.send(out, { kind: 'snapshot' });
      return true;
    }
    const change = diffOutputs({ rows: this.deliveredRows, entries: this.deliveredEntries }, out);
    if (change) this.send(out, change);
    else this.scheduleExpiry(); // rows out of sight (OFFSET) may have changed
    return true;
  }

  /** Loads the cold segments, then refreshes; again when the schema changed meanwhile. */
  private async refreshWhenLoaded(): Promise<void> {
    try {
      while (this.isActive && !this.isLoading && this.isDue) {
        const loaded = await this.deps.loadCold(this.tableIds);
        try {
          const isDone = this.isActive && this.refresh(new Map(), () => loaded);
          this.dropCache();
          if (isDone) return;
        } finally {
          loaded.release();
        }
      }
    } catch (e) {
      this.failRefresh(e);
    }
  }

  private afterWaiting(): void {
    this.waiting = undefined;
    // A batched first load that ended meanwhile left its changes to us.
    if (this.isDue && this.isActive) this.flush(new Map());
  }

  /** A refresh failed: the owner is told; a maintained result is re-read at the next change. */
  private failRefresh(e: unknown): void {
    // Nothing is retried until the next change (a re-plan too: the schema stamp still differs then).
    this.isDirty = false;
    this.isReplanDue = false;
    this.isSnapshotDue = false;
    if (this.mode.kind === 'maintained') this.isStale = true;
    this.fail(e);
  }

  /** Ends the subscription; with a reason, its owner is told (KILL LIVE QUERY). */
  end(reason?: KalamError): void {
    if (!this.isActive) return;
    this.isActive = false;
    if (reason) this.fail(reason);
  }

  // -- internals --

  private partition(m: MaintainedResult, cold: ColdReads): Partition | undefined {
    return this.deps.partition(m.query.table.id, m.partitionUser, cold);
  }

  private windowOutput(m: MaintainedResult): LiveOutput {
    return outputOf(m, m.offset);
  }

  private rerunOutput(cold: ColdReads): LiveOutput {
    const m = this.mode as Extract<Mode, { kind: 'rerun' }>;
    const rows = this.deps.run(m.plan, { ...this.ctx, cold });
    // Rows equal to the previous result at the same position keep their object.
    const prev = this.deliveredRows;
    for (let i = 0; i < rows.length && i < prev.length; i++) if (shallowEqual(prev[i], rows[i]) && shallowEqual(rows[i], prev[i])) rows[i] = prev[i];
    return { rows: Object.freeze(rows), entries: NO_ENTRIES };
  }

  /** Delivers `out` whole, in batches of `batchSize` rows when asked; changes that arrive meanwhile follow. */
  private async load(out: LiveOutput): Promise<void> {
    const size = this.options.batchSize;
    if (size === undefined || out.rows.length <= size) return this.send(out, { kind: 'snapshot' });
    this.isLoading = true;
    try {
      for (let n = size; this.isActive; n += size) {
        const last = n >= out.rows.length;
        this.send(last ? out : { ...out, rows: Object.freeze(out.rows.slice(0, n)) }, last ? { kind: 'snapshot' } : { kind: 'snapshot', hasMore: true });
        if (last) break;
        await this.deps.pause();
      }
    } finally {
      this.isLoading = false;
    }
    this.deliver(out);
    this.flush(new Map());
  }

  /**
   * A STREAM row of the window passed its TTL (the registry's expiry timer):
   * drops the expired rows and delivers, as a commit that deleted them would.
   */
  expire(cache: RowCache, now: number): void {
    const m = this.mode;
    if (!this.isActive || m.kind !== 'maintained') return;
    this.ctx.now = now;
    if (!this.isStale && !this.isReplanDue && !this.isSnapshotDue) {
      m.cache = cache;
      if (m.dropExpired()) this.isDirty = true;
    } else {
      this.isDirty = true; // the next read hides expired rows
    }
    this.flush(cache);
    this.scheduleExpiry();
  }

  /** Tells the registry when the earliest row of a maintained STREAM window expires. */
  private scheduleExpiry(): void {
    const m = this.mode;
    if (m?.kind !== 'maintained' || m.isHidden === undefined || !this.isActive) return;
    this.deps.scheduleExpiry(this, m.earliestExpiry());
  }

  private send(out: LiveOutput, change: LiveChange): void {
    if (!this.isActive) return;
    this.scheduleExpiry();
    if (this.deliveredRows !== EMPTY_OUTPUT.rows || change.kind === 'changes') this.changes++;
    this.deliver(out);
    this.updatedAfter = Date.now() - this.createdAt;
    try {
      this.onChange(out.rows, change, this.deps.committedSeq());
    } catch (e) {
      this.fail(e);
    }
  }

  private deliver(out: LiveOutput): void {
    this.deliveredRows = out.rows;
    this.deliveredEntries = out.entries;
  }

  private fail(e: unknown): void {
    try {
      this.onError(toKalamError(e));
    } catch {
      /* an owner's error handler that throws has nobody left to tell */
    }
  }
}

function sameRows(a: readonly Row[], b: readonly Row[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
