/**
 * Executes the statements that are not planned: namespace and table DDL,
 * SHOW, DESCRIBE and USE. DDL computes its storage writes, commits them in
 * one transaction, then applies them to the catalog and hot tier.
 */
import type { AccessLevel, ColumnDef, TableDef } from '../core/schema';
import { executeAlterTable } from './alter';
import type { Engine, SessionState } from './engine';
import { storeOf } from './engine';
import { checkUserAdmin, parseRole } from '../auth/permissions';
import { validateUserId, type UserRecord } from '../auth/users';
import { KalamError } from '../core/errors';
import { parseRetentionHours } from '../jobs/retention';
import { parseFlushPolicy } from '../jobs/flush-policy';
import { coldDropWrites, dropColdSegments } from './flush';
import { seqSlot } from '../core/schema';
import type { CreateTableStmt, Statement } from '../sql/ast';
import { RESERVED_NAMESPACES, validateColumnName, validateName } from '../sql/names';
import type { KvWrite } from '../storage/kv';
import type { ColumnInfo, Role, Row, StatementResult, Value } from '../core/types';
import { coerce } from '../core/values';

export type DdlStatement = Exclude<Statement, { kind: 'select' | 'insert' | 'update' | 'delete' | 'executeAs' | 'begin' | 'commit' | 'rollback' | 'flushTable' | 'flushAll' | 'killJob' | 'subscribe' | 'killLiveQuery' }>;

const isAdmin = (r: Role) => r === 'dba' || r === 'system';

const ok = (message: string, rowCount = 0): StatementResult => ({ kind: 'ok', columns: [], rows: [], rowCount, message });

function rowsResult(columns: ColumnInfo[], rows: Value[][]): StatementResult {
  const out: Row[] = rows.map((r) => Object.freeze(Object.fromEntries(columns.map((c, i) => [c.name, r[i]]))));
  return { kind: 'rows', columns, rows: out, rowCount: out.length, message: `${out.length} row(s)` };
}

