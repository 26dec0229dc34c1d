import { describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Migration } from '../api/database';
import { KalamError } from '../core/errors';
import type { Row } from '../core/types';
import { openMemoryStore } from '../storage/memory';
import type { KvStore } from '../storage/kv';
import { migrationChecksum } from '../system/migrations';

/** A memory store that outlives the engines opened over it (db.close() closes its store). */
function durableStore(): KvStore {
  const inner = openMemoryStore();
  return { kind: inner.kind, get: (s, k) => inner.get(s, k), scan: (s, r, v) => inner.scan(s, r, v), commit: (w) => inner.commit(w), close: async () => undefined };
}

async function failure(p: Promise<unknown>): Promise<KalamError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected a failure');
}

const admin = (db: Database) => db.session({ user: 'root', role: 'dba' });
const rows = async (db: Database, sql: string): Promise<readonly Row[]> => (await admin(db).query(sql)).rows;
const applied = async (db: Database) => (await rows(db, 'SELECT version, checksum, statements FROM system.migrations ORDER BY version'));
const tableNames = async (db: Database, ns = 'app') => (await rows(db, `SELECT table_name FROM system.tables WHERE namespace_id = '${ns}' ORDER BY table_name`)).map((r) => r.table_name);
const columnNames = async (db: Database, table: string) =>
  (await rows(db, `SELECT column_name FROM system.columns WHERE namespace_id = 'app' AND table_name = '${table}' ORDER BY ordinal`)).map((r) => r.column_name);

const V1: Migration = { version: 1, sql: 'CREATE NAMESPACE app; CREATE TABLE app.todos (id INT PRIMARY KEY, title TEXT)' };
const V2: Migration = { version: 2, sql: "ALTER TABLE app.todos ADD COLUMN done BOOLEAN DEFAULT false; INSERT INTO app.todos (id, title) VALUES (1, 'first')" };

