/**
 * Topics: the definitions, the message logs and the consumer groups' acked
 * offsets, all in the `system` store, all changed through the one commit
 * path (commit.ts) as StateChanges:
 *
 *   ['topic', id]                      → TopicDef
 *   ['topic_head', id, partition]      → { next, first }: the next offset, and the first one kept
 *   ['topic_page', id, partition, pg]  → TopicMessage[]: offsets pg × PAGE … pg × PAGE + PAGE - 1
 *   ['topic_group', id, owner, group]  → GroupRecord (last acked offset per partition)
 *
 * Messages are stored PAGE to a record, as hot rows are: a commit rewrites
 * the partition's last page and adds full ones, so a bulk write puts one
 * record per PAGE messages. A page may still hold messages below the
 * partition's first kept offset (dropped from its front); reads skip them,
 * and a page is deleted once all of it is below.
 *
 * The committer asks `route` for the messages of a unit's row changes and
 * writes them in the same storage commit as the rows (a failed or rolled
 * back statement commits nothing, so writes no message). The in-memory
 * state of each topic (sizes, times and write order of its retained
 * messages) is topic-state.ts; wake-ups are topic-waiters.ts. CONSUME reads
 * messages from the store.
 */
import { KalamError } from '../core/errors';
import type { RowChange } from '../core/schema';
import type { Value } from '../core/types';
import type { ExecContext, Tuple } from '../exec/context';
import { decodeKey, encodeKey, prefixUpperBound } from '../storage/keys';
import type { KvStore, KvWrite } from '../storage/kv';
import type { StateChange } from '../storage/unit-of-work';
import { compileRouteFilter, messageOf, opOf, partitionOf, type RouteDef, type TopicMessage } from './topic-route';
import { emptyPartition, firstOffset, oldestDrops, removeFront, retentionDrops, type GroupRecord, type PartitionLog, type TopicDef, type TopicSettings, type TopicState } from './topic-state';
import { TopicWaiters } from './topic-waiters';

export type { GroupRecord, TopicDef, TopicSettings, TopicState };
export { firstOffset };

const topicKey = (id: number) => encodeKey(['topic', id]);
const headKey = (id: number, p: number) => encodeKey(['topic_head', id, p]);
/** Messages per stored page. */
export const PAGE = 64;
const pageKey = (id: number, p: number, page: number) => encodeKey(['topic_page', id, p, page]);
const pageOf = (offset: number) => Math.floor(offset / PAGE);

/** A partition's head record. */
interface HeadRecord {
  next: number;
  first: number;
}

/** Deletes of the pages of partition `p` wholly below `first`, from the page of `from` on. */
function pagesBelow(id: number, p: number, from: number, first: number, writes: KvWrite[]): void {
  for (let pg = pageOf(from); pg < pageOf(first); pg++) writes.push({ store: 'system', key: pageKey(id, p, pg) });
}
const groupKey = (id: number, owner: string, group: string) => encodeKey(['topic_group', id, owner, group]);
const groupId = (owner: string, group: string) => `${owner}\u0000${group}`;

async function scanPrefix(kv: KvStore, parts: (string | number)[], visit: (key: Uint8Array, v: unknown) => void): Promise<void> {
  const lower = encodeKey(parts);
  await kv.scan('system', { lower, upper: prefixUpperBound(lower) }, visit);
}

type RouteFilter = (row: readonly Value[], ctx: ExecContext) => Value;

interface RouteEntry {
  topic: TopicState;
  route: RouteDef;
  /** The filter compiled for table version `version` (undefined: it does not compile any more). */
  compiled?: { version: number; filter: RouteFilter | undefined };
}

export class TopicLog {
  private readonly byName = new Map<string, TopicState>();
  /** table id → the sources reading it; rebuilt when a topic's routes change. */
  private byTable = new Map<number, RouteEntry[]>();
  /** Pending waitForMessages calls; at most `settings.maxWaiters`. */
  private readonly waiters: TopicWaiters;
  private nextId = 1;
  /** Messages dropped to keep maxTopicMessages, and removed by the topic_retention job. */
  dropped = 0;
  expired = 0;
  written = 0;
  /** Route filters that failed to compile (after an ALTER TABLE) or to evaluate: the change was not sent. */
  routeErrors = 0;

