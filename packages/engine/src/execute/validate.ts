/** Checks of what a caller passes with a statement: parameter values and live-query options. */
import { KalamError } from '../core/errors';
import { limitExceeded, SQL_LIMIT_DEFAULTS } from '../sql/limits';
import { sealJson, shown, thrownMessage } from '../core/json';
import type { Value } from '../core/types';
import type { LiveOptions } from '../live/types';

/** Live options with nothing set: one object for every live query that passes none. */
const NO_LIVE_OPTIONS: LiveOptions = Object.freeze({});

export function validateLiveOptions(options: LiveOptions | undefined): LiveOptions {
  if (options === undefined || options === null) return NO_LIVE_OPTIONS;
  if (typeof options !== 'object') throw new KalamError('INVALID_OPTION', 'Live query options must be an object: { lastRows?, batchSize?, from? }');
  let given: { lastRows: unknown; batchSize: unknown; from: unknown };
  try {
    given = { lastRows: options.lastRows, batchSize: options.batchSize, from: options.from };
  } catch (e) {
    throw new KalamError('INVALID_OPTION', `Live query options could not be read: ${thrownMessage(e)}. Pass a plain object { lastRows?, batchSize?, from? }`);
  }
  const count = (name: string, v: unknown, min: number) => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new KalamError('INVALID_OPTION', `Live query option ${name} must be a whole number of at least ${min}, got ${shown(v)}`);
    }
    return v;
  };
  const out: LiveOptions = {};
  const lastRows = count('lastRows', given.lastRows, 0);
  const batchSize = count('batchSize', given.batchSize, 1);
  if (lastRows !== undefined) out.lastRows = lastRows;
  if (batchSize !== undefined) out.batchSize = batchSize;
  const from = given.from;
  if (from !== undefined) {
    if (typeof from === 'bigint' && from >= 0n) out.from = from;
    else if ((typeof from === 'number' && Number.isSafeInteger(from) && from >= 0) || (typeof from === 'string' && /^\d+$/.test(from))) out.from = BigInt(from);
    else throw new KalamError('INVALID_OPTION', `Live query option from must be a _seq (a non-negative bigint), got ${shown(from)}`);
  }
  checkLiveOptionCombination(out);
  return out.lastRows === undefined && out.batchSize === undefined && out.from === undefined ? NO_LIVE_OPTIONS : out;
}

/**
 * Combinations KalamDB refuses: `lastRows` arrives in one delivery, so it
 * may not exceed `batchSize` (KalamDB's wording, with our option names).
 */
export function checkLiveOptionCombination(o: LiveOptions): void {
  if (o.lastRows !== undefined && o.batchSize !== undefined && o.lastRows > o.batchSize) {
    throw new KalamError(
      'UNSUPPORTED',
      `last_rows (${o.lastRows}) cannot exceed batch_size (${o.batchSize}); paginated last_rows replay is not supported. ` +
        `Pass lastRows of at most batchSize (${o.batchSize}), raise batchSize to ${o.lastRows} or more, or leave batchSize out`,
    );
  }
}

const invalid = (message: string) => new KalamError('INVALID_PARAMETER', message);

/**
 * Checks the parameters a caller passed and returns the engine's own copy,
 * frozen: JSON values (plain objects and arrays) copied, validated and
 * deep-frozen (core/json.ts), Uint8Arrays and Dates copied — so nothing the
 * caller does with its values afterwards reaches a stored row. More than
 * `maxParameters` values, or a JSON value nested deeper than
 * `maxJsonDepth`: LIMIT_EXCEEDED. Whatever the
 * array or its values do when read (a Proxy, a throwing getter, holes) ends
 * in INVALID_PARAMETER, never in a raw error.
 */
export function validateParams(
  params: readonly unknown[],
  maxParameters: number = SQL_LIMIT_DEFAULTS.maxParameters,
  maxJsonDepth: number = SQL_LIMIT_DEFAULTS.maxJsonDepth,
): readonly Value[] {
  let length: unknown;
  try {
    length = Array.isArray(params) ? params.length : undefined;
  } catch (e) {
    throw invalid(`Parameters could not be read: ${thrownMessage(e)}. Pass a plain array of values`);
  }
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) throw invalid('Parameters must be an array of values');
  // Before any element is read: a sparse `arr[1e9] = 1` costs nothing.
  if (length > maxParameters) throw limitExceeded('maxParameters', `A call with ${length.toLocaleString('en-US')} parameter values`, maxParameters);
  const out = new Array<Value>(length);
  for (let i = 0; i < length; i++) {
    let v: unknown;
    try {
      v = params[i];
    } catch (e) {
      throw invalid(`Parameter $${i + 1} could not be read: ${thrownMessage(e)}`);
    }
    out[i] = validateValue(v, `Parameter $${i + 1}`, maxJsonDepth);
  }
  return Object.freeze(out);
}

/** One value a caller passed (`label` names it: "Parameter $2"): the engine's frozen copy, or INVALID_PARAMETER / LIMIT_EXCEEDED. */
export function validateValue(v: unknown, label: string, maxJsonDepth: number = SQL_LIMIT_DEFAULTS.maxJsonDepth): Value {
  switch (typeof v) {
    case 'string': case 'boolean': case 'bigint':
      return v;
    case 'number':
      if (Number.isNaN(v)) throw invalid(`${label} is NaN: pass a number or null`);
      return v;
    case 'undefined':
      throw invalid(`${label} is undefined (or a hole in the array): pass null for SQL NULL`);
    case 'object':
      break;
    default:
      throw invalid(`${label} has unsupported type ${typeof v}: ${SUPPORTED}`);
  }
  if (v === null) return null;
  let kind: 'array' | 'plain' | 'bytes' | 'date' | 'other';
  try {
    if (Array.isArray(v)) kind = 'array';
    else {
      const proto = Object.getPrototypeOf(v);
      kind = proto === Object.prototype || proto === null ? 'plain' : v instanceof Uint8Array ? 'bytes' : v instanceof Date ? 'date' : 'other';
    }
    if (kind === 'bytes') return new Uint8Array(v as Uint8Array); // a copy, and a plain Uint8Array (not a Buffer)
    if (v instanceof Float32Array) return v.slice(); // an EMBEDDING's value: a copy
    if (kind === 'date') return new Date(Date.prototype.getTime.call(v)) as unknown as Value;
  } catch (e) {
    throw invalid(`${label} could not be read: ${thrownMessage(e)}`);
  }
  if (kind === 'other') throw invalid(v instanceof Blob ? `${label} is a file: store it with execute() or query()` : `${label} has unsupported type object (not a plain object or array): ${SUPPORTED}`);
  return sealJson(v, 'INVALID_PARAMETER', `${label} is an ${kind === 'array' ? 'array' : 'object'}, so it must be a JSON value`, maxJsonDepth);
}

const SUPPORTED = 'pass a string, number, bigint, boolean, Uint8Array, Date, JSON value (plain object or array) or null';
