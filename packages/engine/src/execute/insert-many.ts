/**
 * session.insertMany: a bulk load that needs no tuning. The input (an
 * iterable or async iterable of row objects) is read in chunks of a bounded
 * number of rows and bytes; each chunk is one INSERT through the normal
 * write path (permissions, USER-table partitions, value checks, the hot
 * budget's back-pressure, group commit, live queries) and one storage
 * commit. Only the chunk being written is held in memory.
 *
 * Resumable: a committed chunk stays committed. A failure rejects with the
 * failing chunk's KalamError, which writes nothing of that chunk and carries
 * `rowsCommitted`: the rows before it, where a new call resumes (`offset`).
 */
import { KalamError } from '../core/errors';
import { partitionOf, type TableDef } from '../core/schema';
import type { Value } from '../core/types';
import { coerce } from '../core/values';
import type { SourceResolver } from '../plan/source';
import { insertTarget, planInsertValues, type WritePlan } from '../plan/write';
import type { PreparedCold } from './cold-reads';
import { runWrite, type DmlContext } from './dml';
import type { AbortSignalLike, QueryRegistry } from './queries';
import type { SessionState } from './session-state';
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

export interface InsertManyContext extends DmlContext {
  readonly sources: SourceResolver;
  readonly queries: QueryRegistry;
  prepareKeys(keys: Iterable<{ table: TableDef; user: string; pk: Value }>): Promise<PreparedCold>;
}

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

/** A table name as insertMany takes it: 'table' (the session's namespace) or 'namespace.table'. */
function splitTableName(table: unknown): { namespace: string | undefined; name: string } {
  if (typeof table !== 'string' || table.length === 0) {
    throw new KalamError('INVALID_NAME', `insertMany() needs a table name: 'table' or 'namespace.table' (got ${describeInput(table)})`);
  }
  const parts = table.split('.');
  if (parts.length > 2 || parts.some((p) => p.length === 0)) {
    throw new KalamError('INVALID_NAME', `Invalid table name '${table}': use 'table' or 'namespace.table'`);
  }
  return parts.length === 2 ? { namespace: parts[0], name: parts[1] } : { namespace: undefined, name: parts[0] };
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
 * Loads `rows` into `table` in chunks, each its own commit; resolves with
 * the rows committed (counting `options.offset`) and the chunks. Errors of
 * the engine carry `rowsCommitted` (an InsertManyError); an error thrown by
 * the input's iterator or by `onProgress` is the caller's own and is
 * rethrown as it is (the last progress reported says what is committed).
 */
export async function insertMany(
  engine: InsertManyContext,
  state: SessionState,
  table: unknown,
  rows: unknown,
  options: ResolvedInsertManyOptions,
  client?: string,
): Promise<InsertManyProgress> {
  engine.assertOpen();
  const { namespace, name } = splitTableName(table);
  // A table that is missing (or a system table) fails before any row is read.
  const target = insertTarget(engine.sources, namespace, name, state.namespace).table;
  const running = engine.queries.start(state, `insertMany into ${target.namespace}.${target.name}`, { signal: options.signal, client });
  const chunked = insertChunks(rows, options, options.offset, engine.planner.limits.maxJsonDepth, () => running.throwIfCancelled());
  let committed = options.offset;
  let chunks = 0;
  let failure: unknown;
  try {
    for await (const chunk of chunked) {
      await writeChunk(engine, state, namespace, name, chunk, committed, running);
      committed += chunk.length;
      chunks++;
      options.onProgress?.({ rowsCommitted: committed, chunks });
    }
    return { rowsCommitted: committed, chunks };
  } catch (e) {
    failure = e;
    if (!(e instanceof KalamError)) throw e;
    throw insertManyError(e, committed);
  } finally {
    engine.queries.finish(running, failure);
  }
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

/** One chunk: one INSERT through the write path, one commit. */
async function writeChunk(
  engine: InsertManyContext,
  state: SessionState,
  namespace: string | undefined,
  name: string,
  rows: readonly CheckedRow[],
  firstRow: number,
  running: ReturnType<QueryRegistry['start']>,
): Promise<void> {
  // Planned again (the table looked up again) when an ALTER TABLE ran while the chunk waited for the write lock.
  const plan = (): { plan: WritePlan; params: Value[] } => {
    const src = insertTarget(engine.sources, namespace, name, state.namespace);
    return { plan: planInsertValues(src, valuesOf(src.table, rows, firstRow), firstRow), params: [] };
  };
  const planned = plan();
  const keys = primaryKeys(planned.plan.target, rows, state.user);
  await runWrite(engine, state, planned, plan, () => engine.prepareKeys(keys), engine.pace(running), running);
}

const TIME_TYPES = new Set(['TIMESTAMP', 'DATETIME', 'DATE']);

/** Each row as a value per column of `t` (undefined: its default); COLUMN_NOT_FOUND for a key that is no column. */
function valuesOf(t: TableDef, rows: readonly CheckedRow[], firstRow: number): (Value | undefined)[][] {
  const index = new Map(t.columns.map((c, i) => [c.name, i]));
  return rows.map((row, k) => {
    const values = new Array<Value | undefined>(t.columns.length);
    for (const key in row) {
      const i = index.get(key);
      if (i === undefined) {
        if (key === '_seq' || key === '_deleted') {
          throw new KalamError('INVALID_PARAMETER', `Row ${firstRow + k}: system column '${key}' is set by the database and cannot be written`);
        }
        throw new KalamError('COLUMN_NOT_FOUND', `Row ${firstRow + k}: column '${key}' does not exist in table '${t.namespace}.${t.name}' (its columns: ${t.columns.map((c) => c.name).join(', ')})`);
      }
      const v = row[key];
      // As for a bare parameter (plan/write.ts valueInto): a Date goes only into a time column.
      if ((v as unknown) instanceof Date && !TIME_TYPES.has(t.columns[i].type)) {
        throw new KalamError('TYPE_MISMATCH', `Row ${firstRow + k}: column '${key}' is ${t.columns[i].type}, and a Date only goes into a TIMESTAMP, DATETIME or DATE column`);
      }
      values[i] = v;
    }
    return values;
  });
}

/** The primary keys the chunk writes, whose committed versions the uniqueness check reads (cold ones loaded first). */
function primaryKeys(t: TableDef, rows: readonly CheckedRow[], user: string): { table: TableDef; user: string; pk: Value }[] {
  if (t.pk < 0) return [];
  const column = t.columns[t.pk];
  const partition = partitionOf(t, user);
  const keys: { table: TableDef; user: string; pk: Value }[] = [];
  for (const row of rows) {
    const given = row[column.name];
    // Left out: a literal default is the key; generated ids are new by construction (no older row holds them).
    const raw = given !== undefined ? given : column.default?.kind === 'literal' ? column.default.value : undefined;
    if (raw === undefined || raw === null) continue;
    try {
      keys.push({ table: t, user: partition, pk: coerce(raw, column.type, column.name) });
    } catch {
      // A value its column refuses: the chunk fails on it before anything is read.
    }
  }
  return keys;
}

function describeInput(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : typeof v;
}