  constructor(readonly settings: TopicSettings) {
    this.waiters = new TopicWaiters(settings.maxWaiters);
  }

  static async load(kv: KvStore, settings: TopicSettings): Promise<TopicLog> {
    const log = new TopicLog(settings);
    const byId = new Map<number, TopicState>();
    await scanPrefix(kv, ['topic'], (_k, v) => {
      const def = v as TopicDef;
      const state: TopicState = { def, parts: [], count: 0, bytes: 0, nextN: 0, groups: new Map() };
      for (let p = 0; p < def.partitions; p++) state.parts.push(emptyPartition());
      byId.set(def.topic_id, state);
      log.byName.set(def.name, state);
      log.nextId = Math.max(log.nextId, def.topic_id + 1);
    });
    const firsts = new Map<PartitionLog, number>();
    await scanPrefix(kv, ['topic_head'], (k, v) => {
      const [, id, p] = decodeIds(k);
      const part = byId.get(id)?.parts[p];
      if (!part) return;
      const head = v as HeadRecord;
      part.next = head.next;
      firsts.set(part, head.first);
    });
    // Pages in key order: offsets ascending within each partition.
    await scanPrefix(kv, ['topic_page'], (k, v) => {
      const [, id, p, pg] = decodeIds(k);
      const t = byId.get(id);
      const part = t?.parts[p];
      if (!t || !part) return;
      const page = v as TopicMessage[];
      if (pg === pageOf(part.next)) part.tail = page;
      const first = firsts.get(part) ?? 0;
      for (const m of page) {
        if (m.offset < first || m.offset >= part.next) continue;
        part.sizes.push(m.bytes);
        part.times.push(m.timestamp);
        part.orders.push(m.n);
        t.nextN = Math.max(t.nextN, m.n + 1);
        t.count++;
        t.bytes += m.bytes;
      }
    });
    await scanPrefix(kv, ['topic_group'], (k, v) => {
      const [, id] = decodeIds(k);
      const r = v as GroupRecord;
      byId.get(id)?.groups.set(groupId(r.owner, r.group), r);
    });
    log.reindex();
    return log;
  }

  get(name: string): TopicState | undefined {
    return this.byName.get(name);
  }

  require(name: string): TopicState {
    const t = this.byName.get(name);
    if (!t) throw new KalamError('TOPIC_NOT_FOUND', `Topic '${name}' does not exist: create it with CREATE TOPIC ${name}`);
    return t;
  }

  list(): TopicState[] {
    return [...this.byName.values()];
  }

  get size(): number {
    return this.byName.size;
  }

  get pendingWaiters(): number {
    return this.waiters.size;
  }

  private reindex(): void {
    const index = new Map<number, RouteEntry[]>();
    for (const topic of this.byName.values()) {
      for (const route of topic.def.routes) {
        let list = index.get(route.table_id);
        if (!list) index.set(route.table_id, (list = []));
        list.push({ topic, route });
      }
    }
    this.byTable = index;
  }

  // -- definitions --

  create(name: string, partitions: number, retention: Pick<TopicDef, 'retention_seconds' | 'retention_max_bytes'>, now: number): StateChange {
    if (this.byName.size >= this.settings.maxTopics) {
      throw new KalamError('LIMIT_EXCEEDED', `There are already ${this.settings.maxTopics} topics (maxTopics): drop one first, or raise maxTopics in openDatabase() options`);
    }
    const def: TopicDef = { topic_id: this.nextId, name, partitions, ...retention, routes: [], created_at: now, updated_at: now };
    return {
      writes: [{ store: 'system', key: topicKey(def.topic_id), value: def }],
      apply: () => {
        this.nextId = Math.max(this.nextId, def.topic_id + 1);
        const parts = Array.from({ length: partitions }, emptyPartition);
        this.byName.set(name, { def, parts, count: 0, bytes: 0, nextN: 0, groups: new Map() });
      },
    };
  }

