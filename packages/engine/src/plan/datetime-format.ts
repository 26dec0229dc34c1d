/**
 * PostgreSQL's date/time template patterns (§9.8, Tables 9.30 and 9.31) for
 * to_char(timestamp|date, fmt), to_date(text, fmt) and
 * to_timestamp(text, fmt). TIMESTAMP is UTC here (core/datetime.ts), so
 * every field is read and written in UTC.
 *
 * A template is read left to right, longest pattern first: patterns
 * (YYYY, MM, HH24, Month, Dy, AM …), optionally with the FM prefix (no
 * padding) and a TH/th suffix (ordinal), "double-quoted" literal text, and
 * any other character that is not a letter, copied as it is. A run of
 * letters that is no pattern is an error (PostgreSQL copies it), so a typo
 * such as 'YYYY-MM-DDD' or 'hh:mi' in the wrong case never passes silently.
 */
import { KalamError } from '../core/errors';
import { DATE_MIN_MS, DATE_MAX_MS } from '../core/values';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Patterns whose case says how a name is written (MONTH, Month, month), longest first. */
const CASED = ['A.M.', 'a.m.', 'P.M.', 'p.m.', 'MONTH', 'Month', 'month', 'DAY', 'Day', 'day', 'MON', 'Mon', 'mon', 'DY', 'Dy', 'dy', 'AM', 'am', 'PM', 'pm'];
/** Numeric patterns, in any case (yyyy-mm-dd is YYYY-MM-DD), longest first. */
const NUMERIC = ['SSSSS', 'HH24', 'HH12', 'SSSS', 'YYYY', 'IYYY', 'DDD', 'YYY', 'HH', 'MI', 'SS', 'MS', 'US', 'YY', 'IW', 'ID', 'MM', 'DD', 'WW', 'CC', 'Y', 'D', 'W', 'Q'];

/** The pattern at `at` in `fmt`, written as the template writes it for a cased one, upper case otherwise. */
function patternAt(fmt: string, at: number): { p: string; length: number } | undefined {
  const cased = CASED.find((x) => fmt.startsWith(x, at));
  if (cased) return { p: cased, length: cased.length };
  const upper = fmt.slice(at, at + 5).toUpperCase();
  const n = NUMERIC.find((x) => upper.startsWith(x));
  return n ? { p: n, length: n.length } : undefined;
}

const SUPPORTED = 'YYYY YYY YY Y IYYY MM Mon Month DD DDD D ID Dy Day HH HH12 HH24 MI SS MS US SSSS AM PM A.M. P.M. Q WW W IW CC, with FM and TH, and "literal text"';

type Item = { kind: 'pattern'; p: string; fm: boolean; th: 'TH' | 'th' | '' } | { kind: 'text'; text: string };

