/**
 * Query shapes a PostgreSQL user writes: IS [NOT] DISTINCT FROM,
 * string_agg, aggregates with both DISTINCT and FILTER, DISTINCT ON. The
 * expected values are PostgreSQL's, written from its documentation (§9.2
 * Comparison Predicates, §4.2.7 Aggregate Expressions, §9.21 Aggregate
 * Functions, SELECT's DISTINCT Clause), not from kalamlite's output.
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
  await s.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.s (i INT PRIMARY KEY);
    CREATE SHARED TABLE app.words (id INT PRIMARY KEY, grp TEXT, w TEXT, sep TEXT);
    CREATE SHARED TABLE app.weather_reports (id INT PRIMARY KEY, location TEXT, time TIMESTAMP, report TEXT)`);
  await s.execute(`INSERT INTO app.s (i) VALUES (1), (2), (3), (4), (5), (6), (7), (8), (9), (10)`);
  await s.execute(`INSERT INTO app.words (id, grp, w, sep) VALUES
    (1, 'a', 'pear', ','), (2, 'a', 'apple', ';'), (3, 'a', NULL, '!'), (4, 'a', 'fig', NULL),
    (5, 'b', 'kiwi', ','), (6, 'b', 'kiwi', ','), (7, 'c', NULL, ',')`);
  await s.execute(`INSERT INTO app.weather_reports (id, location, time, report) VALUES
    (1, 'oslo', '2024-01-01 08:00:00', 'snow'), (2, 'oslo', '2024-01-02 08:00:00', 'sun'),
    (3, 'rome', '2024-01-01 09:00:00', 'rain'), (4, 'rome', '2023-12-31 09:00:00', 'fog'),
    (5, 'lima', '2024-01-01 10:00:00', 'mist')`);
});
afterAll(() => db.close());

const rows = async (sql: string): Promise<Value[][]> => (await s.query(sql)).rows.map((r: Row) => Object.values(r));

async function failure(sql: string): Promise<KalamError> {
  try {
    await s.query(sql);
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error(`expected '${sql}' to fail`);
}

describe('IS [NOT] DISTINCT FROM (§9.2, Table 9.2)', () => {
  const CASES: [string, boolean][] = [
    ['1 IS DISTINCT FROM NULL', true],
    ['NULL IS DISTINCT FROM NULL', false],
    ['1 IS NOT DISTINCT FROM NULL', false],
    ['NULL IS NOT DISTINCT FROM NULL', true],
    ['1 IS DISTINCT FROM 1', false],
    ['1 IS DISTINCT FROM 2', true],
    // The right operand is a whole expression: 1 + 1 binds tighter than IS DISTINCT FROM.
    ['2 IS NOT DISTINCT FROM 1 + 1', true],
    ["'a' IS DISTINCT FROM 'a' || 'b'", true],
  ];
  for (const [e, want] of CASES) {
    it(`${e} is ${want}`, async () => {
      expect(await rows(`SELECT ${e} AS v`)).toEqual([[want]]);
    });
  }

  it('filters rows with NULL as a value, and joins with AND as a boolean does', async () => {
    expect(await rows(`SELECT id FROM app.words WHERE w IS NOT DISTINCT FROM NULL ORDER BY id`)).toEqual([[3], [7]]);
    expect(await rows(`SELECT id FROM app.words WHERE w IS DISTINCT FROM 'kiwi' AND grp = 'b' ORDER BY id`)).toEqual([]);
    expect(await rows(`SELECT id FROM app.words WHERE sep IS DISTINCT FROM ',' ORDER BY id`)).toEqual([[2], [3], [4]]);
  });

  it('reads a literal as the type of the other side, as = does', async () => {
    expect(await rows(`SELECT i FROM app.s WHERE i IS NOT DISTINCT FROM '7'`)).toEqual([[7]]);
  });

  it('is never NULL', async () => {
    expect(await rows(`SELECT (NULL IS DISTINCT FROM 1) IS NULL AS v`)).toEqual([[false]]);
  });
});

describe('string_agg (§9.21, Table 9.62; ORDER BY inside the call, §4.2.7)', () => {
  it('concatenates the non-null values, each after the first preceded by the delimiter', async () => {
    expect(await rows(`SELECT string_agg(w, ', ' ORDER BY id) FROM app.words WHERE grp = 'a'`)).toEqual([['pear, apple, fig']]);
  });

  it('follows its ORDER BY, ascending or descending', async () => {
    expect(await rows(`SELECT string_agg(w, ',' ORDER BY w) AS v FROM app.words WHERE grp = 'a'`)).toEqual([['apple,fig,pear']]);
    expect(await rows(`SELECT string_agg(w, ',' ORDER BY w DESC) AS v FROM app.words WHERE grp = 'a'`)).toEqual([['pear,fig,apple']]);
  });

  it('is NULL for a group with no non-null value, per group', async () => {
    expect(await rows(`SELECT grp, string_agg(w, '+' ORDER BY id) AS v FROM app.words GROUP BY grp ORDER BY grp`))
      .toEqual([['a', 'pear+apple+fig'], ['b', 'kiwi+kiwi'], ['c', null]]);
  });

  it('takes DISTINCT and FILTER', async () => {
    expect(await rows(`SELECT string_agg(DISTINCT w, ',') AS v FROM app.words WHERE grp = 'b'`)).toEqual([['kiwi']]);
    expect(await rows(`SELECT string_agg(w, ',' ORDER BY id) FILTER (WHERE id > 1) AS v FROM app.words WHERE grp = 'a'`)).toEqual([['apple,fig']]);
  });

  it('two calls differing only in direction are two aggregates', async () => {
    expect(await rows(`SELECT string_agg(w, '' ORDER BY id) AS up, string_agg(w, '' ORDER BY id DESC) AS down FROM app.words WHERE grp = 'a'`))
      .toEqual([['pearapplefig', 'figapplepear']]);
  });

  it('refuses a call without its delimiter', async () => {
    const e = await failure(`SELECT string_agg(w) FROM app.words`);
    expect(e.code).toBe('INVALID_SQL');
    expect(e.message).toContain('string_agg() takes exactly two arguments');
  });

  it('stops at maxTextLength with LIMIT_EXCEEDED', async () => {
    const small = await openDatabase({ storage: 'memory', maxTextLength: 10 });
    try {
      const t = small.session({ user: 'root', role: 'dba' });
      await t.execute(`CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, w TEXT)`);
      await t.execute(`INSERT INTO app.t (id, w) VALUES (1, 'abcd'), (2, 'efgh'), (3, 'ijkl')`);
      expect((await t.query(`SELECT string_agg(w, '') AS v FROM app.t WHERE id < 3`)).rows).toEqual([{ v: 'abcdefgh' }]);
      await expect(t.query(`SELECT string_agg(w, '') AS v FROM app.t`)).rejects.toMatchObject({ code: 'LIMIT_EXCEEDED' });
    } finally {
      await small.close();
    }
  });
});

describe('aggregates with DISTINCT and FILTER together (§4.2.7)', () => {
  it('counts as the documented FILTER example does', async () => {
    // count(*) = 10, count(*) FILTER (WHERE i < 5) = 4 over generate_series(1, 10).
    expect(await rows(`SELECT count(*) AS unfiltered, count(*) FILTER (WHERE i < 5) AS filtered FROM app.s`)).toEqual([[10, 4]]);
  });

  const CASES: [string, Value][] = [
    // i % 3 over i = 1..10 is 1,2,0,1,2,0,1,2,0,1; for i > 4: 2,0,1,2,0,1.
    ['count(DISTINCT i % 3) FILTER (WHERE i > 4)', 3],
    ['sum(DISTINCT i % 3) FILTER (WHERE i > 4)', 3],
    ['sum(DISTINCT i % 3) FILTER (WHERE i > 100)', null],
    ['max(DISTINCT i) FILTER (WHERE i < 5)', 4],
    ['min(DISTINCT i / 4) FILTER (WHERE i >= 4)', 1],
  ];
  for (const [agg, want] of CASES) {
    it(`${agg} = ${String(want)}`, async () => {
      expect(await rows(`SELECT ${agg} AS v FROM app.s`)).toEqual([[want]]);
    });
  }
});

describe('SELECT DISTINCT ON (SELECT, "DISTINCT Clause")', () => {
  it('keeps the first row of each group in ORDER BY order: the most recent report per location', async () => {
    expect(await rows(`SELECT DISTINCT ON (location) location, report FROM app.weather_reports ORDER BY location, time DESC`))
      .toEqual([['lima', 'mist'], ['oslo', 'sun'], ['rome', 'rain']]);
  });

  it('applies LIMIT and OFFSET after choosing the rows', async () => {
    expect(await rows(`SELECT DISTINCT ON (location) report FROM app.weather_reports ORDER BY location DESC, time LIMIT 2`))
      .toEqual([['fog'], ['snow']]);
    expect(await rows(`SELECT DISTINCT ON (location) report FROM app.weather_reports ORDER BY location, time LIMIT 1 OFFSET 1`))
      .toEqual([['snow']]);
  });

  it('takes expressions, and several of them', async () => {
    expect(await rows(`SELECT DISTINCT ON (i % 3) i FROM app.s ORDER BY i % 3, i DESC`)).toEqual([[9], [10], [8]]);
    expect(await rows(`SELECT DISTINCT ON (grp, w) id FROM app.words WHERE grp = 'b' ORDER BY grp, w, id`)).toEqual([[5]]);
  });

  it('refuses an ORDER BY that does not start with the DISTINCT ON expressions, as PostgreSQL does', async () => {
    const e = await failure(`SELECT DISTINCT ON (location) location, report FROM app.weather_reports ORDER BY time`);
    expect(e.code).toBe('INVALID_SQL');
    expect(e.message).toContain('SELECT DISTINCT ON expressions must match initial ORDER BY expressions');
  });

  it('keeps a live query correct (re-run on change)', async () => {
    let latest: readonly Row[] = [];
    const stop = await s.live(`SELECT DISTINCT ON (location) location, report FROM app.weather_reports ORDER BY location, time DESC`, [], (r) => { latest = r; });
    await s.execute(`INSERT INTO app.weather_reports (id, location, time, report) VALUES (6, 'lima', '2025-01-01 00:00:00', 'sun')`);
    await new Promise((r) => setTimeout(r, 50));
    expect(latest.map((r) => r.report)).toEqual(['sun', 'sun', 'rain']);
    stop();
    await s.execute(`DELETE FROM app.weather_reports WHERE id = 6`);
  });
});

describe('UPDATE … SET (columns) = (values) (UPDATE, its documented example)', () => {
  it('sets each column to its value, reading the old row, DEFAULT included', async () => {
    await s.execute(`CREATE SHARED TABLE app.weather (id INT PRIMARY KEY, city TEXT, temp_lo INT, temp_hi INT, prcp DOUBLE DEFAULT 0.5)`);
    await s.execute(`INSERT INTO app.weather (id, city, temp_lo, temp_hi, prcp) VALUES (1, 'San Francisco', 46, 50, 0.25), (2, 'Hayward', 37, 54, NULL)`);
    await s.execute(`UPDATE app.weather SET (temp_lo, temp_hi, prcp) = (temp_lo+1, temp_lo+15, DEFAULT) WHERE city = 'San Francisco'`);
    expect(await rows(`SELECT id, temp_lo, temp_hi, prcp FROM app.weather ORDER BY id`)).toEqual([[1, 47, 61, 0.5], [2, 37, 54, null]]);
  });

  it('mixes with plain assignments, takes ROW (…) and parameters', async () => {
    await s.execute(`UPDATE app.weather SET city = 'Oakland', (temp_lo) = ROW($1) WHERE id = $2`, [40, 2]);
    expect(await rows(`SELECT city, temp_lo FROM app.weather WHERE id = 2`)).toEqual([['Oakland', 40]]);
  });

  it('refuses a count mismatch with PostgreSQL\'s message, and a row subquery whose columns cannot be taken apart as unsupported', async () => {
    await expect(s.execute(`UPDATE app.weather SET (temp_lo, temp_hi) = (1) WHERE id = 1`)).rejects.toMatchObject({ code: 'INVALID_SQL', message: expect.stringContaining('number of columns does not match number of values') });
    await expect(s.execute(`UPDATE app.weather SET (temp_lo, temp_hi) = (SELECT * FROM app.weather) WHERE id = 1`)).rejects.toMatchObject({ code: 'UNSUPPORTED' });
  });
});

describe('boolean input and integer ↔ boolean casts (§8.6, CREATE CAST rules of int4)', () => {
  it('reads every spelling PostgreSQL accepts: true/yes/on/1, false/no/off/0, prefixes, any case, trimmed', async () => {
    expect(await rows(`SELECT 'yes'::boolean, 'ON'::boolean, ' 1 '::boolean, 'tr'::boolean, 'y'::boolean`)).toEqual([[true, true, true, true, true]]);
    expect(await rows(`SELECT 'no'::boolean, 'OFF'::boolean, '0'::boolean, 'fa'::boolean, 'n'::boolean`)).toEqual([[false, false, false, false, false]]);
    expect((await failure(`SELECT 'o'::boolean`)).code).toBe('TYPE_MISMATCH'); // on or off: ambiguous
    expect((await failure(`SELECT 'maybe'::boolean`)).code).toBe('TYPE_MISMATCH');
  });

  it('casts an integer to boolean (0 is false) and a boolean to an integer (true is 1)', async () => {
    expect(await rows(`SELECT 1::boolean, 0::boolean, 7::boolean, true::int, false::int`)).toEqual([[true, false, true, 1, 0]]);
  });
});

describe('timestamps as text (§8.5.2 output, ISO style)', () => {
  it('a TIMESTAMP cast to text or joined with || is its text, not its milliseconds', async () => {
    expect(await rows(`SELECT time::text, 'at ' || time FROM app.weather_reports WHERE id = 1`)).toEqual([['2024-01-01 08:00:00', 'at 2024-01-01 08:00:00']]);
    expect(await rows(`SELECT (TIMESTAMP '2024-01-01 08:00:00.25')::text, ('2024-01-01 08:00:00+02'::timestamptz)::text`)).toEqual([['2024-01-01 08:00:00.25', '2024-01-01 06:00:00+00']]);
    expect(await rows(`SELECT date_trunc('month', time)::text FROM app.weather_reports WHERE id = 4`)).toEqual([['2023-12-01 00:00:00']]);
  });
});

describe('a cast after CAST(…) (§4.2.9)', () => {
  it('CAST(x AS a)::b applies both casts, as (CAST(x AS a))::b does', async () => {
    expect(await rows(`SELECT CAST(time AS TIMESTAMPTZ)::text, CAST('7' AS INT)::text || 'x' FROM app.weather_reports WHERE id = 1`)).toEqual([['2024-01-01 08:00:00+00', '7x']]);
    expect(await rows(`SELECT CAST(CAST('2.5' AS DOUBLE) AS TEXT)::double + 1`)).toEqual([[3.5]]);
  });
});

describe('array subscripts', () => {
  it('are refused with UNSUPPORTED, never read as the array itself', async () => {
    for (const sql of ['SELECT (ARRAY[10, 20])[1]', 'SELECT ARRAY[1, 2][1]', 'SELECT w[1] FROM app.words']) {
      const e = await failure(sql);
      expect([sql, e.code]).toEqual([sql, 'UNSUPPORTED']);
      expect(e.message).toContain('-> n');
    }
  });
});
