import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type OpenOptions } from './options';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import { parseStatement } from '../sql/parse';
import { parseAlterTable } from '../sql/parse-alter';
import { registerAlterParser } from '../sql/parse-ddl';
import { openMemoryStore } from '../storage/memory';
import type { KvStore } from '../storage/kv';
import type { Row } from '../core/types';
import { loadSqlParser } from '../sql/parser-loader';

// The grammar and ALTER TABLE's parser (an SQL extension) load as a database opens or a statement says ALTER; these tests parse without one.
beforeAll(async () => {
  await loadSqlParser();
  registerAlterParser((c) => parseAlterTable(c)!);
});

let db: Database;
let admin: Session;
let alice: Session;
let bob: Session;

async function failure(p: Promise<unknown>): Promise<KalamError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected the statement to fail');
}

async function setup(options: OpenOptions = { storage: 'memory' }): Promise<void> {
  db = await openDatabase(options);
  admin = db.session({ user: 'root', role: 'dba' });
  alice = db.session({ user: 'alice' });
  bob = db.session({ user: 'bob' });
  await admin.execute('CREATE NAMESPACE app');
  await admin.execute('CREATE USER TABLE app.notes (id TEXT PRIMARY KEY, body TEXT, n INT)');
  await alice.execute("INSERT INTO app.notes (id, body, n) VALUES ('a1', 'alpha', 1), ('a2', 'beta', 2), ('a3', 'gone', 3)");
  await alice.execute("DELETE FROM app.notes WHERE id = 'a3'");
  await bob.execute("INSERT INTO app.notes (id, body, n) VALUES ('b1', 'bravo', 10)");
}

const rows = async (s: Session, sql: string) => (await s.query(sql)).rows.map((r) => ({ ...r }));
const version = async () => (await admin.query("SELECT version FROM system.tables WHERE table_name = 'notes'")).rows[0].version;
const columnNames = async () => (await admin.query("SELECT column_name FROM system.columns WHERE table_name = 'notes' ORDER BY ordinal")).rows.map((r) => r.column_name);

describe('ALTER TABLE parsing', () => {
  const cases: [string, unknown][] = [
    ['ALTER TABLE app.t ADD COLUMN c INT NOT NULL DEFAULT 5', { kind: 'addColumn', ifNotExists: false, written: 'c', column: { name: 'c', type: 'INT', notNull: true, primaryKey: false, default: { kind: 'literal', value: 5 } } }],
    ['ALTER TABLE t ADD c TEXT', { kind: 'addColumn', ifNotExists: false, written: 'c', column: { name: 'c', type: 'TEXT', notNull: false, primaryKey: false } }],
    ['ALTER TABLE t ADD COLUMN IF NOT EXISTS c TEXT', { kind: 'addColumn', ifNotExists: true, written: 'c', column: { name: 'c', type: 'TEXT', notNull: false, primaryKey: false } }],
    ['ALTER TABLE t DROP COLUMN C', { kind: 'dropColumn', column: 'c', ifExists: false }],
    ['ALTER TABLE t DROP COLUMN IF EXISTS c', { kind: 'dropColumn', column: 'c', ifExists: true }],
    ['ALTER TABLE t RENAME COLUMN a TO B', { kind: 'renameColumn', from: 'a', to: 'b' }],
    ['ALTER TABLE t MODIFY COLUMN c BIGINT NOT NULL', { kind: 'modifyColumn', column: 'c', type: 'BIGINT', notNull: true }],
    ['ALTER TABLE t MODIFY COLUMN c TEXT NULL', { kind: 'modifyColumn', column: 'c', type: 'TEXT', notNull: false }],
    ['ALTER TABLE t MODIFY c DOUBLE PRECISION', { kind: 'modifyColumn', column: 'c', type: 'DOUBLE' }],
    ['ALTER TABLE t ALTER COLUMN c TYPE DECIMAL(10,2)', { kind: 'modifyColumn', column: 'c', type: 'DECIMAL', precision: 10, scale: 2 }],
    ['ALTER TABLE t ALTER COLUMN c SET DATA TYPE TEXT', { kind: 'modifyColumn', column: 'c', type: 'TEXT' }],
    ['ALTER TABLE t ALTER COLUMN c SET NOT NULL', { kind: 'setNotNull', column: 'c', notNull: true }],
    ['ALTER TABLE t ALTER COLUMN c DROP NOT NULL', { kind: 'setNotNull', column: 'c', notNull: false }],
    ["ALTER TABLE t ALTER COLUMN c SET DEFAULT 'x'", { kind: 'setDefault', column: 'c', default: { kind: 'literal', value: 'x' } }],
    ['ALTER TABLE t ALTER c SET DEFAULT NOW()', { kind: 'setDefault', column: 'c', default: { kind: 'function', name: 'NOW' } }],
    ['ALTER TABLE t ALTER COLUMN c DROP DEFAULT', { kind: 'setDefault', column: 'c', default: null }],
    ['ALTER TABLE t SET ACCESS LEVEL public', { kind: 'setAccessLevel', level: 'public' }],
    ["ALTER TABLE t SET TBLPROPERTIES (ACCESS_LEVEL = 'PUBLIC')", { kind: 'setAccessLevel', level: 'PUBLIC' }],
  ];
  for (const [sql, op] of cases) {
    it(`reads ${sql}`, () => {
      const stmt = parseStatement(sql);
      expect(stmt.kind).toBe('alterTable');
      expect(stmt.kind === 'alterTable' && stmt.op).toEqual(op);
    });
  }

  it('reads the table name with or without a namespace', () => {
    expect(parseStatement('ALTER TABLE App.T DROP COLUMN c')).toMatchObject({ table: { namespace: 'app', name: 't' } });
    expect(parseStatement('ALTER TABLE t DROP COLUMN c')).toMatchObject({ table: { name: 't' } });
  });

  it('refuses several operations in one statement, and unknown operations', () => {
    for (const sql of ['ALTER TABLE t ADD COLUMN a INT, ADD COLUMN b INT', 'ALTER TABLE t FROB c', 'ALTER TABLE t ALTER COLUMN c FROB']) {
      expect(() => parseStatement(sql), sql).toThrow(KalamError);
    }
    expect(() => parseStatement('ALTER TABLE t RENAME TO u')).toThrow(/Renaming a table is not supported/);
    expect(() => parseStatement('ALTER TABLE t ADD COLUMN id INT PRIMARY KEY')).toThrow(/Cannot add PRIMARY KEY column 'id'/);
    expect(() => parseStatement("ALTER TABLE t MODIFY COLUMN c INT DEFAULT 1")).toThrow(/SET DEFAULT/);
    expect(() => parseStatement("ALTER TABLE t SET TBLPROPERTIES (TTL_SECONDS = '5')")).toThrow("Unknown table option 'TTL_SECONDS': only ACCESS_LEVEL can be changed");
  });
});

