import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Row } from '@kalamlite/engine';
import { applyPatch, diffRows } from './row-patch';

const row = (id: number): Row => Object.freeze({ id });

/** Rows as the engine shares them: a pool of objects, results as picks from it. */
function pool(size: number): Row[] {
  return Array.from({ length: size }, (_, i) => row(i));
}

describe('diffRows and applyPatch', () => {
  it('describe a one-row insert at the top of a window as one added row, nothing removed', () => {
    const rows = pool(21);
    const prev = rows.slice(1, 21);
    const next = [rows[0], ...rows.slice(1, 20)];
    const patch = diffRows(prev, next)!;
    expect(patch.added).toEqual([0]);
    expect(patch.rows).toEqual([rows[0]]);
    expect(patch.removed).toEqual([19]);
    expect(applyPatch(prev, patch)).toEqual(next);
  });

  it('keep every untouched row object in place', () => {
    const rows = pool(10);
    const prev = rows.slice(0, 5);
    const updated = row(2);
    const next = [rows[0], rows[1], updated, rows[3], rows[4]];
    const patch = diffRows(prev, next)!;
    expect(patch).toEqual({ length: 5, removed: [2], added: [2], rows: [updated] });
    const applied = applyPatch(prev, patch)!;
    for (const i of [0, 1, 3, 4]) expect(applied[i]).toBe(prev[i]);
    expect(applied[2]).toBe(updated);
  });

  it('refuse to patch when rows both results hold changed their relative order', () => {
    const rows = pool(3);
    expect(diffRows([rows[0], rows[1], rows[2]], [rows[2], rows[1], rows[0]])).toBeUndefined();
  });

  it('reject a patch that does not fit the rows it is applied to', () => {
    const rows = pool(3);
    expect(applyPatch([rows[0]], { length: 3, removed: [], added: [0], rows: [rows[1]] })).toBeUndefined();
  });

  it('round-trip any edit that keeps the relative order of surviving rows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { maxLength: 40 }),
        fc.array(fc.tuple(fc.nat(40), fc.nat(1000)), { maxLength: 10 }),
        (keep, inserts) => {
          const prev = pool(keep.length);
          const next: Row[] = prev.filter((_, i) => keep[i]);
          for (const [at, id] of inserts) next.splice(Math.min(at, next.length), 0, row(1000 + id));
          const patch = diffRows(prev, next);
          expect(patch).toBeDefined();
          const applied = applyPatch(prev, patch!)!;
          expect(applied).toHaveLength(next.length);
          for (let i = 0; i < next.length; i++) expect(applied[i]).toBe(next[i]);
          // Never larger than the edit: removed rows plus inserted ones.
          expect(patch!.removed.length).toBeLessThanOrEqual(keep.filter((k) => !k).length);
          expect(patch!.added.length).toBeLessThanOrEqual(inserts.length);
        },
      ),
      { numRuns: 500 },
    );
  });
});
