/**
 * A value compared with a typed expression is read as that type, as
 * PostgreSQL reads an untyped literal or a parameter compared with a column
 * (`WHERE n = '5'`): text that the type cannot read is TYPE_MISMATCH
 * ("invalid input syntax for type integer: "abc""), not a silent mismatch.
 * Also the text-to-number input rules CAST shares.
 */
import { decimalMath } from '../core/decimal-registry';
import { intervalMath } from '../core/interval-registry';
import { parseTimestamp } from '../core/datetime';
import { KalamError } from '../core/errors';
import { isJsonDeeperThan, jsonTooDeep } from '../core/json';
import type { DataType, Value } from '../core/types';
import type { Evaluator } from '../exec/context';
import { SQL_LIMIT_DEFAULTS } from '../sql/limits';
import { isFloatType, isIntType, pgTypeName, type IntType } from './arith';

const INTEGER_TEXT = /^\s*[-+]?\d+\s*$/;
const NUMERIC_TEXT = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;
const INFINITY_TEXT = /^\s*([-+]?)(?:inf|infinity)\s*$/i;
const NAN_TEXT = /^\s*nan\s*$/i;
const INT_LIMITS: Record<IntType, [bigint, bigint]> = {
  SMALLINT: [-32768n, 32767n],
  INT: [-2147483648n, 2147483647n],
  BIGINT: [-(2n ** 63n), 2n ** 63n - 1n],
};
const BOOLEAN_TEXT: Record<string, boolean> = { t: true, true: true, y: true, yes: true, on: true, 1: true, f: false, false: false, n: false, no: false, off: false, 0: false };

/** Stands for "no parameter vector read yet" (ctx.params may be any array, or absent). */
const NOT_READ = Symbol('not read');

const quoted = (s: string) => `"${s.length > 60 ? s.slice(0, 60) + '…' : s}"`;

export function invalidInput(type: DataType, s: string): KalamError {
  return new KalamError('TYPE_MISMATCH', `invalid input syntax for type ${pgTypeName(type)}: ${quoted(s)}; write a value of that type, or cast the other side (::TEXT) to compare as text`);
}

/** Text as an integer type reads it (a whole number within the type), PostgreSQL's int2/int4/int8 input. */
export function textToInt(s: string, type: IntType): number | bigint {
  if (!INTEGER_TEXT.test(s)) throw invalidInput(type, s);
  const b = BigInt(s.trim());
  const [lo, hi] = INT_LIMITS[type];
  if (b < lo || b > hi) throw new KalamError('OUT_OF_RANGE', `value ${quoted(s.trim())} is out of range for type ${pgTypeName(type)} (${lo} to ${hi})`);
  return type === 'BIGINT' ? b : Number(b);
}

/** Text as float8/numeric reads it: a number, 'Infinity', '-Infinity' or 'NaN'. */
export function textToFloat(s: string, type: DataType): number {
  const inf = INFINITY_TEXT.exec(s);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  if (NAN_TEXT.test(s)) return NaN;
  if (!NUMERIC_TEXT.test(s)) throw invalidInput(type, s);
  const n = Number(s);
  if (!Number.isFinite(n)) throw new KalamError('OUT_OF_RANGE', `${quoted(s.trim())} is out of range for type ${pgTypeName(type)}`);
  return n;
}

/**
 * Reads the values of `ev` as a value of `type` where the engine's
 * representation differs from text (TIMESTAMP as ms, JSON parsed). When
 * `ev` is a literal or a parameter (`strict`), text compared with a number
 * or boolean type must read as that type, or the comparison is
 * TYPE_MISMATCH; other operands pass through (compared as they are).
 */
export function asTypeOf(type: DataType | undefined, ev: Evaluator, strict: boolean): Evaluator {
  if (type === 'TIMESTAMP' || type === 'DATETIME') {
    return (r, ctx) => {
      const v = ev(r, ctx);
      if (typeof v !== 'string') return v;
      return parseTimestamp(v) ?? v;
    };
  }
  if (type === 'JSON') {
    return (r, ctx) => {
      const v = ev(r, ctx);
      if (typeof v !== 'string') return v;
      let parsed: Value;
      try {
        parsed = JSON.parse(v) as Value;
      } catch {
        return v; // not JSON text: compare as the string it is
      }
      // Comparing and hashing JSON recurse: text nested past the limit is refused, not compared.
      const max = ctx.limits?.maxJsonDepth ?? SQL_LIMIT_DEFAULTS.maxJsonDepth;
      if (isJsonDeeperThan(parsed, max)) throw jsonTooDeep('JSON text compared with a JSON column', max);
      return parsed;
    };
  }
  if (!strict) return ev;
  let read: ((s: string) => Value) | undefined;
  if (isIntType(type)) read = (s) => textToInt(s, type);
  else if (type === 'DECIMAL') read = (s) => decimalMath().read(s) ?? textToFloat(s, type); // 'NaN', 'Infinity' compare as floats
  else if (isFloatType(type)) read = (s) => textToFloat(s, type);
  else if (type === 'INTERVAL') read = (s) => intervalMath().coerce(s, 'comparison');
  else if (type === 'BOOLEAN') {
    read = (s) => {
      const b = BOOLEAN_TEXT[s.trim().toLowerCase()];
      if (b === undefined) throw invalidInput(type, s);
      return b;
    };
  }
  if (!read) return ev;
  const readText = read;
  // A literal or parameter is the same for every row of one execution (one parameter vector): read it once.
  let forParams: unknown = NOT_READ;
  let value: Value = null;
  return (r, ctx) => {
    if (ctx.params === forParams) return value;
    const v = ev(r, ctx);
    const out = typeof v === 'string' ? readText(v) : v;
    forParams = ctx.params;
    value = out;
    return out;
  };
}
