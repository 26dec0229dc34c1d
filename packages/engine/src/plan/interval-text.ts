/**
 * INTERVAL text, as PostgreSQL reads and prints it (§8.5.4): input in its
 * `postgres` form (`1 year 2 mons`, `3 days 04:05:06.5`, `-1 day +02:00`,
 * `@ 1 hour ago`, a bare number of seconds, SQL's `1-2` year-month) or ISO
 * 8601 (`P1Y2M3DT4H5M6S`, `P2W`); output in the default IntervalStyle
 * `postgres` (`1 year 2 mons 3 days 04:05:06`, `-1 days +02:00:00`,
 * `00:00:00.5`). Part of the INTERVAL chunk (plan/interval-math.ts).
 */
import { KalamError } from '../core/errors';
import { Interval } from '../core/interval';

export const USECS_PER_SEC = 1_000_000;
export const USECS_PER_MINUTE = 60 * USECS_PER_SEC;
export const USECS_PER_HOUR = 60 * USECS_PER_MINUTE;
export const USECS_PER_DAY = 24 * USECS_PER_HOUR;
export const DAYS_PER_MONTH = 30;
const INT32_MAX = 2147483647;

export function intervalOutOfRange(): KalamError {
  return new KalamError('OUT_OF_RANGE', 'interval out of range: months and days must fit in a 32-bit integer, and the time part within ±285,000 years');
}

/** An Interval whose parts are checked: months and days int32, microseconds a safe integer; -0 becomes 0. */
export function makeInterval(months: number, days: number, micros: number): Interval {
  if (!(Math.abs(months) <= INT32_MAX && Math.abs(days) <= INT32_MAX && Number.isSafeInteger(micros))) throw intervalOutOfRange();
  return new Interval(months + 0, days + 0, micros + 0);
}

function invalidInterval(text: string): KalamError {
  const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
  return new KalamError('TYPE_MISMATCH', `invalid input syntax for type interval: "${shown}"; write an interval such as '1 day 02:00:00', '3 hours 30 minutes', '1 year 2 mons' or 'P1DT2H'`);
}

type Unit = 'us' | 'ms' | 's' | 'min' | 'h' | 'd' | 'w' | 'mon' | 'y' | 'dec' | 'c' | 'mil';

const UNIT_WORDS: Record<Unit, string[]> = {
  us: ['microsecond', 'microseconds', 'us', 'usec', 'usecs', 'useconds'],
  ms: ['millisecond', 'milliseconds', 'ms', 'msec', 'msecs', 'mseconds'],
  s: ['second', 'seconds', 's', 'sec', 'secs'],
  min: ['minute', 'minutes', 'm', 'min', 'mins'],
  h: ['hour', 'hours', 'h', 'hr', 'hrs'],
  d: ['day', 'days', 'd'],
  w: ['week', 'weeks', 'w'],
  mon: ['month', 'months', 'mon', 'mons'],
  y: ['year', 'years', 'y', 'yr', 'yrs'],
  dec: ['decade', 'decades', 'dec', 'decs'],
  c: ['century', 'centuries', 'c', 'cent'],
  mil: ['millennium', 'millennia', 'mil', 'mils'],
};
const UNITS = new Map<string, Unit>(Object.entries(UNIT_WORDS).flatMap(([u, words]) => words.map((w) => [w, u as Unit])));

/** Microseconds in one of a time unit; days per week; months per year-like unit. */
const MICROS: Partial<Record<Unit, number>> = { us: 1, ms: 1000, s: USECS_PER_SEC, min: USECS_PER_MINUTE, h: USECS_PER_HOUR };
const MONTHS: Partial<Record<Unit, number>> = { mon: 1, y: 12, dec: 120, c: 1200, mil: 12000 };

/** Running sum of an interval's parts while reading text; fractions cascade down as PostgreSQL's do. */
class Parts {
  months = 0;
  days = 0;
  micros = 0;

  add(q: number, unit: Unit): void {
    const micros = MICROS[unit];
    if (micros !== undefined) {
      this.micros += Math.round(q * micros);
      return;
    }
    const months = MONTHS[unit];
    if (months !== undefined && unit !== 'mon') {
      this.months += Math.round(q * months); // '1.5 years' is 1 year 6 mons: whole months
      return;
    }
    if (unit === 'mon') {
      const whole = Math.trunc(q);
      this.months += whole;
      q = (q - whole) * DAYS_PER_MONTH; // '1.75 months' is 1 mon 22 days 12:00:00
    } else if (unit === 'w') q *= 7;
    const days = Math.trunc(q);
    this.days += days;
    this.micros += Math.round((q - days) * USECS_PER_DAY);
  }
}

