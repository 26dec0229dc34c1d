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
    CREATE SHARED TABLE app.depts (code TEXT PRIMARY KEY, title TEXT, head INT);
    CREATE SHARED TABLE app.nums (id INT PRIMARY KEY, v INT);
    CREATE SHARED TABLE app.empty (id INT PRIMARY KEY, v INT);
    CREATE USER TABLE app.todos (id TEXT PRIMARY KEY, title TEXT NOT NULL, prio INT)`);
  await s.execute(`INSERT INTO app.people (id, name, dept, age) VALUES
    (1, 'ann', 'eng', 30), (2, 'bob', 'eng', 25), (3, 'cid', 'ops', 30), (4, 'dee', NULL, 41), (5, 'eve', 'ops', NULL)`);
  await s.execute(`INSERT INTO app.depts (code, title, head) VALUES ('eng', 'Engineering', 1), ('ops', 'Operations', 3), ('hr', 'People', NULL)`);
  await s.execute(`INSERT INTO app.nums (id, v) VALUES (1, 1), (2, 2), (3, NULL)`);
  const alice = db.session({ user: 'alice' });
  const bob = db.session({ user: 'bob' });
  await alice.execute(`INSERT INTO app.todos (id, title, prio) VALUES ('a1', 'alice milk', 1), ('a2', 'alice eggs', 2)`);
  await bob.execute(`INSERT INTO app.todos (id, title, prio) VALUES ('b1', 'bob bread', 5)`);
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

describe('scalar subqueries', () => {
  it('use a one-row, one-column result as a value in the select list and WHERE', async () => {
    expect(await rows('SELECT (SELECT MAX(age) FROM app.people) AS oldest')).toEqual([{ oldest: 41 }]);
    expect(await col('SELECT name FROM app.people WHERE age = (SELECT MAX(age) FROM app.people)', 'name')).toEqual(['dee']);
    expect(await col('SELECT id, (SELECT COUNT(*) FROM app.depts) + id AS n FROM app.people WHERE id < 3', 'n')).toEqual([4, 5]);
  });

  it('are NULL when the subquery returns no row', async () => {
    expect(await rows('SELECT (SELECT v FROM app.empty) AS v')).toEqual([{ v: null }]);
    expect(await col('SELECT id FROM app.people WHERE age = (SELECT v FROM app.empty)', 'id')).toEqual([]);
  });

  it('fail with INVALID_SQL when the subquery returns more than one row', async () => {
    const e = await errorOf(s.query('SELECT (SELECT id FROM app.people) AS x'));
    expect(e.code).toBe('INVALID_SQL');
    expect(e.message).toContain('more than one row returned by a subquery used as an expression');
    expect((await errorOf(s.query('SELECT code FROM app.depts WHERE head = (SELECT id FROM app.people WHERE age = 30)'))).code).toBe('INVALID_SQL');
    // one row is fine: the same shape with a key
    expect(await col('SELECT code FROM app.depts WHERE head = (SELECT id FROM app.people WHERE age = 30 AND dept = $1)', 'code', ['ops'])).toEqual(['ops']);
  });

  it('must return exactly one column', async () => {
    expect((await errorOf(s.query('SELECT id FROM app.people WHERE id = (SELECT id, name FROM app.people WHERE id = 1)'))).code).toBe('INVALID_SQL');
  });

  it('may be correlated with the outer row', async () => {
    expect(await rows(`SELECT code, (SELECT name FROM app.people p WHERE p.id = d.head) AS head_name FROM app.depts d ORDER BY code`)).toEqual([
      { code: 'eng', head_name: 'ann' },
      { code: 'hr', head_name: null },
      { code: 'ops', head_name: 'cid' },
    ]);
    expect(await rows(`SELECT code, (SELECT COUNT(*) FROM app.people WHERE dept = code) AS n FROM app.depts ORDER BY n DESC, code`)).toEqual([
      { code: 'eng', n: 2 },
      { code: 'ops', n: 2 },
      { code: 'hr', n: 0 },
    ]);
  });

  it('may use the outer row inside an aggregate, HAVING and ORDER BY of the subquery', async () => {
    expect(await rows(`SELECT code, (SELECT SUM(age + LENGTH(d.code)) FROM app.people p WHERE p.dept = d.code) AS s FROM app.depts d ORDER BY code`)).toEqual([
      { code: 'eng', s: 61 },
      { code: 'hr', s: null },
      { code: 'ops', s: 33 },
    ]);
    expect(await col(`SELECT code FROM app.depts d WHERE EXISTS (
        SELECT dept FROM app.people GROUP BY dept HAVING dept = d.code AND COUNT(*) > 1 ORDER BY d.code) ORDER BY code`, 'code')).toEqual(['eng', 'ops']);
  });

  it('binds an unqualified name to the innermost query that has it', async () => {
    // both tables have `id`: inside the subquery, `id` is app.nums.id
    expect(await col('SELECT id, (SELECT MAX(id) FROM app.nums) AS m FROM app.people WHERE id = 1', 'm')).toEqual([3]);
    expect(await col('SELECT p.id FROM app.people p WHERE (SELECT v FROM app.nums WHERE id = p.id) = 2', 'id')).toEqual([2]);
  });

  it('is not accepted as a LIMIT', async () => {
    expect((await errorOf(s.query('SELECT id FROM app.people LIMIT (SELECT 1)'))).code).toBe('INVALID_SQL');
  });

  it('reports an unknown column in a subquery as COLUMN_NOT_FOUND', async () => {
    expect((await errorOf(s.query('SELECT (SELECT nope FROM app.nums WHERE id = 1) AS x FROM app.people'))).code).toBe('COLUMN_NOT_FOUND');
  });

  it('reads a grouped column of the outer query', async () => {
    expect(await rows(`SELECT dept, COUNT(*) AS n, (SELECT title FROM app.depts WHERE code = dept) AS title
      FROM app.people WHERE dept IS NOT NULL GROUP BY dept ORDER BY dept`)).toEqual([
      { dept: 'eng', n: 2, title: 'Engineering' },
      { dept: 'ops', n: 2, title: 'Operations' },
    ]);
  });
});

describe('IN and NOT IN with a subquery', () => {
  it('keeps rows whose value the subquery returns', async () => {
    expect(await col(`SELECT name FROM app.people WHERE dept IN (SELECT code FROM app.depts WHERE head IS NOT NULL) ORDER BY id`, 'name'))
      .toEqual(['ann', 'bob', 'cid', 'eve']);
    expect(await col(`SELECT name FROM app.people WHERE id NOT IN (SELECT head FROM app.depts WHERE head IS NOT NULL) ORDER BY id`, 'name'))
      .toEqual(['bob', 'dee', 'eve']);
  });

  it('follows Postgres NULL semantics', async () => {
    // app.nums.v is {1, 2, NULL}
    expect(await rows(`SELECT 1 IN (SELECT v FROM app.nums) AS a, 3 IN (SELECT v FROM app.nums) AS b,
      1 NOT IN (SELECT v FROM app.nums) AS c, 3 NOT IN (SELECT v FROM app.nums) AS d,
      NULL IN (SELECT v FROM app.nums WHERE v IS NOT NULL) AS e`)).toEqual([{ a: true, b: null, c: false, d: null, e: null }]);
    // over no rows: false (NOT IN: true), even for NULL
    expect(await rows(`SELECT 1 IN (SELECT v FROM app.empty) AS a, NULL IN (SELECT v FROM app.empty) AS b,
      NULL NOT IN (SELECT v FROM app.empty) AS c`)).toEqual([{ a: false, b: false, c: true }]);
    // NOT IN against a NULL-bearing set filters everything out of WHERE
    expect(await col('SELECT id FROM app.people WHERE id NOT IN (SELECT v FROM app.nums)', 'id')).toEqual([]);
    expect(await col('SELECT id FROM app.people WHERE id NOT IN (SELECT v FROM app.nums WHERE v IS NOT NULL) ORDER BY id', 'id')).toEqual([3, 4, 5]);
  });

  it('follows the same NULL semantics when correlated', async () => {
    expect(await rows(`SELECT id, id IN (SELECT v FROM app.nums WHERE nums.id <= p.id) AS hit FROM app.people p WHERE id <= 4 ORDER BY id`)).toEqual([
      { id: 1, hit: true },
      { id: 2, hit: true },
      { id: 3, hit: null },
      { id: 4, hit: null },
    ]);
    expect(await rows(`SELECT id, id NOT IN (SELECT v FROM app.nums WHERE nums.id > p.id) AS miss FROM app.people p WHERE id <= 3 ORDER BY id`)).toEqual([
      { id: 1, miss: null },
      { id: 2, miss: null },
      { id: 3, miss: true },
    ]);
  });

  it('compares numbers of different representations as equal', async () => {
    expect(await col(`SELECT id FROM app.people WHERE id IN (SELECT CAST(v AS BIGINT) FROM app.nums) ORDER BY id`, 'id')).toEqual([1, 2]);
    expect(await col(`SELECT id FROM app.people WHERE CAST(id AS DOUBLE) IN (SELECT v FROM app.nums) ORDER BY id`, 'id')).toEqual([1, 2]);
  });

  it('needs a one-column subquery', async () => {
    expect((await errorOf(s.query('SELECT id FROM app.people WHERE id IN (SELECT id, v FROM app.nums)'))).code).toBe('INVALID_SQL');
  });
});

describe('EXISTS', () => {
  it('is true when the subquery has a row and never NULL', async () => {
    expect(await rows('SELECT EXISTS (SELECT 1 FROM app.nums) AS a, EXISTS (SELECT 1 FROM app.empty) AS b, NOT EXISTS (SELECT 1 FROM app.empty) AS c'))
      .toEqual([{ a: true, b: false, c: true }]);
    expect(await rows('SELECT EXISTS (SELECT v FROM app.nums WHERE v IS NULL) AS a')).toEqual([{ a: true }]);
  });

  it('filters by a correlated condition', async () => {
    expect(await col(`SELECT code FROM app.depts d WHERE EXISTS (SELECT 1 FROM app.people p WHERE p.dept = d.code AND p.age > 28) ORDER BY code`, 'code'))
      .toEqual(['eng', 'ops']);
    expect(await col(`SELECT code FROM app.depts d WHERE NOT EXISTS (SELECT 1 FROM app.people p WHERE p.dept = d.code) ORDER BY code`, 'code'))
      .toEqual(['hr']);
    // correlated on the primary key: one lookup per outer row
    expect(await col(`SELECT name FROM app.people p WHERE EXISTS (SELECT 1 FROM app.depts d WHERE d.head = p.id) ORDER BY name`, 'name'))
      .toEqual(['ann', 'cid']);
    expect(await col(`SELECT code FROM app.depts d WHERE EXISTS (SELECT 1 FROM app.people p WHERE p.id = d.head AND p.age = 30) ORDER BY code`, 'code'))
      .toEqual(['eng', 'ops']);
  });

  it('reads rows two levels out', async () => {
    expect(await col(`SELECT code FROM app.depts d WHERE EXISTS (
        SELECT 1 FROM app.people p WHERE p.dept = d.code AND EXISTS (SELECT 1 FROM app.nums n WHERE n.v = p.id AND d.head = 1))`, 'code'))
      .toEqual(['eng']);
  });
});

async function cacheStats(): Promise<{ hits: number; misses: number }> {
  const r = await s.query(`SELECT metric_name, metric_value FROM system.stats WHERE metric_name IN ('plan_cache_hits', 'plan_cache_misses')`);
  const m = Object.fromEntries(r.rows.map((x) => [x.metric_name, Number(x.metric_value)]));
  return { hits: m.plan_cache_hits, misses: m.plan_cache_misses };
}

describe('subqueries and the plan cache', () => {
  it('lifts a subquery’s literals into parameters so different values share one plan', async () => {
    const before = await cacheStats();
    const a = await col(`SELECT name FROM app.people WHERE id IN (SELECT head FROM app.depts WHERE code = 'eng')`, 'name');
    const b = await col(`SELECT name FROM app.people WHERE id IN (SELECT head FROM app.depts WHERE code = 'ops')`, 'name');
    const after = await cacheStats();
    expect([a, b]).toEqual([['ann'], ['cid']]);
    // the stats query itself is a hit after its first run
    expect(after.misses - before.misses).toBe(1);
    expect(after.hits - before.hits).toBe(2);
  });

  it('lists every table a subquery reads, so dropping one invalidates the plan', async () => {
    await s.execute('CREATE SHARED TABLE app.tmp (id INT PRIMARY KEY)');
    await s.execute('INSERT INTO app.tmp (id) VALUES (2)');
    const sql = 'SELECT name FROM app.people WHERE id IN (SELECT id FROM app.tmp)';
    expect(await col(sql, 'name')).toEqual(['bob']);
    await s.execute('DROP TABLE app.tmp');
    expect((await errorOf(s.query(sql))).code).toBe('TABLE_NOT_FOUND');
  });

  it('re-runs a live query when a table read only inside a subquery changes', async () => {
    const seen: Value[][] = [];
    const stop = await s.live('SELECT name FROM app.people WHERE EXISTS (SELECT 1 FROM app.nums WHERE v = 100 + people.id) ORDER BY name', [], (r) => seen.push(r.map((x) => x.name)));
    await s.execute('INSERT INTO app.nums (id, v) VALUES (10, 101)');
    await s.execute('DELETE FROM app.nums WHERE id = 10');
    stop();
    expect(seen).toEqual([[], ['ann'], []]);
  });
});

describe('subqueries over USER tables', () => {
  it('see only the session user’s rows: the same text gives each user their own answer', async () => {
    const sql = 'SELECT (SELECT COUNT(*) FROM app.todos) AS n, (SELECT MAX(prio) FROM app.todos) AS top';
    expect(await rows(sql, [], db.session({ user: 'alice' }))).toEqual([{ n: 2, top: 2 }]);
    expect(await rows(sql, [], db.session({ user: 'bob' }))).toEqual([{ n: 1, top: 5 }]);
    expect(await rows(sql, [], db.session({ user: 'carol' }))).toEqual([{ n: 0, top: null }]);
  });

  it('cannot find another user’s rows with IN, EXISTS or a correlated probe', async () => {
    const bob = db.session({ user: 'bob' });
    expect(await rows(`SELECT 'a1' IN (SELECT id FROM app.todos) AS x, EXISTS (SELECT 1 FROM app.todos WHERE id = 'a1') AS y`, [], bob))
      .toEqual([{ x: false, y: false }]);
    expect(await rows(`SELECT t.id, (SELECT COUNT(*) FROM app.todos u WHERE u.prio < t.prio) AS lower FROM app.todos t`, [], bob))
      .toEqual([{ id: 'b1', lower: 0 }]);
  });
});

describe('subqueries in UPDATE and DELETE', () => {
  it('set a value and pick rows with a subquery, reading the state before the statement', async () => {
    const db2 = await openDatabase({ storage: 'memory' });
    const root = db2.session({ user: 'root', role: 'dba' });
    await root.execute(`CREATE NAMESPACE app;
      CREATE SHARED TABLE app.t (id INT PRIMARY KEY, v INT);
      CREATE SHARED TABLE app.keep (id INT PRIMARY KEY)`);
    await root.execute('INSERT INTO app.t (id, v) VALUES (1, 10), (2, 20), (3, 30); INSERT INTO app.keep (id) VALUES (1), (3)');
    await root.execute('UPDATE app.t SET v = (SELECT MAX(v) FROM app.t) + id WHERE id IN (SELECT id FROM app.keep)');
    expect((await root.query('SELECT id, v FROM app.t')).rows).toEqual([{ id: 1, v: 31 }, { id: 2, v: 20 }, { id: 3, v: 33 }]);
    await root.execute('DELETE FROM app.t WHERE NOT EXISTS (SELECT 1 FROM app.keep k WHERE k.id = t.id)');
    expect((await root.query('SELECT id FROM app.t')).rows).toEqual([{ id: 1 }, { id: 3 }]);
    await db2.close();
  });
});
