/**
 * Reading DATE, TIME and TIMESTAMP text. Only ISO 8601 forms are accepted,
 * and a timestamp without a zone is UTC: the same text means the same
 * instant on every machine (JS `Date.parse` would read it in local time, and
 * accepts '5' or '2024-02-30').
 */

const TIMESTAMP_RE =
  /^\s*(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?\s*$/;
const TIME_RE = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/;

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** Milliseconds since the epoch for an ISO 8601 date or date-time, or undefined when the text is not one. */
export function parseTimestamp(text: string): number | undefined {
  const m = TIMESTAMP_RE.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  let offsetMinutes = 0;
  if (m[9]) {
    const oh = Number(m[10]);
    const om = Number(m[11] ?? 0);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day); // setUTCFullYear keeps years 0..99 as written
  utc.setUTCHours(hour, minute, second, ms);
  return utc.getTime() - offsetMinutes * 60_000;
}

/** The canonical 'YYYY-MM-DD' for a DATE given as text (a date, or a date-time read in UTC), or undefined. */
export function parseDate(text: string): string | undefined {
  const t = parseTimestamp(text);
  return t === undefined ? undefined : dateOf(t);
}

/** 'YYYY-MM-DD' of an instant, in UTC. */
export function dateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * A TIME as PostgreSQL prints it, 'HH:MM:SS' with the fraction's significant
 * digits ('10:23' is '10:23:00', '10:23:00.500' is '10:23:00.5'), from
 * 'HH:MM[:SS[.ffffff]]' within a day or an ISO date-time (its time of day,
 * as '2024-01-31 10:23'::time reads); undefined for anything else.
 */
export function normalizeTime(text: string): string | undefined {
  const m = TIME_RE.exec(text.trim());
  if (!m) {
    const at = /\d[Tt ]\d/.test(text) ? parseTimestamp(text) : undefined;
    return at === undefined ? undefined : timeOfDay(at);
  }
  if (Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3] ?? 0) > 59) return undefined;
  const fraction = (m[4] ?? '').replace(/0+$/, '');
  return `${m[1]}:${m[2]}:${m[3] ?? '00'}${fraction ? `.${fraction}` : ''}`;
}

/** The time of day of an instant (ms since the epoch), in UTC, as a TIME. */
export function timeOfDay(ms: number): string {
  const t = ((ms % 86_400_000) + 86_400_000) % 86_400_000;
  const two = (n: number) => String(Math.floor(n)).padStart(2, '0');
  const milli = Math.round((t % 1000) * 1000); // microseconds: a fraction of a millisecond survives
  const fraction = milli === 0 ? '' : `.${String(milli).padStart(6, '0').replace(/0+$/, '')}`;
  return `${two(t / 3_600_000)}:${two((t / 60_000) % 60)}:${two((t / 1000) % 60)}${fraction}`;
}

/**
 * A TIMESTAMP as PostgreSQL prints it ('2024-01-31 10:00:00', the fraction of
 * a second only when there is one; years before 1 as 'BC'); with `zone`, as
 * a TIMESTAMPTZ in UTC ('2024-01-31 10:00:00+00').
 */
export function timestampText(ms: number, zone: boolean): string {
  const d = new Date(ms);
  const year = d.getUTCFullYear();
  const date = `${String(year > 0 ? year : 1 - year).padStart(4, '0')}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
  return `${date} ${timeOfDay(ms)}${zone ? '+00' : ''}${year > 0 ? '' : ' BC'}`;
}
