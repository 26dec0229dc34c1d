// NATURAL JOIN and FULL JOIN … USING with PostgreSQL's results: the
// examples of §7.2.1.1 (Joined Tables), t1 (num, name) and t2 (num, value).
// The USING/NATURAL columns are listed once, first; a FULL JOIN's is
// COALESCE(t1.num, t2.num).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';

let db: Database;
let s: Session;

beforeAll(async () => {
  db = await openDatabase({ name: 'natural', storage: 'memory' });
  s = db.session({ user: 'root', role: 'system' });
  await s.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.t1 (num INT PRIMARY KEY, name TEXT);
    CREATE SHARED TABLE app.t2 (num INT PRIMARY KEY, value TEXT);
    CREATE SHARED TABLE app.t3 (k INT PRIMARY KEY, num INT, name TEXT, extra TEXT);
    CREATE SHARED TABLE app.t4 (x INT PRIMARY KEY)`);
  await s.execute(`INSERT INTO app.t1 (num, name) VALUES (1, 'a'), (2, 'b'), (3, 'c');
    INSERT INTO app.t2 (num, value) VALUES (1, 'xxx'), (3, 'yyy'), (5, 'zzz');
    INSERT INTO app.t3 (k, num, name, extra) VALUES (1, 1, 'a', 'p'), (2, 3, 'x', 'q');
    INSERT INTO app.t4 (x) VALUES (7), (8)`);
});

afterAll(async () => {
  await db.close();
});

const result = async (sql: string) => {
  const r = await s.query(sql);
  return { columns: r.columns.map((c) => c.name), rows: r.rows.map((row) => Object.values(row)) };
};

describe('NATURAL JOIN and FULL JOIN … USING', () => {
  const cases: [string, string[], unknown[][]][] = [
    ['SELECT * FROM app.t1 NATURAL INNER JOIN app.t2 ORDER BY num', ['num', 'name', 'value'], [[1, 'a', 'xxx'], [3, 'c', 'yyy']]],
    ['SELECT * FROM app.t1 NATURAL JOIN app.t2 ORDER BY num', ['num', 'name', 'value'], [[1, 'a', 'xxx'], [3, 'c', 'yyy']]],
    ['SELECT * FROM app.t1 NATURAL LEFT JOIN app.t2 ORDER BY num', ['num', 'name', 'value'], [[1, 'a', 'xxx'], [2, 'b', null], [3, 'c', 'yyy']]],
    ['SELECT * FROM app.t1 NATURAL RIGHT OUTER JOIN app.t2 ORDER BY num', ['num', 'name', 'value'], [[1, 'a', 'xxx'], [3, 'c', 'yyy'], [5, null, 'zzz']]],
    ['SELECT * FROM app.t1 NATURAL FULL JOIN app.t2 ORDER BY num', ['num', 'name', 'value'], [[1, 'a', 'xxx'], [2, 'b', null], [3, 'c', 'yyy'], [5, null, 'zzz']]],
    ['SELECT * FROM app.t1 FULL JOIN app.t2 USING (num) ORDER BY num', ['num', 'name', 'value'], [[1, 'a', 'xxx'], [2, 'b', null], [3, 'c', 'yyy'], [5, null, 'zzz']]],
    ['SELECT * FROM app.t1 FULL OUTER JOIN app.t2 USING (num) WHERE num > 2 ORDER BY num DESC', ['num', 'name', 'value'], [[5, null, 'zzz'], [3, 'c', 'yyy']]],
    ['SELECT num, t1.num AS l, t2.num AS r FROM app.t1 FULL JOIN app.t2 USING (num) ORDER BY num', ['num', 'l', 'r'], [[1, 1, 1], [2, 2, null], [3, 3, 3], [5, null, 5]]],
    ['SELECT count(*) AS n, sum(num) AS total FROM app.t1 FULL JOIN app.t2 USING (num)', ['n', 'total'], [[4, 11]]],
    // The USING columns come first, in the order of the list, even from the right side's position.
    ['SELECT * FROM app.t2 JOIN app.t3 USING (num) ORDER BY num', ['num', 'value', 'k', 'name', 'extra'], [[1, 'xxx', 1, 'a', 'p'], [3, 'yyy', 2, 'x', 'q']]],
    ['SELECT * FROM app.t3 AS a JOIN app.t1 AS b USING (name, num)', ['name', 'num', 'k', 'extra'], [['a', 1, 1, 'p']]],
    // NATURAL over two common columns (num, name): only the row agreeing on both.
    ['SELECT * FROM app.t3 NATURAL JOIN app.t1', ['num', 'name', 'k', 'extra'], [[1, 'a', 1, 'p']]],
    // No common column: a cross join (PostgreSQL: "NATURAL … behaves like CROSS JOIN").
    ['SELECT * FROM app.t1 NATURAL JOIN app.t4 WHERE num = 1 ORDER BY x', ['num', 'name', 'x'], [[1, 'a', 7], [1, 'a', 8]]],
    // An alias on the right-hand item, and a qualified star listing a side's own copy (ORDER BY names that output column: NULLs last).
    ['SELECT t2.* FROM app.t1 NATURAL FULL JOIN app.t2 AS t2 ORDER BY num', ['num', 'value'], [[1, 'xxx'], [3, 'yyy'], [5, 'zzz'], [null, null]]],
  ];
  for (const [sql, columns, rows] of cases) {
    it(sql, async () => expect(await result(sql)).toEqual({ columns, rows }));
  }

  it('keeps a live query over a FULL JOIN … USING current as rows arrive on either side', async () => {
    let latest: readonly Record<string, unknown>[] = [];
    const stop = await s.live('SELECT num, name, value FROM app.t1 FULL JOIN app.t2 USING (num) WHERE num >= 5', [], (r) => { latest = r; });
    expect(latest).toEqual([{ num: 5, name: null, value: 'zzz' }]);
    await s.execute(`INSERT INTO app.t1 (num, name) VALUES (6, 'f')`);
    await expect.poll(() => latest.length).toBe(2);
    expect([...latest].sort((a, b) => Number(a.num) - Number(b.num))).toEqual([{ num: 5, name: null, value: 'zzz' }, { num: 6, name: 'f', value: null }]);
    stop();
    await s.execute(`DELETE FROM app.t1 WHERE num = 6`);
  });

  it('refuses NATURAL with ON, USING or CROSS', async () => {
    await expect(s.query('SELECT * FROM app.t1 NATURAL JOIN app.t2 ON t1.num = t2.num')).rejects.toMatchObject({ code: 'INVALID_SQL' });
    await expect(s.query('SELECT * FROM app.t1 NATURAL CROSS JOIN app.t2')).rejects.toMatchObject({ code: 'PARSE_ERROR' });
  });
});