describe('ALTER TABLE on existing rows (a USER table with rows of two users)', () => {
  beforeEach(() => setup());

  it('ADD COLUMN with a DEFAULT fills the default into the rows of every user, tombstones included', async () => {
    await admin.execute("ALTER TABLE app.notes ADD COLUMN tag TEXT DEFAULT 'none'");
    expect(await rows(alice, 'SELECT * FROM app.notes')).toEqual([
      { id: 'a1', body: 'alpha', n: 1, tag: 'none' },
      { id: 'a2', body: 'beta', n: 2, tag: 'none' },
    ]);
    expect(await rows(bob, 'SELECT * FROM app.notes')).toEqual([{ id: 'b1', body: 'bravo', n: 10, tag: 'none' }]);
    expect(await rows(alice, 'SELECT id, tag FROM app.notes WHERE _deleted = true')).toEqual([{ id: 'a3', tag: 'none' }]);
    await alice.execute("INSERT INTO app.notes (id) VALUES ('a4')");
    await alice.execute("INSERT INTO app.notes (id, tag) VALUES ('a5', 'red')");
    expect(await rows(alice, "SELECT id, tag FROM app.notes WHERE id IN ('a4', 'a5')")).toEqual([{ id: 'a4', tag: 'none' }, { id: 'a5', tag: 'red' }]);
  });

  it('ADD COLUMN without a DEFAULT reads NULL in existing rows', async () => {
    await alice.execute('ALTER TABLE app.notes ADD COLUMN due TIMESTAMP');
    expect(await rows(alice, 'SELECT id, due FROM app.notes')).toEqual([{ id: 'a1', due: null }, { id: 'a2', due: null }]);
    expect(await rows(bob, 'SELECT id, due FROM app.notes')).toEqual([{ id: 'b1', due: null }]);
  });

  it('ADD COLUMN evaluates a function DEFAULT for each existing row: CURRENT_USER() is the row owner, SNOWFLAKE_ID() differs per row', async () => {
    await admin.execute('ALTER TABLE app.notes ADD COLUMN owner TEXT DEFAULT CURRENT_USER()');
    await admin.execute('ALTER TABLE app.notes ADD COLUMN sid BIGINT DEFAULT SNOWFLAKE_ID()');
    expect(await rows(alice, 'SELECT id, owner FROM app.notes')).toEqual([{ id: 'a1', owner: 'alice' }, { id: 'a2', owner: 'alice' }]);
    expect(await rows(bob, 'SELECT id, owner FROM app.notes')).toEqual([{ id: 'b1', owner: 'bob' }]);
    const ids = [...(await rows(alice, 'SELECT sid FROM app.notes')), ...(await rows(bob, 'SELECT sid FROM app.notes'))].map((r) => r.sid);
    expect(ids.every((v) => typeof v === 'bigint')).toBe(true);
    expect(new Set(ids).size).toBe(3);
  });

  it('ADD COLUMN NOT NULL without a DEFAULT is refused on a table with rows, and allowed on an empty one', async () => {
    const e = await failure(admin.execute('ALTER TABLE app.notes ADD COLUMN must TEXT NOT NULL'));
    expect(e.code).toBe('NOT_NULL_VIOLATION');
    expect(e.message).toMatch(/^Cannot add NOT NULL column 'must' without a DEFAULT: table 'app.notes' has 3 row\(s\)/);
    expect(await version()).toBe(1);
    expect(await columnNames()).toEqual(['id', 'body', 'n']);
    await admin.execute("ALTER TABLE app.notes ADD COLUMN must TEXT NOT NULL DEFAULT 'x'");
    expect(await rows(bob, 'SELECT must FROM app.notes')).toEqual([{ must: 'x' }]);

    await admin.execute('CREATE USER TABLE app.empty (id INT PRIMARY KEY)');
    await admin.execute('ALTER TABLE app.empty ADD COLUMN must TEXT NOT NULL');
    const insert = await failure(alice.execute('INSERT INTO app.empty (id) VALUES (1)'));
    expect(insert.code).toBe('NOT_NULL_VIOLATION');
  });

  it('DROP COLUMN removes the column and its values from every partition; a column added again under that name starts empty with a new id', async () => {
    const before = (await admin.query("SELECT column_id FROM system.columns WHERE table_name = 'notes' AND column_name = 'body'")).rows[0].column_id;
    await admin.execute('ALTER TABLE app.notes DROP COLUMN body');
    expect(await rows(alice, 'SELECT * FROM app.notes')).toEqual([{ id: 'a1', n: 1 }, { id: 'a2', n: 2 }]);
    expect(await rows(bob, 'SELECT * FROM app.notes')).toEqual([{ id: 'b1', n: 10 }]);
    expect((await failure(alice.query('SELECT body FROM app.notes'))).code).toBe('COLUMN_NOT_FOUND');
    await bob.execute("INSERT INTO app.notes (id, n) VALUES ('b2', 20)");
    await admin.execute('ALTER TABLE app.notes ADD COLUMN body TEXT');
    expect(await rows(bob, 'SELECT id, body, n FROM app.notes')).toEqual([{ id: 'b1', body: null, n: 10 }, { id: 'b2', body: null, n: 20 }]);
    const after = (await admin.query("SELECT column_id FROM system.columns WHERE table_name = 'notes' AND column_name = 'body'")).rows[0].column_id;
    expect(after).not.toBe(before);
    expect(after).toBe(4);
  });

  it('DROP COLUMN before the primary key keeps primary-key lookups, updates and deletes working', async () => {
    await admin.execute('CREATE SHARED TABLE app.s (a TEXT, b INT, id INT PRIMARY KEY)');
    await admin.execute("INSERT INTO app.s (a, b, id) VALUES ('x', 1, 1), ('y', 2, 2)");
    await admin.execute('ALTER TABLE app.s DROP COLUMN a');
    await admin.execute('UPDATE app.s SET b = 5 WHERE id = 1');
    await admin.execute('DELETE FROM app.s WHERE id = 2');
    expect(await rows(admin, 'SELECT * FROM app.s')).toEqual([{ b: 5, id: 1 }]);
    expect((await failure(admin.execute('INSERT INTO app.s (b, id) VALUES (9, 1)'))).code).toBe('PRIMARY_KEY_VIOLATION');
  });

  it('RENAME COLUMN reads old rows under the new name and keeps the column id', async () => {
    const id = async (name: string) => (await admin.query(`SELECT column_id FROM system.columns WHERE table_name = 'notes' AND column_name = '${name}'`)).rows[0]?.column_id;
    const before = await id('body');
    await admin.execute('ALTER TABLE app.notes RENAME COLUMN body TO text');
    expect(await rows(alice, 'SELECT id, text FROM app.notes')).toEqual([{ id: 'a1', text: 'alpha' }, { id: 'a2', text: 'beta' }]);
    expect(await rows(bob, 'SELECT text FROM app.notes')).toEqual([{ text: 'bravo' }]);
    expect((await failure(alice.query('SELECT body FROM app.notes'))).code).toBe('COLUMN_NOT_FOUND');
    expect(await id('text')).toBe(before);
    expect(await id('body')).toBeUndefined();
  });

  it('RENAME COLUMN works on the primary key column (rows are keyed by value, not by name)', async () => {
    await admin.execute('ALTER TABLE app.notes RENAME COLUMN id TO note_id');
    expect(await rows(alice, "SELECT note_id, body FROM app.notes WHERE note_id = 'a2'")).toEqual([{ note_id: 'a2', body: 'beta' }]);
    expect((await failure(alice.execute("INSERT INTO app.notes (note_id) VALUES ('a1')"))).code).toBe('PRIMARY_KEY_VIOLATION');
  });

  it('MODIFY COLUMN converts the values of every partition to the new type', async () => {
    await admin.execute('ALTER TABLE app.notes MODIFY COLUMN n TEXT');
    expect(await rows(alice, 'SELECT id, n FROM app.notes')).toEqual([{ id: 'a1', n: '1' }, { id: 'a2', n: '2' }]);
    expect(await rows(bob, 'SELECT n FROM app.notes')).toEqual([{ n: '10' }]);
    await admin.execute('ALTER TABLE app.notes ALTER COLUMN n TYPE BIGINT');
    expect(await rows(bob, 'SELECT n FROM app.notes')).toEqual([{ n: 10n }]);
    expect((await admin.query("SELECT data_type FROM system.columns WHERE table_name = 'notes' AND column_name = 'n'")).rows[0].data_type).toBe('BIGINT');
  });

  it('MODIFY COLUMN to a type some value cannot take fails with TYPE_MISMATCH and changes nothing', async () => {
    await bob.execute("INSERT INTO app.notes (id, body) VALUES ('b2', '42')");
    const e = await failure(admin.execute('ALTER TABLE app.notes MODIFY COLUMN body INT'));
    expect(e.code).toBe('TYPE_MISMATCH');
    expect(e.message).toMatch(/^Cannot change column 'body' of table 'app.notes' from TEXT to INT: the existing value '(alpha|beta|bravo)' cannot be converted. Nothing was changed/);
    expect(await version()).toBe(1);
    expect(await rows(bob, 'SELECT id, body FROM app.notes')).toEqual([{ id: 'b1', body: 'bravo' }, { id: 'b2', body: '42' }]);
    expect((await admin.query("SELECT data_type FROM system.columns WHERE table_name = 'notes' AND column_name = 'body'")).rows[0].data_type).toBe('TEXT');
  });

  it('SET NOT NULL is refused while NULLs exist (naming the column) and enforced once set; DROP NOT NULL lifts it', async () => {
    await bob.execute("INSERT INTO app.notes (id) VALUES ('b2')");
    const e = await failure(admin.execute('ALTER TABLE app.notes ALTER COLUMN body SET NOT NULL'));
    expect(e.code).toBe('NOT_NULL_VIOLATION');
    expect(e.message).toMatch(/^NOT NULL violation: column 'body' of table 'app.notes' holds NULL in 1 row\(s\)/);
    expect(await version()).toBe(1);
    await bob.execute("UPDATE app.notes SET body = 'filled' WHERE id = 'b2'");
    await admin.execute('ALTER TABLE app.notes ALTER COLUMN body SET NOT NULL');
    const insert = await failure(alice.execute("INSERT INTO app.notes (id) VALUES ('a9')"));
    expect(insert.code).toBe('NOT_NULL_VIOLATION');
    expect(insert.message).toMatch(/column 'body'/);
    await admin.execute('ALTER TABLE app.notes ALTER COLUMN body DROP NOT NULL');
    await alice.execute("INSERT INTO app.notes (id) VALUES ('a9')");
    expect(await rows(alice, "SELECT body FROM app.notes WHERE id = 'a9'")).toEqual([{ body: null }]);
  });

  it('MODIFY COLUMN … NOT NULL checks existing NULLs too', async () => {
    await bob.execute("INSERT INTO app.notes (id) VALUES ('b2')");
    const e = await failure(admin.execute('ALTER TABLE app.notes MODIFY COLUMN n BIGINT NOT NULL'));
    expect(e.code).toBe('NOT_NULL_VIOLATION');
    expect(e.message).toMatch(/column 'n'/);
    expect(await rows(alice, 'SELECT n FROM app.notes')).toEqual([{ n: 1 }, { n: 2 }]);
  });

  it('SET DEFAULT and DROP DEFAULT change what new rows get and leave existing rows alone', async () => {
    await admin.execute("ALTER TABLE app.notes ALTER COLUMN body SET DEFAULT 'empty'");
    await alice.execute("INSERT INTO app.notes (id) VALUES ('a4')");
    await admin.execute('ALTER TABLE app.notes ALTER COLUMN body DROP DEFAULT');
    await alice.execute("INSERT INTO app.notes (id) VALUES ('a5')");
    expect(await rows(alice, 'SELECT id, body FROM app.notes')).toEqual([
      { id: 'a1', body: 'alpha' }, { id: 'a2', body: 'beta' }, { id: 'a4', body: 'empty' }, { id: 'a5', body: null },
    ]);
    const e = await failure(admin.execute("ALTER TABLE app.notes ALTER COLUMN n SET DEFAULT 'many'"));
    expect(e.code).toBe('TYPE_MISMATCH');
  });

  it('re-plans cached queries: the same SELECT * text sees the new layout', async () => {
    expect(Object.keys((await alice.query('SELECT * FROM app.notes')).rows[0])).toEqual(['id', 'body', 'n']);
    await admin.execute('ALTER TABLE app.notes ADD COLUMN extra INT DEFAULT 7');
    expect(Object.keys((await alice.query('SELECT * FROM app.notes')).rows[0])).toEqual(['id', 'body', 'n', 'extra']);
  });

  it('a write queued behind an ALTER is planned again against the new layout', async () => {
    const [, inserted] = await Promise.all([
      admin.execute("ALTER TABLE app.notes ADD COLUMN tag TEXT DEFAULT 'late'"),
      alice.execute("INSERT INTO app.notes (id, body) VALUES ('a4', 'queued')"),
    ]);
    expect(inserted[0].rowCount).toBe(1);
    expect(await rows(alice, "SELECT id, body, n, tag FROM app.notes WHERE id = 'a4'")).toEqual([{ id: 'a4', body: 'queued', n: null, tag: 'late' }]);
  });

  it('a live query on the table re-runs with the new column, and one naming a dropped column gets an error', async () => {
    const results: Row[][] = [];
    const errors: KalamError[] = [];
    const stop = await alice.live('SELECT * FROM app.notes', [], (r) => results.push([...r]), (e) => errors.push(e));
    const stopBody = await bob.live('SELECT body FROM app.notes', [], () => undefined, (e) => errors.push(e));
    await admin.execute("ALTER TABLE app.notes ADD COLUMN tag TEXT DEFAULT 't'");
    expect(results[results.length - 1].map((r) => r.tag)).toEqual(['t', 't']);
    await admin.execute('ALTER TABLE app.notes DROP COLUMN body');
    expect(results[results.length - 1]).toEqual([{ id: 'a1', n: 1, tag: 't' }, { id: 'a2', n: 2, tag: 't' }]);
    expect(errors.map((e) => e.code)).toEqual(['COLUMN_NOT_FOUND']);
    stop();
    stopBody();
  });
});

