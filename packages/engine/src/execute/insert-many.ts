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
 *
 * The engine side of it, loaded on first use (lazy-executors.ts); the input's
 * checks and chunking are insert-chunks.ts.
 */
import { KalamError } from '../core/errors';
import { partitionOf, type TableDef } from '../core/schema';
import type { Value } from '../core/types';
import { coerce } from '../core/values';
import type { SourceResolver } from '../plan/source';
import { insertTarget, planInsertValues, type WritePlan } from '../plan/write';
import type { PreparedCold } from './cold-reads';
import { runWrite, type DmlContext } from './dml';
import { describeInput, insertChunks, insertManyError, type CheckedRow, type InsertManyProgress, type ResolvedInsertManyOptions } from './insert-chunks';
import type { QueryRegistry } from './queries';
import type { SessionState } from './session-state';
import { loadColumnTypesFor } from './sql-extensions';

export interface InsertManyContext extends DmlContext {
  readonly sources: SourceResolver;
  readonly queries: QueryRegistry;
  prepareKeys(keys: Iterable<{ table: TableDef; user: string; pk: Value }>): Promise<PreparedCold>;
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
  await loadColumnTypesFor(engine.catalog); // DECIMAL, INTERVAL and EMBEDDING values are read as such
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
