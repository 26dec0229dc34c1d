/**
 * The JSON functions: PostgreSQL's json_* and jsonb_* (each json_ name behaves
 * as its jsonb_ twin) and KalamDB's datafusion-functions-json family
 * (json_get*, json_as_text, json_contains, json_length, json_object_keys).
 * call-hooks.ts offers every call here first; a name not listed returns
 * undefined. A SQL extension with json-ops.ts (execute/sql-extensions.ts);
 * function-names.ts lists the names.
 */
import { KalamError } from '../core/errors';
import { JSON_NULL } from '../core/json';
import type { JsonValue, Value } from '../core/types';
import type { Evaluator } from '../exec/context';
import type { Expr } from '../sql/ast';
import { jsonOperand } from './json-ops';

/** The JSON extension's one entry (execute/sql-extensions.ts loads this module): its operators too. */
export { compileJsonOp } from './json-ops';
import { jsonAsText, jsonbText, jsonGet, jsonGetPath, jsonTypeof, member, toJson } from './json-values';
import type { Scope } from './scope';

type Call = Extract<Expr, { kind: 'call' }>;

/** jsonb_x is json_x. */
const canonical = (name: string): string => (name.startsWith('JSONB_') ? `JSON_${name.slice(6)}` : name === 'TO_JSONB' ? 'TO_JSON' : name);

const isArray = (v: JsonValue | null): v is JsonValue[] => Array.isArray(v);
const isObject = (v: JsonValue | null): v is { [k: string]: JsonValue } => typeof v === 'object' && v !== null && v !== JSON_NULL && !Array.isArray(v);

function arity(e: Call, min: number, max: number, usage: string): void {
  if (e.args.length < min || e.args.length > max) {
    throw new KalamError('INVALID_SQL', `${e.name.toLowerCase()}() takes ${usage} (got ${e.args.length} argument${e.args.length === 1 ? '' : 's'})`);
  }
}

/** A datafusion-functions-json path step: text is a key, an integer an array index. */
function step(j: JsonValue | null, key: Value): JsonValue | null {
  if (j === null || key === null) return null;
  if (typeof key === 'bigint' || typeof key === 'number' || typeof key === 'string') return jsonGet(j, key);
  throw new KalamError('TYPE_MISMATCH', `A JSON path step is a key (text) or an array index (integer), got ${typeof key}`);
}