describe('ALTER TABLE errors (worded as KalamDB words them)', () => {
  beforeEach(() => setup());

  const cases: [string, string, string][] = [
    ['ALTER TABLE app.notes ADD COLUMN _seq BIGINT', 'INVALID_NAME', "Cannot add column '_seq': reserved system column name"],
    ['ALTER TABLE app.notes ADD COLUMN _deleted BOOLEAN', 'INVALID_NAME', "Cannot add column '_deleted': reserved system column name"],
    ['ALTER TABLE app.notes ADD COLUMN Body TEXT', 'DUPLICATE_COLUMN', "Duplicate column name 'Body'. Column names are case-insensitive."],
    ['ALTER TABLE app.notes RENAME COLUMN n TO BODY', 'DUPLICATE_COLUMN', "Duplicate column name 'body'. Column names are case-insensitive."],
    ['ALTER TABLE app.notes RENAME COLUMN n TO _seq', 'INVALID_NAME', "Cannot rename column to '_seq': reserved system column name"],
    ['ALTER TABLE app.notes RENAME COLUMN _seq TO s', 'INVALID_SQL', "Cannot rename column '_seq': system column cannot be modified"],
    ['ALTER TABLE app.notes DROP COLUMN _deleted', 'INVALID_SQL', "Cannot drop column '_deleted': system column cannot be modified"],
    ['ALTER TABLE app.notes MODIFY COLUMN _seq INT', 'INVALID_SQL', "Cannot modify column '_seq': system column cannot be altered"],
    ['ALTER TABLE app.notes DROP COLUMN nope', 'COLUMN_NOT_FOUND', "Column 'nope' does not exist in table 'app.notes'"],
    ['ALTER TABLE app.notes RENAME COLUMN nope TO x', 'COLUMN_NOT_FOUND', "Column 'nope' does not exist in table 'app.notes'"],
    ['ALTER TABLE app.notes MODIFY COLUMN nope INT', 'COLUMN_NOT_FOUND', "Column 'nope' does not exist in table 'app.notes'"],
    ['ALTER TABLE app.notes ALTER COLUMN nope SET NOT NULL', 'COLUMN_NOT_FOUND', "Column 'nope' does not exist in table 'app.notes'"],
    ['ALTER TABLE app.notes DROP COLUMN id', 'INVALID_SQL', "Cannot drop column 'id': it is the primary key of table 'app.notes'. Create a new table to change the primary key"],
    ['ALTER TABLE app.notes MODIFY COLUMN id INT', 'INVALID_SQL', "Cannot change the type of column 'id': it is the primary key of table 'app.notes'. Create a new table to change the primary key"],
    ['ALTER TABLE app.notes ALTER COLUMN id DROP NOT NULL', 'INVALID_SQL', "Column 'id' is a PRIMARY KEY and cannot be nullable"],
    ['ALTER TABLE app.notes MODIFY COLUMN id TEXT NULL', 'INVALID_SQL', "Column 'id' is a PRIMARY KEY and cannot be nullable"],
    ['ALTER TABLE app.notes ADD COLUMN select INT', 'INVALID_NAME', "Column name 'select' is a reserved SQL keyword; choose another name"],
    ['ALTER TABLE app.notes SET ACCESS LEVEL public', 'INVALID_SQL', 'ACCESS LEVEL can only be set on SHARED tables'],
    ['ALTER TABLE app.missing ADD COLUMN c INT', 'TABLE_NOT_FOUND', "Table 'app.missing' does not exist. Check the name, or create it with CREATE TABLE"],
    ['ALTER TABLE system.tables ADD COLUMN c INT', 'PERMISSION_DENIED', "Cannot alter system table 'system.tables'"],
  ];
  for (const [sql, code, message] of cases) {
    it(`refuses ${sql}`, async () => {
      const e = await failure(admin.execute(sql));
      expect([e.code, e.message]).toEqual([code, message]);
      expect(await version()).toBe(1);
      expect(await columnNames()).toEqual(['id', 'body', 'n']);
    });
  }

  it('IF EXISTS / IF NOT EXISTS and changes to what already is are no-ops that keep the version', async () => {
    const messages = [];
    for (const sql of [
      'ALTER TABLE app.notes DROP COLUMN IF EXISTS nope',
      'ALTER TABLE app.notes ADD COLUMN IF NOT EXISTS body TEXT',
      'ALTER TABLE app.notes ALTER COLUMN body DROP NOT NULL',
      'ALTER TABLE app.notes ALTER COLUMN body DROP DEFAULT',
      'ALTER TABLE app.notes MODIFY COLUMN n INT',
    ]) {
      messages.push((await admin.execute(sql))[0].message);
    }
    expect(messages[2]).toBe('Table app.notes unchanged: ALTER COLUMN body DROP NOT NULL (version 1 - no changes needed)');
    expect(await version()).toBe(1);
    expect((await admin.execute('ALTER TABLE app.notes ADD COLUMN c INT'))[0].message).toBe('Table app.notes altered successfully: ADD COLUMN c INT (version 2)');
  });
});

