/**
 * Index reads of partitions with cold segments. A SELECT (outside a
 * transaction) whose one scan of a table reads through an index is
 * prepared, for a partition whose every segment holds a record of that
 * index (storage/cold/index-record.ts), by merging in index order the hot
 * index's entries in the read's spans and each segment's record entries in
 * them (only the record pages the spans reach are loaded; the segments'
 * cursors merged through a heap), and resolving the candidates a batch at
 * a time: each cold candidate's key is read at its newest version (a point
 * read of the row groups whose key range holds it, as a transaction's key
 * check reads them — only in the candidate's own segment when no other
 * segment can hold a newer version of its keys, as with segments of keys
 * that only grow), and kept only when that version is the candidate's own
 * (same `_seq`, not a tombstone, no hot version). With ORDER BY … LIMIT n (and a WHERE that calls no function),
 * preparing stops once n rows pass the WHERE; otherwise it reads every
 * candidate of the spans.
 *
 * The execution then yields the prepared rows (execute/index-support.ts),
 * in order, the scan's WHERE applied over them as over any index read. A
 * partition prepared so holds no row groups: the plan's other scans of the
 * table would find none, so only a plan with one scan of the table is
 * prepared this way, and its spans must be the ones prepared (literals and
 * parameters only: plan/index-plan.ts).
 */
import { KalamError } from '../core/errors';
import { deletedSlot, seqSlot, type ColumnDef, type IndexDef, type StoredRow, type TableDef } from '../core/schema';
import type { Value } from '../core/types';
import { compareValues, hashKey } from '../core/values';
import type { ExecContext } from '../exec/context';
import { indexPlanning, type IndexRead } from '../plan/index-plan';
import type { IndexScanRequest } from '../plan/source';
import { RowGroupCache } from '../storage/cold/cache';
import { pkStatsKey, type ColdTier } from '../storage/cold/cold-tier';
import { recordLayout, recordOf, type RecordLayout } from '../storage/cold/index-record';
import { loadSegmentCodec } from '../storage/cold/segment-loader';
import { keyRangesOverlap, type ScanBounds } from '../storage/cold/prune';
import { coversColumns, segmentKeyOf, type IndexRecordMeta, type PreparedPartition, type RowGroupData, type SegmentMeta } from '../storage/cold/types';
import { compareIndexValue, compareTuples, spanAt, spanOf, type HotIndexes, type IndexBound } from '../storage/hot-index';
import type { HotTier } from '../storage/hot-tier';
import { PartitionView } from '../storage/partition-view';
import type { PartitionScans } from './cold-reads';
import type { PartitionViews } from './partition-views';

type Span = IndexScanRequest['spans'][number];

/** A partition prepared through an index read: its rows in the read's order. */
export interface IndexedPartition extends PreparedPartition {
  readonly indexed: {
    readonly index: IndexDef;
    readonly reverse: boolean;
    readonly spans: readonly Span[];
    readonly rows: readonly StoredRow[];
    /** Every candidate was read (false: preparing stopped once the rows the consumer keeps were found). */
    readonly complete: boolean;
  };
}

export interface IndexColdHost {
  readonly hot: HotTier;
  readonly cold: ColdTier;
  readonly views: PartitionViews;
}

/** One entry of the read: its indexed values and key, and its row (hot) or `_seq` (cold, resolved later). */
interface Candidate {
  readonly t: readonly Value[];
  readonly k: Value;
  readonly seq?: bigint;
  readonly row?: StoredRow;
  /** The segment whose record holds it (cold). */
  readonly seg?: SegmentMeta;
}

const sameBound = (a: IndexBound | undefined, b: IndexBound | undefined) =>
  a === b || (!!a && !!b && a.inclusive === b.inclusive && a.tuple.length === b.tuple.length && a.tuple.every((v, i) => compareIndexValue(v, b.tuple[i]) === 0));
export const sameSpans = (a: readonly Span[], b: readonly Span[]) => a.length === b.length && a.every((s, i) => sameBound(s.lower, b[i].lower) && sameBound(s.upper, b[i].upper));

