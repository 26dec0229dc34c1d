/**
 * Numbers and type checks as PostgreSQL has them. Every expected value is
 * taken from PostgreSQL's documentation: §9.3 "Mathematical Functions and
 * Operators" (Table 9.4: "/ … for integral types, division truncates the
 * result towards zero", "% … remainder"; Table 9.5 round: "for numeric, ties
 * are broken by rounding away from zero… for double precision … round to
 * nearest even is the most common rule"), §8.1 "Numeric Types" (8.1.1:
 * values outside an integer type's range are an error; 8.1.3: 'NaN',
 * 'Infinity', '-Infinity' inputs, NaN equal to NaN and greater than every
 * other value; float → integer casts round), §4.1.2.6 (an integer literal is
 * integer if it fits, else bigint, else numeric; one with a point or an
 * exponent is numeric), §10.2/10.3 (an untyped literal compared with a column
 * takes the column's type: its input function must accept it).
 */
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
    CREATE SHARED TABLE app.t (id INT PRIMARY KEY, n INT, sm SMALLINT, b BIGINT, d DOUBLE, r FLOAT, dec DECIMAL, ok BOOLEAN, label TEXT)`);
  await s.execute(`INSERT INTO app.t (id, n, sm, b, d, r, dec, ok, label) VALUES
    (1, 7, 7, 7, 7, 7, 7, true, 'seven'),
    (2, -7, -7, -7, -7.5, 2.5, 2.5, false, 'minus seven'),
    (3, 2147483647, 32767, 9223372036854775807, 1e308, 1, 1, NULL, NULL),
    (4, -2147483648, -32768, -9223372036854775808, 1e-300, 0, 0, NULL, NULL)`);
});

async function value(expr: string, params?: Value[], where = 'id = 1'): Promise<Value> {
  const r = await s.query(`SELECT ${expr} AS v FROM app.t WHERE ${where}`, params);
  expect(r.rows).toHaveLength(1);
  return r.rows[0].v;
}

async function failure(expr: string, params?: Value[], where = 'id = 1'): Promise<KalamError> {
  try {
    await s.query(`SELECT ${expr} AS v FROM app.t WHERE ${where}`, params);
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error(`expected '${expr}' to fail`);
}

const num = (v: Value) => (typeof v === 'bigint' ? Number(v) : v);

describe('integer arithmetic (PostgreSQL Table 9.4)', () => {
  const cases: [string, number][] = [
    ['5 / 2', 2], ['(-5) / 2', -2], ['5 / (-2)', -2], ['7 / 7', 1], ['1 / 3', 0],
    ['5 % 4', 1], ['(-7) % 3', -1], ['7 % (-3)', 1], ['(-7) % (-3)', -1],
    ['2 + 3', 5], ['2 - 3', -1], ['2 * 3', 6],
    // columns: n = 7 (INT), sm = 7 (SMALLINT), b = 7 (BIGINT)
    ['n / 2', 3], ['n % 2', 1], ['sm / 2', 3], ['b / 2', 3], ['n / b', 1], ['sm * n', 49], ['-n / 2', -3],
    ['n / 2 * 2', 6], ['(n + 1) / 3', 2],
    // an integer-valued aggregate, COUNT and abs() stay integers
    ['abs(n) / 2', 3],
  ];
  for (const [e, want] of cases) {
    it(`${e} = ${want}`, async () => expect(num(await value(e))).toBe(want));
  }

  it('truncates toward zero on negative columns (n = -7)', async () => {
    expect(await value('n / 2', [], 'id = 2')).toBe(-3);
    expect(await value('n % 2', [], 'id = 2')).toBe(-1);
    expect(await value('b / 2', [], 'id = 2')).toBe(-3n);
  });

  it('an integer result stays a number for INT and a bigint for BIGINT', async () => {
    expect(await value('n / 2')).toBe(3);
    expect(await value('b / 2')).toBe(3n);
  });

  it('an aggregate over integers divides as an integer', async () => {
    const r = await s.query('SELECT COUNT(*) / 3 AS c FROM app.t');
    expect(num(r.rows[0].c)).toBe(1);
  });
});

describe('mixed integer and floating point (numeric / double precision)', () => {
  // dec is DECIMAL: exact, at PostgreSQL's division scale (5.0 / 2 → 2.5000000000000000 in its Table 9.4).
  const cases: [string, number | string][] = [
    ['5.0 / 2', 2.5], ['5 / 2.0', 2.5], ['7.0 / 2', 3.5], ['1e1 / 4', 2.5],
    ['n * 1.0 / 2', 3.5], ['n / 2.0', 3.5], ['d / 2', 3.5], ['r / 2', 3.5], ['dec / 2', '3.5000000000000000'],
    ['CAST(n AS DOUBLE) / 2', 3.5], ['n::DOUBLE / 2', 3.5], ['d / n', 1], ['b / 2.0', 3.5],
    ['5.5 % 2', 1.5],
  ];
  for (const [e, want] of cases) {
    it(`${e} = ${want}`, async () => expect(await value(e)).toBe(want));
  }

  it('a literal written 7.0 and one written 7 do not share a plan', async () => {
    expect(await value('7 / 2')).toBe(3);
    expect(await value('7.0 / 2')).toBe(3.5);
    expect(await value('7 / 2')).toBe(3);
  });

  it('a derived table, CTE or view keeps the float type of its arithmetic', async () => {
    const q = async (sql: string) => (await s.query(sql)).rows[0].v;
    expect(await q('SELECT x / 2 AS v FROM (SELECT n * 1.0 AS x FROM app.t WHERE id = 1) q')).toBe(3.5);
    expect(await q('WITH c AS (SELECT d + 0 AS x FROM app.t WHERE id = 1) SELECT x / 2 AS v FROM c')).toBe(3.5);
    expect(await q('SELECT x / 2 AS v FROM (SELECT n + 0 AS x FROM app.t WHERE id = 1) q')).toBe(3);
    await s.execute('CREATE VIEW app.halves AS SELECT id, n * 1.0 AS x FROM app.t');
    expect(await q('SELECT x / 2 AS v FROM app.halves WHERE id = 1')).toBe(3.5);
    const r = await s.query('SELECT n * 1.0 AS a, n / 2 AS b FROM app.t WHERE id = 1');
    expect(r.columns.map((c) => c.type)).toEqual(['DECIMAL', 'UNKNOWN']);
  });

  it('an integral parameter counts as an integer, a fractional one as a number', async () => {
    expect(await value('n / $1', [2])).toBe(3);
    expect(await value('n / $1', [2.0])).toBe(3);
    expect(await value('n / $1', [0.5])).toBe(14);
    expect(await value('$1 / $2', [7, 2])).toBe(3);
    expect(await value('$1 / $2', [7n, 2])).toBe(3n);
  });
});

describe('division by zero and out of range are errors', () => {
  const errors: [string, string, string][] = [
    ['1 / 0', 'DIVISION_BY_ZERO', 'Division by zero'],
    ['n / 0', 'DIVISION_BY_ZERO', 'Division by zero'],
    ['5 % 0', 'DIVISION_BY_ZERO', 'Division by zero'],
    ['d / 0', 'DIVISION_BY_ZERO', 'Division by zero'],
    ['1.5 / 0.0', 'DIVISION_BY_ZERO', 'Division by zero'],
    ['2147483647 + 1', 'OUT_OF_RANGE', 'integer out of range'],
    ['(-2147483647) - 2', 'OUT_OF_RANGE', 'integer out of range'],
    ['65536 * 65536', 'OUT_OF_RANGE', 'integer out of range'],
    ['n * 1000000000', 'OUT_OF_RANGE', 'integer out of range'],
    ['sm * sm * sm * sm * sm * sm', 'OUT_OF_RANGE', 'smallint out of range'],
    ['b * 9223372036854775807', 'OUT_OF_RANGE', 'bigint out of range'],
    ['-((-2147483648)::INT)', 'OUT_OF_RANGE', 'integer out of range'],
    ['(-2147483648)::INT / (-1)', 'OUT_OF_RANGE', 'integer out of range'],
    ['1e308::DOUBLE * 10', 'OUT_OF_RANGE', 'value out of range: overflow'],
    ['1e-300::DOUBLE * 1e-300::DOUBLE', 'OUT_OF_RANGE', 'value out of range: underflow'],
  ];
  for (const [e, code, words] of errors) {
    it(`${e} → ${code}`, async () => {
      const err = await failure(e);
      expect(err.code).toBe(code);
      expect(err.message).toContain(words);
    });
  }

  it('on column values at the edge of their type', async () => {
    expect((await failure('n + 1', [], 'id = 3')).message).toContain('integer out of range');
    expect((await failure('sm + sm', [], 'id = 3')).message).toContain('smallint out of range');
    expect(await value('sm + 1', [], 'id = 3')).toBe(32768); // smallint + integer is integer
    expect((await failure('b + 1', [], 'id = 3')).message).toContain('bigint out of range');
    expect((await failure('-n', [], 'id = 4')).message).toContain('integer out of range');
    expect((await failure('d * 10', [], 'id = 3')).message).toContain('overflow');
  });

  it('a wider operand widens the result: integer + bigint is bigint', async () => {
    expect(await value('n + 1::BIGINT', [], 'id = 3')).toBe(2147483648n);
    expect(await value('2147483647 + 1::BIGINT')).toBe(2147483648n);
    expect(await value('n::BIGINT * 2', [], 'id = 3')).toBe(4294967294n);
  });
});

describe('floating point values (PostgreSQL 8.1.3)', () => {
  it("'NaN', 'Infinity' and '-Infinity' cast to float", async () => {
    expect(await value("'NaN'::DOUBLE")).toBeNaN();
    expect(await value("CAST('nan' AS DOUBLE)")).toBeNaN();
    expect(await value("'Infinity'::DOUBLE")).toBe(Infinity);
    expect(await value("'-Infinity'::DOUBLE")).toBe(-Infinity);
    expect(await value("'inf'::FLOAT")).toBe(Infinity);
    expect(await value("'Infinity'::DOUBLE - 'Infinity'::DOUBLE")).toBeNaN();
  });

  it('NaN equals NaN and sorts above every other value', async () => {
    expect(await value("'NaN'::DOUBLE = 'NaN'::DOUBLE")).toBe(true);
    expect(await value("'NaN'::DOUBLE > 'Infinity'::DOUBLE")).toBe(true);
    expect(await value("d < 'NaN'")).toBe(true);
    const r = await s.query("SELECT x FROM (SELECT 'NaN'::DOUBLE AS x UNION ALL SELECT 1::DOUBLE UNION ALL SELECT 'Infinity'::DOUBLE) q ORDER BY x");
    expect(r.rows.map((row) => row.x)).toEqual([1, Infinity, NaN]);
  });

  it('NaN is not stored in a column: TYPE_MISMATCH saying to use NULL', async () => {
    await expect(s.execute("INSERT INTO app.t (id, d) VALUES (9, 'NaN')")).rejects.toMatchObject({ code: 'TYPE_MISMATCH', message: expect.stringContaining('use NULL') });
  });

  it('round(double precision) rounds half to even; round(numeric) half away from zero', async () => {
    const cases: [string, number][] = [
      ['round(2.5::DOUBLE)', 2], ['round(3.5::DOUBLE)', 4], ['round(-2.5::DOUBLE)', -2], ['round(4.5::DOUBLE)', 4],
      ['round(2.4::DOUBLE)', 2], ['round(d)', 7],
      ['round(2.5)', 3], ['round(-2.5)', -3], ['round(4.5)', 5], ['round(42.4382)', 42],
    ];
    for (const [e, want] of cases) expect([e, await value(e)]).toEqual([e, want]);
    expect(await value('round(d)', [], 'id = 2')).toBe(-8); // -7.5 → -8 (even)
  });
});

describe('casts to integer types', () => {
  it('numeric → integer rounds half away from zero; double precision → integer half to even', async () => {
    expect(await value('2.5::INT')).toBe(3);
    expect(await value('(-2.5)::INT')).toBe(-3);
    expect(await value('2.5::DOUBLE::INT')).toBe(2);
    expect(await value('3.5::DOUBLE::INT')).toBe(4);
    expect(await value('r::INT', [], 'id = 2')).toBe(2); // FLOAT 2.5
    expect(await value('dec::INT', [], 'id = 2')).toBe(3); // DECIMAL 2.5
  });

  it("text must be a whole number: '2.5'::INT is invalid input", async () => {
    const err = await failure("'2.5'::INT");
    expect(err.code).toBe('TYPE_MISMATCH');
    expect(err.message).toContain('invalid input syntax for type integer: "2.5"');
    expect(await value("' 42 '::INT")).toBe(42);
    expect(await value("'42'::BIGINT")).toBe(42n);
    expect((await failure("'40000'::SMALLINT")).code).toBe('OUT_OF_RANGE');
  });
});

describe('comparing a typed column with text (PostgreSQL 10.2: the literal takes the column type)', () => {
  const rows = async (where: string, params?: Value[]) =>
    (await s.query(`SELECT id FROM app.t WHERE ${where} ORDER BY id`, params)).rows.map((r) => r.id);

  it('text that casts cleanly compares as the column type', async () => {
    expect(await rows("n = '7'")).toEqual([1]);
    expect(await rows("n > '0'")).toEqual([1, 3]);
    expect(await rows("b = '7'")).toEqual([1]);
    expect(await rows("d = '7'")).toEqual([1]);
    expect(await rows("ok = 'true'")).toEqual([1]);
    expect(await rows("ok = 'f'")).toEqual([2]);
    expect(await rows("n IN ('7', '-7')")).toEqual([1, 2]);
    expect(await rows("n BETWEEN '0' AND '10'")).toEqual([1]);
    expect(await rows('n = $1', ['7'])).toEqual([1]);
  });

  const errors: [string, Value[] | undefined, string][] = [
    ["n = 'abc'", undefined, 'invalid input syntax for type integer: "abc"'],
    ["'abc' = n", undefined, 'invalid input syntax for type integer: "abc"'],
    ["n = '7.5'", undefined, 'invalid input syntax for type integer: "7.5"'],
    ["sm < 'x'", undefined, 'invalid input syntax for type smallint: "x"'],
    ["b = 'x'", undefined, 'invalid input syntax for type bigint: "x"'],
    ["d = 'abc'", undefined, 'invalid input syntax for type double precision: "abc"'],
    ["ok = 'maybe'", undefined, 'invalid input syntax for type boolean: "maybe"'],
    ["n IN ('7', 'x')", undefined, 'invalid input syntax for type integer: "x"'],
    ["n BETWEEN 'a' AND '9'", undefined, 'invalid input syntax for type integer: "a"'],
    ['n = $1', ['abc'], 'invalid input syntax for type integer: "abc"'],
  ];
  for (const [where, params, words] of errors) {
    it(`${where}${params ? ` with ${JSON.stringify(params)}` : ''} is TYPE_MISMATCH`, async () => {
      await expect(rows(where, params)).rejects.toMatchObject({ code: 'TYPE_MISMATCH', message: expect.stringContaining(words) });
    });
  }

  it('text past the integer type is OUT_OF_RANGE', async () => {
    await expect(rows("n = '99999999999'")).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
  });

  it('a text column compared with a number column is unchanged (no literal to read)', async () => {
    expect(await rows("label = 'seven'")).toEqual([1]);
  });
});

describe('|| on two non-text values', () => {
  it('2 || 3 is "operator does not exist" (TYPE_MISMATCH); text || number concatenates', async () => {
    const err = await failure('2 || 3');
    expect(err.code).toBe('TYPE_MISMATCH');
    expect(err.message).toContain('operator does not exist: integer || integer');
    expect((await failure('n || d')).message).toContain('operator does not exist: integer || double precision');
    expect(await value("'a' || 2")).toBe('a2');
    expect(await value("2 || 'a'")).toBe('2a');
    expect(await value("label || n")).toBe('seven7');
  });
});