describe('schema versions and system.schemas', () => {
  beforeEach(() => setup());

  it('every change bumps the version and records it; system.schemas lists every version of every table for dba', async () => {
    await admin.execute('CREATE SHARED TABLE app.other (id INT PRIMARY KEY)');
    await admin.execute("ALTER TABLE app.notes ADD COLUMN tag TEXT DEFAULT 'x'");
    await admin.execute('ALTER TABLE app.notes RENAME COLUMN tag TO label');
    await admin.execute('ALTER TABLE app.notes DROP COLUMN n');
    expect(await version()).toBe(4);
    const r = await admin.query('SELECT table_id, table_name, namespace_id, table_type, schema_version, columns, access_level, is_latest FROM system.schemas ORDER BY table_id, schema_version');
    const names = (cols: unknown) => (cols as { column_name: string }[]).map((c) => c.column_name);
    expect(r.rows.map((x) => [x.table_id, x.schema_version, x.is_latest, names(x.columns)])).toEqual([
      ['app:notes', 1, false, ['id', 'body', 'n']],
      ['app:notes', 2, false, ['id', 'body', 'n', 'tag']],
      ['app:notes', 3, false, ['id', 'body', 'n', 'label']],
      ['app:notes', 4, true, ['id', 'body', 'label']],
      ['app:other', 1, true, ['id']],
    ]);
    expect(r.rows[0]).toMatchObject({ table_name: 'notes', namespace_id: 'app', table_type: 'USER', access_level: null });
    expect(r.rows[4].access_level).toBe('private');
    const label = (r.rows[3].columns as Record<string, unknown>[])[2];
    expect(label).toEqual({ column_id: 4, column_name: 'label', ordinal_position: 3, data_type: 'TEXT', is_nullable: true, is_primary_key: false, default_value: '"x"' });
  });

  it('system.schemas is readable by the dba and system roles only', async () => {
    const e = await failure(alice.query('SELECT * FROM system.schemas'));
    expect(e.code).toBe('PERMISSION_DENIED');
    const service = db.session({ user: 'svc', role: 'service' });
    expect((await failure(service.query('SELECT * FROM system.schemas'))).code).toBe('PERMISSION_DENIED');
    const system = db.session({ user: 'sys', role: 'system' });
    expect((await system.query('SELECT * FROM system.schemas')).rowCount).toBe(1);
  });

  it('dropping a table drops its schema history', async () => {
    await admin.execute('ALTER TABLE app.notes ADD COLUMN c INT');
    const stat = async () => (await admin.query("SELECT metric_value FROM system.stats WHERE metric_name = 'schema_versions'")).rows[0].metric_value;
    expect(await stat()).toBe('2');
    await admin.execute('DROP TABLE app.notes');
    expect((await admin.query('SELECT * FROM system.schemas')).rowCount).toBe(0);
    expect(await stat()).toBe('0');
  });
});