/** The record's pages that may hold some of the spans, ascending (pages are in index order: their last tuples against a span's lower end, their first against its upper). */
function pagesIn(r: IndexRecordMeta, spans: readonly Span[], desc: readonly boolean[]): number[] {
  const out = new Set<number>();
  for (const s of spans) {
    const [start, end] = spanAt((p) => r.last[p], (p) => r.first[p], r.at.length, desc, s.lower, s.upper);
    for (let p = start; p < end; p++) out.add(p);
  }
  return [...out].sort((a, b) => a - b);
}

/** A run of a record page's entries in a span, read from `at` to `end`. */
interface PageRun {
  readonly page: RowGroupData;
  /** The page's index columns, each read one value at a time (a run needs a few entries of a page, not its whole columns decoded). */
  readonly cols: readonly ((i: number) => Value)[];
  at: number;
  end: number;
}

const tupleOf = (run: PageRun, i: number): Value[] => run.cols.map((c) => c(i));

/** Values a record page's column keeps one by one before it is decoded whole (a read through the page's entries, not a few). */
const PAGE_VALUES_MAX = 64;

/** Per record page (as long as it is alive: cached), per index column: its reader, its values read so far, or the whole column. */
const pageValues = new WeakMap<RowGroupData, { read: (i: number) => Value; values: Map<number, Value>; whole?: ArrayLike<Value> }[]>();

/**
 * Readers of a record page's index columns. A read through an index with
 * a LIMIT needs a few entries of each segment's page (a binary search's
 * probes, the entries taken), so values are decoded one at a time and kept
 * with the page; past PAGE_VALUES_MAX of a column, the column is decoded
 * whole (`grown`: the page's bytes changed). The readers are made with the
 * first use of the page, when it holds every column: a page the cache has
 * shrunk since (RowGroupData.shrink keeps only the columns decoded whole)
 * is still read through them, value by value, past that bound.
 */
export function pageReaders(page: RowGroupData, columns: readonly ColumnDef[], grown: () => void): ((i: number) => Value)[] {
  let memo = pageValues.get(page);
  if (!memo) pageValues.set(page, (memo = columns.map((c) => ({ read: page.reader(c), values: new Map<number, Value>() }))));
  return columns.map((c, k) => {
    const m = memo[k];
    return (i: number) => {
      if (m.whole) return m.whole[i];
      let v = m.values.get(i);
      if (v !== undefined) return v;
      if (m.values.size < PAGE_VALUES_MAX) m.values.set(i, (v = m.read(i)));
      else if (page.covers?.(c) === false) return m.read(i);
      else {
        m.whole = page.column(c);
        m.values.clear();
        grown();
        return m.whole[i];
      }
      return v;
    };
  });
}

/**
 * One segment's record entries in the spans, in the read's order, a group
 * of pages at a time (pages whose boundary tuples are equal together, so a
 * run of equal values is ordered whole). An entry is built only when it
 * comes to the head. Read forwards, the group's runs in the spans are
 * already in order. Reversed (tuples descending, keys still ascending among
 * equal tuples), the group's runs are walked from their end a block of
 * equal tuples at a time, and each block is read forwards.
 */
class RecordCursor {
  /** The runs being read forwards: a group's (forwards), or the current block of equal tuples (reversed). */
  private readonly runs: PageRun[] = [];
  /** Reversed: the current group's runs in index order, not yet taken into a block (each non-empty). */
  private back: PageRun[] = [];
  private current: Candidate | undefined;
  private next = 0;
  private readonly groups: number[][] = [];

  constructor(
    private readonly host: IndexColdHost,
    private readonly meta: SegmentMeta,
    private readonly record: IndexRecordMeta,
    private readonly layout: RecordLayout,
    private readonly spans: readonly Span[],
    private readonly desc: readonly boolean[],
    private readonly reverse: boolean,
  ) {
    const r = record;
    const pages = pagesIn(r, spans, desc);
    if (reverse) pages.reverse();
    for (const p of pages) {
      const group = this.groups[this.groups.length - 1];
      const prev = group?.[group.length - 1];
      const joined = prev !== undefined && Math.abs(prev - p) === 1 && compareTuples(r.last[Math.min(prev, p)], r.first[Math.max(prev, p)], desc) === 0;
      if (joined) group.push(p);
      else this.groups.push([p]);
    }
  }

