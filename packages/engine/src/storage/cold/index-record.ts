/**
 * Per-segment index records: for each secondary index of a table, a
 * segment written by a flush or a compaction also holds its live rows'
 * (indexed values…, key, `_seq`) sorted in index order (as the hot index
 * orders them: values in their directions, NULLs last ascending, then the
 * key), so a read through the index finds a segment's candidates without
 * reading its row groups.
 *
 * A record is stored as pages: row groups (the segment codec's own format)
 * of a projection of the table — the index's columns, then the primary key
 * column unless the index holds it — of at most as many entries as the
 * segment's row groups have rows, at locations after the segment's row
 * groups in the same segment store object, so they are written in the same
 * commit as the groups and deleted with them (SegmentMeta.index_pages).
 * The manifest entry lists each page's location and its first and last
 * tuple, so a read loads only the pages its span reaches. Tombstones have
 * no entries; a segment holds one version per key, so each entry is that
 * key's version in the segment, and a reader keeps it only when it is the
 * key's newest version across the partition (same `_seq`).
 *
 * Loaded with the other index code (execute/index-support.ts installs the
 * writer into jobs/segment-write.ts).
 */
import type { IndexDef, StoredRow, TableDef } from '../../core/schema';
import type { Value } from '../../core/types';
import { compareValues } from '../../core/values';
import { compareTuples } from '../hot-index';
import type { EncodedRowGroup } from './row-group';
import type { SegmentCodec } from './segment-loader';
import type { IndexRecordMeta, SegmentMeta } from './types';

/** How an index's record pages are laid out: a projection of the table, and the slot of the row identity in its rows. */
export interface RecordLayout {
  /** The index's columns, then the primary key column unless it is one of them. */
  readonly table: TableDef;
  /** The slot of the row identity in a page's rows: the primary key's, or `_seq`'s without one. */
  readonly keySlot: number;
}

export function recordLayout(t: TableDef, index: IndexDef): RecordLayout {
  const columns = index.columns.map((c) => t.columns.find((col) => col.id === c.id)!);
  const pk = t.pk >= 0 ? t.columns[t.pk] : undefined;
  let pkSlot = pk ? columns.indexOf(pk) : -1;
  if (pk && pkSlot < 0) pkSlot = columns.push(pk) - 1;
  return { table: { ...t, columns, pk: pkSlot, indexes: undefined }, keySlot: pk ? pkSlot : columns.length };
}

/** The record of `index` a segment holds, when it was written for the index as it is now (same columns, directions and types). */
export function recordOf(meta: SegmentMeta, t: TableDef, index: IndexDef): IndexRecordMeta | undefined {
  const r = meta.index_records?.find((x) => x.name === index.name);
  if (!r || r.columns.length !== index.columns.length) return undefined;
  for (let i = 0; i < r.columns.length; i++) {
    const c = r.columns[i];
    const want = index.columns[i];
    if (c.id !== want.id || c.desc !== want.desc || t.columns.find((col) => col.id === c.id)?.type !== c.type) return undefined;
  }
  return r;
}

/**
 * The index records of a segment whose row groups are `encoded`: each
 * index's pages (to store after the groups, the first at location
 * `encoded.length`, offset `offset`) and their manifest entries.
 */
export function encodeIndexRecords(t: TableDef, encoded: readonly EncodedRowGroup[], codec: SegmentCodec, offset: number): { pages: EncodedRowGroup[]; records: IndexRecordMeta[] } {
  const keyColumn = t.pk >= 0 ? t.columns[t.pk] : undefined;
  const groups = encoded.map((e) => codec.decodeRowGroup(e.bytes, keyColumn));
  const per = Math.max(1, ...encoded.map((e) => e.rows));
  const pages: EncodedRowGroup[] = [];
  const records: IndexRecordMeta[] = [];
  let at = encoded.length;
  for (const index of t.indexes ?? []) {
    const layout = recordLayout(t, index);
    const width = layout.table.columns.length;
    const k = index.columns.length;
    const desc = index.columns.map((c) => c.desc);
    const rows: StoredRow[] = [];
    for (const g of groups) {
      const columns = layout.table.columns.map((c) => g.column(c));
      for (let i = 0; i < g.rows; i++) {
        if (g.deleted[i] === 1) continue;
        const row = new Array<Value>(width + 2);
        for (let s = 0; s < width; s++) row[s] = columns[s][i];
        row[width] = g.seqs[i];
        row[width + 1] = false;
        rows.push(row);
      }
    }
    const key = layout.keySlot;
    rows.sort((a, b) => compareTuples(a, b, desc, k) || compareValues(a[key], b[key]));
    const record: IndexRecordMeta = {
      name: index.name,
      columns: index.columns.map((c) => ({ id: c.id, desc: c.desc, type: t.columns.find((col) => col.id === c.id)!.type })),
      entries: rows.length,
      at: [], offsets: [], bytes: [], rows: [], first: [], last: [],
    };
    for (let a = 0; a < rows.length; a += per) {
      const end = Math.min(rows.length, a + per);
      const page = codec.encodeRowGroup(layout.table, rows, a, end);
      pages.push(page);
      record.at.push(at++);
      record.offsets.push(offset);
      record.bytes.push(page.bytes.byteLength);
      record.rows.push(end - a);
      record.first.push(rows[a].slice(0, k));
      record.last.push(rows[end - 1].slice(0, k));
      offset += page.bytes.byteLength;
    }
    records.push(record);
  }
  return { pages, records };
}
