/**
 * Evaluators for subqueries used as expressions: a scalar `(SELECT …)`,
 * `EXISTS (SELECT …)` and `x [NOT] IN (SELECT …)`.
 *
 * A correlated subquery runs again for every outer row, with that row
 * pushed onto `ctx.outer`. An uncorrelated one runs once per execution
 * context: its result is kept in a WeakMap keyed by the context, so the
 * entry goes away with the execution and nothing grows per row.
 */
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import { hashKey, valueFamily } from '../core/values';
import type { Evaluator, ExecContext, Tuple } from '../exec/context';
import type { NestedQuery } from './scope';
import { PAUSE } from '../exec/pace';

/** The context a subquery runs in for one outer row. */
export function withOuterRow(ctx: ExecContext, row: Tuple): ExecContext {
  return { ...ctx, outer: ctx.outer ? [...ctx.outer, row] : [row] };
}

/** Runs `compute` once per execution context when the subquery is not correlated. */
function perContext<T>(q: NestedQuery, compute: (row: Tuple, ctx: ExecContext) => T): (row: Tuple, ctx: ExecContext) => T {
  if (q.correlated) return compute;
  // One entry per live execution context; entries are dropped with their context.
  const cache = new WeakMap<ExecContext, { value: T }>();
  return (row, ctx) => {
    let hit = cache.get(ctx);
    if (!hit) {
      hit = { value: compute(row, ctx) };
      cache.set(ctx, hit);
    }
    return hit.value;
  };
}

function oneColumn(q: NestedQuery, what: string): void {
  if (q.columns.length !== 1) {
    throw new KalamError('INVALID_SQL', `A subquery used ${what} must return exactly one column; this one returns ${q.columns.length}`);
  }
}

/** `(SELECT …)` as a value: NULL for no row, an error for more than one. */
export function scalarSubquery(q: NestedQuery): Evaluator {
  oneColumn(q, 'as an expression');
  return perContext(q, (row, ctx) => {
    let value: Value = null;
    let seen = 0;
    for (const t of q.rows(withOuterRow(ctx, row))) {
      if (t === PAUSE) continue; // a subquery inside an expression cannot give the thread away
      if (++seen > 1) {
        throw new KalamError(
          'INVALID_SQL',
          'more than one row returned by a subquery used as an expression: make it return one row (a WHERE on a key, an aggregate, or LIMIT 1)',
        );
      }
      value = t[0];
    }
    return value;
  });
}

/** EXISTS: true as soon as the subquery yields a row; never NULL. */
export function existsSubquery(q: NestedQuery): Evaluator {
  return perContext(q, (row, ctx) => {
    for (const t of q.rows(withOuterRow(ctx, row))) if (t !== PAUSE) return true;
    return false;
  });
}

/** The values an uncorrelated IN subquery returned, with a hash index when they are of one kind. */
interface ValueSet {
  count: number;
  hasNull: boolean;
  values: Value[];
  /** Family ('n' number/bigint, 's' string, 'b' boolean) when every non-null value shares one. */
  family?: string;
  keys?: Set<string>;
}

/** A family whose hash keys decide `=` (valueFamily), or undefined for JSON and BYTES. */
const familyOf = (v: Value): string | undefined => {
  const f = valueFamily(v);
  return f === 'o' ? undefined : f;
};

function collect(rows: Iterable<Tuple>): ValueSet {
  const set: ValueSet = { count: 0, hasNull: false, values: [] };
  let family: string | undefined | null = null; // null: no value yet
  for (const t of rows) {
    if (t === PAUSE) continue;
    set.count++;
    const v = t[0];
    if (v === null) { set.hasNull = true; continue; }
    set.values.push(v);
    const f = familyOf(v);
    family = family === null || family === f ? f : undefined;
  }
  if (family) {
    set.family = family;
    set.keys = new Set(set.values.map(hashKey));
  }
  return set;
}

/**
 * `arg [NOT] IN (SELECT …)` as Postgres: false (NOT IN: true) over no rows,
 * even for a NULL `arg`; otherwise NULL when `arg` is NULL, or when nothing
 * matched and the subquery returned a NULL. `equals` is `=`'s equality.
 */
export function inSubquery(arg: Evaluator, q: NestedQuery, negated: boolean, equals: (a: Value, b: Value) => boolean): Evaluator {
  oneColumn(q, 'with IN');
  const decide = (matched: boolean, count: number, hasNull: boolean, v: Value): Value => {
    if (count === 0) return negated;
    if (v === null) return null;
    if (matched) return !negated;
    return hasNull ? null : negated;
  };
  if (q.correlated) {
    return (row, ctx) => {
      const v = arg(row, ctx);
      let count = 0;
      let hasNull = false;
      for (const t of q.rows(withOuterRow(ctx, row))) {
        if (t === PAUSE) continue;
        count++;
        const x = t[0];
        if (x === null) { hasNull = true; continue; }
        if (v !== null && equals(v, x)) return !negated;
        if (v === null) break; // NULL IN (non-empty): NULL whatever the rows are
      }
      return decide(false, count, hasNull, v);
    };
  }
  const setOf = perContext(q, (row, ctx) => collect(q.rows(withOuterRow(ctx, row))));
  return (row, ctx) => {
    const v = arg(row, ctx);
    const set = setOf(row, ctx);
    if (v === null || set.count === 0) return decide(false, set.count, set.hasNull, v);
    const matched = set.keys && familyOf(v) === set.family ? set.keys.has(hashKey(v)) : set.values.some((x) => equals(v, x));
    return decide(matched, set.count, set.hasNull, v);
  };
}
