import { describe, expect, it } from 'vitest';
import type { Row, Value } from '@kalamlite/engine';
import { contentKey } from './content-key';
import { shareRows } from './share';

/** A structured-clone copy: equal content, new objects (what crosses the worker boundary). */
function copy<T>(value: T): T {
  return structuredClone(value);
}

describe('shareRows', () => {
  it('keeps the previous object for a row whose content did not change', () => {
    const prev = shareRows(undefined, [{ id: 'a', n: 1 }, { id: 'b', n: 2 }]);
    const next = shareRows(prev, [{ id: 'a', n: 1 }, { id: 'b', n: 3 }]);
    expect(next[0]).toBe(prev[0]);
    expect(next[1]).not.toBe(prev[1]);
    expect(next[1]).toEqual({ id: 'b', n: 3 });
  });

  it('returns the previous array itself when nothing changed', () => {
    const prev = shareRows(undefined, [{ id: 'a' }, { id: 'b' }]);
    expect(shareRows(prev, copy(prev) as Row[])).toBe(prev);
    expect(shareRows(prev, prev)).toBe(prev);
  });

  it('returns a new array with the old row objects when rows are reordered', () => {
    const prev = shareRows(undefined, [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    const next = shareRows(prev, [{ id: 'c' }, { id: 'a' }, { id: 'b' }]);
    expect(next).not.toBe(prev);
    expect(next[0]).toBe(prev[2]);
    expect(next[1]).toBe(prev[0]);
    expect(next[2]).toBe(prev[1]);
  });

  it('returns a new array when a row is added or removed, keeping the others', () => {
    const prev = shareRows(undefined, [{ id: 'a' }, { id: 'b' }]);
    const grown = shareRows(prev, [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    expect(grown).not.toBe(prev);
    expect(grown[0]).toBe(prev[0]);
    expect(grown[1]).toBe(prev[1]);
    const shrunk = shareRows(grown, [{ id: 'b' }]);
    expect(shrunk).toEqual([{ id: 'b' }]);
    expect(shrunk[0]).toBe(prev[1]);
  });

  it('pairs equal duplicate rows with previous duplicates in order', () => {
    const prev = shareRows(undefined, [{ v: 1 }, { v: 1 }, { v: 2 }]);
    const next = shareRows(prev, [{ v: 2 }, { v: 1 }, { v: 1 }]);
    expect(next[0]).toBe(prev[2]);
    expect(next[1]).toBe(prev[0]);
    expect(next[2]).toBe(prev[1]);
    const more = shareRows(next, [{ v: 1 }, { v: 1 }, { v: 1 }]);
    expect(more[0]).toBe(next[1]);
    expect(more[1]).toBe(next[2]);
    expect(more[2]).not.toBe(next[1]);
    expect(more[2]).not.toBe(next[2]);
  });

  it('compares bigint, bytes and JSON values by content', () => {
    const rows = () => [
      { id: 1n, bytes: new Uint8Array([1, 2, 3]), doc: { a: [1, { b: null }], c: 'x' } },
      { id: 2n, bytes: new Uint8Array([]), doc: [true, 'y'] },
    ];
    const prev = shareRows(undefined, rows());
    expect(shareRows(prev, rows())).toBe(prev);

    const changed = rows();
    changed[0].bytes = new Uint8Array([1, 2, 4]);
    const next = shareRows(prev, changed);
    expect(next[0]).not.toBe(prev[0]);
    expect(next[1]).toBe(prev[1]);

    const bigger = rows();
    bigger[1].id = 3n;
    expect(shareRows(prev, bigger)[1]).not.toBe(prev[1]);
  });

  it('treats JSON objects with the same entries in another key order as equal', () => {
    const prev = shareRows(undefined, [{ doc: { a: 1, b: 2 } }]);
    expect(shareRows(prev, [{ doc: { b: 2, a: 1 } }])).toBe(prev);
  });

  it('does not confuse values of different types that print alike', () => {
    const prev = shareRows(undefined, [{ v: 1 }, { v: '1' }, { v: 1n }, { v: true }, { v: null }, { v: [1] }]);
    const next = shareRows(prev, [{ v: '1' }, { v: 1n }, { v: 1 }, { v: null }, { v: true }, { v: [1] }]);
    expect(next[0]).toBe(prev[1]);
    expect(next[1]).toBe(prev[2]);
    expect(next[2]).toBe(prev[0]);
    expect(next[3]).toBe(prev[4]);
    expect(next[4]).toBe(prev[3]);
    expect(next[5]).toBe(prev[5]);
  });

  it('freezes the result and its rows without freezing the input array', () => {
    const input = [{ id: 'a' }];
    const first = shareRows(undefined, input);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first[0])).toBe(true);
    expect(Object.isFrozen(input)).toBe(false);
    const second = shareRows(first, [{ id: 'a' }, { id: 'b' }]);
    expect(Object.isFrozen(second)).toBe(true);
    expect(Object.isFrozen(second[1])).toBe(true);
  });

  it('keeps an empty previous result when the next one is empty too', () => {
    const empty = shareRows(undefined, []);
    expect(shareRows(empty, [])).toBe(empty);
    expect(shareRows(shareRows(undefined, [{ id: 'a' }]), [])).toEqual([]);
  });

  it('shares every row of a large reordered result', () => {
    const n = 20_000;
    const build = () => Array.from({ length: n }, (_, i) => ({ id: i, title: `t${i}`, seq: BigInt(i) }));
    const prev = shareRows(undefined, build());
    const next = build().reverse();
    const shared = shareRows(prev, next);
    expect(shared[0]).toBe(prev[n - 1]);
    expect(shared[n - 1]).toBe(prev[0]);
    expect(shared.every((row, i) => row === prev[n - 1 - i])).toBe(true);
  });
});

describe('contentKey', () => {
  it('gives equal keys exactly to equal values', () => {
    const values: Value[] = [
      null, true, false, 0, -0, 1, 1.5, 11, '1', '11', '', 'a,b', '1;', 's1:1', 1n, -1n, 11n,
      [], [1], ['1'], [1, 1], [11], [[]], {}, { a: 1 }, { a: '1' }, { ab: 1 }, { a: 1, b: 1 },
      new Uint8Array([1]), new Uint8Array([16]), new Uint8Array([1, 1]), new Uint8Array([17]),
    ];
    const keys = values.map(contentKey);
    expect(new Set(keys).size).toBe(values.length);
    expect(contentKey(new Uint8Array([1, 2]))).toBe(contentKey(new Uint8Array([1, 2])));
    expect(contentKey({ x: [1n, { y: 'z' }] } as never)).toBe(contentKey({ x: [1n, { y: 'z' }] } as never));
  });
});
