/**
 * insertMany's input, cut into chunks: each row checked and copied as a
 * parameter is, each chunk bounded in rows and rough bytes, read only as the
 * chunks are consumed. Shared by the engine's insertMany (insert-many.ts,
 * loaded on first use) and hosts that cut the chunks on the page (the
 * worker's client sends each chunk as one call), with the error a bulk load
 * stops with.
 */
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import type { AbortSignalLike } from './queries';
import { validateValue } from './validate';

/** Rows per chunk (one commit) unless `chunkRows` says otherwise. */
export const INSERT_MANY_CHUNK_ROWS = 5000;
/** The most rows `chunkRows` may ask for in one chunk. */
export const INSERT_MANY_MAX_CHUNK_ROWS = 100_000;
/** Rough bytes of row values per chunk unless `chunkBytes` says otherwise: a chunk ends at whichever bound it reaches first. */
export const INSERT_MANY_CHUNK_BYTES = 4 * 1024 * 1024;

/** How far a bulk load got: rows committed (counting `offset`), and chunks this call committed. */
export interface InsertManyProgress {
  rowsCommitted: number;
  chunks: number;
}

/** insertMany's options, checked (api/session-options.ts resolveInsertManyOptions). */
export interface ResolvedInsertManyOptions {
  chunkRows: number;
  chunkBytes: number;
  offset: number;
  onProgress?: (progress: InsertManyProgress) => void;
  signal?: AbortSignalLike;
}

/** A bulk load's failure: the failing chunk's error, and the rows committed before that chunk (where to resume). */
export type InsertManyError = KalamError & { readonly rowsCommitted: number };

/** A row as insertMany holds it: the engine's frozen copy, column name → value. */
export type CheckedRow = Readonly<Record<string, Value>>;

/**
 * One input row checked and copied, as a parameter is (validateValue): a
 * plain object keyed by column name; an `undefined` value is left out (the
 * column's default). `index` numbers the row in errors. INVALID_PARAMETER
 * for anything else, naming the row and column.
 */
export function checkInsertRow(row: unknown, index: number, maxJsonDepth?: number): CheckedRow {
  const label = `Row ${index}`;
  let keys: string[];
  try {
    const proto = typeof row === 'object' && row !== null && !Array.isArray(row) ? Object.getPrototypeOf(row) : undefined;
    if (proto !== Object.prototype && proto !== null) {
      throw new KalamError('INVALID_PARAMETER', `${label} must be a plain object keyed by column name, for example { id: 1, title: 'a' } (got ${describeInput(row)})`);
    }
    keys = Object.keys(row as object);
  } catch (e) {
    if (e instanceof KalamError) throw e;
    throw new KalamError('INVALID_PARAMETER', `${label} could not be read: pass a plain object keyed by column name`);
  }
  const out: Record<string, Value> = {};
  for (const key of keys) {
    let v: unknown;
    try {
      v = (row as Record<string, unknown>)[key];
    } catch {
      throw new KalamError('INVALID_PARAMETER', `${label}, column '${key}' could not be read`);
    }
    if (v === undefined) continue;
    out[key] = validateValue(v, `${label}, column '${key}'`, maxJsonDepth);
  }
  return Object.freeze(out);
}

/** Rough bytes of a checked row's values (a chunk's byte bound): strings by length, bytes by size, JSON walked. */
export function roughRowBytes(row: CheckedRow): number {
  let bytes = 16;
  for (const key in row) bytes += key.length + roughBytes(row[key]);
  return bytes;
}

function roughBytes(v: unknown): number {
  if (typeof v === 'string') return 16 + 2 * v.length;
  if (typeof v !== 'object' || v === null) return 8;
  if (v instanceof Uint8Array) return 16 + v.byteLength;
  if (v instanceof Date) return 16;
  let bytes = 16;
  // A JSON value: its depth is bounded by maxJsonDepth (checked when the row was).
  for (const item of Array.isArray(v) ? v : Object.entries(v)) bytes += roughBytes(item);
  return bytes;
}

/** The input as an iterable or async iterable, or INVALID_PARAMETER. */
function rowsOf(rows: unknown): AsyncIterable<unknown> | Iterable<unknown> {
  const isIterable = (k: symbol) => typeof rows === 'object' && rows !== null && typeof (rows as Record<symbol, unknown>)[k] === 'function';
  try {
    if (isIterable(Symbol.asyncIterator)) return rows as AsyncIterable<unknown>;
    if (isIterable(Symbol.iterator)) return rows as Iterable<unknown>;
  } catch {
    // A getter or Proxy trap that throws: not an input that can be read.
  }
  throw new KalamError('INVALID_PARAMETER', `insertMany() needs rows: an array, an iterable or an async iterable of objects keyed by column name (got ${describeInput(rows)})`);
}

/**
 * The input cut into chunks of checked rows (checkInsertRow; rows numbered
 * from `firstRow`), each at most `chunkRows` rows and about `chunkBytes`
 * rough bytes: read only as the chunks are consumed, so one chunk is held at
 * a time. `check` runs before each row is read (cancellation). Shared by
 * the engine's insertMany and hosts that cut chunks on the page (the
 * worker's client sends each chunk as one call).
 */
export async function* insertChunks(
  rows: unknown,
  bounds: { chunkRows: number; chunkBytes: number },
  firstRow: number,
  maxJsonDepth?: number,
  check?: () => void,
): AsyncGenerator<CheckedRow[], void, undefined> {
  const input = rowsOf(rows);
  let next = firstRow;
  let chunk: CheckedRow[] = [];
  let bytes = 0;
  check?.();
  for await (const row of input) {
    check?.();
    const checked = checkInsertRow(row, next++, maxJsonDepth);
    chunk.push(checked);
    bytes += roughRowBytes(checked);
    if (chunk.length >= bounds.chunkRows || bytes >= bounds.chunkBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
      check?.();
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * The error a bulk load stops with: `e` saying where to resume, with
 * `rowsCommitted`. An error that already says so (a chunk's, from a host)
 * only gets the property.
 */
export function insertManyError(e: KalamError, committed: number): InsertManyError {
  if (e.message.includes(STOPPED)) return Object.assign(e, { rowsCommitted: committed });
  const error = new KalamError(
    e.code,
    `${e.message}. ${STOPPED} rows before row ${committed} are committed, nothing from row ${committed} on was written; resume from row ${committed} (error.rowsCommitted)`,
    e.position,
  );
  return Object.assign(error, { rowsCommitted: committed });
}

const STOPPED = 'insertMany stopped:';

export function describeInput(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
}
