/**
 * The rewrite of format 1 segments at open (segment-upgrade.ts), loaded
 * only by an open that finds one (see core/lazy-module.ts). Nothing else
 * may import './segment-upgrade' except as types.
 */
import { lazyModule } from '../core/lazy-module';
import { formatOf, type SegmentMeta } from '../storage/cold/types';

export const loadSegmentUpgrade = lazyModule('the rewrite of old segments', () => import('./segment-upgrade'));

/** Whether any entry (committed or not) is in storage format 1. */
export const hasFormat1 = (metas: readonly SegmentMeta[]): boolean => metas.some((m) => formatOf(m) === 1);
