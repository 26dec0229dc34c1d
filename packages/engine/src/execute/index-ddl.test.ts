import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { Row } from '../core/types';
import { parseStatement, registerIndexParser } from '../sql/parse';
import { parseIndexStatement } from '../sql/parse-index';
import { MAX_INDEXES_PER_TABLE } from './index-ddl';

let db: Database;
let root: Session;

async function setup(options: Parameters<typeof openDatabase>[0] = { storage: 'memory' }): Promise<void> {
  db = await openDatabase(options);
  root = db.session({ user: 'root', role: 'dba' });
  await root.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.people (id INT PRIMARY KEY, name TEXT, dept TEXT, age INT, doc JSON) WITH (ACCESS_LEVEL = 'public');
    CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT, rank INT);
    CREATE STREAM TABLE app.events (id INT PRIMARY KEY, kind TEXT) WITH (TTL_SECONDS = 60)`);
}

beforeEach(async () => {
  await setup();
});

afterEach(async () => {
  await db.close();
});

const rows = async (sql: string, who = root): Promise<readonly Row[]> => (await who.query(sql)).rows;

async function errorOf(p: Promise<unknown>): Promise<KalamError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected the statement to fail');
}

describe('index statements parse', () => {
  // An SQL extension: statements load it first (execute/sql-extensions.ts); these parse directly.
  beforeAll(() => registerIndexParser(parseIndexStatement));

  it('reads CREATE [UNIQUE] INDEX with column orders, DROP INDEX and the ALTER TABLE column form', () => {
    expect(parseStatement('CREATE UNIQUE INDEX IF NOT EXISTS by_name ON app.people (name, age DESC)')).toEqual({
      kind: 'createIndex', name: 'by_name', table: { namespace: 'app', name: 'people' },
      columns: [{ name: 'name', desc: false }, { name: 'age', desc: true }], unique: true, ifNotExists: true,
    });
    expect(parseStatement('CREATE INDEX i ON t USING btree (a ASC)')).toMatchObject({ kind: 'createIndex', unique: false, columns: [{ name: 'a', desc: false }] });
    expect(parseStatement('DROP INDEX IF EXISTS app.by_name')).toEqual({ kind: 'dropIndex', index: { namespace: 'app', name: 'by_name' }, ifExists: true });
    expect(parseStatement('ALTER TABLE app.people CREATE INDEX dept')).toMatchObject({ kind: 'createIndex', table: { namespace: 'app', name: 'people' }, columns: [{ name: 'dept', desc: false }] });
    expect(parseStatement('ALTER TABLE people DROP INDEX dept')).toMatchObject({ kind: 'dropIndex', index: { name: 'people_dept_idx' } });
    expect(parseStatement('ALTER TABLE app.docs CREATE VECTOR INDEX emb USING DOT')).toEqual({ kind: 'vectorIndex', action: 'create', table: { namespace: 'app', name: 'docs' }, column: 'emb', metric: 'dot' });
    expect(parseStatement('ALTER TABLE docs CREATE VECTOR INDEX emb')).toMatchObject({ kind: 'vectorIndex', action: 'create', metric: 'cosine' });
    expect(parseStatement('ALTER TABLE docs DROP VECTOR INDEX emb')).toMatchObject({ kind: 'vectorIndex', action: 'drop', column: 'emb' });
  });

  it('refuses what it does not build, saying what to write instead', () => {
    for (const sql of ['CREATE INDEX i ON t USING hash (a)', 'CREATE INDEX i ON t (a) WHERE a > 1', 'CREATE INDEX i ON t (a NULLS FIRST)']) {
      expect(() => parseStatement(sql), sql).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    }
    expect(() => parseStatement('CREATE INDEX ON t (a)')).toThrow(expect.objectContaining({ code: 'PARSE_ERROR' }));
  });
});

describe('CREATE INDEX and DROP INDEX', () => {
  it('lists an index in system.indexes and DESCRIBE, and DROP INDEX removes it', async () => {
    await root.execute('CREATE UNIQUE INDEX by_name ON app.people (name, age DESC)');
    await root.execute('ALTER TABLE app.people CREATE INDEX dept');
    expect(await rows('SELECT table_name, index_name, column_names, is_unique FROM system.indexes ORDER BY index_name')).toEqual([
      { table_name: 'people', index_name: 'by_name', column_names: ['name', 'age DESC'], is_unique: true },
      { table_name: 'people', index_name: 'people_dept_idx', column_names: ['dept'], is_unique: false },
    ]);
    const described = await rows('DESCRIBE TABLE app.people');
    expect(described.map((r) => [r.column_name, r.indexes])).toEqual([
      ['id', null], ['name', 'by_name UNIQUE'], ['dept', 'people_dept_idx'], ['age', 'by_name UNIQUE'], ['doc', null], ['_seq', null], ['_deleted', null],
    ]);
    await root.execute('DROP INDEX app.by_name');
    await root.execute('ALTER TABLE app.people DROP INDEX dept');
    expect(await rows('SELECT * FROM system.indexes')).toEqual([]);
  });

  it('gives each mistake its own code and message', async () => {
    await root.execute('CREATE INDEX by_name ON app.people (name)');
    expect((await errorOf(root.execute('CREATE INDEX by_name ON app.people (age)'))).code).toBe('INDEX_EXISTS');
    expect((await root.execute('CREATE INDEX IF NOT EXISTS by_name ON app.people (age)'))[0].message).toMatch(/already exists/);
    const missing = await errorOf(root.execute('CREATE INDEX i ON app.people (nope)'));
    expect(missing.code).toBe('COLUMN_NOT_FOUND');
    expect(missing.message).toMatch(/id, name, dept, age, doc/);
    expect((await errorOf(root.execute('CREATE INDEX i ON app.people (name, name)'))).code).toBe('DUPLICATE_COLUMN');
    expect((await errorOf(root.execute('CREATE INDEX i ON app.people (doc)'))).code).toBe('UNSUPPORTED');
    expect((await errorOf(root.execute('CREATE INDEX i ON app.events (kind)'))).message).toMatch(/STREAM/);
    expect((await errorOf(root.execute('CREATE INDEX i ON app.nope (a)'))).code).toBe('TABLE_NOT_FOUND');
    expect((await errorOf(root.execute('DROP INDEX app.nope'))).code).toBe('INDEX_NOT_FOUND');
    expect((await root.execute('DROP INDEX IF EXISTS app.nope'))[0].message).toMatch(/does not exist/);
    expect((await errorOf(root.execute('BEGIN; CREATE INDEX j ON app.people (age); COMMIT'))).code).toBe('TRANSACTION_ERROR');
  });

  it('index names are unique per namespace, not per table', async () => {
    await root.execute('CREATE INDEX shared_name ON app.people (name)');
    expect((await errorOf(root.execute('CREATE INDEX shared_name ON app.notes (body)'))).code).toBe('INDEX_EXISTS');
    await root.execute('CREATE NAMESPACE other; CREATE SHARED TABLE other.people (id INT PRIMARY KEY, name TEXT); CREATE INDEX shared_name ON other.people (name)');
    expect((await rows('SELECT namespace_id FROM system.indexes ORDER BY namespace_id')).map((r) => r.namespace_id)).toEqual(['app', 'other']);
  });

  it(`a table has at most ${MAX_INDEXES_PER_TABLE} indexes`, async () => {
    for (let i = 0; i < MAX_INDEXES_PER_TABLE; i++) await root.execute(`CREATE INDEX i${i} ON app.people (name)`);
    expect((await errorOf(root.execute('CREATE INDEX one_more ON app.people (age)'))).code).toBe('LIMIT_EXCEEDED');
    expect((await rows("SELECT metric_value FROM system.stats WHERE metric_name = 'indexes'"))[0].metric_value).toBe(String(MAX_INDEXES_PER_TABLE));
  });

  it('the user role may not index a USER table (its schema is every user\'s); service may', async () => {
    const alice = db.session({ user: 'alice', role: 'user' });
    expect((await errorOf(alice.execute('CREATE INDEX by_body ON app.notes (body)'))).code).toBe('PERMISSION_DENIED');
    expect((await errorOf(alice.execute('CREATE INDEX by_age ON app.people (age)'))).code).toBe('PERMISSION_DENIED');
    await db.session({ user: 'svc', role: 'service' }).execute('CREATE INDEX by_body ON app.notes (body)');
    expect((await errorOf(alice.execute('DROP INDEX app.by_body'))).code).toBe('PERMISSION_DENIED');
  });

  it('an index follows a column rename, blocks dropping its column, and goes with its table', async () => {
    await root.execute('CREATE INDEX by_dept ON app.people (dept)');
    await root.execute('ALTER TABLE app.people RENAME COLUMN dept TO team');
    expect((await rows('SELECT column_names FROM system.indexes'))[0].column_names).toEqual(['team']);
    const drop = await errorOf(root.execute('ALTER TABLE app.people DROP COLUMN team'));
    expect(drop.message).toMatch(/DROP INDEX app\.by_dept/);
    await root.execute('DROP TABLE app.people');
    expect(await rows('SELECT * FROM system.indexes')).toEqual([]);
  });

  it('indexes survive a reopen on IndexedDB', async () => {
    await db.close();
    const indexedDB = new IDBFactory();
    await setup({ storage: 'idb', name: 'indexes', indexedDB });
    await root.execute('CREATE UNIQUE INDEX by_name ON app.people (name DESC)');
    await db.close();
    db = await openDatabase({ storage: 'idb', name: 'indexes', indexedDB });
    root = db.session({ user: 'root', role: 'dba' });
    expect(await rows('SELECT index_name, column_names, is_unique FROM system.indexes')).toEqual([
      { index_name: 'by_name', column_names: ['name DESC'], is_unique: true },
    ]);
  });
});
