// UPDATE … SET (a, b) = (SELECT x, y …), PostgreSQL's row subquery in SET
// (the UPDATE reference page): each column takes the subquery's column at
// its position; no row sets the columns to NULL; more than one row is an
// error ("more than one row returned by a subquery used as an expression").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';

let db: Database;
let s: Session;

beforeAll(async () => {
  db = await openDatabase({ name: 'row-subquery', storage: 'memory' });
  s = db.session({ user: 'root', role: 'system' });
  await s.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.employees (id INT PRIMARY KEY, first_name TEXT, last_name TEXT);
    CREATE SHARED TABLE app.accounts (id INT PRIMARY KEY, sales_person INT, contact_first_name TEXT, contact_last_name TEXT);
    CREATE SHARED TABLE app.data (id INT PRIMARY KEY, group_id INT, x INT, y INT);
    CREATE SHARED TABLE app.summary (group_id INT PRIMARY KEY, sum_x BIGINT, sum_y BIGINT, n BIGINT)`);
  await s.execute(`INSERT INTO app.employees (id, first_name, last_name) VALUES (1, 'Ada', 'Lovelace'), (2, 'Alan', 'Turing');
    INSERT INTO app.accounts (id, sales_person) VALUES (10, 1), (11, 2), (12, 3);
    INSERT INTO app.data (id, group_id, x, y) VALUES (1, 1, 1, 10), (2, 1, 2, 20), (3, 2, 5, 50);
    INSERT INTO app.summary (group_id, sum_x, sum_y, n) VALUES (1, 0, 0, 0), (2, 0, 0, 0), (3, 9, 9, 9)`);
});

afterAll(async () => {
  await db.close();
});

const rows = async (sql: string) => (await s.query(sql)).rows;

describe('UPDATE … SET (columns) = (SELECT …)', () => {
  it('sets each column from a correlated row subquery; a row it finds nothing for gets NULLs (the reference page\'s accounts example)', async () => {
    const r = await s.query(`UPDATE app.accounts SET (contact_first_name, contact_last_name) =
      (SELECT first_name, last_name FROM app.employees WHERE employees.id = accounts.sales_person) WHERE id > 0`);
    expect(r.rowCount).toBe(3);
    expect(await rows('SELECT id, contact_first_name, contact_last_name FROM app.accounts ORDER BY id')).toEqual([
      { id: 10, contact_first_name: 'Ada', contact_last_name: 'Lovelace' },
      { id: 11, contact_first_name: 'Alan', contact_last_name: 'Turing' },
      { id: 12, contact_first_name: null, contact_last_name: null },
    ]);
  });

  it('takes aggregates, mixes with plain assignments and parameters (the reference page\'s summary example)', async () => {
    await s.execute(`UPDATE app.summary AS s SET (sum_x, sum_y) = (SELECT sum(x), sum(y) FROM app.data d WHERE d.group_id = s.group_id), n = $1 WHERE group_id < $2`, [7, 3]);
    expect(await rows('SELECT group_id, sum_x, sum_y, n FROM app.summary ORDER BY group_id')).toEqual([
      { group_id: 1, sum_x: 3n, sum_y: 30n, n: 7n },
      { group_id: 2, sum_x: 5n, sum_y: 50n, n: 7n },
      { group_id: 3, sum_x: 9n, sum_y: 9n, n: 9n },
    ]);
  });

  it('refuses more than one row as PostgreSQL does, and changes nothing', async () => {
    await expect(s.execute(`UPDATE app.accounts SET (contact_first_name, contact_last_name) = (SELECT first_name, last_name FROM app.employees) WHERE id = 10`))
      .rejects.toMatchObject({ message: expect.stringMatching(/more than one row/) });
    expect(await rows('SELECT contact_first_name FROM app.accounts WHERE id = 10')).toEqual([{ contact_first_name: 'Ada' }]);
  });

  it('refuses a column count that differs from the select list, and select lists it cannot take apart', async () => {
    const cases: [string, string][] = [
      [`UPDATE app.accounts SET (contact_first_name, contact_last_name) = (SELECT first_name FROM app.employees WHERE id = 1) WHERE id = 10`, 'INVALID_SQL'],
      [`UPDATE app.accounts SET (contact_first_name, contact_last_name) = (SELECT * FROM app.employees WHERE id = 1) WHERE id = 10`, 'UNSUPPORTED'],
      [`UPDATE app.accounts SET (contact_first_name, contact_last_name) = (SELECT DISTINCT first_name, last_name FROM app.employees) WHERE id = 10`, 'UNSUPPORTED'],
      [`UPDATE app.accounts SET (contact_first_name, contact_last_name) = (SELECT 'a', 'b' UNION SELECT 'c', 'd') WHERE id = 10`, 'UNSUPPORTED'],
    ];
    for (const [sql, code] of cases) await expect(s.execute(sql), sql).rejects.toMatchObject({ code });
  });
});
