/**
 * String functions, as PostgreSQL defines them (§9.4): lengths and
 * positions count characters (code points), not UTF-16 units. A SQL
 * extension (execute/sql-extensions.ts), loaded before the first statement
 * that names one of TEXT_FUNCTION_NAMES (function-names.ts); it registers
 * with functions.ts.
 */
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import { dateOf } from '../core/datetime';
import { coerce } from '../core/values';
import { formatTimestamp, parseByTemplate } from './datetime-format';
import { DATETIME_STRICT } from './datetime-functions';
import { md5Hex } from './md5';
import { formatNumber } from './number-format';
import { fits, num, outText, str, type ScalarFn } from './scalar-args';

/** An integer argument (a count, a position): fractions are refused as PostgreSQL's integer parameters round them — here rounded half away. */
const int = (v: Value, fn: string): number => {
  const n = num(v, fn);
  return Number.isFinite(n) ? Math.round(n) : n;
};

/** A padding length: a whole number of characters, negative as 0. */
const padLength = (n: number): number => (Number.isFinite(n) ? Math.max(0, Math.trunc(n)) : n > 0 ? Number.POSITIVE_INFINITY : 0);

const chars = (s: string): string[] => [...s];

/** Removes characters of `set` from the start and/or end of `s` (PostgreSQL's btrim/ltrim/rtrim with a character list). */
function trim(s: string, set: string | undefined, start: boolean, end: boolean): string {
  if (set === undefined) set = ' ';
  const drop = new Set(chars(set));
  const c = chars(s);
  let i = 0;
  let j = c.length;
  if (start) while (i < j && drop.has(c[i])) i++;
  if (end) while (j > i && drop.has(c[j - 1])) j--;
  return c.slice(i, j).join('');
}

/** 1-based position of `sub` in `s` in characters, 0 when absent. */
function position(s: string, sub: string): number {
  const at = s.indexOf(sub);
  return at < 0 ? 0 : chars(s.slice(0, at)).length + 1;
}

function pad(s: string, n: Value, fill: Value | undefined, fn: string, max: number, left: boolean): string {
  const k = padLength(num(n, fn));
  fits(k, fn, max);
  const c = chars(s);
  if (c.length >= k) return c.slice(0, k).join('');
  const f = chars(fill === undefined ? ' ' : str(fill));
  if (f.length === 0) return s;
  const padding: string[] = [];
  for (let i = 0; padding.length < k - c.length; i++) padding.push(f[i % f.length]);
  return left ? padding.join('') + s : s + padding.join('');
}

/** Occurrences of `a` in `s` (a non-empty string). */
function occurrences(s: string, a: string): number {
  let n = 0;
  for (let i = s.indexOf(a); i !== -1; i = s.indexOf(a, i + a.length)) n++;
  return n;
}

function splitPart(s: string, delimiter: string, n: number): string {
  if (n === 0) throw new KalamError('INVALID_PARAMETER', 'split_part(): field position must not be zero (fields count from 1, or from -1 at the end)');
  const fields = delimiter === '' ? [s] : s.split(delimiter);
  const at = n > 0 ? n - 1 : fields.length + n;
  return at >= 0 && at < fields.length ? fields[at] : '';
}