/** The template's items (kept per template text: templates are nearly always constant). */
function compileTemplate(fmt: string, fn: string): Item[] {
  const out: Item[] = [];
  for (let i = 0; i < fmt.length;) {
    if (fmt[i] === '"') {
      const end = fmt.indexOf('"', i + 1);
      if (end < 0) throw new KalamError('INVALID_PARAMETER', `${fn}(): unterminated "quoted text" in the template`);
      out.push({ kind: 'text', text: fmt.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    const fm = fmt.startsWith('FM', i) || fmt.startsWith('fm', i);
    const at = fm ? i + 2 : i;
    const found = patternAt(fmt, at);
    if (found) {
      const p = found.p;
      let j = at + found.length;
      const th = fmt.startsWith('TH', j) ? 'TH' : fmt.startsWith('th', j) ? 'th' : '';
      if (th) j += 2;
      out.push({ kind: 'pattern', p, fm, th });
      i = j;
      continue;
    }
    if (/[A-Za-z]/.test(fmt[i])) {
      const word = /^[A-Za-z.]+/.exec(fmt.slice(i))![0];
      throw new KalamError('INVALID_PARAMETER', `${fn}(): '${word}' in the template is not a date/time pattern: the patterns are ${SUPPORTED}; put other text in double quotes`);
    }
    out.push({ kind: 'text', text: fmt[i] });
    i++;
  }
  return out;
}

const pad = (n: number, width: number, fm: boolean) => (fm ? String(n) : String(n).padStart(width, '0'));

function ordinal(n: number, upper: boolean): string {
  const t = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return upper ? t.toUpperCase() : t;
}

/** A name in the case the pattern is written in (MONTH, Month, month), blank-padded to 9 unless FM. */
function named(name: string, p: string, fm: boolean, short: boolean): string {
  let s = short ? name.slice(0, 3) : name;
  if (p === p.toUpperCase()) s = s.toUpperCase();
  else if (p === p.toLowerCase()) s = s.toLowerCase();
  return short || fm ? s : s.padEnd(9, ' ');
}

/** ISO 8601 week-numbering year and week of a UTC date. */
function isoWeek(d: Date): { year: number; week: number } {
  const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  t.setUTCFullYear(d.getUTCFullYear());
  const day = (t.getUTCDay() + 6) % 7; // Monday 0
  t.setUTCDate(t.getUTCDate() - day + 3); // the Thursday of this week decides the year
  const year = t.getUTCFullYear();
  const first = new Date(0);
  first.setUTCFullYear(year, 0, 4);
  const firstThursday = first.getTime() - ((first.getUTCDay() + 6) % 7 - 3) * 86_400_000;
  return { year, week: 1 + Math.round((t.getTime() - firstThursday) / (7 * 86_400_000)) };
}

function field(d: Date, p: string, fm: boolean): { text: string; n?: number } {
  const year = d.getUTCFullYear();
  const h = d.getUTCHours();
  const doy = Math.floor((Date.UTC(year, d.getUTCMonth(), d.getUTCDate()) - Date.UTC(year, 0, 1)) / 86_400_000) + 1;
  const num = (n: number, width: number) => ({ text: pad(n, width, fm), n });
  switch (p) {
    case 'HH': case 'HH12': return num(h % 12 === 0 ? 12 : h % 12, 2);
    case 'HH24': return num(h, 2);
    case 'MI': return num(d.getUTCMinutes(), 2);
    case 'SS': return num(d.getUTCSeconds(), 2);
    case 'MS': return num(d.getUTCMilliseconds(), 3);
    case 'US': return num(d.getUTCMilliseconds() * 1000, 6);
    case 'SSSS': case 'SSSSS': return num(h * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds(), 1);
    case 'AM': case 'PM': return { text: h < 12 ? 'AM' : 'PM' };
    case 'am': case 'pm': return { text: h < 12 ? 'am' : 'pm' };
    case 'A.M.': case 'P.M.': return { text: h < 12 ? 'A.M.' : 'P.M.' };
    case 'a.m.': case 'p.m.': return { text: h < 12 ? 'a.m.' : 'p.m.' };
    case 'YYYY': return num(year, 4);
    case 'YYY': return num(year % 1000, 3);
    case 'YY': return num(year % 100, 2);
    case 'Y': return num(year % 10, 1);
    case 'IYYY': return num(isoWeek(d).year, 4);
    case 'IW': return num(isoWeek(d).week, 2);
    case 'ID': return num(((d.getUTCDay() + 6) % 7) + 1, 1);
    case 'MM': return num(d.getUTCMonth() + 1, 2);
    case 'DD': return num(d.getUTCDate(), 2);
    case 'DDD': return num(doy, 3);
    case 'D': return num(d.getUTCDay() + 1, 1);
    case 'W': return num(Math.floor((d.getUTCDate() - 1) / 7) + 1, 1);
    case 'WW': return num(Math.floor((doy - 1) / 7) + 1, 2);
    case 'Q': return num(Math.floor(d.getUTCMonth() / 3) + 1, 1);
    case 'CC': return num(year > 0 ? Math.floor((year - 1) / 100) + 1 : Math.floor(year / 100), 2);
    default: {
      const isMonth = p.toUpperCase().startsWith('MON');
      const name = isMonth ? MONTHS[d.getUTCMonth()] : DAYS[d.getUTCDay()];
      return { text: named(name, p, fm, p.length <= 3 && p.toUpperCase() !== 'DAY') };
    }
  }
}

/** to_char(instant, fmt): `ms` since the epoch, written in UTC. */
export function formatTimestamp(ms: number, fmt: string): string {
  const d = new Date(ms);
  let out = '';
  for (const item of compileTemplate(fmt, 'to_char')) {
    if (item.kind === 'text') out += item.text;
    else {
      const { text, n } = field(d, item.p, item.fm);
      out += text + (item.th && n !== undefined ? ordinal(n, item.th === 'TH') : '');
    }
  }
  return out;
}

/** Fields read by to_date/to_timestamp; absent ones take PostgreSQL's defaults (year 1, January, day 1, midnight). */
interface Parsed {
  year?: number;
  month?: number;
  day?: number;
  doy?: number;
  hour?: number;
  pm?: boolean;
  minute?: number;
  second?: number;
  ms?: number;
}

const fieldError = (fn: string, what: string) => new KalamError('INVALID_PARAMETER', `${fn}(): ${what}`);

/** Reads `text` by the template `fmt` (to_date / to_timestamp): milliseconds since the epoch, UTC. */
export function parseByTemplate(text: string, fmt: string, fn: string): number {
  const f: Parsed = {};
  let i = 0;
  const skipBlanks = () => { while (text[i] === ' ') i++; };
  const digits = (max: number, what: string): number => {
    skipBlanks();
    const sign = text[i] === '-' ? -1 : 1;
    if (sign < 0) i++;
    const m = new RegExp(`^\\d{1,${max}}`).exec(text.slice(i));
    if (!m) throw fieldError(fn, `expected ${what} at '${text.slice(i, i + 10)}' (template '${fmt}')`);
    i += m[0].length;
    return sign * Number(m[0]);
  };
  const word = (names: readonly string[], short: boolean, what: string): number => {
    skipBlanks();
    const rest = text.slice(i).toLowerCase();
    const at = names.findIndex((n) => rest.startsWith((short ? n.slice(0, 3) : n).toLowerCase()));
    if (at < 0) throw fieldError(fn, `expected ${what} at '${text.slice(i, i + 10)}'`);
    i += short ? 3 : names[at].length;
    return at;
  };
  for (const item of compileTemplate(fmt, fn)) {
    if (item.kind === 'text') {
      // A separator in the template skips one character of the input, as PostgreSQL does (blanks: all of them).
      if (item.text.trim() === '') skipBlanks();
      else i += item.text.length;
      continue;
    }
    const p = item.p;
    switch (p) {
      case 'YYYY': case 'IYYY': f.year = digits(4, 'a year'); break;
      case 'YYY': f.year = 2000 + digits(3, 'a year'); break;
      case 'YY': { const y = digits(2, 'a year'); f.year = y < 70 ? 2000 + y : 1900 + y; break; }
      case 'Y': f.year = 2000 + digits(1, 'a year'); break;
      case 'MM': f.month = digits(2, 'a month'); break;
      case 'DD': f.day = digits(2, 'a day'); break;
      case 'DDD': f.doy = digits(3, 'a day of the year'); break;
      case 'HH': case 'HH12': f.hour = digits(2, 'an hour'); if (f.hour < 1 || f.hour > 12) throw fieldError(fn, `hour "${f.hour}" is invalid for the 12-hour clock: use HH24, or 1 to 12`); break;
      case 'HH24': f.hour = digits(2, 'an hour'); break;
      case 'MI': f.minute = digits(2, 'minutes'); break;
      case 'SS': f.second = digits(2, 'seconds'); break;
      case 'MS': f.ms = digits(3, 'milliseconds'); break;
      case 'US': f.ms = Math.floor(digits(6, 'microseconds') / 1000); break;
      case 'AM': case 'PM': case 'am': case 'pm': case 'A.M.': case 'P.M.': case 'a.m.': case 'p.m.': {
        skipBlanks();
        const m = /^([ap])\.?m\.?/i.exec(text.slice(i));
        if (!m) throw fieldError(fn, `expected AM or PM at '${text.slice(i, i + 10)}'`);
        f.pm = m[1].toLowerCase() === 'p';
        i += m[0].length;
        break;
      }
      case 'MONTH': case 'Month': case 'month': f.month = word(MONTHS, false, 'a month name') + 1; break;
      case 'MON': case 'Mon': case 'mon': f.month = word(MONTHS, true, 'a month abbreviation') + 1; break;
      case 'DAY': case 'Day': case 'day': word(DAYS, false, 'a day name'); break;
      case 'DY': case 'Dy': case 'dy': word(DAYS, true, 'a day abbreviation'); break;
      default: digits(p === 'Q' || p === 'D' || p === 'ID' || p === 'W' ? 1 : 2, p); // read and not used, as PostgreSQL ignores them here
    }
  }
  return instant(f, fn);
}

function instant(f: Parsed, fn: string): number {
  let hour = f.hour ?? 0;
  if (f.pm !== undefined) hour = (hour % 12) + (f.pm ? 12 : 0);
  const year = f.year ?? 1;
  const month = f.month ?? 1;
  const day = f.day ?? 1;
  const range = (ok: boolean, what: string) => { if (!ok) throw new KalamError('OUT_OF_RANGE', `${fn}(): date/time field value out of range: ${what}`); };
  range(month >= 1 && month <= 12, `month ${month}`);
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !isLeap(year) ? 1 : 0);
  range(day >= 1 && day <= daysInMonth, `day ${day} of month ${month}`);
  range(hour >= 0 && hour <= 23, `hour ${hour}`);
  range((f.minute ?? 0) <= 59 && (f.second ?? 0) <= 59, `${f.minute ?? 0} minutes, ${f.second ?? 0} seconds`);
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  if (f.doy !== undefined) d.setUTCFullYear(year, 0, f.doy);
  d.setUTCHours(hour, f.minute ?? 0, f.second ?? 0, f.ms ?? 0);
  const t = d.getTime();
  range(t >= DATE_MIN_MS && t <= DATE_MAX_MS, `year ${year}`);
  return t;
}

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
