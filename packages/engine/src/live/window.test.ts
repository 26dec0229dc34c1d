/**
 * LiveWindow on its own, through an instrumented environment: the partition
 * handed to a refill counts its scans, so a test fails when a refill runs
 * although nothing left the window. A model test walks random commits and,
 * after every single change, holds the window to its invariants: at most
 * `cap` rows, exactly the first `cap` matching rows in query order after
 * each commit, `hasMore` whenever rows lie beyond it (and false after a
 * read of the partition that found none), hidden (expired) rows never shown.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StoredRow, TableDef } from '../core/schema';
import type { Row, Value } from '../core/types';
import type { ExecContext } from '../exec/context';
import type { MaintainedQuery } from './analyze';
import { compareSort, identityKey, LiveWindow, shallowEqual, type RowCache, type WindowEnv } from './window';

// Stored row layout of the test table: id (the primary key), v, j (JSON), then _seq and _deleted.
const ID = 0;
const V = 1;
const J = 2;
const SEQ = 3;
const DEL = 4;

interface QueryShape {
  descending?: boolean;
  nullsFirst?: boolean;
  /** WHERE over the stored row; undefined: every row matches. */
  where?: (row: StoredRow) => Value;
  includeDeleted?: boolean;
  /** Project j too. */
  withJson?: boolean;
}

function makeQuery(shape: QueryShape = {}): MaintainedQuery {
  const where = shape.where;
  return {
    table: { id: 1, namespace: 'app', name: 't', type: 'STREAM', columns: [], pk: 0, options: {}, version: 1, createdAt: 0 } as TableDef,
    where: where ? (row) => where(row) : undefined,
    includeDeleted: shape.includeDeleted ?? false,
    keys: [
      { eval: (r) => r[V], descending: shape.descending ?? false, nullsFirst: shape.nullsFirst ?? false },
      { eval: (r) => r[ID], descending: false, nullsFirst: false },
    ],
    project: shape.withJson ? [(r) => r[ID], (r) => r[V], (r) => r[J]] : [(r) => r[ID], (r) => r[V]],
    names: shape.withJson ? ['id', 'v', 'j'] : ['id', 'v'],
    keySlot: ID,
    seqSlot: SEQ,
    deletedSlot: DEL,
    shape: () => 'shape',
  };
}

const CTX = { params: [], user: 'u', role: 'user', now: 0, snowflakeId: () => 0n, nextSeq: () => 0n } as ExecContext;

function makeEnv(shape: QueryShape = {}, hidden: ReadonlySet<number> = new Set(), extra: Partial<WindowEnv> = {}): WindowEnv {
  return { query: makeQuery(shape), ctx: CTX, shape: 'shape', isHidden: (row) => hidden.has(row[ID] as number), ...extra };
}

let nextSeq = 1n;
const row = (id: number, v: number | null, opts: { deleted?: boolean; j?: Value } = {}): StoredRow =>
  Object.freeze([id, v, opts.j ?? null, nextSeq++, opts.deleted ?? false]);

/** A partition (key → stored row) whose every read is counted: `scans` full passes, `visited` rows. */
class Partition {
  readonly rows = new Map<string, StoredRow>();
  scans = 0;
  visited = 0;

  constructor(rows: StoredRow[] = []) {
    for (const r of rows) this.put(r);
  }

  put(r: StoredRow): string {
    const key = identityKey(r[ID]);
    this.rows.set(key, r);
    return key;
  }

  remove(id: number): string {
    const key = identityKey(id);
    this.rows.delete(key);
    return key;
  }

  *[Symbol.iterator](): Iterator<[string, StoredRow]> {
    this.scans++;
    for (const e of this.rows) {
      this.visited++;
      yield e;
    }
  }
}

const ids = (w: LiveWindow) => w.entries.map((e) => e.id);
const outs = (w: LiveWindow) => w.entries.map((e) => e.out);

/** Applies one commit (puts and removals) to the partition and the window, then settles it. Returns the scans the settle made. */
function commit(w: LiveWindow, env: WindowEnv, p: Partition, ops: ({ put: StoredRow } | { remove: number })[]): number {
  for (const op of ops) {
    if ('put' in op) w.apply(env, p.put(op.put), op.put);
    else w.apply(env, p.remove(op.remove), null);
    expect(w.entries.length).toBeLessThanOrEqual(w.cap);
  }
  const before = p.scans;
  w.settle(env, p);
  return p.scans - before;
}

