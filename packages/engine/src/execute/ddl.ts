/**
 * Namespace and table DDL: CREATE/DROP NAMESPACE, CREATE/DROP TABLE. Each
 * statement is checked, then described as one unit of work (catalog change,
 * and for a drop every row, page and segment of the tables it removes) and
 * committed through the one commit path. Run under the write lock.
 */
import { checkCreateTable, checkDropTable, checkNamespaceAdmin, DEFAULT_ACCESS_LEVEL, defaultTableType, isAccessLevel } from '../auth/permissions';
import type { Catalog } from '../catalog/catalog';
import { KalamError } from '../core/errors';
import type { ColumnDef, TableDef, AccessLevel } from '../core/schema';
import type { StatementResult } from '../core/types';
import { coerce } from '../core/values';
import { parseFlushPolicy } from '../jobs/flush-policy';
import { parseRetentionHours } from '../jobs/retention';
import type { CreateTableStmt, Statement } from '../sql/ast';
import { RESERVED_NAMESPACES, validateColumnName, validateName } from '../sql/names';
import type { UnitOfWork } from '../storage/unit-of-work';
import { okResult as ok } from './results';
import type { SessionState } from './session-state';

export interface DdlContext {
  readonly catalog: Catalog;
  readonly jobs: { policiesChanged(): void };
  commit(unit: UnitOfWork): Promise<void>;
}

export type DdlStatement = Extract<Statement, { kind: 'createNamespace' | 'dropNamespace' | 'createTable' | 'dropTable' }>;

export async function executeDdl(engine: DdlContext, state: SessionState, stmt: DdlStatement): Promise<StatementResult> {
  const { catalog } = engine;
  switch (stmt.kind) {
    case 'createNamespace': {
      checkNamespaceAdmin(state.role);
      const name = validateName(stmt.name, 'namespace');
      if (catalog.hasNamespace(name)) {
        if (stmt.ifNotExists) return ok(`Namespace '${name}' already exists`);
        throw new KalamError('NAMESPACE_EXISTS', `Namespace '${name}' already exists`);
      }
      if (RESERVED_NAMESPACES.has(name)) throw new KalamError('INVALID_NAME', `Namespace name '${name}' is reserved; choose another name`);
      await engine.commit({ state: [catalog.createNamespaceWrites({ name, createdAt: Date.now() })] });
      return ok(`Namespace '${name}' created`);
    }
    case 'dropNamespace': {
      checkNamespaceAdmin(state.role);
      const name = stmt.name.toLowerCase();
      if (!catalog.hasNamespace(name)) {
        if (stmt.ifExists) return ok(`Namespace '${name}' does not exist`);
        catalog.requireNamespace(name);
      }
      if (RESERVED_NAMESPACES.has(name)) throw new KalamError('PERMISSION_DENIED', `Namespace '${name}' is reserved and cannot be dropped`);
      const { writes, tables, apply } = catalog.dropNamespaceWrites(name);
      await engine.commit({ state: [{ writes, apply }], dropTables: tables });
      return ok(`Namespace '${name}' dropped`);
    }
    case 'createTable':
      return createTable(engine, state, stmt);
    case 'dropTable': {
      checkDropTable(state.role);
      const ns = stmt.table.namespace ?? state.namespace;
      const t = catalog.findTable(ns, stmt.table.name);
      if (!t && catalog.findView(ns, stmt.table.name)) catalog.requireTable(ns, stmt.table.name); // says it is a view (IF EXISTS or not)
      if (!t) {
        if (stmt.ifExists) return ok(`Table '${ns}.${stmt.table.name}' does not exist`);
        catalog.requireTable(ns, stmt.table.name);
        throw new KalamError('TABLE_NOT_FOUND', `Table '${ns}.${stmt.table.name}' does not exist`);
      }
      await engine.commit({ state: [catalog.dropTableWrites(t)], dropTables: [t] });
      return ok(`Table '${ns}.${t.name}' dropped`);
    }
  }
}

const KNOWN_OPTIONS = new Set(['TYPE', 'STORAGE_ID', 'USE_USER_STORAGE', 'FLUSH_POLICY', 'DELETED_RETENTION_HOURS', 'TTL_SECONDS', 'ACCESS_LEVEL']);
const TYPE_LABEL = { USER: 'User', SHARED: 'Shared', STREAM: 'Stream' } as const;

