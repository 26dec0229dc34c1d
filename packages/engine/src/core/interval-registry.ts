/**
 * Where INTERVAL's chunk (plan/interval-math.ts) registers as it loads, and
 * where the engine reaches it: see core/interval.ts for when it is loaded.
 */
import { KalamError } from './errors';
import { Interval } from './interval';
import type { TableDef } from './schema';
import type { DataType, Value } from './types';

/** What the INTERVAL chunk does, registered as it loads (plan/interval-math.ts). */
export interface IntervalMath {
  format(v: Interval): string;
  /** coerce() into an INTERVAL column or cast: text ('1 day 02:00', '-P1D'), or an Interval; TYPE_MISMATCH otherwise. */
  coerce(value: unknown, column: string): Interval;
  /** An Interval against another (by PostgreSQL's normalized span: 1 month = 30 days, 1 day = 24 h); undefined against anything else. */
  compare(a: Value, b: Value): number | undefined;
  /** Equal for intervals that compare equal ('1 mon' and '30 days'). */
  hashKey(v: Interval): string;
  /** `a op b` where an operand is an Interval or the plan typed one INTERVAL (or both timestamps, for `-`); `lt`/`rt` the static types. */
  arith(op: string, a: Value, b: Value, lt: DataType | undefined, rt: DataType | undefined): Value;
  negate(v: Interval): Interval;
  /** SUM/AVG's running sum with one more value, and AVG's result. */
  sum(sum: Value, v: Value): Interval;
  average(sum: Interval, count: number): Interval;
  /** A hot row read back from IndexedDB with its INTERVAL cells as Intervals again. */
  reviveRow(t: TableDef, row: Value[]): void;
  /** date_part / EXTRACT of an interval ('hour', '1 day 02:00' → 2); INVALID_PARAMETER for a unit an interval has not. */
  part(field: string, v: Interval): number;
  /** The static type of `a op b` when it is interval arithmetic (timestamp - timestamp, timestamp ± interval, interval * number, …). */
  resultType(op: string, a: DataType | undefined, b: DataType | undefined): DataType | undefined;
}

let registered: IntervalMath | undefined;

export function registerIntervalMath(m: IntervalMath): void {
  registered = m;
  Interval.format = m.format;
}

/**
 * The static type of `a op b` when it is interval arithmetic; undefined
 * while the chunk is not loaded (no INTERVAL value exists then, and the
 * loader loads it for a statement that may subtract timestamps).
 */
export const intervalResultType = (op: string, a: DataType | undefined, b: DataType | undefined): DataType | undefined => registered?.resultType(op, a, b);

/** The loaded INTERVAL code; a statement reaching it unloaded is a bug in loadSqlExtensions. */
export function intervalMath(): IntervalMath {
  if (!registered) throw new KalamError('UNSUPPORTED', 'INTERVAL code not loaded (a bug): please report the statement');
  return registered;
}
