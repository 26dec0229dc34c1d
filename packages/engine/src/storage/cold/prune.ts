/**
 * Segment and row-group pruning: which row groups of a partition one execution must read,
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

/** False only when no row of a segment with these stats (and `rows` rows, when known) can satisfy the bound. */
export function boundMayMatch(stats: ColumnStats | undefined, b: ScanBound, rows?: number): boolean {
  if (!stats) return true; // no stats (a column added later, or an unordered type)
  const { min, max } = stats;
  if (min === null || max === null) {
    // Only nulls (comparisons fail), unless the column simply has no order (JSON, BYTES).
    return rows === undefined ? stats.null_count === 0 : stats.null_count < rows;
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
    if (boundMayMatch(meta.column_stats[b.key], b, meta.row_count)) continue;
    if (b.isPk) return 'skip-pk';
    verdict = 'skip-other';
  }
  return verdict;
}

/** Whether two segments' key ranges (`pkKey`'s stats) may share a key: true when either is not known. */
export function keyRangesOverlap(a: SegmentMeta, b: SegmentMeta, pkKey: string | undefined): boolean {
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
          if (k.min_seq < p.max_seq && keyRangesOverlap(k, p, pkKey)) {
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

/** One row group's stats for one bound's key (undefined: nothing known, so it may match). */
interface GroupStats {
  min: Value;
  max: Value;
  nulls: number;
  rows: number;
}

function groupStats(m: SegmentMeta, g: number, key: string, pkKey: string | undefined): GroupStats | undefined {
  const groups = m.groups!;
  const rows = groups.rows[g];
  if (key === pkKey) return { min: groups.key_min[g], max: groups.key_max[g], nulls: 0, rows };
  if (key === '_seq') return { min: groups.min_seq[g], max: groups.max_seq[g], nulls: 0, rows };
  const c = groups.columns[key];
  return c ? { min: c.min[g], max: c.max[g], nulls: c.nulls[g], rows } : undefined;
}

/** False only when no row of a group with these stats can satisfy the bound; a null min or max is not known. */
export function groupMayMatch(s: GroupStats | undefined, b: ScanBound): boolean {
  if (!s) return true;
  const { min, max } = s;
  if (min === null && max === null) return s.nulls < s.rows; // all nulls never compare; an unordered column may
  for (const v of b.values) {
    if ((min !== null && family(v) !== family(min)) || (max !== null && family(v) !== family(max))) return true;
    const lo = min === null ? 1 : compareValues(v, min);
    const hi = max === null ? -1 : compareValues(v, max);
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

function judgeGroup(m: SegmentMeta, g: number, bounds: ScanBounds, pkKey: string | undefined): Verdict {
  if (!bounds) return 'read';
  let verdict: Verdict = 'read';
  for (const b of bounds) {
    if (groupMayMatch(groupStats(m, g, b.key, pkKey), b)) continue;
    if (b.isPk) return 'skip-pk';
    verdict = 'skip-other';
  }
  return verdict;
}

/** A key list's values in key order, when all are of one family (the only lists keyListGroups can judge). */
function sortedKeys(b: ScanBound): Value[] | undefined {
  if (b.values.length === 0) return [];
  const f = family(b.values[0]);
  if (b.values.some((v) => family(v) !== f)) return undefined;
  return [...b.values].sort(compareValues);
}

/**
 * The groups of a segment that an `=` or IN bound on the key can reach
 * (`sorted`: its values in key order), ascending: the values within the
 * segment's key range found by binary search, then one binary search per
 * such value over the groups, which are in key order (RowGroupsMeta) —
 * where judging each group against each value would cost groups × values
 * comparisons. Undefined when the values are of a type the groups' keys
 * cannot judge.
 */
function keyListGroups(m: SegmentMeta, sorted: readonly Value[]): number[] | undefined {
  const groups = m.groups!;
  const n = groups.key_min.length;
  if (n === 0) return undefined;
  if (sorted.length === 0) return [];
  if (family(sorted[0]) !== family(groups.key_min[0])) return undefined;
  // The values from the segment's first key to its last.
  const first = groups.key_min[0];
  const last = groups.key_max[n - 1];
  let from = 0;
  let to = sorted.length;
  while (from < to) {
    const mid = (from + to) >>> 1;
    if (compareValues(sorted[mid], first) < 0) from = mid + 1;
    else to = mid;
  }
  to = sorted.length;
  let end = from;
  while (end < to) {
    const mid = (end + to) >>> 1;
    if (compareValues(sorted[mid], last) <= 0) end = mid + 1;
    else to = mid;
  }
  const out: number[] = [];
  let lo = 0;
  for (let i = from; i < end; i++) {
    const v = sorted[i];
    // The first group whose last key is not below v (values ascend: the search starts where the last one ended).
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareValues(groups.key_max[mid], v) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo < n && compareValues(groups.key_min[lo], v) <= 0 && out[out.length - 1] !== lo) out.push(lo);
  }
  return out;
}

function keysOverlap(a: SegmentMeta, i: number, b: SegmentMeta, j: number): boolean {
  const x = a.groups!;
  const y = b.groups!;
  try {
    return compareValues(x.key_min[i], y.key_max[j]) <= 0 && compareValues(y.key_min[j], x.key_max[i]) <= 0;
  } catch {
    return true;
  }
}

/** What row-group pruning chose for one partition. */
export interface GroupSelection {
  /** Per segment (format 2) that has any: the group indexes to read, ascending. */
  groups: Map<SegmentMeta, number[]>;
  /** Groups of the partition not read. */
  skipped: number;
}

/**
 * The row groups to read for the union of `scans` over format 2
 * `segments`. A group is skipped when its stats rule out a bound; one
 * skipped only for a bound on a non-key column is read anyway when it may
 * hold a newer version of a key a read group (of another segment) holds —
 * pk ranges overlap and it has a newer `_seq` — until nothing changes (the
 * shadowing closure, per row group).
 */
export function selectRowGroups(segments: readonly SegmentMeta[], scans: readonly ScanBounds[], pkKey: string | undefined): GroupSelection {
  const chosen = new Map<SegmentMeta, Set<number>>();
  let total = 0;
  for (const s of segments) total += s.groups?.rows.length ?? 0;
  for (const bounds of scans) {
    const own: [SegmentMeta, number][] = [];
    const maybe: [SegmentMeta, number][] = [];
    // A key list (or one key) reaches few groups: they are found by binary search, and judged only by the other bounds.
    const keys = bounds?.find((b) => b.isPk && (b.op === 'in' || b.op === '='));
    const sorted = keys ? sortedKeys(keys) : undefined;
    for (const s of segments) {
      const n = s.groups?.rows.length ?? 0;
      // The segment's own stats first: one verdict for all its groups when they rule it out.
      const whole = judge(s, bounds);
      if (whole === 'skip-pk') continue;
      const reached = keys && sorted && n > 0 ? keyListGroups(s, sorted) : undefined;
      const rest = reached ? bounds!.filter((b) => b !== keys) : bounds;
      const count = reached ? reached.length : n;
      for (let j = 0; j < count; j++) {
        const g = reached ? reached[j] : j;
        const v = whole === 'skip-other' ? 'skip-other' : judgeGroup(s, g, rest, pkKey);
        if (v === 'read') own.push([s, g]);
        else if (v === 'skip-other') maybe.push([s, g]);
      }
    }
    for (let changed = maybe.length > 0; changed;) {
      changed = false;
      for (let i = 0; i < maybe.length; i++) {
        const [p, pg] = maybe[i];
        const pMax = p.groups!.max_seq[pg];
        for (const [k, kg] of own) {
          if (k === p || !(k.groups!.min_seq[kg] < pMax) || !keysOverlap(k, kg, p, pg)) continue;
          own.push([p, pg]);
          maybe.splice(i--, 1);
          changed = true;
          break;
        }
      }
    }
    for (const [s, g] of own) {
      let set = chosen.get(s);
      if (!set) chosen.set(s, (set = new Set()));
      set.add(g);
    }
  }
  const groups = new Map<SegmentMeta, number[]>();
  let read = 0;
  for (const s of segments) {
    const set = chosen.get(s);
    if (!set) continue;
    const list = [...set].sort((a, b) => a - b);
    read += list.length;
    groups.set(s, list);
  }
  return { groups, skipped: total - read };
}
