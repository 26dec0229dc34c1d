/**
 * RIGHT and FULL [OUTER] JOIN and JOIN … USING, through the hash join and
 * the nested loop. Tables and expected rows are PostgreSQL's documented
 * example (§7.2.1.1 Joined Tables: t1 (num, name), t2 (num, value)), not
 * kalamlite's output; ORDER BY makes the documented order certain.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { Row, Value } from '../core/types';

let db: Database;
let s: Session;

beforeAll(async () => {
  db = await openDatabase({ storage: 'memory' });
  s = db.session({ user: 'root', role: 'dba' });
  await s.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.t1 (num INT PRIMARY KEY, name TEXT);
    CREATE SHARED TABLE app.t2 (num INT PRIMARY KEY, value TEXT);
    CREATE SHARED TABLE app.t3 (id INT PRIMARY KEY, num INT, note TEXT)`);
  await s.execute(`INSERT INTO app.t1 (num, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
  await s.execute(`INSERT INTO app.t2 (num, value) VALUES (1, 'xxx'), (3, 'yyy'), (5, 'zzz')`);
  await s.execute(`INSERT INTO app.t3 (id, num, note) VALUES (1, 3, 'three'), (2, NULL, 'none'), (3, 7, 'seven')`);
});
afterAll(() => db.close());

const rows = async (sql: string): Promise<Value[][]> => (await s.query(sql)).rows.map((r: Row) => Object.values(r));
const FROM = 'FROM app.t1 AS t1';

async function failure(sql: string): Promise<KalamError> {
  try {
    await s.query(sql);
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error(`expected '${sql}' to fail`);
}

/** §7.2.1.1's queries and their documented results. */
const DOCUMENTED: [string, Value[][]][] = [
  [`SELECT * ${FROM} RIGHT JOIN app.t2 AS t2 ON t1.num = t2.num ORDER BY t2.num`,
    [[1, 'a', 1, 'xxx'], [3, 'c', 3, 'yyy'], [null, null, 5, 'zzz']]],
  [`SELECT * ${FROM} RIGHT OUTER JOIN app.t2 AS t2 ON t1.num = t2.num ORDER BY t2.num`,
    [[1, 'a', 1, 'xxx'], [3, 'c', 3, 'yyy'], [null, null, 5, 'zzz']]],
  [`SELECT * ${FROM} FULL JOIN app.t2 AS t2 ON t1.num = t2.num ORDER BY coalesce(t1.num, t2.num)`,
    [[1, 'a', 1, 'xxx'], [2, 'b', null, null], [3, 'c', 3, 'yyy'], [null, null, 5, 'zzz']]],
  [`SELECT * ${FROM} FULL OUTER JOIN app.t2 AS t2 ON t1.num = t2.num ORDER BY coalesce(t1.num, t2.num)`,
    [[1, 'a', 1, 'xxx'], [2, 'b', null, null], [3, 'c', 3, 'yyy'], [null, null, 5, 'zzz']]],
  [`SELECT * ${FROM} INNER JOIN app.t2 AS t2 USING (num) ORDER BY num`,
    [[1, 'a', 'xxx'], [3, 'c', 'yyy']]],
  [`SELECT * ${FROM} LEFT JOIN app.t2 AS t2 USING (num) ORDER BY num`,
    [[1, 'a', 'xxx'], [2, 'b', null], [3, 'c', 'yyy']]],
  [`SELECT * ${FROM} LEFT JOIN app.t2 AS t2 ON t1.num = t2.num AND t2.value = 'xxx' ORDER BY t1.num`,
    [[1, 'a', 1, 'xxx'], [2, 'b', null, null], [3, 'c', null, null]]],
  [`SELECT * ${FROM} LEFT JOIN app.t2 AS t2 ON t1.num = t2.num WHERE t2.value = 'xxx'`,
    [[1, 'a', 1, 'xxx']]],
];

