import { describe, expect, it } from 'vitest';
import { seqAtMillis } from '../core/ids';
import type { SegmentMeta } from '../storage/cold/types';
import { isSmall, planCompaction } from './compact-plan';

const NOW = Date.UTC(2025, 0, 1);

/** A segment of `rows` rows over keys [lo, hi] at `level`. */
function seg(id: string, lo: number, hi: number, rows: number, level: 0 | 1, tombstones?: { count: number; ageMs: number }): SegmentMeta {
  return {
    id, table_id: 1, user_id: '', min_seq: 1n, max_seq: 2n, row_count: rows, size_bytes: 1, created_at: 0, column_stats: {},
    schema_version: 1, status: 'committed', hot_purged: true, format: 2, level,
    groups: { rows: [rows], offsets: [0], bytes: [1], min_seq: [1n], max_seq: [2n], key_min: [lo], key_max: [hi], columns: {} },
    tombstones: tombstones?.count ?? 0,
    tombstone_min_seq: tombstones ? seqAtMillis(NOW - tombstones.ageMs) : null,
  };
}

const ids = (list: SegmentMeta[]) => list.map((m) => m.id);
const plan = (segments: SegmentMeta[], rewriteUnknown = false) => {
  const p = planCompaction(segments, { rowGroupRows: 100, cutoffMs: NOW - 1000, rewriteUnknown });
  return { merges: p.merges.map(ids), moves: ids(p.moves) };
};

describe('planning a compaction', () => {
  it('merges overlapping level 0 segments with the level 1 segments they overlap, and nothing else', () => {
    const segments = [
      seg('a', 0, 99, 100, 1), seg('b', 100, 199, 100, 1), seg('c', 200, 299, 100, 1),
      seg('x', 120, 150, 50, 0), seg('y', 140, 210, 50, 0),
    ];
    expect(plan(segments)).toEqual({ merges: [['b', 'x', 'y', 'c']], moves: [] });
  });

  it('moves a level 0 segment that overlaps nothing to level 1 without rewriting it', () => {
    const segments = [seg('a', 0, 99, 100, 1), seg('x', 300, 399, 100, 0), seg('y', 150, 160, 60, 0), seg('z', 155, 170, 60, 0)];
    expect(plan(segments)).toEqual({ merges: [['y', 'z']], moves: ['x'] });
  });

  it('merges runs of small neighbours (half a row group or less), and small ones into an adjacent merge', () => {
    expect(isSmall(50, 100)).toBe(true);
    expect(isSmall(51, 100)).toBe(false);
    // Ever-growing keys: tiny flushes never overlap.
    const tiny = [seg('a', 0, 9, 10, 1), seg('b', 10, 19, 10, 0), seg('c', 20, 29, 10, 0), seg('d', 30, 39, 10, 0)];
    expect(plan(tiny)).toEqual({ merges: [['a', 'b', 'c', 'd']], moves: [] });
    // A lone small segment between two large ones stays (a level 0 one moves up).
    expect(plan([seg('a', 0, 99, 100, 1), seg('b', 100, 104, 5, 0), seg('c', 105, 199, 100, 1)])).toEqual({ merges: [], moves: ['b'] });
    expect(plan([seg('a', 0, 99, 100, 1), seg('b', 100, 104, 5, 1), seg('c', 105, 199, 100, 1)])).toEqual({ merges: [], moves: [] });
    // A small neighbour joins a merge next to it; a large clean one does not.
    const mixed = [seg('a', 0, 99, 100, 1), seg('b', 100, 104, 5, 1), seg('x', 105, 150, 60, 0), seg('y', 140, 199, 60, 0), seg('c', 200, 299, 100, 1)];
    expect(plan(mixed)).toEqual({ merges: [['b', 'x', 'y']], moves: [] });
  });

  it('rewrites a lone segment holding tombstones past retention; unknown counts only when asked', () => {
    const expired = [seg('a', 0, 99, 100, 1, { count: 3, ageMs: 5000 }), seg('b', 100, 199, 100, 1, { count: 3, ageMs: 10 })];
    expect(plan(expired)).toEqual({ merges: [['a']], moves: [] });
    const unknown = { ...seg('a', 0, 99, 100, 1), tombstones: undefined, tombstone_min_seq: undefined };
    expect(plan([unknown])).toEqual({ merges: [], moves: [] });
    expect(plan([unknown], true)).toEqual({ merges: [['a']], moves: [] });
  });

  it('leaves a partition in one clean sorted run as it is', () => {
    expect(plan([seg('a', 0, 99, 100, 1), seg('b', 100, 199, 100, 1)])).toEqual({ merges: [], moves: [] });
    expect(plan([])).toEqual({ merges: [], moves: [] });
  });

  it('treats segments sharing a boundary key as overlapping', () => {
    expect(plan([seg('a', 0, 99, 100, 1), seg('x', 99, 150, 60, 0)])).toEqual({ merges: [['a', 'x']], moves: [] });
  });
});
