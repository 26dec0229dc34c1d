/**
 * What one compaction of a partition does, decided from the manifest alone
 * (no segment is read): which segments are merged together, and which
 * level 0 segments move to level 1 as they are.
 *
 * The partition's segments (both levels) are grouped into key-range
 * components: segments whose key ranges overlap, directly or through
 * others, are one component; components are disjoint and in key order.
 * Level 1 segments never overlap each other, so a component of two or more
 * segments holds a level 0 segment: it must be merged. A component of one
 * segment must be rewritten only when it holds tombstones past retention
 * (or, when asked, tombstones it never counted).
 *
 * Runs of neighbouring components that are each small (at most half a row
 * group's rows) or must be rewritten are merged together, so many small
 * flushes of ever-growing keys (ids, timestamps — they never overlap) end
 * as segments of more than half a row group, not as many tiny ones: a lone
 * small segment between two large ones stays, so small level 1 segments
 * are at most one more than the large ones. A lone level 0 segment that is not merged moves to level 1
 * without rewriting (a manifest-only change).
 *
 * Every segment holding a version of a key lies in that key's component,
 * so a merge sees every stored version of each of its keys: the newest
 * wins, and it may drop a tombstone past retention without an older
 * version coming back.
 */
import { seqMillis } from '../core/ids';
import { compareValues } from '../core/values';
import type { Value } from '../core/types';
import { levelOf, type SegmentMeta } from '../storage/cold/types';

export interface CompactionPlan {
  /** Groups of segments each merged into new level 1 segments: disjoint key ranges, in key order. */
  merges: SegmentMeta[][];
  /** Level 0 segments overlapping no other segment: moved to level 1 as they are. */
  moves: SegmentMeta[];
}

export interface PlanOptions {
  rowGroupRows: number;
  /** Tombstones written before this time (ms since the epoch, by their `_seq`) are past retention. */
  cutoffMs: number;
  /** Rewrite segments whose tombstones were never counted (written by an older build): STORAGE COMPACT does, automatic compaction does not. */
  rewriteUnknown: boolean;
  /** Segments rewritten even alone (those lacking an index record: segment-write.ts `segmentHooks.lacksRecords`). */
  rewrite?: (m: SegmentMeta) => boolean;
}

export const EMPTY_PLAN: CompactionPlan = Object.freeze({ merges: [], moves: [] }) as CompactionPlan;

export const isEmptyPlan = (p: CompactionPlan) => p.merges.length === 0 && p.moves.length === 0;

/** A segment's first and last key (format 2 groups are in key order). */
export function keyRange(m: SegmentMeta): [Value, Value] | undefined {
  const g = m.groups;
  if (!g || g.rows.length === 0) return undefined;
  return [g.key_min[0], g.key_max[g.rows.length - 1]];
}

/** Whether a segment holds a tombstone written before `cutoffMs` (unknown counts: `unknown`). */
export function hasExpiredTombstones(m: SegmentMeta, cutoffMs: number, unknown: boolean): boolean {
  if (m.tombstones === undefined || m.tombstone_min_seq === undefined) return unknown;
  return m.tombstones > 0 && m.tombstone_min_seq !== null && seqMillis(m.tombstone_min_seq) < cutoffMs;
}

/** Whether a segment this small (half a row group or less) is merged with its small neighbours. */
export const isSmall = (rows: number, rowGroupRows: number) => rows * 2 <= rowGroupRows;

interface Unit {
  segments: SegmentMeta[];
  rows: number;
  rewrite: boolean;
}

/**
 * The plan for one partition's committed segments (any order). Empty when
 * a segment has no key range to place it by (format 1: rewritten at open
 * before any compaction).
 */
export function planCompaction(segments: readonly SegmentMeta[], o: PlanOptions): CompactionPlan {
  const ranged: { m: SegmentMeta; lo: Value; hi: Value }[] = [];
  for (const m of segments) {
    const r = keyRange(m);
    if (!r) return EMPTY_PLAN;
    ranged.push({ m, lo: r[0], hi: r[1] });
  }
  ranged.sort((a, b) => compareValues(a.lo, b.lo));
  // Components: a sweep in key order, a segment joining the current one while it starts at or before its end.
  const units: Unit[] = [];
  let hi: Value = null;
  for (const s of ranged) {
    const last = units[units.length - 1];
    if (last && compareValues(s.lo, hi) <= 0) {
      last.segments.push(s.m);
      last.rows += s.m.row_count;
      last.rewrite = true;
      if (compareValues(s.hi, hi) > 0) hi = s.hi;
      continue;
    }
    units.push({ segments: [s.m], rows: s.m.row_count, rewrite: hasExpiredTombstones(s.m, o.cutoffMs, o.rewriteUnknown) || !!o.rewrite?.(s.m) });
    hi = s.hi;
  }
  const plan: CompactionPlan = { merges: [], moves: [] };
  const moveIfL0 = (u: Unit) => {
    for (const m of u.segments) if (levelOf(m) === 0) plan.moves.push(m);
  };
  let run: Unit[] = [];
  const endRun = () => {
    if (run.length === 0) return;
    if (run.length > 1 || run[0].rewrite) plan.merges.push(run.flatMap((u) => u.segments));
    else moveIfL0(run[0]);
    run = [];
  };
  for (const u of units) {
    if (u.rewrite || isSmall(u.rows, o.rowGroupRows)) {
      run.push(u);
      continue;
    }
    endRun();
    moveIfL0(u);
  }
  endRun();
  return plan;
}
