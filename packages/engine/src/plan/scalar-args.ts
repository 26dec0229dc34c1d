/**
 * How scalar functions read their arguments and bound the text they build.
 * These stay in the worker entry: the math functions (functions.ts) and
 * the lazily loaded text, JSON and regexp functions all use them, and a
 * module two lazy chunks shared would become a chunk of its own.
 */
import { Decimal } from '../core/decimal';
import { Interval } from '../core/interval';
import { KalamError } from '../core/errors';
import { JSON_NULL } from '../core/json';
import type { JsonValue, Value } from '../core/types';
import { limitExceeded } from '../sql/limits';

/** `maxText`: the longest text the function may build (maxTextLength), checked before it is built. */
export type ScalarFn = (args: Value[], maxText: number) => Value;

/** LIMIT_EXCEEDED for text of `length` characters that `by` (a function name, or '||') would build. */
export function textTooLong(length: number, by: string, max: number): KalamError {
  const n = length <= 1e15 ? Math.ceil(length).toLocaleString('en-US') : 'more than 10^15';
  return limitExceeded('maxTextLength', `Text of ${n} characters built by ${by === '||' ? '||' : `${by.toLowerCase()}()`}`, max);
}

/** Throws before `fn` builds text longer than `max`. */
export function fits(length: number, fn: string, max: number): void {
  if (length > max) throw textTooLong(length, fn, max);
}

/**
 * jsonb's text form, as PostgreSQL prints it: `{"a": 1, "bb": [1, 2]}` — a
 * space after each `:` and `,`, object keys shorter first, then by code unit.
 */
export function jsonbText(v: JsonValue | Decimal | Interval | Float32Array): string {
  if (v === null || v === JSON_NULL) return 'null';
  if (v instanceof Decimal || v instanceof Interval) return v.toString(); // a DECIMAL's or an INTERVAL's text
  if (Array.isArray(v) || v instanceof Float32Array) return `[${Array.from(v, jsonbText).join(', ')}]`; // an EMBEDDING: its literal
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort((x, y) => x.length - y.length || (x < y ? -1 : x > y ? 1 : 0));
    return `{${keys.map((k) => `${JSON.stringify(k)}: ${jsonbText(v[k])}`).join(', ')}}`;
  }
  return JSON.stringify(v);
}

/** A value read as text by a string function (JSON as jsonb text). */
/** BYTES as PostgreSQL's bytea prints it (hex format): '\\x4142'. */
export function byteaText(v: Uint8Array): string {
  let out = '\\x';
  for (const b of v) out += b.toString(16).padStart(2, '0');
  return out;
}

export const str = (v: Value): string => (typeof v === 'string' ? v : v instanceof Uint8Array ? byteaText(v) : typeof v === 'object' && v !== null ? jsonbText(v) : String(v));

/** A value as PostgreSQL's output function prints it, for concat/concat_ws/format: booleans are t and f. */
export const outText = (v: Value): string => (typeof v === 'boolean' ? (v ? 't' : 'f') : str(v));

export const num = (v: Value, fn: string): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Decimal) return Number(v.toString());
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  throw new KalamError('TYPE_MISMATCH', `${fn.toLowerCase()}() expects a number, got ${typeof v}`);
};
