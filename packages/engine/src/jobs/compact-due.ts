/**
 * When a partition is due for compaction, and the options its plan is made
 * with (compact-plan.ts): shared by the triggers (compact.ts, in worker.js)
 * and the job (compact-merge.ts, loaded on first use).
 */
import type { TableDef } from '../core/schema';
import type { ColdTier } from '../storage/cold/cold-tier';
import { formatOf, levelOf, type SegmentMeta } from '../storage/cold/types';
import type { PlanOptions } from './compact-plan';
import { retentionHours } from './retention';
import { segmentHooks } from './segment-hooks';
import { hasExpiredTombstones } from './tombstone-age';

/** Why a compaction runs: the statement, a flush (level 0 segments reached compactL0Segments), or retention (cold tombstones past it). */
export type CompactTrigger = 'manual' | 'auto' | 'retention' | 'index_build';

type WithCold = { readonly cold: ColdTier };

const HOUR_MS = 3_600_000;

/** Tombstones written before this are past the table's retention at `now`. */
export const retentionCutoff = (t: TableDef, now: number) => now - retentionHours(t) * HOUR_MS;

/** Segments lacking a record of one of `t`'s indexes: every compaction rewrites them (writing their records). */
const lacks = (t: TableDef) => (m: SegmentMeta) => !!segmentHooks.lacksRecords?.(m, t);

/**
 * A partition's segments and the options to plan their compaction with;
 * undefined when there is nothing to plan: no segments, or one not format 2
 * or whose flush has not finished (its hot rows not purged).
 */
export function planInputs(engine: WithCold, t: TableDef, user: string, now: number, rewriteUnknown: boolean): [readonly SegmentMeta[], PlanOptions] | undefined {
  const segments = engine.cold.manifest.segments(t.id, user);
  if (segments.length === 0 || !segments.every((m) => formatOf(m) === 2 && m.hot_purged)) return undefined;
  const { rowGroupRows, maxSegmentRows } = engine.cold.options;
  return [segments, { rowGroupRows, maxSegmentRows, cutoffMs: retentionCutoff(t, now), rewriteUnknown, rewrite: lacks(t) }];
}

/** Whether a trigger compacts this partition now. */
export function isDue(engine: WithCold, t: TableDef, user: string, trigger: CompactTrigger, now: number): boolean {
  const segments = engine.cold.manifest.segments(t.id, user);
  if (segments.length === 0) return false;
  if (segments.some(lacks(t))) return true;
  switch (trigger) {
    case 'index_build': return false;
    case 'manual': return true;
    case 'auto': {
      const n = engine.cold.options.compactL0Segments;
      return n > 0 && segments.filter((m) => levelOf(m) === 0).length >= n;
    }
    case 'retention': {
      const cutoff = retentionCutoff(t, now);
      return segments.some((m) => hasExpiredTombstones(m, cutoff, false));
    }
  }
}