/** The identity keys of the rows the window holds, in window order. */
const keysOf = (w: LiveWindow): string[] => w.entries.map((e) => e.key);

describe('compareSort', () => {
  const asc = [{ eval: () => null, descending: false, nullsFirst: false }];
  const desc = [{ eval: () => null, descending: true, nullsFirst: false }];
  const nullsFirst = [{ eval: () => null, descending: false, nullsFirst: true }];
  it('orders by each key in turn, descending keys reversed, NULLs last or first as asked', () => {
    expect(compareSort(asc, [1], [2])).toBeLessThan(0);
    expect(compareSort(asc, [2], [1])).toBeGreaterThan(0);
    expect(compareSort(asc, [2], [2])).toBe(0);
    expect(compareSort(desc, [1], [2])).toBeGreaterThan(0);
    expect(compareSort(desc, [2], [1])).toBeLessThan(0);
    expect(compareSort(asc, [null], [1])).toBe(1);
    expect(compareSort(asc, [1], [null])).toBe(-1);
    expect(compareSort(nullsFirst, [null], [1])).toBe(-1);
    expect(compareSort(nullsFirst, [1], [null])).toBe(1);
    expect(compareSort(asc, [null], [null])).toBe(0);
    const two = [...asc, ...desc];
    expect(compareSort(two, [1, 5], [1, 3])).toBeLessThan(0);
    expect(compareSort(two, [1, 3], [1, 5])).toBeGreaterThan(0);
    expect(compareSort(two, [0, 3], [1, 5])).toBeLessThan(0);
    expect(compareSort(two, [1, 3], [1, 3])).toBe(0);
    // Objects equal by value compare equal, not by identity, and the next key decides.
    expect(compareSort(asc, [{ a: 1 }], [{ a: 1 }])).toBe(0);
    expect(compareSort(two, [new Uint8Array([7]), 3], [new Uint8Array([7]), 5])).toBeGreaterThan(0);
    expect(compareSort(two, [{ a: 1 }, 5], [{ a: 1 }, 3])).toBeLessThan(0);
  });
});

describe('shallowEqual and identityKey', () => {
  it('compares projected rows column by column, JSON and BYTES by value', () => {
    const r: Row = { a: 1, j: { x: [1] } };
    expect(shallowEqual(r, r)).toBe(true);
    expect(shallowEqual({ a: 1, j: { x: [1] } }, { a: 1, j: { x: [1] } })).toBe(true);
    expect(shallowEqual({ a: 1 }, { a: 2 })).toBe(false);
    expect(shallowEqual({ a: null }, { a: 0 })).toBe(false);
    expect(shallowEqual({ a: 0 }, { a: null })).toBe(false);
    expect(shallowEqual({ a: null }, { a: null })).toBe(true);
    expect(shallowEqual({ a: { x: 1 } }, { a: 'x' })).toBe(false);
    expect(shallowEqual({ a: 'x' }, { a: { x: 1 } })).toBe(false);
    expect(shallowEqual({ a: { x: 1 } }, { a: { x: 2 } })).toBe(false);
    expect(shallowEqual({ a: new Uint8Array([1]) }, { a: new Uint8Array([1]) })).toBe(true);
    expect(shallowEqual({ a: new Uint8Array([1]) }, { a: new Uint8Array([2]) })).toBe(false);
    // A value of another type is a change even where SQL comparison calls the two equal.
    expect(shallowEqual({ a: 1 }, { a: 1n })).toBe(false);
    expect(shallowEqual({ a: 1n }, { a: 1 })).toBe(false);
    expect(shallowEqual({ a: 2 }, { a: 2n })).toBe(false);
    expect(shallowEqual({ a: 'x' }, { a: 'y' })).toBe(false);
  });

  it('keys a row identity as the hot tier does', () => {
    expect(identityKey(5)).toBe('i5');
    expect(identityKey('a')).toBe('sa');
  });
});

