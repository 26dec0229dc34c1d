/**
 * The result window of one maintained subscription: the first
 * `offset + limit` matching rows of its partition in query order (all of
 * them without LIMIT). Row changes are applied to it one by one; when rows
 * leave a full window it is refilled from the partition with a bounded
 * top-K scan for the best rows it does not hold — never by re-running the
 * query.
 *
 * Invariants: `entries` is sorted by `compare` (a total order: the last
 * key is the row identity); `entries.length <= cap`; every matching row of
 * the partition that is not in `entries` sorts after the last entry;
 * `hasMore` is false only when no such row exists. `entries` is never
 * changed in place once `shareEntries` handed it out (copy on write).
 */
import type { ExecContext } from '../exec/context';
import { isTrue, outputValue } from '../core/values';
import type { StoredRow } from '../core/schema';
import type { Row, Value } from '../core/types';
import { compareValues, hashKey } from '../core/values';
import type { MaintainedQuery, SortSpec } from './analyze';

export interface WindowEntry {
  /** Hash of the row identity (the hot tier's key). */
  key: string;
  /** The row identity: primary key, or `_seq` without one; the last sort key. */
  id: Value;
  row: StoredRow;
  /**
   * The values of the sort keys before the identity (the ORDER BY keys);
   * without ORDER BY the one shared empty array, so the most common live
   * query pays no array per row.
   */
  sort: readonly Value[];
  /** The projected, frozen output row (shared through `RowCache`). */
  out: Row;
}

/** Output rows built during one commit's fan-out: stored row → projection shape → row. */
export type RowCache = Map<StoredRow, Map<string, Row>>;

export interface WindowEnv {
  query: MaintainedQuery;
  ctx: ExecContext;
  /** This subscription's projection shape (see MaintainedQuery.shape). */
  shape: string;
  /** Rows must have `_seq >= minSeq` (lastRows); undefined: no floor. */
  minSeq?: bigint;
  /** Hides a row regardless of the query (expired STREAM rows); absent where no row can expire. */
  isHidden?: (row: StoredRow) => boolean;
  cache?: RowCache;
}

