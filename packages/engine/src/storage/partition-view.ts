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
import type { PreparedGroup, PreparedPartition, PreparedSegment } from './cold/types';
import type { Partition } from './hot-tier';
import type { HotRead } from './hot-partition';
import { findKey, inRange, isEmptyRange, lowerIndex, upperIndex, type KeyRange } from './key-range';

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
}

/** One segment's prepared groups, each over its [start, end) rows inside the range. */
class SegmentCursor implements Cursor {
  done = false;
  readonly isHot = false;
  private readonly spans: { g: PreparedGroup; start: number; end: number }[] = [];
  private at = 0;
  private i = 0;

  constructor(seg: PreparedSegment, range: KeyRange | undefined, private readonly step: 1 | -1) {
    for (const g of seg.groups) {
      const keys = g.data.keys;
      const at = (j: number) => keys[j];
      const start = lowerIndex(at, keys.length, range);
      const end = upperIndex(at, keys.length, range);
      if (start < end) this.spans.push({ g, start, end });
    }
    if (step === -1) this.spans.reverse();
    this.at = 0;
    this.enter();
  }

  private enter(): void {
    const s = this.spans[this.at];
    if (!s) {
      this.done = true;
      return;
    }
    this.i = this.step === 1 ? s.start : s.end - 1;
  }

  get key(): Value {
    return this.spans[this.at].g.data.keys[this.i];
  }

  get seq(): bigint {
    return this.spans[this.at].g.data.seqs[this.i];
  }

  row(): StoredRow {
    return coldRow(this.spans[this.at].g, this.i);
  }

  next(): void {
    const s = this.spans[this.at];
    this.i += this.step;
    if (this.step === 1 ? this.i < s.end : this.i >= s.start) return;
    this.at++;
    this.enter();
  }

  runBefore(limit: Value): number {
    const s = this.spans[this.at];
    const keys = s.g.data.keys;
    return runBefore((j) => keys[j], this.i, s.start, s.end, this.step, limit);
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
      const groups = seg.groups;
      // The first prepared group whose last key is not below `key`.
      let a = 0;
      let b = groups.length;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (compareValues(meta.key_max[groups[mid].index], key) < 0) a = mid + 1;
        else b = mid;
      }
      const g = groups[a];
      if (!g || compareValues(meta.key_min[g.index], key) > 0) continue;
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

  /** The newest version of every key in `range`, in key order. */
  *rows(range?: KeyRange, descending = false): Generator<StoredRow> {
    if (isEmptyRange(range)) return;
    const step = descending ? -1 : 1;
    const sources: Cursor[] = [];
    const hot = this.hot;
    // The hot rows as they are now, however long this read pauses (released when it ends).
    const read = hot && hot.size > 0 ? hot.openRead() : undefined;
    try {
      yield* this.merged(read, range, descending, step, sources);
    } finally {
      read?.release();
    }
  }

  private *merged(read: HotRead | undefined, range: KeyRange | undefined, descending: boolean, step: 1 | -1, sources: Cursor[]): Generator<StoredRow> {
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
    if (!stagedLayer && sources.length === 1) {
      // One source: nothing to merge.
      const c = sources[0];
      for (; !c.done; c.next()) yield c.row();
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
      if (!stagedLayer) {
        // A run of `best` before every other source's next key needs no comparison per row.
        let n = hasLimit ? best.runBefore(limit!) : Number.POSITIVE_INFINITY;
        if (n > 0) {
          for (; n > 0 && !best.done; n--) {
            yield best.row();
            best.next();
          }
          continue;
        }
      }
      const key = best.key;
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