  /** A new definition of an existing topic (sources, retention). */
  redefine(t: TopicState, def: TopicDef): StateChange {
    return {
      writes: [{ store: 'system', key: topicKey(def.topic_id), value: def }],
      apply: () => {
        t.def = def;
        this.reindex();
      },
    };
  }

  /** DROP TOPIC: the definition, its messages, heads and groups. */
  drop(t: TopicState): StateChange {
    const id = t.def.topic_id;
    const writes: KvWrite[] = [{ store: 'system', key: topicKey(id) }, ...this.pageDeletes(t)];
    t.parts.forEach((_p, i) => writes.push({ store: 'system', key: headKey(id, i) }));
    for (const g of t.groups.values()) writes.push({ store: 'system', key: groupKey(id, g.owner, g.group) });
    return {
      writes,
      apply: () => {
        this.byName.delete(t.def.name);
        this.reindex();
        this.waiters.wake(id);
      },
    };
  }

  /** CLEAR TOPIC: every message goes; offsets keep counting (a group's acks stay meaningful). */
  clear(t: TopicState): StateChange {
    const writes = this.pageDeletes(t);
    t.parts.forEach((p, i) => writes.push({ store: 'system', key: headKey(t.def.topic_id, i), value: { next: p.next, first: p.next } satisfies HeadRecord }));
    return {
      writes,
      apply: () => {
        for (const p of t.parts) {
          p.head = 0;
          p.sizes = [];
          p.times = [];
          p.orders = [];
          p.tail = [];
        }
        t.count = 0;
        t.bytes = 0;
      },
    };
  }

  /** Deletes of every stored page (those below the first kept offset are gone already). */
  private pageDeletes(t: TopicState): KvWrite[] {
    const out: KvWrite[] = [];
    t.parts.forEach((p, i) => {
      if (p.next > 0) for (let pg = pageOf(firstOffset(p)); pg <= pageOf(p.next - 1); pg++) out.push({ store: 'system', key: pageKey(t.def.topic_id, i, pg) });
    });
    return out;
  }

  // -- messages --

  /**
   * The messages of a commit's row changes, as one StateChange for the
   * same storage commit (undefined: no source takes any of them). Messages
   * past maxTopicMessages drop the topic's oldest in the same commit.
   */
  route(rows: readonly RowChange[], now: number): StateChange | undefined {
    if (this.byTable.size === 0) return undefined;
    let added: Map<TopicState, TopicMessage[][]> | undefined;
    /** Messages so far per topic (their write order is nextN + this). */
    const counts = new Map<TopicState, number>();
    for (const c of rows) {
      const entries = this.byTable.get(c.table.id);
      if (!entries) continue;
      const op = opOf(c);
      if (!op) continue;
      for (const e of entries) {
        if (e.route.op !== op || e.route.table_created_at !== c.table.createdAt || !this.passes(e, c)) continue;
        const t = e.topic;
        added ??= new Map();
        let perPart = added.get(t);
        if (!perPart) added.set(t, (perPart = t.parts.map(() => [])));
        const p = partitionOf(c.pkHash, t.def.partitions);
        const m = messageOf(c, op, e.route, p, now);
        m.offset = t.parts[p].next + perPart[p].length;
        const k = counts.get(t) ?? 0;
        counts.set(t, k + 1);
        m.n = t.nextN + k;
        perPart[p].push(m);
      }
    }
    if (!added) return undefined;
    const writes: KvWrite[] = [];
    const applies: (() => void)[] = [];
    for (const [t, perPart] of added) {
      const id = t.def.topic_id;
      const newCount = perPart.reduce((n, l) => n + l.length, 0);
      const drops = oldestDrops(t, perPart, t.count + newCount - this.settings.maxTopicMessages);
      const tails: TopicMessage[][] = [];
      t.parts.forEach((part, p) => {
        const list = perPart[p];
        const first = firstOffset(part) + drops[p];
        pagesBelow(id, p, firstOffset(part), first, writes);
        tails.push(part.tail);
        if (list.length === 0 && drops[p] === 0) return;
        // The last page is rewritten with the new messages, full pages are added; a page wholly dropped at once is not written.
        let page = part.tail.slice();
        let pg = pageOf(part.next);
        for (const m of list) {
          page.push(m);
          if (page.length === PAGE) {
            if ((pg + 1) * PAGE > first) writes.push({ store: 'system', key: pageKey(id, p, pg), value: page });
            pg++;
            page = [];
          }
        }
        if (list.length > 0 && page.length > 0 && (pg + 1) * PAGE > first) writes.push({ store: 'system', key: pageKey(id, p, pg), value: page });
        if (list.length > 0) tails[p] = page;
        writes.push({ store: 'system', key: headKey(id, p), value: { next: part.next + list.length, first } satisfies HeadRecord });
      });
      applies.push(() => {
        perPart.forEach((list, p) => {
          const part = t.parts[p];
          for (const m of list) {
            part.sizes.push(m.bytes);
            part.times.push(m.timestamp);
            part.orders.push(m.n);
            t.bytes += m.bytes;
          }
          part.next += list.length;
          part.tail = tails[p];
          t.count += list.length;
        });
        this.written += newCount;
        t.nextN += newCount;
        this.dropped += removeFront(t, drops);
        this.waiters.wake(id);
      });
    }
    return { writes, apply: () => applies.forEach((a) => a()) };
  }