export function compareSort(keys: readonly SortSpec[], a: readonly Value[], b: readonly Value[]): number {
  // Stryker disable next-line EqualityOperator: past the last key both sides read undefined, which are ===, so `<=` changes nothing
  for (let i = 0; i < keys.length; i++) {
    const c = compareKey(keys[i], a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

function compareKey(k: SortSpec, x: Value, y: Value): number {
  if (x === y) return 0;
  if (x === null) return k.nullsFirst ? -1 : 1;
  if (y === null) return k.nullsFirst ? 1 : -1;
  const c = compareValues(x, y);
  return k.descending ? -c : c;
}

/** Orders two rows given as (sort values before the identity, identity): `compareSort` over `[...sort, id]`. */
function compareRows(keys: readonly SortSpec[], aSort: readonly Value[], aId: Value, bSort: readonly Value[], bId: Value): number {
  const last = keys.length - 1;
  for (let i = 0; i < last; i++) {
    const c = compareKey(keys[i], aSort[i], bSort[i]);
    if (c !== 0) return c;
  }
  return compareKey(keys[last], aId, bId);
}

const NO_SORT: readonly Value[] = Object.freeze([]);

/** A row's values of the sort keys before the identity (see WindowEntry.sort). */
function sortValues(env: WindowEnv, row: StoredRow): readonly Value[] {
  const keys = env.query.keys;
  if (keys.length === 1) return NO_SORT;
  const sort = new Array<Value>(keys.length - 1);
  for (let i = 0; i < sort.length; i++) sort[i] = keys[i].eval(row, env.ctx);
  return sort;
}

export const NO_ENTRIES: readonly WindowEntry[] = Object.freeze([]);

/** Windows up to this many entries find keys by a scan instead of a Map. */
const INDEX_MIN_ENTRIES = 8;

export class LiveWindow {
  /**
   * Read only outside this class. Replaced, not changed in place, while
   * shared (see shareEntries) — then by an array of exactly its length, so
   * a one-row window holds a one-slot array, not a grown one.
   */
  entries: readonly WindowEntry[] = NO_ENTRIES;
  /** `entries` was handed out by `shareEntries` (or is NO_ENTRIES): it must not change. */
  private isShared = true;
  /**
   * key → entry of `entries`, holding exactly the entries, once the window
   * has held more than INDEX_MIN_ENTRIES; smaller windows (most live
   * queries: one row, a short list) find a key by scanning `entries` and
   * pay no Map.
   */
  private index: Map<string, WindowEntry> | undefined;
  hasMore = false;

  constructor(readonly cap: number) {}

  /**
   * Rows left a full window with more beyond it: the next `settle` reads the
   * partition. Derived from the state, not remembered: a window that rows
   * left and then filled again from changes in front of it within the same
   * commit holds exactly the first `cap` rows, and reads nothing.
   */
  get isRefillDue(): boolean {
    return this.hasMore && this.entries.length < this.cap;
  }

  /**
   * The entries as they are now, kept by the caller (a delivered result):
   * the window copies its entries before it next changes them, so a
   * subscription whose result is its whole window holds no copy of it.
   */
  shareEntries(): readonly WindowEntry[] {
    this.isShared = true;
    return this.entries;
  }

  /** Removes the entry at `i` (in place unless shared); returns it. */
  private removeAt(i: number): WindowEntry {
    const e = this.entries[i];
    if (this.isShared) {
      this.entries = spliced(this.entries, i, 1, undefined);
      this.isShared = false;
    } else {
      (this.entries as WindowEntry[]).splice(i, 1);
    }
    return e;
  }

  /** Inserts `e` at `i` (in place unless shared). */
  private insertAt(i: number, e: WindowEntry): void {
    if (this.isShared) {
      this.entries = spliced(this.entries, i, 0, e);
      this.isShared = false;
    } else {
      (this.entries as WindowEntry[]).splice(i, 0, e);
    }
  }

  /** Appends `added` (sorted, all after the last entry) as one new array of exactly the resulting length. */
  private append(added: readonly WindowEntry[]): void {
    if (added.length === 0) return;
    this.entries = this.entries.concat(added);
    this.isShared = false;
    for (const e of added) this.remember(e);
  }

  /** Does the stored row belong to the result (ignoring the window)? */
  static matches(env: WindowEnv, row: StoredRow): boolean {
    const q = env.query;
    if (!q.includeDeleted && row[q.deletedSlot] === true) return false;
    // Stryker disable next-line ConditionalExpression: without a floor the comparison is `seq < undefined`, false for every bigint
    if (env.minSeq !== undefined && (row[q.seqSlot] as bigint) < env.minSeq) return false;
    if (env.isHidden?.(row)) return false;
    return !q.where || isTrue(q.where(row, env.ctx));
  }

  private entry(env: WindowEnv, key: string, row: StoredRow): WindowEntry {
    return { key, id: row[env.query.keySlot], row, sort: sortValues(env, row), out: project(env, row) };
  }

  private compare(env: WindowEnv, a: WindowEntry, b: WindowEntry): number {
    return compareRows(env.query.keys, a.sort, a.id, b.sort, b.id);
  }

  /** Index where `e` belongs (or is) in `entries`. */
  private position(env: WindowEnv, e: WindowEntry): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compare(env, this.entries[mid], e) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The entry of the row with this identity hash, if the window holds it. */
  private find(key: string): WindowEntry | undefined {
    if (this.index) return this.index.get(key);
    for (const e of this.entries) if (e.key === key) return e;
    return undefined;
  }

  /** Call after `e` joined `entries`. */
  private remember(e: WindowEntry): void {
    if (this.index) this.index.set(e.key, e);
    else if (this.entries.length > INDEX_MIN_ENTRIES) this.index = new Map(this.entries.map((x) => [x.key, x]));
  }

  /** Fills the window from the partition's rows (the first snapshot, or after ALTER). */
  load(env: WindowEnv, rows: Iterable<[string, StoredRow]>): void {
    this.entries = NO_ENTRIES;
    this.isShared = true;
    this.index = undefined;
    this.fill(env, rows); // sets hasMore
  }

  /** Adds the best matching rows not held yet, up to the cap; all sort after the current last entry. */
  private fill(env: WindowEnv, rows: Iterable<[string, StoredRow]>): void {
    const need = this.cap - this.entries.length;
    const q = env.query;
    // Stryker disable next-line ConditionalExpression,BlockStatement: a shortcut only — the bounded path below gives the same rows and hasMore for an infinite `need`, in quadratic time
    if (need === Number.POSITIVE_INFINITY) {
      // No LIMIT: every matching row, sorted once.
      const all: WindowEntry[] = [];
      for (const [key, row] of rows) {
        if (this.find(key) !== undefined || !LiveWindow.matches(env, row)) continue;
        all.push({ key, id: row[q.keySlot], row, sort: sortValues(env, row), out: EMPTY_ROW });
      }
      all.sort((a, b) => compareRows(q.keys, a.sort, a.id, b.sort, b.id));
      for (const e of all) e.out = project(env, e.row);
      this.append(all);
      this.hasMore = false;
      return;
    }
    // Bounded sorted buffer of candidates: buf.length <= need.
    const buf: WindowEntry[] = [];
    let candidates = 0;
    for (const [key, row] of rows) {
      if (this.find(key) !== undefined || !LiveWindow.matches(env, row)) continue;
      candidates++;
      if (need <= 0) break;
      const sort = sortValues(env, row);
      const id = row[q.keySlot];
      // A shortcut past rows that cannot make the buffer (the splice and pop below would drop them
      // too); sort keys end with the identity, so no two rows compare equal and `>= 0` is `> 0`.
      // Stryker disable next-line ConditionalExpression,EqualityOperator: a shortcut only, and no two rows compare equal (see above)
      if (buf.length === need && compareRows(q.keys, sort, id, buf[need - 1].sort, buf[need - 1].id) >= 0) continue;
      let lo = 0;
      let hi = buf.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        // Stryker disable next-line EqualityOperator: sort keys end with the identity, and the row is not in the buffer: never equal
        if (compareRows(q.keys, buf[mid].sort, buf[mid].id, sort, id) < 0) lo = mid + 1;
        else hi = mid;
      }
      buf.splice(lo, 0, { key, id, row, sort, out: EMPTY_ROW });
      if (buf.length > need) buf.pop();
    }
    for (const e of buf) e.out = project(env, e.row);
    this.append(buf);
    this.hasMore = candidates > buf.length;
  }

  /**
   * Applies one committed version (`row === null`: physically removed).
   * Returns whether the window changed.
   */
  apply(env: WindowEnv, key: string, row: StoredRow | null): boolean {
    const old = this.find(key);
    let changed = false;
    if (old) {
      if (old.row === row) return false;
      this.removeAt(this.position(env, old));
      this.index?.delete(key);
      changed = true;
    }
    if (row && LiveWindow.matches(env, row)) {
      const e = this.entry(env, key, row);
      // An unchanged projection keeps its row object: identity means "unchanged".
      if (old && shallowEqual(old.out, e.out)) e.out = old.out;
      const n = this.entries.length;
      // Every row beyond the window sorts after its last entry, and so after `old`, which was
      // in it: a new version that sorts no later than its old one stays in the window (an
      // update of the last row does not make the window read the partition again).
      // Stryker disable next-line EqualityOperator: `e` is not in `entries` (its old version left above) and identities differ, so it never compares equal to the last entry
      if ((n > 0 && this.compare(env, e, this.entries[n - 1]) < 0) || (old !== undefined && this.compare(env, e, old) <= 0)) {
        this.insertAt(this.position(env, e), e);
        this.remember(e);
        changed = true;
        if (this.entries.length > this.cap) {
          const dropped = this.removeAt(this.entries.length - 1);
          this.index?.delete(dropped.key);
          this.hasMore = true;
        }
      } else if (!this.hasMore && n < this.cap) {
        this.insertAt(n, e);
        this.remember(e);
        changed = true;
      } else {
        this.hasMore = true; // beyond the window (a refill considers it)
      }
    }
    return changed;
  }

  /** After a commit's changes: refills from the partition when rows left a window with more beyond it. */
  settle(env: WindowEnv, partition: Iterable<[string, StoredRow]> | undefined): boolean {
    if (!this.isRefillDue) return false;
    const before = this.entries.length;
    this.fill(env, partition ?? []);
    return this.entries.length !== before;
  }
}

const EMPTY_ROW: Row = Object.freeze({});

/** `a` with `remove` entries at `i` taken out and `e`, if given, put there: a new array of exactly the resulting length. */
function spliced(a: readonly WindowEntry[], i: number, remove: 0 | 1, e: WindowEntry | undefined): WindowEntry[] {
  const out = new Array<WindowEntry>(a.length - remove + (e === undefined ? 0 : 1));
  let j = 0;
  for (let k = 0; k < i; k++) out[j++] = a[k];
  if (e !== undefined) out[j++] = e;
  for (let k = i + remove; k < a.length; k++) out[j++] = a[k];
  return out;
}

function project(env: WindowEnv, row: StoredRow): Row {
  const cache = env.cache;
  let shapes = cache?.get(row);
  const hit = shapes?.get(env.shape);
  if (hit) return hit;
  const q = env.query;
  const o: Record<string, Value> = {};
  for (let i = 0; i < q.project.length; i++) {
    o[q.names[i]] = outputValue(q.project[i](row, env.ctx)); // deeply immutable: JSON sealed, BYTES copied
  }
  const out = Object.freeze(o);
  if (cache) {
    if (!shapes) cache.set(row, (shapes = new Map()));
    shapes.set(env.shape, out);
  }
  return out;
}

export function shallowEqual(a: Row, b: Row): boolean {
  // Stryker disable next-line ConditionalExpression: a shortcut only — the loop finds every column of a row equal to itself
  if (a === b) return true;
  for (const k in a) {
    const x = a[k];
    const y = b[k];
    if (x === y) continue;
    // Two values that are not === are equal only as JSON or BYTES of equal content: a primitive
    // differs (1 and 1n compare equal in SQL but are a change); compareValues ranks NULL and
    // primitives apart from objects, so an object never equals them.
    if (typeof x !== 'object' || compareValues(x, y) !== 0) return false;
  }
  return true;
}

/** The identity hash the hot tier keys a row by. */
export const identityKey = (id: Value): string => hashKey(id);
