import { beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';

let db: Database;
let admin: Session;
let alice: Session;

beforeEach(async () => {
  db = await openDatabase({ storage: 'memory' });
  admin = db.session({ user: 'root', role: 'dba' });
  alice = db.session({ user: 'alice' });
  await admin.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT NOT NULL, qty SMALLINT DEFAULT 0, big BIGINT,
      price DOUBLE, ok BOOLEAN, day DATE, at_ts TIMESTAMP, doc JSON, uid UUID);
    CREATE USER TABLE app.todos (id TEXT PRIMARY KEY, title TEXT NOT NULL, done BOOLEAN DEFAULT false);
    CREATE STREAM TABLE app.pings (id TEXT PRIMARY KEY, v INT) WITH (TTL_SECONDS = 3600);
    CREATE STREAM TABLE app.ticks (v INT) WITH (TTL_SECONDS = 3600)`);
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

const insertItem = (cols: string, values: Value[]) =>
  admin.execute(`INSERT INTO app.items (id, name, ${cols}) VALUES (1, 'x', ${values.map((_, i) => `$${i + 1}`).join(', ')})`, values);

describe('INSERT type checking', () => {
  it('stores values converted to the column types', async () => {
    await admin.execute(
      `INSERT INTO app.items (id, name, qty, big, price, ok, day, at_ts, doc, uid) VALUES
        ('7', 42, '3', 12, '2.5', 'true', '2024-02-29', '2024-01-01T00:00:00Z', '{"k":[1]}', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11')`,
    );
    const r = await admin.query('SELECT * FROM app.items');
    expect(r.rows).toEqual([{
      id: 7, name: '42', qty: 3, big: 12n, price: 2.5, ok: true, day: '2024-02-29',
      at_ts: Date.parse('2024-01-01T00:00:00Z'), doc: { k: [1] }, uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    }]);
  });

  it('rejects a value that does not fit the column type with TYPE_MISMATCH (OUT_OF_RANGE past its range) naming the column', async () => {
    const cases: [string, Value, string][] = [
      ['qty', 'many', 'TYPE_MISMATCH'],
      ['qty', 40000, 'OUT_OF_RANGE'],
      ['big', 'x1', 'TYPE_MISMATCH'],
      ['big', 2n ** 63n, 'OUT_OF_RANGE'],
      ['price', 'cheap', 'TYPE_MISMATCH'],
      ['ok', 'maybe', 'TYPE_MISMATCH'],
      ['ok', 1, 'TYPE_MISMATCH'],
      ['day', 'someday', 'TYPE_MISMATCH'],
      ['at_ts', 'not a time', 'TYPE_MISMATCH'],
      ['doc', '{broken', 'TYPE_MISMATCH'],
      ['uid', 'not-a-uuid', 'TYPE_MISMATCH'],
    ];
    for (const [column, v, code] of cases) {
      try {
        await insertItem(column, [v]);
        throw new Error(`inserting ${String(v)} into ${column} should fail`);
      } catch (e) {
        expect(e).toBeInstanceOf(KalamError);
        expect([column, (e as KalamError).code]).toEqual([column, code]);
        expect((e as KalamError).message).toContain(`'${column}'`);
      }
    }
    expect((await admin.query('SELECT id FROM app.items')).rows).toEqual([]);
  });

  it('refuses an INT primary key given text that is not a number', async () => {
    expect(await codeOf(admin.execute(`INSERT INTO app.items (id, name) VALUES ('one', 'x')`))).toBe('TYPE_MISMATCH');
  });

  it('fills omitted columns with their defaults or NULL, and refuses NULL in NOT NULL columns', async () => {
    await admin.execute(`INSERT INTO app.items (id, name) VALUES (1, 'a')`);
    expect((await admin.query('SELECT qty, big FROM app.items')).rows).toEqual([{ qty: 0, big: null }]);
    expect(await codeOf(admin.execute(`INSERT INTO app.items (id) VALUES (2)`))).toBe('NOT_NULL_VIOLATION');
    expect(await codeOf(admin.execute(`INSERT INTO app.items (id, name) VALUES (NULL, 'a')`))).toBe('NOT_NULL_VIOLATION');
  });

  it('DEFAULT as a value stores the column default', async () => {
    await admin.execute(`INSERT INTO app.items (id, name, qty, big) VALUES (1, 'a', DEFAULT, DEFAULT), (2, 'b', 5, 6)`);
    expect((await admin.query('SELECT id, qty, big FROM app.items ORDER BY id')).rows).toEqual([
      { id: 1, qty: 0, big: null },
      { id: 2, qty: 5, big: 6n },
    ]);
    expect(await codeOf(admin.execute(`INSERT INTO app.items (id, name) VALUES (3, DEFAULT)`))).toBe('NOT_NULL_VIOLATION');
    expect(await codeOf(admin.query('SELECT DEFAULT AS d'))).toBe('INVALID_SQL');
  });

  it('refuses unknown columns, system columns, duplicated columns and wrong value counts', async () => {
    expect(await codeOf(admin.execute(`INSERT INTO app.items (id, name, nope) VALUES (1, 'a', 1)`))).toBe('COLUMN_NOT_FOUND');
    expect(await codeOf(admin.execute(`INSERT INTO app.items (id, name, _seq) VALUES (1, 'a', 1)`))).toBe('INVALID_SQL');
    expect(await codeOf(admin.execute(`INSERT INTO app.items (id, name, name) VALUES (1, 'a', 'b')`))).toBe('DUPLICATE_COLUMN');
    expect(await codeOf(admin.execute(`INSERT INTO app.items (id, name) VALUES (1)`))).toBe('INVALID_SQL');
  });

  it('a multi-row INSERT with one bad row writes nothing', async () => {
    expect(await codeOf(admin.execute(`INSERT INTO app.items (id, name, qty) VALUES (1, 'a', 1), (2, 'b', 'bad')`))).toBe('TYPE_MISMATCH');
    expect((await admin.query('SELECT COUNT(*) AS n FROM app.items')).rows).toEqual([{ n: 0 }]);
  });

  it('an INSERT into a system table is refused', async () => {
    expect(await codeOf(admin.execute(`INSERT INTO system.stats (metric_name) VALUES ('x')`))).toBe('PERMISSION_DENIED');
  });
});

