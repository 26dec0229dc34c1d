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
const plan = (segments: SegmentMeta[], rewriteUnknown = false, maxSegmentRows = 100) => {
  const p = planCompaction(segments, { rowGroupRows: 100, maxSegmentRows, cutoffMs: NOW - 1000, rewriteUnknown });
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
    // A small neighbour joins a merge next to it when the merge stays within maxSegmentRows; a full one does not.
    const mixed = [seg('a', 0, 99, 100, 1), seg('b', 100, 104, 5, 1), seg('x', 105, 150, 40, 0), seg('y', 140, 199, 40, 0), seg('c', 200, 299, 100, 1)];
    expect(plan(mixed)).toEqual({ merges: [['b', 'x', 'y']], moves: [] });
    const over = [seg('a', 0, 99, 100, 1), seg('b', 100, 104, 5, 1), seg('x', 105, 150, 60, 0), seg('y', 140, 199, 60, 0), seg('c', 200, 299, 100, 1)];
    expect(plan(over)).toEqual({ merges: [['x', 'y']], moves: [] });
  });

  it('packs neighbours below maxSegmentRows into merges of at most maxSegmentRows rows', () => {
    // Nine flushes of 30 rows of growing keys: three merges of 90 rows, not nine segments.
    const flushes = Array.from({ length: 9 }, (_, i) => seg(`s${i}`, i * 30, i * 30 + 29, 30, i < 5 ? 1 : 0));
    expect(plan(flushes)).toEqual({ merges: [['s0', 's1', 's2'], ['s3', 's4', 's5'], ['s6', 's7', 's8']], moves: [] });
  });

  it('does not rewrite a large segment for a small addition: the largest member holds at most two thirds of a merge', () => {
    // 90 + 10: the 90 rows would be rewritten for 10 new ones.
    expect(plan([seg('a', 0, 89, 90, 1), seg('x', 90, 99, 10, 0)], false, 200)).toEqual({ merges: [], moves: ['x'] });
    // The group is split around its largest member and each side judged again.
    const sides = [seg('p', 0, 19, 20, 0), seg('q', 20, 39, 20, 0), seg('a', 40, 169, 130, 1), seg('x', 170, 179, 10, 0), seg('y', 180, 189, 10, 0)];
    expect(plan(sides, false, 200)).toEqual({ merges: [['p', 'q'], ['x', 'y']], moves: [] });
    // 60 + 40: merged (60 is at most two thirds of 100).
    expect(plan([seg('a', 0, 59, 60, 1), seg('x', 60, 99, 40, 0)], false, 200)).toEqual({ merges: [['a', 'x']], moves: [] });
  });

  it('flushes of growing keys end near ceil(rows / maxSegmentRows) segments, each row rewritten a few times at most (a model of the job)', () => {
    // A model of the job: a flush of f rows adds a level 0 segment; every 4 of them a compaction runs the plan
    // (a merge of r rows writes ceil(r / max) level 1 segments cut evenly; a move changes the level).
    const max = 65_536;
    for (const f of [9_000, 20_000, 3_000, 500]) {
      let segments: SegmentMeta[] = [];
      let next = 0;
      let rewritten = 0;
      let n = 0;
      const flushes = Math.ceil(1_000_000 / f);
      for (let i = 0; i < flushes; i++) {
        segments.push(seg(`f${n++}`, next, next + f - 1, f, 0));
        next += f;
        if (segments.filter((m) => m.level === 0).length < 4 && i < flushes - 1) continue;
        const p = planCompaction(segments, { rowGroupRows: 2048, maxSegmentRows: max, cutoffMs: 0, rewriteUnknown: false });
        const gone = new Set([...p.merges.flat(), ...p.moves].map((m) => m.id));
        const out = segments.filter((m) => !gone.has(m.id));
        for (const m of p.moves) out.push({ ...m, level: 1 });
        for (const group of p.merges) {
          const rows = group.reduce((r, m) => r + m.row_count, 0);
          rewritten += rows;
          const lo = Math.min(...group.map((m) => m.groups!.key_min[0] as number));
          const k = Math.ceil(rows / max);
          for (let j = 0; j < k; j++) {
            const size = Math.floor(rows / k) + (j < rows % k ? 1 : 0);
            const start = lo + j * Math.floor(rows / k) + Math.min(j, rows % k);
            out.push(seg(`m${n++}`, start, start + size - 1, size, 1));
          }
        }
        segments = out;
      }
      const total = flushes * f;
      expect(segments.reduce((r, m) => r + m.row_count, 0)).toBe(total);
      // 1,000,000 rows in segments of at most 65,536: 16 at best.
      expect(segments.length, `flushes of ${f}`).toBeLessThanOrEqual(Math.ceil(total / max) + 4);
      expect(rewritten / total, `flushes of ${f}`).toBeLessThanOrEqual(5);
    }
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
