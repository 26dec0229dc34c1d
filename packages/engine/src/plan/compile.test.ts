import { beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';

let db: Database;
let s: Session;

beforeAll(async () => {
  db = await openDatabase({ storage: 'memory' });
  s = db.session({ user: 'root', role: 'dba' });
  await s.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.nums (id INT PRIMARY KEY, big BIGINT, x DOUBLE, label TEXT, flag BOOLEAN)`);
  await s.execute(
    `INSERT INTO app.nums (id, big, x, label, flag) VALUES
      (1, 9007199254740993, 1.5, 'alpha', true),
      (2, 10, NULL, NULL, false),
      (3, NULL, -2, 'a.c', NULL)`,
  );
  await s.execute(`CREATE SHARED TABLE app.events (id INT PRIMARY KEY, at_ts TIMESTAMP, doc JSON)`);
  await s.execute(`INSERT INTO app.events (id, at_ts, doc) VALUES
      (1, '2024-06-01T00:00:00Z', '{"a":1,"b":[1,2]}'),
      (2, '2025-01-01T12:00:00Z', '[1,2]'),
      (3, NULL, '"text"')`);
});

/** Evaluates one expression through `SELECT <expr> AS v` with no FROM. */
async function value(expr: string, params?: Value[]): Promise<Value> {
  const r = await s.query(`SELECT ${expr} AS v`, params);
  expect(r.rows).toHaveLength(1);
  return r.rows[0].v;
}

async function errorCode(expr: string, params?: Value[]): Promise<string> {
  try {
    await s.query(`SELECT ${expr} AS v`, params);
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return (e as KalamError).code;
  }
  throw new Error(`expected '${expr}' to fail`);
}

async function ids(where: string, params?: Value[]): Promise<number[]> {
  const r = await s.query(`SELECT id FROM app.nums WHERE ${where} ORDER BY id`, params);
  return r.rows.map((row) => row.id as number);
}

describe('three-valued logic', () => {
  it('AND follows the SQL truth table with NULL', async () => {
    const cases: [string, Value][] = [
      ['true AND true', true], ['true AND false', false], ['false AND false', false],
      ['NULL AND false', false], ['false AND NULL', false],
      ['NULL AND true', null], ['true AND NULL', null], ['NULL AND NULL', null],
    ];
    for (const [e, want] of cases) expect([e, await value(e)]).toEqual([e, want]);
  });

  it('OR follows the SQL truth table with NULL', async () => {
    const cases: [string, Value][] = [
      ['true OR false', true], ['false OR false', false],
      ['NULL OR true', true], ['true OR NULL', true],
      ['NULL OR false', null], ['false OR NULL', null], ['NULL OR NULL', null],
    ];
    for (const [e, want] of cases) expect([e, await value(e)]).toEqual([e, want]);
  });

  it('NOT NULL is NULL and NOT flips booleans', async () => {
    expect(await value('NOT NULL')).toBe(null);
    expect(await value('NOT true')).toBe(false);
    expect(await value('NOT (1 > 2)')).toBe(true);
  });

  it('comparisons with NULL are NULL, even NULL = NULL', async () => {
    for (const e of ['1 = NULL', 'NULL = NULL', 'NULL <> 1', "'a' < NULL", 'NULL >= 0']) {
      expect([e, await value(e)]).toEqual([e, null]);
    }
  });

  it('WHERE keeps only rows whose condition is true, treating NULL as false', async () => {
    expect(await ids('big > 5')).toEqual([1, 2]);
    expect(await ids('NOT (big > 5)')).toEqual([]);
    expect(await ids('flag')).toEqual([1]);
    expect(await ids('NOT flag')).toEqual([2]);
    expect(await ids('flag OR big = 10')).toEqual([1, 2]);
    expect(await ids('label = label')).toEqual([1, 3]);
    expect(await ids('x <> 0 OR NULL')).toEqual([1, 3]);
  });

  it('IS [NOT] NULL is never NULL', async () => {
    expect(await value('NULL IS NULL')).toBe(true);
    expect(await value('1 IS NULL')).toBe(false);
    expect(await value('NULL IS NOT NULL')).toBe(false);
    expect(await ids('x IS NULL')).toEqual([2]);
    expect(await ids('label IS NOT NULL')).toEqual([1, 3]);
    expect(await ids('flag IS NOT TRUE')).toEqual([2, 3]);
    expect(await ids('flag IS FALSE')).toEqual([2]);
  });
});

describe('IN and BETWEEN', () => {
  it('IN is true on a match, NULL when nothing matches but the list holds NULL, false otherwise', async () => {
    expect(await value('1 IN (1, 2)')).toBe(true);
    expect(await value('1 IN (2, 3)')).toBe(false);
    expect(await value('1 IN (2, NULL)')).toBe(null);
    expect(await value('1 IN (1, NULL)')).toBe(true);
    expect(await value('NULL IN (1, 2)')).toBe(null);
  });

  it('NOT IN is NULL when the list holds NULL and nothing matches', async () => {
    expect(await value('1 NOT IN (2, 3)')).toBe(true);
    expect(await value('1 NOT IN (1, 3)')).toBe(false);
    expect(await value('1 NOT IN (2, NULL)')).toBe(null);
    expect(await value('1 NOT IN (1, NULL)')).toBe(false);
    expect(await ids('id NOT IN (2, NULL)')).toEqual([]);
  });

  it('IN uses the same equality as =, so a text parameter matches a number as = does', async () => {
    expect(await value("1 IN ('1')")).toBe(true);
    expect(await ids('id = $1', ['2'])).toEqual([2]);
    expect(await ids('id IN ($1, $2)', ['2', '3'])).toEqual([2, 3]);
    expect(await ids('big IN ($1)', ['10'])).toEqual([2]);
    expect(await value("CASE 1 WHEN '1' THEN 'yes' ELSE 'no' END")).toBe('yes');
    expect(await value("NULLIF(1, '1')")).toBe(null);
  });

  it('IN compares bigint and number values numerically', async () => {
    expect(await ids('big IN (10, 11)')).toEqual([2]);
    expect(await ids('big IN ($1)', [9007199254740993n])).toEqual([1]);
  });

  it('BETWEEN is inclusive at both ends and follows NULL rules', async () => {
    expect(await value('2 BETWEEN 1 AND 3')).toBe(true);
    expect(await value('1 BETWEEN 1 AND 3')).toBe(true);
    expect(await value('3 BETWEEN 1 AND 3')).toBe(true);
    expect(await value('4 BETWEEN 1 AND 3')).toBe(false);
    expect(await value('4 NOT BETWEEN 1 AND 3')).toBe(true);
    expect(await value('NULL BETWEEN 1 AND 3')).toBe(null);
    expect(await value('5 BETWEEN 1 AND NULL')).toBe(null);
    expect(await value('5 BETWEEN 6 AND NULL')).toBe(false);
    expect(await value("'b' BETWEEN 'a' AND 'c'")).toBe(true);
  });

  it('BETWEEN reads text bounds as numbers against a number, as the comparison operators do', async () => {
    expect(await ids('big BETWEEN $1 AND $2', ['5', '15'])).toEqual([2]);
    expect(await ids('id BETWEEN $1 AND $2', ['2', '3'])).toEqual([2, 3]);
  });
});

describe('LIKE and ILIKE', () => {
  it('% matches any run and _ exactly one character', async () => {
    expect(await value("'hello' LIKE 'h%'")).toBe(true);
    expect(await value("'hello' LIKE '%ll%'")).toBe(true);
    expect(await value("'hello' LIKE 'h_llo'")).toBe(true);
    expect(await value("'hello' LIKE 'h_lo'")).toBe(false);
    expect(await value("'hello' LIKE 'hello_'")).toBe(false);
    expect(await value("'' LIKE '%'")).toBe(true);
    expect(await value("'line1\nline2' LIKE 'line1%2'")).toBe(true);
  });

  it('LIKE is case-sensitive and ILIKE is not', async () => {
    expect(await value("'Hello' LIKE 'hello'")).toBe(false);
    expect(await value("'Hello' ILIKE 'hello'")).toBe(true);
    expect(await value("'Hello' NOT ILIKE 'HE%'")).toBe(false);
  });

  it('a backslash escapes % and _ so they match themselves', async () => {
    expect(await value("'100%' LIKE '100\\%'")).toBe(true);
    expect(await value("'1000' LIKE '100\\%'")).toBe(false);
    expect(await value("'a_b' LIKE 'a\\_b'")).toBe(true);
    expect(await value("'axb' LIKE 'a\\_b'")).toBe(false);
  });

  it('regular-expression characters in the pattern match literally', async () => {
    expect(await ids("label LIKE 'a.c'")).toEqual([3]);
    expect(await value("'abc' LIKE 'a.c'")).toBe(false);
    expect(await value("'a+b' LIKE 'a+b'")).toBe(true);
    expect(await value("'aab' LIKE 'a+b'")).toBe(false);
    expect(await value("'(x)[y]{z}^$|?*' LIKE '(x)[y]{z}^$|?*'")).toBe(true);
  });

  it('ESCAPE names another escape character, or none with an empty string', async () => {
    expect(await value("'a%b' LIKE 'a!%b' ESCAPE '!'")).toBe(true);
    expect(await value("'axb' LIKE 'a!%b' ESCAPE '!'")).toBe(false);
    expect(await value("'a_b' ILIKE 'A#_B' ESCAPE '#'")).toBe(true);
    expect(await value("'a%' LIKE $1 ESCAPE '!'", ['a!%'])).toBe(true);
    expect(await value("'a\\b' LIKE 'a\\b' ESCAPE ''")).toBe(true);
    expect(await value("'a\\x' LIKE 'a\\%' ESCAPE ''")).toBe(true);
    expect(await errorCode("'a' LIKE 'a' ESCAPE 'xy'")).toBe('INVALID_SQL');
  });

  it('LIKE with NULL on either side is NULL, and the pattern may be a parameter', async () => {
    expect(await value("NULL LIKE 'a%'")).toBe(null);
    expect(await value("'a' LIKE NULL")).toBe(null);
    expect(await ids('label LIKE $1', ['al%'])).toEqual([1]);
    expect(await ids('label LIKE $1', ['%c'])).toEqual([3]);
  });
});

describe('arithmetic and strings', () => {
  it('computes + - * / % with numbers', async () => {
    expect(await value('1 + 2 * 3')).toBe(7);
    expect(await value('(1 + 2) * 3')).toBe(9);
    expect(await value('7 - 10')).toBe(-3);
    expect(await value('9 / 3')).toBe(3);
    expect(await value('7.5 / 2')).toBe(3.75);
    expect(await value('7 % 3')).toBe(1);
    expect(await value('-(2)')).toBe(-2);
    expect(await value('1 + NULL')).toBe(null);
  });

  it('raises DIVISION_BY_ZERO for / and % by zero', async () => {
    expect(await errorCode('1 / 0')).toBe('DIVISION_BY_ZERO');
    expect(await errorCode('1 % 0')).toBe('DIVISION_BY_ZERO');
    expect(await errorCode('1.5 / 0.0')).toBe('DIVISION_BY_ZERO');
    await expect(s.query('SELECT big / 0 FROM app.nums WHERE id = 2')).rejects.toMatchObject({ code: 'DIVISION_BY_ZERO' });
    expect(await value('NULL / 0')).toBe(null);
  });

  it('raises TYPE_MISMATCH for arithmetic on text that is not a number', async () => {
    expect(await errorCode("'abc' + 1")).toBe('TYPE_MISMATCH');
  });

  it('|| concatenates, converting numbers to text, and is NULL with a NULL side', async () => {
    expect(await value("'a' || 'b' || 'c'")).toBe('abc');
    expect(await value("'n' || 1")).toBe('n1');
    expect(await value("'n' || NULL")).toBe(null);
    const r = await s.query("SELECT label || '-' || id AS v FROM app.nums WHERE id = 1");
    expect(r.rows).toEqual([{ v: 'alpha-1' }]);
  });
});

describe('bigint and number mixing', () => {
  it('keeps BIGINT arithmetic exact above 2^53', async () => {
    const r = await s.query('SELECT big + 1 AS a, big - 1 AS b, big * 2 AS c FROM app.nums WHERE id = 1');
    expect(r.rows).toEqual([{ a: 9007199254740994n, b: 9007199254740992n, c: 18014398509481986n }]);
  });

  it('compares BIGINT columns with number literals and parameters', async () => {
    expect(await ids('big = 10')).toEqual([2]);
    expect(await ids('big > 9007199254740992')).toEqual([1]);
    expect(await ids('big < 100')).toEqual([2]);
    expect(await ids('big = $1', [10])).toEqual([2]);
    expect(await ids('big = $1', [9007199254740993n])).toEqual([1]);
    expect(await ids('big = $1', [9007199254740992n])).toEqual([]);
    expect(await ids('big >= id')).toEqual([1, 2]);
  });

  it('mixes bigint with a fractional number as a double', async () => {
    const r = await s.query('SELECT big + 0.5 AS v FROM app.nums WHERE id = 2');
    expect(r.rows).toEqual([{ v: 10.5 }]);
  });

  it('BIGINT arithmetic that leaves 64 bits is an error, not a wrong value', async () => {
    expect(await value('9223372036854775806 + 1')).toBe(9223372036854775807n);
    // PostgreSQL: ERROR 22003 "bigint out of range" (OUT_OF_RANGE).
    expect(await errorCode('9223372036854775807 + 1')).toBe('OUT_OF_RANGE');
    expect(await errorCode('-9223372036854775807 - 2')).toBe('OUT_OF_RANGE');
    await expect(s.query('SELECT big * big * big * big AS v FROM app.nums WHERE id = 1')).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
  });

  it('integer division of bigints truncates toward zero', async () => {
    const r = await s.query('SELECT big / 3 AS v, big % 3 AS m FROM app.nums WHERE id = 2');
    expect(r.rows).toEqual([{ v: 3n, m: 1n }]);
  });
});

describe('typed comparisons', () => {
  const events = async (where: string, params?: Value[]) =>
    (await s.query(`SELECT id FROM app.events WHERE ${where} ORDER BY id`, params)).rows.map((r) => r.id);

  it('compares a TIMESTAMP column with an ISO date string as a point in time', async () => {
    expect(await events("at_ts > '2024-12-01'")).toEqual([2]);
    expect(await events("at_ts < '2024-12-01T00:00:00Z'")).toEqual([1]);
    expect(await events("'2024-12-01' < at_ts")).toEqual([2]);
    expect(await events("at_ts = '2024-06-01T00:00:00.000Z'")).toEqual([1]);
    expect(await events("at_ts BETWEEN '2024-01-01' AND '2024-12-31'")).toEqual([1]);
    expect(await events("at_ts IN ('2025-01-01T12:00:00Z', '1999-01-01')")).toEqual([2]);
    expect(await events('at_ts >= $1', ['2025-01-01T12:00:00Z'])).toEqual([2]);
  });

  it('compares a TIMESTAMP column with a Date parameter and with milliseconds', async () => {
    expect(await events('at_ts > $1', [new Date('2024-12-01T00:00:00Z') as unknown as Value])).toEqual([2]);
    expect(await events('at_ts = $1', [Date.parse('2024-06-01T00:00:00Z')])).toEqual([1]);
    expect(await events('at_ts < NOW()')).toEqual([1, 2]);
  });

  it('compares a JSON column with JSON text by value', async () => {
    expect(await events(`doc = '{"b":[1,2],"a":1}'`)).toEqual([1]);
    expect(await events("doc = '[1,2]'")).toEqual([2]);
    expect(await events("doc = 'text'")).toEqual([3]);
    expect(await events("doc <> '[1,2]'")).toEqual([1, 3]);
  });
});

describe('CASE, COALESCE and NULLIF', () => {
  it('searched CASE takes the first true branch and skips NULL conditions', async () => {
    expect(await value("CASE WHEN 1 > 2 THEN 'a' WHEN 2 > 1 THEN 'b' ELSE 'c' END")).toBe('b');
    expect(await value("CASE WHEN NULL THEN 'a' ELSE 'c' END")).toBe('c');
    expect(await value("CASE WHEN false THEN 'a' END")).toBe(null);
  });

  it('simple CASE compares the operand with each WHEN, never matching NULL', async () => {
    expect(await value("CASE 2 WHEN 1 THEN 'one' WHEN 2 THEN 'two' END")).toBe('two');
    expect(await value("CASE NULL WHEN NULL THEN 'null' ELSE 'other' END")).toBe('other');
    const r = await s.query("SELECT id, CASE flag WHEN true THEN 'yes' WHEN false THEN 'no' ELSE '?' END AS f FROM app.nums ORDER BY id");
    expect(r.rows.map((row) => row.f)).toEqual(['yes', 'no', '?']);
  });

  it('COALESCE returns the first non-NULL argument', async () => {
    expect(await value('COALESCE(NULL, NULL, 3, 4)')).toBe(3);
    expect(await value('COALESCE(NULL, NULL)')).toBe(null);
    const r = await s.query("SELECT COALESCE(label, 'none') AS l FROM app.nums ORDER BY id");
    expect(r.rows.map((row) => row.l)).toEqual(['alpha', 'none', 'a.c']);
  });

  it('NULLIF returns NULL when both arguments are equal', async () => {
    expect(await value('NULLIF(1, 1)')).toBe(null);
    expect(await value('NULLIF(1, 2)')).toBe(1);
    expect(await value('NULLIF(NULL, 1)')).toBe(null);
    expect(await value("NULLIF('a', NULL)")).toBe('a');
  });
});

describe('scalar functions', () => {
  it('string functions', async () => {
    expect(await value("lower('AbC')")).toBe('abc');
    expect(await value("UPPER('AbC')")).toBe('ABC');
    expect(await value("length('héllo')")).toBe(5);
    expect(await value("trim('  x  ')")).toBe('x');
    expect(await value("ltrim('  x ')")).toBe('x ');
    expect(await value("rtrim(' x  ')")).toBe(' x');
    expect(await value("substring('hello', 2, 3)")).toBe('ell');
    expect(await value("substring('hello', 3)")).toBe('llo');
    expect(await value("replace('a-b-c', '-', '+')")).toBe('a+b+c');
    expect(await value("concat('a', NULL, 'b', 1)")).toBe('ab1');
    expect(await value("left('hello', 2)")).toBe('he');
    expect(await value("right('hello', 2)")).toBe('lo');
    expect(await value("reverse('abc')")).toBe('cba');
    expect(await value("lpad('7', 3, '0')")).toBe('007');
    expect(await value("starts_with('hello', 'he')")).toBe(true);
    expect(await value('upper(NULL)')).toBe(null);
  });

  it('numeric functions', async () => {
    expect(await value('abs(-3)')).toBe(3);
    expect(await value('round(2.5)')).toBe(3);
    expect(await value('round(-2.5)')).toBe(-3);
    expect(await value('round(3.14159, 2)')).toBe(3.14);
    expect(await value('ceil(1.2)')).toBe(2);
    expect(await value('floor(-1.2)')).toBe(-2);
    expect(await value('mod(7, 3)')).toBe(1);
    expect(await value('power(2, 10)')).toBe(1024);
    expect(await value('sqrt(16)')).toBe(4);
    expect(await value('greatest(1, 5, NULL, 3)')).toBe(5);
    expect(await value('least(4, 2, 8)')).toBe(2);
    expect(await errorCode('mod(1, 0)')).toBe('DIVISION_BY_ZERO');
    const r = await s.query('SELECT abs(big) AS a FROM app.nums WHERE id = 1');
    expect(r.rows).toEqual([{ a: 9007199254740993n }]);
  });

  it('an unknown function is UNSUPPORTED, not a crash', async () => {
    expect(await errorCode('no_such_fn(1)')).toBe('UNSUPPORTED');
  });

  it('CURRENT_USER() is the session user', async () => {
    const alice = db.session({ user: 'alice' });
    expect((await alice.query('SELECT CURRENT_USER() AS u')).rows).toEqual([{ u: 'alice' }]);
  });
});

describe('CAST', () => {
  it('converts between text, numbers, booleans and bigint', async () => {
    expect(await value("CAST('42' AS INT)")).toBe(42);
    expect(await value("CAST('9007199254740993' AS BIGINT)")).toBe(9007199254740993n);
    expect(await value('CAST(42 AS TEXT)')).toBe('42');
    expect(await value("CAST('true' AS BOOLEAN)")).toBe(true);
    expect(await value("CAST('1.5' AS DOUBLE)")).toBe(1.5);
    expect(await value('CAST(NULL AS INT)')).toBe(null);
    expect(await value("'7'::INT + 1")).toBe(8);
  });

  it('reads typed literals DATE, TIME and TIMESTAMP', async () => {
    expect(await value("DATE '2024-02-29'")).toBe('2024-02-29');
    expect(await value("TIME '10:30'")).toBe('10:30:00') // PostgreSQL prints a time with its seconds;
    expect(await value("TIMESTAMP '2024-01-01T00:00:00Z'")).toBe(Date.parse('2024-01-01T00:00:00Z'));
    const r = await s.query("SELECT id FROM app.events WHERE at_ts < TIMESTAMP '2024-12-01T00:00:00Z'");
    expect(r.rows).toEqual([{ id: 1 }]);
  });

  it('a CAST that cannot convert is TYPE_MISMATCH', async () => {
    expect(await errorCode("CAST('abc' AS INT)")).toBe('TYPE_MISMATCH');
    expect(await errorCode("CAST('maybe' AS BOOLEAN)")).toBe('TYPE_MISMATCH');
  });
});