  get head(): Candidate | undefined {
    if (this.runs.length === 0 && this.back.length > 0) this.takeBlock();
    const run = this.runs[0];
    if (!run) return undefined;
    return (this.current ??= { t: tupleOf(run, run.at), k: run.page.keys[run.at], seq: run.page.seqs[run.at], seg: this.meta });
  }

  advance(): void {
    this.current = undefined;
    if (++this.runs[0].at >= this.runs[0].end) this.runs.shift();
  }

  /** Whether the next entry needs a page group loaded (fill). */
  get isDrained(): boolean {
    return this.runs.length === 0 && this.back.length === 0 && this.next < this.groups.length;
  }

  /** Reversed: moves the last block of equal tuples left in `back` to `runs`, in index order. */
  private takeBlock(): void {
    const lastRun = this.back[this.back.length - 1];
    const last = tupleOf(lastRun, lastRun.end - 1);
    // Most tuples differ from the one before: a block of one entry.
    if (lastRun.end - 2 >= lastRun.at ? compareTuples(tupleOf(lastRun, lastRun.end - 2), last, this.desc) !== 0 : this.back.length === 1) {
      this.runs.push({ page: lastRun.page, cols: lastRun.cols, at: lastRun.end - 1, end: lastRun.end });
      if (--lastRun.end <= lastRun.at) this.back.pop();
      return;
    }
    const block: PageRun[] = [];
    while (this.back.length > 0) {
      const run = this.back[this.back.length - 1];
      // The first entry of the run equal to `last` (the run's entries are in index order, none past `last`).
      let lo = run.at;
      let hi = run.end - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareTuples(tupleOf(run, mid), last, this.desc) < 0) lo = mid + 1;
        else hi = mid;
      }
      if (compareTuples(tupleOf(run, lo), last, this.desc) !== 0) break;
      block.unshift({ page: run.page, cols: run.cols, at: lo, end: run.end });
      run.end = lo;
      if (run.end > run.at) break;
      this.back.pop();
    }
    this.runs.push(...block);
  }

  /** Loads page groups until an entry is at hand or the record is done. */
  async fill(): Promise<void> {
    while (this.isDrained) {
      const group = this.groups[this.next++];
      const runs: PageRun[] = [];
      for (const p of this.reverse ? [...group].reverse() : group) {
        const page = await this.page(p);
        const cols = pageReaders(page, this.layout.table.columns.slice(0, this.desc.length), () => this.host.cold.cache.resize(RowGroupCache.key(this.meta.id, this.record.at[p])));
        const tupleAt = (i: number) => cols.map((c) => c(i));
        // Entries are in index order: each span's are found by binary search.
        const pageRuns: PageRun[] = [];
        for (const s of this.spans) {
          const [start, end] = spanAt(tupleAt, tupleAt, page.rows, this.desc, s.lower, s.upper);
          if (start < end) pageRuns.push({ page, cols, at: start, end });
        }
        pageRuns.sort((a, b) => a.at - b.at);
        runs.push(...pageRuns);
      }
      if (this.reverse) this.back = runs;
      else this.runs.push(...runs);
    }
  }

  /** A record page: from the row-group cache (a flush puts its pages there), or read and cached. */
  private async page(p: number): Promise<RowGroupData> {
    const { cache, store } = this.host.cold;
    const key = RowGroupCache.key(this.meta.id, this.record.at[p]);
    const hit = cache.getIf(key, false, (data) => coversColumns(data, this.layout.table, 'all'));
    if (hit) return hit;
    const [bytes] = await store.readGroups(segmentKeyOf(this.meta), [{ index: this.record.at[p], offset: this.record.offsets[p], bytes: this.record.bytes[p] }]);
    if (!bytes) {
      throw new KalamError('STORAGE_ERROR', `Index record ${this.record.name} of segment ${this.meta.id} is listed in the manifest but its data is missing: the storage was changed outside kalamlite`);
    }
    const data = (await loadSegmentCodec()).decodeRowGroup(bytes, this.layout.table.columns[this.layout.table.pk]);
    cache.set(key, this.meta.id, data);
    return data;
  }
}

