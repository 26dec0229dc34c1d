/**
 * Encoding cold segments, shared by flush (flush-run.ts), compaction
 * (compact-merge.ts) and the rewrite of old formats at open
 * (segment-upgrade.ts), all loaded on first use: row groups a slice of work
 * at a time with their row pages, a segment's manifest entry from its
 * encoded groups, and every location's bytes.
 */
import type { StoredRow, TableDef } from '../core/schema';
import type { Value } from '../core/types';
import { compareValues } from '../core/values';
import type { TimeSlice } from '../core/yield';
import type { EncodedRowGroup } from '../storage/cold/row-group';
import type { SegmentCodec } from '../storage/cold/segment-loader';
import { pagesOf, SEGMENT_FORMAT, segmentKeyOf, type ColumnStats, type RowGroupsMeta, type RowPagesMeta, type SegmentMeta, type SegmentStore } from '../storage/cold/types';
import type { UnitOfWork } from '../storage/unit-of-work';
import { segmentHooks } from './segment-hooks';

/**
 * Bytes of one commit of a segment's bytes written inside the KV store
 * (putSegmentBytes): IndexedDB clones each value on the writing thread when
 * the request is made, ~2–12 ms for a row group of ~130 KB in Chromium (a
 * value over 64 KB is wrapped in a blob), so a commit of 1 MiB held a
 * statement for tens of ms.
 */
export const SLICE_BYTES = 128 * 1024;

/**
 * Writes the bytes of segment `meta`, whose `in_progress` entry is
 * committed already (so a crash part-way leaves an entry open removes,
 * with whatever bytes it had). A file store writes the file whole,
 * yielding as it goes; inside the KV store they go about SLICE_BYTES a
 * commit, `pause` between, so writes committing meanwhile wait for one
 * slice, not for a segment of tens of MB (and the worker never clones that
 * much at once).
 */
export async function putSegmentBytes(
  ctx: { readonly cold: { readonly store: SegmentStore }; commit(unit: UnitOfWork): Promise<void> },
  meta: SegmentMeta,
  bytes: readonly Uint8Array[],
  pause: () => Promise<void>,
): Promise<void> {
  const key = segmentKeyOf(meta);
  if (!ctx.cold.store.write) return ctx.commit({ segments: { put: [{ key, groups: bytes }] } });
  for (let from = 0; from < bytes.length; ) {
    let to = from;
    let size = 0;
    while (to < bytes.length && (to === from || size + bytes[to].length <= SLICE_BYTES)) size += bytes[to++].length;
    await ctx.commit({ segments: { put: [{ key, groups: bytes.slice(from, to), first: from }] } });
    from = to;
    await pause();
  }
}

/**
 * A new segment's entry before its bytes are written (`in_progress`): what
 * every writer sets alike, and `fields` — its level, whether it has hot rows
 * to purge after it (a flush output) and what a flush reserves up front.
 */
export function pendingSegment(id: string, t: TableDef, user: string, fields: Pick<SegmentMeta, 'level' | 'hot_purged'> & Partial<SegmentMeta>): SegmentMeta {
  return {
    id,
    table_id: t.id,
    user_id: user,
    min_seq: 0n,
    max_seq: 0n,
    row_count: 0,
    size_bytes: 0,
    created_at: Date.now(),
    column_stats: {},
    schema_version: t.version,
    status: 'in_progress',
    format: SEGMENT_FORMAT,
    ...fields,
  };
}

/** Encodes rows[start, end) as row groups of `per` rows (with row pages of `pageRows` rows; 0: none), one at a time, giving the event loop a turn between groups once a slice of work ran; undefined when cancelled. */
export async function encodeGroups(
  codec: SegmentCodec,
  t: TableDef,
  rows: readonly StoredRow[],
  start: number,
  end: number,
  per: number,
  pageRows: number,
  slice: TimeSlice,
  isCancelled?: () => boolean,
): Promise<EncodedRowGroup[] | undefined> {
  const encoded: EncodedRowGroup[] = [];
  for (let a = start; a < end; a += per) {
    if (isCancelled?.()) return undefined;
    encoded.push(await encodeGroup(codec, t, rows, a, Math.min(end, a + per), pageRows, slice));
    await slice.pause();
  }
  return encoded;
}

/**
 * rows[start, end) as one row group, with its row pages of `pageRows` rows
 * (0: none), giving the event loop a turn between pages once a slice of
 * work ran (a group and its 32 pages took ~7 ms in Node, more in a
 * browser: what a write waited for while a flush or compaction encoded).
 */
export async function encodeGroup(codec: SegmentCodec, t: TableDef, rows: readonly StoredRow[], start: number, end: number, pageRows: number, slice: TimeSlice): Promise<EncodedRowGroup> {
  const group = codec.encodeRowGroup(t, rows, start, end);
  if (t.pk >= 0 && pagesOf(end - start, pageRows) > 0) {
    const pages: NonNullable<EncodedRowGroup['pages']> = { bytes: [], first: [] };
    for (let a = start; a < end; a += pageRows) {
      await slice.pause();
      pages.bytes.push(codec.encodeRowGroup(t, rows, a, Math.min(end, a + pageRows)).bytes);
      pages.first.push(rows[a][t.pk]);
    }
    group.pages = pages;
  }
  return group;
}

