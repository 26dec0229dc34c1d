/**
 * JSON values inside expressions, as PostgreSQL's jsonb treats them: reading
 * an operand as JSON, stepping into objects and arrays, containment, and
 * jsonb's text form. A top-level JSON null is JSON_NULL (core/json.ts), SQL
 * NULL is `null`; inside objects and arrays a JSON null is `null`.
 */
import { KalamError } from '../core/errors';
import { Interval } from '../core/interval';
import { JSON_NULL, isJsonDeeperThan, jsonTooDeep } from '../core/json';
import type { JsonValue, Value } from '../core/types';
import type { Expr } from '../sql/ast';
import { jsonbText } from './scalar-args';
import type { Scope } from './scope';

export { jsonbText };

/** Functions whose result is JSON (a later operator reads a text result of theirs as a JSON string, not as JSON text). */
export const JSON_RESULT_FUNCTIONS = new Set([
  'JSON_BUILD_OBJECT', 'JSONB_BUILD_OBJECT', 'JSON_BUILD_ARRAY', 'JSONB_BUILD_ARRAY', 'TO_JSON', 'TO_JSONB',
  'JSON_EXTRACT_PATH', 'JSONB_EXTRACT_PATH', 'JSONB_STRIP_NULLS', 'JSON_STRIP_NULLS', 'JSON_GET', 'JSON_OBJECT_KEYS',
  'JSONB_OBJECT_KEYS', 'JSONB_SET', 'JSON_OBJECT', 'JSONB_OBJECT',
]);

/**
 * True when `e`'s values are JSON already (a JSON column, a cast to JSON, a
 * JSON operator or function): a string from it is a JSON string. Any other
 * text operand is JSON text and is parsed, as PostgreSQL reads an untyped
 * literal given to a jsonb operator.
 */
export function isJsonExpr(e: Expr, scope: Scope): boolean {
  switch (e.kind) {
    case 'cast': return e.type === 'JSON';
    case 'binary': return e.op === '->' || e.op === '#>';
    case 'call': return JSON_RESULT_FUNCTIONS.has(e.name);
    case 'column':
      try {
        const { slot, scope: at } = scope.resolveOuter(e.table, e.name);
        return at.columns[slot].type === 'JSON';
      } catch {
        return false; // reported by the operand's own compile
      }
    default: return false;
  }
}

/**
 * `v` as a JSON value: SQL NULL stays null; text is parsed unless it came
 * from a JSON expression (`isJson`); a parsed `null` is JSON_NULL.
 */
export function asJson(v: Value, isJson: boolean, what: string, maxDepth: number): JsonValue | null {
  if (v === null) return null;
  if (typeof v === 'string' && !isJson) {
    let parsed: JsonValue;
    try {
      parsed = JSON.parse(v) as JsonValue;
    } catch {
      throw new KalamError('TYPE_MISMATCH', `${what}: invalid input syntax for type json: ${v.length > 40 ? `'${v.slice(0, 40)}…'` : `'${v}'`} is not JSON text (write valid JSON, e.g. '{"a": 1}')`);
    }
    if (isJsonDeeperThan(parsed, maxDepth)) throw jsonTooDeep(what, maxDepth);
    return parsed === null ? JSON_NULL : parsed;
  }
  if (typeof v === 'bigint') {
    if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    throw new KalamError('TYPE_MISMATCH', `${what}: the BIGINT ${v} does not fit a JSON number exactly (pass it as text)`);
  }
  if (v instanceof Uint8Array) throw new KalamError('TYPE_MISMATCH', `${what}: BYTES are not JSON (encode them as text first)`);
  if (v instanceof Interval) return v.toString(); // as PostgreSQL's to_json: the interval's text
  return v as JsonValue;
}

/** A child read out of a JSON value: absent is SQL NULL, a JSON null is JSON_NULL. */
const child = (x: JsonValue | undefined): JsonValue | null => (x === undefined ? null : x === null ? JSON_NULL : x);

const isObject = (v: JsonValue): v is { [key: string]: JsonValue } => typeof v === 'object' && v !== null && v !== JSON_NULL && !Array.isArray(v);

/** `j -> key` / `j -> index`: a member by key, an element by index (negative counts from the end); NULL when absent. */
export function jsonGet(j: JsonValue, key: Value): JsonValue | null {
  if (typeof key === 'bigint') key = Number(key);
  if (typeof key === 'number') {
    if (!Array.isArray(j) || !Number.isInteger(key)) return null;
    return child(j[key < 0 ? j.length + key : key]);
  }
  if (typeof key === 'string') return isObject(j) && Object.prototype.hasOwnProperty.call(j, key) ? child(j[key]) : null;
  throw new KalamError('TYPE_MISMATCH', `The right side of -> and ->> is a key (text) or an array index (integer), got ${typeof key}`);
}

