/**
 * VALUES lists (a statement of their own, and in FROM) and
 * generate_series() in FROM. Expected values are PostgreSQL's, written from
 * its documentation (§7.7 VALUES Lists; §9.26 Set Returning Functions,
 * Table 9.67 and its examples), not from kalamlite's output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { Row, Value } from '../core/types';

let db: Database;
let s: Session;

beforeAll(async () => {
  db = await openDatabase({ storage: 'memory' });
  s = db.session({ user: 'root', role: 'dba' });
  await s.execute(`CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, name TEXT)`);
  await s.execute(`INSERT INTO app.t (id, name) VALUES (2, 'two'), (4, 'four')`);
});
afterAll(() => db.close());

const rows = async (sql: string, params?: Value[]): Promise<Row[]> => [...(await s.query(sql, params)).rows];
const values = async (sql: string, params?: Value[]): Promise<Value[][]> => (await rows(sql, params)).map((r) => Object.values(r));

async function failure(sql: string): Promise<KalamError> {
  try {
    await s.query(sql);
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error(`expected '${sql}' to fail`);
}

describe('VALUES lists (§7.7)', () => {
  it('a VALUES statement returns its rows, in columns named column1, column2, …', async () => {
    expect(await rows(`VALUES (1, 'one'), (2, 'two'), (3, 'three')`))
      .toEqual([{ column1: 1, column2: 'one' }, { column1: 2, column2: 'two' }, { column1: 3, column2: 'three' }]);
  });

  it('VALUES in FROM takes a table alias with column names', async () => {
    expect(await rows(`SELECT * FROM (VALUES (1, 'one'), (2, 'two'), (3, 'three')) AS t (num, letter)`))
      .toEqual([{ num: 1, letter: 'one' }, { num: 2, letter: 'two' }, { num: 3, letter: 'three' }]);
  });

  it('a VALUES statement takes ORDER BY and LIMIT', async () => {
    expect(await values(`VALUES (3, 'c'), (1, 'a'), (2, 'b') ORDER BY 1 LIMIT 2`)).toEqual([[1, 'a'], [2, 'b']]);
  });

  it('fewer column names than columns rename only the first', async () => {
    expect(await rows(`SELECT * FROM (VALUES (1, 'x')) AS v (n)`)).toEqual([{ n: 1, column2: 'x' }]);
  });

  it('holds expressions, NULLs and parameters, and joins with a table', async () => {
    expect(await values(`SELECT v.k, v.label, t.name FROM (VALUES (1 + 1, 'b'), ($1, NULL)) AS v (k, label) LEFT JOIN app.t AS t ON t.id = v.k ORDER BY v.k`, [3]))
      .toEqual([[2, 'b', 'two'], [3, null, null]]);
  });

  it('filters and aggregates like any relation', async () => {
    expect(await values(`SELECT count(*), sum(n) FROM (VALUES (1), (2), (3), (4)) AS v (n) WHERE n > 1`)).toEqual([[3, 9]]);
  });

  it('refuses rows of different lengths, as PostgreSQL does', async () => {
    const e = await failure(`SELECT * FROM (VALUES (1, 'a'), (2)) AS v`);
    expect([e.code, e.message]).toEqual(['INVALID_SQL', 'VALUES lists must all be the same length']);
  });
});

describe('generate_series in FROM (§9.26, Table 9.67)', () => {
  const CASES: [string, Value[][]][] = [
    ['SELECT * FROM generate_series(2, 4)', [[2], [3], [4]]],
    ['SELECT * FROM generate_series(5, 1, -2)', [[5], [3], [1]]],
    ['SELECT * FROM generate_series(4, 3)', []],
    ['SELECT * FROM generate_series(1.1, 4, 1.3)', [[1.1], [2.4], [3.7]]],
    ['SELECT * FROM generate_series(1, 0, 2)', []],
    ['SELECT * FROM generate_series(1, NULL)', []],
  ];
  for (const [sql, want] of CASES) {
    it(sql, async () => {
      expect(await values(sql)).toEqual(want);
    });
  }

  it('names its column generate_series, the table alias, or the column alias', async () => {
    expect(await rows(`SELECT * FROM generate_series(1, 2)`)).toEqual([{ generate_series: 1 }, { generate_series: 2 }]);
    expect(await rows(`SELECT * FROM generate_series(1, 2) AS s`)).toEqual([{ s: 1 }, { s: 2 }]);
    expect(await rows(`SELECT s.a FROM generate_series(0, 14, 7) AS s (a)`)).toEqual([{ a: 0 }, { a: 7 }, { a: 14 }]);
  });

  it('is BIGINT when an argument is', async () => {
    expect(await values(`SELECT * FROM generate_series(9007199254740993::BIGINT, 9007199254740994)`)).toEqual([[9007199254740993n], [9007199254740994n]]);
  });

  it('takes parameters and joins with a table', async () => {
    expect(await values(`SELECT g.i, t.name FROM generate_series($1, $2) AS g (i) LEFT JOIN app.t AS t ON t.id = g.i`, [1, 4]))
      .toEqual([[1, null], [2, 'two'], [3, null], [4, 'four']]);
    expect(await values(`SELECT sum(i) FROM generate_series(1, 100) AS g (i)`)).toEqual([[5050]]);
  });

  it('refuses a zero step with PostgreSQL\'s message', async () => {
    const e = await failure(`SELECT * FROM generate_series(1, 3, 0)`);
    expect([e.code, e.message]).toEqual(['INVALID_PARAMETER', 'generate_series(): step size cannot equal zero']);
  });

  it('refuses a series longer than maxSeriesRows before producing a row', async () => {
    const small = await openDatabase({ storage: 'memory', maxSeriesRows: 5 });
    try {
      const t = small.session({ user: 'root', role: 'dba' });
      expect((await t.query(`SELECT count(*) AS n FROM generate_series(1, 5)`)).rows).toEqual([{ n: 5 }]);
      await expect(t.query(`SELECT count(*) FROM generate_series(1, 6)`)).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED', message: expect.stringContaining('maxSeriesRows') });
      const settings = (await t.query(`SELECT value FROM system.settings WHERE name = 'max_series_rows'`)).rows;
      expect(settings).toEqual([{ value: '5' }]);
    } finally {
      await small.close();
    }
  });

  it('refuses other functions in FROM, naming what is supported', async () => {
    const e = await failure(`SELECT * FROM unnest(1)`);
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toContain('generate_series(start, stop[, step])');
  });
});
