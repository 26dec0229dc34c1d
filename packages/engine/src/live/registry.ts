/**
 * Live query registry. For now a subscription re-runs its query after each
 * commit that touched one of its tables in its user's partition (or a
 * SHARED table), coalesced to one re-run per commit. An index from table id
 * to subscriptions means a commit only looks at subscriptions of the tables
 * it changed.
 */
import { KalamError } from '../errors';

export interface Subscription {
  id: number;
  /** The subscribing session's user: USER/STREAM changes of other users never reach it. */
  user: string;
  tableIds: readonly number[];
  /** The query text, for system.live. */
  sql: string;
  createdAt: number;
  lastUpdate: number;
  changes: number;
  /** Re-runs the query and delivers the result. Never throws. */
  refresh(): void;
}

/** table id → partition ('' for SHARED) that changed in one commit. */
export type CommitFootprint = Map<number, Set<string>>;

export class LiveRegistry {
  /** Bounded by `maxSubscriptions`; shrunk by unsubscribe. */
  private readonly subs = new Map<number, Subscription>();
  /** table id → subscriptions reading it; entries removed with their last subscription. */
  private readonly byTable = new Map<number, Set<Subscription>>();
  private nextId = 1;
  private delivered = 0;

  constructor(readonly maxSubscriptions: number) {}

  get size(): number {
    return this.subs.size;
  }

  get deliveries(): number {
    return this.delivered;
  }

  add(user: string, tableIds: readonly number[], refresh: () => void, sql = ''): Subscription {
    if (this.subs.size >= this.maxSubscriptions) {
      throw new KalamError(
        'RESULT_TOO_LARGE',
        `Too many live queries: the limit is ${this.maxSubscriptions}. Unsubscribe unused live queries or raise maxLiveQueries`,
      );
    }
    const now = Date.now();
    const sub: Subscription = { id: this.nextId++, user, tableIds, sql, createdAt: now, lastUpdate: now, changes: 0, refresh };
    this.subs.set(sub.id, sub);
    for (const t of tableIds) {
      let set = this.byTable.get(t);
      if (!set) this.byTable.set(t, (set = new Set()));
      set.add(sub);
    }
    return sub;
  }

  remove(id: number): void {
    const sub = this.subs.get(id);
    if (!sub) return;
    this.subs.delete(id);
    for (const t of sub.tableIds) {
      const set = this.byTable.get(t);
      set?.delete(sub);
      if (set && set.size === 0) this.byTable.delete(t);
    }
  }

  /** Refreshes each affected subscription once for this commit. */
  notify(footprint: CommitFootprint): void {
    const due = new Set<Subscription>();
    for (const [tableId, users] of footprint) {
      const set = this.byTable.get(tableId);
      if (!set) continue;
      for (const sub of set) if (users.has('') || users.has(sub.user)) due.add(sub);
    }
    for (const sub of due) {
      if (!this.subs.has(sub.id)) continue;
      this.delivered++;
      sub.changes++;
      sub.lastUpdate = Date.now();
      sub.refresh();
    }
  }

  list(): Subscription[] {
    return [...this.subs.values()];
  }

  /** Live queries reading a table (of one user, when given). */
  countFor(tableId: number, user?: string): number {
    let n = 0;
    for (const sub of this.byTable.get(tableId) ?? []) if (user === undefined || sub.user === user) n++;
    return n;
  }

  /** Drops subscriptions of dropped tables. */
  dropTables(tableIds: Iterable<number>): Subscription[] {
    const dropped: Subscription[] = [];
    for (const t of tableIds) for (const sub of this.byTable.get(t) ?? []) dropped.push(sub);
    for (const s of dropped) this.remove(s.id);
    return dropped;
  }
}