describe("constraint messages in KalamDB's words", () => {
  const messageOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      expect(e).toBeInstanceOf(KalamError);
      return [(e as KalamError).code, (e as KalamError).message];
    }
    throw new Error('expected the statement to fail');
  };

  it.each([
    [
      'a key repeated within one INSERT',
      "INSERT INTO app.items (id, name) VALUES (7, 'a'), (7, 'b')",
      "Primary key violation: value '7' appears multiple times in the insert batch for column 'id' (table 'app.items'). Give each row its own key",
    ],
    [
      'a key the table already holds',
      "INSERT INTO app.items (id, name) VALUES (1, 'again')",
      "Primary key violation: value '1' already exists in column 'id' (table 'app.items'). Change that row with UPDATE, or insert another key",
    ],
    [
      'a key the table holds, repeated later in the batch too (the existing row is found first)',
      "INSERT INTO app.items (id, name) VALUES (1, 'x'), (1, 'y')",
      "Primary key violation: value '1' already exists in column 'id' (table 'app.items'). Change that row with UPDATE, or insert another key",
    ],
  ])('tells %s apart', async (_case, sql, message) => {
    await admin.execute("INSERT INTO app.items (id, name) VALUES (1, 'first')");
    expect(await messageOf(admin.execute(sql))).toEqual(['PRIMARY_KEY_VIOLATION', message]);
    expect((await admin.query('SELECT id, name FROM app.items')).rows).toEqual([{ id: 1, name: 'first' }]);
  });

  it('quotes a text key as KalamDB does, per user for USER tables', async () => {
    expect(await messageOf(alice.execute("INSERT INTO app.todos (id, title) VALUES ('t', 'a'), ('t', 'b')"))).toEqual([
      'PRIMARY_KEY_VIOLATION',
      "Primary key violation: value 't' appears multiple times in the insert batch for column 'id' (table 'app.todos'). Give each row its own key",
    ]);
  });

  it('tells a NOT NULL column missing from the INSERT apart from an explicit NULL', async () => {
    expect(await messageOf(admin.execute('INSERT INTO app.items (id) VALUES (2)'))).toEqual([
      'NOT_NULL_VIOLATION',
      "NOT NULL violation: column 'name' of table 'app.items' is missing from the INSERT and has no DEFAULT. List it with a value, or give it a DEFAULT (ALTER TABLE app.items ALTER COLUMN name SET DEFAULT …)",
    ]);
    expect(await messageOf(admin.execute('INSERT INTO app.items (id, name) VALUES (2, NULL)'))).toEqual([
      'NOT_NULL_VIOLATION',
      "NOT NULL violation: column 'name' of table 'app.items' cannot be NULL. Give it a value",
    ]);
    await admin.execute("INSERT INTO app.items (id, name) VALUES (2, 'b')");
    expect(await messageOf(admin.execute('UPDATE app.items SET name = NULL WHERE id = 2'))).toEqual([
      'NOT_NULL_VIOLATION',
      "NOT NULL violation: column 'name' of table 'app.items' cannot be NULL. Give it a value",
    ]);
  });
});

