/**
 * `CREATE [USER|SHARED|STREAM] TABLE [IF NOT EXISTS] t [WITH (…)] AS
 * <query>`: three steps, each through the path its statement kind has.
 *
 * 1. The query runs in the creating session (so a USER table's query reads
 *    that user's rows): its columns name the table's columns and give
 *    their types; a column the planner cannot type takes the type of its
 *    first non-NULL value (TEXT when there is none).
 * 2. The table is created as CREATE TABLE would create it (ddl.ts: table
 *    type, options, roles); its first column is the primary key, as USER
 *    and SHARED tables need one (STREAM tables have none).
 * 3. `INSERT INTO t (cols) <query>` runs in the same session: a USER table
 *    holds the creating user's rows, in that user's partition, with
 *    INSERT's checks (a repeated or NULL first column is a primary-key
 *    error). If the insert fails, the table is dropped again, so the
 *    statement leaves nothing behind.
 *
 * Loaded on first use (lazy-executors.ts).
 */
import { KalamError } from '../core/errors';
import type { DataType, StatementResult, Value } from '../core/types';
import type { CreateTableStmt } from '../sql/ast';
import type { DdlStatement } from './ddl';
import { okResult } from './results';
import type { SessionState } from './session-state';

export interface CreateTableAsContext {
  /** Runs one statement in `state`'s session (runStatement). */
  run(state: SessionState, sql: string, params: readonly Value[]): Promise<StatementResult>;
  /** Runs CREATE/DROP TABLE under the write lock (ddl.ts). */
  ddl(state: SessionState, stmt: DdlStatement): Promise<StatementResult>;
}

/** The type a value of an untyped column says its column has. */
function typeOfValue(v: Value): DataType {
  if (typeof v === 'bigint') return 'BIGINT';
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) <= 2_147_483_647 ? 'INT' : 'DOUBLE';
  if (typeof v === 'boolean') return 'BOOLEAN';
  if (v instanceof Uint8Array) return 'BYTES';
  if (typeof v === 'object' && v !== null) return 'JSON';
  return 'TEXT';
}

export async function executeCreateTableAs(ctx: CreateTableAsContext, state: SessionState, stmt: CreateTableStmt, text: string, params: readonly Value[]): Promise<StatementResult> {
  const query = text.slice(stmt.asQueryOffset).trim().replace(/;$/, '');
  const result = await ctx.run(state, query, params);
  if (result.kind !== 'rows') throw new KalamError('INVALID_SQL', 'CREATE TABLE … AS needs a query that returns rows (SELECT, VALUES, WITH …)');
  const names = result.columns.map((c) => c.name);
  if (new Set(names).size !== names.length) throw new KalamError('DUPLICATE_COLUMN', `The query gives two columns the same name (${names.join(', ')}): give each an alias`);
  const columns = result.columns.map((c, i) => {
    let type = c.type as DataType | 'UNKNOWN';
    if (type === 'UNKNOWN') {
      const first = result.rows.find((r) => r[c.name] !== null && r[c.name] !== undefined);
      type = first ? typeOfValue(first[c.name] as Value) : 'TEXT';
    }
    return { name: c.name, type, notNull: false, primaryKey: i === 0 };
  });
  const create: CreateTableStmt = { ...stmt, columns, asQueryOffset: undefined };
  const isStream = (create.prefixType ?? create.options.TYPE?.toUpperCase()) === 'STREAM';
  if (isStream) for (const c of columns) c.primaryKey = false;
  const created = await ctx.ddl(state, create);
  if (!/created$/.test(created.message)) return created; // IF NOT EXISTS found it: nothing is inserted, as PostgreSQL does
  const table = `${stmt.table.namespace ? `${stmt.table.namespace}.` : ''}${stmt.table.name}`;
  try {
    const inserted = await ctx.run(state, `INSERT INTO ${table} (${names.join(', ')}) ${query}`, params);
    return okResult(`${created.message} with ${inserted.rowCount} row(s)`, inserted.rowCount);
  } catch (e) {
    await ctx.ddl(state, { kind: 'dropTable', table: stmt.table, ifExists: true });
    throw e;
  }
}
