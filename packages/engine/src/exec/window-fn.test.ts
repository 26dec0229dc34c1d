import { describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import type { ExecContext, Tuple } from './context';
import { collect, newPace, PAUSE } from './pace';
import { DEFAULT_FRAME, windowRows, type FrameSpec, type WindowGroup } from './window-fn';

const rows = (n: number): Tuple[] => Array.from({ length: n }, (_, i) => [i, i % 4]);
const byGroupThenId: WindowGroup = {
  partitionBy: [(r) => r[1]],
  orderBy: [{ eval: (r) => r[0], descending: false, nullsFirst: false }],
  fns: [],
};
const whole: FrameSpec = { unit: 'ROWS', start: { kind: 'unboundedPreceding' }, end: { kind: 'unboundedFollowing' } };
const sliding: FrameSpec = { unit: 'ROWS', start: { kind: 'preceding', offset: () => 2 }, end: { kind: 'following', offset: () => 1 } };

function group(): WindowGroup {
  return {
    ...byGroupThenId,
    fns: [
      { name: 'ROW_NUMBER', args: [], frame: DEFAULT_FRAME, slot: 0 },
      { name: 'SUM', args: [(r) => r[0]], frame: whole, slot: 1 },
      { name: 'MAX', args: [(r) => r[0]], frame: sliding, slot: 2 },
    ],
  };
}

describe('the Window operator', () => {
  it('appends each function value to its row, in input order', () => {
    const out = collect(windowRows(rows(8), [group()], 3, {} as ExecContext));
    // partition 1 holds ids 1 and 5: row numbers 1, 2; sum 6; max over [p-2, p+1]: 5 for both
    expect(out[1]).toEqual([1, 1, 1, 6, 5]);
    expect(out[5]).toEqual([5, 1, 2, 6, 5]);
    expect(out.map((r) => r[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('yields PAUSE while it computes when the slice is used up, with the same rows as unpaced', () => {
    const input = rows(2_000);
    const plain = collect(windowRows(input, [group()], 3, {} as ExecContext));
    // The input holds no PAUSE: every PAUSE comes from the operator's own work.
    const out = [...windowRows(input, [group()], 3, { pace: newPace(0, 0) } as unknown as ExecContext)];
    expect(out.filter((r) => r === PAUSE).length).toBeGreaterThan(1_000);
    expect(collect(out)).toEqual(plain);
  });

  it('stops a cancelled statement while it computes (QUERY_CANCELLED), never after', () => {
    const signal = { isCancelled: false };
    const it = windowRows(rows(5_000), [group()], 3, { pace: newPace(0, 0, signal) } as unknown as ExecContext)[Symbol.iterator]();
    expect(it.next().value).toBe(PAUSE);
    signal.isCancelled = true;
    expect(() => { for (let r = it.next(); !r.done; r = it.next()); }).toThrow(KalamError);
  });

  it('passes the input\'s PAUSEs on and never stores them as rows', () => {
    const out = [...windowRows([PAUSE, [1, 1], PAUSE, [2, 1]], [group()], 3, {} as ExecContext)];
    expect(out.slice(0, 2)).toEqual([PAUSE, PAUSE]);
    expect(collect(out)).toEqual([[1, 1, 1, 3, 2], [2, 1, 2, 3, 2]]);
  });

  it('slides COUNT, MIN and MAX over ROWS frames to the same values as folding each frame', () => {
    // Values with NULLs and ties, one partition ordered by id.
    const input: Tuple[] = Array.from({ length: 60 }, (_, i) => [i, i % 7 === 3 ? null : (i * 37) % 11]);
    const bounds: [FrameSpec['start'], FrameSpec['end']][] = [];
    for (const a of [0, 1, 3]) for (const b of [0, 2]) {
      bounds.push([{ kind: 'preceding', offset: () => a }, { kind: 'following', offset: () => b }]);
      bounds.push([{ kind: 'following', offset: () => b }, { kind: 'following', offset: () => b + a }]);
    }
    bounds.push([{ kind: 'currentRow' }, { kind: 'unboundedFollowing' }]);
    const offset = (x: FrameSpec['start']) => (x.offset ? (x.offset([], {} as ExecContext) as number) : 0);
    for (const [start, end] of bounds) {
      const frame: FrameSpec = { unit: 'ROWS', start, end };
      const g: WindowGroup = {
        partitionBy: [],
        orderBy: [{ eval: (r) => r[0], descending: false, nullsFirst: false }],
        fns: (['COUNT', 'MIN', 'MAX'] as const).map((name, slot) => ({ name, args: [(r: Tuple) => r[1]], frame, slot })),
      };
      const out = collect(windowRows(input, [g], 3, {} as ExecContext));
      out.forEach((row, p) => {
        const s = Math.max(0, start.kind === 'preceding' ? p - offset(start) : p + offset(start));
        const e = Math.min(input.length - 1, end.kind === 'unboundedFollowing' ? input.length : p + offset(end));
        const vs = input.slice(s, e + 1).map((r) => r[1]).filter((v): v is number => v !== null);
        expect(row.slice(2)).toEqual([vs.length, vs.length ? Math.min(...vs) : null, vs.length ? Math.max(...vs) : null]);
      });
    }
  });
});
