import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredRow } from '../core/schema';
import type { Value } from '../core/types';
import { compareIndexValue, HotIndex, PENDING_MIN } from './hot-index';

// Rows of (id, a, b, _seq, _deleted); the index is on (a, b DESC).
const row = (id: number, a: Value, b: Value, deleted = false): StoredRow => Object.freeze([id, a, b, 1n, deleted]);
const index = () => new HotIndex([1, 2], [false, true], 4, (r) => r[0]);
const order = (x: HotIndex) => {
  const read = x.openRead();
  try {
    return read.entries.map((e) => e.k);
  } finally {
    read.release();
  }
};

describe('HotIndex', () => {
  it('orders by its columns in their directions, NULLs last ascending and first descending, then by key', () => {
    const x = index();
    x.build([row(1, 2, 'x'), row(2, null, 'a'), row(3, 1, 'a'), row(4, 1, 'z'), row(5, 1, null), row(6, 2, 'x'), row(7, 9, 'q', true)]);
    expect(order(x)).toEqual([5, 4, 3, 1, 6, 2]);
  });

  it('keeps the order through inserts, updates that move a row, deletes and tombstones', () => {
    const x = index();
    x.build([row(1, 1, 'a'), row(2, 2, 'a')]);
    x.put(3, undefined, row(3, 0, 'a'));
    x.put(1, row(1, 1, 'a'), row(1, 5, 'a'));
    x.put(2, row(2, 2, 'a'), row(2, 2, 'a', true));
    x.put(4, undefined, row(4, 5, 'b'));
    expect(order(x)).toEqual([3, 4, 1]);
    x.put(4, row(4, 5, 'b'), null);
    expect(order(x)).toEqual([3, 1]);
  });

  it('spans an equal prefix and ranges, and a read holds its arrays while the index changes', () => {
    const x = index();
    x.build([row(1, 1, 'a'), row(2, 1, 'b'), row(3, 2, 'a'), row(4, 3, 'a')]);
    expect(x.span({ tuple: [1], inclusive: true }, { tuple: [1], inclusive: true })).toEqual([0, 2]);
    expect(x.span({ tuple: [1], inclusive: false }, { tuple: [3], inclusive: false })).toEqual([2, 3]);
    expect(x.span({ tuple: [1, 'a'], inclusive: true }, { tuple: [1, 'a'], inclusive: true })).toEqual([1, 2]);
    const read = x.openRead();
    x.put(5, undefined, row(5, 0, 'a'));
    expect(read.entries.map((e) => e.k)).toEqual([2, 1, 3, 4]);
    read.release();
    expect(order(x)).toEqual([5, 2, 1, 3, 4]);
  });

  it('applies changes nobody reads once they outnumber its entries (pending changes are bounded)', () => {
    const x = index();
    x.build([]);
    for (let id = 0; id < PENDING_MIN * 3; id++) {
      x.put(id, undefined, row(id, id % 5, 'a'));
      expect(x.pendingCount).toBeLessThanOrEqual(Math.max(PENDING_MIN, id + 1));
    }
    expect(x.size).toBe(PENDING_MIN * 3);
  });

  it('equals a sort of the live rows after any sequence of changes (property)', () => {
    const op = fc.record({ id: fc.integer({ min: 0, max: 40 }), a: fc.option(fc.integer({ min: 0, max: 3 })), b: fc.option(fc.constantFrom('a', 'b', 'c')), kind: fc.constantFrom('set', 'set', 'tombstone', 'remove') });
    fc.assert(fc.property(fc.array(op, { minLength: 30, maxLength: 150 }), (ops) => {
      const x = index();
      const rows = new Map<number, StoredRow>();
      for (const [n, o] of ops.entries()) {
        if (n % 25 === 0) order(x); // a read now and then applies what is pending (up to 16 keys: splices; more: one merge)
        const before = rows.get(o.id);
        const after = o.kind === 'remove' ? null : row(o.id, o.a, o.b, o.kind === 'tombstone');
        x.put(o.id, before, after);
        if (after) rows.set(o.id, after);
        else rows.delete(o.id);
      }
      const expected = [...rows.values()].filter((r) => r[4] !== true).sort((p, q) => compareIndexValue(p[1], q[1]) || -compareIndexValue(p[2], q[2]) || (p[0] as number) - (q[0] as number)).map((r) => r[0]);
      expect(order(x)).toEqual(expected);
    }));
  });
});
