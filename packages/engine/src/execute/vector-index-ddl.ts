/**
 * ALTER TABLE t CREATE VECTOR INDEX col [USING COSINE|L2|DOT] and ALTER
 * TABLE t DROP VECTOR INDEX col (KalamDB's forms). A vector index is part
 * of its table's definition (TableDef.vectorIndexes, one per EMBEDDING
 * column), so creating or dropping one is a new schema version through the
 * one commit path, and the table's plans are re-planned. Who may: as for
 * CREATE INDEX (checkAlterTable). Only USER and SHARED tables: a STREAM's
 * rows expire and are read in arrival order. The graphs are built per
 * partition by `vector_index` jobs on first use (vector-index.ts).
 */
import { checkAlterTable } from '../auth/permissions';
import { KalamError } from '../core/errors';
import type { TableDef, VectorIndexDef } from '../core/schema';
import type { StatementResult } from '../core/types';
import type { Statement } from '../sql/ast';
import type { UnitOfWork } from '../storage/unit-of-work';
import type { KvStore, KvWrite } from '../storage/kv';
import { encodeKey, prefixUpperBound } from '../storage/keys';
import { okResult as ok } from './results';
import type { SessionState } from './session-state';

export type VectorIndexStatement = Extract<Statement, { kind: 'vectorIndex' }>;

export interface VectorIndexDdlContext {
  readonly catalog: {
    requireTable(namespace: string, name: string): TableDef;
    alterTableWrites(t: TableDef): { writes: KvWrite[]; apply: () => void };
  };
  commit(unit: UnitOfWork): Promise<void>;
  readonly kv: Pick<KvStore, 'scan'>;
  /** The built graphs (vector-index.ts): an index's are forgotten when it is made or dropped. */
  vectors?: { forget(tableId: number, columnId?: number): void };
}

const q = (t: TableDef) => `${t.namespace}.${t.name}`;

export async function executeVectorIndexStatement(engine: VectorIndexDdlContext, state: SessionState, stmt: VectorIndexStatement): Promise<StatementResult> {
  const ns = (stmt.table.namespace ?? state.namespace).toLowerCase();
  if (ns === 'system') throw new KalamError('PERMISSION_DENIED', `Cannot index system table 'system.${stmt.table.name}'`);
  const t = engine.catalog.requireTable(ns, stmt.table.name.toLowerCase());
  checkAlterTable(state.role, t);
  const name = stmt.column.toLowerCase();
  const col = t.columns.find((c) => c.name === name);
  if (!col) throw new KalamError('COLUMN_NOT_FOUND', `Column '${stmt.column}' does not exist in table ${q(t)}: name one of its EMBEDDING columns`);
  const existing = t.vectorIndexes ?? [];
  const current = existing.find((x) => x.columnId === col.id);
  if (stmt.action === 'drop') {
    if (!current) throw new KalamError('INDEX_NOT_FOUND', `Column '${col.name}' of ${q(t)} has no vector index. List the indexes with SELECT * FROM system.indexes`);
    await commitIndexes(engine, t, existing.filter((x) => x !== current), await snapshotDeletes(engine, t.id, col.id));
    engine.vectors?.forget(t.id, col.id);
    return ok(`Vector index on ${q(t)}.${col.name} dropped`);
  }
  if (t.type !== 'USER' && t.type !== 'SHARED') {
    throw new KalamError('UNSUPPORTED', `Cannot create a vector index on ${t.type} table ${q(t)}: vector indexes are for USER and SHARED tables (search a STREAM table exactly with ORDER BY cosine_distance(col, $1) LIMIT k)`);
  }
  if (col.type !== 'EMBEDDING') {
    throw new KalamError('UNSUPPORTED', `Column '${col.name}' is ${col.type}: a vector index is built on an EMBEDDING(n) column`);
  }
  if (current) {
    throw new KalamError('INDEX_EXISTS', `Column '${col.name}' of ${q(t)} already has a vector index (USING ${current.metric.toUpperCase()}): drop it first with ALTER TABLE ${q(t)} DROP VECTOR INDEX ${col.name}`);
  }
  const index: VectorIndexDef = { columnId: col.id, metric: stmt.metric ?? 'cosine', createdAt: Date.now() };
  await commitIndexes(engine, t, [...existing, index], await snapshotDeletes(engine, t.id, col.id));
  engine.vectors?.forget(t.id, col.id);
  return ok(`Vector index on ${q(t)}.${col.name} created (USING ${index.metric.toUpperCase()}); each partition's index is built by a vector_index job on its first nearest-neighbour query, which searches exactly until then`);
}

/** Deletions of the column's snapshot records (vector-index.ts: `['vector_index', table, column, partition]`), so a later index never starts from them. */
async function snapshotDeletes(engine: VectorIndexDdlContext, tableId: number, columnId: number): Promise<KvWrite[]> {
  const lower = encodeKey(['vector_index', tableId, columnId]);
  const out: KvWrite[] = [];
  await engine.kv.scan('system', { lower, upper: prefixUpperBound(lower) }, (key) => out.push({ store: 'system', key }));
  return out;
}

async function commitIndexes(engine: VectorIndexDdlContext, t: TableDef, indexes: VectorIndexDef[], deletes: KvWrite[]): Promise<void> {
  const next: TableDef = { ...t, version: t.version + 1, updatedAt: Date.now() };
  if (indexes.length > 0) next.vectorIndexes = indexes;
  else delete next.vectorIndexes;
  const alter = engine.catalog.alterTableWrites(next);
  await engine.commit({ state: [{ writes: [...alter.writes, ...deletes], apply: alter.apply }], altered: [t.id] });
}
