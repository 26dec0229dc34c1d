/**
 * Writing cold segments, shared by flush (flush.ts), compaction
 * (compact.ts) and the rewrite of old formats at open (segment-upgrade.ts):
 * the manifest changes every writer commits, removing segments, and the
 * hook that writes index records (the encoding itself: segment-encode.ts,
 * loaded with the jobs that write).
 */
import type { Catalog } from '../catalog/catalog';
import { lazyModule } from '../core/lazy-module';
import type { SeqGenerator } from '../core/ids';
import type { TableDef } from '../core/schema';
import type { ColdTier } from '../storage/cold/cold-tier';
import type { HotTier } from '../storage/hot-tier';
import type { EncodedRowGroup } from '../storage/cold/row-group';
import type { SegmentCodec } from '../storage/cold/segment-loader';
import { segmentRefOf, type SegmentMeta } from '../storage/cold/types';
import type { StateChange, UnitOfWork } from '../storage/unit-of-work';
import type { JobScheduler } from './scheduler';

/** Segment encoding (segment-encode.ts), loaded by the jobs that write segments: the flush job, compaction's merge, the format 1 rewrite. */
export const loadSegmentEncode = lazyModule('segment encoding', () => import('./segment-encode'));

/** What writing segments needs: the cold tier and the one commit path. */
export interface SegmentWriter {
  readonly cold: ColdTier;
  commit(unit: UnitOfWork): Promise<void>;
}

/** What a job that writes segments (a flush, a compaction) needs: the tiers, `_seq` for segment ids, the job queue, the write lock and the one commit path. */
export interface SegmentJobContext extends SegmentWriter {
  readonly catalog: Catalog;
  readonly hot: HotTier;
  readonly seq: SeqGenerator;
  readonly jobs: Pick<JobScheduler, 'enqueue' | 'active' | 'stopped'>;
  exclusive<T>(fn: () => Promise<T> | T): Promise<T>;
}


/** A manifest entry written (and, once committed, `apply` run). */
export function entryChange(cold: ColdTier, meta: SegmentMeta, apply: () => void = () => undefined): StateChange {
  return { writes: [cold.manifest.entryWrite(meta)], apply };
}

/** Removes an entry that never became readable (in_progress): its bytes first, then the entry, so a crash in between leaves only the entry. */
export async function removeEntry(engine: SegmentWriter, meta: SegmentMeta): Promise<void> {
  await engine.commit({ segments: { delete: [segmentRefOf(meta)] } });
  await engine.commit({ state: [{ writes: [engine.cold.manifest.deleteWrite(meta)], apply: () => undefined }] });
}

/** Step 3: deletes obsolete segments' bytes and entries in one unit (a file store: the files right after the commit). */
export async function deleteObsolete(engine: SegmentWriter, metas: readonly SegmentMeta[]): Promise<void> {
  if (metas.length === 0) return;
  const { cold } = engine;
  const ids = new Set(metas.map((m) => m.id));
  await engine.commit({
    segments: { delete: metas.map(segmentRefOf) },
    state: [{
      writes: metas.map((m) => cold.manifest.deleteWrite(m)),
      apply: () => {
        const list = cold.manifest.obsolete;
        for (let i = list.length - 1; i >= 0; i--) if (ids.has(list[i].id)) list.splice(i, 1);
        cold.cache.forget(ids);
      },
    }],
  });
}

/** Open: deletes segment files no committed entry refers to (a crash between writing them and committing their entry). */
export async function sweepSegmentFiles(engine: Pick<SegmentWriter, 'cold'>): Promise<number> {
  const { cold } = engine;
  if (!cold.store.list || !cold.store.delete) return 0;
  const referenced = new Set(cold.manifest.all().map((m) => `${m.table_id}\u0001${m.user_id}\u0001${m.id}`));
  for (const m of cold.manifest.pending) referenced.add(`${m.table_id}\u0001${m.user_id}\u0001${m.id}`);
  const stray = (await cold.store.list()).filter((k) => !referenced.has(`${k.tableId}\u0001${k.user}\u0001${k.segmentId}`));
  if (stray.length > 0) await cold.store.delete(stray.map((k) => ({ ...k, format: 2 as const, groups: 0 })));
  return stray.length;
}