  private passes(e: RouteEntry, c: RowChange): boolean {
    if (e.route.where === null) return true;
    const t = c.table;
    if (e.compiled?.version !== t.version) {
      let filter: RouteFilter | undefined;
      try {
        filter = compileRouteFilter(t, e.route.where);
      } catch {
        filter = undefined; // a column it names was dropped or renamed
      }
      e.compiled = { version: t.version, filter };
    }
    const filter = e.compiled.filter;
    if (!filter) {
      this.routeErrors++;
      return false;
    }
    const row = c.row !== null && opOf(c) !== 'delete' ? c.row : c.before!;
    try {
      return filter(row, { params: [], user: c.user, role: 'system', now: Date.now(), snowflakeId: () => 0n, nextSeq: () => 0n }) === true;
    } catch {
      this.routeErrors++;
      return false;
    }
  }

  /**
   * The topic_retention job's work for one topic: messages older than
   * retention_seconds, then the oldest while the topic is over
   * retention_max_bytes. Undefined when nothing is due.
   */
  retention(t: TopicState, now: number): { change: StateChange; removed: number } | undefined {
    const drops = retentionDrops(t, now);
    const removed = drops.reduce((a, b) => a + b, 0);
    if (removed === 0) return undefined;
    const writes: KvWrite[] = [];
    drops.forEach((k, i) => {
      if (k === 0) return;
      const part = t.parts[i];
      const first = firstOffset(part) + k;
      pagesBelow(t.def.topic_id, i, firstOffset(part), first, writes);
      writes.push({ store: 'system', key: headKey(t.def.topic_id, i), value: { next: part.next, first } satisfies HeadRecord });
    });
    return { change: { writes, apply: () => void (this.expired += removeFront(t, drops)) }, removed };
  }

  /** Reads partition `p`'s messages from `from` on, in offset order, until `visit` returns false. */
  async read(kv: KvStore, t: TopicState, p: number, from: number, window: number, visit: (m: TopicMessage) => boolean): Promise<void> {
    const id = t.def.topic_id;
    const end = t.parts[p].next;
    let more = true;
    for (let lo = Math.max(from, firstOffset(t.parts[p])); more && lo < end; lo += window) {
      const hi = Math.min(lo + window, end);
      await kv.scan('system', { lower: pageKey(id, p, pageOf(lo)), upper: pageKey(id, p, pageOf(hi - 1) + 1) }, (_k, v) => {
        for (const m of v as TopicMessage[]) {
          if (!more) return;
          if (m.offset >= lo && m.offset < hi) more = visit(m);
        }
      });
    }
  }