export async function executeDdl(engine: Engine, state: SessionState, stmt: DdlStatement): Promise<StatementResult> {
  const { catalog } = engine;
  switch (stmt.kind) {
    case 'createNamespace': {
      requireAdmin(state.role);
      const name = validateName(stmt.name, 'namespace');
      if (catalog.hasNamespace(name)) {
        if (stmt.ifNotExists) return ok(`Namespace '${name}' already exists`);
        throw new KalamError('NAMESPACE_EXISTS', `Namespace '${name}' already exists`);
      }
      if (RESERVED_NAMESPACES.has(name)) throw new KalamError('INVALID_NAME', `Namespace name '${name}' is reserved; choose another name`);
      const { writes, apply } = catalog.createNamespaceWrites({ name, createdAt: Date.now() });
      await engine.kv.commit(writes);
      apply();
      return ok(`Namespace '${name}' created`);
    }
    case 'dropNamespace': {
      requireAdmin(state.role);
      const name = stmt.name.toLowerCase();
      if (!catalog.hasNamespace(name)) {
        if (stmt.ifExists) return ok(`Namespace '${name}' does not exist`);
        catalog.requireNamespace(name);
      }
      if (RESERVED_NAMESPACES.has(name)) throw new KalamError('PERMISSION_DENIED', `Namespace '${name}' is reserved and cannot be dropped`);
      const { writes, tables, apply } = catalog.dropNamespaceWrites(name);
      for (const t of tables) writes.push(...rowDeletes(engine, t));
      writes.push(...coldDropWrites(engine, tables));
      await engine.kv.commit(writes);
      apply();
      forgetTables(engine, tables);
      await dropColdSegments(engine, tables);
      return ok(`Namespace '${name}' dropped`);
    }
    case 'createTable':
      return createTable(engine, state, stmt);
    case 'dropTable': {
      if (!isAdmin(state.role)) throw new KalamError('PERMISSION_DENIED', 'Insufficient privileges to drop this table');
      const ns = stmt.table.namespace ?? state.namespace;
      const t = catalog.findTable(ns, stmt.table.name);
      if (!t) {
        if (stmt.ifExists) return ok(`Table '${ns}.${stmt.table.name}' does not exist`);
        catalog.requireTable(ns, stmt.table.name);
        throw new KalamError('TABLE_NOT_FOUND', `Table '${ns}.${stmt.table.name}' does not exist`);
      }
      const { writes, apply } = catalog.dropTableWrites(t);
      writes.push(...rowDeletes(engine, t), ...coldDropWrites(engine, [t]));
      await engine.kv.commit(writes);
      apply();
      forgetTables(engine, [t]);
      await dropColdSegments(engine, [t]);
      return ok(`Table '${ns}.${t.name}' dropped`);
    }
    case 'showNamespaces':
      return rowsResult(
        [{ name: 'namespace_id', type: 'TEXT' }, { name: 'table_count', type: 'INT' }],
        catalog.listNamespaces().map((n) => [n.name, catalog.listTables(n.name).length]),
      );
    case 'showTables': {
      const ns = stmt.namespace?.toLowerCase();
      if (ns !== undefined) catalog.requireNamespace(ns);
      return rowsResult(
        [{ name: 'namespace_id', type: 'TEXT' }, { name: 'table_name', type: 'TEXT' }, { name: 'table_type', type: 'TEXT' }],
        catalog.listTables(ns).map((t) => [t.namespace, t.name, t.type]),
      );
    }
    case 'describeTable': {
      const t = catalog.requireTable(stmt.table.namespace ?? state.namespace, stmt.table.name);
      const cols: Value[][] = t.columns.map((c, i) => [
        c.name, i + 1, c.type, !c.notNull, c.primaryKey,
        c.default ? (c.default.kind === 'literal' ? String(c.default.value) : `${c.default.name}()`) : null,
      ]);
      cols.push(['_seq', cols.length + 1, 'BIGINT', false, false, null]);
      cols.push(['_deleted', cols.length + 1, 'BOOLEAN', false, false, 'false']);
      return rowsResult(
        [
          { name: 'column_name', type: 'TEXT' }, { name: 'ordinal_position', type: 'INT' }, { name: 'data_type', type: 'TEXT' },
          { name: 'is_nullable', type: 'BOOLEAN' }, { name: 'is_primary_key', type: 'BOOLEAN' }, { name: 'column_default', type: 'TEXT' },
        ],
        cols,
      );
    }
    case 'createUser': {
      checkUserAdmin(state.role);
      const id = validateUserId(stmt.user);
      const role = parseRole(stmt.role);
      if (engine.users.get(id)) {
        if (stmt.ifNotExists) return ok(`User '${id}' already exists`);
        throw new KalamError('USER_EXISTS', `User '${id}' already exists`);
      }
      const now = Date.now();
      await putUser(engine, state, 'CREATE_USER', { user_id: id, role, email: stmt.email ?? null, auth_type: 'internal', created_at: now, updated_at: now, deleted_at: null });
      return ok(`User '${id}' created`);
    }
    case 'alterUser': {
      checkUserAdmin(state.role);
      const u = engine.users.get(stmt.user);
      if (!u) throw new KalamError('USER_NOT_FOUND', `User '${stmt.user}' does not exist`);
      const next = { ...u, updated_at: Date.now() };
      if (stmt.role !== undefined) next.role = parseRole(stmt.role);
      if (stmt.email !== undefined) next.email = stmt.email;
      await putUser(engine, state, 'ALTER_USER', next);
      return ok(`User '${u.user_id}' updated`);
    }
    case 'dropUser': {
      checkUserAdmin(state.role);
      const u = engine.users.get(stmt.user);
      if (!u) {
        if (stmt.ifExists) return ok(`User '${stmt.user}' does not exist`);
        throw new KalamError('USER_NOT_FOUND', `User '${stmt.user}' does not exist`);
      }
      const now = Date.now();
      await putUser(engine, state, 'DROP_USER', { ...u, updated_at: now, deleted_at: now });
      return ok(`User '${u.user_id}' dropped`);
    }
    case 'showStats': {
      const t = catalog.requireTable(stmt.table.namespace ?? state.namespace, stmt.table.name);
      const source = engine.tableSource(t);
      // Counts what this session may see: its own partition of USER/STREAM tables.
      const prepared = await engine.prepareCold({ tableIds: [t.id] }, state.user, []);
      const ctx = { params: [], user: state.user, role: state.role, now: Date.now(), snowflakeId: () => 0n, nextSeq: () => 0n, cold: prepared.reads };
      let rows = 0;
      let bytes = 0;
      try {
        for (const row of source.rows(ctx, { includeDeleted: false })) {
          rows++;
          bytes += estimateBytes(row);
        }
      } finally {
        prepared.release();
      }
      const segments = t.type === 'STREAM' ? 0 : engine.cold.manifest.segments(t.id, t.type === 'SHARED' ? '' : state.user).length;
      return rowsResult(
        [
          { name: 'table_name', type: 'TEXT' }, { name: 'namespace', type: 'TEXT' }, { name: 'schema_version', type: 'INT' },
          { name: 'logical_rows', type: 'INT' }, { name: 'flushed_segments', type: 'INT' }, { name: 'active_streams', type: 'INT' },
          { name: 'memory_bytes', type: 'INT' },
        ],
        [[t.name, t.namespace, t.version, rows, segments, engine.live.countFor(t.id, t.type === 'SHARED' ? undefined : state.user), bytes]],
      );
    }
    case 'alterTable':
      return executeAlterTable(engine, state, stmt);
    case 'use': {
      const ns = stmt.namespace.toLowerCase();
      catalog.requireNamespace(ns);
      state.namespace = ns;
      return ok(`Using namespace '${ns}'`);
    }
  }
}

