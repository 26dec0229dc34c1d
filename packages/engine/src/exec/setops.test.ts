import { describe, expect, it } from 'vitest';
import type { Tuple } from './context';
import { concatRows, exceptRows, intersectRows } from './setops';

const L: Tuple[] = [[1], [1], [1], [2], [null], [null], [3]];
const R: Tuple[] = [[1], [1], [null], [4]];

describe('set operators', () => {
  it('concatenates left then right', () => {
    expect([...concatRows([[1]], [[2], [3]])]).toEqual([[1], [2], [3]]);
  });

  it('INTERSECT yields each common row once; NULL equals NULL', () => {
    expect([...intersectRows(L, R, false)]).toEqual([[1], [null]]);
  });

  it('INTERSECT ALL yields a common row min(m, n) times', () => {
    expect([...intersectRows(L, R, true)]).toEqual([[1], [1], [null]]);
  });

  it('EXCEPT yields each left-only row once', () => {
    expect([...exceptRows(L, R, false)]).toEqual([[2], [3]]);
  });

  it('EXCEPT ALL yields a row max(m - n, 0) times', () => {
    expect([...exceptRows(L, R, true)]).toEqual([[1], [2], [null], [3]]);
  });

  it('treats 1 and 1n as the same value, and a bigger tuple by all its values', () => {
    expect([...intersectRows([[1, 'a'], [1, 'b']], [[1n, 'a']], false)]).toEqual([[1, 'a']]);
  });

  it('keeps rows apart whose text values hold NUL characters that would run into the next value', () => {
    expect([...exceptRows([['a\u0000sb', 'x']], [['a', 'b\u0000sx']], false)]).toEqual([['a\u0000sb', 'x']]);
    expect([...intersectRows([['a\u0000sb', 'x']], [['a', 'b\u0000sx']], false)]).toEqual([]);
  });
});
