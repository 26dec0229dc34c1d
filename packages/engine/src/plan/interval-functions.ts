/**
 * The date/time functions of the INTERVAL chunk (§9.9): `extract(field FROM
 * x)` (convert.ts makes it `date_part('field', x)`) and `date_part` on an
 * interval, a timestamp or a date; `justify_days`, `justify_hours`,
 * `justify_interval`; `age(a, b)`. Timestamps are UTC.
 */
import { parseTimestamp } from '../core/datetime';
import { KalamError } from '../core/errors';
import { Interval, isInterval } from '../core/interval';
import type { Value } from '../core/types';
import type { ScalarFn } from './scalar-args';
import { DAYS_PER_MONTH, USECS_PER_DAY, USECS_PER_HOUR, USECS_PER_MINUTE, USECS_PER_SEC, makeInterval, parseInterval } from './interval-text';

const badUnit = (field: string, type: string) =>
  new KalamError('INVALID_PARAMETER', `unit "${field}" not supported for type ${type}: use epoch, millennium, century, decade, year, quarter, month, day, hour, minute, second, milliseconds or microseconds${type === 'interval' ? '' : ', dow, isodow, doy or week'}`);

function intervalPart(field: string, v: Interval): number {
  const t = v.micros;
  switch (field) {
    case 'epoch': return (365.25 * Math.trunc(v.months / 12) + DAYS_PER_MONTH * (v.months % 12) + v.days) * 86400 + t / USECS_PER_SEC;
    case 'millennium': return Math.trunc(v.months / 12000);
    case 'century': return Math.trunc(v.months / 1200);
    case 'decade': return Math.trunc(v.months / 120);
    case 'year': return Math.trunc(v.months / 12);
    case 'quarter': return Math.trunc((v.months % 12) / 3) + 1;
    case 'month': return v.months % 12;
    case 'day': return v.days;
    case 'hour': return Math.trunc(t / USECS_PER_HOUR);
    case 'minute': return Math.trunc((t % USECS_PER_HOUR) / USECS_PER_MINUTE);
    case 'second': return (t % USECS_PER_MINUTE) / USECS_PER_SEC;
    case 'milliseconds': return (t % USECS_PER_MINUTE) / 1000;
    case 'microseconds': return t % USECS_PER_MINUTE;
    default: throw badUnit(field, 'interval');
  }
}

/** date_part / EXTRACT of an interval (the text functions' date_part asks for it: plan/datetime-functions.ts); singular and plural units alike. */
export function intervalDatePart(field: string, v: Interval): number {
  const f = String(field).trim().toLowerCase();
  const name = f === 'millisecond' || f === 'microsecond' ? `${f}s` : f.endsWith('s') && f !== 'milliseconds' && f !== 'microseconds' ? f.slice(0, -1) : f;
  return intervalPart(name, v);
}

function interval(v: Value, fn: string): Interval {
  if (isInterval(v)) return v;
  if (typeof v === 'string') return parseInterval(v);
  throw new KalamError('TYPE_MISMATCH', `${fn}() needs an interval, got ${typeof v}`);
}

/** justify_days: each 30 days a month, signs made to agree. */
function justifyDays(v: Interval): Interval {
  let months = v.months + Math.trunc(v.days / DAYS_PER_MONTH);
  let days = v.days % DAYS_PER_MONTH;
  if (months > 0 && days < 0) [days, months] = [days + DAYS_PER_MONTH, months - 1];
  else if (months < 0 && days > 0) [days, months] = [days - DAYS_PER_MONTH, months + 1];
  return makeInterval(months, days, v.micros);
}

/** justify_hours: each 24 hours a day, signs made to agree. */
function justifyHours(v: Interval): Interval {
  let days = v.days + Math.trunc(v.micros / USECS_PER_DAY);
  let micros = v.micros % USECS_PER_DAY;
  if (days > 0 && micros < 0) [micros, days] = [micros + USECS_PER_DAY, days - 1];
  else if (days < 0 && micros > 0) [micros, days] = [micros - USECS_PER_DAY, days + 1];
  return makeInterval(v.months, days, micros);
}