  // -- consumer groups --

  group(t: TopicState, owner: string, group: string): GroupRecord | undefined {
    return t.groups.get(groupId(owner, group));
  }

  /** ACK: the group's last acked offset of each partition in `upto` becomes that offset (never moves back). */
  ack(t: TopicState, owner: string, group: string, upto: ReadonlyMap<number, number>, now: number): StateChange {
    const old = this.group(t, owner, group);
    if (!old && t.groups.size >= this.settings.maxTopicGroups) {
      throw new KalamError('LIMIT_EXCEEDED', `Topic '${t.def.name}' already has ${this.settings.maxTopicGroups} consumer groups (maxTopicGroups): reuse a group, or raise maxTopicGroups in openDatabase() options`);
    }
    const offsets = old ? old.offsets.slice() : t.parts.map(() => null);
    for (const [partition, offset] of upto) offsets[partition] = Math.max(offsets[partition] ?? -1, offset);
    const record: GroupRecord = { owner, group, offsets, updated_at: now };
    return {
      writes: [{ store: 'system', key: groupKey(t.def.topic_id, owner, group), value: record }],
      apply: () => void t.groups.set(groupId(owner, group), record),
    };
  }

  // -- wake-ups --

  /** Resolves true when a commit adds messages to `t` (or drops it), false after `timeoutMs`. */
  waitForMessages(t: TopicState, timeoutMs: number): Promise<boolean> {
    return this.waiters.wait(t.def.topic_id, timeoutMs);
  }

  /** waitForMessages by topic name. */
  waitFor(name: string, timeoutMs: number): Promise<boolean> {
    return this.waitForMessages(this.require(name), timeoutMs);
  }

  /** The topic_retention timer (execute/topics.ts); cleared by stop. */
  timer: ReturnType<typeof setInterval> | undefined;

  /** The engine closes: the retention timer stops and every waiter wakes. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.waiters.wakeAll();
  }

  /** Rows of system.topics. */
  rows(): Tuple[] {
    return this.list().map(({ def, count, bytes }) => [
      def.name, def.name, null, def.partitions, def.retention_seconds, def.retention_max_bytes,
      def.routes.map((r) => ({ table: r.table, op: r.op, where: r.where, payload: r.payload })), count, bytes, def.created_at, def.updated_at,
    ]);
  }

  /** Rows of system.topic_offsets: one per group and partition acked. */
  offsetRows(): Tuple[] {
    const out: Tuple[] = [];
    for (const t of this.list()) {
      for (const g of t.groups.values()) {
        g.offsets.forEach((o, p) => {
          if (o !== null) out.push([t.def.name, g.group, g.owner === '' ? null : g.owner, p, BigInt(o), g.updated_at]);
        });
      }
    }
    return out;
  }

  metrics(): [string, Value][] {
    let messages = 0;
    let bytes = 0;
    let groups = 0;
    for (const t of this.byName.values()) {
      messages += t.count;
      bytes += t.bytes;
      groups += t.groups.size;
    }
    const out: [string, Value][] = [
      ['topics', this.byName.size],
      ['topics_max', this.settings.maxTopics],
      ['topic_messages', messages],
      ['topic_bytes', bytes],
      ['topic_messages_max_per_topic', this.settings.maxTopicMessages],
      ['topic_messages_written', this.written],
      ['topic_messages_dropped', this.dropped],
      ['topic_messages_expired', this.expired],
      ['topic_groups', groups],
      ['topic_groups_max_per_topic', this.settings.maxTopicGroups],
      ['topic_waiters', this.waiters.size],
      ['topic_route_errors', this.routeErrors],
    ];
    for (const t of this.byName.values()) out.push([`topic_messages.${t.def.name}`, t.count]);
    return out;
  }
}

/** A topic key's parts: [kind, topic id, partition?, page?]. */
function decodeIds(key: Uint8Array): [string, number, number, number] {
  return decodeKey(key) as [string, number, number, number];
}
