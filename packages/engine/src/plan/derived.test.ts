import { beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { Row, Value } from '../core/types';

let db: Database;
let s: Session;

beforeAll(async () => {
  db = await openDatabase({ storage: 'memory' });
  s = db.session({ user: 'root', role: 'dba' });
  await s.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.people (id INT PRIMARY KEY, name TEXT, dept TEXT, age INT);
    CREATE SHARED TABLE app.depts (code TEXT PRIMARY KEY, title TEXT);
    CREATE USER TABLE app.todos (id TEXT PRIMARY KEY, title TEXT NOT NULL, prio INT)`);
  await s.execute(`INSERT INTO app.people (id, name, dept, age) VALUES
    (1, 'ann', 'eng', 30), (2, 'bob', 'eng', 25), (3, 'cid', 'ops', 30), (4, 'dee', NULL, 41)`);
  await s.execute(`INSERT INTO app.depts (code, title) VALUES ('eng', 'Engineering'), ('ops', 'Operations'), ('hr', 'People')`);
  await db.session({ user: 'alice' }).execute(`INSERT INTO app.todos (id, title, prio) VALUES ('a1', 'alice one', 1), ('a2', 'alice two', 2)`);
  await db.session({ user: 'bob' }).execute(`INSERT INTO app.todos (id, title, prio) VALUES ('b1', 'bob one', 9)`);
});

const rows = async (sql: string, params?: Value[], who = s): Promise<readonly Row[]> => (await who.query(sql, params)).rows;
const col = async (sql: string, name: string, params?: Value[]): Promise<Value[]> => (await rows(sql, params)).map((r) => r[name]);

async function errorOf(p: Promise<unknown>): Promise<KalamError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected the statement to fail');
}

describe('derived tables', () => {
  it('read a subquery in FROM under its alias', async () => {
    expect(await rows('SELECT s.n, s.dept FROM (SELECT dept, COUNT(*) AS n FROM app.people GROUP BY dept) AS s WHERE s.n > 1')).toEqual([{ n: 2, dept: 'eng' }]);
    expect(await col('SELECT name FROM (SELECT name, age FROM app.people WHERE age = 30) older ORDER BY name DESC', 'name')).toEqual(['cid', 'ann']);
  });

  it('join with tables and with each other', async () => {
    expect(await rows(`SELECT d.title, s.n FROM app.depts d
      LEFT JOIN (SELECT dept, COUNT(*) AS n FROM app.people GROUP BY dept) s ON s.dept = d.code ORDER BY d.code`)).toEqual([
      { title: 'Engineering', n: 2 },
      { title: 'People', n: null },
      { title: 'Operations', n: 1 },
    ]);
    expect(await rows(`SELECT x.name, y.title FROM (SELECT name, dept FROM app.people) x
      JOIN (SELECT code, title FROM app.depts WHERE code <> 'eng') y ON x.dept = y.code`)).toEqual([{ name: 'cid', title: 'Operations' }]);
  });

  it('expand * to the subquery’s output columns and rename them with a column list', async () => {
    expect(await rows(`SELECT * FROM (SELECT id, name FROM app.people WHERE id = 1) p`)).toEqual([{ id: 1, name: 'ann' }]);
    expect(await rows(`SELECT * FROM (SELECT id, name FROM app.people WHERE id = 1) AS p (pid, who)`)).toEqual([{ pid: 1, who: 'ann' }]);
    expect((await errorOf(s.query('SELECT * FROM (SELECT id FROM app.people) AS p (a, b)'))).code).toBe('INVALID_SQL');
  });

  it('need an alias', async () => {
    expect((await errorOf(s.query('SELECT * FROM (SELECT 1 AS x)'))).code).toBe('INVALID_SQL');
  });

  it('may read an enclosing query’s row when used inside a subquery', async () => {
    expect(await col(`SELECT code FROM app.depts d WHERE EXISTS (SELECT 1 FROM (SELECT dept FROM app.people WHERE dept = d.code) x) ORDER BY code`, 'code'))
      .toEqual(['eng', 'ops']);
  });
});

describe('WITH (common table expressions)', () => {
  it('defines a named query used in FROM', async () => {
    expect(await col('WITH adults AS (SELECT name, age FROM app.people WHERE age >= 30) SELECT name FROM adults ORDER BY age DESC, name', 'name'))
      .toEqual(['dee', 'ann', 'cid']);
  });

  it('lets a later CTE read an earlier one, in a chain', async () => {
    expect(await rows(`WITH a AS (SELECT dept, age FROM app.people WHERE dept IS NOT NULL),
      b AS (SELECT dept, MAX(age) AS top FROM a GROUP BY dept),
      c AS (SELECT b.dept, b.top, d.title FROM b JOIN app.depts d ON d.code = b.dept)
      SELECT title, top FROM c ORDER BY top DESC, title`)).toEqual([
      { title: 'Engineering', top: 30 },
      { title: 'Operations', top: 30 },
    ]);
  });

  it('renames columns with a column list and can be read twice', async () => {
    expect(await rows(`WITH t (k, n) AS (SELECT dept, COUNT(*) FROM app.people GROUP BY dept)
      SELECT x.k, y.n FROM t x JOIN t y ON x.k = y.k WHERE x.n = 2`)).toEqual([{ k: 'eng', n: 2 }]);
  });

  it('is visible inside subqueries of the main query', async () => {
    expect(await col(`WITH big AS (SELECT code FROM app.depts WHERE code <> 'hr')
      SELECT name FROM app.people WHERE dept IN (SELECT code FROM big) AND EXISTS (SELECT 1 FROM big) ORDER BY name`, 'name'))
      .toEqual(['ann', 'bob', 'cid']);
  });

  it('shadows a table of the same name, and a CTE is not visible to itself', async () => {
    await s.execute('USE app');
    try {
      expect(await col(`WITH people AS (SELECT name FROM app.people WHERE id = 2) SELECT name FROM people`, 'name')).toEqual(['bob']);
      // inside its own definition `depts` is still the table
      expect(await col(`WITH depts AS (SELECT code FROM depts WHERE code = 'hr') SELECT code FROM depts`, 'code')).toEqual(['hr']);
    } finally {
      await s.execute('USE default');
    }
  });

  it('refuses duplicate names and WITH RECURSIVE with clear errors', async () => {
    expect((await errorOf(s.query('WITH a AS (SELECT 1 AS x), a AS (SELECT 2 AS x) SELECT * FROM a'))).code).toBe('INVALID_SQL');
    const e = await errorOf(s.query('WITH RECURSIVE r AS (SELECT 1 AS n) SELECT * FROM r'));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toContain('WITH RECURSIVE');
  });

  it('lists the tables a CTE reads in the plan (a live query re-runs on their changes)', async () => {
    const db2 = await openDatabase({ storage: 'memory' });
    const root = db2.session({ user: 'root', role: 'dba' });
    await root.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY)');
    const seen: Value[][] = [];
    const stop = await root.live('WITH x AS (SELECT id FROM app.t) SELECT id FROM x ORDER BY id', [], (r) => seen.push(r.map((v) => v.id)));
    await root.execute('INSERT INTO app.t (id) VALUES (7)');
    stop();
    expect(seen).toEqual([[], [7]]);
    await db2.close();
  });

  it('reads USER tables in the session user’s partition only', async () => {
    const sql = 'WITH mine AS (SELECT id, prio FROM app.todos) SELECT COUNT(*) AS n, MAX(prio) AS top FROM mine';
    expect(await rows(sql, [], db.session({ user: 'alice' }))).toEqual([{ n: 2, top: 2 }]);
    expect(await rows(sql, [], db.session({ user: 'bob' }))).toEqual([{ n: 1, top: 9 }]);
    expect(await rows('SELECT COUNT(*) AS n FROM (SELECT * FROM app.todos) t', [], db.session({ user: 'bob' }))).toEqual([{ n: 1 }]);
  });
});
