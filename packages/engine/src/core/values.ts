/**
 * Value semantics shared by every layer: ordering, equality, hashing into
 * group keys, and coercion into a column's declared type (the wire mapping
 * of DIALECT.md).
 */
import { dateOf, isTimeText, parseDate, parseTimestamp } from './datetime';
import { KalamError } from './errors';
import type { DataType, Value } from './types';

const typeRank = (v: Value): number => {
  switch (typeof v) {
    case 'boolean': return 1;
    case 'number': case 'bigint': return 2;
    case 'string': return 3;
    default: return v instanceof Uint8Array ? 4 : 5;
  }
};

/** Total order over non-null values; numbers and bigints compare numerically. */
export function compareValues(a: Value, b: Value): number {
  const ta = typeof a;
  const tb = typeof b;
  if (ta === tb && (ta === 'number' || ta === 'string' || ta === 'bigint' || ta === 'boolean')) {
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  }
  if ((ta === 'number' && tb === 'bigint') || (ta === 'bigint' && tb === 'number')) {
    // bigint vs number compares exactly in JS
    return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
  }
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

/** SQL equality of two non-null values. */
export function valuesEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  const ta = typeof a;
  if (ta !== 'object' || typeof b !== 'object') {
    // eslint-disable-next-line eqeqeq
    return (ta === 'number' || ta === 'bigint') && (typeof b === 'number' || typeof b === 'bigint') && a == b;
  }
  return compareValues(a, b) === 0;
}

/** JSON text with sorted keys and bigint support: used for equality and hashing of JSON values. */
export function stableJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'bigint': return `${v}n`;
    case 'number': case 'boolean': return JSON.stringify(v);
    case 'string': return JSON.stringify(v);
    default:
      if (v instanceof Uint8Array) return `b[${Array.from(v).join(',')}]`;
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
    default: return v === null ? 'z' : 'o' + stableJson(v);
  }
}

export function tupleKey(values: readonly Value[]): string {
  let k = '';
  for (let i = 0; i < values.length; i++) k += hashKey(values[i]) + '\u0000';
  return k;
}

export function describeValue(v: Value): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return `'${v.length > 40 ? v.slice(0, 40) + '…' : v}'`;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  return stableJson(v);
}

const INT_RANGE: Partial<Record<DataType, [number, number]>> = {
  SMALLINT: [-32768, 32767],
  INT: [-2147483648, 2147483647],
};
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NUMERIC_RE = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** Rounds to the nearest integer, halves away from zero (2.5 → 3, -2.5 → -3), as SQL casts do. */
export const roundHalfAway = (n: number) => Math.sign(n) * Math.round(Math.abs(n)) + 0; // + 0 turns -0 into 0

/**
 * Converts a value into the representation of a column type, or throws
 * TYPE_MISMATCH naming the column. NULL passes through (NOT NULL is checked
 * separately).
 */
export function coerce(value: unknown, type: DataType, column: string): Value {
  if (value === null || value === undefined) return null;
  const fail = (): never => {
    throw new KalamError(
      'TYPE_MISMATCH',
      `Cannot store ${describeValue(value as Value)} (${value instanceof Date ? 'Date' : typeof value}) in column '${column}' of type ${type}`,
    );
  };
  switch (type) {
    case 'BOOLEAN':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string') {
        const s = value.toLowerCase();
        if (s === 'true' || s === 't') return true;
        if (s === 'false' || s === 'f') return false;
      }
      return fail();
    case 'SMALLINT':
    case 'INT': {
      let n: number;
      if (typeof value === 'number') n = value;
      else if (typeof value === 'bigint') n = Number(value);
      else if (typeof value === 'string' && NUMERIC_RE.test(value)) n = Number(value);
      else return fail();
      if (!Number.isFinite(n)) return fail();
      if (!Number.isInteger(n)) n = roundHalfAway(n);
      const [lo, hi] = INT_RANGE[type]!;
      if (n < lo || n > hi) {
        throw new KalamError('TYPE_MISMATCH', `Value ${n} is out of range for column '${column}' of type ${type}`);
      }
      return n;
    }
    case 'BIGINT': {
      let b: bigint;
      if (typeof value === 'bigint') b = value;
      else if (typeof value === 'number') {
        if (!Number.isFinite(value)) return fail();
        b = BigInt(roundHalfAway(value));
      } else if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value)) b = BigInt(value.trim());
      else return fail();
      if (b < INT64_MIN || b > INT64_MAX) {
        throw new KalamError('TYPE_MISMATCH', `Value ${b} is out of range for column '${column}' of type BIGINT`);
      }
      return b;
    }
    case 'FLOAT':
    case 'DOUBLE':
    case 'DECIMAL':
      if (typeof value === 'number') return type === 'FLOAT' ? Math.fround(value) : value;
      if (typeof value === 'bigint') return Number(value);
      if (typeof value === 'string' && NUMERIC_RE.test(value)) return Number(value);
      return fail();
    case 'TEXT':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
      return fail();
    case 'BYTES':
      if (value instanceof Uint8Array) return value;
      if (value instanceof ArrayBuffer) return new Uint8Array(value);
      return fail();
    case 'JSON':
      if (typeof value === 'string') {
        try {
          return JSON.parse(value) as Value;
        } catch {
          throw new KalamError('TYPE_MISMATCH', `Column '${column}' is JSON: ${describeValue(value)} is not valid JSON text`);
        }
      }
      if (typeof value === 'bigint' || value instanceof Uint8Array) return fail();
      return value as Value;
    case 'TIMESTAMP':
    case 'DATETIME': {
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (typeof value === 'bigint') return Number(value);
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? fail() : value.getTime();
      if (typeof value === 'string') {
        const t = parseTimestamp(value);
        if (t !== undefined) return t;
      }
      return fail();
    }
    case 'DATE': {
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? fail() : dateOf(value.getTime());
      if (typeof value === 'number' && Number.isFinite(value)) return dateOf(value);
      const d = typeof value === 'string' ? parseDate(value) : undefined;
      return d ?? fail();
    }
    case 'TIME':
      if (typeof value === 'string' && isTimeText(value)) return value;
      return fail();
    case 'UUID':
      if (typeof value === 'string' && UUID_RE.test(value.toLowerCase())) return value.toLowerCase();
      return fail();
  }
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
