/**
 * ALTER TABLE: schema evolution and SET ACCESS LEVEL.
 *
 * Every change that alters a row's layout (ADD, DROP, MODIFY COLUMN) rewrites
 * every stored row of the table, in every user partition and tombstones
 * included, in the same storage commit as the new definition, and only then
 * applies both to memory. So rows written under an older version always read
 * in the current layout, and a failure (a value that cannot convert, a failed
 * commit) changes nothing. Column ids are stable: a rename keeps the id, an
 * added column gets a fresh one (never reused), because data keyed by column
 * id (the cold tier's segment statistics) must outlive renames.
 *
 * Roles: service, dba and system may make any change (SHARED tables need
 * service at least, reference §2.4). The user role may only ADD COLUMN to
 * USER and STREAM tables: their schema is shared by every user, and every
 * other change would alter or break other users' rows (the isolation suite
 * holds us to zero changes to them). A departure from KalamDB, which lets
 * the user role make any column change to USER tables.
 *
 * A statement that changes nothing (DROP NOT NULL on a nullable column)
 * keeps the version, as KalamDB does; every real change bumps it and records
 * the new definition in system.schemas.
 */
import { accessLevelOf, checkAlterTable, checkSetAccessLevel, isAccessLevel } from '../auth/permissions';
import type { Catalog } from '../catalog/catalog';
import { KalamError } from '../core/errors';
import { ulid, uuidV7, type SeqGenerator } from '../core/ids';
import { deletedSlot, seqSlot, type ColumnDef, type TableDef } from '../core/schema';
import type { AlterOp, AlterTableStmt, DefaultSpec } from '../sql/ast';
import { RESERVED_COLUMNS, validateName } from '../sql/names';
import { storeOf, type HotChange, type HotTier } from '../storage/hot-tier';
import type { UnitOfWork } from '../storage/unit-of-work';
import type { Files } from './files';
import type { SessionState } from './session-state';
import type { DataType, StatementResult, Value } from '../core/types';
import { coerce, describeValue, stableJson } from '../core/values';

/** Where each column of the new layout takes its value from, for one stored row. */
type ColumnSource =
  | { kind: 'copy'; from: number }
  | { kind: 'convert'; from: number; convert: (v: Value) => Value; convertTombstone: (v: Value) => Value }
  | { kind: 'fill'; value: (user: string) => Value };

/** What one ALTER does: the next definition, and how rows move to it when the layout changes. */
interface AlterPlan {
  description: string;
  next: TableDef | null;
  /** Per column of `next`; absent when the row layout stays as it is. */
  sources?: ColumnSource[];
}

const SYSTEM_COLUMNS = new Set(['_seq', '_deleted', '_commit_seq']);

const q = (t: TableDef) => `${t.namespace}.${t.name}`;
const ok = (message: string): StatementResult => ({ kind: 'ok', columns: [], rows: [], rowCount: 0, message });

/** What ALTER TABLE needs: the catalog, the hot rows it rewrites, SNOWFLAKE_ID() for defaults, and the commit path. */
export interface AlterContext {
  readonly catalog: Catalog;
  readonly hot: HotTier;
  readonly snowflake: SeqGenerator;
  commit(unit: UnitOfWork): Promise<void>;
  /** FILE columns' code, attached once the database ever stored a file (execute/files.ts): DROP COLUMN of a FILE column deletes its files. */
  readonly files?: Pick<Files, 'dropColumn'>;
}

