/**
 * Statements that read the catalog rather than rows: SHOW NAMESPACES,
 * SHOW TABLES, DESCRIBE TABLE, SHOW STATS FOR TABLE, and USE (which only
 * changes the session's namespace). Open to every role; SHOW STATS counts
 * only what the caller may see.
 */
import { checkIntrospect } from '../auth/permissions';
import type { Catalog, ViewDef } from '../catalog/catalog';
import { partitionOf, rowBytes, type TableDef } from '../core/schema';
import type { ColumnInfo, StatementResult, Value } from '../core/types';
import type { SelectPlan } from '../plan/select';
import type { RelationSource } from '../plan/source';
import type { Statement } from '../sql/ast';
import type { Manifest } from '../storage/cold/manifest';
import type { PreparedCold } from './cold-reads';
import { okResult, rowsResult } from './results';
import type { SessionState } from './session-state';

export interface IntrospectionContext {
  readonly catalog: Catalog;
  readonly planner: { planView(state: SessionState, view: ViewDef): SelectPlan };
  readonly cold: { readonly manifest: Manifest };
  readonly live: { countFor(tableId: number, user: string | undefined): number };
  tableSource(t: TableDef): RelationSource;
  prepareCold(plan: { tableIds: readonly number[] }, user: string, params: readonly Value[]): Promise<PreparedCold>;
}

export type IntrospectionStatement = Extract<Statement, { kind: 'showNamespaces' | 'showTables' | 'describeTable' | 'showStats' | 'use' }>;

export async function executeIntrospection(engine: IntrospectionContext, state: SessionState, stmt: IntrospectionStatement): Promise<StatementResult> {
  const { catalog } = engine;
  checkIntrospect(state.role);
  switch (stmt.kind) {
    case 'showNamespaces':
      return rowsResult(
        [{ name: 'namespace_id', type: 'TEXT' }, { name: 'table_count', type: 'INT' }],
        catalog.listNamespaces().map((n) => [n.name, catalog.listTables(n.name).length]),
      );
    case 'showTables': {
      const ns = stmt.namespace?.toLowerCase();
      if (ns !== undefined) catalog.requireNamespace(ns);
      const rows: Value[][] = [
        ...catalog.listTables(ns).map((t) => [t.namespace, t.name, t.type]),
        ...catalog.listViews(ns).map((v) => [v.namespace, v.name, 'VIEW']),
      ];
      rows.sort((a, b) => (`${a[0]}.${a[1]}` < `${b[0]}.${b[1]}` ? -1 : 1));
      return rowsResult([{ name: 'namespace_id', type: 'TEXT' }, { name: 'table_name', type: 'TEXT' }, { name: 'table_type', type: 'TEXT' }], rows);
    }
    case 'describeTable': {
      const view = catalog.findView(stmt.table.namespace ?? state.namespace, stmt.table.name);
      if (view) return describeView(engine, state, view);
      const t = catalog.requireTable(stmt.table.namespace ?? state.namespace, stmt.table.name);
      const cols: Value[][] = t.columns.map((c, i) => [
        c.name, i + 1, c.type, !c.notNull, c.primaryKey,
        c.default ? (c.default.kind === 'literal' ? String(c.default.value) : `${c.default.name}()`) : null,
        indexesOf(t, c.id),
      ]);
      cols.push(['_seq', cols.length + 1, 'BIGINT', false, false, null, null]);
      cols.push(['_deleted', cols.length + 1, 'BOOLEAN', false, false, 'false', null]);
      return rowsResult(DESCRIBE_COLUMNS, cols);
    }
    case 'showStats':
      return showStats(engine, state, catalog.requireTable(stmt.table.namespace ?? state.namespace, stmt.table.name));
    case 'use': {
      const ns = stmt.namespace.toLowerCase();
      catalog.requireNamespace(ns);
      state.namespace = ns;
      return okResult(`Using namespace '${ns}'`);
    }
  }
}

const DESCRIBE_COLUMNS: ColumnInfo[] = [
  { name: 'column_name', type: 'TEXT' }, { name: 'ordinal_position', type: 'INT' }, { name: 'data_type', type: 'TEXT' },
  { name: 'is_nullable', type: 'BOOLEAN' }, { name: 'is_primary_key', type: 'BOOLEAN' }, { name: 'column_default', type: 'TEXT' },
  { name: 'indexes', type: 'TEXT' },
];

/** The indexes whose key holds the column, as `name` or `name UNIQUE`, comma-separated; null when none. */
function indexesOf(t: TableDef, columnId: number): string | null {
  const names = (t.indexes ?? []).filter((x) => x.columns.some((c) => c.id === columnId)).map((x) => (x.unique ? `${x.name} UNIQUE` : x.name));
  return names.length > 0 ? names.join(', ') : null;
}

/** A view's columns, as its query plans for the caller (types it cannot know are 'UNKNOWN'; any value may be NULL). */
function describeView(engine: IntrospectionContext, state: SessionState, view: ViewDef): StatementResult {
  const plan = engine.planner.planView(state, view);
  return rowsResult(DESCRIBE_COLUMNS, plan.columns.map((c, i) => [view.columns?.[i] ?? c.name, i + 1, c.type, true, false, null, null]));
}

async function showStats(engine: IntrospectionContext, state: SessionState, t: TableDef): Promise<StatementResult> {
  const source = engine.tableSource(t);
  // Counts what this session may see: its own partition of USER/STREAM tables.
  const prepared = await engine.prepareCold({ tableIds: [t.id] }, state.user, []);
  const ctx = { params: [], user: state.user, role: state.role, now: Date.now(), snowflakeId: () => 0n, nextSeq: () => 0n, cold: prepared.reads };
  let rows = 0;
  let bytes = 0;
  try {
    for (const row of source.rows(ctx, { includeDeleted: false })) {
      rows++;
      bytes += rowBytes(row);
    }
  } finally {
    prepared.release();
  }
  const segments = t.type === 'STREAM' ? 0 : engine.cold.manifest.segments(t.id, partitionOf(t, state.user)).length;
  return rowsResult(
    [
      { name: 'table_name', type: 'TEXT' }, { name: 'namespace', type: 'TEXT' }, { name: 'schema_version', type: 'INT' },
      { name: 'logical_rows', type: 'INT' }, { name: 'flushed_segments', type: 'INT' }, { name: 'active_streams', type: 'INT' },
      { name: 'memory_bytes', type: 'INT' },
    ],
    [[t.name, t.namespace, t.version, rows, segments, engine.live.countFor(t.id, t.type === 'SHARED' ? undefined : state.user), bytes]],
  );
}
