/**
 * The rewrite of storage format 1 segments (segment-upgrade.ts), loaded by
 * an open that finds one (see core/lazy-module.ts): databases written by a
 * current build never fetch it.
 */
import { lazyModule } from '../core/lazy-module';
import { formatOf, type SegmentMeta } from '../storage/cold/types';

export const loadSegmentUpgrade = lazyModule('the format 1 segment upgrade', () => import('./segment-upgrade'));

/** Whether a manifest holds format 1 segments (committed or pending), which open must rewrite. */
export const hasFormat1 = (manifest: { all(): readonly SegmentMeta[]; pending: readonly SegmentMeta[] }) =>
  manifest.pending.some((m) => formatOf(m) === 1) || manifest.all().some((m) => formatOf(m) === 1);