describe('schema history is bounded by maxSchemaVersions', () => {
  it('keeps the newest versions per table, drops the oldest from storage too, and reports the count in system.stats', async () => {
    const indexedDB = new IDBFactory();
    await setup({ storage: 'idb', name: 'bounded', indexedDB, maxSchemaVersions: 3 });
    for (let i = 0; i < 5; i++) await admin.execute(`ALTER TABLE app.notes ADD COLUMN c${i} INT`);
    const versions = async () => (await admin.query("SELECT schema_version FROM system.schemas WHERE table_id = 'app:notes' ORDER BY schema_version")).rows.map((r) => r.schema_version);
    const stats = async () => Object.fromEntries((await admin.query("SELECT metric_name, metric_value FROM system.stats WHERE metric_name LIKE 'schema_versions%'")).rows.map((r) => [r.metric_name, r.metric_value]));
    expect(await versions()).toEqual([4, 5, 6]);
    expect(await stats()).toEqual({ schema_versions: '3', schema_versions_max_per_table: '3' });
    await db.close();

    db = await openDatabase({ storage: 'idb', name: 'bounded', indexedDB, maxSchemaVersions: 3 });
    admin = db.session({ user: 'root', role: 'dba' });
    expect(await versions()).toEqual([4, 5, 6]);
    await db.close();

    // A smaller bound trims at open; the next ALTER deletes what was trimmed from storage.
    db = await openDatabase({ storage: 'idb', name: 'bounded', indexedDB, maxSchemaVersions: 2 });
    admin = db.session({ user: 'root', role: 'dba' });
    expect(await versions()).toEqual([5, 6]);
    await admin.execute('ALTER TABLE app.notes DROP COLUMN c0');
    expect(await versions()).toEqual([6, 7]);
    await db.close();
    db = await openDatabase({ storage: 'idb', name: 'bounded', indexedDB, maxSchemaVersions: 10 });
    admin = db.session({ user: 'root', role: 'dba' });
    expect(await versions()).toEqual([6, 7]);
    await db.close();
  });

  it('refuses a bound that is not a positive integer', async () => {
    await expect(openDatabase({ storage: 'memory', maxSchemaVersions: 0 })).rejects.toThrow(/maxSchemaVersions must be a positive integer/);
  });
});

