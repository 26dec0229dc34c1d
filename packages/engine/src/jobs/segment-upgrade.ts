/**
 * Open: segments written by an older build (storage format 1: a
 * partition's rows as one Arrow IPC blob in the KV `segments` store,
 * unsorted) are rewritten as format 2 — sorted by key, cut into segments
 * of at most maxSegmentRows rows and row groups of rowGroupRows — before
 * anything reads them.
 *
 * Each old segment is one unit of work, crash-safe: the new row groups are
 * written first (a file store: before the commit; the KV store: in it),
 * then ONE commit adds the new committed entries and deletes the old entry
 * and its blob. A crash before that commit leaves the old segment as it
 * was (and, for a file store, files no entry refers to, which open
 * deletes); after it, only the new ones. An interrupted format 1 flush
 * (an in_progress entry) is removed with its blob, as recovery always did.
 */
import { KalamError } from '../core/errors';
import { seqSlot, type StoredRow, type TableDef } from '../core/schema';
import { compareValues } from '../core/values';
import { TimeSlice } from '../core/yield';
import { loadSegmentCodec } from '../storage/cold/segment-loader';
import { formatOf, segmentKeyOf, segmentRefOf, SEGMENT_FORMAT, type SegmentMeta, type SegmentStore } from '../storage/cold/types';
import type { KvWrite } from '../storage/kv';
import type { FlushContext } from './flush';
import { loadSegmentEncode } from './segment-write';

/** Rewrites every format 1 segment; resolves with how many were rewritten. `legacy` holds their blobs (the KV `segments` store). */
export async function upgradeSegments(engine: FlushContext, legacy: Pick<SegmentStore, 'get' | 'remove'>): Promise<number> {
  const { cold, catalog } = engine;
  const manifest = cold.manifest;
  const oldPending = manifest.pending.filter((m) => formatOf(m) === 1);
  const old = manifest.all().filter((m) => formatOf(m) === 1);
  if (oldPending.length === 0 && old.length === 0) return 0;
  const removeBlob = (m: SegmentMeta): KvWrite[] => legacy.remove!(segmentRefOf(m));
  for (const m of oldPending) {
    // Never readable: the entry and its blob go together.
    await engine.commit({ state: [{ writes: [...removeBlob(m), manifest.deleteWrite(m)], apply: () => manifest.pending.splice(manifest.pending.indexOf(m), 1) }] });
  }
  const codec = await loadSegmentCodec();
  const { encodeGroups, segmentBytes, segmentMeta } = await loadSegmentEncode();
  const slice = new TimeSlice();
  for (const m of old) {
    const t = catalog.tableById(m.table_id);
    if (!t) {
      // Its table was dropped and a crash came before the segment was deleted.
      await engine.commit({ state: [{ writes: [...removeBlob(m), manifest.deleteWrite(m)], apply: () => manifest.remove(m) }] });
      continue;
    }
    const bytes = await legacy.get(segmentKeyOf(m));
    if (!bytes) {
      throw new KalamError('STORAGE_ERROR', `Segment ${m.id} of table '${t.namespace}.${t.name}' is committed in the manifest but its data is missing: the storage was changed outside kalamlite`);
    }
    const rows = codec.decodeSegment(bytes, t);
    rows.sort(byKey(t));
    const made: SegmentMeta[] = [];
    const puts: { key: ReturnType<typeof segmentKeyOf>; groups: Uint8Array[] }[] = [];
    const { maxSegmentRows, rowGroupRows, rowPageRows } = cold.options;
    for (let start = 0; start < rows.length; start += maxSegmentRows) {
      const end = Math.min(rows.length, start + maxSegmentRows);
      const pageRows = codec.pageRowsFor(t, rowPageRows);
      const encoded = (await encodeGroups(codec, t, rows, start, end, rowGroupRows, pageRows, slice))!;
      const meta = segmentMeta(
        {
          ...m,
          id: `S${engine.seq.next()}`,
          row_count: end - start,
          schema_version: t.version,
          status: 'committed',
          format: SEGMENT_FORMAT,
        },
        t,
        encoded,
        codec,
        pageRows,
      );
      made.push(meta);
      puts.push({ key: segmentKeyOf(meta), groups: segmentBytes(codec, t, meta, encoded) });
    }
    await engine.commit({
      segments: { put: puts },
      state: [{
        writes: [...made.map((meta) => manifest.entryWrite(meta)), manifest.deleteWrite(m), ...removeBlob(m)],
        apply: () => {
          manifest.remove(m);
          for (const meta of made) manifest.add(meta);
        },
      }],
    });
  }
  return old.length;
}

function byKey(t: TableDef): (a: StoredRow, b: StoredRow) => number {
  const slot = t.pk >= 0 ? t.pk : seqSlot(t);
  return (a, b) => compareValues(a[slot], b[slot]);
}
