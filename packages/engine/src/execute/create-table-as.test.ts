/**
 * CREATE TABLE … AS <query> (execute/create-table-as.ts): columns and types
 * from the query, the table types and their isolation, and nothing left
 * behind when the rows cannot be inserted.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import type { Row } from '../core/types';

let db: Database;
let dba: Session;

beforeEach(async () => {
  db = await openDatabase({ storage: 'memory' });
  dba = db.session({ user: 'root', role: 'dba' });
  await dba.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT, price DOUBLE, qty INT);
    CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT)`);
  await dba.execute(`INSERT INTO app.items (id, name, price, qty) VALUES (1, 'pen', 1.5, 10), (2, 'ink', 4.25, 0), (3, 'pad', 3, 7)`);
});
afterEach(() => db.close());

const rows = async (s: Session, sql: string): Promise<readonly Row[]> => (await s.query(sql)).rows;

describe('CREATE TABLE … AS', () => {
  it('makes a table of the query\'s columns, types and rows', async () => {
    const r = await dba.execute(`CREATE TABLE app.stock AS SELECT id, upper(name) AS label, price * qty AS value FROM app.items WHERE qty > 0`);
    expect(r[0].message).toBe('Table app.stock created with 2 row(s)');
    expect(await rows(dba, `SELECT * FROM app.stock ORDER BY id`)).toEqual([{ id: 1, label: 'PEN', value: 15 }, { id: 3, label: 'PAD', value: 21 }]);
    const columns = await rows(dba, `DESCRIBE TABLE app.stock`);
    expect(columns.filter((c) => !String(c.column_name).startsWith('_')).map((c) => [c.column_name, c.data_type, c.is_primary_key]))
      .toEqual([['id', 'INT', true], ['label', 'TEXT', false], ['value', 'DOUBLE', false]]);
  });

  it('is an ordinary table afterwards: it takes writes and its primary key holds', async () => {
    await dba.execute(`CREATE TABLE app.copy AS SELECT id, name FROM app.items`);
    await dba.execute(`INSERT INTO app.copy (id, name) VALUES (4, 'cap')`);
    await expect(dba.execute(`INSERT INTO app.copy (id, name) VALUES (1, 'dup')`)).rejects.toMatchObject({ code: 'PRIMARY_KEY_VIOLATION' });
    expect((await rows(dba, `SELECT count(*) AS n FROM app.copy`))[0].n).toBe(4);
  });

  it('takes a table type, WITH options and a VALUES query', async () => {
    await dba.execute(`CREATE SHARED TABLE app.codes WITH (ACCESS_LEVEL = 'public') AS VALUES (1, 'a'), (2, 'b')`);
    expect(await rows(dba, `SELECT * FROM app.codes`)).toEqual([{ column1: 1, column2: 'a' }, { column1: 2, column2: 'b' }]);
    const t = await rows(dba, `SELECT table_type, access_level FROM system.tables WHERE table_name = 'codes'`);
    expect(t).toEqual([{ table_type: 'SHARED', access_level: 'public' }]);
  });

  it('a USER table made by a user holds that user\'s rows only, in that user\'s partition', async () => {
    const alice = db.session({ user: 'alice', role: 'user' });
    const bob = db.session({ user: 'bob', role: 'user' });
    await alice.execute(`INSERT INTO app.notes (id, body) VALUES (1, 'alice one'), (2, 'alice two')`);
    await bob.execute(`INSERT INTO app.notes (id, body) VALUES (1, 'bob one')`);
    // The user role creates USER tables in the namespace named after itself.
    await dba.execute(`CREATE NAMESPACE alice`);
    await alice.execute(`CREATE USER TABLE alice.mine AS SELECT id, body FROM app.notes`);
    expect(await rows(alice, `SELECT id, body FROM alice.mine ORDER BY id`)).toEqual([{ id: 1, body: 'alice one' }, { id: 2, body: 'alice two' }]);
    expect(await rows(bob, `SELECT id, body FROM alice.mine`)).toEqual([]);
  });

  it('leaves no table behind when the rows break the primary key (its first column)', async () => {
    await expect(dba.execute(`CREATE TABLE app.bad AS SELECT qty > 0 AS in_stock, name FROM app.items`)).rejects.toMatchObject({ code: 'PRIMARY_KEY_VIOLATION' });
    await expect(dba.query(`SELECT * FROM app.bad`)).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
  });

  it('IF NOT EXISTS leaves an existing table as it is', async () => {
    await dba.execute(`CREATE TABLE app.once AS SELECT id FROM app.items WHERE id = 1`);
    await dba.execute(`CREATE TABLE IF NOT EXISTS app.once AS SELECT id FROM app.items`);
    expect(await rows(dba, `SELECT id FROM app.once`)).toEqual([{ id: 1 }]);
    await expect(dba.execute(`CREATE TABLE app.once AS SELECT id FROM app.items`)).rejects.toMatchObject({ code: 'TABLE_EXISTS' });
  });

  it('refuses a statement that is not a query', async () => {
    await expect(dba.execute(`CREATE TABLE app.t2 AS DELETE FROM app.items WHERE id = 1`)).rejects.toMatchObject({ code: 'PARSE_ERROR' });
  });
});