describe('LiveWindow', () => {
  it('loads the first cap matching rows in query order; hasMore says whether more lie beyond', () => {
    const env = makeEnv();
    const p = new Partition([row(1, 30), row(2, 10), row(3, 20), row(4, 40)]);
    const w = new LiveWindow(3);
    w.load(env, p);
    expect(ids(w)).toEqual([2, 3, 1]);
    expect(outs(w)).toEqual([{ id: 2, v: 10 }, { id: 3, v: 20 }, { id: 1, v: 30 }]);
    expect(w.entries.every((e) => Object.isFrozen(e.out))).toBe(true);
    expect(w.hasMore).toBe(true);
    expect(keysOf(w).sort()).toEqual(['i1', 'i2', 'i3']);
    expect(w.entries[1].key).toBe('i3');

    const exact = new LiveWindow(4);
    exact.load(env, p);
    expect(ids(exact)).toEqual([2, 3, 1, 4]);
    expect(exact.hasMore).toBe(false);

    const roomy = new LiveWindow(10);
    roomy.load(env, p);
    expect(roomy.hasMore).toBe(false);
    expect(roomy.entries).toHaveLength(4);

    const all = new LiveWindow(Number.POSITIVE_INFINITY);
    all.load(env, p);
    expect(ids(all)).toEqual([2, 3, 1, 4]);
    expect(outs(all)).toEqual([{ id: 2, v: 10 }, { id: 3, v: 20 }, { id: 1, v: 30 }, { id: 4, v: 40 }]);
    expect(all.hasMore).toBe(false);
    expect(new Set(keysOf(all)).size).toBe(4);

    const none = new LiveWindow(0);
    none.load(env, p);
    expect(none.entries).toEqual([]);
    expect(none.hasMore).toBe(true);
  });

  it('a reload starts afresh: rows of the previous load are gone, hasMore recomputed', () => {
    const env = makeEnv();
    const w = new LiveWindow(2);
    w.load(env, new Partition([row(1, 1), row(2, 2), row(3, 3)]));
    expect(w.hasMore).toBe(true);
    w.load(env, new Partition([row(7, 7)]));
    expect(ids(w)).toEqual([7]);
    expect(keysOf(w)).toEqual(['i7']);
    expect(w.hasMore).toBe(false);
    const all = new LiveWindow(Number.POSITIVE_INFINITY);
    all.load(env, new Partition([row(1, 1), row(2, 2)]));
    all.load(env, new Partition([row(3, 3)]));
    expect(ids(all)).toEqual([3]);
  });

  it('never holds more than cap rows, whatever arrives in front of it', () => {
    const env = makeEnv();
    const p = new Partition([row(1, 100), row(2, 200), row(3, 300)]);
    const w = new LiveWindow(3);
    w.load(env, p);
    expect(w.hasMore).toBe(false);
    for (let v = 99; v > 90; v--) {
      const id = 1000 + v;
      expect(commit(w, env, p, [{ put: row(id, v) }])).toBe(0);
      expect(w.entries).toHaveLength(3);
      expect(new Set(keysOf(w)).size).toBe(3);
      expect(ids(w)[0]).toBe(id);
      expect(w.hasMore).toBe(true);
    }
    expect(ids(w)).toEqual([1091, 1092, 1093]);
  });

  it('fills a window that is not full from changes alone, without reading the partition', () => {
    const env = makeEnv();
    const p = new Partition();
    const w = new LiveWindow(3);
    w.load(env, p);
    expect(p.scans).toBe(1);
    expect(commit(w, env, p, [{ put: row(1, 5) }])).toBe(0);
    expect(commit(w, env, p, [{ put: row(2, 9) }])).toBe(0); // after the last entry, room left: appended
    expect(commit(w, env, p, [{ put: row(3, 1) }])).toBe(0); // before it: inserted
    expect(ids(w)).toEqual([3, 1, 2]);
    expect(w.hasMore).toBe(false);
    expect(commit(w, env, p, [{ put: row(4, 10) }])).toBe(0); // full: beyond the window
    expect(ids(w)).toEqual([3, 1, 2]);
    expect(w.hasMore).toBe(true);
    expect(p.scans).toBe(1);
  });

  it('refills once, with one pass over the partition, when a row leaves a full window with more beyond it', () => {
    const env = makeEnv();
    const p = new Partition([1, 2, 3, 4, 5, 6].map((i) => row(i, i * 10)));
    const w = new LiveWindow(3);
    w.load(env, p);
    const visited = p.visited;
    expect(commit(w, env, p, [{ remove: 2 }])).toBe(1);
    expect(p.visited - visited).toBe(5);
    expect(ids(w)).toEqual([1, 3, 4]);
    expect(w.hasMore).toBe(true);
    expect(w.isRefillDue).toBe(false);
    // Two rows leave in one commit: still one refill.
    expect(commit(w, env, p, [{ remove: 1 }, { put: row(3, null) }])).toBe(1);
    expect(ids(w)).toEqual([4, 5, 6]);
    expect(w.hasMore).toBe(true); // row 3 (NULL sorts last) lies beyond
    // The last row beyond leaves: the window stays full, no refill.
    expect(commit(w, env, p, [{ remove: 3 }])).toBe(0);
    expect(w.hasMore).toBe(true); // not known yet: nothing read the partition
    // A row leaves: the refill finds nothing more, and says so.
    expect(commit(w, env, p, [{ remove: 5 }])).toBe(1);
    expect(ids(w)).toEqual([4, 6]);
    expect(w.hasMore).toBe(false);
    // Now nothing lies beyond: more rows leaving never read the partition.
    expect(commit(w, env, p, [{ remove: 4 }])).toBe(0);
    expect(commit(w, env, p, [{ put: row(6, 61) }])).toBe(0);
    expect(commit(w, env, p, [{ remove: 6 }])).toBe(0);
    expect(w.entries).toEqual([]);
    expect(w.hasMore).toBe(false);
  });

  it('does not refill when the last row of a full window is updated without moving later', () => {
    const env = makeEnv();
    const p = new Partition([1, 2, 3, 4].map((i) => row(i, i * 10)));
    const w = new LiveWindow(2);
    w.load(env, p);
    expect(w.hasMore).toBe(true);
    const scans = p.scans;
    expect(commit(w, env, p, [{ put: row(2, 20) }])).toBe(0); // same place
    expect(commit(w, env, p, [{ put: row(2, 15) }])).toBe(0); // earlier
    expect(ids(w)).toEqual([1, 2]);
    expect(p.scans).toBe(scans);
    expect(commit(w, env, p, [{ put: row(2, 35) }])).toBe(1); // later: row 3 may come first
    expect(ids(w)).toEqual([1, 3]);
  });

  it('does not refill while nothing left the window: updates in place, changes beyond it, rows that stay', () => {
    const env = makeEnv({ where: (r) => r[V] !== null && (r[V] as number) < 1000 });
    const p = new Partition([1, 2, 3, 4, 5].map((i) => row(i, i)));
    const w = new LiveWindow(2);
    w.load(env, p);
    const scans = p.scans;
    expect(commit(w, env, p, [{ put: row(1, 1) }])).toBe(0); // new version, same place
    expect(commit(w, env, p, [{ put: row(2, 0) }])).toBe(0); // moves within the window
    expect(ids(w)).toEqual([2, 1]);
    expect(commit(w, env, p, [{ put: row(5, 50) }, { remove: 4 }, { put: row(9, 90) }])).toBe(0); // beyond it
    expect(commit(w, env, p, [{ put: row(3, 5000) }])).toBe(0); // beyond it, stops matching
    expect(p.scans).toBe(scans);
    expect(ids(w)).toEqual([2, 1]);
    expect(w.isRefillDue).toBe(false);
    expect(w.settle(env, p)).toBe(false);
    expect(p.scans).toBe(scans);
  });

  it('leaves the entries it handed out (a delivered result) as they were while it changes, and hands out its current ones next', () => {
    const env = makeEnv();
    const p = new Partition([row(1, 10), row(2, 20), row(3, 30)]);
    const w = new LiveWindow(3);
    w.load(env, p);
    const first = w.shareEntries();
    const firstEntries = [...first];
    // In front of the window (row 3 drops out), a row leaves (a refill brings 3 back), an update moves row 1.
    commit(w, env, p, [{ put: row(4, 5) }, { remove: 2 }, { put: row(1, 25) }]);
    expect(ids(w)).toEqual([4, 1, 3]);
    expect([...first]).toEqual(firstEntries);
    expect(first.map((e) => e.id)).toEqual([1, 2, 3]);
    const second = w.shareEntries();
    expect(second.map((e) => e.id)).toEqual([4, 1, 3]);
    commit(w, env, p, [{ remove: 4 }]);
    expect(ids(w)).toEqual([1, 3]);
    expect(second.map((e) => e.id)).toEqual([4, 1, 3]);
    expect(first.map((e) => e.id)).toEqual([1, 2, 3]);
  });

  it('starts empty with nothing beyond: a window never loaded fills from changes alone', () => {
    const env = makeEnv();
    const w = new LiveWindow(2);
    expect(ids(w)).toEqual([]);
    expect(w.hasMore).toBe(false);
    expect(w.apply(env, identityKey(5), row(5, 50))).toBe(true);
    expect(w.apply(env, identityKey(3), row(3, 30))).toBe(true);
    expect(ids(w)).toEqual([3, 5]);
    expect(w.hasMore).toBe(false);
  });

  it('reports whether a change changed the window, and a settle whether the refill did', () => {
    const env = makeEnv();
    // A new row appended to a window that is not full changes it.
    const grow = new LiveWindow(3);
    grow.load(env, new Partition([row(1, 1)]));
    expect(grow.apply(env, identityKey(2), row(2, 2))).toBe(true);
    expect(ids(grow)).toEqual([1, 2]);
    const p = new Partition([row(1, 1), row(2, 2), row(3, 3)]);
    const w = new LiveWindow(2);
    w.load(env, p);
    const same = p.rows.get('i1')!;
    expect(w.apply(env, 'i1', same)).toBe(false); // the version it holds
    expect(w.apply(env, p.put(row(9, 9)), p.rows.get('i9')!)).toBe(false); // beyond
    expect(w.apply(env, p.put(row(1, 1)), p.rows.get('i1')!)).toBe(true);
    expect(w.apply(env, 'i404', null)).toBe(false); // removing what it never held
    expect(w.apply(env, p.remove(2), null)).toBe(true);
    expect(w.isRefillDue).toBe(true);
    expect(w.settle(env, p)).toBe(true);
    expect(ids(w)).toEqual([1, 3]);
    expect(w.settle(env, p)).toBe(false);
    // A refill that finds nothing more changes nothing.
    expect(w.apply(env, p.remove(3), null)).toBe(true);
    expect(w.apply(env, p.remove(9), null)).toBe(false);
    expect(w.isRefillDue).toBe(true);
    expect(w.settle(env, p)).toBe(false);
    expect(w.hasMore).toBe(false);
    expect(w.settle(env, undefined)).toBe(false);
  });

  it('a settle without a partition reads nothing and leaves the window as the changes left it', () => {
    const env = makeEnv();
    const p = new Partition([row(1, 1), row(2, 2), row(3, 3)]);
    const w = new LiveWindow(2);
    w.load(env, p);
    w.apply(env, p.remove(1), null);
    expect(w.settle(env, undefined)).toBe(false);
    expect(ids(w)).toEqual([2]);
  });

  it('never shows a hidden (expired) row: not loaded, not refilled, not applied, dropped once hidden', () => {
    const hidden = new Set<number>([2, 5]);
    const env = makeEnv({}, hidden);
    const p = new Partition([1, 2, 3, 4, 5, 6].map((i) => row(i, i)));
    const w = new LiveWindow(3);
    w.load(env, p);
    expect(ids(w)).toEqual([1, 3, 4]);
    expect(commit(w, env, p, [{ remove: 1 }])).toBe(1);
    expect(ids(w)).toEqual([3, 4, 6]); // 5 is expired
    expect(w.apply(env, p.put(row(5, 0)), p.rows.get('i5')!)).toBe(false);
    expect(ids(w)).toEqual([3, 4, 6]);
    hidden.add(3); // expired now: its next version is not shown (and nothing lies beyond to refill from)
    expect(commit(w, env, p, [{ put: row(3, 3) }])).toBe(0);
    expect(ids(w)).toEqual([4, 6]);
    expect(w.hasMore).toBe(false);
    const all = new LiveWindow(Number.POSITIVE_INFINITY);
    all.load(env, p);
    expect(ids(all)).toEqual([4, 6]);
  });

  it('hides rows older than minSeq (lastRows) and tombstones unless the query reads _deleted', () => {
    const p = new Partition([row(1, 1), row(2, 2, { deleted: true }), row(3, 3)]);
    const floor = p.rows.get('i2')![SEQ] as bigint;
    const w = new LiveWindow(5);
    w.load(makeEnv({}, new Set(), { minSeq: floor }), p);
    expect(ids(w)).toEqual([3]);
    const withDeleted = new LiveWindow(5);
    withDeleted.load(makeEnv({ includeDeleted: true }), p);
    expect(ids(withDeleted)).toEqual([1, 2, 3]);
    const plain = new LiveWindow(5);
    plain.load(makeEnv(), p);
    expect(ids(plain)).toEqual([1, 3]);
    const exact = new LiveWindow(5);
    exact.load(makeEnv({}, new Set(), { minSeq: p.rows.get('i1')![SEQ] as bigint }), p);
    expect(ids(exact)).toEqual([1, 3]);
  });

  it('keeps only rows whose WHERE is true (not NULL, not false)', () => {
    const env = makeEnv({ where: (r) => (r[V] === null ? null : (r[V] as number) > 1) });
    const w = new LiveWindow(Number.POSITIVE_INFINITY);
    w.load(env, new Partition([row(1, 1), row(2, 2), row(3, null), row(4, 4)]));
    expect(ids(w)).toEqual([2, 4]);
  });

  it('orders by descending keys and NULLS FIRST, ties by identity', () => {
    const p = new Partition([row(1, 5), row(2, null), row(3, 7), row(4, 5)]);
    const desc = new LiveWindow(3);
    desc.load(makeEnv({ descending: true }), p);
    expect(ids(desc)).toEqual([3, 1, 4]);
    const nullsFirst = new LiveWindow(3);
    nullsFirst.load(makeEnv({ nullsFirst: true }), p);
    expect(ids(nullsFirst)).toEqual([2, 1, 4]);
    // A refill keeps the order too: the best rows not held, in order.
    const env = makeEnv({ descending: true });
    const w = new LiveWindow(2);
    w.load(env, p);
    expect(commit(w, env, p, [{ remove: 3 }])).toBe(1);
    expect(ids(w)).toEqual([1, 4]);
  });

  it('shares one output object per stored row and projection shape through the commit cache, and keeps an unchanged projection’s object', () => {
    const cache: RowCache = new Map();
    const env = makeEnv({ withJson: true }, new Set(), { cache });
    const p = new Partition([row(1, 1, { j: Object.freeze({ a: 1 }) as Value }), row(2, 2)]);
    const a = new LiveWindow(2);
    const b = new LiveWindow(2);
    a.load(env, p);
    b.load(env, p);
    expect(a.entries[0].out).toBe(b.entries[0].out);
    expect(a.entries[0].out).toEqual({ id: 1, v: 1, j: { a: 1 } });
    expect(cache.get(p.rows.get('i1')!)?.get('shape')).toBe(a.entries[0].out);
    // Another shape builds its own object.
    const other = new LiveWindow(2);
    other.load({ ...env, shape: 'other' }, p);
    expect(other.entries[0].out).not.toBe(a.entries[0].out);
    expect(other.entries[0].out).toEqual(a.entries[0].out);
    expect(cache.get(p.rows.get('i1')!)?.size).toBe(2);
    // A new version whose projection is equal keeps the object the client holds.
    const before = a.entries[0].out;
    a.apply(env, p.put(row(1, 1, { j: Object.freeze({ a: 1 }) as Value })), p.rows.get('i1')!);
    expect(a.entries[0].out).toBe(before);
    a.apply(env, p.put(row(1, 1, { j: Object.freeze({ a: 2 }) as Value })), p.rows.get('i1')!);
    expect(a.entries[0].out).toEqual({ id: 1, v: 1, j: { a: 2 } });
    expect(a.entries[0].out).not.toBe(before);
    // Without a cache every window builds its own.
    const plainEnv = makeEnv();
    const c = new LiveWindow(1);
    const d = new LiveWindow(1);
    c.load(plainEnv, p);
    d.load(plainEnv, p);
    expect(c.entries[0].out).not.toBe(d.entries[0].out);
    expect(c.entries[0].out).toEqual(d.entries[0].out);
  });

  it('hands out BYTES as a copy', () => {
    const bytes = new Uint8Array([1, 2]);
    const w = new LiveWindow(1);
    w.load(makeEnv({ withJson: true }), new Partition([row(1, 1, { j: bytes as unknown as Value })]));
    const out = w.entries[0].out.j as Uint8Array;
    expect(out).toEqual(bytes);
    expect(out).not.toBe(bytes);
  });
});

