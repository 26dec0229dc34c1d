/**
 * JSON values at the boundary. Every JSON value the engine stores is a copy
 * it made itself: validated, deep-frozen once and remembered, so the rows
 * that share it are immutable, nothing a caller still holds can change it,
 * and what memory holds is what the disk holds (IndexedDB's structured
 * clone, the OPFS encoding and a cold segment's JSON text all read back
 * equal).
 *
 * The copy reads a value the way JSON.stringify would — own enumerable
 * string keys, each property read once (getters run once; one that throws
 * is reported), so a Proxy is copied through its traps into a plain value,
 * and one whose traps throw or lie (keys that come and go, values that
 * change between reads) yields a consistent snapshot or an error, never a
 * Proxy stored. Where JSON.stringify would lose or change data silently it
 * refuses instead: functions, symbols, bigints, NaN and ±Infinity,
 * undefined or holes in arrays, class instances (Map, Set, RegExp, typed
 * arrays, boxed primitives, your own classes), cycles. Two normalizations
 * follow PostgreSQL's json: a Date becomes its ISO 8601 text (JSON has no
 * date type; to_json(timestamptz) gives text too) and -0 becomes 0 (numeric
 * has no negative zero). An undefined object property is left out, as
 * JSON.stringify does. Nesting is bounded (the maxJsonDepth option, default
 * DEFAULT_MAX_JSON_DEPTH; deeper is LIMIT_EXCEEDED naming it) and so is the
 * number of values (MAX_JSON_NODES): a shared sub-object counts every time it
 * is reached, as JSON.stringify would write it out each time.
 */
import { KalamError, type ErrorCode } from './errors';
import type { JsonValue } from './types';

/**
 * Nesting deeper than this is refused by default (the maxJsonDepth option):
 * the engine's comparisons, hashing and text conversion of JSON recurse, and
 * the OPFS encoding allows 512 levels for a whole record.
 */
export const DEFAULT_MAX_JSON_DEPTH = 128;
/** Values (objects, arrays, scalars) one JSON value may hold, counted as written out. */
export const MAX_JSON_NODES = 1_000_000;

export const JSON_RULES =
  'JSON values are plain objects, arrays, strings, finite numbers, booleans and null ' +
  '(a Date is stored as its ISO 8601 text, -0 as 0, and an undefined property is left out)';

/**
 * A JSON `null` standing alone (`'null'::jsonb`, `'{"a":null}'::jsonb -> 'a'`)
 * while an expression is evaluated: it is not SQL NULL (`IS NULL` is false),
 * as in PostgreSQL. Inside an object or array a JSON null is a plain `null`.
 * It becomes `null` where a value leaves the engine (outputValue) and where
 * it is stored (coerce: a JSON column stores it as SQL NULL, a README
 * departure); text conversions print `null`.
 */
export const JSON_NULL: JsonValue = Object.freeze({ [Symbol.for('kalamlite.jsonNull')]: true }) as unknown as JsonValue;

/** Roots of the deep-frozen JSON values the engine made (or froze in place): trusted as they are. */
const SEALED = new WeakSet<object>();

/** True for a JSON object or array the engine made and deep-froze. */
export function isSealedJson(v: unknown): boolean {
  return typeof v === 'object' && v !== null && SEALED.has(v);
}

class NotJson {
  constructor(readonly path: string, readonly what: string, readonly isTooDeep = false) {}
}

interface Walk {
  nodes: number;
  readonly maxDepth: number;
  /** The objects being copied, from the root down to the current one: reaching one again is a cycle. */
  readonly ancestors: Set<object>;
}

/**
 * A deep-frozen copy of `value` as JSON, or a KalamError with `code` whose
 * message starts with `subject` and says where the value breaks the rules
 * and what is allowed; nesting deeper than `maxDepth` is LIMIT_EXCEEDED
 * naming maxJsonDepth. A value the engine already sealed is returned as it is.
 */