describe('outer joins and USING (§7.2.1.1)', () => {
  for (const [sql, want] of DOCUMENTED) {
    it(sql, async () => {
      expect(await rows(sql)).toEqual(want);
    });
  }

  it('a RIGHT JOIN … USING lists the right side\'s column, present on every row', async () => {
    expect(await rows(`SELECT num, name, value ${FROM} RIGHT JOIN app.t2 AS t2 USING (num) ORDER BY num`))
      .toEqual([[1, 'a', 'xxx'], [3, 'c', 'yyy'], [5, null, 'zzz']]);
  });

  it('the merged column is still there qualified', async () => {
    expect(await rows(`SELECT t1.num, t2.num ${FROM} LEFT JOIN app.t2 AS t2 USING (num) ORDER BY t1.num`))
      .toEqual([[1, 1], [2, null], [3, 3]]);
  });

  it('FULL JOIN on a condition that is not an equality (the nested loop) keeps both sides\' unmatched rows', async () => {
    expect(await rows(`SELECT t1.num, t2.num ${FROM} FULL JOIN app.t2 AS t2 ON t1.num > t2.num ORDER BY t1.num NULLS LAST, t2.num`))
      .toEqual([[1, null], [2, 1], [3, 1], [null, 3], [null, 5]]);
    expect(await rows(`SELECT t1.num, t2.num ${FROM} RIGHT JOIN app.t2 AS t2 ON t1.num > t2.num ORDER BY t2.num, t1.num`))
      .toEqual([[2, 1], [3, 1], [null, 3], [null, 5]]);
  });

  it('a right row whose key is NULL never matches and is kept once', async () => {
    expect(await rows(`SELECT t1.name, t3.note ${FROM} RIGHT JOIN app.t3 AS t3 ON t1.num = t3.num ORDER BY t3.id`))
      .toEqual([['c', 'three'], [null, 'none'], [null, 'seven']]);
    expect(await rows(`SELECT t1.name, t3.note ${FROM} FULL JOIN app.t3 AS t3 ON t1.num = t3.num ORDER BY t1.num NULLS LAST, t3.id`))
      .toEqual([['a', null], ['b', null], ['c', 'three'], [null, 'none'], [null, 'seven']]);
  });

  it('chains: a join after a RIGHT JOIN, and USING naming the column of the one relation that has it', async () => {
    expect(await rows(`SELECT t3.note, t2.value ${FROM} RIGHT JOIN app.t2 AS t2 ON t1.num = t2.num LEFT JOIN app.t3 AS t3 ON t3.num = t2.num ORDER BY t2.num`))
      .toEqual([[null, 'xxx'], ['three', 'yyy'], [null, 'zzz']]);
    expect(await rows(`SELECT num, name, value, note ${FROM} JOIN app.t2 AS t2 USING (num) JOIN app.t3 AS t3 USING (num)`))
      .toEqual([[3, 'c', 'yyy', 'three']]);
  });

  it('aggregates over a FULL JOIN count the NULL-extended rows', async () => {
    expect(await rows(`SELECT count(*), count(t1.num), count(t2.num) ${FROM} FULL JOIN app.t2 AS t2 ON t1.num = t2.num`)).toEqual([[4, 3, 3]]);
  });

  it('EXPLAIN names the join kind', async () => {
    const plan = (await s.query(`EXPLAIN SELECT * ${FROM} FULL JOIN app.t2 AS t2 ON t1.num = t2.num`)).rows.map((r) => r.operator);
    expect(plan).toContain('Hash full join');
    const nested = (await s.query(`EXPLAIN SELECT * ${FROM} RIGHT JOIN app.t2 AS t2 ON t1.num > t2.num`)).rows.map((r) => r.operator);
    expect(nested).toContain('Nested loop right join');
  });

  it('keeps a live query over a FULL JOIN correct', async () => {
    let latest: readonly Row[] = [];
    const stop = await s.live(`SELECT t1.num AS a, t2.num AS b ${FROM} FULL JOIN app.t2 AS t2 ON t1.num = t2.num ORDER BY coalesce(t1.num, t2.num)`, [], (r) => { latest = r; });
    await s.execute(`INSERT INTO app.t1 (num, name) VALUES (5, 'e')`);
    await new Promise((r) => setTimeout(r, 50));
    expect(latest.map((r) => [r.a, r.b])).toEqual([[1, 1], [2, null], [3, 3], [5, 5]]);
    stop();
    await s.execute(`DELETE FROM app.t1 WHERE num = 5`);
  });
});

describe('refused with a specific error', () => {
  const CASES: [string, string, string][] = [
    [`SELECT * ${FROM} JOIN app.t2 AS t2 USING (nope)`, 'COLUMN_NOT_FOUND', 'column "nope" specified in USING clause does not exist in left table'],
    [`SELECT * ${FROM} JOIN app.t2 AS t2 USING (name)`, 'COLUMN_NOT_FOUND', 'column "name" specified in USING clause does not exist in right table'],
    [`SELECT * ${FROM} JOIN app.t2 AS t2 ON t1.num = t2.num JOIN app.t3 AS t3 USING (num)`, 'AMBIGUOUS_COLUMN', 'common column name "num" appears more than once in left table'],
    [`SELECT * ${FROM} NATURAL JOIN app.t2 AS t2 USING (num)`, 'INVALID_SQL', 'A NATURAL JOIN takes no ON or USING'],
  ];
  for (const [sql, code, message] of CASES) {
    it(`${code}: ${sql}`, async () => {
      const e = await failure(sql);
      expect([e.code, e.message]).toEqual([code, expect.stringContaining(message)]);
    });
  }
});