describe('ALTER TABLE permissions', () => {
  beforeEach(async () => {
    await setup();
    await admin.execute("CREATE SHARED TABLE app.board (id INT PRIMARY KEY, msg TEXT)");
    await admin.execute("INSERT INTO app.board (id, msg) VALUES (1, 'hello')");
  });

  it('the user role may add columns to USER and STREAM tables but not alter SHARED ones', async () => {
    await alice.execute('ALTER TABLE app.notes ADD COLUMN c INT');
    await admin.execute('CREATE STREAM TABLE app.events (v INT) WITH (TTL_SECONDS = 60)');
    await bob.execute('ALTER TABLE app.events ADD COLUMN w INT');
    expect(await columnNames()).toEqual(['id', 'body', 'n', 'c']);
    const e = await failure(alice.execute('ALTER TABLE app.board ADD COLUMN c INT'));
    expect([e.code, e.message]).toEqual(['PERMISSION_DENIED', 'Insufficient privileges to alter Shared tables']);
    expect((await admin.query("SELECT version FROM system.tables WHERE table_name = 'board'")).rows[0].version).toBe(1);
  });

  it('the user role may not drop, rename, retype or constrain columns of a USER table: that would change other users\' rows', async () => {
    for (const sql of [
      'ALTER TABLE app.notes DROP COLUMN body',
      'ALTER TABLE app.notes RENAME COLUMN body TO b',
      'ALTER TABLE app.notes MODIFY COLUMN n TEXT',
      'ALTER TABLE app.notes ALTER COLUMN body SET NOT NULL',
      "ALTER TABLE app.notes ALTER COLUMN body SET DEFAULT 'x'",
    ]) {
      const e = await failure(bob.execute(sql));
      expect([sql, e.code]).toEqual([sql, 'PERMISSION_DENIED']);
      expect(e.message).toMatch(/^Insufficient privileges to alter table 'app.notes': the user role may only ADD COLUMN/);
    }
    expect(await version()).toBe(1);
    expect(await rows(alice, 'SELECT * FROM app.notes')).toEqual([{ id: 'a1', body: 'alpha', n: 1 }, { id: 'a2', body: 'beta', n: 2 }]);
    await db.session({ user: 'svc', role: 'service' }).execute('ALTER TABLE app.notes RENAME COLUMN body TO b');
    expect(await columnNames()).toEqual(['id', 'b', 'n']);
  });

  it('service, dba and system may alter SHARED tables', async () => {
    for (const [i, role] of (['service', 'dba', 'system'] as const).entries()) {
      await db.session({ user: `u${i}`, role }).execute(`ALTER TABLE app.board ADD COLUMN c${i} INT`);
    }
    expect((await admin.query("SELECT version FROM system.tables WHERE table_name = 'board'")).rows[0].version).toBe(4);
  });

  it('SET ACCESS LEVEL needs service, dba or system, and changes who can read the table', async () => {
    const denied = await failure(alice.execute('ALTER TABLE app.board SET ACCESS LEVEL public'));
    expect([denied.code, denied.message]).toEqual(['PERMISSION_DENIED', 'Only service, dba, or system users can modify table access levels']);
    expect((await failure(alice.query('SELECT * FROM app.board'))).code).toBe('PERMISSION_DENIED');

    const service = db.session({ user: 'svc', role: 'service' });
    expect((await service.execute('ALTER TABLE app.board SET ACCESS LEVEL public'))[0].message).toBe('Table app.board altered successfully: SET ACCESS LEVEL public (version 2)');
    expect(await rows(alice, 'SELECT * FROM app.board')).toEqual([{ id: 1, msg: 'hello' }]);
    expect((await failure(alice.execute("INSERT INTO app.board (id, msg) VALUES (2, 'x')"))).code).toBe('PERMISSION_DENIED');

    await admin.execute("ALTER TABLE app.board SET TBLPROPERTIES (ACCESS_LEVEL = 'DBA')");
    expect((await failure(service.query('SELECT * FROM app.board'))).code).toBe('PERMISSION_DENIED');
    expect((await admin.query("SELECT access_level FROM system.tables WHERE table_name = 'board'")).rows[0].access_level).toBe('dba');
    const bad = await failure(admin.execute('ALTER TABLE app.board SET ACCESS LEVEL everyone'));
    expect([bad.code, bad.message]).toEqual(['INVALID_OPTION', "Invalid ACCESS_LEVEL 'everyone': use PUBLIC, PRIVATE, RESTRICTED or DBA"]);
  });

  it('a live query on a SHARED table reports PERMISSION_DENIED once the access level shuts the reader out', async () => {
    await admin.execute('ALTER TABLE app.board SET ACCESS LEVEL public');
    const errors: KalamError[] = [];
    const stop = await alice.live('SELECT * FROM app.board', [], () => undefined, (e) => errors.push(e));
    await admin.execute('ALTER TABLE app.board SET ACCESS LEVEL private');
    expect(errors.map((e) => e.code)).toEqual(['PERMISSION_DENIED']);
    stop();
  });
});

