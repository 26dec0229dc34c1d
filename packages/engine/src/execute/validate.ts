/** Checks of what a caller passes with a statement: parameter values and live-query options. */
import { KalamError } from '../core/errors';
import type { LiveOptions } from '../live/types';

export function validateLiveOptions(options: LiveOptions | undefined): LiveOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') throw new KalamError('INVALID_OPTION', 'Live query options must be an object: { lastRows?, batchSize?, from? }');
  const count = (name: string, v: unknown, min: number) => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new KalamError('INVALID_OPTION', `Live query option ${name} must be a whole number of at least ${min}, got ${String(v)}`);
    }
    return v;
  };
  const out: LiveOptions = {};
  const lastRows = count('lastRows', options.lastRows, 0);
  const batchSize = count('batchSize', options.batchSize, 1);
  if (lastRows !== undefined) out.lastRows = lastRows;
  if (batchSize !== undefined) out.batchSize = batchSize;
  const from = options.from as unknown;
  if (from !== undefined) {
    if (typeof from === 'bigint' && from >= 0n) out.from = from;
    else if ((typeof from === 'number' && Number.isSafeInteger(from) && from >= 0) || (typeof from === 'string' && /^\d+$/.test(from))) out.from = BigInt(from);
    else throw new KalamError('INVALID_OPTION', `Live query option from must be a _seq (a non-negative bigint), got ${String(from)}`);
  }
  return out;
}

export function validateParams(params: readonly unknown[]): void {
  if (!Array.isArray(params)) throw new KalamError('INVALID_PARAMETER', 'Parameters must be an array of values');
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    const t = typeof v;
    if (v === null || t === 'string' || t === 'boolean' || t === 'bigint' || v instanceof Uint8Array || v instanceof Date) continue;
    if (t === 'number') {
      if (Number.isNaN(v)) throw new KalamError('INVALID_PARAMETER', `Parameter $${i + 1} is NaN: pass a number or null`);
      continue;
    }
    if (t === 'undefined') throw new KalamError('INVALID_PARAMETER', `Parameter $${i + 1} is undefined: pass null for SQL NULL`);
    if (t === 'object' && (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype)) continue; // JSON
    throw new KalamError('INVALID_PARAMETER', `Parameter $${i + 1} has unsupported type ${t}: pass a string, number, bigint, boolean, Uint8Array, Date, JSON value or null`);
  }
}