/** Run under the write lock. */
export async function executeAlterTable(engine: AlterContext, state: SessionState, stmt: AlterTableStmt): Promise<StatementResult> {
  const ns = (stmt.table.namespace ?? state.namespace).toLowerCase();
  if (ns === 'system') throw new KalamError('PERMISSION_DENIED', `Cannot alter system table 'system.${stmt.table.name}'`);
  const t = engine.catalog.requireTable(ns, stmt.table.name.toLowerCase());
  if (stmt.op.kind === 'setAccessLevel') checkSetAccessLevel(state.role);
  else checkAlterTable(state.role, t, stmt.op.kind === 'addColumn');
  const plan = planAlter(engine, state, t, stmt.op);
  if (!plan.next) return ok(`Table ${q(t)} unchanged: ${plan.description} (version ${t.version} - no changes needed)`);
  const next = plan.next;

  // Compute every rewritten row first: a value that cannot convert fails here, before anything is written.
  // Every page of the table is rewritten with its rows in the new layout (the `_deleted` slot keeps its place from the end).
  const rewritten: HotChange[] = [];
  if (plan.sources) {
    const sources = plan.sources;
    const oldSeq = seqSlot(t);
    const oldDeleted = deletedSlot(t);
    const store = storeOf(t);
    for (const [user, partition] of engine.hot.table(t.id).partitions) {
      for (const [pkHash, before] of partition) {
        const isTombstone = before[oldDeleted] === true;
        const after = new Array<Value>(sources.length + 2);
        for (let j = 0; j < sources.length; j++) {
          const s = sources[j];
          after[j] = s.kind === 'copy' ? before[s.from]
            : s.kind === 'fill' ? s.value(user)
            : isTombstone ? s.convertTombstone(before[s.from]) : s.convert(before[s.from]);
        }
        after[sources.length] = before[oldSeq];
        after[sources.length + 1] = before[oldDeleted];
        rewritten.push({ tableId: t.id, user, pkHash, key: t.pk >= 0 ? before[t.pk] : before[oldSeq], row: Object.freeze(after), store, deletedSlot: sources.length + 1, beforeDeletedSlot: oldDeleted });
      }
    }
  }
  // The definition and the rows change in one commit; plans of the table are dropped and its live queries re-run.
  // A dropped FILE column's files go in it too (their records; the blobs right after).
  const dropped = t.columns.find((c) => c.type === 'FILE' && !next.columns.some((n) => n.id === c.id));
  const files = dropped && (await engine.files?.dropColumn(t, dropped.id));
  await engine.commit({ state: [engine.catalog.alterTableWrites(next), ...(files ? [files] : [])], hot: rewritten, altered: [t.id] });
  return ok(`Table ${q(t)} altered successfully: ${plan.description} (version ${next.version})`);
}

