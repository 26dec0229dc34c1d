/**
 * Hash join on `leftKey = rightKey` with `=`'s own equality: the build side
 * (right) is bucketed by value family (number/bigint, text, boolean, other)
 * and hash key. A probe of the same family matches by hash key alone, which
 * is `=` for those families; a probe of another family (text against
 * numbers, as `'1' = 1` compares) looks up the keys that value can equal and
 * confirms each candidate with `equals`, so a hash join returns exactly the
 * rows a nested-loop join over the same condition would.
 */
import type { Value } from '../core/types';
import { hashKey, isTrue, valueFamily } from '../core/values';
import type { Evaluator, ExecContext, Tuple } from './context';
import { keepsLeft, keepsRight, unmatchedRight, type JoinKind } from './operators';
import { PAUSE } from './pace';

type Family = ReturnType<typeof valueFamily>;

const INTEGER_TEXT = /^\s*-?\d+\s*$/;

/**
 * A number's key in the number family's buckets: the number itself (Map
 * keys compare by SameValueZero, so NaN meets NaN and -0 meets 0, as `=`
 * has them), and a bigint's own number when it is exactly one — `=`
 * compares a bigint and a number exactly, so one that no number equals
 * keeps a text key of its own. No key text is built for most rows.
 */
function numberKey(v: number | bigint): number | string {
  if (typeof v === 'number') return v;
  const n = Number(v);
  return BigInt(n) === v ? n : `i${v}`;
}

type Key = number | string | boolean;

/** A value's bucket key within its family: text and booleans as they are, numbers by numberKey, other values by hashKey. */
function keyOf(v: Value, f: Family): Key {
  return f === 'n' ? numberKey(v as number | bigint) : f === 'o' ? hashKey(v) : (v as string | boolean);
}

/** The number-family keys text `s` can equal under `=` (none when it is not a number). */
function numericKeysOf(s: string): Key[] {
  if (s.trim() === '' || Number.isNaN(Number(s))) return [];
  const asNumber = numberKey(Number(s));
  if (!INTEGER_TEXT.test(s)) return [asNumber];
  const asBigint = numberKey(BigInt(s.trim()));
  return asBigint === asNumber ? [asNumber] : [asNumber, asBigint];
}

/** The boolean text `s` equals under `=` ('t'/'true'/'f'/'false', any case). */
function booleanKeyOf(s: string): boolean | undefined {
  const l = s.toLowerCase();
  return l === 'true' || l === 't' ? true : l === 'false' || l === 'f' ? false : undefined;
}

type Buckets = Map<Key, Tuple[]>;

function add(map: Buckets, key: Key, row: Tuple): void {
  const bucket = map.get(key);
  if (bucket) bucket.push(row);
  else map.set(key, [row]);
}

/** The build side: rows by family and key, and (built on first need) text rows by the numbers and booleans they can equal. */
class BuildSide {
  readonly byFamily = new Map<Family, Buckets>();
  private textAsNumber?: Buckets;
  private textAsBoolean?: Buckets;

  constructor(private readonly key: Evaluator) {}

  add(row: Tuple, ctx: ExecContext): void {
    const k = this.key(row, ctx);
    if (k === null) return;
    const f = valueFamily(k);
    let map = this.byFamily.get(f);
    if (!map) this.byFamily.set(f, (map = new Map()));
    add(map, keyOf(k, f), row);
  }

  /** Text rows indexed by the numbers (`asNumber`) or booleans they read as. */
  private textIndex(asNumber: boolean, ctx: ExecContext): Buckets {
    const existing = asNumber ? this.textAsNumber : this.textAsBoolean;
    if (existing) return existing;
    const out: Buckets = new Map();
    for (const rows of this.byFamily.get('s')?.values() ?? []) {
      for (const row of rows) {
        const text = this.key(row, ctx) as string;
        if (asNumber) for (const k of numericKeysOf(text)) add(out, k, row);
        else {
          const k = booleanKeyOf(text);
          if (k !== undefined) add(out, k, row);
        }
      }
    }
    if (asNumber) this.textAsNumber = out;
    else this.textAsBoolean = out;
    return out;
  }

