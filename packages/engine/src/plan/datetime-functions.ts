/**
 * Date/time functions as PostgreSQL defines them (§9.9): date_trunc,
 * date_part (and EXTRACT, converted to it; of an interval, INTERVAL's chunk
 * answers), make_date, make_time, make_timestamp. TIMESTAMP is UTC milliseconds since the epoch, DATE
 * 'YYYY-MM-DD' and TIME 'HH:MM:SS[.ffffff]' text (core/values.ts); a
 * DATE or TIME argument is read as PostgreSQL reads it: a date at midnight,
 * a time of day. Part of the text functions' SQL extension
 * (text-functions.ts), loaded with them.
 */
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import { dateOf, parseTimestamp, timeOfDay } from '../core/datetime';
import { isInterval } from '../core/interval';
import { intervalMath } from '../core/interval-registry';
import { num, str, type ScalarFn } from './scalar-args';

const DAY_MS = 86_400_000;

/** A date/time argument: an instant (ms, UTC) or a time of day (ms since midnight). */
type Moment = { kind: 'instant'; ms: number } | { kind: 'time'; ms: number };

const TIME_OF_DAY = /^(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?$/;

function momentOf(v: Value, fn: string): Moment {
  if (typeof v === 'number') return { kind: 'instant', ms: v };
  if (typeof v === 'string') {
    const t = TIME_OF_DAY.exec(v.trim());
    if (t) return { kind: 'time', ms: ((Number(t[1]) * 60 + Number(t[2])) * 60 + Number(t[3] ?? 0)) * 1000 + Number(t[4] ?? 0) * 1000 };
    const ms = parseTimestamp(v);
    if (ms !== undefined) return { kind: 'instant', ms };
  }
  throw new KalamError('TYPE_MISMATCH', `${fn}() needs a timestamp, date or time, got ${typeof v === 'string' ? `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'` : typeof v}`);
}

const unknownUnit = (fn: string, unit: string, kind: Moment['kind']) =>
  new KalamError('INVALID_PARAMETER', `${fn}(): unit "${unit}" not recognized for type ${kind === 'time' ? 'time' : 'timestamp'}`);

/** ISO 8601 week-numbering year and week of a UTC date. */
function isoWeek(d: Date): { year: number; week: number } {
  const day = (d.getUTCDay() + 6) % 7; // Monday 0
  const thursday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3));
  const year = thursday.getUTCFullYear();
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const week = 1 + Math.round((thursday.getTime() - jan4.getTime()) / DAY_MS / 7 - ((jan4.getUTCDay() + 6) % 7 - 3) / 7);
  return { year, week };
}

/** date_part / EXTRACT: the field of a timestamp, date or time, as a number. */
function datePart(unitText: string, v: Value): number {
  if (isInterval(v)) return intervalMath().part(unitText, v); // INTERVAL's chunk: loaded wherever an interval exists
  const unit = unitText.toLowerCase().trim();
  const m = momentOf(v, 'date_part');
  const ms = m.ms;
  const secondsWithin = (ms - Math.floor(ms / 60_000) * 60_000) / 1000; // seconds and their fraction within the minute
  if (m.kind === 'time') {
    switch (unit) {
      case 'hour': return Math.floor(ms / 3_600_000);
      case 'minute': return Math.floor(ms / 60_000) % 60;
      case 'second': return secondsWithin;
      case 'millisecond': case 'milliseconds': return secondsWithin * 1000;
      case 'microsecond': case 'microseconds': return Math.round(secondsWithin * 1_000_000);
      case 'epoch': return ms / 1000;
      default: throw unknownUnit('date_part', unitText, 'time');
    }
  }
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  switch (unit) {
    case 'year': case 'years': return year;
    case 'month': case 'months': return d.getUTCMonth() + 1;
    case 'day': case 'days': return d.getUTCDate();
    case 'hour': case 'hours': return d.getUTCHours();
    case 'minute': case 'minutes': return d.getUTCMinutes();
    case 'second': case 'seconds': return secondsWithin;
    case 'millisecond': case 'milliseconds': return secondsWithin * 1000;
    case 'microsecond': case 'microseconds': return Math.round(secondsWithin * 1_000_000);
    case 'epoch': return ms / 1000;
    case 'dow': return d.getUTCDay();
    case 'isodow': return d.getUTCDay() === 0 ? 7 : d.getUTCDay();
    case 'doy': return Math.floor((Date.UTC(year, d.getUTCMonth(), d.getUTCDate()) - Date.UTC(year, 0, 1)) / DAY_MS) + 1;
    case 'week': return isoWeek(d).week;
    case 'isoyear': return isoWeek(d).year;
    case 'quarter': return Math.floor(d.getUTCMonth() / 3) + 1;
    case 'decade': return Math.floor(year / 10);
    case 'century': return year > 0 ? Math.floor((year - 1) / 100) + 1 : -Math.floor(-year / 100) - 1;
    case 'millennium': return year > 0 ? Math.floor((year - 1) / 1000) + 1 : -Math.floor(-year / 1000) - 1;
    case 'julian': return ms / DAY_MS + 2440588; // PostgreSQL counts Julian days from midnight, not noon
    case 'timezone': case 'timezone_hour': case 'timezone_minute': return 0; // UTC
    default: throw unknownUnit('date_part', unitText, 'instant');
  }
}