describe('LiveWindow against a model, checked after every change', () => {
  interface Model {
    cap: number;
    shape: QueryShape;
    hidden: number[];
    initial: { id: number; v: number | null; deleted: boolean }[];
    commits: { id: number; v: number | null; op: 'put' | 'tombstone' | 'remove' }[][];
  }
  const id = fc.integer({ min: 1, max: 12 });
  const v = fc.option(fc.integer({ min: 0, max: 9 }), { nil: null, freq: 5 });
  const model: fc.Arbitrary<Model> = fc.record({
    cap: fc.constantFrom(0, 1, 2, 3, 5, Number.POSITIVE_INFINITY),
    shape: fc.record({
      descending: fc.boolean(),
      nullsFirst: fc.boolean(),
      includeDeleted: fc.boolean(),
      where: fc.constantFrom(undefined, (r: StoredRow) => (r[V] === null ? null : (r[V] as number) % 3 !== 0)),
    }),
    hidden: fc.array(id, { maxLength: 3 }),
    initial: fc.array(fc.record({ id, v, deleted: fc.boolean() }), { maxLength: 12 }),
    commits: fc.array(fc.array(fc.record({ id, v, op: fc.constantFrom('put', 'put', 'tombstone', 'remove') }), { minLength: 1, maxLength: 3 }), { maxLength: 12 }),
  });

  /** The matching rows of the partition in query order, computed without the window's code. */
  function expected(p: Partition, m: Model): number[] {
    const matching = [...p.rows.values()].filter((r) => {
      if (!m.shape.includeDeleted && r[DEL] === true) return false;
      if (m.hidden.includes(r[ID] as number)) return false;
      return !m.shape.where || m.shape.where(r) === true;
    });
    const rank = (x: Value) => (x === null ? (m.shape.nullsFirst ? -Infinity : Infinity) : m.shape.descending ? -(x as number) : (x as number));
    matching.sort((a, b) => rank(a[V]) - rank(b[V]) || (a[ID] as number) - (b[ID] as number));
    return matching.map((r) => r[ID] as number);
  }

  it('holds at most cap rows, exactly the first cap matching ones after each commit, and reads the partition only when a row left', () => {
    fc.assert(
      fc.property(model, (m) => {
        const env = makeEnv(m.shape, new Set(m.hidden));
        const p = new Partition();
        for (const r of m.initial) p.put(row(r.id, r.v, { deleted: r.deleted }));
        const w = new LiveWindow(m.cap);
        w.load(env, p);
        let all = expected(p, m);
        expect(ids(w)).toEqual(all.slice(0, m.cap));
        expect(w.hasMore).toBe(all.length > m.cap);
        for (const ops of m.commits) {
          // Every row the window held at some point of the commit: a refill is due only if one of them left.
          const held = new Set(keysOf(w));
          for (const op of ops) {
            if (op.op === 'remove') w.apply(env, p.remove(op.id), null);
            else {
              const r = row(op.id, op.v, { deleted: op.op === 'tombstone' });
              w.apply(env, p.put(r), r);
            }
            expect(w.entries.length).toBeLessThanOrEqual(m.cap);
            expect(new Set(keysOf(w)).size).toBe(w.entries.length); // no row held twice
            for (const k of keysOf(w)) held.add(k);
          }
          const left = [...held].some((k) => !keysOf(w).includes(k));
          const scans = p.scans;
          w.settle(env, p);
          const scanned = p.scans - scans;
          expect(scanned).toBeLessThanOrEqual(left ? 1 : 0);
          all = expected(p, m);
          expect(ids(w)).toEqual(all.slice(0, m.cap));
          if (all.length > w.entries.length) expect(w.hasMore).toBe(true);
          if (scanned === 1) expect(w.hasMore).toBe(all.length > w.entries.length);
          expect(w.isRefillDue).toBe(false);
          for (const e of w.entries) expect(e.out).toEqual({ id: e.id, v: e.row[V] });
        }
      }),
      { numRuns: 1500, seed: 20261207 },
    );
  });
});