function planAlter(engine: AlterContext, state: SessionState, t: TableDef, op: AlterOp): AlterPlan {
  const bump = (changes: Partial<TableDef>): TableDef => ({ ...t, ...changes, version: t.version + 1, updatedAt: Date.now() });
  const identity = (): ColumnSource[] => t.columns.map((_, i) => ({ kind: 'copy', from: i }));
  switch (op.kind) {
    case 'addColumn': {
      const spec = op.column;
      const description = `ADD COLUMN ${spec.name} ${spec.type}`;
      if (RESERVED_COLUMNS.has(spec.name)) {
        throw new KalamError('INVALID_NAME', `Cannot add column '${op.written}': reserved system column name`);
      }
      const name = validateName(op.written, 'column');
      if (t.columns.some((c) => c.name === name)) {
        if (op.ifNotExists) return { description, next: null };
        throw new KalamError('DUPLICATE_COLUMN', `Duplicate column name '${op.written}'. Column names are case-insensitive.`);
      }
      const id = nextColumnId(t);
      const column: ColumnDef = { id, name, type: spec.type, notNull: spec.notNull, primaryKey: false };
      if (spec.precision !== undefined) { column.precision = spec.precision; column.scale = spec.scale; }
      const def = spec.default ? normalizeDefault(spec.default, column) : undefined;
      if (def) column.default = def;
      const fill = defaultFiller(engine, state, column);
      if (column.notNull && !def) {
        const rows = liveRowCount(engine, t);
        if (rows > 0) {
          throw new KalamError(
            'NOT_NULL_VIOLATION',
            `Cannot add NOT NULL column '${name}' without a DEFAULT: table '${q(t)}' has ${rows} row(s) that would hold NULL. Give the column a DEFAULT, or add it as NULL, fill it, then ALTER COLUMN ${name} SET NOT NULL`,
          );
        }
      }
      if (column.notNull && def?.kind === 'literal' && def.value === null && liveRowCount(engine, t) > 0) {
        throw new KalamError('NOT_NULL_VIOLATION', `Cannot add NOT NULL column '${name}' with DEFAULT NULL: table '${q(t)}' has rows`);
      }
      return {
        description,
        next: bump({ columns: [...t.columns, column], nextColumnId: id + 1 }),
        sources: [...identity(), { kind: 'fill', value: fill }],
      };
    }
    case 'dropColumn': {
      const description = `DROP COLUMN ${op.column}`;
      if (SYSTEM_COLUMNS.has(op.column)) {
        throw new KalamError('INVALID_SQL', `Cannot drop column '${op.column}': system column cannot be modified`);
      }
      const i = t.columns.findIndex((c) => c.name === op.column);
      if (i < 0) {
        if (op.ifExists) return { description, next: null };
        throw columnNotFound(t, op.column);
      }
      if (i === t.pk) {
        throw new KalamError('INVALID_SQL', `Cannot drop column '${op.column}': it is the primary key of table '${q(t)}'. Create a new table to change the primary key`);
      }
      if (t.columns.length === 1) {
        throw new KalamError('INVALID_SQL', `Cannot drop column '${op.column}': it is the only column of table '${q(t)}'`);
      }
      const indexed = t.indexes?.find((x) => x.columns.some((c) => c.id === t.columns[i].id));
      if (indexed) {
        throw new KalamError('INVALID_SQL', `Cannot drop column '${op.column}': index ${t.namespace}.${indexed.name} uses it. Drop the index first (DROP INDEX ${t.namespace}.${indexed.name})`);
      }
      const columns = t.columns.filter((_, k) => k !== i);
      return {
        description,
        next: bump({ columns, pk: t.pk > i ? t.pk - 1 : t.pk, nextColumnId: nextColumnId(t) }),
        sources: identity().filter((_, k) => k !== i),
      };
    }
    case 'renameColumn': {
      const description = `RENAME COLUMN ${op.from} TO ${op.to}`;
      if (SYSTEM_COLUMNS.has(op.from)) {
        throw new KalamError('INVALID_SQL', `Cannot rename column '${op.from}': system column cannot be modified`);
      }
      if (RESERVED_COLUMNS.has(op.to)) {
        throw new KalamError('INVALID_NAME', `Cannot rename column to '${op.to}': reserved system column name`);
      }
      const i = t.columns.findIndex((c) => c.name === op.from);
      if (i < 0) throw columnNotFound(t, op.from);
      const to = validateName(op.to, 'column');
      if (t.columns.some((c) => c.name === to)) {
        throw new KalamError('DUPLICATE_COLUMN', `Duplicate column name '${op.to}'. Column names are case-insensitive.`);
      }
      // Same id, same slot: stored rows need no rewrite.
      return { description, next: bump({ columns: replaceAt(t.columns, i, { ...t.columns[i], name: to }) }) };
    }
    case 'modifyColumn': {
      const description = `MODIFY COLUMN ${op.column} ${op.type}`;
      const i = requireColumn(t, op.column, 'modify');
      const col = t.columns[i];
      const typeChanged = col.type !== op.type || col.precision !== op.precision || col.scale !== op.scale;
      if (col.primaryKey && typeChanged) {
        throw new KalamError(
          'INVALID_SQL',
          `Cannot change the type of column '${col.name}': it is the primary key of table '${q(t)}'. Create a new table to change the primary key`,
        );
      }
      if (col.primaryKey && op.notNull === false) throw pkNullable(col.name);
      if (typeChanged && (col.type === 'FILE' || op.type === 'FILE')) {
        throw new KalamError('UNSUPPORTED', `Cannot change column '${col.name}' ${col.type === 'FILE' ? 'from' : 'to'} FILE: a FILE column holds files, not values. Add a new column, copy what you need, then drop the old one`);
      }
      const notNull = op.notNull ?? col.notNull;
      if (!typeChanged && notNull === col.notNull) return { description, next: null };
      const next: ColumnDef = { ...col, type: op.type, notNull };
      delete next.precision;
      delete next.scale;
      if (op.precision !== undefined) { next.precision = op.precision; next.scale = op.scale; }
      if (col.default?.kind === 'literal' && typeChanged) {
        next.default = { kind: 'literal', value: convertValue(col.default.value, col.type, op.type, `${col.name} (its DEFAULT)`, t, op.precision, op.scale) };
      }
      if (notNull && !col.notNull) requireNoNulls(engine, t, i);
      if (!typeChanged) return { description, next: bump({ columns: replaceAt(t.columns, i, next) }) };
      const sources = identity();
      sources[i] = {
        kind: 'convert',
        from: i,
        convert: (v) => convertValue(v, col.type, op.type, col.name, t, op.precision, op.scale),
        // A tombstone's values are only seen by WHERE _deleted queries: one that cannot convert becomes NULL rather than block the change.
        convertTombstone: (v) => {
          try {
            return convertValue(v, col.type, op.type, col.name, t, op.precision, op.scale);
          } catch {
            return null;
          }
        },
      };
      return { description, next: bump({ columns: replaceAt(t.columns, i, next) }), sources };
    }
    case 'setNotNull': {
      const description = `ALTER COLUMN ${op.column} ${op.notNull ? 'SET' : 'DROP'} NOT NULL`;
      const i = requireColumn(t, op.column, 'modify');
      const col = t.columns[i];
      if (col.primaryKey && !op.notNull) throw pkNullable(col.name);
      if (col.notNull === op.notNull) return { description, next: null };
      if (op.notNull) requireNoNulls(engine, t, i);
      return { description, next: bump({ columns: replaceAt(t.columns, i, { ...col, notNull: op.notNull }) }) };
    }
    case 'setDefault': {
      const i = requireColumn(t, op.column, 'modify');
      const col = t.columns[i];
      if (op.default === null) {
        const description = `ALTER COLUMN ${op.column} DROP DEFAULT`;
        if (!col.default) return { description, next: null };
        const next = { ...col };
        delete next.default;
        return { description, next: bump({ columns: replaceAt(t.columns, i, next) }) };
      }
      const def = normalizeDefault(op.default, col);
      const description = `ALTER COLUMN ${op.column} SET DEFAULT ${defaultText(def)}`;
      if (col.default && stableJson(col.default) === stableJson(def)) return { description, next: null };
      return { description, next: bump({ columns: replaceAt(t.columns, i, { ...col, default: def }) }) };
    }
    case 'setAccessLevel': {
      const level = op.level.toLowerCase();
      const description = `SET ACCESS LEVEL ${level}`;
      if (t.type !== 'SHARED') throw new KalamError('INVALID_SQL', 'ACCESS LEVEL can only be set on SHARED tables');
      if (!isAccessLevel(level)) {
        throw new KalamError('INVALID_OPTION', `Invalid ACCESS_LEVEL '${op.level}': use PUBLIC, PRIVATE, RESTRICTED or DBA`);
      }
      if (accessLevelOf(t) === level) return { description, next: null };
      const options = { ...t.options };
      if (options.ACCESS_LEVEL !== undefined) options.ACCESS_LEVEL = level.toUpperCase();
      return { description, next: bump({ accessLevel: level, options }) };
    }
  }
}

