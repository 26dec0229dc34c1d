/**
 * EXTRACT / date_part, date_trunc, make_date / make_time / make_timestamp,
 * CURRENT_DATE and friends, TIME's text form, casts to TIME, and bytea
 * input and output. Expected values are PostgreSQL's, written from its
 * documentation (§9.9 Date/Time Functions and Operators, Table 9.33 and
 * §9.9.1–9.9.2 examples; §8.5.1.2 Times; §8.4 Binary Data Types), not from
 * kalamlite's output. TIMESTAMP is UTC here, so PostgreSQL's `timestamp`
 * (without time zone) examples hold as written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';

let db: Database;
let s: Session;

beforeAll(async () => {
  db = await openDatabase({ storage: 'memory' });
  s = db.session({ user: 'root', role: 'dba' });
  await s.execute(`CREATE NAMESPACE app; CREATE SHARED TABLE app.ev (id INT PRIMARY KEY, ts TIMESTAMP, d DATE, t TIME, b BYTES)`);
  await s.execute(`INSERT INTO app.ev (id, ts, d, t) VALUES (1, '2001-02-16 20:38:40', '2006-01-01', '17:12:28.5')`);
});
afterAll(() => db.close());

async function value(expr: string): Promise<Value> {
  return (await s.query(`SELECT ${expr} AS v FROM app.ev WHERE id = 1`)).rows[0].v;
}

async function failure(expr: string): Promise<KalamError> {
  try {
    await value(expr);
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error(`expected '${expr}' to fail`);
}

const TS = `TIMESTAMP '2001-02-16 20:38:40'`;
const ms = (text: string) => Date.parse(`${text}Z`);

describe('EXTRACT and date_part (§9.9.1)', () => {
  const CASES: [string, number][] = [
    [`EXTRACT(CENTURY FROM TIMESTAMP '2000-12-16 12:21:13')`, 20],
    [`EXTRACT(CENTURY FROM ${TS})`, 21],
    [`EXTRACT(DAY FROM ${TS})`, 16],
    [`EXTRACT(DECADE FROM ${TS})`, 200],
    [`EXTRACT(DOW FROM ${TS})`, 5],
    [`EXTRACT(DOY FROM ${TS})`, 47],
    [`EXTRACT(EPOCH FROM TIMESTAMP '2001-02-16 20:38:40.12')`, 982355920.12],
    [`EXTRACT(HOUR FROM ${TS})`, 20],
    [`EXTRACT(ISODOW FROM TIMESTAMP '2001-02-18 20:38:40')`, 7],
    [`EXTRACT(ISOYEAR FROM DATE '2006-01-01')`, 2005],
    [`EXTRACT(ISOYEAR FROM DATE '2006-01-02')`, 2006],
    // JULIAN through date_part: the SQL grammar takes a fixed list of EXTRACT fields, without it.
    [`date_part('julian', DATE '2006-01-01')`, 2453737],
    [`date_part('julian', TIMESTAMP '2006-01-01 12:00')`, 2453737.5],
    [`EXTRACT(MICROSECONDS FROM TIME '17:12:28.5')`, 28500000],
    [`EXTRACT(MILLENNIUM FROM ${TS})`, 3],
    [`EXTRACT(MILLISECONDS FROM TIME '17:12:28.5')`, 28500],
    [`EXTRACT(MINUTE FROM ${TS})`, 38],
    [`EXTRACT(MONTH FROM ${TS})`, 2],
    [`EXTRACT(QUARTER FROM ${TS})`, 1],
    [`EXTRACT(SECOND FROM ${TS})`, 40],
    [`EXTRACT(SECOND FROM TIME '17:12:28.5')`, 28.5],
    [`EXTRACT(WEEK FROM ${TS})`, 7],
    [`EXTRACT(YEAR FROM ${TS})`, 2001],
    [`date_part('hour', ${TS})`, 20],
    [`date_part('day', ${TS})`, 16],
    // Columns, not only literals: a TIMESTAMP, a DATE and a TIME column.
    [`EXTRACT(year FROM ts)`, 2001],
    [`EXTRACT(isoyear FROM d)`, 2005],
    [`EXTRACT(second FROM t)`, 28.5],
    [`date_part('epoch', t)`, 61948.5],
  ];
  for (const [expr, expected] of CASES) {
    it(expr, async () => expect(await value(expr)).toBe(expected));
  }

  it('is NULL for NULL, and refuses a unit it does not know or a value that is no date/time', async () => {
    expect(await value(`date_part('year', NULL)`)).toBeNull();
    expect((await failure(`date_part('fortnight', ${TS})`)).code).toBe('INVALID_PARAMETER');
    expect((await failure(`date_part('day', TIME '10:00')`)).message).toContain('unit "day" not recognized for type time');
    expect((await failure(`date_part('year', 'soon')`)).code).toBe('TYPE_MISMATCH');
  });
});

describe('date_trunc (§9.9.2)', () => {
  const CASES: [string, string][] = [
    [`date_trunc('hour', ${TS})`, '2001-02-16 20:00:00'],
    [`date_trunc('year', ${TS})`, '2001-01-01 00:00:00'],
    [`date_trunc('month', ${TS})`, '2001-02-01 00:00:00'],
    [`date_trunc('quarter', TIMESTAMP '2001-05-16 20:38:40')`, '2001-04-01 00:00:00'],
    [`date_trunc('week', ${TS})`, '2001-02-12 00:00:00'], // ISO weeks start on Monday
    [`date_trunc('day', ${TS})`, '2001-02-16 00:00:00'],
    [`date_trunc('minute', ${TS})`, '2001-02-16 20:38:00'],
    [`date_trunc('decade', ${TS})`, '2000-01-01 00:00:00'],
    [`date_trunc('century', ${TS})`, '2001-01-01 00:00:00'],
    [`date_trunc('millennium', TIMESTAMP '2000-12-31 23:59:59')`, '1001-01-01 00:00:00'],
    [`date_trunc('month', d)`, '2006-01-01 00:00:00'],
  ];
  for (const [expr, expected] of CASES) {
    it(expr, async () => expect(await value(expr)).toBe(ms(expected)));
  }

  it('gives a timestamp that formats and compares as one', async () => {
    expect(await value(`to_char(date_trunc('month', ts), 'YYYY-MM-DD HH24:MI')`)).toBe('2001-02-01 00:00');
    const grouped = await s.query(`SELECT date_trunc('year', ts) AS y, count(*) AS n FROM app.ev GROUP BY date_trunc('year', ts)`);
    expect(grouped.rows).toEqual([{ y: ms('2001-01-01 00:00:00'), n: 1 }]);
  });
});

describe('make_date, make_time, make_timestamp (Table 9.33)', () => {
  it('builds each from its fields', async () => {
    expect(await value('make_date(2013, 7, 15)')).toBe('2013-07-15');
    expect(await value('make_time(8, 15, 23.5)')).toBe('08:15:23.5');
    expect(await value('make_time(8, 15, 23.123456)')).toBe('08:15:23.123456');
    expect(await value('make_timestamp(2013, 7, 15, 8, 15, 23.5)')).toBe(ms('2013-07-15 08:15:23.5'));
    expect(await value('make_date(2024, 2, 29)')).toBe('2024-02-29');
  });

  it('refuses a field out of range, as PostgreSQL does', async () => {
    const e = await failure('make_date(2023, 2, 29)');
    expect(e.code).toBe('OUT_OF_RANGE');
    expect(e.message).toContain('date/time field value out of range: 2023-02-29');
    expect((await failure('make_time(24, 0, 0)')).code).toBe('OUT_OF_RANGE');
    expect((await failure('make_date(2024, 1.5, 1)')).code).toBe('INVALID_PARAMETER');
  });
});

describe('CURRENT_DATE, CURRENT_TIME, LOCALTIMESTAMP', () => {
  it('read the statement time, as now() does', async () => {
    const before = Date.now();
    const row = (await s.query('SELECT current_date AS d, current_time AS t, localtimestamp AS l, now() AS n')).rows[0];
    expect(row.l).toBe(row.n);
    expect(row.d).toBe(new Date(row.n as number).toISOString().slice(0, 10));
    expect(row.t).toMatch(/^\d{2}:\d{2}:\d{2}(\.\d+)?$/);
    expect(row.n as number).toBeGreaterThanOrEqual(before);
  });
});

describe('TIME (§8.5.1.2)', () => {
  it('prints as PostgreSQL prints a time: seconds always, the fraction without trailing zeros', async () => {
    expect(await value(`time '10:23'`)).toBe('10:23:00');
    expect(await value(`TIME '04:05:06.789'`)).toBe('04:05:06.789');
    expect(await value(`'10:23:00.500'::time`)).toBe('10:23:00.5');
    expect(await value('t')).toBe('17:12:28.5');
  });

  it('is cast from a timestamp or a date-time text (its time of day), and not from a bare date', async () => {
    expect(await value('CAST(ts AS TIME)')).toBe('20:38:40');
    expect(await value(`'2001-02-16 04:05:06'::time`)).toBe('04:05:06');
    expect((await failure(`'2001-02-16'::time`)).code).toBe('TYPE_MISMATCH');
  });

  it('stores what it prints, so equal times compare equal however they were written', async () => {
    await s.execute(`UPDATE app.ev SET t = '09:30' WHERE id = 1`);
    expect((await s.query(`SELECT id FROM app.ev WHERE t = '09:30:00'`)).rows).toEqual([{ id: 1 }]);
    await s.execute(`UPDATE app.ev SET t = '17:12:28.5' WHERE id = 1`);
  });
});

describe('bytea input and output (§8.4)', () => {
  it("reads '\\x' hex and plain text, and prints bytes in hex format as text", async () => {
    expect(await value(`'\\xDEADBEEF'::bytea`)).toEqual(new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
    expect(await value(`'\\xDEADBEEF'::bytea::text`)).toBe('\\xdeadbeef');
    expect(await value(`'abc klm *'::bytea::text`)).toBe('\\x616263206b6c6d202a');
  });

  it('stores hex text written into a BYTES column, and refuses malformed input', async () => {
    await s.execute(`UPDATE app.ev SET b = '\\x0102ff' WHERE id = 1`);
    expect(await value('b')).toEqual(new Uint8Array([1, 2, 255]));
    expect((await failure(`'\\x123'::bytea`)).message).toContain('invalid input syntax for type bytea');
    expect((await failure(`'\\xzz'::bytea`)).code).toBe('TYPE_MISMATCH');
    expect((await failure(`'a\\153b'::bytea`)).code).toBe('TYPE_MISMATCH'); // the escape format is not read
  });
});
