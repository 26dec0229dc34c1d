/**
 * Value semantics shared by every layer: ordering, equality, hashing into
 * group keys, and coercion into a column's declared type (the wire mapping
 * of DIALECT.md).
 */
import { dateOf, normalizeTime, parseTimestamp } from './datetime';
import { isDecimal } from './decimal';
import { decimalMath } from './decimal-registry';
import { isInterval } from './interval';
import { intervalMath } from './interval-registry';
import { KalamError } from './errors';
import { DEFAULT_MAX_JSON_DEPTH, JSON_NULL, freezeJsonInPlace, isSealedJson, sealJson } from './json';
import type { DataType, Value } from './types';
import { vectorMath } from './vector-registry';

const typeRank = (v: Value): number => {
  switch (typeof v) {
    case 'boolean': return 1;
    case 'number': case 'bigint': return 2;
    case 'string': return 3;
    default: return v instanceof Uint8Array ? 4 : isDecimal(v) ? 2 : 5;
  }
};

/** Total order over non-null values; numbers and bigints compare numerically. */
export function compareValues(a: Value, b: Value): number {
  const ta = typeof a;
  const tb = typeof b;
  if (ta === tb && (ta === 'number' || ta === 'string' || ta === 'bigint' || ta === 'boolean')) {
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : a === b ? 0 : nanOrder(a as number, b as number);
  }
  if ((ta === 'number' && tb === 'bigint') || (ta === 'bigint' && tb === 'number')) {
    // bigint vs number compares exactly in JS
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : a != b && (a !== a || b !== b) ? nanOrder(Number(a), Number(b)) : 0; // eslint-disable-line eqeqeq
  }
  if (isDecimal(a) || isDecimal(b)) {
    const d = decimalMath().compare(a, b);
    if (d !== undefined) return d;
  }
  if (isInterval(a) && isInterval(b)) return intervalMath().compare(a, b)!;
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  }
  const sa = stableJson(a);
  const sb = stableJson(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** PostgreSQL's float order puts NaN above every number, equal to itself. */
function nanOrder(a: number, b: number): number {
  const an = a !== a; // eslint-disable-line no-self-compare
  const bn = b !== b; // eslint-disable-line no-self-compare
  return an === bn ? 0 : an ? 1 : -1;
}

/**
 * A non-null value's family for hashing under `=`: 'n' numbers and bigints,
 * 's' text, 'b' booleans, 'o' anything else (JSON, BYTES). Within 'n', 's'
 * and 'b', equal hash keys (hashKey) mean `=`-equal values; across families
 * `=` reads text as a number or boolean, which a hash alone cannot see.
 */
export const valueFamily = (v: Value): 'n' | 's' | 'b' | 'o' =>
  typeof v === 'number' || typeof v === 'bigint' || isDecimal(v) ? 'n' : typeof v === 'string' ? 's' : typeof v === 'boolean' ? 'b' : 'o';

/** SQL equality of two non-null values. */
export function valuesEqual(a: Value, b: Value): boolean {
  if (a === b || (a !== a && b !== b)) return true; // eslint-disable-line no-self-compare
  const ta = typeof a;
  if (isDecimal(a) || isDecimal(b)) return decimalMath().compare(a, b) === 0;
  if (isInterval(a) || isInterval(b)) return intervalMath().compare(a, b) === 0;
  if (ta !== 'object' || typeof b !== 'object') {
    // eslint-disable-next-line eqeqeq
    return (ta === 'number' || ta === 'bigint') && (typeof b === 'number' || typeof b === 'bigint') && a == b;
  }
  return compareValues(a, b) === 0;
}

/** JSON text with sorted keys and bigint support: used for equality and hashing of JSON values. */
export function stableJson(v: unknown): string {
  if (v === null || v === undefined || v === JSON_NULL) return 'null';
  switch (typeof v) {
    case 'bigint': return `${v}n`;
    case 'number': case 'boolean': return JSON.stringify(v);
    case 'string': return JSON.stringify(v);
    default:
      if (v instanceof Uint8Array) return `b[${Array.from(v).join(',')}]`;
      if (isDecimal(v) || isInterval(v)) return v.toString();
      if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
      return `{${Object.keys(v as object).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
}

/**
 * A string that is equal for two values exactly when they are SQL-equal
 * (NULLs equal each other here, as GROUP BY and DISTINCT require).
 */
export function hashKey(v: Value): string {
  switch (typeof v) {
    case 'string': return 's' + v;
    case 'number': return Number.isInteger(v) ? 'i' + v : 'n' + v;
    case 'bigint': return 'i' + v;
    case 'boolean': return v ? 't' : 'f';
    default: return v === null ? 'z' : isDecimal(v) ? decimalMath().hashKey(v) : isInterval(v) ? intervalMath().hashKey(v) : 'o' + stableJson(v);
  }
}

/**
 * A string equal for two tuples exactly when they are SQL-equal value by
 * value (GROUP BY, DISTINCT, set operations). Each value's hash key goes
 * with its length, so text holding any character (NUL included) cannot run
 * into the next value: ('a\u0000sb', 'x') and ('a', 'b\u0000sx') differ.
 */
export function tupleKey(values: readonly Value[]): string {
  let k = '';
  for (let i = 0; i < values.length; i++) {
    const h = hashKey(values[i]);
    k += h.length + ':' + h;
  }
  return k;
}

export function describeValue(v: Value): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '…' : v}'`;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return String(v);
  if (typeof v !== 'object') return `a ${typeof v}`;
  try {
    if (v instanceof Uint8Array) return `<${v.length} bytes>`;
    if (isDecimal(v) || isInterval(v)) return v.toString();
    if ((v as unknown) instanceof Date) return Number.isNaN((v as unknown as Date).getTime()) ? 'an invalid Date' : (v as unknown as Date).toISOString();
    const s = stableJson(v);
    return s.length > 60 ? `${s.slice(0, 60)}…` : s;
  } catch {
    return 'a value that cannot be read';
  }
}

const INT_RANGE: Partial<Record<DataType, [number, number]>> = {
  SMALLINT: [-32768, 32767],
  INT: [-2147483648, 2147483647],
};
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NUMERIC_RE = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;
/** Text an integer column reads: a whole number, as PostgreSQL's int2/int4/int8 input ('0.5' and '1e3' are refused). */
const INTEGER_RE = /^\s*[-+]?\d+\s*$/;
/** 'Infinity', '-inf', … as PostgreSQL's float4/float8 input reads them. */
const INFINITY_RE = /^\s*([-+]?)(?:inf|infinity)\s*$/i;

/** TIMESTAMP's range: what a JS Date can hold, ±8.64e15 ms (±100,000,000 days) around the epoch. */
export const TIMESTAMP_MIN_MS = -8.64e15;
export const TIMESTAMP_MAX_MS = 8.64e15;
/** DATE's range: the years 'YYYY-MM-DD' can write, 0000-01-01 to 9999-12-31 (ms of the first and of the last instant). */
export const DATE_MIN_MS = -62167219200000;
export const DATE_MAX_MS = 253402300799999;
/** Past these a bigint is far outside TIMESTAMP's range (and would lose precision as a number). */
const BIG_INSTANT = 10n ** 16n;

/** Rounds to the nearest integer, halves away from zero (2.5 → 3, -2.5 → -3), as SQL casts do. */
export const roundHalfAway = (n: number) => Math.sign(n) * Math.round(Math.abs(n)) + 0; // + 0 turns -0 into 0

/** Rounds to the nearest integer, halves to even (0.5 → 0, 1.5 → 2), as C's rint: how PostgreSQL rounds a timestamp's fractional microseconds. */
export const roundHalfEven = (n: number) => {
  const r = Math.round(n);
  return (r - n === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0;
};

const RANGE_TEXT: Partial<Record<DataType, string>> = {
  SMALLINT: '-32768 to 32767',
  INT: '-2147483648 to 2147483647',
  BIGINT: '-9223372036854775808 to 9223372036854775807',
  FLOAT: 'finite magnitudes up to 3.4e38 and down to 1.4e-45, or ±Infinity',
  DOUBLE: 'finite numbers, or ±Infinity',
  TIMESTAMP: '±8.64e15 ms around the epoch: -271821-04-20 to +275760-09-13',
  DATETIME: '±8.64e15 ms around the epoch: -271821-04-20 to +275760-09-13',
  DATE: '0000-01-01 to 9999-12-31',
};

function outOfRange(value: unknown, type: DataType, column: string): never {
  throw new KalamError('OUT_OF_RANGE', `Value ${describeValue(value as Value)} is out of range for column '${column}' of type ${type} (${RANGE_TEXT[type]})`);
}

function kindOf(value: unknown): string {
  try {
    return value instanceof Date ? 'Date' : value instanceof Uint8Array ? 'Uint8Array' : typeof value;
  } catch {
    return typeof value;
  }
}

/** A JS timestamp (ms since the epoch) for a TIMESTAMP/DATE column from a number, bigint, Date or ISO text; undefined when it is none. */
function instantOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isNaN(value) ? undefined : value;
  if (typeof value === 'bigint') return value > BIG_INSTANT ? Infinity : value < -BIG_INSTANT ? -Infinity : Number(value);
  if (typeof value === 'string') return parseTimestamp(value);
  if (value instanceof Date) {
    const t = value.getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/** coerce()'s TYPE_MISMATCH (a function of its own: no closure is made per coerced value). */
function mismatch(value: unknown, type: DataType, column: string, hint = ''): never {
  throw new KalamError('TYPE_MISMATCH', `Cannot store ${describeValue(value as Value)} (${kindOf(value)}) in column '${column}' of type ${type}${hint}`);
}

/**
 * Converts a value into the representation of a column type, or throws
 * TYPE_MISMATCH (a value of the wrong kind) or OUT_OF_RANGE (the right kind,
 * outside the type's range) naming the column, the value and what the type
 * holds. NULL passes through (NOT NULL is checked separately). The rules
 * follow PostgreSQL's assignment casts (README, Values):
 *
 * - integers: a number is rounded to the nearest integer, halves away from
 *   zero (numeric → integer); text must be a whole number; then the range;
 * - FLOAT/DOUBLE/DECIMAL: finite numbers and ±Infinity; NaN is refused (its
 *   PostgreSQL ordering is not implemented); FLOAT past float4's range fails;
 * - TIMESTAMP: ms since the epoch within ±8.64e15, fractions of a ms rounded
 *   half to even (as PostgreSQL rounds fractional microseconds);
 * - DATE: 0000-01-01 to 9999-12-31;
 * - JSON: a deep-frozen copy, validated (core/json.ts), at most
 *   `maxJsonDepth` levels deep (LIMIT_EXCEEDED past it); text is parsed;
 * - BYTES: a Uint8Array (an ArrayBuffer is copied into one);
 * - FILE: as JSON (the commit checks it is a file uploaded with the
 *   statement: execute/files.ts).
 * - EMBEDDING(n): a Float32Array of n finite floats, from one, an array of
 *   numbers or text '[0.1, 0.2, …]' (plan/vector-math.ts).
 */
export function coerce(value: unknown, type: DataType, column: string, maxJsonDepth: number = DEFAULT_MAX_JSON_DEPTH, precision?: number, scale?: number): Value {
  if (value === null || value === undefined) return null;
  if (value === JSON_NULL) {
    // A JSON null: stored as SQL NULL in a JSON column, 'null' as text; PostgreSQL refuses any other cast of it.
    if (type === 'JSON') return null;
    if (type === 'TEXT') return 'null';
    throw new KalamError('TYPE_MISMATCH', `Cannot cast a JSON null to ${type} for '${column}': test it with jsonb_typeof(x) = 'null' first, or use ->> (which gives SQL NULL)`);
  }
  switch (type) {
    case 'BOOLEAN':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string') {
        // PostgreSQL's boolean input: true/yes/on/1 and false/no/off/0, any unambiguous prefix of the words, any case, trimmed.
        const s = value.trim().toLowerCase();
        if (s === '1' || (s.length > 0 && ('true'.startsWith(s) || 'yes'.startsWith(s))) || (s.length > 1 && 'on'.startsWith(s))) return true;
        if (s === '0' || (s.length > 0 && ('false'.startsWith(s) || 'no'.startsWith(s))) || (s.length > 1 && 'off'.startsWith(s))) return false;
      }
      return mismatch(value, type, column);
    case 'SMALLINT':
    case 'INT': {
      let n: number;
      if (typeof value === 'number') n = value;
      else if (typeof value === 'bigint') n = Number(value);
      else if (isDecimal(value)) n = Number(decimalMath().toInteger(value));
      else if (typeof value === 'string') n = INTEGER_RE.test(value) ? Number(value) : mismatch(value, type, column, ': text for an integer column must be a whole number');
      else return mismatch(value, type, column);
      if (!Number.isFinite(n)) return mismatch(value, type, column);
      if (!Number.isInteger(n)) n = roundHalfAway(n);
      const [lo, hi] = INT_RANGE[type]!;
      if (n < lo || n > hi) return outOfRange(value, type, column);
      return n + 0; // -0 → 0
    }
    case 'BIGINT': {
      let b: bigint;
      if (typeof value === 'bigint') b = value;
      else if (typeof value === 'number') {
        if (!Number.isFinite(value)) return mismatch(value, type, column);
        b = BigInt(roundHalfAway(value));
      } else if (isDecimal(value)) b = decimalMath().toInteger(value);
      else if (typeof value === 'string') b = INTEGER_RE.test(value) ? BigInt(value.trim()) : mismatch(value, type, column, ': text for an integer column must be a whole number');
      else return mismatch(value, type, column);
      if (b < INT64_MIN || b > INT64_MAX) return outOfRange(value, type, column);
      return b;
    }
    case 'DECIMAL':
      return decimalMath().coerce(value, precision, scale, column);
    case 'INTERVAL':
      return intervalMath().coerce(value, column);
    case 'FLOAT':
    case 'DOUBLE': {
      let n: number;
      if (typeof value === 'number') n = value;
      else if (typeof value === 'bigint') n = Number(value);
      else if (isDecimal(value)) n = Number(value.toString());
      else if (typeof value === 'string') {
        const inf = INFINITY_RE.exec(value);
        if (inf) n = inf[1] === '-' ? -Infinity : Infinity;
        else if (/^\s*nan\s*$/i.test(value)) n = NaN; // refused below, with what to do
        else if (NUMERIC_RE.test(value)) {
          n = Number(value);
          if (!Number.isFinite(n)) return outOfRange(value, type, column); // '1e400'
        } else return mismatch(value, type, column);
      } else return mismatch(value, type, column);
      if (Number.isNaN(n)) {
        throw new KalamError('TYPE_MISMATCH', `Cannot store NaN in column '${column}' of type ${type}: NaN is not stored (its ordering is not implemented); use NULL`);
      }
      if (type !== 'FLOAT') return n;
      const f = Math.fround(n);
      if (Number.isFinite(n) && (!Number.isFinite(f) || (f === 0 && n !== 0))) return outOfRange(value, type, column);
      return f;
    }
    case 'TEXT':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' || isDecimal(value) || isInterval(value)) return String(value);
      return mismatch(value, type, column);
    case 'BYTES':
      if (value instanceof Uint8Array) return value;
      if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
      if (typeof value === 'string') return byteaInput(value, column);
      return mismatch(value, type, column);
    case 'JSON':
    case 'FILE': {
      let v = value;
      if (typeof value === 'string') {
        try {
          v = JSON.parse(value);
        } catch {
          throw new KalamError('TYPE_MISMATCH', `Column '${column}' is JSON: ${describeValue(value)} is not valid JSON text`);
        }
      }
      return sealJson(v, 'TYPE_MISMATCH', `Column '${column}' is JSON and cannot hold this value`, maxJsonDepth);
    }
    case 'TIMESTAMP':
    case 'DATETIME': {
      const t = instantOf(value);
      if (t === undefined) return mismatch(value, type, column);
      if (!(t >= TIMESTAMP_MIN_MS && t <= TIMESTAMP_MAX_MS)) return outOfRange(value, type, column);
      return roundHalfEven(t);
    }
    case 'DATE': {
      const t = typeof value === 'bigint' ? undefined : instantOf(value);
      if (t === undefined) return mismatch(value, type, column);
      if (!(t >= DATE_MIN_MS && t <= DATE_MAX_MS)) return outOfRange(value, type, column);
      return dateOf(t);
    }
    case 'TIME': {
      const time = typeof value === 'string' ? normalizeTime(value) : undefined;
      return time ?? mismatch(value, type, column);
    }
    case 'EMBEDDING':
      return vectorMath!.coerce(value, precision, column);
    case 'UUID':
      if (typeof value === 'string' && UUID_RE.test(value.toLowerCase())) return value.toLowerCase();
      return mismatch(value, type, column);
  }
}

/**
 * Deep-freezes, in place, a JSON value the engine has just decoded — a cold
 * segment's JSON text after JSON.parse, a row read back from storage — so the
 * rows that share it are immutable (and it is trusted as sealed from then
 * on). Returns it. Decoders call it on every JSON cell they produce.
 */
export function freezeJson<T>(value: T): T {
  return freezeJsonInPlace(value);
}

/**
 * A stored value as a result hands it out: JSON deep-frozen (values the
 * engine sealed as they are; anything else, such as a system table's JSON,
 * as a sealed copy), BYTES and EMBEDDING as a copy — a typed array cannot be
 * frozen, and a caller writing into one it was given must not change the
 * stored row.
 */
export function outputValue(v: Value): Value {
  if (typeof v !== 'object' || v === null || v === JSON_NULL) return v === JSON_NULL ? null : v;
  if (ArrayBuffer.isView(v)) return (v as Uint8Array).slice(); // BYTES, EMBEDDING
  if (isDecimal(v) || isInterval(v)) return v.toString(); // DECIMAL and INTERVAL leave the engine as their text
  return isSealedJson(v) ? v : sealJson(v, 'TYPE_MISMATCH', 'A JSON value in the result cannot be handed out');
}

/** SQL truthiness of a non-null value (booleans, numbers, 't'/'true'/'f'/'false'). */
export function truthy(v: Value): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') {
    const s = v.toLowerCase();
    if (s === 'true' || s === 't') return true;
    if (s === 'false' || s === 'f') return false;
  }
  throw new KalamError('TYPE_MISMATCH', `Expected a boolean condition, got ${typeof v}`);
}

/** Evaluates a predicate: NULL counts as false (WHERE, ON, HAVING). */
export function isTrue(v: Value): boolean {
  return v !== null && truthy(v);
}

/**
 * Text read as PostgreSQL's bytea input reads it: '\x4142' is hex (pairs of
 * digits), other text its UTF-8 bytes. PostgreSQL's escape format (`\\`,
 * `\nnn`) is not read: text with a backslash but no `\x` is refused.
 */
function byteaInput(text: string, column: string): Uint8Array {
  const hex = text.startsWith('\\x') ? text.slice(2) : undefined;
  if (hex === undefined ? text.includes('\\') : hex.length % 2 !== 0 || /[^0-9a-f]/i.test(hex)) {
    throw new KalamError('TYPE_MISMATCH', `invalid input syntax for type bytea in '${column}': write hex as '\\x' and pairs of hex digits ('\\x4142'), or text without backslashes`);
  }
  if (hex === undefined) return new TextEncoder().encode(text);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
