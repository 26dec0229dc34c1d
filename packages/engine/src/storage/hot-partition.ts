/**
 * One hot partition: the newest version of each of its rows by pk hash (the
 * Map), the same rows in key order, and which durable page holds each key
 * (pages are hot-tier.ts's business; it keeps `pageOf`/`pages`/`open*`).
 */
import type { StoredRow } from '../core/schema';
import type { Value } from '../core/types';
import { compareValues } from '../core/values';
import { findKey, lowerIndex, upperIndex, type KeyRange } from './key-range';

/** A pending change of a partition's key order (applied by `settle`). */
interface OrderChange {
  key: Value;
  row: StoredRow | null;
}

/** A read of a partition's key order: its arrays stay as they are until `release()` (Partition.openRead). */
export interface HotRead {
  readonly keys: readonly Value[];
  readonly rows: readonly StoredRow[];
  release(): void;
}

/** Below this many keys added or removed at once, each is spliced in; above, the arrays are rebuilt in one pass. */
const SPLICE_MAX = 16;

/**
 * pk hash → newest row version (point reads by hash, O(1)), and the same
 * rows ordered by key — the primary key, or `_seq` without one — in two
 * parallel arrays (`keyAt`/`rowAt`), for point, range and ordered reads in
 * O(log n + k). It also knows which durable page holds each key.
 *
 * The hot tier is a small bounded write buffer, so a sorted array is the
 * structure: a binary search finds a key; a batch of m new keys costs
 * O(m log m + n) (sorted, then merged in one pass; a few are spliced in,
 * and keys above the last one — ids that only grow — are appended in
 * O(m)); a batch of removals is found by binary search and spliced out run
 * by run (a flush's purge removes a key range, from the top: O(m log n)),
 * or, when scattered, removed in one compacting pass; an update replaces
 * the row in place after a binary search. Keys are kept apart from rows, so a
 * row's layout (ALTER TABLE) never changes the order.
 */
export class Partition extends Map<string, StoredRow> {
  /** pk hash → page number. */
  readonly pageOf = new Map<string, number>();
  /** page number → the keys it holds (at most PAGE_ROWS). */
  readonly pages = new Map<number, Set<string>>();
  /** The page new keys of large commits go to (up to PAGE_ROWS), or -1 when a new page is needed. */
  open = -1;
  /** The page new keys of small commits go to (up to SMALL_PAGE_ROWS), or -1. */
  openSmall = -1;
  /** The next page number to allocate. */
  nextPage = 0;
  /** Rough bytes of the rows held (core/schema.ts rowBytes). */
  bytes = 0;
  /** Keys in ascending order (compareValues); `rowsInOrder[i]` is the row of `keysInOrder[i]`. */
  private keysInOrder: Value[] = [];
  private rowsInOrder: StoredRow[] = [];
  /** Keys added, updated and removed since the last `settle` (the Map has them already). */
  private added: OrderChange[] = [];
  private updated: OrderChange[] = [];
  private removed: Value[] = [];
  /** Reads of the key order in progress (`openRead` … `release`): a statement may pause inside one. */
  private readers = 0;
  /** Whether a read in progress may hold the current arrays: the next change copies them first. */
  private shared = false;

  /** Rows held, in key order (same as `size` once settled). */
  get count(): number {
    this.settle();
    return this.keysInOrder.length;
  }

  keyAt(i: number): Value {
    return this.keysInOrder[i];
  }

  rowAt(i: number): StoredRow {
    return this.rowsInOrder[i];
  }

  /** [start, end) indexes of the keys in `range` (every key without one). */
  bounds(range?: KeyRange): [number, number] {
    this.settle();
    const keys = this.keysInOrder;
    const at = (i: number) => keys[i];
    return [lowerIndex(at, keys.length, range), upperIndex(at, keys.length, range)];
  }

  /** Index of `key`, or -1. */
  indexOf(key: Value): number {
    this.settle();
    const keys = this.keysInOrder;
    return findKey((i) => keys[i], keys.length, key);
  }

  /**
   * The key order as it is now, for a read that may pause (a statement
   * yields between rows, and commits and flushes run meanwhile): until
   * `release()`, a change copies the arrays before changing them (copy on
   * write), so the read sees one state — no row twice, none skipped, none
   * half-changed. Reads that finish without pausing copy nothing.
   */
  openRead(): HotRead {
    this.settle();
    this.readers++;
    this.shared = true;
    let open = true;
    return {
      keys: this.keysInOrder,
      rows: this.rowsInOrder,
      release: () => {
        if (open) this.readers--;
        open = false;
      },
    };
  }

