/**
 * Import: fills an empty database from an export file (backup-format.ts).
 *
 * - Only into an empty database (no namespace but `default`, no table):
 *   IMPORT_NOT_EMPTY otherwise, before anything is written.
 * - The header, then the catalog records are read and checked; the
 *   namespaces and tables are created in one commit (tables get fresh ids).
 * - Each `rows` record (≤ ROWS_PER_RECORD rows) is checked against its
 *   table and committed through the one commit path under the write lock,
 *   after waiting for room in the hot tier (automatic flushes move rows to
 *   the cold tier as they would for any write). Rows keep their `_seq`, so
 *   STREAM TTLs and `_seq` order survive; the sequence moves past them.
 * - The users are written with the last commit, once the `end` record has
 *   matched the totals.
 * - All or nothing: any failure (a damaged or truncated file, a row that
 *   does not fit its table, a storage error) drops every namespace and
 *   table the import created, so the database is empty again and the
 *   import can be retried. A crash (the tab closed) during an import is
 *   undone at the next open: the first commit writes an "import in
 *   progress" marker, the last one deletes it (import-recovery.ts).
 * - Files (format 2): the `file` records before a `rows` record are
 *   streamed into the blob store as pending uploads (size and SHA-256
 *   checked), and the rows' commit claims them as an INSERT's commit would;
 *   a file no row claimed is deleted. A failed import deletes them with its
 *   tables (DROP TABLE's file cleanup); a crash leaves blobs that the
 *   next open's sweep deletes.
 * - Memory: one record of the file at a time, plus one key per partition
 *   being read (to refuse out-of-order or repeated keys), and the FileRefs
 *   of the files read for the next `rows` record.
 */
import { ensureIndexSupport } from './index-loader';
import type { IndexSupportHost } from './index-support';
import type { UserRecord, UserRegistry } from '../auth/users';
import { DEFAULT_NAMESPACE, type Catalog, type NamespaceDef } from '../catalog/catalog';
import { KalamError, toKalamError } from '../core/errors';
import { sealJson } from '../core/json';
import type { SeqGenerator } from '../core/ids';
import type { ColumnDef, RowChange, StoredRow, TableDef } from '../core/schema';
import type { DataType, Value } from '../core/types';
import { coerce, compareValues, hashKey } from '../core/values';
import type { StateChange, UnitOfWork } from '../storage/unit-of-work';
import type { Files, FilesHost } from './files';
import { loadFiles } from './files-loader';
import type { FileRef } from '../core/types';
import { BackupReader, invalidFile, type BackupOptions, type BackupProgress, type BackupRecord } from './backup-format';
import { report } from './backup';
import { clearMarkerWrite, discardImport, markerWrite } from './import-recovery';
import { loadColumnTypesFor } from './sql-extensions';

/** The engine; as a FilesHost, its file code is attached on the first `file` record. */
export interface ImportContext extends IndexSupportHost, FilesHost {
  readonly catalog: Catalog;
  readonly users: UserRegistry;
  readonly seq: SeqGenerator;
  readonly jobs: { policiesChanged(): void };
  exclusive<T>(fn: () => Promise<T> | T): Promise<T>;
  commit(unit: UnitOfWork): Promise<void>;
  waitForHotRoom(): Promise<void>;
  assertOpen(): void;
}

/** What an import brought in. */
export interface ImportResult {
  /** 'database' (exportDatabase) or 'user' (exportUserData, with `user`). */
  kind: 'database' | 'user';
  user?: string;
  namespaces: number;
  tables: number;
  rows: number;
  users: number;
}

const DATA_TYPES = new Set<DataType>(['BOOLEAN', 'SMALLINT', 'INT', 'BIGINT', 'FLOAT', 'DOUBLE', 'DECIMAL', 'TEXT', 'BYTES', 'JSON', 'TIMESTAMP', 'DATETIME', 'DATE', 'TIME', 'UUID', 'EMBEDDING', 'INTERVAL', 'FILE']);

function checkEmpty(catalog: Catalog): void {
  const namespaces = catalog.listNamespaces().filter((n) => n.name !== DEFAULT_NAMESPACE);
  const tables = catalog.listTables();
  if (namespaces.length > 0 || tables.length > 0) {
    throw new KalamError(
      'IMPORT_NOT_EMPTY',
      `importDatabase() fills an empty database, and this one has ${tables.length} table(s) and ${namespaces.length} namespace(s) besides 'default'. Import into a new database (another name), or drop them first.`,
    );
  }
}

