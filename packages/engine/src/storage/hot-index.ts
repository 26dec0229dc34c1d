/**
 * Secondary indexes over the hot tier: per (table, partition, index) the
 * partition's live rows ordered by the index's columns (each ASC or DESC,
 * NULLs last ascending and first descending, as ORDER BY puts them), ties
 * broken by the partition key. A partition is one user's rows of a USER
 * table (or a SHARED table's only partition), so an index read never
 * reaches another user's keys.
 *
 * An index of a partition is built from the partition's rows the first
 * time a statement needs it (O(h log h)), then kept current by every row
 * version the hot tier sets or removes as a commit is applied
 * (HotObserver), so it always equals the committed hot rows: a change is
 * recorded at once and applied to the order when the index is next read
 * (a few by binary search and splice, a batch by one merge). A table whose definition changed (ALTER TABLE, CREATE/DROP
 * INDEX) has its indexes built again on next use. Reads that may pause (a
 * statement yields between rows) hold the entries as they were (copy on
 * write, as Partition.openRead).
 *
 * Entries held: at most (hot rows of the table) × (its indexes), so bounded
 * by the hot tier's budget; `entries` is reported in system.stats.
 */
import { deletedSlot, type IndexDef, type StoredRow, type TableDef } from '../core/schema';
import type { Value } from '../core/types';
import { compareValues, hashKey } from '../core/values';
import type { Partition } from './hot-partition';
import type { HotObserver } from './hot-tier';

/** NULLs above every value (last ascending, first descending). */
export function compareIndexValue(a: Value, b: Value): number {
  if (a === null) return b === null ? 0 : 1;
  if (b === null) return -1;
  return compareValues(a, b);
}

/** Compares index tuples over their first `n` columns, each in its direction. */
export function compareTuples(a: readonly Value[], b: readonly Value[], desc: readonly boolean[], n = desc.length): number {
  for (let i = 0; i < n; i++) {
    const c = compareIndexValue(a[i], b[i]);
    if (c !== 0) return desc[i] ? -c : c;
  }
  return 0;
}

/** One entry of an index: the indexed values, the partition key, the row. */
export interface IndexEntry {
  readonly t: readonly Value[];
  readonly k: Value;
  readonly r: StoredRow;
}

/** A read of an index's order: its entries stay as they are until `release()`. */
export interface HotIndexRead {
  readonly entries: readonly IndexEntry[];
  release(): void;
}

/** One end of a span of an index: entries whose first `tuple.length` values are past (or at, `inclusive`) `tuple`. */
export interface IndexBound {
  tuple: readonly Value[];
  inclusive: boolean;
}

/**
 * [start, end) of `n` tuples in index order between `lower` and `upper` (an
 * absent end is open). `lowerAt` is what is compared with `lower` and
 * `upperAt` with `upper`: the same tuples, or a record's pages by their last
 * and first tuples (the pages that may hold some of the span).
 */
