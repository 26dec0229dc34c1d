/**
 * to_char, to_date, to_timestamp(text, fmt) and the special float
 * literals. Expected values are PostgreSQL's, written from its
 * documentation (§9.8 Data Type Formatting Functions, Tables 9.30–9.33 and
 * their examples; §8.1.3 Floating-Point Types), not from kalamlite's
 * output. Examples that depend on a locale (G, D printing a space or a
 * comma) are left out.
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
  await s.execute(`CREATE NAMESPACE app; CREATE SHARED TABLE app.ev (id INT PRIMARY KEY, ts TIMESTAMP, d DATE, n INT, x DOUBLE)`);
  await s.execute(`INSERT INTO app.ev (id, ts, d, n, x) VALUES (1, '2002-04-20 17:31:12.66', '2002-04-20', -485, 148.5)`);
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

const TS = `TIMESTAMP '2002-04-20 17:31:12.66'`;

describe('to_char of a timestamp or date (Table 9.30)', () => {
  const CASES: [string, string][] = [
    [`to_char(${TS}, 'HH12:MI:SS')`, '05:31:12'],
    [`to_char(${TS}, 'YYYY-MM-DD HH24:MI:SS.MS')`, '2002-04-20 17:31:12.660'],
    [`to_char(${TS}, 'yyyy-mm-dd hh24:mi')`, '2002-04-20 17:31'],
    [`to_char(${TS}, 'Day, DD  HH12:MI:SS')`, 'Saturday , 20  05:31:12'],
    [`to_char(${TS}, 'FMDay, FMDD  HH12:MI:SS')`, 'Saturday, 20  05:31:12'],
    [`to_char(${TS}, 'DAY Dy dy MONTH Mon mon')`, 'SATURDAY  Sat sat APRIL     Apr apr'],
    [`to_char(${TS}, 'FMMonth')`, 'April'],
    [`to_char(${TS}, 'HH AM PM a.m.')`, '05 PM PM p.m.'],
    [`to_char(${TS}, 'DDD D ID Q WW W IW IYYY CC YY Y')`, '110 7 6 2 16 3 16 2002 21 02 2'],
    [`to_char(${TS}, 'DDth FMDDTH "of" FMMonth')`, '20th 20TH of April'],
    [`to_char(TIMESTAMP '2024-03-01 00:00:00', 'FMDDth FMDDTH')`, '1st 1ST'],
    [`to_char(TIMESTAMP '2024-03-23 00:00:00', 'FMDDth')`, '23rd'],
    [`to_char(TIMESTAMP '2024-03-12 00:00:00', 'FMDDth')`, '12th'],
    [`to_char(ts, 'YYYY-MM-DD"T"HH24:MI:SS')`, '2002-04-20T17:31:12'],
    [`to_char(d, 'DD/MM/YYYY')`, '20/04/2002'],
    [`to_char(TIMESTAMP '2002-04-20 00:05:00', 'HH12 AM')`, '12 AM'],
  ];
  for (const [e, want] of CASES) {
    it(`${e} = '${want}'`, async () => {
      expect(await value(e)).toBe(want);
    });
  }
});

describe('to_char of a number (Table 9.32, examples of Table 9.33)', () => {
  const CASES: [string, string][] = [
    [`to_char(-0.1, '99.99')`, '  -.10'],
    [`to_char(-0.1, 'FM9.99')`, '-.1'],
    [`to_char(-0.1, 'FM90.99')`, '-0.1'],
    [`to_char(0.1, '0.9')`, ' 0.1'],
    [`to_char(12, '9990999.9')`, '    0012.0'],
    [`to_char(12, 'FM9990999.9')`, '0012.'],
    [`to_char(485, '999')`, ' 485'],
    [`to_char(-485, '999')`, '-485'],
    [`to_char(1485, '9,999')`, ' 1,485'],
    [`to_char(148.5, '999.999')`, ' 148.500'],
    [`to_char(148.5, 'FM999.999')`, '148.5'],
    [`to_char(148.5, 'FM999.990')`, '148.500'],
    [`to_char(-485, '999S')`, '485-'],
    [`to_char(-485, '999MI')`, '485-'],
    [`to_char(485, '999MI')`, '485 '],
    [`to_char(485, 'FM999MI')`, '485'],
    [`to_char(485, 'PL999')`, '+485'],
    [`to_char(n, '999')`, '-485'],
    [`to_char(x, 'FM999.9')`, '148.5'],
    [`to_char(12345, '999')`, ' ###'],
  ];
  for (const [e, want] of CASES) {
    it(`${e} = '${want}'`, async () => {
      expect(await value(e)).toBe(want);
    });
  }
});

describe('to_date and to_timestamp(text, fmt) (Table 9.30)', () => {
  it('reads the documented examples', async () => {
    expect(await value(`to_date('05 Dec 2000', 'DD Mon YYYY')`)).toBe('2000-12-05');
    expect(await value(`to_timestamp('05 Dec 2000', 'DD Mon YYYY')`)).toBe(Date.UTC(2000, 11, 5));
  });

  it('reads times, AM/PM, month names and milliseconds', async () => {
    expect(await value(`to_timestamp('2024-03-05 07:08:09.250 PM', 'YYYY-MM-DD HH12:MI:SS.MS AM')`)).toBe(Date.UTC(2024, 2, 5, 19, 8, 9, 250));
    expect(await value(`to_timestamp('March 5, 2024 23:59', 'Month DD, YYYY HH24:MI')`)).toBe(Date.UTC(2024, 2, 5, 23, 59));
    expect(await value(`to_date('20240229', 'YYYYMMDD')`)).toBe('2024-02-29');
  });

  it('to_timestamp of a number is seconds since the epoch', async () => {
    expect(await value(`to_timestamp(1284352323)`)).toBe(1284352323000);
  });

  it('refuses a day the month does not have', async () => {
    const e = await failure(`to_date('2023-02-29', 'YYYY-MM-DD')`);
    expect(e.code).toBe('OUT_OF_RANGE');
    expect(e.message).toContain('date/time field value out of range');
  });

  it('refuses text that does not match the template, saying where', async () => {
    const e = await failure(`to_date('2024-xx-01', 'YYYY-MM-DD')`);
    expect([e.code, e.message]).toEqual(['INVALID_PARAMETER', expect.stringContaining("expected a month at 'xx-01'")]);
  });
});

describe('an unknown pattern is an error naming the supported ones', () => {
  for (const e of [`to_char(${TS}, 'YYYY-MM-DDX')`, `to_date('2024', 'YYYYMx')`, `to_char(1, '9X9')`]) {
    it(e, async () => {
      const err = await failure(e);
      expect(err.code).toBe('INVALID_PARAMETER');
      expect(err.message).toMatch(/is not a (date\/time|numeric template) pattern/);
    });
  }
});

describe("'NaN', 'Infinity', '-Infinity' (§8.1.3)", () => {
  it('read as the special values, in any case', async () => {
    expect(await value(`'NaN'::float8`)).toBeNaN();
    expect(await value(`'Infinity'::double precision`)).toBe(Number.POSITIVE_INFINITY);
    expect(await value(`'-Infinity'::float8`)).toBe(Number.NEGATIVE_INFINITY);
    expect(await value(`'inf'::real`)).toBe(Number.POSITIVE_INFINITY);
    expect(await value(`CAST('-infinity' AS DOUBLE)`)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('compare as PostgreSQL orders them: NaN equals NaN and is above every other value', async () => {
    expect(await value(`'NaN'::float8 = 'NaN'::float8`)).toBe(true);
    expect(await value(`'NaN'::float8 > 'Infinity'::float8`)).toBe(true);
    expect(await value(`'Infinity'::float8 > 1e308`)).toBe(true);
    expect(await value(`'-Infinity'::float8 < -1e308`)).toBe(true);
  });
});
