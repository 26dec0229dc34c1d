/**
 * One partition as a read sees it across tiers: the staged versions of an
 * open transaction or a forming group commit, over the hot partition, over
 * the cold row groups prepared for the execution — without building a Map
 * of the partition.
 *
 * `get(key)` is the newest version of one key: a staged version (null: the
 * key was hard-deleted) overrides; otherwise the version with the highest
 * `_seq` across hot and cold (hot wins a tie: the same row between a
 * flush's commit and its purge). `rows(range, descending)` yields, in key
 * order, the newest version of every key in the range, merging the hot
 * partition's ordered arrays and each segment's prepared row groups one key
 * at a time (cold rows are built only for the versions yielded). Tombstones
 * and expiry are the caller's visibility predicate.
 *
 * Cold rows are laid out for the table version the partition was prepared
 * for, which is the view's (see execute/partition-views.ts).
 */
import type { StoredRow, TableDef } from '../core/schema';
import type { Value } from '../core/types';
import { compareValues, hashKey } from '../core/values';
import { NOT_LOADED, type PreparedGroup, type PreparedPartition, type PreparedSegment } from './cold/types';
import type { Partition } from './hot-tier';
import type { HotRead } from './hot-partition';
import { findKey, inRange, isEmptyRange, lowerIndex, upperIndex, type KeyRange } from './key-range';

/**
 * Yielded by `rows` instead of a row while a lazily prepared row group it
 * needs loads (ColdReads.loading): the scan passes it on as a pause, and a
 * driver that waits there resumes it once loaded; one that does not gets
 * NOT_LOADED.
 */
export const WAIT: StoredRow = Object.freeze([]) as unknown as StoredRow;

/**
 * Rows [start, end) of a prepared cold group, in key order, each the newest
 * version of its key in the read (tombstones included: the caller skips
 * them): `rows(…, runs)` yields one instead of building its rows.
 */
export interface ColdRun {
  readonly group: PreparedGroup;
  readonly start: number;
  readonly end: number;
}

/** Staged versions by key hash; null: removed. */
export type StagedLayer = ReadonlyMap<string, StoredRow | null>;

/** A row of a prepared row group, in the layout the group was prepared for. */
export function coldRow(g: PreparedGroup, i: number): StoredRow {
  const cols = g.columns;
  const n = cols.length;
  const row = new Array<Value>(n + 2);
  const readers = g.readers;
  if (readers) {
    for (let s = 0; s < n; s++) {
      const r = readers[s];
      row[s] = r === null ? null : r(i);
    }
  } else {
    for (let s = 0; s < n; s++) {
      const c = cols[s];
      row[s] = c === null ? null : c[i];
    }
  }
  row[n] = g.data.seqs[i];
  row[n + 1] = g.data.deleted[i] === 1;
  return Object.freeze(row);
}

/** A source of versions in key order (ascending, or descending when built so). */
interface Cursor {
  done: boolean;
  readonly key: Value;
  readonly seq: bigint;
  readonly isHot: boolean;
  row(): StoredRow;
  next(): void;
  /** How many rows from the current one on (within its current run of contiguous rows) come strictly before `limit` in this cursor's order; at least 1 when the current key does. */
  runBefore(limit: Value): number;
  /** Whether the current row is loaded (or the cursor is done); when not, `key` is only a bound: no row of the group comes before it. */
  ready(): boolean;
  /** Starts loading the current group; returns its position, to tell whether a wait loaded it. */
  want(): number;
}

/** First index in [a, b) where `isPast` holds (it holds for a suffix). */
function firstPast(a: number, b: number, isPast: (i: number) => boolean): number {
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (isPast(mid)) b = mid;
    else a = mid + 1;
  }
  return a;
}