export function spanAt(
  lowerAt: (i: number) => readonly Value[],
  upperAt: (i: number) => readonly Value[],
  n: number,
  desc: readonly boolean[],
  lower?: IndexBound,
  upper?: IndexBound,
): [number, number] {
  const find = (tupleAt: (i: number) => readonly Value[], b: IndexBound, past: boolean) => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareTuples(tupleAt(mid), b.tuple, desc, b.tuple.length);
      if (c < 0 || (c === 0 && past)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const start = lower ? find(lowerAt, lower, !lower.inclusive) : 0;
  const end = upper ? find(upperAt, upper, upper.inclusive) : n;
  return [start, Math.max(start, end)];
}

/** [start, end) of `entries` between `lower` and `upper` in index order (an absent end is open). */
export function spanOf(entries: readonly IndexEntry[], desc: readonly boolean[], lower?: IndexBound, upper?: IndexBound): [number, number] {
  const at = (i: number) => entries[i].t;
  return spanAt(at, at, entries.length, desc, lower, upper);
}

/** A change not yet applied to the order: the key's entry as it is in the order (`old`), and what replaces it. */
interface Pending {
  key: Value;
  hash: string;
  old?: readonly Value[];
  next?: IndexEntry;
}

/** Changes an index holds unapplied before it applies them unread (more when it has more entries). */
export const PENDING_MIN = 1024;

/** Below this many keys changed at once, each is spliced in place; above, the order is rebuilt in one merge. */
const SPLICE_MAX = 16;

/**
 * One index of one partition: its entries sorted by (values, key). Changes
 * are recorded as they are committed and applied to the order when it is
 * next read (`settle`): a few by binary search and splice, a batch by one
 * merge — O(h + m log m) for m changes, not m splices.
 */
export class HotIndex {
  private entries: IndexEntry[] = [];
  private pending: Pending[] = [];
  private readers = 0;
  private shared = false;

  constructor(
    /** Row slots of the index's columns. */
    readonly slots: readonly number[],
    readonly desc: readonly boolean[],
    private readonly deleted: number,
    private readonly keyOf: (row: StoredRow) => Value,
  ) {}

  get size(): number {
    this.settle();
    return this.entries.length;
  }

  tupleOf(row: StoredRow): Value[] {
    return this.slots.map((s) => row[s]);
  }

  /** Builds from every live row of the partition. */
  build(rows: Iterable<StoredRow>): void {
    const entries: IndexEntry[] = [];
    for (const r of rows) if (r[this.deleted] !== true) entries.push({ t: this.tupleOf(r), k: this.keyOf(r), r });
    entries.sort((a, b) => this.compare(a, b));
    this.entries = entries;
    this.pending = [];
  }

  private compare(a: Pick<IndexEntry, 't' | 'k'>, b: Pick<IndexEntry, 't' | 'k'>): number {
    return compareTuples(a.t, b.t, this.desc) || compareValues(a.k, b.k);
  }

  /** First position whose entry is not before (tuple, key). */
  private position(t: readonly Value[], k: Value): number {
    const e = this.entries;
    let lo = 0;
    let hi = e.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(e[mid], { t, k }) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Where the key's entry with values `t` is, or -1. */
  private find(t: readonly Value[], k: Value): number {
    const i = this.position(t, k);
    return i < this.entries.length && compareValues(this.entries[i].k, k) === 0 && compareTuples(this.entries[i].t, t, this.desc) === 0 ? i : -1;
  }

  /** A version of a key replaced `before` (either may be absent); tombstones are not indexed. Applied on the next read. */
  put(key: Value, before: StoredRow | undefined, after: StoredRow | null, hash = hashKey(key)): void {
    const wasLive = before !== undefined && before[this.deleted] !== true;
    const isLive = after !== null && after[this.deleted] !== true;
    if (!wasLive && !isLive) return;
    this.pending.push({ key, hash, old: wasLive ? this.tupleOf(before) : undefined, next: isLive ? { t: this.tupleOf(after), k: key, r: after } : undefined });
    // Bounded: changes nobody reads are applied once they outnumber the entries (amortized O(log m) each).
    if (this.pending.length > Math.max(PENDING_MIN, this.entries.length)) this.settle();
  }

  /** Changes recorded, not applied yet (at most max(PENDING_MIN, entries)). */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Applies the changes recorded since the last read. */
  private settle(): void {
    if (this.pending.length === 0) return;
    this.own();
    // Per key: the entry in the order is the first change's `old`; what stays is the last change's `next`.
    const byKey = new Map<string, Pending>();
    for (const p of this.pending) {
      const first = byKey.get(p.hash);
      if (first) first.next = p.next;
      else byKey.set(p.hash, p);
    }
    this.pending = [];
    const changes = [...byKey.values()];
    if (changes.length <= SPLICE_MAX) {
      for (const c of changes) {
        const i = c.old ? this.find(c.old, c.key) : -1;
        if (i >= 0 && c.next && compareTuples(c.old!, c.next.t, this.desc) === 0) {
          this.entries[i] = c.next; // same place: the row is replaced where it is
          continue;
        }
        if (i >= 0) this.entries.splice(i, 1);
        if (c.next) this.entries.splice(this.position(c.next.t, c.key), 0, c.next);
      }
      return;
    }
    const drop = new Set<number>();
    for (const c of changes) {
      const i = c.old ? this.find(c.old, c.key) : -1;
      if (i >= 0) drop.add(i);
    }
    const adds = changes.flatMap((c) => (c.next ? [c.next] : [])).sort((a, b) => this.compare(a, b));
    const held = this.entries;
    const out: IndexEntry[] = new Array(held.length - drop.size + adds.length);
    let i = 0;
    let j = 0;
    let w = 0;
    while (i < held.length || j < adds.length) {
      if (i < held.length && drop.has(i)) {
        i++;
        continue;
      }
      if (j >= adds.length || (i < held.length && this.compare(held[i], adds[j]) <= 0)) out[w++] = held[i++];
      else out[w++] = adds[j++];
    }
    out.length = w;
    this.entries = out;
  }

  /** [start, end) of the entries between `lower` and `upper` (spanOf, over the current order). */
  span(lower?: IndexBound, upper?: IndexBound): [number, number] {
    this.settle();
    return spanOf(this.entries, this.desc, lower, upper);
  }

  openRead(): HotIndexRead {
    this.settle();
    this.readers++;
    this.shared = true;
    let open = true;
    return {
      entries: this.entries,
      release: () => {
        if (open) this.readers--;
        open = false;
      },
    };
  }

  private own(): void {
    if (this.shared && this.readers > 0) this.entries = this.entries.slice();
    this.shared = false;
  }
}

interface TableIndexes {
  /** The definition the indexes were built for: another one (ALTER, CREATE/DROP INDEX) builds them again. */
  def: TableDef;
  /** user → index name → index; a partition's entry goes when its last row does. */
  parts: Map<string, Map<string, HotIndex>>;
}

/** Every built hot index; told of each committed row version (HotTier.observer). */
export class HotIndexes implements HotObserver {
  /** Index reads of partitions with cold segments prepared through the segments' index records (system.stats `index_cold_reads`). */
  coldReads = 0;
  /** table id → its built indexes; removed by DROP TABLE, reset by a new definition. */
  private readonly tables = new Map<number, TableIndexes>();

  /** Entries across every built index (system.stats). */
  get entries(): number {
    let n = 0;
    for (const t of this.tables.values()) for (const p of t.parts.values()) for (const x of p.values()) n += x.size;
    return n;
  }

  put(tableId: number, user: string, pkHash: string, key: Value, before: StoredRow | undefined, after: StoredRow | null): void {
    const part = this.tables.get(tableId)?.parts.get(user);
    if (!part) return;
    for (const x of part.values()) x.put(key, before, after, pkHash);
  }

  partitionEmptied(tableId: number, user: string): void {
    this.tables.get(tableId)?.parts.delete(user);
  }

  forget(tableId: number): void {
    this.tables.delete(tableId);
  }

  /**
   * The index `index` of table `t`'s partition `user`, built from the
   * partition's rows if it is not yet; undefined when the partition holds
   * no rows.
   */
  get(t: TableDef, user: string, index: IndexDef, partition: Partition | undefined): HotIndex | undefined {
    if (!partition || partition.size === 0) return undefined;
    let entry = this.tables.get(t.id);
    if (!entry || entry.def !== t) this.tables.set(t.id, (entry = { def: t, parts: new Map() }));
    let part = entry.parts.get(user);
    if (!part) entry.parts.set(user, (part = new Map()));
    let x = part.get(index.name);
    if (!x) {
      const slots = index.columns.map((c) => t.columns.findIndex((col) => col.id === c.id));
      const seq = t.columns.length;
      const keyOf = t.pk >= 0 ? (row: StoredRow) => row[t.pk] : (row: StoredRow) => row[seq];
      x = new HotIndex(slots, index.columns.map((c) => c.desc), deletedSlot(t), keyOf);
      x.build(partition.values());
      part.set(index.name, x);
    }
    return x;
  }
}