describe('db.migrate()', () => {
  it('runs pending migrations once, in version order, and records each in system.migrations (persisted across reopen)', async () => {
    const kv = durableStore();
    let db = await openDatabase({ storage: kv });
    expect(await db.migrate([V1, V2])).toEqual({ version: 2, applied: [1, 2] });
    expect(await rows(db, 'SELECT id, title, done FROM app.todos')).toEqual([{ id: 1, title: 'first', done: false }]);
    expect(await applied(db)).toEqual([
      { version: 1, checksum: migrationChecksum(V1.sql), statements: 2 },
      { version: 2, checksum: migrationChecksum(V2.sql), statements: 2 },
    ]);
    const [at] = await rows(db, 'SELECT applied_at FROM system.migrations WHERE version = 1');
    expect(typeof at.applied_at).toBe('number');
    await db.close();

    db = await openDatabase({ storage: kv });
    // Reopened: nothing runs again (the INSERT would fail on its primary key if it did).
    expect(await db.migrate([V1, V2])).toEqual({ version: 2, applied: [] });
    expect((await applied(db)).map((r) => r.version)).toEqual([1, 2]);
    expect(await rows(db, 'SELECT COUNT(*) AS n FROM app.todos')).toEqual([{ n: 1 }]);
    // A client that knows fewer migrations is fine; a later one runs only what is new.
    expect(await db.migrate([V1])).toEqual({ version: 2, applied: [] });
    expect(await db.migrate([V1, V2, { version: 5, sql: "INSERT INTO app.todos (id, title) VALUES (2, 'second')" }])).toEqual({ version: 5, applied: [5] });
    expect(await rows(db, 'SELECT COUNT(*) AS n FROM app.todos')).toEqual([{ n: 2 }]);
    await db.close();
  });

  it('a failing DML statement leaves the database at the previous version: the DDL before it is taken back, the DML before it never written', async () => {
    const db = await openDatabase({ storage: 'memory' });
    await db.migrate([V1, V2]);
    const bad: Migration = {
      version: 3,
      sql: `CREATE TABLE app.tags (id INT PRIMARY KEY, name TEXT);
            ALTER TABLE app.todos ADD COLUMN priority INT;
            ALTER TABLE app.todos RENAME COLUMN title TO label;
            INSERT INTO app.todos (id, label) VALUES (7, 'seven');
            INSERT INTO app.todos (id, label) VALUES (1, 'duplicate')`,
    };
    const e = await failure(db.migrate([V1, V2, bad]));
    expect(e.code).toBe('MIGRATION_FAILED');
    expect(e.message).toContain('Migration 3 failed at statement 5 of 5');
    expect(e.message).toContain("`INSERT INTO app.todos (id, label) VALUES (1, 'duplicate')`");
    expect(e.message).toContain('PRIMARY_KEY_VIOLATION');
    expect(e.message).toContain('the database is at version 2');
    expect(await tableNames(db)).toEqual(['todos']);
    expect(await columnNames(db, 'todos')).toEqual(['id', 'title', 'done']);
    expect(await rows(db, 'SELECT id, title, done FROM app.todos')).toEqual([{ id: 1, title: 'first', done: false }]);
    expect((await applied(db)).map((r) => r.version)).toEqual([1, 2]);
    // Fixed, it applies.
    const fixed = { version: 3, sql: bad.sql.replace("(1, 'duplicate')", "(8, 'eight')") };
    expect(await db.migrate([V1, V2, fixed])).toEqual({ version: 3, applied: [3] });
    expect(await columnNames(db, 'todos')).toEqual(['id', 'label', 'done', 'priority']);
    await db.close();
  });

  it('a failing DDL statement takes back the DDL before it; later migrations of the call do not run', async () => {
    const db = await openDatabase({ storage: 'memory' });
    await db.migrate([V1]);
    const bad: Migration = { version: 2, sql: 'CREATE NAMESPACE extra; CREATE TABLE extra.t (id INT PRIMARY KEY); ALTER TABLE app.todos ADD COLUMN x INT; CREATE TABLE app.todos (id INT PRIMARY KEY)' };
    const e = await failure(db.migrate([V1, bad, { version: 3, sql: 'CREATE TABLE app.later (id INT PRIMARY KEY)' }]));
    expect(e.code).toBe('MIGRATION_FAILED');
    expect(e.message).toContain('Migration 2 failed at statement 4 of 4 (`CREATE TABLE app.todos (id INT PRIMARY KEY)`): TABLE_EXISTS');
    expect((await rows(db, "SELECT name FROM system.namespaces WHERE name = 'extra'"))).toEqual([]);
    expect(await columnNames(db, 'todos')).toEqual(['id', 'title']);
    expect(await tableNames(db)).toEqual(['todos']);
    expect((await applied(db)).map((r) => r.version)).toEqual([1]);
    await db.close();
  });

  it('a DML statement that does not parse fails as it runs: the DDL before it is taken back', async () => {
    const db = await openDatabase({ storage: 'memory' });
    await db.migrate([V1]);
    const e = await failure(db.migrate([V1, { version: 2, sql: 'CREATE TABLE app.tags (id INT PRIMARY KEY); INSERT INTO app.tags (id) VALUE (1)' }]));
    expect(e.code).toBe('MIGRATION_FAILED');
    expect(e.message).toContain('Migration 2 failed at statement 2 of 2 (`INSERT INTO app.tags (id) VALUE (1)`)');
    expect(e.message).toContain('its DDL was taken back: the database is at version 1');
    expect(await tableNames(db)).toEqual(['todos']);
    await db.close();
  });

  it('refuses a changed migration with MIGRATION_MISMATCH, and a new version below the highest applied', async () => {
    const db = await openDatabase({ storage: 'memory' });
    await db.migrate([V1, { version: 3, sql: 'CREATE TABLE app.a (id INT PRIMARY KEY)' }]);
    const changed = await failure(db.migrate([{ version: 1, sql: `${V1.sql}, done BOOLEAN)` }]));
    expect(changed.code).toBe('MIGRATION_MISMATCH');
    expect(changed.message).toContain('Migration 1 was applied with different SQL');
    const hole = await failure(db.migrate([V1, { version: 2, sql: 'CREATE TABLE app.b (id INT PRIMARY KEY)' }]));
    expect(hole.code).toBe('MIGRATION_MISMATCH');
    expect(hole.message).toContain('needs a version above 3');
    expect(await tableNames(db)).toEqual(['a', 'todos']);
    await db.close();
  });

  it('checks the shape before anything runs: DDL after DML, a DROP that is not last, other statements', async () => {
    const db = await openDatabase({ storage: 'memory' });
    await db.migrate([V1]);
    const cases: [string, string][] = [
      ["INSERT INTO app.todos (id) VALUES (1); CREATE TABLE app.x (id INT PRIMARY KEY)", 'DDL after INSERT/UPDATE/DELETE'],
      ['DROP TABLE app.todos; CREATE TABLE app.x (id INT PRIMARY KEY)', 'must be the last statement'],
      ['ALTER TABLE app.todos DROP COLUMN title; CREATE TABLE app.x (id INT PRIMARY KEY)', 'must be the last statement'],
      ['SELECT 1', 'select statements cannot run in a migration'],
      ['FLUSH TABLE app.todos', 'cannot run in a migration'],
      ['CREATE TABLE app.x (id INT PRIMARY KEY); SELEC 1', 'statement 2 of 2 (`SELEC 1`)'],
      ['-- nothing here\n;', 'holds no statement'],
    ];
    for (const [sql, message] of cases) {
      const e = await failure(db.migrate([V1, { version: 2, sql }]));
      expect(e.code, sql).toBe('MIGRATION_FAILED');
      expect(e.message, sql).toContain(message);
      expect(e.message, sql).toContain('nothing of it ran');
    }
    expect(await tableNames(db)).toEqual(['todos']);
    expect(await columnNames(db, 'todos')).toEqual(['id', 'title']);
    expect((await applied(db)).map((r) => r.version)).toEqual([1]);
    // A DROP as the last statement commits with the migration's record.
    expect(await db.migrate([V1, { version: 2, sql: 'CREATE TABLE app.x (id INT PRIMARY KEY); DROP TABLE app.todos' }])).toEqual({ version: 2, applied: [2] });
    expect(await tableNames(db)).toEqual(['x']);
    await db.close();
  });

  it('runs CREATE INDEX and DROP INDEX as DDL, and takes them back when a later statement fails', async () => {
    const db = await openDatabase({ storage: 'memory' });
    await db.migrate([V1]);
    const indexNames = async () => (await rows(db, "SELECT index_name FROM system.indexes WHERE namespace_id = 'app' ORDER BY index_name")).map((r) => r.index_name);
    // A failing INSERT after the index: the index is taken back with the rest.
    const bad: Migration = { version: 2, sql: "CREATE INDEX by_title ON app.todos (title); ALTER TABLE app.todos CREATE INDEX id; INSERT INTO app.todos (id, title) VALUES (1, 'a'), (1, 'b')" };
    const e = await failure(db.migrate([V1, bad]));
    expect(e.code).toBe('MIGRATION_FAILED');
    expect(e.message).toContain('its DDL was taken back');
    expect(await indexNames()).toEqual([]);
    // Applied: the index exists, is used, and a UNIQUE index refuses a repeated value.
    const v2: Migration = { version: 2, sql: "CREATE INDEX by_title ON app.todos (title); CREATE UNIQUE INDEX IF NOT EXISTS one_title ON app.todos (title DESC); INSERT INTO app.todos (id, title) VALUES (1, 'a'), (2, 'b')" };
    expect(await db.migrate([V1, v2])).toEqual({ version: 2, applied: [2] });
    expect(await indexNames()).toEqual(['by_title', 'one_title']);
    const plan = (await rows(db, "EXPLAIN SELECT id FROM app.todos WHERE title = 'b'")).map((r) => String(r.detail));
    expect(plan.some((d) => /index (by_title|one_title)/.test(d))).toBe(true);
    expect(await rows(db, "SELECT id FROM app.todos WHERE title = 'b'")).toEqual([{ id: 2 }]);
    expect((await failure(admin(db).execute("INSERT INTO app.todos (id, title) VALUES (3, 'a')"))).code).toBe('UNIQUE_VIOLATION');
    // CREATE UNIQUE INDEX over repeated values fails the migration; a DROP INDEX before it is taken back.
    await admin(db).execute('DROP INDEX app.one_title');
    await admin(db).execute("INSERT INTO app.todos (id, title) VALUES (3, 'c'), (4, 'c')");
    const dup: Migration = { version: 3, sql: 'DROP INDEX app.by_title; CREATE UNIQUE INDEX uniq_title ON app.todos (title)' };
    const e2 = await failure(db.migrate([V1, v2, dup]));
    expect(e2.message).toContain('UNIQUE_VIOLATION');
    expect(await indexNames()).toEqual(['by_title']);
    expect((await applied(db)).map((r) => r.version)).toEqual([1, 2]);
    await db.close();
  });

  it('validates the list (INVALID_OPTION naming the entry)', async () => {
    const db = await openDatabase({ storage: 'memory' });
    const cases: [unknown, string][] = [
      [{ version: 1, sql: 'x' }, 'must be an array'],
      [[null], 'migrations[0] must be an object'],
      [[{ version: 0, sql: 'SELECT 1' }], 'migrations[0].version must be a positive integer'],
      [[{ version: 1.5, sql: 'SELECT 1' }], 'positive integer'],
      [[{ version: '1', sql: 'SELECT 1' }], 'positive integer'],
      [[{ version: 2, sql: 'SELECT 1' }, { version: 2, sql: 'SELECT 1' }], 'strictly increasing'],
      [[{ version: 2, sql: 'SELECT 1' }, { version: 1, sql: 'SELECT 1' }], 'strictly increasing'],
      [[{ version: 1, sql: '  ' }], 'non-empty SQL string'],
      [[{ version: 1, sql: 42 }], 'non-empty SQL string'],
      [[{ version: 1, up: 'CREATE TABLE t (id INT PRIMARY KEY)' }], "unknown field 'up'"],
    ];
    for (const [list, message] of cases) {
      const e = await failure(db.migrate(list as Migration[]));
      expect(e.code).toBe('INVALID_OPTION');
      expect(e.message).toContain(message);
    }
    expect(await applied(db)).toEqual([]);
    await db.close();
  });

  it('runs one call at a time: two callers with the same list apply it once', async () => {
    const db = await openDatabase({ storage: 'memory' });
    const [a, b] = await Promise.all([db.migrate([V1, V2]), db.migrate([V1, V2])]);
    expect(a).toEqual({ version: 2, applied: [1, 2] });
    expect(b).toEqual({ version: 2, applied: [] });
    expect(await rows(db, 'SELECT COUNT(*) AS n FROM app.todos')).toEqual([{ n: 1 }]);
    await db.close();
  });

  it('takes back at the next open the DDL of a migration cut off before it finished', async () => {
    const inner = durableStore();
    let commitsLeft = Infinity;
    // A store that stops writing after a number of commits: the engine's storage went away mid-migration.
    const dying: KvStore = {
      kind: inner.kind,
      get: (s, k) => inner.get(s, k),
      scan: (s, r, v) => inner.scan(s, r, v),
      async commit(writes) {
        if (commitsLeft-- <= 0) throw new Error('the tab was closed');
        await inner.commit(writes);
      },
      close: async () => undefined,
    };
    let db = await openDatabase({ storage: dying });
    await db.migrate([V1]);
    commitsLeft = 2; // CREATE TABLE and ADD COLUMN commit; the INSERT's commit and every undo fail
    const e = await failure(db.migrate([V1, { version: 2, sql: "CREATE TABLE app.tags (id INT PRIMARY KEY); ALTER TABLE app.todos ADD COLUMN x INT; INSERT INTO app.todos (id) VALUES (1)" }]));
    expect(e.code).toBe('MIGRATION_FAILED');
    expect(e.message).toContain('taking back its DDL failed too');
    expect(await tableNames(db)).toEqual(['tags', 'todos']); // as on disk
    await db.close();

    // Still failing at the next open: the open succeeds, the journal stays, and migrate() says why.
    commitsLeft = 0;
    db = await openDatabase({ storage: dying });
    expect(await tableNames(db)).toEqual(['tags', 'todos']);
    const interrupted = await failure(db.migrate([V1]));
    expect(interrupted.code).toBe('MIGRATION_FAILED');
    expect(interrupted.message).toContain('Migration 2 was interrupted, and taking back its DDL failed');
    await db.close();

    db = await openDatabase({ storage: inner });
    expect(await tableNames(db)).toEqual(['todos']);
    expect(await columnNames(db, 'todos')).toEqual(['id', 'title']);
    expect((await applied(db)).map((r) => r.version)).toEqual([1]);
    await db.close();
    db = await openDatabase({ storage: inner });
    expect(await tableNames(db)).toEqual(['todos']);
    await db.close();
  });

  it('is bounded by maxMigrations (LIMIT_EXCEEDED past it), shown in system.settings and system.stats', async () => {
    const db = await openDatabase({ storage: 'memory', maxMigrations: 2 });
    await db.migrate([V1, V2]);
    const e = await failure(db.migrate([V1, V2, { version: 3, sql: 'CREATE TABLE app.c (id INT PRIMARY KEY)' }]));
    expect(e.code).toBe('LIMIT_EXCEEDED');
    expect(e.message).toContain('maxMigrations');
    expect(await tableNames(db)).toEqual(['todos']);
    const stats = Object.fromEntries((await rows(db, "SELECT metric_name, metric_value FROM system.stats WHERE metric_name LIKE 'migration%'")).map((r) => [r.metric_name, r.metric_value]));
    expect(stats).toEqual({ migrations_applied: '2', migrations_max: '2', migration_version: '2' });
    expect(await rows(db, "SELECT value FROM system.settings WHERE name = 'max_migrations'")).toEqual([{ value: '2' }]);
    await db.close();
  });
});