const TIME = /^([+-])?(\d+):(\d+)(?::(\d+(?:\.\d*)?))?$/;
const YEAR_MONTH = /^([+-])?(\d+)-(\d+)$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/;
const NUMBER_UNIT = /^([+-]?(?:\d+\.?\d*|\.\d+))([a-z]+)$/;
const ISO = /^([+-])?p(?:([-+]?[\d.]+)y)?(?:([-+]?[\d.]+)m)?(?:([-+]?[\d.]+)w)?(?:([-+]?[\d.]+)d)?(?:t(?:([-+]?[\d.]+)h)?(?:([-+]?[\d.]+)m)?(?:([-+]?[\d.]+)s)?)?$/;

/**
 * Text as an INTERVAL. `unit` is the qualifier of `INTERVAL '3' DAY`: what a
 * bare number counts (seconds without one).
 */
export function parseInterval(text: string, unit?: string): Interval {
  const s = text.trim().toLowerCase();
  if (s === '') throw invalidInterval(text);
  const parts = new Parts();
  const iso = ISO.exec(s);
  if (iso) {
    if (s.endsWith('p') || s.endsWith('t')) throw invalidInterval(text);
    const units: Unit[] = ['y', 'mon', 'w', 'd', 'h', 'min', 's'];
    iso.slice(2).forEach((q, i) => {
      if (q === undefined) return;
      if (!NUMBER.test(q)) throw invalidInterval(text);
      parts.add(Number(q), units[i]);
    });
    return finish(parts, iso[1] === '-', text);
  }
  const tokens = s.replace(/^@\s*/, '').split(/\s+/);
  let ago = false;
  const bareUnit: Unit | undefined = unit === undefined ? undefined : UNITS.get(unit.toLowerCase());
  if (unit !== undefined && bareUnit === undefined) throw new KalamError('UNSUPPORTED', `INTERVAL '…' ${unit.toUpperCase()} is not supported: write the unit inside the text, e.g. INTERVAL '3 days'`);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === 'ago' && i === tokens.length - 1 && i > 0) {
      ago = true;
      continue;
    }
    const time = TIME.exec(t);
    if (time) {
      const sign = time[1] === '-' ? -1 : 1;
      const micros = Number(time[2]) * USECS_PER_HOUR + Number(time[3]) * USECS_PER_MINUTE + Math.round(Number(time[4] ?? 0) * USECS_PER_SEC);
      if (Number(time[3]) > 59 || Number(time[4] ?? 0) >= 60) throw invalidInterval(text);
      parts.micros += sign * micros;
      continue;
    }
    const ym = YEAR_MONTH.exec(t);
    if (ym) {
      parts.months += (ym[1] === '-' ? -1 : 1) * (Number(ym[2]) * 12 + Number(ym[3]));
      continue;
    }
    let q: string;
    let word: string | undefined;
    const joined = NUMBER_UNIT.exec(t);
    if (joined && UNITS.has(joined[2])) [q, word] = [joined[1], joined[2]];
    else if (NUMBER.test(t)) {
      q = t;
      const next = tokens[i + 1];
      if (next !== undefined && UNITS.has(next)) {
        word = next;
        i++;
      }
    } else throw invalidInterval(text);
    // A bare number: the qualifier's unit, days before a time ('3 04:05:06'), else seconds.
    const u = word !== undefined ? UNITS.get(word)! : bareUnit ?? (tokens[i + 1] !== undefined && TIME.test(tokens[i + 1]) ? 'd' : 's');
    parts.add(Number(q), u);
  }
  return finish(parts, ago, text);
}

function finish(p: Parts, negate: boolean, text: string): Interval {
  if (![p.months, p.days, p.micros].every(Number.isFinite)) throw invalidInterval(text);
  return negate ? makeInterval(-p.months, -p.days, -p.micros) : makeInterval(p.months, p.days, p.micros);
}

/** The text of an interval in PostgreSQL's default IntervalStyle, `postgres`. */
export function formatInterval(v: Interval): string {
  const out: string[] = [];
  let isBefore = false;
  let isZero = true;
  const part = (n: number, unit: string) => {
    if (n === 0) return;
    out.push(`${!isZero && isBefore && n > 0 ? '+' : ''}${n} ${unit}${n === 1 ? '' : 's'}`);
    isBefore ||= n < 0;
    isZero = false;
  };
  part(Math.trunc(v.months / 12), 'year');
  part(v.months % 12, 'mon');
  part(v.days, 'day');
  const t = v.micros;
  if (isZero || t !== 0) {
    const a = Math.abs(t);
    const hours = Math.floor(a / USECS_PER_HOUR);
    const minutes = Math.floor((a % USECS_PER_HOUR) / USECS_PER_MINUTE);
    const seconds = Math.floor((a % USECS_PER_MINUTE) / USECS_PER_SEC);
    const fraction = a % USECS_PER_SEC;
    const two = (n: number) => String(n).padStart(2, '0');
    let text = `${t < 0 ? '-' : isBefore ? '+' : ''}${two(hours)}:${two(minutes)}:${two(seconds)}`;
    if (fraction !== 0) text += `.${String(fraction).padStart(6, '0').replace(/0+$/, '')}`;
    out.push(text);
  }
  return out.join(' ');
}