/**
 * The row pages of `encoded` (its `groups` groups first, then index record
 * pages) laid out after them from byte `offset`: the directory's bytes and
 * the pages' meta (storage/cold/row-pages.ts reads them).
 */
function rowPagesLayout(codec: SegmentCodec, t: TableDef, encoded: readonly EncodedRowGroup[], groups: number, offset: number): { meta: RowPagesMeta; dir: Uint8Array } | undefined {
  const first: Value[] = [];
  const offsets: number[] = [];
  const bytes: number[] = [];
  for (let g = 0; g < groups; g++) {
    const pages = encoded[g].pages;
    pages?.bytes.forEach((b, i) => {
      first.push(pages.first[i]);
      offsets.push(offset);
      bytes.push(b.byteLength);
      offset += b.byteLength;
    });
  }
  if (first.length === 0) return undefined;
  const dir = codec.encodePageDirectory(t, first, offsets, bytes);
  return { meta: { rows: 0, count: first.length, at: encoded.length, dir_offset: offset, dir_bytes: dir.byteLength }, dir };
}

/** Every location's bytes of segment `meta` (segmentMeta made it from `encoded`): groups, index record pages, row pages, the page directory. */
export function segmentBytes(codec: SegmentCodec, t: TableDef, meta: SegmentMeta, encoded: readonly EncodedRowGroup[]): Uint8Array[] {
  const out = encoded.map((e) => e.bytes);
  const groups = meta.groups!.rows.length;
  const layout = rowPagesLayout(codec, t, encoded, groups, out.reduce((n, b) => n + b.byteLength, 0));
  if (!layout) return out;
  for (let g = 0; g < groups; g++) out.push(...(encoded[g].pages?.bytes ?? []));
  out.push(layout.dir);
  return out;
}

/**
 * The committed entry of a segment: its row groups' layout and stats, and
 * the segment's own stats (as format 1 kept them). A table with indexes
 * gets its index record pages appended to `encoded` (stored after the groups).
 */
export function segmentMeta(pending: SegmentMeta, t: TableDef, encoded: EncodedRowGroup[], codec: SegmentCodec, pageRows = 0): SegmentMeta {
  const groups: RowGroupsMeta = { rows: [], offsets: [], bytes: [], min_seq: [], max_seq: [], key_min: [], key_max: [], columns: {} };
  const stats: Record<string, ColumnStats> = {};
  for (const c of t.columns) {
    groups.columns[String(c.id)] = { min: [], max: [], nulls: [] };
    stats[String(c.id)] = { min: null, max: null, null_count: 0 };
  }
  let offset = 0;
  let minSeq = 0n;
  let maxSeq = 0n;
  let rows = 0;
  let tombstones = 0;
  let minTombstoneSeq: bigint | null = null;
  encoded.forEach((e, g) => {
    groups.rows.push(e.rows);
    groups.offsets.push(offset);
    groups.bytes.push(e.bytes.byteLength);
    offset += e.bytes.byteLength;
    rows += e.rows;
    groups.min_seq.push(e.minSeq);
    groups.max_seq.push(e.maxSeq);
    groups.key_min.push(e.keyMin);
    groups.key_max.push(e.keyMax);
    if (g === 0 || e.minSeq < minSeq) minSeq = e.minSeq;
    if (g === 0 || e.maxSeq > maxSeq) maxSeq = e.maxSeq;
    tombstones += e.tombstones;
    if (e.minTombstoneSeq !== null && (minTombstoneSeq === null || e.minTombstoneSeq < minTombstoneSeq)) minTombstoneSeq = e.minTombstoneSeq;
    for (const [id, s] of Object.entries(e.stats)) {
      const kept = codec.manifestStats(s);
      const col = groups.columns[id];
      col.min.push(kept.min);
      col.max.push(kept.max);
      col.nulls.push(kept.nulls);
      const whole = stats[id];
      whole.null_count += s.nulls;
      if (s.min !== null && (whole.min === null || compareValues(s.min, whole.min) < 0)) whole.min = s.min;
      if (s.max !== null && (whole.max === null || compareValues(s.max, whole.max) > 0)) whole.max = s.max;
    }
  });
  stats[codec.SEQ_STATS_KEY] = { min: minSeq, max: maxSeq, null_count: 0 };
  const x = t.indexes?.length ? segmentHooks.indexRecords?.(t, encoded, codec, offset) : undefined;
  if (x) encoded.push(...x.pages);
  let end = offset;
  for (const p of x?.pages ?? []) end += p.bytes.byteLength;
  const pages = rowPagesLayout(codec, t, encoded, groups.rows.length, end);
  return {
    ...pending,
    index_records: x?.records,
    index_pages: x?.pages.length,
    row_pages: pages ? { ...pages.meta, rows: pageRows } : undefined,
    row_count: rows,
    min_seq: minSeq,
    max_seq: maxSeq,
    size_bytes: offset,
    column_stats: stats,
    groups,
    tombstones,
    tombstone_min_seq: minTombstoneSeq,
  };
}