export function compileJsonCall(e: Call, scope: Scope, c: (x: Expr) => Evaluator): Evaluator | undefined {
  const name = canonical(e.name);
  const fn = name.toLowerCase();
  switch (name) {
    case 'JSON_EXTRACT_PATH': case 'JSON_EXTRACT_PATH_TEXT': {
      arity(e, 1, Infinity, 'a JSON value and path keys');
      const j = jsonOperand(e.args[0], scope, c, `${fn}()`);
      const path = e.args.slice(1).map(c);
      const asText = name.endsWith('_TEXT');
      return (r, ctx) => {
        const v = j(r, ctx);
        if (v === null) return null;
        const keys = path.map((p) => p(r, ctx));
        if (keys.some((k) => k === null)) return null;
        const out = jsonGetPath(v, keys.map((k) => String(k)));
        return asText ? jsonAsText(out) : out;
      };
    }
    case 'JSON_ARRAY_LENGTH': case 'JSON_TYPEOF': case 'JSON_STRIP_NULLS': {
      arity(e, 1, 1, 'one JSON value');
      const j = jsonOperand(e.args[0], scope, c, `${fn}()`);
      return (r, ctx) => {
        const v = j(r, ctx);
        if (v === null) return null;
        if (name === 'JSON_TYPEOF') return jsonTypeof(v);
        if (name === 'JSON_STRIP_NULLS') return stripNulls(v);
        if (!isArray(v)) throw new KalamError('TYPE_MISMATCH', `${fn}() cannot get the array length of ${isObject(v) ? 'an object' : 'a scalar'}: pass a JSON array (check jsonb_typeof(x) = 'array')`);
        return v.length;
      };
    }
    case 'JSON_BUILD_OBJECT': {
      if (e.args.length % 2 !== 0) throw new KalamError('INVALID_SQL', `${fn}() takes alternating keys and values: the argument list must have an even number of elements (got ${e.args.length})`);
      const args = e.args.map(c);
      return (r, ctx) => {
        const out: { [k: string]: JsonValue } = {};
        for (let i = 0; i < args.length; i += 2) {
          const k = args[i](r, ctx);
          if (k === null) throw new KalamError('INVALID_PARAMETER', `${fn}() argument ${i + 1}: a key must not be null`);
          const key = typeof k === 'string' ? k : typeof k === 'object' && !(k instanceof Uint8Array) ? jsonbText(k) : String(k);
          const value = member(toJson(args[i + 1](r, ctx), `${fn}()`));
          if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
          else out[key] = value;
        }
        return Object.freeze(out);
      };
    }
    case 'JSON_BUILD_ARRAY': {
      const args = e.args.map(c);
      return (r, ctx) => Object.freeze(args.map((a) => member(toJson(a(r, ctx), `${fn}()`)))) as JsonValue;
    }
    case 'TO_JSON': {
      arity(e, 1, 1, 'one value');
      const a = c(e.args[0]);
      return (r, ctx) => toJson(a(r, ctx), `${fn}()`);
    }
    case 'JSON_OBJECT_KEYS': {
      // PostgreSQL returns a set of rows; here (as KalamDB's json_object_keys) the keys come as one JSON array.
      arity(e, 1, Infinity, 'a JSON value and optional path steps');
      const at = pathEvaluator(e, scope, c, fn);
      return (r, ctx) => {
        const v = at(r, ctx);
        if (v === null) return null;
        if (!isObject(v)) {
          if (e.args.length > 1) return null;
          throw new KalamError('TYPE_MISMATCH', `${fn}() needs a JSON object, got ${jsonTypeof(v) === 'array' ? 'an array' : `a ${jsonTypeof(v)}`}`);
        }
        return Object.freeze(Object.keys(v)) as JsonValue;
      };
    }
    case 'JSON_GET': case 'JSON_GET_STR': case 'JSON_GET_INT': case 'JSON_GET_FLOAT': case 'JSON_GET_BOOL': case 'JSON_GET_JSON':
    case 'JSON_AS_TEXT': case 'JSON_CONTAINS': case 'JSON_LENGTH': {
      arity(e, 1, Infinity, 'a JSON value and optional path steps (keys or array indexes)');
      const at = pathEvaluator(e, scope, c, fn);
      return (r, ctx) => {
        const v = at(r, ctx);
        if (name === 'JSON_CONTAINS') return v !== null;
        if (v === null) return null;
        switch (name) {
          case 'JSON_GET': return v;
          case 'JSON_GET_STR': return typeof v === 'string' ? v : null;
          case 'JSON_GET_INT': return typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : null;
          case 'JSON_GET_FLOAT': return typeof v === 'number' ? v : null;
          case 'JSON_GET_BOOL': return typeof v === 'boolean' ? v : null;
          case 'JSON_GET_JSON': return jsonbText(v);
          case 'JSON_AS_TEXT': return jsonAsText(v);
          default: return isArray(v) ? v.length : isObject(v) ? Object.keys(v).length : null;
        }
      };
    }
    default:
      return undefined;
  }
}

/** The value at `json, step, step…` (datafusion-functions-json's path arguments): SQL NULL when a step is missing. */
function pathEvaluator(e: Call, scope: Scope, c: (x: Expr) => Evaluator, fn: string): (r: Parameters<Evaluator>[0], ctx: Parameters<Evaluator>[1]) => JsonValue | null {
  const j = jsonOperand(e.args[0], scope, c, `${fn}()`);
  const path = e.args.slice(1).map(c);
  return (r, ctx) => {
    let v = j(r, ctx);
    for (const p of path) v = step(v, p(r, ctx));
    return v;
  };
}

/** jsonb_strip_nulls: object fields whose value is null are removed, at every depth (array elements stay). */
function stripNulls(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return Object.freeze(v.map(stripNulls)) as JsonValue;
  if (!isObject(v)) return v;
  const out: { [k: string]: JsonValue } = {};
  for (const k of Object.keys(v)) {
    if (v[k] === null) continue;
    const x = stripNulls(v[k]);
    if (k === '__proto__') Object.defineProperty(out, k, { value: x, enumerable: true, writable: true, configurable: true });
    else out[k] = x;
  }
  return Object.freeze(out);
}