async function putUser(engine: Engine, state: SessionState, action: string, record: UserRecord): Promise<void> {
  const { writes, apply } = engine.users.put(record);
  await engine.kv.commit(writes);
  apply();
  await engine.recordAudit({ user: state.user, role: state.role }, action, null, record.user_id, 'allowed', `role=${record.role}`);
}

/** A rough size of a stored row in memory: 8 bytes a value plus string and byte lengths. */
function estimateBytes(row: readonly Value[]): number {
  let n = 16;
  for (const v of row) n += typeof v === 'string' ? 16 + v.length * 2 : v instanceof Uint8Array ? 16 + v.length : 8;
  return n;
}

function requireAdmin(role: Role): void {
  if (!isAdmin(role)) {
    throw new KalamError('PERMISSION_DENIED', 'Admin privileges (DBA or System role) required for namespace operations');
  }
}

/** Storage deletes for every hot page of a table (all partitions are in the hot tier). */
function rowDeletes(engine: Engine, t: TableDef): KvWrite[] {
  return engine.hot.deleteWrites(t.id, storeOf(t));
}

function forgetTables(engine: Engine, tables: TableDef[]): void {
  const ids = tables.map((t) => t.id);
  for (const id of ids) engine.hot.dropTable(id);
  engine.plans.invalidateTables(ids);
  engine.live.dropTables(tables);
}

const KNOWN_OPTIONS = new Set(['TYPE', 'STORAGE_ID', 'USE_USER_STORAGE', 'FLUSH_POLICY', 'DELETED_RETENTION_HOURS', 'TTL_SECONDS', 'ACCESS_LEVEL']);
const TYPE_LABEL = { USER: 'User', SHARED: 'Shared', STREAM: 'Stream' } as const;

async function createTable(engine: Engine, state: SessionState, stmt: CreateTableStmt): Promise<StatementResult> {
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
  type ??= (state.role === 'user' || state.role === 'service') && ns === state.user.toLowerCase() ? 'USER' : 'SHARED';
  if (type === 'SHARED' && state.role === 'user') throw new KalamError('PERMISSION_DENIED', 'Insufficient privileges to create Shared tables');
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
    const level = (o.ACCESS_LEVEL ?? 'private').toLowerCase();
    if (level !== 'public' && level !== 'private' && level !== 'restricted' && level !== 'dba') {
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
  const { writes, apply } = catalog.createTableWrites(def);
  await engine.kv.commit(writes);
  apply();
  if (def.options.FLUSH_POLICY !== undefined) engine.jobs.policiesChanged();
  return ok(`Table ${ns}.${name} created`);
}
