/**
 * Scalar SQL functions: name → implementation over already-evaluated args.
 * Text functions live in text-functions.ts, JSON functions in
 * json-functions.ts (compiled with their operands' types), both SQL
 * extensions loaded on first use (execute/sql-extensions.ts); this file
 * holds the numeric ones and the registry the text functions join. The README's "Functions" list names
 * every function here.
 */
import { isDecimal } from '../core/decimal';
import { DECIMAL_FUNCTION_NAMES, decimalMath } from '../core/decimal-registry';
import { KalamError } from '../core/errors';
import { coerce, roundHalfAway } from '../core/values';
import type { Value } from '../core/types';
import { notLoaded } from './call-hooks';
import { INTERVAL_FUNCTION_NAMES, JSON_FUNCTIONS, TEXT_FUNCTION_NAMES } from './function-names';
import { num, type ScalarFn } from './scalar-args';

export { textTooLong } from './scalar-args';
export type { ScalarFn } from './scalar-args';

const domain = (fn: string, why: string) => new KalamError('INVALID_PARAMETER', `${fn}(): ${why}`);

/** `x` rounded (or truncated) to `places` decimal places, decided on its decimal digits (2.675 → 2.68, as numeric does). */
function toPlaces(x: number, places: number, round: (n: number) => number): number {
  if (!Number.isFinite(x)) return x;
  const p = Math.trunc(places);
  if (p === 0) return round(x) + 0;
  const shifted = Number(`${x}e${p}`);
  if (!Number.isFinite(shifted)) return x; // more places than a double holds: already exact
  return Number(`${round(shifted)}e${-p}`) + 0;
}

function log(fn: string, x: number): number {
  if (x === 0) throw domain(fn, 'cannot take logarithm of zero');
  if (x < 0) throw domain(fn, 'cannot take logarithm of a negative number');
  return x;
}

function power(x: number, y: number): number {
  if (x === 0 && y < 0) throw domain('power', 'zero raised to a negative power is undefined');
  if (x < 0 && !Number.isInteger(y)) throw domain('power', 'a negative number raised to a non-integer power yields a complex result');
  return x ** y;
}

/** Functions that return NULL when any argument is NULL. */
const strict: Record<string, ScalarFn> = {
  ABS: ([x]) => (typeof x === 'bigint' ? (x < 0n ? -x : x) : Math.abs(num(x, 'ABS'))),
  CEIL: ([x]) => (typeof x === 'bigint' ? x : Math.ceil(num(x, 'CEIL')) + 0),
  CEILING: ([x]) => (typeof x === 'bigint' ? x : Math.ceil(num(x, 'CEILING')) + 0),
  FLOOR: ([x]) => (typeof x === 'bigint' ? x : Math.floor(num(x, 'FLOOR'))),
  ROUND: ([x, d]) => (typeof x === 'bigint' && d === undefined ? x : toPlaces(num(x, 'ROUND'), d === undefined ? 0 : num(d, 'ROUND'), roundHalfAway)),
  TRUNC: ([x, d]) => (typeof x === 'bigint' && d === undefined ? x : toPlaces(num(x, 'TRUNC'), d === undefined ? 0 : num(d, 'TRUNC'), Math.trunc)),
  SIGN: ([x]) => (typeof x === 'bigint' ? (x > 0n ? 1 : x < 0n ? -1 : 0) : Math.sign(num(x, 'SIGN')) + 0),
  SQRT: ([x]) => {
    const v = num(x, 'SQRT');
    if (v < 0) throw domain('sqrt', 'cannot take square root of a negative number');
    return Math.sqrt(v);
  },
  CBRT: ([x]) => Math.cbrt(num(x, 'CBRT')),
  POWER: ([x, y]) => power(num(x, 'POWER'), num(y, 'POWER')),
  POW: ([x, y]) => power(num(x, 'POW'), num(y, 'POW')),
  EXP: ([x]) => Math.exp(num(x, 'EXP')),
  LN: ([x]) => Math.log(log('ln', num(x, 'LN'))),
  LOG10: ([x]) => Math.log10(log('log10', num(x, 'LOG10'))),
  /** log(x) is base 10; log(b, x) is base b. */
  LOG: ([a, b]) => {
    if (b === undefined) return Math.log10(log('log', num(a, 'LOG')));
    const base = log('log', num(a, 'LOG'));
    if (base === 1) throw new KalamError('DIVISION_BY_ZERO', 'log(): a logarithm to base 1 is a division by zero');
    return Math.log(log('log', num(b, 'LOG'))) / Math.log(base);
  },
  MOD: ([x, y]) => {
    if (typeof x === 'bigint' && typeof y === 'bigint') {
      if (y === 0n) throw new KalamError('DIVISION_BY_ZERO', 'Division by zero in MOD()');
      return x % y;
    }
    const d = num(y, 'MOD');
    if (d === 0) throw new KalamError('DIVISION_BY_ZERO', 'Division by zero in MOD()');
    return num(x, 'MOD') % d;
  },
  DATE: ([x]) => coerce(x, 'DATE', 'DATE()'),
};