describe('WHERE terms pushed below outer joins', () => {
  it('filter the scan of a relation no join null-extends (a primary-key lookup here), and stay above the joins otherwise', async () => {
    const explain = async (sql: string) => (await s.query(`EXPLAIN ${sql}`)).rows;
    const left = await explain(`SELECT * ${FROM} LEFT JOIN app.t2 AS t2 ON t1.num = t2.num WHERE t1.num = 3`);
    expect(left.find((r) => String(r.detail).startsWith('app.t1'))?.detail).toMatch(/pk lookup/);
    expect(left.map((r) => r.operator)).not.toContain('Filter');
    // t2 is null-extended by the LEFT JOIN: its term filters the joined rows, so unmatched rows still reach it.
    const anti = `SELECT t1.num ${FROM} LEFT JOIN app.t2 AS t2 ON t1.num = t2.num WHERE t2.num IS NULL`;
    expect((await explain(anti)).map((r) => r.operator)).toContain('Filter');
    expect(await rows(anti)).toEqual([[2]]);
    // RIGHT JOIN: the right side is kept whole, the left is null-extended.
    const right = await explain(`SELECT * ${FROM} RIGHT JOIN app.t2 AS t2 ON t1.num = t2.num WHERE t2.num = 5 AND t1.num IS NULL`);
    expect(right.find((r) => String(r.detail).startsWith('app.t2'))?.detail).toMatch(/pk lookup/);
    expect(await rows(`SELECT t2.value ${FROM} RIGHT JOIN app.t2 AS t2 ON t1.num = t2.num WHERE t2.num = 5 AND t1.num IS NULL`)).toEqual([['zzz']]);
  });

  // Random tables, outer join kinds and WHERE terms: the same answer as with the WHERE read as one term holding a
  // subquery, which no planner pushes anywhere (it filters the joined rows).
  const table = fc.array(fc.tuple(fc.option(fc.integer({ min: 0, max: 3 })), fc.option(fc.integer({ min: 0, max: 3 }))), { maxLength: 6 });
  const kind = fc.constantFrom('LEFT', 'RIGHT', 'FULL', 'INNER');
  const term = (rels: number) =>
    fc.tuple(fc.integer({ min: 0, max: rels - 1 }), fc.constantFrom('a', 'b', 'id'), fc.constantFrom('= 1', '< 2', 'IS NULL', 'IS NOT NULL', '<> 0')).map(([r, c, op]) => `r${r}.${c} ${op}`);
  let round = 0;
  it('for any tables, outer join kinds and WHERE terms', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 3 }).chain((rels) =>
          fc.record({ tables: fc.array(table, { minLength: rels, maxLength: rels }), kinds: fc.array(kind, { minLength: rels - 1, maxLength: rels - 1 }), terms: fc.array(term(rels), { maxLength: 3 }) }),
        ),
        async ({ tables, kinds, terms }) => {
          const ns = `oj${round++}`;
          await s.execute(`CREATE NAMESPACE ${ns}`);
          for (let i = 0; i < tables.length; i++) {
            await s.execute(`CREATE SHARED TABLE ${ns}.r${i} (id INT PRIMARY KEY, a INT, b INT)`);
            if (tables[i].length > 0) await s.execute(`INSERT INTO ${ns}.r${i} (id, a, b) VALUES ${tables[i].map(([a, b], k) => `(${k}, ${a ?? 'NULL'}, ${b ?? 'NULL'})`).join(', ')}`);
          }
          let from = `${ns}.r0 r0`;
          for (let i = 1; i < tables.length; i++) from += ` ${kinds[i - 1]} JOIN ${ns}.r${i} r${i} ON r${i - 1}.a = r${i}.b`;
          const select = tables.map((_, i) => `r${i}.id AS id${i}`).join(', ');
          const where = terms.length > 0 ? terms.join(' AND ') : 'true';
          const key = (r: Row) => JSON.stringify(r);
          const planned = (await s.query(`SELECT ${select} FROM ${from} WHERE ${where}`)).rows.map(key).sort();
          const reference = (await s.query(`SELECT ${select} FROM ${from} WHERE (${where}) OR (SELECT false)`)).rows.map(key).sort();
          expect(planned).toEqual(reference);
          await s.execute(`DROP NAMESPACE ${ns} CASCADE`);
        },
      ),
      { numRuns: 150 },
    );
  }, 300_000);
});