  /** The rows whose key is in `range`, in key order (descending when asked). */
  *ordered(range?: KeyRange, descending = false): Generator<StoredRow> {
    const read = this.openRead();
    try {
      const { keys, rows } = read;
      const at = (i: number) => keys[i];
      const start = lowerIndex(at, keys.length, range);
      const end = upperIndex(at, keys.length, range);
      if (descending) for (let i = end - 1; i >= start; i--) yield rows[i];
      else for (let i = start; i < end; i++) yield rows[i];
    } finally {
      read.release();
    }
  }

  /** Before changing the arrays in place: copies them if a read in progress may hold them. */
  private own(): void {
    if (this.shared && this.readers > 0) {
      this.keysInOrder = this.keysInOrder.slice();
      this.rowsInOrder = this.rowsInOrder.slice();
    }
    this.shared = false;
  }

  /** A copy of the rows in key order (a flush's snapshot). */
  snapshot(): StoredRow[] {
    this.settle();
    return this.rowsInOrder.slice();
  }

  /** Records a version for the key order (the Map was changed by the caller); applied by `settle`. */
  noteSet(key: Value, row: StoredRow, isNew: boolean): void {
    (isNew ? this.added : this.updated).push({ key, row });
  }

  noteRemove(key: Value): void {
    this.removed.push(key);
  }

  /** Applies the pending key-order changes (a batch changes each key once). */
  settle(): void {
    if (this.removed.length === 0 && this.added.length === 0 && this.updated.length === 0) return;
    this.own();
    if (this.removed.length > 0) this.applyRemovals();
    if (this.added.length > 0) this.applyAdditions();
    if (this.updated.length > 0) {
      const keys = this.keysInOrder;
      for (const u of this.updated) {
        const i = findKey((j) => keys[j], keys.length, u.key);
        if (i >= 0) this.rowsInOrder[i] = u.row!;
      }
      this.updated = [];
    }
  }

  private applyRemovals(): void {
    const gone = this.removed;
    this.removed = [];
    const keys = this.keysInOrder;
    const rows = this.rowsInOrder;
    const at = (i: number) => keys[i];
    const idx: number[] = [];
    for (const key of gone) {
      const i = findKey(at, keys.length, key);
      if (i >= 0) idx.push(i);
    }
    idx.sort((x, y) => x - y);
    // Runs of adjacent indexes (a flush purges a key range): spliced out from the last, when there are few.
    const runs: [number, number][] = [];
    for (const i of idx) {
      const last = runs[runs.length - 1];
      if (last && last[0] + last[1] === i) last[1]++;
      else if (!last || last[0] + last[1] < i) runs.push([i, 1]);
    }
    if (runs.length <= SPLICE_MAX) {
      for (let r = runs.length - 1; r >= 0; r--) {
        keys.splice(runs[r][0], runs[r][1]);
        rows.splice(runs[r][0], runs[r][1]);
      }
      return;
    }
    let w = runs[0][0];
    let r = w;
    for (const [start, count] of runs) {
      for (; r < start; r++) {
        keys[w] = keys[r];
        rows[w++] = rows[r];
      }
      r = start + count;
    }
    for (; r < keys.length; r++) {
      keys[w] = keys[r];
      rows[w++] = rows[r];
    }
    keys.length = w;
    rows.length = w;
  }

  private applyAdditions(): void {
    const add = this.added;
    this.added = [];
    add.sort((a, b) => compareValues(a.key, b.key));
    const keys = this.keysInOrder;
    const rows = this.rowsInOrder;
    const n = keys.length;
    if (n === 0 || compareValues(add[0].key, keys[n - 1]) > 0) {
      // Keys above every held one (ids that only grow): appended.
      for (const a of add) {
        keys.push(a.key);
        rows.push(a.row!);
      }
      return;
    }
    if (add.length <= SPLICE_MAX) {
      for (const a of add) {
        const i = lowerIndex((j) => keys[j], keys.length, { lower: { value: a.key, inclusive: true } });
        keys.splice(i, 0, a.key);
        rows.splice(i, 0, a.row!);
      }
      return;
    }
    // Merge the sorted additions into the held keys in one pass.
    const outKeys = new Array<Value>(n + add.length);
    const outRows = new Array<StoredRow>(n + add.length);
    let i = 0;
    let j = 0;
    let w = 0;
    while (i < n || j < add.length) {
      if (j >= add.length || (i < n && compareValues(keys[i], add[j].key) <= 0)) {
        outKeys[w] = keys[i];
        outRows[w++] = rows[i++];
      } else {
        outKeys[w] = add[j].key;
        outRows[w++] = add[j++].row!;
      }
    }
    this.keysInOrder = outKeys;
    this.rowsInOrder = outRows;
  }
}
