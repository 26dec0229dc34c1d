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
});
