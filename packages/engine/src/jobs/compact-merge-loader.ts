/**
 * A compaction's merge step (compact-merge.ts), loaded on first use — the
 * first compaction that merges segments, which loads the segment codec too
 * (see core/lazy-module.ts). Nothing else may import './compact-merge'
 * except as types.
 */
import { lazyModule } from '../core/lazy-module';

export const loadCompactMerge = lazyModule("the compaction's merge step", () => import('./compact-merge'));
