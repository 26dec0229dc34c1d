import { beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';

let db: Database;
let admin: Session;
let alice: Session;
let bob: Session;

beforeEach(async () => {
  db = await openDatabase({ storage: 'memory' });
  admin = db.session({ user: 'root', role: 'dba' });
  alice = db.session({ user: 'alice' });
  bob = db.session({ user: 'bob' });
  await admin.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.src (id INT PRIMARY KEY, name TEXT, qty INT) WITH (ACCESS_LEVEL = 'public');
    CREATE SHARED TABLE app.dst (id INT PRIMARY KEY, name TEXT NOT NULL, qty SMALLINT DEFAULT 7);
    CREATE USER TABLE app.todos (id TEXT PRIMARY KEY, title TEXT NOT NULL);
    CREATE USER TABLE app.archive (id TEXT PRIMARY KEY, title TEXT NOT NULL, note TEXT)`);
  await admin.execute(`INSERT INTO app.src (id, name, qty) VALUES (1, 'a', 10), (2, 'b', 20), (3, NULL, 30)`);
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return (e as KalamError).code;
  }
  throw new Error('expected the statement to fail');
}

describe('INSERT … SELECT', () => {
  it('inserts the rows a query returns, converting to the column types and filling defaults', async () => {
    const [r] = await admin.execute(`INSERT INTO app.dst (id, name) SELECT id + 100, UPPER(name) FROM app.src WHERE name IS NOT NULL`);
    expect(r.rowCount).toBe(2);
    expect((await admin.query('SELECT id, name, qty FROM app.dst')).rows).toEqual([
      { id: 101, name: 'A', qty: 7 },
      { id: 102, name: 'B', qty: 7 },
    ]);
    await admin.execute(`INSERT INTO app.dst SELECT id, 'n' || id, CAST(qty AS TEXT) FROM app.src WHERE id = 3`);
    expect((await admin.query('SELECT qty FROM app.dst WHERE id = 3')).rows).toEqual([{ qty: 30 }]);
  });

  it('accepts WITH, UNION and a parenthesized query as the source', async () => {
    await admin.execute(`INSERT INTO app.dst (id, name) WITH s AS (SELECT id, name FROM app.src WHERE id = 1) SELECT id, name FROM s`);
    await admin.execute(`INSERT INTO app.dst (id, name) SELECT 50, 'x' UNION ALL SELECT 51, 'y'`);
    await admin.execute(`INSERT INTO app.dst (id, name) (SELECT 60, 'z')`);
    expect((await admin.query('SELECT id FROM app.dst')).rows.map((r) => r.id)).toEqual([1, 50, 51, 60]);
  });

  it('writes nothing when any row breaks NOT NULL or the primary key', async () => {
    expect(await codeOf(admin.execute(`INSERT INTO app.dst (id, name) SELECT id, name FROM app.src`))).toBe('NOT_NULL_VIOLATION');
    expect(await codeOf(admin.execute(`INSERT INTO app.dst (id, name) SELECT 1, name FROM app.src WHERE name IS NOT NULL`))).toBe('PRIMARY_KEY_VIOLATION');
    await admin.execute(`INSERT INTO app.dst (id, name) VALUES (2, 'there')`);
    expect(await codeOf(admin.execute(`INSERT INTO app.dst (id, name) SELECT id, name FROM app.src WHERE id <= 2`))).toBe('PRIMARY_KEY_VIOLATION');
    expect((await admin.query('SELECT id FROM app.dst')).rows).toEqual([{ id: 2 }]);
  });

  it('reads the table as it was before the statement when it inserts into itself', async () => {
    await admin.execute(`INSERT INTO app.src (id, name, qty) SELECT id + 10, name, qty FROM app.src`);
    expect((await admin.query('SELECT id FROM app.src')).rows.map((r) => r.id)).toEqual([1, 2, 3, 11, 12, 13]);
  });

  it('refuses a query with a different number of columns than the target list', async () => {
    expect(await codeOf(admin.execute(`INSERT INTO app.dst (id, name) SELECT id FROM app.src`))).toBe('INVALID_SQL');
    expect(await codeOf(admin.execute(`INSERT INTO app.dst (id) SELECT id, name FROM app.src`))).toBe('INVALID_SQL');
  });

  it('moves USER rows within the session’s own partition only', async () => {
    await alice.execute(`INSERT INTO app.todos (id, title) VALUES ('a1', 'milk'), ('a2', 'eggs')`);
    await bob.execute(`INSERT INTO app.todos (id, title) VALUES ('b1', 'bread')`);
    const [r] = await bob.execute(`INSERT INTO app.archive (id, title, note) SELECT id, title, CURRENT_USER() FROM app.todos`);
    expect(r.rowCount).toBe(1);
    expect((await bob.query('SELECT id, note FROM app.archive')).rows).toEqual([{ id: 'b1', note: 'bob' }]);
    expect((await alice.query('SELECT id FROM app.archive')).rows).toEqual([]);
    await alice.execute(`INSERT INTO app.archive (id, title) SELECT id, title FROM app.todos`);
    expect((await alice.query('SELECT id FROM app.archive')).rows.map((x) => x.id)).toEqual(['a1', 'a2']);
    expect((await bob.query('SELECT id FROM app.archive')).rows.map((x) => x.id)).toEqual(['b1']);
  });

  it('copies shared rows a user may read into that user’s own partition', async () => {
    await alice.execute(`INSERT INTO app.archive (id, title) SELECT CAST(id AS TEXT), name FROM app.src WHERE name IS NOT NULL`);
    expect((await alice.query('SELECT id, title FROM app.archive')).rows).toEqual([{ id: '1', title: 'a' }, { id: '2', title: 'b' }]);
    expect((await bob.query('SELECT id FROM app.archive')).rows).toEqual([]);
  });
});
