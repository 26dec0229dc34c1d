/**
 * INTERVAL's chunk (loaded by execute/sql-extensions.ts, registered with
 * core/interval-registry.ts): arithmetic, ordering and functions as
 * PostgreSQL has them (§9.9). Timestamps are milliseconds since the epoch
 * (UTC), dates 'YYYY-MM-DD' text; an interval's months and days move a
 * timestamp by the calendar ('2024-01-31' + 1 month is '2024-02-29'), its
 * microseconds by the clock. Intervals order by their span with a month as
 * 30 days and a day as 24 hours ('1 mon' = '30 days'), as PostgreSQL's do.
 */
import { dateOf, parseTimestamp } from '../core/datetime';
import { KalamError } from '../core/errors';
import { Interval, isInterval } from '../core/interval';
import type { IntervalMath } from '../core/interval-registry';
import type { DataType, Value } from '../core/types';
import type { Expr } from '../sql/ast';
import { isIntType } from './arith';
import { dataTypeOf } from '../sql/parse-column';
import { DATE_FUNCTIONS, intervalDatePart } from './interval-functions';
import {
  DAYS_PER_MONTH, USECS_PER_DAY, USECS_PER_SEC, formatInterval, intervalOutOfRange, makeInterval, parseInterval,
} from './interval-text';

export { makeInterval };

/** The span PostgreSQL orders intervals by, in microseconds (exact: a bigint). */
export const span = (v: Interval): bigint => (BigInt(v.months) * BigInt(DAYS_PER_MONTH) + BigInt(v.days)) * BigInt(USECS_PER_DAY) + BigInt(v.micros);

const isTimestampType = (t: DataType | undefined) => t === 'TIMESTAMP' || t === 'DATETIME';

/** A timestamp (ms) or date ('YYYY-MM-DD') operand as ms since the epoch. */
function instant(v: Value, op: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  const ms = typeof v === 'string' ? parseTimestamp(v) : undefined;
  if (ms === undefined) throw new KalamError('TYPE_MISMATCH', `operator ${op} with an interval needs a timestamp, a date or an interval on the other side, got ${typeof v === 'string' ? `text "${v.slice(0, 40)}"` : `a ${typeof v}`}`);
  return ms;
}

/** `ms` moved by an interval: months by the calendar (the day clamped to the month's last), then days, then the clock. */
export function addToTimestamp(ms: number, iv: Interval): number {
  let t = ms;
  if (iv.months !== 0) {
    const d = new Date(t);
    const y = d.getUTCFullYear();
    const m = d.getUTCMonth() + iv.months;
    const last = new Date(Date.UTC(2000, 0, 1));
    last.setUTCFullYear(y, m + 1, 0);
    const day = Math.min(d.getUTCDate(), last.getUTCDate());
    const moved = new Date(t);
    moved.setUTCFullYear(y, m, day);
    t = moved.getTime();
  }
  t += iv.days * 86_400_000 + Math.round(iv.micros / 1000);
  if (!(Math.abs(t) <= 8.64e15)) throw new KalamError('OUT_OF_RANGE', 'timestamp out of range: the result of adding the interval is past -271821-04-20 to +275760-09-13');
  return t;
}

const negate = (v: Interval): Interval => makeInterval(-v.months, -v.days, -v.micros);

function add(a: Interval, b: Interval, sign: number): Interval {
  return makeInterval(a.months + sign * b.months, a.days + sign * b.days, a.micros + sign * b.micros);
}

/** Microseconds rounded as PostgreSQL's TSROUND rounds seconds (to the microsecond). */
const roundMicros = (x: number) => Math.round(x);