function nextColumnId(t: TableDef): number {
  return t.nextColumnId ?? t.columns.reduce((m, c) => Math.max(m, c.id), 0) + 1;
}

function replaceAt(columns: readonly ColumnDef[], i: number, c: ColumnDef): ColumnDef[] {
  const out = columns.slice();
  out[i] = c;
  return out;
}

function columnNotFound(t: TableDef, name: string): KalamError {
  return new KalamError('COLUMN_NOT_FOUND', `Column '${name}' does not exist in table '${q(t)}'`);
}

function pkNullable(name: string): KalamError {
  return new KalamError('INVALID_SQL', `Column '${name}' is a PRIMARY KEY and cannot be nullable`);
}

/** Index of a user column an ALTER changes; system columns and unknown names are refused. */
function requireColumn(t: TableDef, name: string, verb: 'modify'): number {
  if (SYSTEM_COLUMNS.has(name)) throw new KalamError('INVALID_SQL', `Cannot ${verb} column '${name}': system column cannot be altered`);
  const i = t.columns.findIndex((c) => c.name === name);
  if (i < 0) throw columnNotFound(t, name);
  return i;
}

function liveRowCount(engine: AlterContext, t: TableDef): number {
  return engine.hot.table(t.id).liveRows;
}

function requireNoNulls(engine: AlterContext, t: TableDef, i: number): void {
  const del = deletedSlot(t);
  let nulls = 0;
  for (const partition of engine.hot.table(t.id).partitions.values()) {
    for (const row of partition.values()) if (row[del] !== true && row[i] === null) nulls++;
  }
  if (nulls > 0) {
    const name = t.columns[i].name;
    throw new KalamError(
      'NOT_NULL_VIOLATION',
      `NOT NULL violation: column '${name}' of table '${q(t)}' holds NULL in ${nulls} row(s). Set a value in those rows first (UPDATE … SET ${name} = … WHERE ${name} IS NULL)`,
    );
  }
}

