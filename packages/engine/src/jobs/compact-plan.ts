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
 * Neighbouring components below maxSegmentRows rows (or that must be
 * rewritten) are packed, in key order, into groups of at most
 * maxSegmentRows rows, and a group of two or more is merged into one
 * segment when no member holds more than two thirds of its rows, or when
 * every member is tiny (half a row group or less), or one must be rewritten
 * anyway; a group failing that is split around its largest member and each
 * side is judged again. So flushes of ever-growing keys (ids, timestamps —
 * they never overlap) end as segments of nearly maxSegmentRows rows, not as
 * one segment per flush, and a row is rewritten only when the segment it
 * lands in is at least half as large again as the one it was in (at most
 * log1.5(maxSegmentRows / rows per flush) times), tiny tails aside. A lone
 * level 0 segment that is not merged moves to level 1 without rewriting (a
 * manifest-only change).
 *
 * Every segment holding a version of a key lies in that key's component,
 * so a merge sees every stored version of each of its keys: the newest
 * wins, and it may drop a tombstone past retention without an older
 * version coming back.
 */
import { compareValues } from '../core/values';
import type { Value } from '../core/types';
import { levelOf, type SegmentMeta } from '../storage/cold/types';
import { hasExpiredTombstones } from './tombstone-age';

export { hasExpiredTombstones };

export interface CompactionPlan {
  /** Groups of segments each merged into new level 1 segments: disjoint key ranges, in key order. */
  merges: SegmentMeta[][];
  /** Level 0 segments overlapping no other segment: moved to level 1 as they are. */
  moves: SegmentMeta[];
}

export interface PlanOptions {
  rowGroupRows: number;
  /** Rows per segment at most: neighbours are merged up to it. */
  maxSegmentRows: number;
  /** Tombstones written before this time (ms since the epoch, by their `_seq`) are past retention. */
  cutoffMs: number;
  /** Rewrite segments whose tombstones were never counted (written by an older build): STORAGE COMPACT does, automatic compaction does not. */
  rewriteUnknown: boolean;
  /** Segments rewritten even alone (those lacking an index record: segment-write.ts `segmentHooks.lacksRecords`). */
  rewrite?: (m: SegmentMeta) => boolean;
}

export const EMPTY_PLAN: CompactionPlan = Object.freeze({ merges: [], moves: [] }) as CompactionPlan;


/** A segment's first and last key (format 2 groups are in key order). */
export function keyRange(m: SegmentMeta): [Value, Value] | undefined {
  const g = m.groups;
  if (!g || g.rows.length === 0) return undefined;
  return [g.key_min[0], g.key_max[g.rows.length - 1]];
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
  const keep = (u: Unit) => {
    if (u.rewrite) plan.merges.push(u.segments);
    else for (const m of u.segments) if (levelOf(m) === 0) plan.moves.push(m);
  };
  const judge = (group: Unit[]): void => {
    if (group.length === 0) return;
    if (group.length === 1) return keep(group[0]);
    let rows = 0;
    let largest = 0;
    let tiny = true;
    let rewrite = false;
    for (let i = 0; i < group.length; i++) {
      const u = group[i];
      rows += u.rows;
      if (u.rows > group[largest].rows) largest = i;
      tiny &&= isSmall(u.rows, o.rowGroupRows);
      rewrite ||= u.rewrite;
    }
    if (rewrite || tiny || group[largest].rows * 3 <= rows * 2) {
      plan.merges.push(group.flatMap((u) => u.segments));
      return;
    }
    judge(group.slice(0, largest));
    keep(group[largest]);
    judge(group.slice(largest + 1));
  };
  let group: Unit[] = [];
  let groupRows = 0;
  for (const u of units) {
    // A component of more than two thirds of maxSegmentRows would hold more than two thirds of any group it fits in.
    const joins = u.rewrite || u.rows * 3 <= o.maxSegmentRows * 2;
    if (!joins || (group.length > 0 && groupRows + u.rows > o.maxSegmentRows)) {
      judge(group);
      group = [];
      groupRows = 0;
    }
    if (!joins) {
      keep(u);
      continue;
    }
    group.push(u);
    groupRows += u.rows;
  }
  judge(group);
  return plan;
}
