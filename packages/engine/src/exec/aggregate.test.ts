import { describe, expect, it } from 'vitest';
import type { Value } from '../core/types';
import { aggregate, type AggregateSpec } from './aggregate';
import type { ExecContext, Tuple } from './context';
import { PAUSE } from './pace';

const ctx = {} as ExecContext;
const col = (i: number) => (row: Tuple) => row[i];
const count: AggregateSpec = { name: 'COUNT', distinct: false };
const sum: AggregateSpec = { name: 'SUM', arg: col(1), distinct: false };

describe('aggregate', () => {
  it('groups by one column of mixed types in order of first appearance, SQL-equal keys together', () => {
    const rows: Tuple[] = [['b', 1], [1, 2], [null, 3], ['a', 4], [1n, 5], ['b', 6], [null, 7], ['1', 8]];
    expect([...aggregate(rows, [col(0)], [count, sum], ctx)]).toEqual([
      ['b', 2, 7], [1, 2, 7], [null, 2, 10], ['a', 1, 4], ['1', 1, 8],
    ]);
  });

  it('groups by several columns, and passes PAUSE through', () => {
    const rows: Tuple[] = [['x', 1, 1], PAUSE as unknown as Tuple, ['x', 2, 1], ['x', 1, 5]];
    const out = [...aggregate(rows, [col(0), col(1)], [count, { name: 'SUM', arg: col(2), distinct: false }], ctx)];
    expect(out).toEqual([PAUSE, ['x', 1, 2, 6], ['x', 2, 1, 1]]);
  });

  it('counts only the rows a FILTER holds for, and yields one row for no input without GROUP BY', () => {
    const filtered: AggregateSpec = { name: 'COUNT', distinct: false, filter: (row) => (row[1] as number) > 2 };
    expect([...aggregate([['a', 1], ['a', 3]] as Tuple[], [col(0)], [count, filtered], ctx)]).toEqual([['a', 2, 1]]);
    expect([...aggregate([] as Tuple[], [], [count], ctx)]).toEqual([[0]]);
    expect([...aggregate([] as Tuple[], [col(0)], [count], ctx)] as Value[][]).toEqual([]);
  });
});