export function sealJson(value: unknown, code: ErrorCode, subject: string, maxDepth: number = DEFAULT_MAX_JSON_DEPTH): JsonValue {
  if (isSealedJson(value)) return value as JsonValue;
  try {
    const out = copy(value, '$', 0, { nodes: 0, maxDepth, ancestors: new Set() });
    if (typeof out === 'object' && out !== null) SEALED.add(out);
    return out;
  } catch (e) {
    if (!isNotJson(e)) throw e;
    const where = e.path === '$' ? '' : ` at ${shortPath(e.path)}`;
    if (e.isTooDeep) throw jsonTooDeep(subject, maxDepth, where);
    throw new KalamError(code, `${subject}: ${e.what}${where}. ${JSON_RULES}`);
  }
}

/** LIMIT_EXCEEDED for a JSON value nested deeper than `maxDepth` (maxJsonDepth). */
export function jsonTooDeep(subject: string, maxDepth: number, where = ''): KalamError {
  return new KalamError(
    'LIMIT_EXCEEDED',
    `${subject}: a JSON value nested deeper than ${maxDepth} levels${where} exceeds the limit of ${maxDepth} (maxJsonDepth): nest it less, or raise maxJsonDepth in openDatabase() options`,
  );
}

/**
 * True when `value` (a plain value the engine just parsed, such as a
 * JSON.parse result) nests deeper than `maxDepth` levels of objects and
 * arrays. Iterative: any depth is measured without recursion.
 */
export function isJsonDeeperThan(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: [object, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [o, depth] = stack.pop()!;
    if (depth > maxDepth) return true;
    for (const x of Object.values(o)) if (typeof x === 'object' && x !== null) stack.push([x, depth + 1]);
  }
  return false;
}

/** A path in a message: at most 120 characters (a deep value's path is long). */
function shortPath(path: string): string {
  return path.length > 120 ? `${path.slice(0, 60)}…${path.slice(-40)}` : path;
}

/**
 * Deep-freezes, in place, a JSON value the engine itself just made (a
 * JSON.parse result, a row read back from storage) and remembers it as
 * sealed; returns it. Typed arrays inside are left as they are (they cannot
 * be frozen). Never calls a getter it did not create; stops at frozen
 * objects, so cycles end.
 */
export function freezeJsonInPlace<T>(value: T): T {
  if (typeof value !== 'object' || value === null || SEALED.has(value) || ArrayBuffer.isView(value)) return value;
  const stack: object[] = [value];
  while (stack.length > 0) {
    const o = stack.pop()!;
    if (Object.isFrozen(o) || ArrayBuffer.isView(o)) continue;
    Object.freeze(o);
    for (const x of Object.values(o)) if (typeof x === 'object' && x !== null) stack.push(x);
  }
  SEALED.add(value);
  return value;
}

function copy(v: unknown, path: string, depth: number, walk: Walk): JsonValue {
  if (++walk.nodes > MAX_JSON_NODES) throw new NotJson(path, `more than ${MAX_JSON_NODES} values in one JSON value`);
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw new NotJson(path, `${v} is not a finite number`);
      return v === 0 ? 0 : v; // -0 → 0
    case 'bigint':
      throw new NotJson(path, `${v}n is a bigint (pass a number, or its digits as a string)`);
    case 'undefined':
      throw new NotJson(path, 'undefined is not JSON (use null)');
    case 'function':
      throw new NotJson(path, 'a function is not JSON');
    case 'symbol':
      throw new NotJson(path, 'a symbol is not JSON');
  }
  if (v === null) return null;
  const o = v as object;
  if (depth >= walk.maxDepth) throw new NotJson(path, `nesting deeper than ${walk.maxDepth} levels`, true);
  if (walk.ancestors.has(o)) throw new NotJson(path, 'a cycle (the value contains itself)');
  walk.ancestors.add(o);
  let out: JsonValue;
  try {
    out = guarded(path, () => Array.isArray(o)) ? copyArray(o as unknown[], path, depth, walk) : copyObject(o, path, depth, walk);
  } finally {
    walk.ancestors.delete(o);
  }
  return out;
}

