/**
 * `generate_series(start, stop[, step])` as a row source (PostgreSQL §9.26,
 * Table 9.67): integers (INT, or BIGINT when an argument is one) or
 * numbers with fractions (DOUBLE), from start while not past stop, step 1
 * by default; no rows when step points away from stop or an argument is
 * NULL; a zero step is an error. The row count is known from the
 * arguments and checked against maxSeriesRows before the first row; rows
 * stream (nothing is collected). A SQL extension, loaded before the first
 * statement whose text says generate_series (execute/sql-extensions.ts);
 * plan/select.ts plans the query sql/convert-from.ts made of it here.
 */
import { KalamError } from '../core/errors';
import type { ColumnInfo, DataType, Value } from '../core/types';
import type { ExecContext, Tuple } from '../exec/context';
import { paced } from '../exec/pace';
import type { Expr } from '../sql/ast';
import { limitExceeded, SQL_LIMIT_DEFAULTS } from '../sql/limits';
import { isFloatType, isIntType, staticType } from './arith';
import type { QueryPlan } from './block';
import { compileExpr } from './compile';
import { describe, exprText } from './explain';
import type { Scope } from './scope';

/** The column's type from the arguments' static types. */
function seriesType(types: readonly (DataType | undefined)[]): DataType {
  if (types.some((t) => t === 'TIMESTAMP' || t === 'DATE')) {
    throw new KalamError('UNSUPPORTED', 'generate_series() over timestamps (an INTERVAL step) is not supported yet: generate integers and add them, e.g. generate_series(0, 6) AS d(n) with start + n * 86400000');
  }
  for (const t of types) {
    if (t !== undefined && !isIntType(t) && !isFloatType(t) && t !== 'DECIMAL') {
      throw new KalamError('TYPE_MISMATCH', `generate_series() takes numbers (start, stop[, step]), got ${t}`);
    }
  }
  if (types.some((t) => isFloatType(t) || t === 'DECIMAL')) return 'DOUBLE';
  return types.some((t) => t === 'BIGINT') ? 'BIGINT' : 'INT';
}

function number(v: Value, what: string): number | bigint {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return /^\s*-?\d+\s*$/.test(v) ? BigInt(v.trim()) : Number(v);
  throw new KalamError('TYPE_MISMATCH', `generate_series() ${what} must be a number, got ${typeof v}`);
}

export function planSeries(call: Extract<Expr, { kind: 'call' }>, column: string, scope: Scope): QueryPlan {
  if (call.args.length < 2 || call.args.length > 3) {
    throw new KalamError('INVALID_SQL', `generate_series() takes (start, stop[, step]), got ${call.args.length} argument${call.args.length === 1 ? '' : 's'}`);
  }
  const type = seriesType(call.args.map((a) => staticType(a, scope)));
  const [start, stop, step] = call.args.map((a) => compileExpr(a, scope));
  const columns: ColumnInfo[] = [{ name: column, type }];
  function* series(ctx: ExecContext): Generator<Tuple> {
    const row: Tuple = [];
    const s = start(row, ctx);
    const e = stop(row, ctx);
    const by = step ? step(row, ctx) : 1;
    if (s === null || e === null || by === null) return;
    const [a, b, d] = [number(s, 'start'), number(e, 'stop'), number(by, 'step')];
    if (Number(d) === 0) throw new KalamError('INVALID_PARAMETER', 'generate_series(): step size cannot equal zero');
    const isFloat = type === 'DOUBLE' || [a, b, d].some((x) => typeof x === 'number' && !Number.isInteger(x));
    const max = ctx.limits?.maxSeriesRows ?? SQL_LIMIT_DEFAULTS.maxSeriesRows;
    if (isFloat) {
      // On integers scaled by the arguments' decimal places, so 1.1 + 1.3 is 2.4 as numeric's is (not 2.4000000000000004).
      const scale = 10 ** Math.max(...[a, b, d].map(places));
      const [x, y, z] = [Number(a), Number(b), Number(d)].map((n) => Math.round(n * scale));
      const count = Math.floor((y - x) / z) + 1;
      if (count > max) throw tooMany(count, max);
      for (let i = 0; i < count; i++) yield [(x + i * z) / scale];
      return;
    }
    const [x, y, z] = [BigInt(a), BigInt(b), BigInt(d)];
    const away = z > 0n ? x > y : x < y; // BigInt division truncates toward zero: the empty case is decided first
    const count = away ? 0n : (y - x) / z + 1n;
    if (count > BigInt(max)) throw tooMany(Number(count), max);
    const asBigint = type === 'BIGINT';
    for (let v = x, i = 0n; i < count; i++, v += z) yield [asBigint ? v : Number(v)];
  }
  const detail = `generate_series(${call.args.map(exprText).join(', ')})`;
  return { columns, rows: describe((ctx: ExecContext) => paced(series(ctx), ctx), () => ({ operator: 'Function scan', detail, children: [] })) };
}

/** Decimal places of a number as written in the shortest form (0 when it has an exponent: too many to scale). */
function places(n: number | bigint): number {
  const m = /\.(\d+)$/.exec(String(n));
  return m && m[1].length <= 12 ? m[1].length : 0;
}

function tooMany(count: number, max: number): KalamError {
  return limitExceeded('maxSeriesRows', `generate_series() of ${count.toLocaleString('en-US')} rows`, max);
}
