/** Scalar SQL functions: name → implementation over already-evaluated args. */
import { KalamError } from '../core/errors';
import { coerce, roundHalfAway, stableJson } from '../core/values';
import type { Value } from '../core/types';

export type ScalarFn = (args: Value[]) => Value;

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
  REPLACE: ([s, a, b]) => str(s).split(str(a)).join(str(b)),
  STARTS_WITH: ([s, p]) => str(s).startsWith(str(p)),
  ENDS_WITH: ([s, p]) => str(s).endsWith(str(p)),
  STRPOS: ([s, p]) => str(s).indexOf(str(p)) + 1,
  REVERSE: ([s]) => [...str(s)].reverse().join(''),
  REPEAT: ([s, n]) => str(s).repeat(Math.max(0, num(n, 'REPEAT'))),
  LPAD: ([s, n, f]) => str(s).padStart(num(n, 'LPAD'), f === undefined ? ' ' : str(f)).slice(0, num(n, 'LPAD')),
  RPAD: ([s, n, f]) => str(s).padEnd(num(n, 'RPAD'), f === undefined ? ' ' : str(f)).slice(0, num(n, 'RPAD')),
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
  CONCAT: (args) => args.filter((a) => a !== null).map(str).join(''),
  CONCAT_WS: ([sep, ...rest]) => (sep === null ? null : rest.filter((a) => a !== null).map(str).join(str(sep))),
};

export function lookupFunction(name: string): { fn: ScalarFn; isStrict: boolean } | undefined {
  const s = strict[name];
  if (s) return { fn: s, isStrict: true };
  const l = lenient[name];
  if (l) return { fn: l, isStrict: false };
  return undefined;
}

export const AGGREGATES = new Set(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX']);
