/**
 * CREATE [UNIQUE] INDEX and DROP INDEX. An index is part of its table's
 * definition (TableDef.indexes), so creating or dropping one is a new
 * schema version committed through the one commit path: the table's plans
 * are invalidated (the planner sees the index from the next statement on),
 * DROP TABLE drops its indexes, and a column rename keeps them (columns by
 * id). Who may: the same rule as changing a table's columns (a USER table's
 * schema is every user's, so the user role may not). Run under the write
 * lock; loaded on first use (lazy-executors.ts).
 */
import { checkAlterTable } from '../auth/permissions';
import type { Catalog } from '../catalog/catalog';
import { KalamError } from '../core/errors';
import type { IndexDef, TableDef } from '../core/schema';
import type { StatementResult } from '../core/types';
import type { CreateIndexStmt, Statement } from '../sql/ast';
import { validateName } from '../sql/names';
import { requestIndexBuild, type CompactContext } from '../jobs/compact';
import type { UnitOfWork } from '../storage/unit-of-work';
import { loadIndexSupport } from './index-loader';
import type { IndexSupportHost } from './index-support';
import { okResult as ok } from './results';
import type { SessionState } from './session-state';

/** Indexes one table may have; each costs every write of the table one more sorted insert. */
export const MAX_INDEXES_PER_TABLE = 16;
/** Key columns one index may have. */
export const MAX_INDEX_COLUMNS = 16;
/** Column types an index does not order (JSON and BYTES have no order an index could serve). */
const UNINDEXABLE = new Set(['JSON', 'FILE', 'BYTES', 'EMBEDDING']);

export interface IndexDdlContext extends IndexSupportHost, CompactContext {
  readonly catalog: Catalog;
  commit(unit: UnitOfWork): Promise<void>;
}

export type IndexStatement = Extract<Statement, { kind: 'createIndex' | 'dropIndex' }>;

export async function executeIndexStatement(engine: IndexDdlContext, state: SessionState, stmt: IndexStatement): Promise<StatementResult> {
  return stmt.kind === 'createIndex' ? createIndex(engine, state, stmt) : dropIndex(engine, state, stmt);
}

/** The index of the namespace named `name`, with its table (index names are unique per namespace). */
function findIndex(catalog: Catalog, namespace: string, name: string): { table: TableDef; index: IndexDef } | undefined {
  for (const table of catalog.listTables(namespace)) {
    const index = table.indexes?.find((i) => i.name === name);
    if (index) return { table, index };
  }
  return undefined;
}

const q = (t: TableDef) => `${t.namespace}.${t.name}`;
const bump = (t: TableDef, indexes: IndexDef[]): TableDef => {
  const next: TableDef = { ...t, version: t.version + 1, updatedAt: Date.now() };
  if (indexes.length > 0) next.indexes = indexes;
  else delete next.indexes;
  return next;
};

async function createIndex(engine: IndexDdlContext, state: SessionState, stmt: CreateIndexStmt): Promise<StatementResult> {
  const { catalog } = engine;
  const ns = (stmt.table.namespace ?? state.namespace).toLowerCase();
  if (ns === 'system') throw new KalamError('PERMISSION_DENIED', `Cannot index system table 'system.${stmt.table.name}'`);
  const t = catalog.requireTable(ns, stmt.table.name.toLowerCase());
  checkAlterTable(state.role, t);
  const name = validateName(stmt.name ?? `${t.name}_${stmt.columns[0].name}_idx`, 'index');
  const existing = findIndex(catalog, ns, name);
  if (existing) {
    if (stmt.ifNotExists) return ok(`Index ${ns}.${name} already exists`);
    throw new KalamError('INDEX_EXISTS', `Index ${ns}.${name} already exists (on table ${q(existing.table)}): choose another name, or drop it first with DROP INDEX ${ns}.${name}`);
  }
  if (t.type === 'STREAM') {
    throw new KalamError('UNSUPPORTED', `Cannot index STREAM table ${q(t)}: stream rows expire by TTL and are read in arrival order; index a USER or SHARED table instead`);
  }
  const indexes = t.indexes ?? [];
  if (indexes.length >= MAX_INDEXES_PER_TABLE) {
    throw new KalamError('LIMIT_EXCEEDED', `Table ${q(t)} already has ${MAX_INDEXES_PER_TABLE} indexes, the most a table may have: drop one you do not use first (DROP INDEX)`);
  }
  if (stmt.columns.length > MAX_INDEX_COLUMNS) {
    throw new KalamError('LIMIT_EXCEEDED', `An index may have at most ${MAX_INDEX_COLUMNS} columns; ${name} names ${stmt.columns.length}`);
  }
  const columns: IndexDef['columns'] = [];
  for (const c of stmt.columns) {
    const col = t.columns.find((x) => x.name === c.name);
    if (!col) {
      throw new KalamError('COLUMN_NOT_FOUND', `Column '${c.name}' does not exist in table ${q(t)}: index one of its columns (${t.columns.map((x) => x.name).join(', ')})`);
    }
    if (UNINDEXABLE.has(col.type)) {
      throw new KalamError('UNSUPPORTED', `Column '${col.name}' is ${col.type}, which an index cannot order: index columns of other types`);
    }
    if (columns.some((x) => x.id === col.id)) {
      throw new KalamError('DUPLICATE_COLUMN', `Index ${name} names column '${col.name}' twice: name each column once`);
    }
    columns.push({ id: col.id, desc: c.desc });
  }
  const index: IndexDef = { name, columns, unique: stmt.unique, createdAt: Date.now() };
  if (index.unique) await (await loadIndexSupport()).verifyUniqueData(engine, t, index);
  const next = bump(t, [...indexes, index]);
  await engine.commit({ state: [catalog.alterTableWrites(next)], altered: [t.id] });
  // Segments written before the index get its record from a compaction that rewrites them; until then their partition is scanned.
  const build = requestIndexBuild(engine, next);
  return ok(`Index ${ns}.${name} created on ${q(t)}${build ? `; its records of the table's cold segments are being written (Job ID: ${build.job_id})` : ''}`);
}

async function dropIndex(engine: IndexDdlContext, state: SessionState, stmt: Extract<IndexStatement, { kind: 'dropIndex' }>): Promise<StatementResult> {
  const { catalog } = engine;
  const ns = (stmt.index.namespace ?? state.namespace).toLowerCase();
  const name = stmt.index.name.toLowerCase();
  if (stmt.table) catalog.requireTable(ns, stmt.table.name.toLowerCase());
  const found = findIndex(catalog, ns, name);
  if (!found) {
    if (stmt.ifExists) return ok(`Index '${ns}.${name}' does not exist`);
    catalog.requireNamespace(ns);
    throw new KalamError('INDEX_NOT_FOUND', `Index '${ns}.${name}' does not exist. List the indexes with SELECT * FROM system.indexes`);
  }
  checkAlterTable(state.role, found.table);
  const rest = (found.table.indexes ?? []).filter((i) => i !== found.index);
  await engine.commit({ state: [catalog.alterTableWrites(bump(found.table, rest))], altered: [found.table.id] });
  return ok(`Index '${ns}.${name}' dropped`);
}