async function createTable(engine: DdlContext, state: SessionState, stmt: CreateTableStmt): Promise<StatementResult> {
  const { catalog } = engine;
  const ns = (stmt.table.namespace ?? state.namespace).toLowerCase();
  if (ns === 'system') throw new KalamError('PERMISSION_DENIED', "Cannot create tables in the reserved namespace 'system'");
  catalog.requireNamespace(ns);
  const name = validateName(stmt.table.name, 'table');
  const o = stmt.options;
  for (const key of Object.keys(o)) if (!KNOWN_OPTIONS.has(key)) throw new KalamError('INVALID_OPTION', `Unknown table option '${key}'`);
  let type = stmt.prefixType;
  if (o.TYPE !== undefined) {
    const optType = o.TYPE.toUpperCase();
    if (optType !== 'USER' && optType !== 'SHARED' && optType !== 'STREAM') {
      throw new KalamError('INVALID_OPTION', `Invalid TYPE '${o.TYPE}': use USER, SHARED or STREAM`);
    }
    if (type && type !== optType) {
      throw new KalamError('INVALID_OPTION', `Conflicting table type definitions: CREATE ${TYPE_LABEL[type]} TABLE vs TYPE option ${TYPE_LABEL[optType]}`);
    }
    type = optType;
  }
  // KalamDB: no type means SHARED, except that a user or service creating it in
  // the namespace named after itself gets a USER table.
  type ??= defaultTableType(state.role, state.user, ns);
  checkCreateTable(state.role, type);
  if (type === 'STREAM' && o.TTL_SECONDS === undefined) throw new KalamError('INVALID_OPTION', "STREAM tables must specify 'TTL_SECONDS'");
  if (type !== 'STREAM' && o.TTL_SECONDS !== undefined) throw new KalamError('INVALID_OPTION', 'TTL_SECONDS is only supported for STREAM tables');
  if (type !== 'SHARED' && o.ACCESS_LEVEL !== undefined) throw new KalamError('INVALID_OPTION', 'ACCESS_LEVEL is only supported for SHARED tables');
  if (type !== 'USER' && o.USE_USER_STORAGE !== undefined) throw new KalamError('INVALID_OPTION', 'USE_USER_STORAGE is only supported for USER tables');
  if (o.DELETED_RETENTION_HOURS !== undefined) parseRetentionHours(o.DELETED_RETENTION_HOURS);
  if (o.FLUSH_POLICY !== undefined) {
    if (type === 'STREAM') throw new KalamError('INVALID_OPTION', 'FLUSH_POLICY is not supported for STREAM tables: their rows expire after TTL_SECONDS');
    parseFlushPolicy(o.FLUSH_POLICY);
  }
  let ttlSeconds: number | undefined;
  if (o.TTL_SECONDS !== undefined) {
    ttlSeconds = Number(o.TTL_SECONDS);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new KalamError('INVALID_OPTION', `TTL_SECONDS must be a positive integer, got '${o.TTL_SECONDS}'`);
  }
  let accessLevel: AccessLevel | undefined;
  if (type === 'SHARED') {
    const level = (o.ACCESS_LEVEL ?? DEFAULT_ACCESS_LEVEL).toLowerCase();
    if (!isAccessLevel(level)) {
      throw new KalamError('INVALID_OPTION', `Invalid ACCESS_LEVEL '${o.ACCESS_LEVEL}': use PUBLIC, PRIVATE, RESTRICTED or DBA`);
    }
    accessLevel = level;
  }
  const seen = new Set<string>();
  const columns: ColumnDef[] = stmt.columns.map((c, i) => {
    const colName = validateColumnName(c.name);
    if (seen.has(colName)) throw new KalamError('DUPLICATE_COLUMN', `Duplicate column name '${c.name}'. Column names are case-insensitive.`);
    seen.add(colName);
    const def: ColumnDef = { id: i + 1, name: colName, type: c.type, notNull: c.notNull || c.primaryKey, primaryKey: c.primaryKey };
    if (c.default) {
      def.default = c.default.kind === 'literal' ? { kind: 'literal', value: coerce(c.default.value, c.type, colName) } : c.default;
    }
    if (c.precision !== undefined) { def.precision = c.precision; def.scale = c.scale; }
    return def;
  });
  if (columns.length === 0) throw new KalamError('INVALID_SQL', 'A table needs at least one column');
  const pk = columns.findIndex((c) => c.primaryKey);
  if (pk < 0 && type !== 'STREAM') throw new KalamError('INVALID_SQL', `${TYPE_LABEL[type]} tables require a PRIMARY KEY column`);
  if (catalog.findTable(ns, name)) {
    if (stmt.ifNotExists) return ok(`Table ${ns}.${name} already exists`);
    throw new KalamError('TABLE_EXISTS', `Table ${ns}.${name} already exists`);
  }
  if (catalog.findView(ns, name)) {
    if (stmt.ifNotExists) return ok(`View ${ns}.${name} already exists`);
    throw new KalamError('TABLE_EXISTS', `View ${ns}.${name} already exists: a table and a view cannot share a name, so choose another name for the table`);
  }
  const def: TableDef = {
    id: catalog.allocateTableId(),
    namespace: ns,
    name,
    type,
    columns,
    pk,
    options: { ...o },
    version: 1,
    createdAt: Date.now(),
  };
  if (accessLevel) def.accessLevel = accessLevel;
  if (ttlSeconds !== undefined) def.ttlSeconds = ttlSeconds;
  await engine.commit({ state: [catalog.createTableWrites(def)] });
  if (def.options.FLUSH_POLICY !== undefined) engine.jobs.policiesChanged();
  return ok(`Table ${ns}.${name} created`);
}