describe('UPDATE', () => {
  beforeEach(async () => {
    await admin.execute(`INSERT INTO app.items (id, name, qty) VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3)`);
  });

  it('updates the rows WHERE selects, computing from the old values', async () => {
    const r = await admin.query(`UPDATE app.items SET qty = qty * 10, name = name || '!' WHERE qty >= 2`);
    expect(r.rowCount).toBe(2);
    expect(r.message).toBe('Updated 2 row(s)');
    expect((await admin.query('SELECT id, name, qty FROM app.items ORDER BY id')).rows).toEqual([
      { id: 1, name: 'a', qty: 1 },
      { id: 2, name: 'b!', qty: 20 },
      { id: 3, name: 'c!', qty: 30 },
    ]);
  });

  it('SET col = DEFAULT restores the column default', async () => {
    await admin.execute(`UPDATE app.items SET qty = DEFAULT, big = DEFAULT WHERE id = 2`);
    expect((await admin.query('SELECT qty, big FROM app.items WHERE id = 2')).rows).toEqual([{ qty: 0, big: null }]);
  });

  it('names the target table by its alias', async () => {
    expect((await admin.query(`UPDATE app.items AS it SET qty = it.qty + 1 WHERE it.id = 1`)).rowCount).toBe(1);
    expect((await admin.query(`DELETE FROM app.items x WHERE x.id = 3`)).rowCount).toBe(1);
    expect((await admin.query('SELECT id, qty FROM app.items ORDER BY id')).rows).toEqual([{ id: 1, qty: 2 }, { id: 2, qty: 2 }]);
  });

  it('refuses two assignments to one column', async () => {
    expect(await codeOf(admin.execute(`UPDATE app.items SET qty = qty + 1, QTY = 5 WHERE id = 1`))).toBe('DUPLICATE_COLUMN');
    expect((await admin.query('SELECT qty FROM app.items WHERE id = 1')).rows).toEqual([{ qty: 1 }]);
  });

  it('reports zero rows when nothing matches', async () => {
    expect((await admin.query(`UPDATE app.items SET qty = 0 WHERE id = 99`)).rowCount).toBe(0);
  });

  it('cannot change the primary key', async () => {
    const e = admin.execute(`UPDATE app.items SET id = 10 WHERE id = 1`);
    await expect(e).rejects.toMatchObject({ code: 'INVALID_SQL', message: "UPDATE cannot modify primary key column 'id'" });
    expect(await codeOf(admin.execute(`UPDATE app.items SET ID = 1 WHERE id = 1`))).toBe('INVALID_SQL');
  });

  it('requires a WHERE clause', async () => {
    await expect(admin.execute(`UPDATE app.items SET qty = 0`)).rejects.toMatchObject({ code: 'INVALID_SQL', message: 'UPDATE requires a WHERE clause' });
    expect((await admin.query('SELECT SUM(qty) AS s FROM app.items')).rows).toEqual([{ s: 6 }]);
  });

  it('checks types and NOT NULL, leaving every row unchanged on failure', async () => {
    expect(await codeOf(admin.execute(`UPDATE app.items SET qty = 'lots' WHERE id = 1`))).toBe('TYPE_MISMATCH');
    expect(await codeOf(admin.execute(`UPDATE app.items SET name = NULL WHERE id > 0`))).toBe('NOT_NULL_VIOLATION');
    expect(await codeOf(admin.execute(`UPDATE app.items SET qty = 30000 + id * 1000 WHERE id > 0`))).toBe('OUT_OF_RANGE');
    expect((await admin.query('SELECT name, qty FROM app.items ORDER BY id')).rows).toEqual([
      { name: 'a', qty: 1 },
      { name: 'b', qty: 2 },
      { name: 'c', qty: 3 },
    ]);
  });

  it('refuses unknown and system columns', async () => {
    expect(await codeOf(admin.execute(`UPDATE app.items SET nope = 1 WHERE id = 1`))).toBe('COLUMN_NOT_FOUND');
    expect(await codeOf(admin.execute(`UPDATE app.items SET _deleted = true WHERE id = 1`))).toBe('INVALID_SQL');
  });

  it('a user updates only their own rows of a USER table', async () => {
    const bob = db.session({ user: 'bob' });
    await alice.execute(`INSERT INTO app.todos (id, title) VALUES ('t', 'alice')`);
    await bob.execute(`INSERT INTO app.todos (id, title) VALUES ('t', 'bob')`);
    expect((await bob.query(`UPDATE app.todos SET done = NOT done WHERE id = 't'`)).rowCount).toBe(1);
    expect((await alice.query('SELECT title, done FROM app.todos')).rows).toEqual([{ title: 'alice', done: false }]);
    expect((await bob.query('SELECT title, done FROM app.todos')).rows).toEqual([{ title: 'bob', done: true }]);
  });
});

