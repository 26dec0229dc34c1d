/**
 * The k-way merge of a compaction (compact-merge.ts), apart from where it
 * runs: its inputs' row groups come from, and its output segments go to, a
 * MergeIo — the engine's own cold tier and commit path (compact-merge.ts
 * `inlineIo`), or, when the merge runs in the compaction helper worker
 * (compact-helper.ts), messages to the engine's thread, which reads the
 * bytes and writes the segments (compact-offload.ts). Either way the
 * engine's thread does the storage reads and writes and the commits; the
 * merging, decoding and encoding run where the merge runs.
 *
 * Of the versions of one key the newest (`_seq`) is kept, the others are
 * dropped as shadowed; a kept tombstone older than the table's retention is
 * dropped too (every stored version of its key is among the inputs).
 * Output segments are cut at an even size of at most maxSegmentRows rows,
 * each into row groups of rowGroupRows rows as flush cuts them.
 */
import { seqMillis } from '../core/ids';
import type { RowChange, StoredRow, TableDef } from '../core/schema';
import type { Value } from '../core/types';
import { compareValues, hashKey } from '../core/values';
import type { TimeSlice } from '../core/yield';
import type { EncodedRowGroup } from '../storage/cold/row-group';
import type { SegmentCodec } from '../storage/cold/segment-loader';
import type { RowGroupData, SegmentMeta } from '../storage/cold/types';
import { Heap, Input } from './compact-inputs';
import type { encodeGroup } from './segment-encode';

/** Dropped tombstones kept to publish to a partition's live queries; past it they are told to re-run instead. */
export const PUBLISH_PURGED_MAX = 10_000;

/** Merged rows between checks of the time slice. */
const ROWS_PER_CHECK = 256;

export interface MergeOptions {
  /** Tombstones written before this (ms) are dropped. */
  cutoffMs: number;
  slice: TimeSlice;
  isCancelled?: () => boolean;
  /** Collect the dropped tombstones (up to PUBLISH_PURGED_MAX) as removals for live queries. */
  collectPurged: boolean;
}

export interface MergeResult {
  /** The written segments, in status in_progress, in key order. */
  outputs: SegmentMeta[];
  rowsRead: number;
  rowsShadowed: number;
  tombstonesPurged: number;
  /** Dropped tombstones as removals (row null, before: the tombstone); `complete` false when not all were kept (or none was asked for). */
  purged: RowChange[];
  complete: boolean;
  /** The newest dropped tombstone (live replay cannot see past its `_seq`). */
  newestPurged?: RowChange;
}

/** Where a merge reads and writes (see the module's comment). */
export interface MergeIo {
  readonly rowGroupRows: number;
  readonly maxSegmentRows: number;
  /** Rows per row page for this table (0: none). */
  readonly rowPageRows: number;
  /** Row group `g` of input `meta`, decoded, until `release`. */
  readGroup(meta: SegmentMeta, g: number): Promise<{ data: RowGroupData; release(): void }>;
  /** Writes an output segment of these encoded groups: its `in_progress` entry, then its bytes; resolves with the entry. */
  writeSegment(encoded: EncodedRowGroup[]): Promise<SegmentMeta>;
  /** Removes an output written by writeSegment (an abort): its bytes, then its entry. */
  removeSegment(meta: SegmentMeta): Promise<void>;
}

/**
 * Merges `inputs` (segments of partition `user` of `t`) into new level 1
 * segments written in status in_progress; 'aborted' (nothing left behind)
 * when cancelled.
 */