export async function importBackup(ctx: ImportContext, blob: Blob, options: BackupOptions): Promise<ImportResult> {
  ctx.assertOpen();
  checkEmpty(ctx.catalog);
  await loadColumnTypesFor(); // DECIMAL, INTERVAL and EMBEDDING values are read as the tables are made
  const reader = await BackupReader.open(blob);
  const header = await reader.next();
  if (header?.t !== 'header' || (header.kind !== 'database' && header.kind !== 'user')) throw invalidFile('its first record is not the export header');

  // The catalog: every namespace, user and table record before the first rows.
  const namespaces: NamespaceDef[] = [];
  const users: UserRecord[] = [];
  const fileTables: TableDef[] = [];
  let record: BackupRecord | undefined;
  for (;;) {
    record = await reader.next();
    if (record === undefined) throw invalidFile('it has no end record');
    if (record.t === 'namespace') namespaces.push(checkNamespace(record.def));
    else if (record.t === 'user') users.push(checkUser(record.record));
    else if (record.t === 'table') fileTables.push(record.def);
    else break;
  }

  const byFileId = new Map<number, TableDef>(); // file table id → created table; bounded by the file's catalog
  const created: TableDef[] = [];
  const createdNamespaces: string[] = [];
  await ctx.exclusive(async () => {
    checkEmpty(ctx.catalog); // another import or DDL may have run meanwhile
    const state: StateChange[] = [];
    const names = new Set([DEFAULT_NAMESPACE]);
    for (const ns of namespaces) {
      if (names.has(ns.name)) continue;
      names.add(ns.name);
      createdNamespaces.push(ns.name);
      state.push(ctx.catalog.createNamespaceWrites(ns));
    }
    const qualified = new Set<string>();
    for (const given of fileTables) {
      const def = checkTable(given, ctx.catalog.allocateTableId());
      if (!names.has(def.namespace)) throw invalidFile(`table '${def.namespace}.${def.name}' is in a namespace the file does not define`);
      const key = `${def.namespace}.${def.name}`;
      if (qualified.has(key) || byFileId.has(given.id)) throw invalidFile(`table '${key}' is defined twice`);
      qualified.add(key);
      byFileId.set(given.id, def);
      created.push(def);
      state.push(ctx.catalog.createTableWrites(def));
    }
    // The marker goes with the first records: a crash from here on is rolled back at the next open.
    state.push({ writes: [markerWrite({ startedAt: Date.now(), kind: header.kind, namespaces: createdNamespaces, tables: created.map((t) => t.id) })], apply: () => undefined });
    await ctx.commit({ state });
  });
  if (created.some((t) => t.options.FLUSH_POLICY !== undefined)) ctx.jobs.policiesChanged();
  // Tables with indexes: their UNIQUE checks and index scans from the next statement on.
  await ensureIndexSupport(ctx);

  const progress: BackupProgress = { rows: 0, tables: 0 };
  let files: Files | undefined;
  /** Files read for the next `rows` record and not yet claimed (bounded by one record's files); `unreleased` also the claimed ones until released. */
  const adopted = new Map<string, FileRef>();
  let unreleased: string[] = [];
  const release = async () => {
    const ids = unreleased;
    unreleased = [];
    adopted.clear();
    if (files && ids.length > 0) await files.release(ids, false); // an unclaimed one is deleted
  };
  try {
    // Partitions read so far (table id, user) → the last key, so keys only grow and a partition is never revisited.
    const finished = new Set<string>(); // bounded by the partitions in the file
    let current: { slot: string; table: number; last: Value | undefined } | undefined;
    const tablesSeen = new Set<number>(); // bounded by the file's tables
    while (record.t === 'rows' || record.t === 'file') {
      if (record.t === 'file') {
        const ref = checkFileRef(record.ref);
        if (record.at !== 0 || adopted.has(ref.id)) throw invalidFile('a file record is out of place');
        files ??= await (await loadFiles()).attachFiles(ctx);
        await files.adopt(ref, filePieces(reader, record, ref));
        adopted.set(ref.id, ref);
        unreleased.push(ref.id);
        record = await reader.next();
        if (record === undefined) throw invalidFile('it has no end record');
        continue;
      }
      const t = byFileId.get(record.table);
      if (!t || typeof record.user !== 'string' || !Array.isArray(record.rows)) throw invalidFile('a rows record names no table of the file');
      if (t.type === 'SHARED' ? record.user !== '' : record.user === '') throw invalidFile(`rows of table '${t.namespace}.${t.name}' name the wrong partition`);
      const slot = `${record.table}\u0001${record.user}`;
      if (current?.slot !== slot) {
        if (current) finished.add(current.slot);
        if (finished.has(slot)) throw invalidFile(`the rows of one partition of '${t.namespace}.${t.name}' are split up`);
        if (current && current.table !== record.table) progress.tables++;
        current = { slot, table: record.table, last: undefined };
      }
      tablesSeen.add(record.table);
      const changes: RowChange[] = [];
      const fileSlots = t.columns.flatMap((c, i) => (c.type === 'FILE' ? [i] : []));
      for (const given of record.rows) {
        const row = checkRow(t, given);
        for (const i of fileSlots) if (row[i] !== null) claimFile(t, row[i] as unknown as Record<string, unknown>, adopted);
        const pk = t.pk >= 0 ? row[t.pk] : row[t.columns.length];
        if (current.last !== undefined && compareValues(current.last, pk) >= 0) throw invalidFile(`the rows of '${t.namespace}.${t.name}' are out of order or repeat a key`);
        current.last = pk;
        changes.push({ table: t, user: record.user, pkHash: hashKey(pk), pk, row });
        ctx.seq.observe(row[t.columns.length] as bigint);
      }
      await ctx.waitForHotRoom();
      await ctx.exclusive(() => ctx.commit({ rows: changes }));
      await release();
      progress.rows += changes.length;
      report(options, progress);
      record = await reader.next();
      if (record === undefined) throw invalidFile('it has no end record');
    }
    await release();
    if (record.t !== 'end') throw invalidFile(`a ${record.t} record comes after the rows`);
    if (record.rows !== progress.rows || record.tables !== created.length) throw invalidFile('its totals do not match its records');
    // The users and the marker's deletion in the last commit: the import is complete.
    await ctx.exclusive(() => ctx.commit({ state: [...users.map((u) => ctx.users.put(u)), { writes: [clearMarkerWrite()], apply: () => undefined }] }));
    progress.tables = created.length;
    report(options, progress);
  } catch (e) {
    try {
      await release().catch(() => undefined); // blobs a failed release leaves are swept at the next open
      await undo(ctx, created, createdNamespaces);
    } catch (undoFailed) {
      // The storage refused the undo too (it is failing, or the database closed): the marker stays, and the next open rolls the import back.
      const failure = toKalamError(e);
      throw new KalamError(failure.code, `${failure.message} The tables the import created could not be removed now (${undoFailed instanceof Error ? undoFailed.message : String(undoFailed)}); they are removed when the database is next opened.`);
    }
    throw e;
  }
  return { kind: header.kind, ...(header.user !== undefined ? { user: header.user } : {}), namespaces: createdNamespaces.length, tables: created.length, rows: progress.rows, users: users.length };
}