/** initcap: the first letter of each word upper-case, the rest lower-case; words are runs of letters and digits. */
function initcap(s: string): string {
  let out = '';
  let inWord = false;
  for (const ch of s) {
    const isAlnum = /[\p{L}\p{N}]/u.test(ch);
    out += isAlnum ? (inWord ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    inWord = isAlnum;
  }
  return out;
}

function chr(n: number): string {
  if (n === 0) throw new KalamError('INVALID_PARAMETER', 'chr(): the null character is not permitted in text');
  if (!Number.isInteger(n) || n < 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) {
    throw new KalamError('INVALID_PARAMETER', `chr(): ${n} is not a valid Unicode code point (1 to 1114111, surrogates excepted)`);
  }
  return String.fromCodePoint(n);
}

function substring(s: string, from: Value, len: Value | undefined): string {
  const c = chars(s);
  const f = int(from, 'SUBSTRING');
  const start = Math.max(0, f - 1);
  if (len === undefined) return c.slice(start).join('');
  const l = int(len, 'SUBSTRING');
  if (l < 0) throw new KalamError('INVALID_PARAMETER', 'substring(): negative substring length not allowed');
  const end = f - 1 + l;
  return end <= start ? '' : c.slice(start, end).join('');
}

/** Functions that return NULL when any argument is NULL. */
export const TEXT_STRICT: Record<string, ScalarFn> = {
  LOWER: ([s]) => str(s).toLowerCase(),
  UPPER: ([s]) => str(s).toUpperCase(),
  LENGTH: ([s]) => chars(str(s)).length,
  CHAR_LENGTH: ([s]) => chars(str(s)).length,
  CHARACTER_LENGTH: ([s]) => chars(str(s)).length,
  OCTET_LENGTH: ([s]) => new TextEncoder().encode(str(s)).length,
  TRIM: ([s, set]) => trim(str(s), set === undefined ? undefined : str(set), true, true),
  BTRIM: ([s, set]) => trim(str(s), set === undefined ? undefined : str(set), true, true),
  LTRIM: ([s, set]) => trim(str(s), set === undefined ? undefined : str(set), true, false),
  RTRIM: ([s, set]) => trim(str(s), set === undefined ? undefined : str(set), false, true),
  SUBSTRING: ([s, from, len]) => substring(str(s), from, len),
  SUBSTR: ([s, from, len]) => substring(str(s), from, len),
  LEFT: ([s, n]) => { const c = chars(str(s)); const k = int(n, 'LEFT'); return (k >= 0 ? c.slice(0, k) : c.slice(0, Math.max(0, c.length + k))).join(''); },
  RIGHT: ([s, n]) => { const c = chars(str(s)); const k = int(n, 'RIGHT'); return (k >= 0 ? c.slice(Math.max(0, c.length - k)) : c.slice(Math.min(c.length, -k))).join(''); },
  REPLACE: ([s, a, b], max) => {
    const [x, y, z] = [str(s), str(a), str(b)];
    if (y === '') return x; // PostgreSQL: an empty search string changes nothing
    if (z.length > y.length) fits(x.length + occurrences(x, y) * (z.length - y.length), 'REPLACE', max);
    return x.split(y).join(z);
  },
  SPLIT_PART: ([s, d, n]) => splitPart(str(s), str(d), int(n, 'SPLIT_PART')),
  STARTS_WITH: ([s, p]) => str(s).startsWith(str(p)),
  ENDS_WITH: ([s, p]) => str(s).endsWith(str(p)),
  STRPOS: ([s, p]) => position(str(s), str(p)),
  POSITION: ([p, s]) => position(str(s), str(p)),
  REVERSE: ([s]) => chars(str(s)).reverse().join(''),
  INITCAP: ([s]) => initcap(str(s)),
  REPEAT: ([s, n], max) => {
    const x = str(s);
    const k = padLength(num(n, 'REPEAT'));
    if (x.length === 0) return '';
    fits(x.length * k, 'REPEAT', max);
    return x.repeat(k);
  },
  LPAD: ([s, n, f], max) => pad(str(s), n, f, 'LPAD', max, true),
  RPAD: ([s, n, f], max) => pad(str(s), n, f, 'RPAD', max, false),
  MD5: ([s]) => md5Hex(s instanceof Uint8Array ? s : new TextEncoder().encode(str(s))),
  ASCII: ([s]) => str(s).codePointAt(0) ?? 0,
  CHR: ([n]) => chr(num(n, 'CHR')),
  /** to_char(value, fmt[, type]): compile.ts passes the value's static type, which says number or date/time. */
  TO_CHAR: ([v, fmt, type]) => toChar(v, str(fmt), type === undefined ? '' : str(type)),
  TO_DATE: ([s, fmt]) => dateOf(parseByTemplate(str(s), str(fmt), 'to_date')),
  /** to_timestamp(seconds since the epoch), or to_timestamp(text, fmt). */
  TO_TIMESTAMP: ([x, fmt]) => (fmt === undefined ? num(x, 'TO_TIMESTAMP') * 1000 : parseByTemplate(str(x), str(fmt), 'to_timestamp')),
  ...DATETIME_STRICT,
};

const NUMBER_TYPES = new Set(['SMALLINT', 'INT', 'BIGINT', 'FLOAT', 'DOUBLE', 'DECIMAL']);

function toChar(v: Value, fmt: string, type: string): string {
  const isNumber = NUMBER_TYPES.has(type) || typeof v === 'bigint' || (type === '' && typeof v === 'number' && /[90]/.test(fmt));
  if (isNumber) {
    if (typeof v !== 'number' && typeof v !== 'bigint') throw new KalamError('TYPE_MISMATCH', `to_char() with a numeric template needs a number, got ${typeof v}`);
    return formatNumber(v, fmt);
  }
  return formatTimestamp(coerce(v, 'TIMESTAMP', 'to_char()') as number, fmt);
}

/** Functions with their own NULL handling. */
export const TEXT_LENIENT: Record<string, ScalarFn> = {
  CONCAT: (args, max) => joined(args.filter((a) => a !== null).map(outText), '', 'CONCAT', max),
  CONCAT_WS: ([sep, ...rest], max) => (sep === null || sep === undefined ? null : joined(rest.filter((a) => a !== null).map(outText), str(sep), 'CONCAT_WS', max)),
  FORMAT: ([fmt, ...rest], max) => (fmt === null || fmt === undefined ? null : format(str(fmt), rest, max)),
};

function joined(parts: readonly string[], sep: string, fn: string, max: number): string {
  let length = Math.max(0, parts.length - 1) * sep.length;
  for (const p of parts) length += p.length;
  fits(length, fn, max);
  return parts.join(sep);
}

const quoteLiteral = (s: string): string => (s.includes('\\') ? `E'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'` : `'${s.replace(/'/g, "''")}'`);
const quoteIdent = (s: string): string => (/^[a-z_][a-z0-9_$]*$/.test(s) ? s : `"${s.replace(/"/g, '""')}"`);

/**
 * format(): %s (text; NULL as empty), %I (an identifier, quoted when
 * needed), %L (a literal, quoted; NULL as NULL), %% (a percent sign), each
 * optionally with a position `%2$s`. Widths and the `-` flag are refused.
 */
function format(fmt: string, args: readonly Value[], max: number): string {
  let out = '';
  let next = 0;
  for (let i = 0; i < fmt.length; i++) {
    const ch = fmt[i];
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const m = /^(?:(\d+)\$)?([sIL%])/.exec(fmt.slice(i + 1));
    if (!m) throw new KalamError('INVALID_PARAMETER', `format(): unsupported format specifier at '${fmt.slice(i, i + 6)}' (supported: %s, %I, %L, %%, with an optional position such as %1$s)`);
    i += m[0].length;
    if (m[2] === '%') {
      out += '%';
      continue;
    }
    const at = m[1] === undefined ? next : Number(m[1]) - 1;
    if (at < 0 || at >= args.length) throw new KalamError('INVALID_PARAMETER', 'format(): too few arguments for the format string');
    next = at + 1;
    const v = args[at];
    if (m[2] === 's') out += v === null ? '' : outText(v);
    else if (m[2] === 'L') out += v === null ? 'NULL' : quoteLiteral(outText(v));
    else {
      if (v === null) throw new KalamError('INVALID_PARAMETER', 'format(): a NULL cannot be formatted as an identifier (%I)');
      out += quoteIdent(outText(v));
    }
    fits(out.length, 'FORMAT', max);
  }
  return out;
}