/** Rows of `keyAt` from `i` (moving by `step`, within [start, end)) strictly before `limit`. */
function runBefore(keyAt: (j: number) => Value, i: number, start: number, end: number, step: 1 | -1, limit: Value): number {
  if (step === 1) return firstPast(i, end, (j) => compareValues(keyAt(j), limit) >= 0) - i;
  const m = firstPast(start, i + 1, (j) => compareValues(keyAt(j), limit) > 0);
  return i + 1 - m;
}

class HotCursor implements Cursor {
  done: boolean;
  readonly isHot = true;
  private i: number;

  constructor(
    private readonly p: HotRead,
    private readonly start: number,
    private readonly end: number,
    private readonly seqSlot: number,
    private readonly step: 1 | -1,
  ) {
    this.i = step === 1 ? start : end - 1;
    this.done = start >= end;
  }

  get key(): Value {
    return this.p.keys[this.i];
  }

  get seq(): bigint {
    return this.p.rows[this.i][this.seqSlot] as bigint;
  }

  row(): StoredRow {
    return this.p.rows[this.i];
  }

  next(): void {
    this.i += this.step;
    this.done = this.step === 1 ? this.i >= this.end : this.i < this.start;
  }

  runBefore(limit: Value): number {
    const keys = this.p.keys;
    return runBefore((j) => keys[j], this.i, this.start, this.end, this.step, limit);
  }

  ready(): boolean {
    return true;
  }

  want(): number {
    return 0;
  }
}

/**
 * One segment's prepared groups, each over its [start, end) rows inside the
 * range, in read order. A lazily prepared segment's group loads when the
 * merge reaches it (until then `key` is its first key in read order, from
 * the manifest) and is passed (unpinned) when the cursor leaves it.
 */
class SegmentCursor implements Cursor {
  done = false;
  readonly isHot = false;
  /** The current group (undefined: not loaded yet) and its [start, end) span. */
  private g: PreparedGroup | undefined;
  private start = 0;
  private end = 0;
  private at: number;
  private i = 0;
  private readonly slots: number;

  constructor(private readonly seg: PreparedSegment, private readonly range: KeyRange | undefined, private readonly step: 1 | -1) {
    this.slots = seg.lazy ? seg.lazy.indexes.length : seg.groups.length;
    this.at = step === 1 ? 0 : this.slots - 1;
    this.enter();
  }

  /** Moves to the first group from `at` on with rows in the range, or to one not loaded yet. */
  private enter(): void {
    const { seg, range, step } = this;
    for (; this.at >= 0 && this.at < this.slots; this.at += step) {
      const g = seg.lazy ? seg.lazy.at(this.at) : seg.groups[this.at];
      this.g = g;
      if (!g) return;
      const keys = g.data.keys;
      const at = (j: number) => keys[j];
      this.start = lowerIndex(at, keys.length, range);
      this.end = upperIndex(at, keys.length, range);
      if (this.start < this.end) {
        this.i = step === 1 ? this.start : this.end - 1;
        return;
      }
      seg.lazy?.pass(this.at);
    }
    this.done = true;
  }

  ready(): boolean {
    if (!this.g && !this.done) this.enter();
    return !!this.g || this.done;
  }

  want(): number {
    this.seg.lazy!.want(this.at, this.step);
    return this.at;
  }

  get key(): Value {
    const g = this.g;
    if (g) return g.data.keys[this.i];
    const m = this.seg.meta.groups!;
    const index = this.seg.lazy!.indexes[this.at];
    return this.step === 1 ? m.key_min[index] : m.key_max[index];
  }

  get seq(): bigint {
    return this.g!.data.seqs[this.i];
  }

  row(): StoredRow {
    return coldRow(this.g!, this.i);
  }

  next(): void {
    this.i += this.step;
    if (this.step === 1 ? this.i < this.end : this.i >= this.start) return;
    this.seg.lazy?.pass(this.at);
    this.at += this.step;
    this.enter();
  }