/** interval * factor (interval_mul): fractions of months cascade to days (30 a month), of days to the clock. */
export function scale(v: Interval, factor: number): Interval {
  if (!Number.isFinite(factor)) throw intervalOutOfRange();
  const monthsExact = v.months * factor;
  const months = Math.trunc(monthsExact);
  const monthRemainderDays = (monthsExact - months) * DAYS_PER_MONTH;
  const daysExact = v.days * factor;
  let days = Math.trunc(daysExact);
  let secRemainder = Math.round((daysExact - days + monthRemainderDays - Math.trunc(monthRemainderDays)) * 86400 * USECS_PER_SEC) / USECS_PER_SEC;
  if (Math.abs(secRemainder) >= 86400) {
    const whole = Math.trunc(secRemainder / 86400);
    days += whole;
    secRemainder -= whole * 86400;
  }
  days += Math.trunc(monthRemainderDays);
  return makeInterval(months, days, roundMicros(v.micros * factor + secRemainder * USECS_PER_SEC));
}

function factorOf(v: Value, op: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  if (typeof v === 'object' && v !== null && 'unscaled' in v) return Number(String(v)); // a DECIMAL
  throw new KalamError('TYPE_MISMATCH', `operator does not exist: interval ${op} ${typeof v === 'string' ? 'text' : typeof v}; an interval is multiplied or divided by a number`);
}

/** Text or an Interval as an Interval (an operand typed INTERVAL by the plan may arrive as text: a parameter). */
function asInterval(v: Value, column: string): Interval {
  if (isInterval(v)) return v;
  if (typeof v === 'string') return parseInterval(v);
  throw new KalamError('TYPE_MISMATCH', `${column}: expected an INTERVAL (text such as '1 day 02:00:00'), got ${typeof v === 'object' ? 'an object' : `a ${typeof v}`}`);
}

function arith(op: string, a: Value, b: Value, lt: DataType | undefined, rt: DataType | undefined): Value {
  const aIv = isInterval(a) || lt === 'INTERVAL';
  const bIv = isInterval(b) || rt === 'INTERVAL';
  if (aIv && bIv) {
    if (op !== '+' && op !== '-') throw new KalamError('TYPE_MISMATCH', `operator does not exist: interval ${op} interval`);
    return add(asInterval(a, op), asInterval(b, op), op === '+' ? 1 : -1);
  }
  if (aIv || bIv) {
    const iv = asInterval(aIv ? a : b, op);
    const other = aIv ? b : a;
    const otherType = aIv ? rt : lt;
    const temporal = isTimestampType(otherType) || otherType === 'DATE' || (otherType === undefined && typeof other === 'string' && parseTimestamp(other) !== undefined);
    if (op === '+' && temporal) return addToTimestamp(instant(other, op), iv);
    if (op === '-' && temporal && bIv) return addToTimestamp(instant(other, op), negate(iv));
    if (op === '*') return scale(iv, factorOf(other, op));
    if (op === '/' && aIv) {
      const f = factorOf(other, op);
      if (f === 0) throw new KalamError('DIVISION_BY_ZERO', 'Division by zero');
      return scale(iv, 1 / f);
    }
    throw new KalamError('TYPE_MISMATCH', `operator does not exist: ${aIv ? 'interval' : 'timestamp or number'} ${op} ${bIv ? 'interval' : 'timestamp or number'}`);
  }
  // date - date is a whole number of days; date ± integer a date (PostgreSQL's date arithmetic).
  if (lt === 'DATE' && rt === 'DATE') return Math.round((instant(a, op) - instant(b, op)) / 86_400_000);
  if (lt === 'DATE' || rt === 'DATE') {
    const days = Number(lt === 'DATE' ? b : a);
    const ms = instant(lt === 'DATE' ? a : b, op) + (op === '-' ? -days : days) * 86_400_000;
    if (!Number.isInteger(days) || !(Math.abs(ms) <= 253402300799999 && ms >= -62167219200000)) throw new KalamError('OUT_OF_RANGE', 'date out of range: the result must be within 0000-01-01 and 9999-12-31');
    return dateOf(ms);
  }
  // timestamp - timestamp: the difference with whole days split off (PostgreSQL's justify_hours of it).
  const micros = (instant(a, op) - instant(b, op)) * 1000;
  const days = Math.trunc(micros / USECS_PER_DAY);
  return makeInterval(0, days, micros - days * USECS_PER_DAY);
}

