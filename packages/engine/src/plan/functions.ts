/** Scalar SQL functions: name → implementation over already-evaluated args. */
import { KalamError } from '../core/errors';
import { coerce, roundHalfAway, stableJson } from '../core/values';
import type { Value } from '../core/types';
import { limitExceeded } from '../sql/limits';

/** `maxText`: the longest text the function may build (maxTextLength), checked before it is built. */
export type ScalarFn = (args: Value[], maxText: number) => Value;

/** LIMIT_EXCEEDED for text of `length` characters that `by` (a function name, or '||') would build. */
export function textTooLong(length: number, by: string, max: number): KalamError {
  const n = length <= 1e15 ? Math.ceil(length).toLocaleString('en-US') : 'more than 10^15';
  return limitExceeded('maxTextLength', `Text of ${n} characters built by ${by === '||' ? '||' : `${by.toLowerCase()}()`}`, max);
}

/** Throws before `fn` builds text longer than `max`. */
function fits(length: number, fn: string, max: number): void {
  if (length > max) throw textTooLong(length, fn, max);
}

/** A padding length: a whole number of characters (PostgreSQL truncates), negative as 0. */
const padLength = (n: number): number => (Number.isFinite(n) ? Math.max(0, Math.trunc(n)) : n > 0 ? Number.POSITIVE_INFINITY : 0);

/** Occurrences of `a` in `s` that split/join replaces (for '' JavaScript's split gives one piece per UTF-16 unit). */
function occurrences(s: string, a: string): number {
  if (a === '') return Math.max(0, s.length - 1);
  let n = 0;
  for (let i = s.indexOf(a); i !== -1; i = s.indexOf(a, i + a.length)) n++;
  return n;
}

const str = (v: Value): string => (typeof v === 'string' ? v : typeof v === 'object' && !(v instanceof Uint8Array) ? stableJson(v) : String(v));
const num = (v: Value, fn: string): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  throw new KalamError('TYPE_MISMATCH', `${fn}() expects a number, got ${typeof v}`);
};