function copyArray(a: readonly unknown[], path: string, depth: number, walk: Walk): JsonValue {
  const length = guarded(path, () => a.length) as unknown;
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) throw new NotJson(path, 'an array whose length is not a whole number');
  if (walk.nodes + length > MAX_JSON_NODES) throw new NotJson(path, `an array of ${length} elements (more than ${MAX_JSON_NODES} values in one JSON value)`);
  const out = new Array<JsonValue>(length);
  for (let i = 0; i < length; i++) {
    const at = `${path}[${i}]`;
    const x = guarded(at, () => a[i]);
    if (x === undefined) throw new NotJson(at, 'an array hole or undefined element is not JSON (use null)');
    out[i] = copy(x, at, depth + 1, walk);
  }
  return Object.freeze(out) as JsonValue;
}

function copyObject(o: object, path: string, depth: number, walk: Walk): JsonValue {
  const proto = guarded(path, () => Object.getPrototypeOf(o)) as object | null;
  if (proto !== Object.prototype && proto !== null) {
    if (guarded(path, () => o instanceof Date)) {
      const time = guarded(path, () => Date.prototype.getTime.call(o));
      if (Number.isNaN(time)) throw new NotJson(path, 'an invalid Date');
      return new Date(time).toISOString();
    }
    throw new NotJson(path, `${classOf(o, proto)}: only plain objects and arrays are JSON`);
  }
  const keys = guarded(path, () => Object.keys(o));
  if (walk.nodes + keys.length > MAX_JSON_NODES) throw new NotJson(path, `an object of ${keys.length} properties (more than ${MAX_JSON_NODES} values in one JSON value)`);
  const out: { [key: string]: JsonValue } = {};
  for (const k of keys) {
    const at = /^[A-Za-z_$][\w$]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k.length > 40 ? `${k.slice(0, 40)}…` : k)}]`;
    const x = guarded(at, () => (o as Record<string, unknown>)[k]);
    if (x === undefined) continue; // as JSON.stringify: an undefined property is left out
    const c = copy(x, at, depth + 1, walk);
    if (k === '__proto__') Object.defineProperty(out, k, { value: c, enumerable: true, writable: true, configurable: true });
    else out[k] = c;
  }
  return Object.freeze(out);
}

/** Runs a read of the caller's value; whatever it throws (a getter, a Proxy trap) becomes a NotJson at `path`. */
function guarded<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (isNotJson(e)) throw e;
    throw new NotJson(path, `reading it threw (${thrownMessage(e)})`);
  }
}

/** `instanceof NotJson`, safe on anything a caller's code threw (`instanceof` runs a Proxy's getPrototypeOf trap). */
function isNotJson(e: unknown): e is NotJson {
  try {
    return e instanceof NotJson;
  } catch {
    return false;
  }
}

/** The message of something thrown, without running any more of the caller's code than reading it. */
export function thrownMessage(e: unknown): string {
  try {
    const m = e instanceof Error ? e.message : e;
    if (typeof m === 'string') return m.length > 100 ? `${m.slice(0, 100)}…` : m;
    return typeof m === 'object' || typeof m === 'function' ? `a thrown ${m === null ? 'null' : typeof m}` : String(m);
  } catch {
    return 'an exception that cannot be read';
  }
}

/** A caller's value in a message, without running its code (no toString, no getters). */
export function shown(v: unknown): string {
  switch (typeof v) {
    case 'string': return `'${v.length > 40 ? `${v.slice(0, 40)}…` : v}'`;
    case 'number': case 'boolean': case 'undefined': return String(v);
    case 'bigint': return `${v}n`;
    case 'symbol': return 'a symbol';
    case 'function': return 'a function';
    default: return v === null ? 'null' : 'an object';
  }
}

function classOf(o: object, proto: object): string {
  try {
    if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer) return 'binary data (use a BYTES column for it)';
    const ctor = (proto as { constructor?: unknown }).constructor;
    const name = typeof ctor === 'function' ? ctor.name : undefined;
    if (typeof name === 'string' && name !== '') return `an instance of ${name}`;
  } catch {
    // a hostile prototype: fall through
  }
  return 'an object with a class prototype';
}
