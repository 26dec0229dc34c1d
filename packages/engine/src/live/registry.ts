/**
 * The live subscription registry: every open subscription, a routing index
 * from (table id, partition) to the subscriptions listening to it, the
 * per-session counts behind the limits, and the replay watermark per table.
 *
 * A commit's changes are grouped by (table, partition) and each group
 * reaches only the subscriptions routed there: a change to alice's USER rows
 * looks at none of bob's subscriptions; a SHARED change ('' partition)
 * reaches every reader of the table.
 */
import { canKillLiveQuery } from '../auth/permissions';
import type { TableDef } from '../core/schema';
import { KalamError } from '../core/errors';
import type { RowChange } from '../core/schema';
import type { Role } from '../core/types';
import type { Subscription } from './subscription';
import type { RowCache } from './window';
import { LIVE_DEFAULTS as LIVE } from '../core/defaults';

/** table id → partition ('' for SHARED) → that partition's changes in one commit, in commit order. */
export type CommitGroups = Map<number, Map<string, RowChange[]>>;

export interface LiveLimits {
  /** Subscriptions open at once across all sessions. */
  maxLiveQueries: number;
  /** Subscriptions one session may hold open at once. */
  maxSubscriptionsPerSession: number;
}

/** The subscriptions routed to one (table, partition), and that pair as the `routes` of its single-table ones. */
interface RouteGroup {
  readonly subs: Set<Subscription>;
  readonly route: readonly (number | string)[];
}

export const LIVE_DEFAULTS: LiveLimits = LIVE;

export class LiveRegistry {
  /** live id → subscription; bounded by `maxLiveQueries`, shrunk by remove. */
  private readonly subs = new Map<string, Subscription>();
  /** table id → partition → its subscriptions; empty groups and maps are deleted with their last subscription. */
  private readonly index = new Map<number, Map<string, RouteGroup>>();
  /** session number → open subscriptions; entries deleted at 0. */
  private readonly perSession = new Map<number, number>();
  /** table id → the newest `_seq` whose removal left no tombstone; one entry per table that had one, dropped with it. */
  private readonly removedUpTo = new Map<number, bigint>();
  /**
   * Query text → [the one copy open subscriptions share, how many use it]:
   * a thousand subscriptions of one query keep one string, not the copy
   * each call brought (a message's text is a new string each time). At
   * most one entry per open subscription; deleted with its last user.
   */
  private readonly texts = new Map<string, [string, number]>();
  /**
   * Maintained STREAM subscriptions → when the earliest row of their window
   * expires (ms since the epoch): one entry per such open subscription at
   * most (bounded by maxLiveQueries), deleted when it is removed or holds no
   * row; system.stats `live_expiries_pending`. One engine-wide timer is armed
   * for the earliest of them.
   */
  private readonly expiries = new Map<Subscription, number>();
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;
  /** When `expiryTimer` fires (Infinity: not armed); it may fire early, never late. */
  private expiryAt = Number.POSITIVE_INFINITY;
  /** The database closed: no timer is armed again. */
  private isClosed = false;
  private nextId = 1;
  private epoch = 0;
  private delivered = 0;
  private examined = 0;
  /** Refreshes that had to load cold segments the cache no longer held (live/cold.ts). */
  coldLoads = 0;

  constructor(readonly limits: LiveLimits) {}

  get maxSubscriptions(): number {
    return this.limits.maxLiveQueries;
  }

  get size(): number {
    return this.subs.size;
  }

  get deliveries(): number {
    return this.delivered;
  }

  /** Subscriptions looked at by commit fan-outs since open. */
  get subscriptionsExamined(): number {
    return this.examined;
  }

  /** Routing-index entries (subscription handles across all (table, partition) keys). */
  get indexSize(): number {
    let n = 0;
    for (const byUser of this.index.values()) for (const group of byUser.values()) n += group.subs.size;
    return n;
  }

  get sessionsWithSubscriptions(): number {
    return this.perSession.size;
  }

  /** The shared copy of a subscription's query text; release it when the subscription is removed. */
  internText(text: string): string {
    const entry = this.texts.get(text);
    if (entry) {
      entry[1]++;
      return entry[0];
    }
    this.texts.set(text, [text, 1]);
    return text;
  }

  /** Gives back a copy from internText; `remove` does it for a subscription it removes. */
  releaseText(text: string): void {
    const entry = this.texts.get(text);
    if (!entry) return;
    if (--entry[1] === 0) this.texts.delete(text);
  }

  /** Distinct query texts open subscriptions hold (system.stats live_texts). */
  get textCount(): number {
    return this.texts.size;
  }

  /** A new subscription's numeric id. */
  allocateId(): number {
    return this.nextId++;
  }