/** Functions that return NULL when any argument is NULL. */
const strict: Record<string, ScalarFn> = {
  LOWER: ([s]) => str(s).toLowerCase(),
  UPPER: ([s]) => str(s).toUpperCase(),
  LENGTH: ([s]) => [...str(s)].length,
  CHAR_LENGTH: ([s]) => [...str(s)].length,
  CHARACTER_LENGTH: ([s]) => [...str(s)].length,
  OCTET_LENGTH: ([s]) => new TextEncoder().encode(str(s)).length,
  TRIM: ([s]) => str(s).trim(),
  LTRIM: ([s]) => str(s).trimStart(),
  RTRIM: ([s]) => str(s).trimEnd(),
  BTRIM: ([s]) => str(s).trim(),
  SUBSTRING: ([s, from, len]) => {
    const chars = [...str(s)];
    const start = Math.max(0, num(from, 'SUBSTRING') - 1);
    const end = len === undefined ? chars.length : num(from, 'SUBSTRING') - 1 + num(len, 'SUBSTRING');
    return chars.slice(start, Math.max(start, end)).join('');
  },
  LEFT: ([s, n]) => [...str(s)].slice(0, num(n, 'LEFT')).join(''),
  RIGHT: ([s, n]) => { const c = [...str(s)]; const k = num(n, 'RIGHT'); return k <= 0 ? '' : c.slice(-k).join(''); },
  REPLACE: ([s, a, b], max) => {
    const [x, y, z] = [str(s), str(a), str(b)];
    if (z.length > y.length) fits(x.length + occurrences(x, y) * (z.length - y.length), 'REPLACE', max);
    return x.split(y).join(z);
  },
  STARTS_WITH: ([s, p]) => str(s).startsWith(str(p)),
  ENDS_WITH: ([s, p]) => str(s).endsWith(str(p)),
  STRPOS: ([s, p]) => str(s).indexOf(str(p)) + 1,
  REVERSE: ([s]) => [...str(s)].reverse().join(''),
  REPEAT: ([s, n], max) => {
    const x = str(s);
    const k = padLength(num(n, 'REPEAT'));
    if (x.length === 0) return '';
    fits(x.length * k, 'REPEAT', max);
    return x.repeat(k);
  },
  LPAD: ([s, n, f], max) => {
    const k = padLength(num(n, 'LPAD'));
    fits(k, 'LPAD', max);
    return str(s).padStart(k, f === undefined ? ' ' : str(f)).slice(0, k);
  },
  RPAD: ([s, n, f], max) => {
    const k = padLength(num(n, 'RPAD'));
    fits(k, 'RPAD', max);
    return str(s).padEnd(k, f === undefined ? ' ' : str(f)).slice(0, k);
  },
  ABS: ([x]) => (typeof x === 'bigint' ? (x < 0n ? -x : x) : Math.abs(num(x, 'ABS'))),
  CEIL: ([x]) => (typeof x === 'bigint' ? x : Math.ceil(num(x, 'CEIL'))),
  CEILING: ([x]) => (typeof x === 'bigint' ? x : Math.ceil(num(x, 'CEILING'))),
  FLOOR: ([x]) => (typeof x === 'bigint' ? x : Math.floor(num(x, 'FLOOR'))),
  ROUND: ([x, d]) => {
    if (typeof x === 'bigint') return x;
    const p = 10 ** (d === undefined ? 0 : num(d, 'ROUND'));
    const v = num(x, 'ROUND') * p;
    return roundHalfAway(v) / p;
  },
  TRUNC: ([x]) => (typeof x === 'bigint' ? x : Math.trunc(num(x, 'TRUNC'))),
  SIGN: ([x]) => Math.sign(num(x, 'SIGN')),
  SQRT: ([x]) => Math.sqrt(num(x, 'SQRT')),
  POWER: ([x, y]) => num(x, 'POWER') ** num(y, 'POWER'),
  POW: ([x, y]) => num(x, 'POW') ** num(y, 'POW'),
  EXP: ([x]) => Math.exp(num(x, 'EXP')),
  LN: ([x]) => Math.log(num(x, 'LN')),
  LOG10: ([x]) => Math.log10(num(x, 'LOG10')),
  MOD: ([x, y]) => {
    if (typeof x === 'bigint' && typeof y === 'bigint') {
      if (y === 0n) throw new KalamError('DIVISION_BY_ZERO', 'Division by zero in MOD()');
      return x % y;
    }
    const d = num(y, 'MOD');
    if (d === 0) throw new KalamError('DIVISION_BY_ZERO', 'Division by zero in MOD()');
    return num(x, 'MOD') % d;
  },
  TO_TIMESTAMP: ([x]) => num(x, 'TO_TIMESTAMP') * 1000,
  DATE: ([x]) => coerce(x, 'DATE', 'DATE()'),
};

/** Functions with their own NULL handling. */
const lenient: Record<string, ScalarFn> = {
  COALESCE: (args) => { for (const a of args) if (a !== null) return a; return null; },
  IFNULL: ([a, b]) => (a !== null ? a : b),
  NVL: ([a, b]) => (a !== null ? a : b),
  CONCAT: (args, max) => joined(args.filter((a) => a !== null).map(str), '', 'CONCAT', max),
  CONCAT_WS: ([sep, ...rest], max) => (sep === null ? null : joined(rest.filter((a) => a !== null).map(str), str(sep), 'CONCAT_WS', max)),
};

function joined(parts: readonly string[], sep: string, fn: string, max: number): string {
  let length = Math.max(0, parts.length - 1) * sep.length;
  for (const p of parts) length += p.length;
  fits(length, fn, max);
  return parts.join(sep);
}

export function lookupFunction(name: string): { fn: ScalarFn; isStrict: boolean } | undefined {
  const s = strict[name];
  if (s) return { fn: s, isStrict: true };
  const l = lenient[name];
  if (l) return { fn: l, isStrict: false };
  return undefined;
}

export const AGGREGATES = new Set(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX']);