/** `j #> path`: follows each step (a key into an object, an integer index into an array); NULL when a step is missing. */
export function jsonGetPath(j: JsonValue, path: readonly (string | null)[]): JsonValue | null {
  let at: JsonValue | null = j;
  for (const step of path) {
    if (at === null || step === null) return null;
    if (Array.isArray(at)) {
      if (!/^\s*-?\d+\s*$/.test(step)) return null;
      at = jsonGet(at, Number(step));
    } else at = jsonGet(at, step);
  }
  return at;
}

/**
 * A text[] operand (a path, a list of keys): ARRAY['a', 'b'] arrives as an
 * array; text is read as a PostgreSQL array literal '{a,b}' ("…" quotes an
 * element, NULL unquoted is a null element).
 */
export function textArray(v: Value, what: string): (string | null)[] {
  if (Array.isArray(v)) return v.map((x) => (x === null ? null : typeof x === 'object' ? JSON.stringify(x) : String(x)));
  if (typeof v !== 'string') throw new KalamError('TYPE_MISMATCH', `${what} needs a text array such as '{a,b}' or ARRAY['a', 'b'], got ${typeof v}`);
  const s = v.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) {
    throw new KalamError('TYPE_MISMATCH', `${what}: malformed array literal '${v.length > 40 ? `${v.slice(0, 40)}…` : v}' (write it as '{a,b}' or ARRAY['a', 'b'])`);
  }
  const out: (string | null)[] = [];
  const body = s.slice(1, -1);
  if (body.trim() === '') return out;
  let i = 0;
  while (i <= body.length) {
    while (body[i] === ' ') i++;
    let item = '';
    let quoted = false;
    if (body[i] === '"') {
      quoted = true;
      for (i++; i < body.length && body[i] !== '"'; i++) item += body[i] === '\\' ? body[++i] ?? '' : body[i];
      i++;
    } else {
      for (; i < body.length && body[i] !== ','; i++) item += body[i] === '\\' ? body[++i] ?? '' : body[i];
      item = item.trim();
    }
    while (body[i] === ' ') i++;
    out.push(!quoted && item.toUpperCase() === 'NULL' ? null : item);
    if (i >= body.length) break;
    if (body[i] !== ',') throw new KalamError('TYPE_MISMATCH', `${what}: malformed array literal '${v}'`);
    i++;
  }
  return out;
}

/** `j ? key`: a top-level object key, a string element of a top-level array, or the string scalar itself. */
export function jsonHasKey(j: JsonValue, key: string): boolean {
  if (Array.isArray(j)) return j.some((x) => x === key);
  if (isObject(j)) return Object.prototype.hasOwnProperty.call(j, key);
  return j === key;
}

/** `a @> b`: jsonb containment (PostgreSQL §8.14.3). */
export function jsonContains(a: JsonValue, b: JsonValue, topLevel = true): boolean {
  if (Array.isArray(a)) {
    if (Array.isArray(b)) return b.every((y) => a.some((x) => jsonContains(x, y, false)));
    // Only at the top level an array contains a primitive value it holds.
    return topLevel && !isObject(b) && a.some((x) => !Array.isArray(x) && !isObject(x) && jsonContains(x, b, false));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    for (const k of Object.keys(b)) {
      if (!Object.prototype.hasOwnProperty.call(a, k) || !jsonContains(a[k], b[k], false)) return false;
    }
    return true;
  }
  if (Array.isArray(b) || isObject(b)) return false;
  return scalar(a) === scalar(b);
}

const scalar = (v: JsonValue): unknown => (v === JSON_NULL ? null : v);

/** jsonb_typeof: object, array, string, number, boolean or null. */
export function jsonTypeof(j: JsonValue): string {
  if (j === JSON_NULL || j === null) return 'null';
  if (Array.isArray(j)) return 'array';
  return typeof j === 'object' ? 'object' : typeof j;
}

/** `->>` / `#>>`: a string as its text, a JSON null as SQL NULL, anything else as jsonb text. */
export function jsonAsText(v: JsonValue | null): string | null {
  if (v === null || v === JSON_NULL) return null;
  return typeof v === 'string' ? v : jsonbText(v);
}

/** to_jsonb(v): a SQL value as JSON (text is a JSON string; NULL stays SQL NULL). */
export function toJson(v: Value, what: string): JsonValue | null {
  if (v === null) return null;
  return asJson(v, true, what, Number.POSITIVE_INFINITY);
}

/** Inside a built object or array, SQL NULL is a JSON null. */
export const member = (v: JsonValue | null): JsonValue => (v === null || v === JSON_NULL ? null : v);
