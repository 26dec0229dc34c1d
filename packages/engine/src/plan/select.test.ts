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
    CREATE SHARED TABLE app.people (id INT PRIMARY KEY, name TEXT, dept TEXT, age INT, score DOUBLE);
    CREATE SHARED TABLE app.depts (code TEXT PRIMARY KEY, title TEXT, floor INT);
    CREATE SHARED TABLE app.floors (n INT PRIMARY KEY, building TEXT);
    CREATE SHARED TABLE app.empty (id INT PRIMARY KEY, v INT)`);
  await s.execute(`INSERT INTO app.people (id, name, dept, age, score) VALUES
    (1, 'ann', 'eng', 30, 8.5),
    (2, 'bob', 'eng', 25, NULL),
    (3, 'cid', 'ops', 30, 6),
    (4, 'dee', NULL, 41, 9),
    (5, 'eve', 'ops', NULL, 6),
    (6, 'fay', 'eng', 25, 7)`);
  await s.execute(`INSERT INTO app.depts (code, title, floor) VALUES ('eng', 'Engineering', 2), ('ops', 'Operations', 1), ('hr', 'People', 3)`);
  await s.execute(`INSERT INTO app.floors (n, building) VALUES (1, 'north'), (2, 'south')`);
});

const rows = async (sql: string, params?: Value[]): Promise<readonly Row[]> => (await s.query(sql, params)).rows;
const col = async (sql: string, name: string, params?: Value[]): Promise<Value[]> => (await rows(sql, params)).map((r) => r[name]);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return (e as KalamError).code;
  }
  throw new Error('expected the statement to fail');
}

describe('ORDER BY', () => {
  it('orders by several keys with mixed directions, ties broken by the next key', async () => {
    expect(await col('SELECT id FROM app.people WHERE age IS NOT NULL ORDER BY age DESC, name ASC', 'id')).toEqual([4, 1, 3, 2, 6]);
    expect(await col('SELECT id FROM app.people WHERE age IS NOT NULL ORDER BY age, name DESC', 'id')).toEqual([6, 2, 3, 1, 4]);
  });

  it('puts NULLs last ascending and first descending by default, as Postgres does', async () => {
    expect(await col('SELECT id FROM app.people ORDER BY age, id', 'id')).toEqual([2, 6, 1, 3, 4, 5]);
    expect(await col('SELECT id FROM app.people ORDER BY age DESC, id', 'id')).toEqual([5, 4, 1, 3, 2, 6]);
  });

  it('honours explicit NULLS FIRST and NULLS LAST', async () => {
    expect(await col('SELECT id FROM app.people ORDER BY age NULLS FIRST, id', 'id')).toEqual([5, 2, 6, 1, 3, 4]);
    expect(await col('SELECT id FROM app.people ORDER BY age DESC NULLS LAST, id', 'id')).toEqual([4, 1, 3, 2, 6, 5]);
    expect(await col('SELECT id FROM app.people ORDER BY dept NULLS FIRST, id DESC', 'id')).toEqual([4, 6, 2, 1, 5, 3]);
  });

  it('orders by an output alias and by a position in the select list', async () => {
    expect(await col('SELECT id, age * 2 AS twice FROM app.people WHERE age IS NOT NULL ORDER BY twice DESC, id', 'id')).toEqual([4, 1, 3, 2, 6]);
    expect(await col('SELECT name, id FROM app.people ORDER BY 2 DESC', 'id')).toEqual([6, 5, 4, 3, 2, 1]);
    expect(await col('SELECT id, name FROM app.people ORDER BY 2', 'name')).toEqual(['ann', 'bob', 'cid', 'dee', 'eve', 'fay']);
  });

  it('orders by an expression and by a column that is not selected', async () => {
    expect(await col('SELECT name FROM app.people ORDER BY -id', 'name')).toEqual(['fay', 'eve', 'dee', 'cid', 'bob', 'ann']);
    expect(await col('SELECT name FROM app.people WHERE score IS NOT NULL ORDER BY score DESC, id', 'name')).toEqual(['dee', 'ann', 'fay', 'cid', 'eve']);
  });

  it('refuses an ORDER BY position outside the select list', async () => {
    expect(await codeOf(s.query('SELECT id FROM app.people ORDER BY 2'))).toBe('INVALID_SQL');
  });

  it('reads a single table in primary-key order when there is no ORDER BY', async () => {
    await s.execute(`CREATE SHARED TABLE app.keyed (k TEXT PRIMARY KEY)`);
    await s.execute(`INSERT INTO app.keyed (k) VALUES ('m'), ('b'), ('x'), ('a')`);
    expect(await col('SELECT k FROM app.keyed', 'k')).toEqual(['a', 'b', 'm', 'x']);
  });
});

describe('LIMIT and OFFSET', () => {
  it('takes a window of the ordered rows', async () => {
    expect(await col('SELECT id FROM app.people ORDER BY id LIMIT 2', 'id')).toEqual([1, 2]);
    expect(await col('SELECT id FROM app.people ORDER BY id LIMIT 2 OFFSET 3', 'id')).toEqual([4, 5]);
    expect(await col('SELECT id FROM app.people ORDER BY id OFFSET 4', 'id')).toEqual([5, 6]);
    expect(await col('SELECT id FROM app.people ORDER BY id LIMIT 0', 'id')).toEqual([]);
    expect(await col('SELECT id FROM app.people ORDER BY id LIMIT 10 OFFSET 10', 'id')).toEqual([]);
  });

  it('applies the window after sorting (top-K returns the true first rows)', async () => {
    expect(await col('SELECT id FROM app.people ORDER BY score DESC NULLS LAST, id LIMIT 3', 'id')).toEqual([4, 1, 6]);
    expect(await col('SELECT id FROM app.people ORDER BY score DESC NULLS LAST, id LIMIT 2 OFFSET 1', 'id')).toEqual([1, 6]);
  });

  it('LIMIT ALL is no limit', async () => {
    expect(await col('SELECT id FROM app.people ORDER BY id LIMIT ALL', 'id')).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await col('SELECT id FROM app.people ORDER BY id LIMIT ALL OFFSET 4', 'id')).toEqual([5, 6]);
  });

  it('takes LIMIT and OFFSET from parameters', async () => {
    expect(await col('SELECT id FROM app.people ORDER BY id LIMIT $1 OFFSET $2', 'id', [2, 1])).toEqual([2, 3]);
    expect(await col('SELECT id FROM app.people ORDER BY id LIMIT $1 OFFSET $2', 'id', [3, 3])).toEqual([4, 5, 6]);
    expect(await col('SELECT id FROM app.people ORDER BY id LIMIT $1', 'id', [1n])).toEqual([1]);
  });

  it('refuses a negative or fractional LIMIT with INVALID_PARAMETER', async () => {
    expect(await codeOf(s.query('SELECT id FROM app.people LIMIT $1', [-1]))).toBe('INVALID_PARAMETER');
    expect(await codeOf(s.query('SELECT id FROM app.people LIMIT $1', [1.5]))).toBe('INVALID_PARAMETER');
    expect(await codeOf(s.query('SELECT id FROM app.people LIMIT $1', ['many']))).toBe('INVALID_PARAMETER');
  });
});

describe('GROUP BY, HAVING and aggregates', () => {
  it('computes COUNT, SUM, AVG, MIN and MAX per group, ignoring NULL inputs', async () => {
    const r = await rows(`SELECT dept, COUNT(*) AS n, COUNT(age) AS aged, SUM(age) AS total, AVG(score) AS avg_score,
      MIN(name) AS first, MAX(age) AS oldest FROM app.people GROUP BY dept ORDER BY dept`);
    expect(r).toEqual([
      { dept: 'eng', n: 3, aged: 3, total: 80, avg_score: 7.75, first: 'ann', oldest: 30 },
      { dept: 'ops', n: 2, aged: 1, total: 30, avg_score: 6, first: 'cid', oldest: 30 },
      { dept: null, n: 1, aged: 1, total: 41, avg_score: 9, first: 'dee', oldest: 41 },
    ]);
  });

  it('keeps only the groups HAVING accepts, including on aggregates not selected', async () => {
    expect(await col('SELECT dept FROM app.people GROUP BY dept HAVING COUNT(*) > 1 ORDER BY dept', 'dept')).toEqual(['eng', 'ops']);
    expect(await col('SELECT dept FROM app.people GROUP BY dept HAVING MAX(age) >= 30 AND MIN(score) < 7 ORDER BY dept', 'dept')).toEqual(['ops']);
  });

  it('COUNT(DISTINCT x) counts distinct non-NULL values', async () => {
    expect(await rows('SELECT COUNT(DISTINCT age) AS a, COUNT(DISTINCT dept) AS d, COUNT(dept) AS dn FROM app.people')).toEqual([{ a: 3, d: 2, dn: 5 }]);
  });

  it('SUM, AVG, MIN and MAX take DISTINCT too', async () => {
    expect(await rows('SELECT SUM(DISTINCT age) AS s, AVG(DISTINCT age) AS a, MIN(DISTINCT age) AS lo, MAX(DISTINCT score) AS hi, SUM(age) AS all_s FROM app.people')).toEqual([
      { s: 96, a: 32, lo: 25, hi: 9, all_s: 151 },
    ]);
    expect(await rows('SELECT dept, sum(distinct age) AS s FROM app.people WHERE dept IS NOT NULL GROUP BY dept ORDER BY dept')).toEqual([
      { dept: 'eng', s: 55 },
      { dept: 'ops', s: 30 },
    ]);
  });

  it('FILTER (WHERE …) folds only the rows it accepts, per group', async () => {
    expect(await rows('SELECT COUNT(*) FILTER (WHERE age >= 30) AS older, SUM(age) FILTER (WHERE dept = $1) AS eng, COUNT(*) AS n FROM app.people', ['eng'])).toEqual([
      { older: 3, eng: 80, n: 6 },
    ]);
    expect(await rows('SELECT dept, COUNT(*) FILTER (WHERE score > 6) AS good FROM app.people WHERE dept IS NOT NULL GROUP BY dept ORDER BY dept')).toEqual([
      { dept: 'eng', good: 2 },
      { dept: 'ops', good: 0 },
    ]);
  });

  it('an aggregate over no rows gives one row: COUNT 0, SUM/AVG/MIN/MAX NULL', async () => {
    expect(await rows('SELECT COUNT(*) AS n, COUNT(v) AS c, SUM(v) AS s, AVG(v) AS a, MIN(v) AS lo, MAX(v) AS hi FROM app.empty')).toEqual([
      { n: 0, c: 0, s: null, a: null, lo: null, hi: null },
    ]);
    expect(await rows('SELECT COUNT(*) AS n FROM app.people WHERE id > 100')).toEqual([{ n: 0 }]);
  });

  it('GROUP BY over no rows gives no rows', async () => {
    expect(await rows('SELECT dept, COUNT(*) AS n FROM app.people WHERE id > 100 GROUP BY dept')).toEqual([]);
  });

  it('orders groups by an aggregate and groups by an expression or alias', async () => {
    expect(await rows('SELECT dept, COUNT(*) AS n FROM app.people WHERE dept IS NOT NULL GROUP BY dept ORDER BY COUNT(*) DESC')).toEqual([
      { dept: 'eng', n: 3 },
      { dept: 'ops', n: 2 },
    ]);
    expect(await rows('SELECT age - age % 10 AS decade, COUNT(*) AS n FROM app.people WHERE age IS NOT NULL GROUP BY decade ORDER BY decade')).toEqual([
      { decade: 20, n: 2 },
      { decade: 30, n: 2 },
      { decade: 40, n: 1 },
    ]);
    expect(await rows('SELECT upper(dept) AS d, SUM(age) AS s FROM app.people GROUP BY upper(dept) ORDER BY 1 NULLS FIRST')).toEqual([
      { d: null, s: 41 },
      { d: 'ENG', s: 80 },
      { d: 'OPS', s: 30 },
    ]);
  });

  it('groups by an expression with constants in it, written the same in the select list', async () => {
    expect(await rows('SELECT id % 2 AS odd, COUNT(*) AS n FROM app.people GROUP BY id % 2 ORDER BY 1')).toEqual([
      { odd: 0, n: 3 },
      { odd: 1, n: 3 },
    ]);
    expect(await rows(`SELECT CASE WHEN age >= 30 THEN 'senior' ELSE 'junior' END AS band, COUNT(*) AS n FROM app.people
      WHERE age IS NOT NULL GROUP BY CASE WHEN age >= 30 THEN 'senior' ELSE 'junior' END ORDER BY band`)).toEqual([
      { band: 'junior', n: 2 },
      { band: 'senior', n: 3 },
    ]);
    expect(await rows('SELECT DISTINCT id % 3 AS r FROM app.people ORDER BY id % 3 DESC')).toEqual([{ r: 2 }, { r: 1 }, { r: 0 }]);
  });

  it('refuses a selected column that is neither grouped nor aggregated, and aggregates in WHERE', async () => {
    expect(await codeOf(s.query('SELECT name, COUNT(*) FROM app.people GROUP BY dept'))).toBe('INVALID_SQL');
    expect(await codeOf(s.query('SELECT id FROM app.people WHERE COUNT(*) > 1'))).toBe('INVALID_SQL');
  });
});

describe('DISTINCT', () => {
  it('removes duplicate rows, treating NULLs as equal', async () => {
    expect(await rows('SELECT DISTINCT dept FROM app.people ORDER BY dept')).toEqual([{ dept: 'eng' }, { dept: 'ops' }, { dept: null }]);
    expect(await rows('SELECT DISTINCT dept, age FROM app.people WHERE dept = $1 ORDER BY age', ['eng'])).toEqual([
      { dept: 'eng', age: 25 },
      { dept: 'eng', age: 30 },
    ]);
  });

  it('applies LIMIT after removing duplicates', async () => {
    expect(await rows('SELECT DISTINCT age FROM app.people ORDER BY age LIMIT 2')).toEqual([{ age: 25 }, { age: 30 }]);
  });
});

describe('joins', () => {
  it('inner join keeps matching pairs only', async () => {
    expect(await rows(`SELECT p.name, d.title FROM app.people p JOIN app.depts d ON p.dept = d.code ORDER BY p.id`)).toEqual([
      { name: 'ann', title: 'Engineering' },
      { name: 'bob', title: 'Engineering' },
      { name: 'cid', title: 'Operations' },
      { name: 'eve', title: 'Operations' },
      { name: 'fay', title: 'Engineering' },
    ]);
  });

  it('left join keeps unmatched left rows with NULLs on the right', async () => {
    expect(await rows(`SELECT d.code, p.name FROM app.depts d LEFT JOIN app.people p ON p.dept = d.code AND p.age = 30 ORDER BY d.code, p.name`)).toEqual([
      { code: 'eng', name: 'ann' },
      { code: 'hr', name: null },
      { code: 'ops', name: 'cid' },
    ]);
  });

  it('left join with a WHERE on the right side filters after joining', async () => {
    expect(await col(`SELECT d.code FROM app.depts d LEFT JOIN app.people p ON p.dept = d.code WHERE p.id IS NULL`, 'code')).toEqual(['hr']);
  });

  it('joins on a non-equality condition', async () => {
    const r = await rows(`SELECT a.id AS a, b.id AS b FROM app.people a JOIN app.people b ON a.age < b.age AND b.id <= 3 ORDER BY a.id, b.id`);
    expect(r).toEqual([
      { a: 2, b: 1 },
      { a: 2, b: 3 },
      { a: 6, b: 1 },
      { a: 6, b: 3 },
    ]);
    const left = await rows(`SELECT a.id AS a, b.id AS b FROM app.people a LEFT JOIN app.people b ON a.age > b.age + 10 ORDER BY a.id, b.id`);
    expect(left).toEqual([
      { a: 1, b: null },
      { a: 2, b: null },
      { a: 3, b: null },
      { a: 4, b: 1 },
      { a: 4, b: 2 },
      { a: 4, b: 3 },
      { a: 4, b: 6 },
      { a: 5, b: null },
      { a: 6, b: null },
    ]);
  });

  it('joins three tables', async () => {
    const r = await rows(`SELECT p.name, d.title, f.building FROM app.people p
      JOIN app.depts d ON d.code = p.dept
      JOIN app.floors f ON f.n = d.floor
      WHERE p.age = 30 ORDER BY p.name`);
    expect(r).toEqual([
      { name: 'ann', title: 'Engineering', building: 'south' },
      { name: 'cid', title: 'Operations', building: 'north' },
    ]);
    const left = await rows(`SELECT d.code, f.building, COUNT(p.id) AS n FROM app.depts d
      LEFT JOIN app.floors f ON f.n = d.floor
      LEFT JOIN app.people p ON p.dept = d.code
      GROUP BY d.code, f.building ORDER BY d.code`);
    expect(left).toEqual([
      { code: 'eng', building: 'south', n: 3 },
      { code: 'hr', building: null, n: 0 },
      { code: 'ops', building: 'north', n: 2 },
    ]);
  });

  it('refuses an ambiguous unqualified column', async () => {
    expect(await codeOf(s.query('SELECT id FROM app.people a JOIN app.people b ON a.id = b.id'))).toBe('AMBIGUOUS_COLUMN');
  });

  it('expands t.* to one relation\'s columns', async () => {
    const r = await s.query(`SELECT d.*, p.name FROM app.people p JOIN app.depts d ON d.code = p.dept WHERE p.id = 3`);
    expect(r.columns.map((c) => c.name)).toEqual(['code', 'title', 'floor', 'name']);
    expect(r.rows).toEqual([{ code: 'ops', title: 'Operations', floor: 1, name: 'cid' }]);
  });
});

describe('parameters', () => {
  it('binds $1..$n by position, reusing one $n several times', async () => {
    expect(await col('SELECT id FROM app.people WHERE dept = $1 AND age = $2 ORDER BY id', 'id', ['eng', 25])).toEqual([2, 6]);
    expect(await col('SELECT id FROM app.people WHERE age = $1 OR id = $1 ORDER BY id', 'id', [30])).toEqual([1, 3]);
    expect(await rows('SELECT $2 AS b, $1 AS a', ['x', 'y'])).toEqual([{ b: 'y', a: 'x' }]);
  });

  it('a missing parameter is INVALID_PARAMETER', async () => {
    expect(await codeOf(s.query('SELECT id FROM app.people WHERE id = $1'))).toBe('INVALID_PARAMETER');
    expect(await codeOf(s.query('SELECT id FROM app.people WHERE id = $1 OR id = $2', [1]))).toBe('INVALID_PARAMETER');
    expect(await codeOf(s.execute('INSERT INTO app.empty (id, v) VALUES ($1, $2)', [1]))).toBe('INVALID_PARAMETER');
  });

  it('an undefined or NaN parameter is INVALID_PARAMETER', async () => {
    expect(await codeOf(s.query('SELECT $1 AS v', [undefined as unknown as Value]))).toBe('INVALID_PARAMETER');
    expect(await codeOf(s.query('SELECT $1 AS v', [Number.NaN]))).toBe('INVALID_PARAMETER');
  });

  it('a parameter is a value, never SQL', async () => {
    expect(await col('SELECT id FROM app.people WHERE name = $1', 'id', ["ann' OR '1'='1"])).toEqual([]);
  });

  it('a BIGINT parameter round-trips exactly above 2^53', async () => {
    await s.execute('CREATE SHARED TABLE app.bigs (id BIGINT PRIMARY KEY, label TEXT)');
    const big = 2n ** 53n + 1n;
    const huge = 2n ** 63n - 1n;
    await s.execute('INSERT INTO app.bigs (id, label) VALUES ($1, $2)', [big, 'big']);
    await s.execute('INSERT INTO app.bigs (id, label) VALUES ($1, $2)', [huge, 'huge']);
    await s.execute('INSERT INTO app.bigs (id, label) VALUES ($1, $2)', [big - 1n, 'below']);
    expect(await rows('SELECT id, label FROM app.bigs WHERE id = $1', [big])).toEqual([{ id: big, label: 'big' }]);
    expect(await rows('SELECT id FROM app.bigs WHERE id = $1', [huge])).toEqual([{ id: huge }]);
    expect(await col('SELECT id FROM app.bigs ORDER BY id', 'id')).toEqual([big - 1n, big, huge]);
    expect(await rows('SELECT $1 AS v', [big])).toEqual([{ v: big }]);
    expect(typeof (await rows('SELECT id FROM app.bigs WHERE label = $1', ['below']))[0].id).toBe('bigint');
  });

  it('a BIGINT literal above 2^53 is exact too', async () => {
    expect(await col('SELECT label FROM app.bigs WHERE id = 9007199254740993', 'label')).toEqual(['big']);
    expect(await col('SELECT label FROM app.bigs WHERE id = 9007199254740992', 'label')).toEqual(['below']);
  });
});

describe('identifiers', () => {
  it('table, namespace and column names are case-insensitive', async () => {
    expect(await rows('SELECT ID, Name FROM APP.People WHERE DEPT = $1 ORDER BY Id LIMIT 1', ['eng'])).toEqual([{ id: 1, name: 'ann' }]);
    expect(await rows('SELECT P.ID FROM App.PEOPLE p WHERE p.Id = 2')).toEqual([{ id: 2 }]);
  });

  it('an unknown column or table is COLUMN_NOT_FOUND or TABLE_NOT_FOUND', async () => {
    expect(await codeOf(s.query('SELECT nope FROM app.people'))).toBe('COLUMN_NOT_FOUND');
    expect(await codeOf(s.query('SELECT id FROM app.nope'))).toBe('TABLE_NOT_FOUND');
    expect(await codeOf(s.query('SELECT id FROM nope.people'))).toBe('NAMESPACE_NOT_FOUND');
  });
});