  /** The next `n` rows of the current group (at most to its span's end) as a run, leaving the cursor on the last of them (ascending reads). */
  take(n: number): ColdRun {
    const start = this.i;
    this.i = Math.min(this.end, start + n) - 1;
    return { group: this.g!, start, end: this.i + 1 };
  }

  runBefore(limit: Value): number {
    const keys = this.g!.data.keys;
    return runBefore((j) => keys[j], this.i, this.start, this.end, this.step, limit);
  }
}

export class PartitionView {
  private readonly keySlot: number;
  private readonly seqSlot: number;

  constructor(
    readonly table: TableDef,
    private readonly hot: Partition | undefined,
    private readonly staged: StagedLayer | undefined,
    private readonly cold: PreparedPartition | undefined,
  ) {
    this.seqSlot = table.columns.length;
    this.keySlot = table.pk >= 0 ? table.pk : this.seqSlot;
  }

  /** The newest version of a key (undefined: none, or removed in the staged layer). */
  get(key: Value, hash: string = hashKey(key)): StoredRow | undefined {
    const staged = this.staged;
    if (staged && staged.size > 0 && staged.has(hash)) return staged.get(hash) ?? undefined;
    const h = this.hot?.get(hash);
    if (h) return h;
    let best: PreparedGroup | undefined;
    let bestAt = -1;
    let bestSeq = 0n;
    for (const seg of this.cold?.segments ?? []) {
      const meta = seg.meta.groups!;
      const { groups, lazy } = seg;
      const indexOf = (k: number) => (lazy ? lazy.indexes[k] : groups[k].index);
      // The first prepared group whose last key is not below `key`.
      let a = 0;
      let b = lazy ? lazy.indexes.length : groups.length;
      const n = b;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (compareValues(meta.key_max[indexOf(mid)], key) < 0) a = mid + 1;
        else b = mid;
      }
      if (a >= n || compareValues(meta.key_min[indexOf(a)], key) > 0) continue;
      const g = lazy ? lazy.at(a) : groups[a];
      // A point read cannot wait for a lazily prepared group: the statement runs again prepared in full.
      if (!g) throw NOT_LOADED;
      const keys = g.data.keys;
      const i = findKey((j) => keys[j], keys.length, key);
      if (i < 0) continue;
      const seq = g.data.seqs[i];
      if (!best || seq > bestSeq) {
        best = g;
        bestAt = i;
        bestSeq = seq;
      }
    }
    return best ? coldRow(best, bestAt) : undefined;
  }

  /**
   * The newest version of every key in `range`, in key order. With `runs`
   * (ascending), a run of a segment's rows before every other source's next
   * key comes as one ColdRun instead (typed as a row: exec/columnar-aggregate.ts reads them).
   */
  *rows(range?: KeyRange, descending = false, runs = false): Generator<StoredRow> {
    if (isEmptyRange(range)) return;
    const step = descending ? -1 : 1;
    const sources: Cursor[] = [];
    const hot = this.hot;
    // The hot rows as they are now, however long this read pauses (released when it ends).
    const read = hot && hot.size > 0 ? hot.openRead() : undefined;
    try {
      yield* this.merged(read, range, descending, step, sources, runs) as Generator<StoredRow>;
    } finally {
      read?.release();
    }
  }

  private *merged(read: HotRead | undefined, range: KeyRange | undefined, descending: boolean, step: 1 | -1, sources: Cursor[], runs: boolean): Generator<StoredRow | ColdRun> {
    if (read) {
      const at = (i: number) => read.keys[i];
      const start = lowerIndex(at, read.keys.length, range);
      const end = upperIndex(at, read.keys.length, range);
      if (start < end) sources.push(new HotCursor(read, start, end, this.seqSlot, step));
    }
    for (const seg of this.cold?.segments ?? []) {
      const c = new SegmentCursor(seg, range, step);
      if (!c.done) sources.push(c);
    }
    const stagedLayer = this.staged && this.staged.size > 0 ? this.staged : undefined;
    if (!stagedLayer && sources.length === 1 && !runs) {
      // One source: nothing to merge.
      const c = sources[0];
      for (; !c.done; c.next()) {
        if (!c.ready()) yield* this.load(c);
        if (!c.done) yield c.row();
      }
      return;
    }
    const staged = stagedLayer ? this.stagedInRange(stagedLayer, range, descending) : [];
    let si = 0;
    for (;;) {
      let best: Cursor | undefined;
      let limit: Value | undefined;
      let hasLimit = false;
      for (const c of sources) {
        if (c.done) continue;
        if (!best) {
          best = c;
          continue;
        }
        const cmp = compareValues(c.key, best.key);
        if (descending ? cmp > 0 : cmp < 0) {
          limit = best.key;
          best = c;
        } else if (!hasLimit || (descending ? compareValues(c.key, limit!) > 0 : compareValues(c.key, limit!) < 0)) {
          limit = c.key;
        }
        hasLimit = true;
      }
      if (!best) break;
      if (!best.ready()) {
        yield* this.load(best);
        continue;
      }
      if (!stagedLayer) {
        // A run of `best` before every other source's next key needs no comparison per row.
        let n = hasLimit ? best.runBefore(limit!) : Number.POSITIVE_INFINITY;
        if (n > 0) {
          if (runs && best instanceof SegmentCursor) {
            yield best.take(n);
            best.next();
            continue;
          }
          for (; n > 0 && best.ready() && !best.done; n--) {
            yield best.row();
            best.next();
          }
          continue;
        }
      }
      const key = best.key;
      // A source whose next group is not loaded and may start at this key: loaded before the versions are compared.
      const behind = sources.find((c) => !c.done && !c.ready() && compareValues(c.key, key) === 0);
      if (behind) {
        yield* this.load(behind);
        continue;
      }
      while (si < staged.length) {
        const cmp = compareValues(staged[si].key, key);
        if (descending ? cmp <= 0 : cmp >= 0) break;
        yield staged[si++].row;
      }
      // Among the sources at this key, the newest version wins (hot on a tie).
      let win = best;
      for (const c of sources) {
        if (c === best || c.done || compareValues(c.key, key) !== 0) continue;
        const s = c.seq;
        const w = win.seq;
        if (s > w || (s === w && c.isHot)) win = c;
      }
      const row = stagedLayer?.has(hashKey(key)) ? undefined : win.row();
      for (const c of sources) if (c !== best && !c.done && compareValues(c.key, key) === 0) c.next();
      best.next();
      if (row) yield row;
    }
    while (si < staged.length) yield staged[si++].row;
  }

  /** Loads a cursor's current group: at once when cached, else after a WAIT (NOT_LOADED when the consumer did not wait). */
  private *load(c: Cursor): Generator<StoredRow> {
    while (!c.ready()) {
      const at = c.want();
      if (c.ready()) break;
      yield WAIT;
      if (!c.ready() && c.want() === at) throw NOT_LOADED;
    }
  }

  /** [key hash, newest version] of every key, in key order (live maintenance). */
  *entries(range?: KeyRange, descending = false): Generator<[string, StoredRow]> {
    const slot = this.keySlot;
    for (const row of this.rows(range, descending)) yield [hashKey(row[slot]), row];
  }

  [Symbol.iterator](): Iterator<[string, StoredRow]> {
    return this.entries();
  }

  /** The staged rows (not removals) in `range`, in key order. */
  private stagedInRange(staged: StagedLayer, range: KeyRange | undefined, descending: boolean): { key: Value; row: StoredRow }[] {
    const out: { key: Value; row: StoredRow }[] = [];
    const slot = this.keySlot;
    for (const row of staged.values()) {
      if (!row) continue;
      const key = row[slot];
      if (range && !inRange(range, key)) continue;
      out.push({ key, row });
    }
    out.sort((a, b) => (descending ? compareValues(b.key, a.key) : compareValues(a.key, b.key)));
    return out;
  }
}
