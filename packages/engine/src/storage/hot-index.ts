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
 * version the hot tier sets or removes as a commit is applied (HotObserver:
 * a binary search and a splice each), so it always equals the committed
 * hot rows. A table whose definition changed (ALTER TABLE, CREATE/DROP
 * INDEX) has its indexes built again on next use. Reads that may pause (a
 * statement yields between rows) hold the arrays as they were (copy on
 * write, as Partition.openRead).
 *
 * Entries held: at most (hot rows of the table) × (its indexes), so bounded
 * by the hot tier's budget; `entries` is reported in system.stats.
 */
import { deletedSlot, type IndexDef, type StoredRow, type TableDef } from '../core/schema';
import type { Value } from '../core/types';
import { compareValues } from '../core/values';
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

/** A read of an index's order: its arrays stay as they are until `release()`. */
export interface HotIndexRead {
  readonly tuples: readonly (readonly Value[])[];
  readonly keys: readonly Value[];
  readonly rows: readonly StoredRow[];
  release(): void;
}

/** One end of a span of an index: entries whose first `tuple.length` values are past (or at, `inclusive`) `tuple`. */
export interface IndexBound {
  tuple: readonly Value[];
  inclusive: boolean;
}

/** [start, end) of `read`'s entries between `lower` and `upper` in index order (an absent end is open). */
export function spanOf(read: Pick<HotIndexRead, 'tuples'>, desc: readonly boolean[], lower?: IndexBound, upper?: IndexBound): [number, number] {
  const { tuples } = read;
  const find = (b: IndexBound, past: boolean) => {
    const n = b.tuple.length;
    let lo = 0;
    let hi = tuples.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareTuples(tuples[mid], b.tuple, desc, n);
      if (c < 0 || (c === 0 && past)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const start = lower ? find(lower, !lower.inclusive) : 0;
  const end = upper ? find(upper, upper.inclusive) : tuples.length;
  return [start, Math.max(start, end)];
}

/** One index of one partition: `tuples[i]` (the indexed values), `keys[i]` (the partition key) and `rows[i]` (the row), sorted. */
export class HotIndex {
  private tuples: (readonly Value[])[] = [];
  private keys: Value[] = [];
  private rows: StoredRow[] = [];
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
    return this.keys.length;
  }

  tupleOf(row: StoredRow): Value[] {
    return this.slots.map((s) => row[s]);
  }

  /** Builds from every live row of the partition. */
  build(rows: Iterable<StoredRow>): void {
    const entries: { t: Value[]; k: Value; r: StoredRow }[] = [];
    for (const row of rows) if (row[this.deleted] !== true) entries.push({ t: this.tupleOf(row), k: this.keyOf(row), r: row });
    entries.sort((a, b) => this.compare(a.t, a.k, b.t, b.k));
    this.tuples = entries.map((e) => e.t);
    this.keys = entries.map((e) => e.k);
    this.rows = entries.map((e) => e.r);
  }

  private compare(ta: readonly Value[], ka: Value, tb: readonly Value[], kb: Value): number {
    return compareTuples(ta, tb, this.desc) || compareValues(ka, kb);
  }

  /** First position whose entry is not before (tuple, key). */
  private position(tuple: readonly Value[], key: Value): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.tuples[mid], this.keys[mid], tuple, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** A version of a key replaced `before` (either may be absent); tombstones are not indexed. */
  put(key: Value, before: StoredRow | undefined, after: StoredRow | null): void {
    const wasLive = before !== undefined && before[this.deleted] !== true;
    const isLive = after !== null && after[this.deleted] !== true;
    if (!wasLive && !isLive) return;
    const oldTuple = wasLive ? this.tupleOf(before) : undefined;
    const newTuple = isLive ? this.tupleOf(after) : undefined;
    this.own();
    if (oldTuple && newTuple && compareTuples(oldTuple, newTuple, this.desc) === 0) {
      // Same place: the row is replaced where it is.
      const i = this.position(oldTuple, key);
      if (i < this.keys.length && compareValues(this.keys[i], key) === 0) this.rows[i] = after!;
      return;
    }
    if (oldTuple) {
      const i = this.position(oldTuple, key);
      if (i < this.keys.length && compareValues(this.keys[i], key) === 0) {
        this.tuples.splice(i, 1);
        this.keys.splice(i, 1);
        this.rows.splice(i, 1);
      }
    }
    if (newTuple) {
      const i = this.position(newTuple, key);
      this.tuples.splice(i, 0, newTuple);
      this.keys.splice(i, 0, key);
      this.rows.splice(i, 0, after!);
    }
  }

  /** [start, end) of the entries between `lower` and `upper` (spanOf, over the current arrays). */
  span(lower?: IndexBound, upper?: IndexBound): [number, number] {
    return spanOf({ tuples: this.tuples }, this.desc, lower, upper);
  }

  openRead(): HotIndexRead {
    this.readers++;
    this.shared = true;
    let open = true;
    return {
      tuples: this.tuples,
      keys: this.keys,
      rows: this.rows,
      release: () => {
        if (open) this.readers--;
        open = false;
      },
    };
  }

  private own(): void {
    if (this.shared && this.readers > 0) {
      this.tuples = this.tuples.slice();
      this.keys = this.keys.slice();
      this.rows = this.rows.slice();
    }
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
  /** table id → its built indexes; removed by DROP TABLE, reset by a new definition. */
  private readonly tables = new Map<number, TableIndexes>();

  /** Entries across every built index (system.stats). */
  get entries(): number {
    let n = 0;
    for (const t of this.tables.values()) for (const p of t.parts.values()) for (const x of p.values()) n += x.size;
    return n;
  }

  put(tableId: number, user: string, key: Value, before: StoredRow | undefined, after: StoredRow | null): void {
    const part = this.tables.get(tableId)?.parts.get(user);
    if (!part) return;
    for (const x of part.values()) x.put(key, before, after);
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