/** date_trunc: an instant cut down to the start of its unit (a time of day for a TIME argument). */
function dateTrunc(unitText: string, v: Value): Value {
  const unit = unitText.toLowerCase().trim();
  const m = momentOf(v, 'date_trunc');
  if (m.kind === 'time') throw new KalamError('TYPE_MISMATCH', 'date_trunc() takes a timestamp or a date: cast a time of day to an interval, or truncate a timestamp');
  const d = new Date(m.ms);
  const y = d.getUTCFullYear();
  const at = (year: number, month = 0, day = 1, h = 0, mi = 0, s = 0, milli = 0) => {
    const out = new Date(0);
    out.setUTCFullYear(year, month, day); // keeps years 0..99 as written
    out.setUTCHours(h, mi, s, milli);
    return out.getTime();
  };
  switch (unit) {
    case 'microseconds': case 'microsecond': case 'milliseconds': case 'millisecond': return m.ms;
    case 'second': return at(y, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
    case 'minute': return at(y, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes());
    case 'hour': return at(y, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours());
    case 'day': return at(y, d.getUTCMonth(), d.getUTCDate());
    case 'week': return at(y, d.getUTCMonth(), d.getUTCDate() - ((d.getUTCDay() + 6) % 7)); // ISO weeks start on Monday
    case 'month': return at(y, d.getUTCMonth());
    case 'quarter': return at(y, Math.floor(d.getUTCMonth() / 3) * 3);
    case 'year': return at(y);
    case 'decade': return at(Math.floor(y / 10) * 10);
    case 'century': return at(y > 0 ? Math.floor((y - 1) / 100) * 100 + 1 : -(Math.floor(-y / 100) * 100) - 99);
    case 'millennium': return at(y > 0 ? Math.floor((y - 1) / 1000) * 1000 + 1 : -(Math.floor(-y / 1000) * 1000) - 999);
    default: throw unknownUnit('date_trunc', unitText, 'instant');
  }
}

const whole = (v: Value, fn: string, what: string): number => {
  const n = num(v, fn);
  if (!Number.isInteger(n)) throw new KalamError('INVALID_PARAMETER', `${fn}(): the ${what} must be a whole number, got ${n}`);
  return n;
};

const fieldOutOfRange = (fn: string, text: string) => new KalamError('OUT_OF_RANGE', `${fn}(): date/time field value out of range: ${text}`);

/** make_date(year, month, day): 'YYYY-MM-DD', refusing a day the month does not have (year 0 does not exist; negative years are BC). */
function makeDate(yv: Value, mv: Value, dv: Value, fn = 'make_date'): { year: number; month: number; day: number } {
  const [year, month, day] = [whole(yv, fn, 'year'), whole(mv, fn, 'month'), whole(dv, fn, 'day')];
  const text = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  if (year === 0) throw fieldOutOfRange(fn, text);
  const astronomical = year < 0 ? year + 1 : year; // 1 BC is year 0
  const last = new Date(Date.UTC(2000, month, 0));
  last.setUTCFullYear(astronomical, month, 0);
  if (month < 1 || month > 12 || day < 1 || day > last.getUTCDate()) throw fieldOutOfRange(fn, text);
  return { year: astronomical, month, day };
}

/** make_time(hour, min, sec): 'HH:MM:SS[.ffffff]', as the TIME type stores it. */
function makeTime(hv: Value, mv: Value, sv: Value, fn = 'make_time'): number {
  const [h, mi, s] = [whole(hv, fn, 'hour'), whole(mv, fn, 'minute'), num(sv, fn)];
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || !(s >= 0 && s < 60)) throw fieldOutOfRange(fn, `${h}:${mi}:${s}`);
  return ((h * 60 + mi) * 60) * 1000 + Math.round(s * 1e6) / 1000;
}

/** Functions that return NULL when any argument is NULL. */
export const DATETIME_STRICT: Record<string, ScalarFn> = {
  DATE_PART: ([unit, v]) => datePart(str(unit), v),
  /** EXTRACT(field FROM source) is converted to this call (sql/convert.ts). */
  EXTRACT: ([unit, v]) => datePart(str(unit), v),
  DATE_TRUNC: ([unit, v]) => dateTrunc(str(unit), v),
  MAKE_DATE: ([y, m, d]) => {
    const { year, month, day } = makeDate(y, m, d);
    const out = new Date(0);
    out.setUTCFullYear(year, month - 1, day);
    return dateOf(out.getTime());
  },
  MAKE_TIME: ([h, m, s]) => timeOfDay(makeTime(h, m, s)),
  MAKE_TIMESTAMP: ([y, mo, d, h, mi, s]) => {
    const { year, month, day } = makeDate(y, mo, d, 'make_timestamp');
    const out = new Date(0);
    out.setUTCFullYear(year, month - 1, day);
    return out.getTime() + makeTime(h, mi, s, 'make_timestamp');
  },
};