/** A binary min-heap (by `less`) of the merge's sources. */
class MinHeap<T> {
  constructor(
    private readonly items: T[],
    private readonly less: (a: T, b: T) => boolean,
  ) {
    for (let i = (items.length >>> 1) - 1; i >= 0; i--) this.down(i);
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** Replaces the top (its key changed) or removes it (undefined), and restores the order. */
  replaceTop(x: T | undefined): void {
    if (x !== undefined) this.items[0] = x;
    else {
      const last = this.items.pop()!;
      if (this.items.length === 0) return;
      this.items[0] = last;
    }
    this.down(0);
  }

  private down(i: number): void {
    const a = this.items;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) return;
      const r = l + 1;
      const m = r < a.length && this.less(a[r], a[l]) ? r : l;
      if (!this.less(a[m], a[i])) return;
      [a[i], a[m]] = [a[m], a[i]];
      i = m;
    }
  }
}

/** Candidates resolved in the first round without a LIMIT to stop at (with one: the rows still wanted, and a few more); each later round doubles. */
const FIRST_BATCH = 64;
const BATCH_SLACK = 4;

/**
 * Prepares partition `s` of `plan` through the plan's index read of it, or
 * undefined when it cannot (then the ordinary preparation runs).
 */
export async function prepareIndexRead(
  host: IndexColdHost,
  indexes: HotIndexes,
  plan: object,
  s: PartitionScans,
  params: readonly Value[],
  pinned: string[],
): Promise<IndexedPartition | undefined> {
  const t = s.table;
  const scans = indexPlanning.of(plan)?.filter((x) => x.tableId === t.id);
  const read = scans?.length === 1 && s.bounds.length === 1 ? scans[0].read : undefined;
  if (!read || t.pk < 0) return undefined;
  const index = t.indexes?.find((x) => x.name === read.index.name);
  if (!index || JSON.stringify(index.columns) !== JSON.stringify(read.index.columns)) return undefined;
  const segments = host.cold.manifest.segments(t.id, s.user);
  const records = segments.map((m) => recordOf(m, t, index));
  if (segments.length === 0 || records.some((r) => r === undefined)) return undefined;
  const ctx = { params, user: s.user, now: Date.now() } as unknown as ExecContext;
  let spans: ReturnType<IndexRead['spans']>;
  let keep: number | undefined;
  try {
    spans = read.spans(ctx);
    keep = read.isPure ? read.keep?.(ctx) : undefined;
  } catch {
    return undefined;
  }
  if (!spans || spans === 'empty') return undefined;
  const desc = index.columns.map((c) => c.desc);
  const sign = read.reverse ? -1 : 1;
  const order = (a: Candidate, b: Candidate) => sign * compareTuples(a.t, b.t, desc) || compareValues(a.k, b.k);

  // The hot entries in the spans (their rows are the newest versions), and each segment's record.
  const partition = host.hot.partition(t.id, s.user);
  const hotIndex = indexes.get(t, s.user, index, partition);
  const hotCands: Candidate[] = [];
  const hotKeys = new Set<string>();
  if (hotIndex) {
    const r = hotIndex.openRead();
    try {
      for (const sp of spans) {
        const [start, end] = spanOf(r.entries, desc, sp.lower, sp.upper);
        for (let i = start; i < end; i++) {
          const e = r.entries[i];
          hotCands.push({ t: e.t, k: e.k, row: e.r });
          hotKeys.add(hashKey(e.k));
        }
      }
    } finally {
      r.release();
    }
    hotCands.sort(order);
  }
  const layout = recordLayout(t, index);
  const cursors = segments.map((m, i) => new RecordCursor(host, m, records[i]!, layout, spans as Span[], desc, read.reverse));
  let hotAt = 0;
  // The cursors that need a record page read it together (concurrent reads, not one after another); then the
  // cursors with entries are merged through a heap by their heads.
  await Promise.all(cursors.filter((c) => c.isDrained).map((c) => c.fill()));
  const heap = new MinHeap(cursors.filter((c) => c.head !== undefined), (a, b) => order(a.head!, b.head!) < 0);

  const rows: StoredRow[] = [];
  const seq = seqSlot(t);
  const del = deletedSlot(t);
  const pkKey = pkStatsKey(t)!;
  const covered = coveringRow(t, index, s.columns, segments, pkKey);
  let passing = 0;
  let canCount = keep !== undefined;
  // The partition's segments (the manifest's list changes in place) and those alone among them, once needed.
  let alone: { listed: readonly SegmentMeta[]; set: ReadonlySet<SegmentMeta> } | undefined;
  // Each cold candidate costs a point read (a row group, when not cached): resolve about as many as the consumer keeps.
  let batch = keep === undefined ? FIRST_BATCH : keep + BATCH_SLACK;
  for (;;) {
    // The next candidates in the read's order.
    const cands: Candidate[] = [];
    while (cands.length < batch) {
      const top = heap.peek();
      const hot = hotCands[hotAt];
      if (hot && (!top || order(hot, top.head!) <= 0)) {
        hotAt++;
        cands.push(hot);
        continue;
      }
      if (!top) break;
      cands.push(top.head!);
      top.advance();
      if (top.isDrained) await top.fill();
      heap.replaceTop(top.head ? top : undefined);
    }
    if (cands.length === 0) break;
    // Cold candidates: the newest version of each key, from the row groups that may hold it (a covering read needs none for a key provably newest).
    const built = covered ? new Map<Candidate, StoredRow | undefined>() : undefined;
    if (built) {
      for (const c of cands) {
        if (c.row) continue;
        const hash = hashKey(c.k);
        if (hotKeys.has(hash) || host.hot.partition(t.id, s.user)?.has(hash)) built.set(c, undefined); // a newer version is hot
        else {
          const row = covered!(c);
          if (row) built.set(c, row);
        }
      }
      if (built.size > 0) indexCoveringReads.rows += built.size;
    }
    const cold = cands.filter((c) => !c.row && !built?.has(c) && !hotKeys.has(hashKey(c.k)));
    let resolve: ((c: Candidate) => StoredRow | undefined) | undefined;
    if (cold.length > 0) {
      const newest = (row: StoredRow | undefined, c: Candidate) => (row && row[del] !== true && row[seq] === c.seq ? row : undefined);
      const hotHas = (hash: string) => hotKeys.has(hash) || host.hot.partition(t.id, s.user)?.has(hash);
      const own = ownKeys(cold, (alone ??= { listed: [...segments], set: segmentsAlone(segments, pkKey) }), host.cold.manifest.segments(t.id, s.user), pkKey);
      if (own) {
        // Each key read in the segment whose record holds it only: no other segment can hold a newer version.
        const prepared = await host.cold.prepare(t, s.user, [], s.columns, pinned, undefined, own);
        const views = new Map(prepared.segments.map((ps) => [ps.meta, new PartitionView(t, undefined, undefined, { table: t, segments: [ps] })]));
        resolve = (c) => {
          const hash = hashKey(c.k);
          return hotHas(hash) ? undefined : newest(views.get(c.seg!)?.get(c.k, hash), c);
        };
      } else {
        const prepared = await host.cold.prepare(t, s.user, [[{ key: pkKey, isPk: true, op: 'in', values: cold.map((c) => c.k) }]], s.columns, pinned);
        const v = host.views.view(t, s.user, { partition: () => prepared });
        resolve = (c) => {
          const hash = hashKey(c.k);
          return hotHas(hash) ? undefined : newest(v.get(c.k, hash), c);
        };
      }
    }
    for (const c of cands) {
      const row = c.row ?? (built?.has(c) ? built.get(c) : resolve?.(c));
      if (!row) continue;
      rows.push(row);
      if (keep === undefined) continue;
      if (read.pred) {
        try {
          if (read.pred(row, ctx) === true) passing++;
        } catch {
          canCount = false;
        }
      } else passing++;
    }
    if (keep !== undefined && canCount && passing >= keep) {
      return done(t, read, spans, rows, false);
    }
    batch *= 2;
  }
  return done(t, read, spans, rows, true);
}

