/**
 * A topic's state in memory: its definition, and per partition the size,
 * commit time and write order of each retained message (never the
 * messages: CONSUME reads them from storage) — and which messages leave
 * first, for the maxTopicMessages bound and the topic_retention job.
 * Invariant: a partition's retained offsets are [next - retained, next);
 * messages leave only from the front.
 */
import type { RouteDef, TopicMessage } from './topic-route';

export interface TopicDef {
  topic_id: number;
  name: string;
  partitions: number;
  retention_seconds: number | null;
  retention_max_bytes: number | null;
  routes: RouteDef[];
  created_at: number;
  updated_at: number;
}

/** A consumer group's position: the last acked offset per partition (null: none yet). */
export interface GroupRecord {
  /** '' for groups of service/dba/system sessions; a user-role session's groups are its own (its user id). */
  owner: string;
  group: string;
  offsets: (number | null)[];
  updated_at: number;
}

export interface TopicSettings {
  maxTopics: number;
  /** Messages one topic keeps at most: past it the oldest are dropped in the commit that adds more. */
  maxTopicMessages: number;
  /** Consumer groups one topic keeps at most (ACK of a new one fails past it). */
  maxTopicGroups: number;
  /** Pending waitForMessages calls at most. */
  maxWaiters: number;
}

/** A partition's retained messages: size, commit time and write order (`n`) of each, oldest first from `head`. */
export interface PartitionLog {
  next: number;
  head: number;
  sizes: number[];
  times: number[];
  orders: number[];
  /** The stored messages of the partition's last page (the one offset `next` falls in; [] when it starts a page): rewritten with the next messages. At most PAGE - 1. */
  tail: TopicMessage[];
}

export const emptyPartition = (): PartitionLog => ({ next: 0, head: 0, sizes: [], times: [], orders: [], tail: [] });

export interface TopicState {
  def: TopicDef;
  parts: PartitionLog[];
  count: number;
  bytes: number;
  /** The next message's write order. */
  nextN: number;
  /** owner \u0000 group → record; `groups.size <= maxTopicGroups`. */
  groups: Map<string, GroupRecord>;
}

export const retained = (p: PartitionLog) => p.sizes.length - p.head;
/** The first retained offset of a partition. */
export const firstOffset = (p: PartitionLog) => p.next - retained(p);

/** Forgets the first `drops[p]` retained messages of each partition (their keys are deleted by the caller's writes). */
export function removeFront(t: TopicState, drops: readonly number[]): number {
  let n = 0;
  drops.forEach((k, p) => {
    if (k === 0) return;
    const part = t.parts[p];
    for (let i = 0; i < k; i++) t.bytes -= part.sizes[part.head + i];
    part.head += k;
    t.count -= k;
    n += k;
    if (part.head > 1024 && part.head * 2 > part.sizes.length) {
      part.sizes = part.sizes.slice(part.head);
      part.times = part.times.slice(part.head);
      part.orders = part.orders.slice(part.head);
      part.head = 0;
    }
  });
  return n;
}

/** The topic_retention job's drops per partition: messages older than retention_seconds, then the oldest while over retention_max_bytes. */
export function retentionDrops(t: TopicState, now: number): number[] {
  const { retention_seconds: secs, retention_max_bytes: maxBytes } = t.def;
  const drops = t.parts.map(() => 0);
  if (secs !== null) {
    const cutoff = now - secs * 1000;
    t.parts.forEach((p, i) => {
      while (drops[i] < retained(p) && p.times[p.head + drops[i]] < cutoff) drops[i]++;
    });
  }
  if (maxBytes !== null) {
    let bytes = t.bytes;
    t.parts.forEach((p, i) => { for (let k = 0; k < drops[i]; k++) bytes -= p.sizes[p.head + k]; });
    while (bytes > maxBytes) {
      const p = oldestFront(t, drops);
      if (p < 0) break;
      bytes -= t.parts[p].sizes[t.parts[p].head + drops[p]];
      drops[p]++;
    }
  }
  return drops;
}

/**
 * How many of each partition's oldest messages go so that `excess` fewer
 * remain: the oldest (in write order) first across partitions, counting
 * existing retained messages, then `added` ones.
 */
export function oldestDrops(t: TopicState, added: readonly (readonly TopicMessage[])[], excess: number): number[] {
  const drops = t.parts.map(() => 0);
  for (let k = 0; k < excess; k++) {
    const p = oldestFront(t, drops, added);
    if (p < 0) break;
    drops[p]++;
  }
  return drops;
}

/** The partition whose next undropped message was written first; -1 when none is left. */
function oldestFront(t: TopicState, drops: readonly number[], added?: readonly (readonly TopicMessage[])[]): number {
  let best = -1;
  let bestN = Infinity;
  t.parts.forEach((p, i) => {
    const idx = drops[i];
    const existing = retained(p);
    const n = idx < existing ? p.orders[p.head + idx] : added?.[i][idx - existing]?.n;
    if (n !== undefined && n < bestN) {
      best = i;
      bestN = n;
    }
  });
  return best;
}

