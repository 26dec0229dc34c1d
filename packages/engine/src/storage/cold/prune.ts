/**
 * Segment pruning: which segments of a partition one execution must read,
 * given the simple conjuncts (`col op constant`) each of its scans of the
 * table has, judged against the manifest's per-column min/max/null count.
 *
 * Skipping a segment must never change a result. A segment whose rows all
 * fail a bound on the primary key is always safe to skip (every version of
 * those keys fails it too). A segment skipped only for a bound on another
 * column may still hold the newest version of a key an older, read segment
 * also holds; then it must be read so that version shadows the older one.
 * So skipped segments that may overlap a read older segment (by pk range and
 * `_seq`) are read as well, until nothing changes.
 */
import type { Value } from '../../core/types';
import { compareValues } from '../../core/values';
import type { ColumnStats, SegmentMeta } from './types';

export type BoundOp = '=' | '<' | '<=' | '>' | '>=' | 'in';

/** One conjunct `column op value(s)`; `key` is the column id as text, or `_seq`. */
export interface ScanBound {
  key: string;
  isPk: boolean;
  op: BoundOp;
  /** One value, or the IN list; never NULL. */
  values: readonly Value[];
}

/** What a scan knows: its bounds (all must hold), or `null` for an unbounded scan. */
export type ScanBounds = readonly ScanBound[] | null;

const family = (v: Value) => (typeof v === 'bigint' ? 'number' : typeof v);

/** False only when no row of a segment with these stats can satisfy the bound. */
export function boundMayMatch(stats: ColumnStats | undefined, b: ScanBound): boolean {
  if (!stats) return true; // no stats (a column added later, or an unordered type)
  const { min, max } = stats;
  if (min === null || max === null) {
    // Only nulls (comparisons fail), unless the column simply has no order (JSON, BYTES).
    return stats.null_count === 0;
  }
  for (const v of b.values) {
    if (family(v) !== family(min) || family(v) !== family(max)) return true; // a type the stats cannot judge
    const lo = compareValues(v, min);
    const hi = compareValues(v, max);
    switch (b.op) {
      case '=': case 'in': if (lo >= 0 && hi <= 0) return true; break;
      case '<': if (lo > 0) return true; break;
      case '<=': if (lo >= 0) return true; break;
      case '>': if (hi < 0) return true; break;
      case '>=': if (hi <= 0) return true; break;
    }
  }
  return false;
}

type Verdict = 'read' | 'skip-pk' | 'skip-other';

function judge(meta: SegmentMeta, bounds: ScanBounds): Verdict {
  if (!bounds) return 'read';
  let verdict: Verdict = 'read';
  for (const b of bounds) {
    if (boundMayMatch(meta.column_stats[b.key], b)) continue;
    if (b.isPk) return 'skip-pk';
    verdict = 'skip-other';
  }
  return verdict;
}

function overlaps(a: SegmentMeta, b: SegmentMeta, pkKey: string | undefined): boolean {
  if (pkKey === undefined) return true;
  const x = a.column_stats[pkKey];
  const y = b.column_stats[pkKey];
  if (!x || !y || x.min === null || x.max === null || y.min === null || y.max === null) return true;
  if (family(x.min) !== family(y.max) || family(y.min) !== family(x.max)) return true;
  return compareValues(x.min, y.max) <= 0 && compareValues(y.min, x.max) <= 0;
}

/**
 * The segments to read (a subset of `segments`, same order) for the union
 * of `scans`. `pkKey` is the primary key's stats key (undefined: no pk).
 */
export function selectSegments(segments: readonly SegmentMeta[], scans: readonly ScanBounds[], pkKey: string | undefined): SegmentMeta[] {
  const read = new Set<SegmentMeta>();
  for (const bounds of scans) {
    const own = new Set<SegmentMeta>();
    const maybe: SegmentMeta[] = [];
    for (const s of segments) {
      const v = judge(s, bounds);
      if (v === 'read') own.add(s);
      else if (v === 'skip-other') maybe.push(s);
    }
    // A skipped segment may hold a newer version of a key a read one holds.
    for (let changed = true; changed;) {
      changed = false;
      for (let i = 0; i < maybe.length; i++) {
        const p = maybe[i];
        for (const k of own) {
          if (k.min_seq < p.max_seq && overlaps(k, p, pkKey)) {
            own.add(p);
            maybe.splice(i--, 1);
            changed = true;
            break;
          }
        }
      }
    }
    for (const s of own) read.add(s);
  }
  return segments.filter((s) => read.has(s));
}