  /** Throws SUBSCRIPTION_LIMIT_EXCEEDED when another subscription for `session` would pass a limit. */
  checkLimits(session: number): void {
    const { maxLiveQueries, maxSubscriptionsPerSession } = this.limits;
    if ((this.perSession.get(session) ?? 0) >= maxSubscriptionsPerSession) {
      throw new KalamError(
        'SUBSCRIPTION_LIMIT_EXCEEDED',
        `Maximum subscriptions reached: this session already has ${maxSubscriptionsPerSession} live queries open (maxSubscriptionsPerSession). Stop unused live queries or raise the limit`,
      );
    }
    if (this.subs.size >= maxLiveQueries) {
      throw new KalamError(
        'SUBSCRIPTION_LIMIT_EXCEEDED',
        `Maximum subscriptions reached: ${maxLiveQueries} live queries are open (maxLiveQueries). Stop unused live queries or raise the limit`,
      );
    }
  }

  add(sub: Subscription, tableById: (id: number) => TableDef | undefined): void {
    this.checkLimits(sub.owner.session);
    this.subs.set(sub.liveId, sub);
    this.perSession.set(sub.owner.session, (this.perSession.get(sub.owner.session) ?? 0) + 1);
    const routes = sub.computeRoutes(tableById);
    let group: RouteGroup | undefined;
    for (let i = 0; i < routes.length; i += 2) {
      const table = routes[i] as number;
      const user = routes[i + 1] as string;
      let byUser = this.index.get(table);
      if (!byUser) this.index.set(table, (byUser = new Map()));
      group = byUser.get(user);
      if (!group) byUser.set(user, (group = { subs: new Set(), route: Object.freeze([table, user]) }));
      group.subs.add(sub);
    }
    // One route (a single-table query) is its group's shared array, not an array per subscription.
    sub.routes = routes.length === 2 ? group!.route : routes;
  }

  remove(liveId: string, reason?: KalamError): void {
    const sub = this.subs.get(liveId);
    if (!sub) return;
    this.subs.delete(liveId);
    const n = (this.perSession.get(sub.owner.session) ?? 1) - 1;
    if (n > 0) this.perSession.set(sub.owner.session, n);
    else this.perSession.delete(sub.owner.session);
    for (let i = 0; i < sub.routes.length; i += 2) {
      const table = sub.routes[i] as number;
      const user = sub.routes[i + 1] as string;
      const byUser = this.index.get(table);
      const group = byUser?.get(user);
      if (!byUser || !group) continue;
      group.subs.delete(sub);
      if (group.subs.size === 0) byUser.delete(user);
      if (byUser.size === 0) this.index.delete(table);
    }
    this.releaseText(sub.sql);
    this.expiries.delete(sub); // the timer may fire for nothing: it re-arms for what is left
    sub.end(reason);
  }

  /**
   * A maintained STREAM subscription's earliest expiry (undefined: none):
   * when that row passes its TTL the subscription drops it and delivers,
   * without waiting for the eviction job.
   */
  scheduleExpiry(sub: Subscription, at: number | undefined): void {
    if (at === undefined) {
      this.expiries.delete(sub);
      return; // an earlier timer fires for nothing and re-arms
    }
    if (!this.subs.has(sub.liveId) || this.isClosed) return;
    this.expiries.set(sub, at);
    if (at < this.expiryAt) this.armExpiry(at);
  }

  /** Subscriptions waiting for a row of theirs to expire (system.stats live_expiries_pending). */
  get expiriesPending(): number {
    return this.expiries.size;
  }

  /** Stops the expiry timer (the database closes). */
  stopTimers(): void {
    this.isClosed = true;
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.expiryAt = Number.POSITIVE_INFINITY;
    this.expiries.clear();
  }