function compare(a: Value, b: Value): number | undefined {
  if (!isInterval(a) || !isInterval(b)) return undefined;
  const x = span(a);
  const y = span(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function coerce(value: unknown, column: string): Interval {
  if (isInterval(value)) return value;
  if (typeof value === 'string') return parseInterval(value);
  throw new KalamError('TYPE_MISMATCH', `Column '${column}' is INTERVAL: give text such as '1 day 02:00:00' or '3 hours', got ${value === null ? 'null' : typeof value}`);
}

/** A plain `{ months, days, micros }` (IndexedDB's clone of an Interval) as an Interval again. */
function revive(v: Value): Value {
  if (v === null || isInterval(v) || typeof v !== 'object') return v;
  const o = v as unknown as { months?: unknown; days?: unknown; micros?: unknown };
  return typeof o.months === 'number' && typeof o.days === 'number' && typeof o.micros === 'number' ? new Interval(o.months, o.days, o.micros) : v;
}

/** The static type of `a op b` when it is interval arithmetic (timestamp - timestamp, timestamp ± interval, interval * number, …). */
export function resultType(op: string, a: DataType | undefined, b: DataType | undefined): DataType | undefined {
  const isTs = (t: DataType | undefined) => t === 'TIMESTAMP' || t === 'DATETIME';
  if (a === 'INTERVAL' || b === 'INTERVAL') {
    const other = a === 'INTERVAL' ? b : a;
    if (other === 'INTERVAL') return op === '+' || op === '-' ? 'INTERVAL' : undefined;
    if (isTs(other) || other === 'DATE') return op === '+' || (op === '-' && b === 'INTERVAL') ? (other === 'DATE' ? 'TIMESTAMP' : other) : undefined;
    return op === '*' || (op === '/' && a === 'INTERVAL') ? 'INTERVAL' : undefined;
  }
  if (a === 'DATE' && b === 'DATE') return op === '-' ? 'INT' : undefined; // date - date: days
  if ((a === 'DATE' && isIntType(b) && (op === '+' || op === '-')) || (isIntType(a) && b === 'DATE' && op === '+')) return 'DATE';
  return op === '-' && isTs(a) && isTs(b) ? 'INTERVAL' : undefined;
}

export const INTERVAL_MATH: IntervalMath = {
  format: formatInterval,
  coerce,
  compare,
  hashKey: (v) => `v${span(v)}`,
  arith,
  negate,
  sum: (sum, v) => (sum === null ? asInterval(v, 'sum') : add(asInterval(sum, 'sum'), asInterval(v, 'sum'), 1)),
  average: (sum, count) => scale(sum, 1 / count),
  resultType,
  part: intervalDatePart,
  reviveRow: (t, row) => t.columns.forEach((c, i) => {
    if (c.type !== 'INTERVAL') return;
    const v = revive(row[i]);
    if (v !== row[i]) row[i] = v; // a row a memory store kept is frozen, and holds Intervals already
  }),
};

type Node = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- node-sql-parser's AST, as sql/convert.ts reads it

/** The parser's `interval` expression, converted (registered with sql/convert.ts; EXTRACT is convert.ts's own). */
export const INTERVAL_EXPRESSIONS: Record<string, (x: Node, expr: (n: Node) => Expr) => Expr> = {
  // INTERVAL '1 day'; INTERVAL '3' DAY: the qualifier is the unit of a bare number.
  interval: (x) => {
    if (x.expr?.type !== 'single_quote_string') throw new KalamError('UNSUPPORTED', "INTERVAL takes a quoted text: INTERVAL '1 day'");
    const text = String(x.expr.value);
    const unit = typeof x.unit === 'string' && /^[a-z]+$/i.test(x.unit) && /^\s*[-+]?[\d.]+\s*$/.test(text) ? ` ${x.unit}` : '';
    return { kind: 'cast', arg: { kind: 'literal', value: text + unit }, type: 'INTERVAL' };
  },
};

export { DATE_FUNCTIONS, parseInterval };