/** Drops what a failed import created, and its marker, so the database is empty again. */
async function undo(ctx: ImportContext, tables: readonly TableDef[], namespaces: readonly string[]): Promise<void> {
  await ctx.exclusive(() => discardImport(ctx, tables, namespaces));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The FileRef of a file's first `file` record, checked. */
function checkFileRef(v: unknown): FileRef {
  const ok =
    isObject(v) && Object.keys(v).length === 5 && typeof v.id === 'string' && /^[0-9a-f]{32}$/.test(v.id) && typeof v.name === 'string' && typeof v.mime === 'string' &&
    Number.isSafeInteger(v.size) && (v.size as number) >= 0 && typeof v.sha256 === 'string' && /^[0-9a-f]{64}$/.test(v.sha256);
  if (!ok) throw invalidFile('a file record is damaged');
  return v as unknown as FileRef;
}

/** A row's FILE value must be a file read just before its `rows` record, named by one row only. */
function claimFile(t: TableDef, v: Record<string, unknown>, adopted: Map<string, FileRef>): void {
  const ref = typeof v.id === 'string' ? adopted.get(v.id) : undefined;
  if (!ref || Object.keys(v).length !== 5 || v.name !== ref.name || v.size !== ref.size || v.mime !== ref.mime || v.sha256 !== ref.sha256) {
    throw invalidFile(`a row of '${t.namespace}.${t.name}' names a file the export does not hold (an export made before exports carried files cannot bring them: export it again with this version)`);
  }
  adopted.delete(ref.id);
}

/** The bytes of one file: `first`'s, then those of the `file` records that continue it, until `ref.size`. */
async function* filePieces(reader: BackupReader, first: BackupRecord & { t: 'file' }, ref: FileRef): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let r = first; ; ) {
    if (!(r.bytes instanceof Uint8Array)) throw invalidFile('a file record is damaged');
    yield r.bytes;
    at += r.bytes.length;
    if (at >= ref.size) return;
    const next = await reader.next();
    if (next?.t !== 'file' || next.id !== ref.id || next.at !== at) throw invalidFile(`the bytes of file '${ref.name}' are cut off`);
    r = next;
  }
}

function checkNamespace(v: unknown): NamespaceDef {
  if (!isObject(v) || typeof v.name !== 'string' || !/^[a-z_][a-z0-9_]*$/.test(v.name) || v.name === 'system') throw invalidFile('a namespace record is damaged');
  return { name: v.name, createdAt: typeof v.createdAt === 'number' ? v.createdAt : Date.now() };
}