describe('DELETE', () => {
  it('requires a WHERE clause', async () => {
    await admin.execute(`INSERT INTO app.items (id, name) VALUES (1, 'a')`);
    await expect(admin.execute(`DELETE FROM app.items`)).rejects.toMatchObject({ code: 'INVALID_SQL', message: 'DELETE requires a WHERE clause' });
    expect((await admin.query('SELECT COUNT(*) AS n FROM app.items')).rows).toEqual([{ n: 1 }]);
  });

  it('soft-deletes: a deleted key can be inserted again, and a tombstone is not deleted twice', async () => {
    await admin.execute(`INSERT INTO app.items (id, name) VALUES (1, 'a'), (2, 'b')`);
    expect((await admin.query(`DELETE FROM app.items WHERE id = 1`)).rowCount).toBe(1);
    expect((await admin.query(`DELETE FROM app.items WHERE id = 1`)).rowCount).toBe(0);
    expect((await admin.query(`DELETE FROM app.items WHERE _deleted = true`)).rowCount).toBe(0);
    expect((await admin.query('SELECT id FROM app.items WHERE _deleted = true')).rows).toEqual([{ id: 1 }]);
    await admin.execute(`INSERT INTO app.items (id, name) VALUES (1, 'again')`);
    expect((await admin.query('SELECT id, name FROM app.items ORDER BY id')).rows).toEqual([{ id: 1, name: 'again' }, { id: 2, name: 'b' }]);
  });

  it('an UPDATE does not touch soft-deleted rows', async () => {
    await admin.execute(`INSERT INTO app.items (id, name) VALUES (1, 'a')`);
    await admin.execute(`DELETE FROM app.items WHERE id = 1`);
    expect((await admin.query(`UPDATE app.items SET name = 'z' WHERE id = 1`)).rowCount).toBe(0);
    expect((await admin.query(`SELECT name FROM app.items WHERE _deleted = true`)).rows).toEqual([{ name: 'a' }]);
  });
});

describe('STREAM tables', () => {
  it('refuses UPDATE', async () => {
    await alice.execute(`INSERT INTO app.pings (id, v) VALUES ('p', 1)`);
    await expect(alice.execute(`UPDATE app.pings SET v = 2 WHERE id = 'p'`)).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: 'UPDATE not supported for STREAM tables',
    });
    expect((await alice.query('SELECT v FROM app.pings')).rows).toEqual([{ v: 1 }]);
  });

  it('deletes for good: the row is not visible even WHERE _deleted = true', async () => {
    await alice.execute(`INSERT INTO app.pings (id, v) VALUES ('p', 1), ('q', 2)`);
    expect((await alice.query(`DELETE FROM app.pings WHERE id = 'p'`)).rowCount).toBe(1);
    expect((await alice.query('SELECT id FROM app.pings')).rows).toEqual([{ id: 'q' }]);
    expect((await alice.query('SELECT id FROM app.pings WHERE _deleted = true')).rows).toEqual([]);
    expect((await alice.query('SELECT id FROM app.pings WHERE _deleted = true OR _deleted = false')).rows).toEqual([{ id: 'q' }]);
  });

  it('works without a primary key, and DELETE removes only the matching rows', async () => {
    await alice.execute(`INSERT INTO app.ticks (v) VALUES (1), (2), (2), (3)`);
    expect((await alice.query('SELECT COUNT(*) AS n FROM app.ticks')).rows).toEqual([{ n: 4 }]);
    expect((await alice.query('DELETE FROM app.ticks WHERE v = 2')).rowCount).toBe(2);
    expect((await alice.query('SELECT v FROM app.ticks ORDER BY v')).rows).toEqual([{ v: 1 }, { v: 3 }]);
    expect((await alice.query('SELECT v FROM app.ticks WHERE _deleted = true')).rows).toEqual([]);
  });

  it('keeps each user to their own stream rows', async () => {
    const bob = db.session({ user: 'bob' });
    await alice.execute(`INSERT INTO app.ticks (v) VALUES (1)`);
    await bob.execute(`INSERT INTO app.ticks (v) VALUES (2)`);
    expect((await bob.query('SELECT v FROM app.ticks')).rows).toEqual([{ v: 2 }]);
    expect((await bob.query('DELETE FROM app.ticks WHERE v > 0')).rowCount).toBe(1);
    expect((await alice.query('SELECT v FROM app.ticks')).rows).toEqual([{ v: 1 }]);
  });
});