/**
 * The segments of a partition whose every row is its key's newest cold
 * version: each other segment is older than all its rows or holds no key
 * in its key range (segments flushed from keys that only grow, or
 * compacted into ranges of their own, are all so).
 */
function segmentsAlone(segments: readonly SegmentMeta[], pkKey: string): Set<SegmentMeta> {
  return new Set(segments.filter((s) => !segments.some((m) => m !== s && m.max_seq > s.min_seq && keyRangesOverlap(s, m, pkKey))));
}

/**
 * The cold candidates' keys by the segment whose record holds each (an IN
 * bound per segment), when every one of those segments is alone among the
 * segments listed with them and the partition still has exactly those
 * (`current`: a flush or a compaction that committed since may have added
 * a newer version of a key elsewhere); undefined otherwise.
 */
function ownKeys(
  cold: readonly Candidate[],
  alone: { listed: readonly SegmentMeta[]; set: ReadonlySet<SegmentMeta> },
  current: readonly SegmentMeta[],
  pkKey: string,
): Map<SegmentMeta, ScanBounds[]> | undefined {
  if (current.length !== alone.listed.length || current.some((m, i) => m !== alone.listed[i])) return undefined;
  const keys = new Map<SegmentMeta, Value[]>();
  for (const c of cold) {
    if (!c.seg || !alone.set.has(c.seg)) return undefined;
    let list = keys.get(c.seg);
    if (!list) keys.set(c.seg, (list = []));
    list.push(c.k);
  }
  return new Map([...keys].map(([m, values]) => [m, [[{ key: pkKey, isPk: true, op: 'in', values }]]]));
}

