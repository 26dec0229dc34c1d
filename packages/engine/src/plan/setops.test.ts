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
    CREATE SHARED TABLE app.a (id INT PRIMARY KEY, v INT, tag TEXT);
    CREATE SHARED TABLE app.b (id INT PRIMARY KEY, v INT, tag TEXT);
    CREATE SHARED TABLE app.c (id INT PRIMARY KEY, v INT);
    CREATE USER TABLE app.todos (id TEXT PRIMARY KEY, title TEXT NOT NULL)`);
  await s.execute(`INSERT INTO app.a (id, v, tag) VALUES (1, 1, 'x'), (2, 2, 'y'), (3, 2, 'y'), (4, NULL, 'n'), (5, 5, 'z')`);
  await s.execute(`INSERT INTO app.b (id, v, tag) VALUES (1, 2, 'y'), (2, 3, 'w'), (3, NULL, 'n'), (4, 3, 'w')`);
  await s.execute(`INSERT INTO app.c (id, v) VALUES (1, 3), (2, 5)`);
  await db.session({ user: 'alice' }).execute(`INSERT INTO app.todos (id, title) VALUES ('a1', 'alice one'), ('a2', 'alice two')`);
  await db.session({ user: 'bob' }).execute(`INSERT INTO app.todos (id, title) VALUES ('b1', 'bob one')`);
});

const rows = async (sql: string, params?: Value[], who = s): Promise<readonly Row[]> => (await who.query(sql, params)).rows;
const col = async (sql: string, name: string, params?: Value[]): Promise<Value[]> => (await rows(sql, params)).map((r) => r[name]);
const sorted = (vs: Value[]) => [...vs].sort((x, y) => (x === null ? 1 : y === null ? -1 : Number(x) - Number(y)));

async function errorOf(p: Promise<unknown>): Promise<KalamError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected the statement to fail');
}

describe('UNION and UNION ALL', () => {
  it('UNION removes duplicates across and within both sides; NULLs count as equal', async () => {
    expect(sorted(await col('SELECT v FROM app.a UNION SELECT v FROM app.b', 'v'))).toEqual([1, 2, 3, 5, null]);
  });

  it('UNION ALL keeps every row, left side first', async () => {
    expect(await col('SELECT v FROM app.a UNION ALL SELECT v FROM app.b', 'v')).toEqual([1, 2, 2, null, 5, 2, 3, null, 3]);
  });

  it('names the output columns after the first query', async () => {
    const r = await s.query('SELECT id AS left_id, tag FROM app.a WHERE id = 1 UNION SELECT v, tag FROM app.b WHERE id = 2');
    expect(r.columns.map((c) => c.name)).toEqual(['left_id', 'tag']);
    expect(r.rows).toEqual([{ left_id: 1, tag: 'x' }, { left_id: 3, tag: 'w' }]);
  });

  it('applies ORDER BY, LIMIT and OFFSET to the combined rows', async () => {
    expect(await col('SELECT v FROM app.a UNION ALL SELECT v FROM app.b ORDER BY v DESC LIMIT 3', 'v')).toEqual([null, null, 5]);
    expect(await col('SELECT v FROM app.a WHERE v IS NOT NULL UNION SELECT v FROM app.b ORDER BY 1 LIMIT 2 OFFSET 1', 'v')).toEqual([2, 3]);
    expect(await col('SELECT id, tag FROM app.a UNION SELECT id, tag FROM app.b ORDER BY tag, id DESC', 'id')).toEqual([4, 3, 4, 2, 1, 3, 2, 1, 5]);
    expect(await col('(SELECT v FROM app.a) UNION (SELECT v FROM app.b) ORDER BY v LIMIT 2', 'v')).toEqual([1, 2]);
  });

  it('keeps ORDER BY and LIMIT inside a parenthesized member to that member', async () => {
    expect(await col('(SELECT v FROM app.a ORDER BY v DESC NULLS LAST LIMIT 1) UNION ALL (SELECT v FROM app.b ORDER BY v LIMIT 1) ORDER BY v', 'v')).toEqual([2, 5]);
    expect(await col('SELECT v FROM app.c UNION ALL (SELECT v FROM app.a ORDER BY v LIMIT 1) ORDER BY v', 'v')).toEqual([1, 3, 5]);
  });

  it('chains three queries left to right', async () => {
    expect(await col('SELECT v FROM app.c UNION ALL SELECT v FROM app.c UNION SELECT v FROM app.c ORDER BY v', 'v')).toEqual([3, 5]);
    expect(await col('SELECT v FROM app.c UNION SELECT v FROM app.c UNION ALL SELECT v FROM app.c ORDER BY v', 'v')).toEqual([3, 3, 5, 5]);
  });

  it('refuses queries with different numbers of columns', async () => {
    const e = await errorOf(s.query('SELECT v FROM app.a UNION SELECT v, tag FROM app.b'));
    expect(e.code).toBe('INVALID_SQL');
    expect(e.message).toContain('same number of columns');
    expect((await errorOf(s.query('SELECT v FROM app.a INTERSECT SELECT id, v FROM app.b'))).code).toBe('INVALID_SQL');
  });

  it('refuses an ORDER BY position past the output columns', async () => {
    expect((await errorOf(s.query('SELECT v FROM app.a UNION SELECT v FROM app.b ORDER BY 2'))).code).toBe('INVALID_SQL');
  });
});

describe('INTERSECT and EXCEPT', () => {
  it('INTERSECT keeps distinct rows present on both sides, NULL matching NULL', async () => {
    expect(sorted(await col('SELECT v FROM app.a INTERSECT SELECT v FROM app.b', 'v'))).toEqual([2, null]);
    expect(await rows('SELECT v, tag FROM app.a INTERSECT SELECT v, tag FROM app.b ORDER BY v')).toEqual([{ v: 2, tag: 'y' }, { v: null, tag: 'n' }]);
  });

  it('EXCEPT keeps distinct left rows absent on the right', async () => {
    expect(await col('SELECT v FROM app.a EXCEPT SELECT v FROM app.b ORDER BY v', 'v')).toEqual([1, 5]);
    expect(await col('SELECT v FROM app.b EXCEPT SELECT v FROM app.a ORDER BY v', 'v')).toEqual([3]);
  });

  it('binds INTERSECT tighter than UNION and EXCEPT, as Postgres does', async () => {
    // c ∪ (a ∩ b) = {3, 5} ∪ {2, NULL}
    expect(sorted(await col('SELECT v FROM app.c UNION SELECT v FROM app.a INTERSECT SELECT v FROM app.b', 'v'))).toEqual([2, 3, 5, null]);
    // a − (b ∩ c) = {1, 2, NULL, 5} − {3}
    expect(sorted(await col('SELECT v FROM app.a EXCEPT SELECT v FROM app.b INTERSECT SELECT v FROM app.c', 'v'))).toEqual([1, 2, 5, null]);
    // (a − b) ∪ c, left to right
    expect(await col('SELECT v FROM app.a EXCEPT SELECT v FROM app.b UNION SELECT v FROM app.c ORDER BY v', 'v')).toEqual([1, 3, 5]);
  });

  it('reads a parenthesized right member correctly after FROM', async () => {
    expect(await col('SELECT v FROM app.a EXCEPT (SELECT v FROM app.b) ORDER BY v', 'v')).toEqual([1, 5]);
    expect(await col('SELECT v FROM app.a INTERSECT (SELECT v FROM app.c) UNION SELECT 9 ORDER BY v', 'v')).toEqual([5, 9]);
  });

  it('says INTERSECT ALL and EXCEPT ALL are not supported yet', async () => {
    expect((await errorOf(s.query('SELECT v FROM app.a INTERSECT ALL SELECT v FROM app.b'))).code).toBe('UNSUPPORTED');
    expect((await errorOf(s.query('SELECT v FROM app.a EXCEPT ALL SELECT v FROM app.b'))).code).toBe('UNSUPPORTED');
  });
});

describe('set operations with subqueries, the plan cache and users', () => {
  it('work as a subquery, a derived table and inside WITH', async () => {
    expect(await col('SELECT id FROM app.a WHERE v IN (SELECT v FROM app.b UNION SELECT v FROM app.c) ORDER BY id', 'id')).toEqual([2, 3, 5]);
    expect(await rows('SELECT COUNT(*) AS n FROM (SELECT v FROM app.a UNION SELECT v FROM app.b) u')).toEqual([{ n: 5 }]);
    expect(await col('WITH u AS (SELECT v FROM app.a INTERSECT SELECT v FROM app.b) SELECT v FROM u WHERE v IS NOT NULL', 'v')).toEqual([2]);
  });

  it('share one plan for different literals and keep ORDER BY positions in the plan', async () => {
    expect(await col('SELECT v FROM app.a WHERE v > 1 UNION SELECT v FROM app.c WHERE v > 4 ORDER BY 1', 'v')).toEqual([2, 5]);
    expect(await col('SELECT v FROM app.a WHERE v > 4 UNION SELECT v FROM app.c WHERE v > 2 ORDER BY 1', 'v')).toEqual([3, 5]);
  });

  it('lists the tables of every member, so a live query re-runs when either changes', async () => {
    const db2 = await openDatabase({ storage: 'memory' });
    const root = db2.session({ user: 'root', role: 'dba' });
    await root.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.l (id INT PRIMARY KEY); CREATE SHARED TABLE app.r (id INT PRIMARY KEY)');
    const seen: Value[][] = [];
    const stop = await root.live('SELECT id FROM app.l UNION SELECT id FROM app.r ORDER BY id', [], (r) => seen.push(r.map((x) => x.id)));
    await root.execute('INSERT INTO app.r (id) VALUES (2)');
    await root.execute('INSERT INTO app.l (id) VALUES (1)');
    stop();
    expect(seen).toEqual([[], [2], [1, 2]]);
    await db2.close();
  });

  it('read each side in the session user’s partition only', async () => {
    const sql = 'SELECT id FROM app.todos UNION SELECT id FROM app.todos ORDER BY id';
    expect(await col2(sql, 'bob')).toEqual(['b1']);
    expect(await col2(sql, 'alice')).toEqual(['a1', 'a2']);
    expect(await col2(`SELECT id FROM app.todos EXCEPT SELECT 'b1'`, 'bob')).toEqual([]);
    expect(await col2(`SELECT 'a1' AS id INTERSECT SELECT id FROM app.todos`, 'bob')).toEqual([]);
  });
});

const col2 = async (sql: string, user: string): Promise<Value[]> => (await rows(sql, [], db.session({ user }))).map((r) => r.id);