/** A default as stored: literals coerced into the column's type now, so a bad literal fails the ALTER. */
function normalizeDefault(d: DefaultSpec, column: ColumnDef): DefaultSpec {
  if (d.kind === 'function') return d;
  return { kind: 'literal', value: coerce(d.value, column.type, column.name) };
}

function defaultText(d: DefaultSpec): string {
  return d.kind === 'literal' ? describeValue(d.value) : `${d.name}()`;
}

/**
 * The value an added column takes in an existing row: its default evaluated
 * for that row (as Postgres does; SNOWFLAKE_ID/UUID_V7/ULID differ per row,
 * CURRENT_USER is the row's owner), or NULL.
 */
function defaultFiller(engine: AlterContext, state: SessionState, column: ColumnDef): (user: string) => Value {
  const d = column.default;
  if (!d) return () => null;
  if (d.kind === 'literal') return () => d.value;
  const now = Date.now();
  switch (d.name) {
    case 'NOW': return () => coerce(now, column.type, column.name);
    case 'SNOWFLAKE_ID': return () => coerce(engine.snowflake.next(), column.type, column.name);
    case 'UUID_V7': return () => coerce(uuidV7(now), column.type, column.name);
    case 'ULID': return () => coerce(ulid(now), column.type, column.name);
    case 'CURRENT_USER': return (user) => coerce(user || state.user, column.type, column.name);
  }
}

const NUMERIC: ReadonlySet<DataType> = new Set(['SMALLINT', 'INT', 'BIGINT', 'FLOAT', 'DOUBLE', 'DECIMAL']);

/**
 * Converts a stored value of type `from` into type `to`, or throws
 * TYPE_MISMATCH saying the ALTER changed nothing.
 */
function convertValue(v: Value, from: DataType, to: DataType, column: string, t: TableDef, precision?: number, scale?: number): Value {
  if (v === null) return null;
  try {
    if (to === 'TEXT') {
      if (from === 'JSON') return JSON.stringify(v);
      if ((from === 'TIMESTAMP' || from === 'DATETIME') && typeof v === 'number') return new Date(v).toISOString();
    }
    if (from === 'BOOLEAN' && NUMERIC.has(to) && typeof v === 'boolean') return coerce(v ? 1 : 0, to, column);
    if (to === 'BOOLEAN' && NUMERIC.has(from) && (typeof v === 'number' || typeof v === 'bigint')) return Number(v) !== 0;
    return coerce(v, to, column, undefined, precision, scale); // DECIMAL(p, s): fitted, or OUT_OF_RANGE (numeric field overflow)
  } catch (e) {
    if (e instanceof KalamError && e.code === 'TYPE_MISMATCH') {
      throw new KalamError(
        'TYPE_MISMATCH',
        `Cannot change column '${column}' of table '${q(t)}' from ${from} to ${to}: the existing value ${describeValue(v)} cannot be converted. Nothing was changed; fix or clear such values first`,
      );
    }
    throw e;
  }
}