/** Cold candidates answered from index records alone (covering reads), across the engine; tests read it. */
export const indexCoveringReads = { rows: 0 };

/**
 * When every column the statement reads is in the index (or is the key):
 * a builder of a candidate's row from its record entry alone — its indexed
 * values, key and `_seq`, the other columns NULL (never read) — for a
 * candidate provably its key's newest version (no hot version, checked by
 * the caller, and no other segment that could hold a newer one: every
 * other segment either ends before its `_seq` or has no key range holding
 * it; a tombstone is a version, so the same test rules one out).
 * Undefined when the read is not covered.
 */
function coveringRow(t: TableDef, index: IndexDef, columns: ReadonlySet<number> | 'all', segments: readonly SegmentMeta[], pkKey: string): ((c: Candidate) => StoredRow | undefined) | undefined {
  if (columns === 'all') return undefined;
  const pkId = t.columns[t.pk].id;
  for (const id of columns) if (id !== pkId && !index.columns.some((c) => c.id === id)) return undefined;
  const slots = index.columns.map((c) => t.columns.findIndex((col) => col.id === c.id));
  const width = t.columns.length + 2;
  const outside = (m: SegmentMeta, k: Value) => {
    const st = m.column_stats[pkKey];
    return !!st && st.min !== null && st.max !== null && (compareValues(k, st.min) < 0 || compareValues(k, st.max) > 0);
  };
  return (c) => {
    if (c.seq === undefined || !c.seg) return undefined;
    for (const m of segments) if (m !== c.seg && m.max_seq > c.seq && !outside(m, c.k)) return undefined;
    const row = new Array<Value>(width).fill(null);
    slots.forEach((slot, i) => { row[slot] = c.t[i]; });
    row[t.pk] = c.k;
    row[t.columns.length] = c.seq;
    row[t.columns.length + 1] = false;
    return Object.freeze(row) as StoredRow;
  };
}

function done(t: TableDef, read: IndexRead, spans: readonly Span[], rows: StoredRow[], complete: boolean): IndexedPartition {
  return { table: t, segments: [], indexed: { index: read.index, reverse: read.reverse, spans, rows, complete } };
}

/** The rows of a partition prepared through an index read, for the read `req` (the one it was prepared for). */
export function* preparedRows(p: IndexedPartition, req: IndexScanRequest): Generator<StoredRow> {
  const x = p.indexed;
  if (x.index.name !== req.index.name || x.reverse !== (req.reverse ?? false) || !sameSpans(x.spans, req.spans)) {
    throw new KalamError('INTERNAL', `Internal error: an index read of ${req.index.name} ran with spans other than those it was prepared with. This is a bug in kalamlite; please report it.`);
  }
  yield* x.rows;
  if (!x.complete) {
    throw new KalamError('INTERNAL', `Internal error: an index read of ${req.index.name} read past the rows prepared for its LIMIT. This is a bug in kalamlite; please report it.`);
  }
}