export async function mergeRows(
  io: MergeIo,
  codec: SegmentCodec,
  encode: { encodeGroup: typeof encodeGroup },
  t: TableDef,
  user: string,
  inputs: readonly SegmentMeta[],
  o: MergeOptions,
): Promise<MergeResult | 'aborted'> {
  const { rowGroupRows, maxSegmentRows, rowPageRows } = io;
  const total = inputs.reduce((n, m) => n + m.row_count, 0);
  // Outputs of an even size: no small last segment when the rows are a little over maxSegmentRows.
  const target = Math.ceil(total / Math.max(1, Math.ceil(total / maxSegmentRows)));
  const result: MergeResult = { outputs: [], rowsRead: 0, rowsShadowed: 0, tombstonesPurged: 0, purged: [], complete: o.collectPurged };
  const readers = inputs.map((m) => new Input((g) => io.readGroup(m, g), m, t));
  const heap = new Heap();
  let encoded: EncodedRowGroup[] = [];
  let segmentRows = 0;
  let rows: StoredRow[] = [];
  const abort = async (): Promise<'aborted'> => {
    for (const r of readers) r.close();
    for (const m of result.outputs) await io.removeSegment(m);
    return 'aborted';
  };
  const endGroup = async () => {
    if (rows.length === 0) return;
    encoded.push(await encode.encodeGroup(codec, t, rows, 0, rows.length, rowPageRows, o.slice));
    segmentRows += rows.length;
    rows = [];
    await o.slice.pause();
  };
  const endSegment = async () => {
    await endGroup();
    if (encoded.length === 0) return;
    const groups = encoded;
    encoded = [];
    segmentRows = 0;
    result.outputs.push(await io.writeSegment(groups));
  };

  try {
    for (const r of readers) {
      if (o.isCancelled?.()) return await abort();
      await r.load(0);
      if (!r.done) heap.push(r);
      await o.slice.pause();
    }
    let sinceCheck = 0;
    let last: { key: Value } | undefined;
    while (heap.size > 0) {
      // The newest version of the smallest key is on top; the other versions of that key follow it.
      const top = heap.pop()!;
      const key = top.key;
      if (last && compareValues(key, last.key) === 0) {
        // A second version of a key within one input (never written so; kept out all the same).
        result.rowsRead++;
        result.rowsShadowed++;
        const loading = top.next();
        if (loading) await loading;
        if (!top.done) heap.push(top);
        continue;
      }
      last = { key };
      const keep = top.isTombstone && seqMillis(top.seq) < o.cutoffMs ? undefined : top.row();
      if (!keep) notePurged(result, t, user, key, top.row());
      result.rowsRead++;
      const moved: Input[] = [top];
      while (heap.size > 0 && compareValues(heap.peek()!.key, key) === 0) {
        moved.push(heap.pop()!);
        result.rowsRead++;
        result.rowsShadowed++;
      }
      if (keep) {
        rows.push(keep);
        if (segmentRows + rows.length >= target) await endSegment();
        else if (rows.length >= rowGroupRows) await endGroup();
      }
      for (const r of moved) {
        const loading = r.next();
        if (loading) {
          await loading;
          await o.slice.pause();
        }
        if (!r.done) heap.push(r);
      }
      if (++sinceCheck >= ROWS_PER_CHECK) {
        sinceCheck = 0;
        if (o.isCancelled?.()) return await abort();
        await o.slice.pause();
      }
    }
    await endSegment();
    if (o.isCancelled?.()) return await abort();
    return result;
  } catch (e) {
    await abort().catch(() => undefined);
    throw e;
  } finally {
    for (const r of readers) r.close();
  }
}

function notePurged(result: MergeResult, t: TableDef, user: string, pk: Value, before: StoredRow): void {
  result.tombstonesPurged++;
  const change: RowChange = { table: t, user, pkHash: hashKey(pk), pk, row: null, before: Object.freeze(before) };
  const seqAt = t.columns.length;
  if (!result.newestPurged || (before[seqAt] as bigint) > (result.newestPurged.before![seqAt] as bigint)) result.newestPurged = change;
  if (!result.complete) return;
  if (result.purged.length >= PUBLISH_PURGED_MAX) {
    result.complete = false;
    result.purged = [];
    return;
  }
  result.purged.push(change);
}