function checkUser(v: unknown): UserRecord {
  const ok = isObject(v) && typeof v.user_id === 'string' && /^[A-Za-z0-9_.@-]{1,128}$/.test(v.user_id) && ['user', 'service', 'dba', 'system'].includes(v.role as string);
  if (!ok) throw invalidFile('a user record is damaged');
  const num = (x: unknown) => (typeof x === 'number' ? x : Date.now());
  return {
    user_id: v.user_id as string,
    role: v.role as UserRecord['role'],
    email: typeof v.email === 'string' ? v.email : null,
    auth_type: 'internal',
    created_at: num(v.created_at),
    updated_at: num(v.updated_at),
    deleted_at: typeof v.deleted_at === 'number' ? v.deleted_at : null,
  };
}

/** A table definition from the file, checked and rebuilt with a fresh id. */
function checkTable(v: unknown, id: number): TableDef {
  const bad = (what: string): never => {
    throw invalidFile(`a table definition is damaged (${what})`);
  };
  if (!isObject(v)) return bad('not an object');
  const { namespace, name, type, columns, pk, options } = v;
  if (typeof namespace !== 'string' || typeof name !== 'string' || !/^[a-z_][a-z0-9_]*$/.test(name)) return bad('name');
  if (type !== 'USER' && type !== 'SHARED' && type !== 'STREAM') return bad('type');
  if (!Array.isArray(columns) || columns.length === 0) return bad('columns');
  const ids = new Set<number>();
  const cols: ColumnDef[] = columns.map((c: unknown) => {
    if (!isObject(c) || typeof c.name !== 'string' || !Number.isInteger(c.id) || ids.has(c.id as number) || !DATA_TYPES.has(c.type as DataType)) return bad('a column');
    ids.add(c.id as number);
    const col: ColumnDef = { id: c.id as number, name: c.name, type: c.type as DataType, notNull: c.notNull === true, primaryKey: c.primaryKey === true };
    if (isObject(c.default)) col.default = c.default as unknown as ColumnDef['default'];
    if (typeof c.precision === 'number') col.precision = c.precision;
    if (typeof c.scale === 'number') col.scale = c.scale;
    return col;
  });
  const pkAt = cols.findIndex((c) => c.primaryKey);
  if (pk !== pkAt || (pkAt < 0 && type !== 'STREAM')) return bad('primary key');
  if (!isObject(options) || Object.values(options).some((o) => typeof o !== 'string')) return bad('options');
  const def: TableDef = { id, namespace, name, type, columns: cols, pk: pkAt, options: { ...(options as Record<string, string>) }, version: Number.isInteger(v.version) ? (v.version as number) : 1, createdAt: typeof v.createdAt === 'number' ? v.createdAt : Date.now() };
  if (type === 'SHARED') {
    if (!['public', 'private', 'restricted', 'dba'].includes(v.accessLevel as string)) return bad('access level');
    def.accessLevel = v.accessLevel as TableDef['accessLevel'];
  }
  if (type === 'STREAM') {
    if (!Number.isInteger(v.ttlSeconds) || (v.ttlSeconds as number) <= 0) return bad('TTL');
    def.ttlSeconds = v.ttlSeconds as number;
  }
  if (typeof v.updatedAt === 'number') def.updatedAt = v.updatedAt;
  if (Number.isInteger(v.nextColumnId)) def.nextColumnId = v.nextColumnId as number;
  return def;
}

/** A stored row from the file, each value checked against its column (as a write would), frozen. */
function checkRow(t: TableDef, given: unknown): StoredRow {
  const width = t.columns.length;
  if (!Array.isArray(given) || given.length !== width + 2 || typeof given[width] !== 'bigint' || given[width] < 0n) {
    throw invalidFile(`a row of '${t.namespace}.${t.name}' does not have the table's columns`);
  }
  const row = given as Value[]; // the decoded array is the import's own: checked and frozen in place, not copied
  for (let i = 0; i < width; i++) {
    const c = t.columns[i];
    const v = given[i] as unknown;
    try {
      row[i] = v === null ? null : c.type === 'JSON' ? sealJson(v, 'TYPE_MISMATCH', `Column '${c.name}' is JSON and cannot hold this value`) : coerce(v, c.type, c.name);
    } catch (e) {
      throw invalidFile(`a row of '${t.namespace}.${t.name}' does not fit the table (${e instanceof Error ? e.message : String(e)})`);
    }
    if (row[i] === null && c.notNull) throw invalidFile(`a row of '${t.namespace}.${t.name}' has NULL in NOT NULL column '${c.name}'`);
  }
  row[width + 1] = false;
  return Object.freeze(row);
}
