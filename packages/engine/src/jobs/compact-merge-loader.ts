/**
 * A compaction's planning and merge step (compact-plan.ts, compact-merge.ts),
 * loaded on first use — the first compaction or STORAGE COMPACT; a merge
 * loads the segment codec too (see core/lazy-module.ts). Nothing else may
 * import './compact-merge' or './compact-plan' except as types.
 */
import { lazyModule } from '../core/lazy-module';

export const loadCompactMerge = lazyModule("the compaction's merge step", () => import('./compact-merge'));