  private armExpiry(at: number): void {
    clearTimeout(this.expiryTimer);
    this.expiryAt = at;
    // setTimeout holds at most 2^31 - 1 ms; a later expiry is re-armed when this fires.
    this.expiryTimer = setTimeout(() => this.expireDue(), Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1));
    (this.expiryTimer as { unref?: () => void }).unref?.();
  }

  /** The timer fired: every subscription whose earliest row expired drops its expired rows and delivers. */
  private expireDue(): void {
    this.expiryTimer = undefined;
    this.expiryAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    const due: Subscription[] = [];
    for (const [sub, at] of this.expiries) if (at <= now) due.push(sub);
    const cache: RowCache = new Map();
    for (const sub of due) {
      this.expiries.delete(sub);
      const before = sub.changes;
      sub.expire(cache, now); // schedules its next expiry
      if (sub.changes !== before) this.delivered++;
    }
    let next = Number.POSITIVE_INFINITY;
    for (const at of this.expiries.values()) if (at < next) next = at;
    if (next < this.expiryAt) this.armExpiry(next);
  }

  get(liveId: string): Subscription | undefined {
    return this.subs.get(liveId);
  }

  /**
   * KILL LIVE QUERY: ends `liveId` and tells its owner. Anyone may end their
   * own; dba and system anyone's. Another user's id reads as unknown.
   */
  kill(liveId: string, by: { user: string; role: Role }): Subscription {
    const sub = this.subs.get(liveId);
    if (!sub || !canKillLiveQuery(by, sub.owner.user)) {
      throw new KalamError('LIVE_QUERY_NOT_FOUND', `Live query '${liveId}' not found: list yours in system.live (dba) or with the id session.live returned`);
    }
    this.remove(liveId, new KalamError('LIVE_QUERY_KILLED', `Live query '${liveId}' was killed by '${by.user}' (KILL LIVE QUERY). Subscribe again to resume`));
    return sub;
  }

  /** Applies one commit's changes to exactly the subscriptions routed to the changed partitions, then delivers. */
  publish(groups: CommitGroups, now: number, latestSeq: bigint): void {
    this.noteRemovals(groups, latestSeq);
    if (this.subs.size === 0) return;
    const epoch = ++this.epoch;
    // Lives for this fan-out: each stored row's output objects, shared by subscriptions of equal projection.
    const cache: RowCache = new Map();
    const touched: Subscription[] = [];
    for (const [table, byUser] of groups) {
      const routed = this.index.get(table);
      if (!routed) continue;
      for (const [user, changes] of byUser) {
        const group = routed.get(user);
        if (!group) continue;
        for (const sub of group.subs) {
          this.examined++;
          sub.receive(changes, cache, now);
          if (sub.epoch !== epoch) {
            sub.epoch = epoch;
            touched.push(sub);
          }
        }
      }
    }
    for (const sub of touched) {
      const before = sub.changes;
      sub.flush(cache);
      if (sub.changes !== before) this.delivered++;
    }
  }

  /** After ALTER TABLE: every subscription reading the table plans again and delivers a snapshot. */
  tableAltered(tableId: number): void {
    const byUser = this.index.get(tableId);
    if (!byUser) return;
    const cache: RowCache = new Map();
    const subs = [...byUser.values()].flatMap((g) => [...g.subs]);
    for (const sub of subs) {
      this.examined++;
      sub.resnapshot(cache);
    }
  }

  list(): Subscription[] {
    return [...this.subs.values()];
  }

  /** Live queries reading a table (of one partition user, when given). */
  countFor(tableId: number, user?: string): number {
    const byUser = this.index.get(tableId);
    if (!byUser) return 0;
    if (user !== undefined) return (byUser.get(user)?.subs.size ?? 0) + (user === '' ? 0 : byUser.get('')?.subs.size ?? 0);
    let n = 0;
    for (const group of byUser.values()) n += group.subs.size;
    return n;
  }

  /** Ends the subscriptions of dropped tables (their owners get TABLE_NOT_FOUND) and forgets the tables' watermarks. */
  dropTables(tables: readonly TableDef[]): Subscription[] {
    const dropped = new Map<Subscription, TableDef>();
    for (const t of tables) {
      this.removedUpTo.delete(t.id);
      for (const group of this.index.get(t.id)?.values() ?? []) for (const sub of group.subs) if (!dropped.has(sub)) dropped.set(sub, t);
    }
    for (const [s, t] of dropped) {
      this.remove(s.liveId, new KalamError('TABLE_NOT_FOUND', `Table '${t.namespace}.${t.name}' was dropped: live query '${s.liveId}' ended. Subscribe again once the table exists`));
    }
    return [...dropped.keys()];
  }

  /** Resolves once no subscription is waiting for cold segments (tests, shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      const waiting = this.list().map((s) => s.settled);
      await Promise.all(waiting);
      if (this.list().every((s) => !s.isWaiting)) return;
    }
  }

  /** The newest `_seq` of the table whose removal cannot be replayed (0 when none). */
  removedSeq(tableId: number): bigint {
    return this.removedUpTo.get(tableId) ?? 0n;
  }

  /**
   * A physical removal leaves nothing a `from` replay could find: a purged
   * tombstone up to its own `_seq` (the delete's), a hard-deleted live row
   * (STREAM) up to now.
   */
  private noteRemovals(groups: CommitGroups, latestSeq: bigint): void {
    for (const [table, byUser] of groups) {
      for (const changes of byUser.values()) {
        for (const c of changes) {
          if (c.row !== null || !c.before) continue;
          const del = c.table.columns.length + 1;
          const seq = c.before[del] === true ? (c.before[del - 1] as bigint) : latestSeq;
          if (seq > (this.removedUpTo.get(table) ?? 0n)) this.removedUpTo.set(table, seq);
        }
      }
    }
  }
}