describe('ALTER TABLE atomicity and durability', () => {
  it('a failed storage commit leaves the definition and the rows unchanged', async () => {
    const inner = openMemoryStore();
    let failNext = false;
    const store: KvStore = {
      kind: inner.kind,
      get: (s, k) => inner.get(s, k),
      scan: (s, r, v) => inner.scan(s, r, v),
      commit: async (w) => {
        if (failNext) {
          failNext = false;
          throw new KalamError('STORAGE_ERROR', 'disk full');
        }
        return inner.commit(w);
      },
      close: () => inner.close(),
    };
    await setup({ storage: store });
    failNext = true;
    const e = await failure(admin.execute("ALTER TABLE app.notes ADD COLUMN tag TEXT DEFAULT 'x'"));
    expect(e.message).toBe('disk full');
    expect(await version()).toBe(1);
    expect(await rows(alice, 'SELECT * FROM app.notes')).toEqual([{ id: 'a1', body: 'alpha', n: 1 }, { id: 'a2', body: 'beta', n: 2 }]);
    expect((await admin.query('SELECT * FROM system.schemas')).rowCount).toBe(1);
    await alice.execute("INSERT INTO app.notes (id, body, n) VALUES ('a4', 'after', 4)");
    expect((await rows(alice, "SELECT * FROM app.notes WHERE id = 'a4'"))).toEqual([{ id: 'a4', body: 'after', n: 4 }]);
  });

  it('after ALTER, a database reopened on IndexedDB reads every partition in the new layout', async () => {
    const indexedDB = new IDBFactory();
    await setup({ storage: 'idb', name: 'reopen', indexedDB });
    await admin.execute("ALTER TABLE app.notes ADD COLUMN tag TEXT DEFAULT 'x'");
    await admin.execute('ALTER TABLE app.notes DROP COLUMN body');
    await admin.execute('ALTER TABLE app.notes RENAME COLUMN n TO num');
    await admin.execute('ALTER TABLE app.notes MODIFY COLUMN num TEXT');
    await db.close();

    db = await openDatabase({ storage: 'idb', name: 'reopen', indexedDB });
    admin = db.session({ user: 'root', role: 'dba' });
    alice = db.session({ user: 'alice' });
    bob = db.session({ user: 'bob' });
    expect(await rows(alice, 'SELECT * FROM app.notes')).toEqual([{ id: 'a1', num: '1', tag: 'x' }, { id: 'a2', num: '2', tag: 'x' }]);
    expect(await rows(bob, 'SELECT * FROM app.notes')).toEqual([{ id: 'b1', num: '10', tag: 'x' }]);
    expect(await rows(alice, 'SELECT id, tag FROM app.notes WHERE _deleted = true')).toEqual([{ id: 'a3', tag: 'x' }]);
    expect((await admin.query("SELECT schema_version FROM system.schemas WHERE table_id = 'app:notes'")).rows.map((r) => r.schema_version)).toEqual([1, 2, 3, 4, 5]);
    await alice.execute("INSERT INTO app.notes (id, num) VALUES ('a5', 'five')");
    await admin.execute('ALTER TABLE app.notes ADD COLUMN more INT');
    expect((await admin.query("SELECT column_id FROM system.columns WHERE table_name = 'notes' AND column_name = 'more'")).rows[0].column_id).toBe(5);
    await db.close();
  });
});