/** Functions with their own NULL handling. */
const lenient: Record<string, ScalarFn> = {
  COALESCE: (args) => { for (const a of args) if (a !== null) return a; return null; },
  IFNULL: ([a, b]) => (a !== null ? a : b),
  NVL: ([a, b]) => (a !== null ? a : b),
  PI: () => Math.PI,
  /** ARRAY[a, b]: the list as a JSON array (SQL NULL elements as JSON null), for the JSON operators' text[] operands. */
  ARRAY: (args) => Object.freeze(args.map((a) => (typeof a === 'bigint' ? Number(a) : a))) as Value,
};

const TEXT_NAMES = new Set(TEXT_FUNCTION_NAMES);
let textLoaded = false;

/** Called by the text functions extension as it loads: they join the registry. */
export function registerTextFunctions(textStrict: Record<string, ScalarFn>, textLenient: Record<string, ScalarFn>): void {
  Object.assign(strict, textStrict);
  Object.assign(lenient, textLenient);
  textLoaded = true;
}

/** Called by a SQL extension as it loads (plan/vector-math.ts): its strict functions join the registry. */
export function registerScalarFunctions(fns: Record<string, ScalarFn>): void {
  Object.assign(strict, fns);
}

export function lookupFunction(name: string): { fn: ScalarFn; isStrict: boolean } | undefined {
  const s = strict[name];
  // A DECIMAL argument keeps round/trunc/ceil/floor/abs/sign exact (plan/decimal-math.ts).
  if (s && DECIMAL_FUNCTION_NAMES.has(name)) return { fn: (args, maxText) => (isDecimal(args[0]) ? decimalMath().call(name, args) : s(args, maxText)), isStrict: true };
  if (s) return { fn: s, isStrict: true };
  const l = lenient[name];
  if (l) return { fn: l, isStrict: false };
  if (!textLoaded && TEXT_NAMES.has(name)) throw notLoaded('The text functions');
  return undefined;
}

export const AGGREGATES = new Set(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX', 'STRING_AGG']);

/** Functions compile.ts implements itself (they read the session or compare with `=`'s rules). */
const COMPILED = ['regexp_like', 'regexp_match', 'regexp_replace', 'regexp_count', 'regexp_substr', 'regexp_split_to_array', 'now', 'current_timestamp', 'current_user', 'current_user_id', 'current_role', 'snowflake_id', 'uuid_v7', 'ulid', 'nullif', 'greatest', 'least'];

/** Every scalar function name, lower-case and sorted (the README lists them). */
export function scalarFunctionNames(): string[] {
  const names = [...Object.keys(strict), ...Object.keys(lenient), ...TEXT_FUNCTION_NAMES, ...INTERVAL_FUNCTION_NAMES].map((n) => n.toLowerCase()).filter((n) => n !== 'array');
  return [...new Set([...names, ...COMPILED, ...JSON_FUNCTIONS])].sort();
}

/** UNSUPPORTED naming the function and where the supported ones are listed. */
export function unknownFunction(name: string): KalamError {
  return new KalamError(
    'UNSUPPORTED',
    `Function ${name.toLowerCase()}() does not exist or is not supported: the supported functions are listed under "Functions" in the SQL section of @kalamlite/engine's README`,
  );
}