  /**
   * The build rows `v` may equal: `exact` ones equal it (same family, same
   * key); the others are candidates the caller confirms with `=`.
   */
  probe(v: Value, ctx: ExecContext, visit: (row: Tuple, exact: boolean) => void): void {
    const f = valueFamily(v);
    const h = keyOf(v, f);
    const same = this.byFamily.get(f)?.get(h);
    if (same) for (const row of same) visit(row, f !== 'o');
    if (f === 's') {
      const text = v as string;
      const numbers = this.byFamily.get('n');
      if (numbers) for (const k of numericKeysOf(text)) for (const row of numbers.get(k) ?? []) visit(row, false);
      const booleans = this.byFamily.get('b');
      const b = booleans ? booleanKeyOf(text) : undefined;
      if (b !== undefined) for (const row of booleans!.get(b) ?? []) visit(row, false);
    } else if ((f === 'n' || f === 'b') && this.byFamily.has('s')) {
      for (const row of this.textIndex(f === 'n', ctx).get(h) ?? []) visit(row, false);
    }
  }
}

/**
 * Hash join on `leftKey = rightKey`; `residual` filters matched pairs (the
 * rest of the condition). The right side is the build side. `equals` is
 * `=`'s equality of two non-null values. LEFT and FULL keep each left row
 * no pair matched (right columns NULL); RIGHT and FULL then add each right
 * row no pair matched, a NULL key's row included (left columns NULL).
 */
export function* hashJoin(
  left: Iterable<Tuple>,
  right: Iterable<Tuple>,
  leftKey: Evaluator,
  rightKey: Evaluator,
  residual: Evaluator | undefined,
  kind: Exclude<JoinKind, 'cross'>,
  rightWidth: number,
  equals: (a: Value, b: Value) => boolean,
  ctx: ExecContext,
  leftWidth = 0,
): Generator<Tuple> {
  // Lives for one execution: the build side of the join; for RIGHT/FULL every right row, and those matched.
  const build = new BuildSide(rightKey);
  const all: Tuple[] | undefined = keepsRight(kind) ? [] : undefined;
  const matchedRight = all ? new Set<Tuple>() : undefined;
  for (const r of right) {
    if (r === PAUSE) yield r;
    else {
      build.add(r, ctx);
      all?.push(r);
    }
  }
  const nulls = new Array<Value>(rightWidth).fill(null);
  const matches: Tuple[] = [];
  for (const l of left) {
    if (l === PAUSE) {
      yield l;
      continue;
    }
    const k = leftKey(l, ctx);
    let matched = false;
    if (k !== null) {
      matches.length = 0;
      build.probe(k, ctx, (r, exact) => {
        if (exact || equals(k, rightKey(r, ctx)!)) matches.push(r);
      });
      for (const r of matches) {
        const row = (l as Value[]).concat(r as Value[]);
        if (residual && !isTrue(residual(row, ctx))) continue;
        matched = true;
        matchedRight?.add(r);
        yield row;
      }
    }
    if (!matched && keepsLeft(kind)) yield (l as Value[]).concat(nulls);
  }
  if (all) yield* unmatchedRight(all, (i) => matchedRight!.has(all[i]), leftWidth);
}

/**
 * Inner hash join on `leftKey = rightKey` that builds on the smaller side:
 * the left rows are gathered first (pauses pass through); when there are no
 * more of them than `rightEstimate`, they are the build side and the right
 * rows probe them, so a big relation joined to a few rows is scanned once
 * and never hashed. Otherwise the right side is built, as hashJoin does.
 * Tuples are left ++ right either way; their order follows the probe side.
 */
export function* innerHashJoin(
  left: Iterable<Tuple>,
  right: () => Iterable<Tuple>,
  leftKey: Evaluator,
  rightKey: Evaluator,
  residual: Evaluator | undefined,
  rightEstimate: number,
  rightWidth: number,
  equals: (a: Value, b: Value) => boolean,
  ctx: ExecContext,
): Generator<Tuple> {
  // Lives for one execution: the rows joined so far.
  const rows: Tuple[] = [];
  for (const l of left) {
    if (l === PAUSE) yield l;
    else rows.push(l);
  }
  if (rows.length > rightEstimate) {
    yield* hashJoin(rows, right(), leftKey, rightKey, residual, 'inner', rightWidth, equals, ctx);
    return;
  }
  if (rows.length === 0) return;
  const build = new BuildSide(leftKey);
  for (const l of rows) build.add(l, ctx);
  const matches: Tuple[] = [];
  for (const r of right()) {
    if (r === PAUSE) {
      yield r;
      continue;
    }
    const k = rightKey(r, ctx);
    if (k === null) continue;
    matches.length = 0;
    build.probe(k, ctx, (l, exact) => {
      if (exact || equals(leftKey(l, ctx)!, k)) matches.push(l);
    });
    for (const l of matches) {
      const row = (l as Value[]).concat(r as Value[]);
      if (residual && !isTrue(residual(row, ctx))) continue;
      yield row;
    }
  }
}