/** justify_interval: justify_days and justify_hours together, with the signs of all three parts agreeing. */
function justifyInterval(v: Interval): Interval {
  let months = v.months + Math.trunc(v.days / DAYS_PER_MONTH);
  let days = v.days % DAYS_PER_MONTH;
  let micros = v.micros;
  days += Math.trunc(micros / USECS_PER_DAY);
  micros %= USECS_PER_DAY;
  months += Math.trunc(days / DAYS_PER_MONTH);
  days %= DAYS_PER_MONTH;
  if (months > 0 && (days < 0 || (days === 0 && micros < 0))) [days, months] = [days + DAYS_PER_MONTH, months - 1];
  else if (months < 0 && (days > 0 || (days === 0 && micros > 0))) [days, months] = [days - DAYS_PER_MONTH, months + 1];
  if (days > 0 && micros < 0) [micros, days] = [micros + USECS_PER_DAY, days - 1];
  else if (days < 0 && micros > 0) [micros, days] = [micros - USECS_PER_DAY, days + 1];
  return makeInterval(months, days, micros);
}

function instantOf(v: Value): number {
  if (typeof v === 'number') return v;
  const ms = typeof v === 'string' ? parseTimestamp(v) : undefined;
  if (ms === undefined) throw new KalamError('TYPE_MISMATCH', `age() needs timestamps, got ${typeof v === 'string' ? `"${v.slice(0, 40)}"` : typeof v}`);
  return ms;
}

/** Milliseconds of a UTC calendar date (years 0 to 99 as written, which Date.UTC would move to the 1900s). */
function utcDay(year: number, month0: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month0, day);
  return d.getTime();
}

const daysInMonth = (year: number, month0: number) => new Date(utcDay(year, month0 + 1, 0)).getUTCDate();

/** age(a, b): a - b in years, months and days ("symbolic"), borrowing from the earlier timestamp's month (PostgreSQL's timestamp_age). */
function age(a: number, b: number): Interval {
  const x = new Date(a);
  const y = new Date(b);
  const fields = (d: Date) => [d.getUTCMilliseconds() * 1000, d.getUTCSeconds(), d.getUTCMinutes(), d.getUTCHours(), d.getUTCDate(), d.getUTCMonth(), d.getUTCFullYear()];
  const fx = fields(x);
  const fy = fields(y);
  const sign = a < b ? -1 : 1;
  let [us, sec, min, hour, mday, mon, year] = fx.map((v, i) => sign * (v - fy[i]));
  while (us < 0) [us, sec] = [us + 1_000_000, sec - 1];
  while (sec < 0) [sec, min] = [sec + 60, min - 1];
  while (min < 0) [min, hour] = [min + 60, hour - 1];
  while (hour < 0) [hour, mday] = [hour + 24, mday - 1];
  const earlier = a < b ? x : y;
  while (mday < 0) [mday, mon] = [mday + daysInMonth(earlier.getUTCFullYear(), earlier.getUTCMonth()), mon - 1];
  while (mon < 0) [mon, year] = [mon + 12, year - 1];
  const micros = ((hour * 60 + min) * 60 + sec) * USECS_PER_SEC + us;
  return makeInterval(sign * (year * 12 + mon), sign * mday, sign * micros);
}

export const DATE_FUNCTIONS: Record<string, ScalarFn> = {
  JUSTIFY_DAYS: ([v]) => justifyDays(interval(v, 'justify_days')),
  JUSTIFY_HOURS: ([v]) => justifyHours(interval(v, 'justify_hours')),
  JUSTIFY_INTERVAL: ([v]) => justifyInterval(interval(v, 'justify_interval')),
  AGE: ([a, b]) => {
    if (b === undefined) {
      const now = new Date();
      return age(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()), instantOf(a)); // age(x): from today's midnight
    }
    return age(instantOf(a), instantOf(b));
  },
};
