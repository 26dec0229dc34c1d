// INTERVAL through SQL and across the API, with PostgreSQL's documented
// results (§8.5.4, §9.9 Tables 9.33/9.34): values cross the API as their
// text in IntervalStyle postgres, as DECIMAL crosses as its text.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { Interval } from '../core/interval';
import { decodeFromBytes, encodeToBytes } from '../storage/value-codec';
import { openDatabase } from './database';
import type { Session } from './database';
import type { Value } from '../core/types';

const SCHEMA = `CREATE NAMESPACE app;
  CREATE SHARED TABLE app.shifts (id INT PRIMARY KEY, started TIMESTAMP, ended TIMESTAMP, day DATE, pause INTERVAL)`;

async function withDb(run: (s: Session) => Promise<void>): Promise<void> {
  const db = await openDatabase({ name: 'interval', storage: 'memory' });
  try {
    const s = db.session({ user: 'root', role: 'system' });
    await s.execute(SCHEMA);
    await s.execute(`INSERT INTO app.shifts (id, started, ended, day, pause) VALUES
      (1, '2024-01-31 09:00', '2024-01-31 17:30', '2024-01-31', '30 minutes'),
      (2, '2024-02-01 22:00', '2024-02-02 06:15', '2024-02-01', '1 hour'),
      (3, '2024-02-02 08:00', '2024-02-03 10:00', '2024-02-02', '60 minutes'),
      (4, NULL, NULL, NULL, NULL)`);
    await run(s);
  } finally {
    await db.close();
  }
}

const one = async (s: Session, sql: string, params?: Value[]) => (await s.query(sql, params)).rows[0];

describe('INTERVAL', () => {
  it('reads every literal form and prints PostgreSQL text (Table 9.33 examples)', async () => {
    await withDb(async (s) => {
      const cases: [string, unknown][] = [
        [`SELECT INTERVAL '1 day 2 hours' AS v`, '1 day 02:00:00'],
        [`SELECT INTERVAL '3' DAY AS v`, '3 days'],
        [`SELECT '1 hour'::interval AS v`, '01:00:00'],
        [`SELECT CAST('P1Y2M3DT4H5M6S' AS INTERVAL) AS v`, '1 year 2 mons 3 days 04:05:06'],
        [`SELECT INTERVAL '1 day' + INTERVAL '1 hour' AS v`, '1 day 01:00:00'],
        [`SELECT - INTERVAL '23 hours' AS v`, '-23:00:00'],
        [`SELECT INTERVAL '1 day' - INTERVAL '1 hour' AS v`, '1 day -01:00:00'],
        [`SELECT INTERVAL '1 second' * 900 AS v`, '00:15:00'],
        [`SELECT 21 * INTERVAL '1 day' AS v`, '21 days'],
        [`SELECT 3.5 * INTERVAL '1 hour' AS v`, '03:30:00'],
        [`SELECT INTERVAL '1 hour' / 1.5 AS v`, '00:40:00'],
        [`SELECT TIMESTAMP '2001-09-29 03:00' - TIMESTAMP '2001-07-27 12:00' AS v`, '63 days 15:00:00'],
        [`SELECT TIMESTAMP '2001-09-28 01:00' + INTERVAL '23 hours' AS v`, Date.UTC(2001, 8, 29)],
        [`SELECT DATE '2001-09-28' + INTERVAL '1 hour' AS v`, Date.UTC(2001, 8, 28, 1)],
        [`SELECT DATE '2001-09-28' - INTERVAL '1 hour' AS v`, Date.UTC(2001, 8, 27, 23)],
        [`SELECT INTERVAL '-1 day +2 hours' AS v`, '-1 days +02:00:00'],
        [`SELECT INTERVAL '0.5 seconds' AS v`, '00:00:00.5'],
        [`SELECT extract(epoch FROM INTERVAL '5 days 3 hours') AS v`, 442800],
        [`SELECT date_part('hour', INTERVAL '4 hours 3 minutes') AS v`, 4],
        [`SELECT justify_days(INTERVAL '35 days') AS v`, '1 mon 5 days'],
        [`SELECT justify_hours(INTERVAL '27 hours') AS v`, '1 day 03:00:00'],
        [`SELECT justify_interval(INTERVAL '1 mon -1 hour') AS v`, '29 days 23:00:00'],
        [`SELECT age(TIMESTAMP '2001-04-10', TIMESTAMP '1957-06-13') AS v`, '43 years 9 mons 27 days'],
        [`SELECT INTERVAL '1 mon' = INTERVAL '30 days' AS v`, true],
        [`SELECT INTERVAL '1 day' < INTERVAL '25 hours' AS v`, true],
        [`SELECT INTERVAL '2 hours'::TEXT AS v`, '02:00:00'],
        [`SELECT json_build_object('d', INTERVAL '90 minutes') AS v`, { d: '01:30:00' }],
        [`SELECT concat('took ', INTERVAL '1 day 1 second') AS v`, 'took 1 day 00:00:01'],
        // date arithmetic (Table 9.33): date - date is a number of days, date ± integer a date
        [`SELECT DATE '2001-10-01' - DATE '2001-09-28' AS v`, 3],
        [`SELECT DATE '2001-09-28' + 7 AS v`, '2001-10-05'],
        [`SELECT 7 + DATE '2001-09-28' AS v`, '2001-10-05'],
        [`SELECT DATE '2001-10-01' - 7 AS v`, '2001-09-24'],
      ];
      for (const [sql, v] of cases) expect((await one(s, sql))?.v, sql).toEqual(v);
    });
  });

  it('makes timestamp - timestamp an interval (whole days split off), and moves timestamps by the calendar', async () => {
    await withDb(async (s) => {
      const { rows, columns } = await s.query(`SELECT id, ended - started AS worked, started + INTERVAL '1 month' AS next FROM app.shifts ORDER BY id`);
      expect(columns.map((c) => c.type)).toEqual(['INT', 'INTERVAL', 'TIMESTAMP']);
      expect(rows).toEqual([
        { id: 1, worked: '08:30:00', next: Date.UTC(2024, 1, 29, 9) }, // Jan 31 + 1 month is Feb 29
        { id: 2, worked: '08:15:00', next: Date.UTC(2024, 2, 1, 22) },
        { id: 3, worked: '1 day 02:00:00', next: Date.UTC(2024, 2, 2, 8) },
        { id: 4, worked: null, next: null },
      ]);
      expect(await one(s, `SELECT TIMESTAMP '2024-01-01' - TIMESTAMP '2024-01-02 03:00' AS v`)).toEqual({ v: '-1 days -03:00:00' });
      expect((await s.query(`SELECT id, day - DATE '2024-01-01' AS n, day + 30 AS later FROM app.shifts ORDER BY id`)).rows).toEqual([
        { id: 1, n: 30, later: '2024-03-01' }, { id: 2, n: 31, later: '2024-03-02' }, { id: 3, n: 32, later: '2024-03-03' }, { id: 4, n: null, later: null },
      ]);
    });
  });

  it('compares, orders, groups and counts distinct by the span (1 hour = 60 minutes)', async () => {
    await withDb(async (s) => {
      expect((await s.query(`SELECT id FROM app.shifts WHERE pause = '1 hour' ORDER BY id`)).rows).toEqual([{ id: 2 }, { id: 3 }]);
      expect((await s.query(`SELECT id FROM app.shifts WHERE pause < INTERVAL '45 minutes'`)).rows).toEqual([{ id: 1 }]);
      expect((await s.query(`SELECT id FROM app.shifts ORDER BY pause DESC NULLS LAST, id`)).rows).toEqual([{ id: 2 }, { id: 3 }, { id: 1 }, { id: 4 }]);
      expect((await s.query(`SELECT pause, count(*) AS n FROM app.shifts WHERE pause IS NOT NULL GROUP BY pause ORDER BY pause`)).rows)
        .toEqual([{ pause: '00:30:00', n: 1 }, { pause: '01:00:00', n: 2 }]);
      expect(await one(s, `SELECT count(DISTINCT pause) AS n FROM app.shifts`)).toEqual({ n: 2 });
      expect(await one(s, `SELECT sum(pause) AS s, avg(pause) AS a, min(pause) AS lo, max(ended - started) AS hi FROM app.shifts`))
        .toEqual({ s: '02:30:00', a: '00:50:00', lo: '00:30:00', hi: '1 day 02:00:00' });
      expect(await one(s, `SELECT sum(ended - started - pause) AS net FROM app.shifts`)).toEqual({ net: '1 day 16:15:00' });
    });
  });

  it('takes text parameters where an interval is expected, and hands the values out as text', async () => {
    await withDb(async (s) => {
      await s.execute(`INSERT INTO app.shifts (id, pause) VALUES ($1, $2)`, [5, '2 hours 30 minutes']);
      expect(await one(s, `SELECT pause FROM app.shifts WHERE id = 5`)).toEqual({ pause: '02:30:00' });
      expect(await one(s, `SELECT count(*) AS n FROM app.shifts WHERE pause >= $1`, ['1 hour'])).toEqual({ n: 3 });
      expect(await one(s, `SELECT started + $1::interval AS v FROM app.shifts WHERE id = 1`, ['1 day'])).toEqual({ v: Date.UTC(2024, 1, 1, 9) });
      await s.execute(`UPDATE app.shifts SET pause = pause * 2 WHERE id = 1`);
      expect(await one(s, `SELECT pause FROM app.shifts WHERE id = 1`)).toEqual({ pause: '01:00:00' });
    });
  });

  it('refuses what PostgreSQL refuses, with specific codes', async () => {
    await withDb(async (s) => {
      const cases: [string, string][] = [
        [`INSERT INTO app.shifts (id, pause) VALUES (9, 'a while')`, 'TYPE_MISMATCH'],
        [`INSERT INTO app.shifts (id, pause) VALUES (9, 5)`, 'TYPE_MISMATCH'],
        [`SELECT 'soon'::interval`, 'TYPE_MISMATCH'],
        [`SELECT INTERVAL '1 day' * INTERVAL '1 day'`, 'TYPE_MISMATCH'],
        [`SELECT INTERVAL '1 day' / 0`, 'DIVISION_BY_ZERO'],
        [`SELECT extract(dow FROM INTERVAL '1 day')`, 'INVALID_PARAMETER'],
        [`SELECT INTERVAL '300000000 years'`, 'OUT_OF_RANGE'],
        [`SELECT id FROM app.shifts WHERE pause = 'later'`, 'TYPE_MISMATCH'],
      ];
      for (const [sql, code] of cases) await expect(s.query(sql), sql).rejects.toMatchObject({ code });
    });
  });

  it('keeps a live query ordered by an INTERVAL column, rows carrying its text', async () => {
    await withDb(async (s) => {
      let latest: readonly Record<string, unknown>[] = [];
      const stop = await s.live(`SELECT id, pause FROM app.shifts WHERE pause > INTERVAL '40 minutes' ORDER BY pause DESC, id LIMIT 2`, undefined, (rows) => { latest = rows; });
      await expect.poll(() => latest).toEqual([{ id: 2, pause: '01:00:00' }, { id: 3, pause: '01:00:00' }]);
      await s.execute(`UPDATE app.shifts SET pause = '1 day' WHERE id = 1`);
      await expect.poll(() => latest).toEqual([{ id: 1, pause: '1 day' }, { id: 2, pause: '01:00:00' }]);
      stop();
    });
  });

  it('round-trips through the value codec (OPFS pages, export files) part by part', () => {
    const v = new Interval(-14, 3, -14706789000);
    const back = decodeFromBytes(encodeToBytes([v, null]));
    expect(back).toEqual([v, null]);
    expect((back as unknown[])[0]).toBeInstanceOf(Interval);
  });

  it('loads through insertMany and survives an export and an import into another database', async () => {
    const db = await openDatabase({ name: 'iv-export', storage: 'memory' });
    const other = await openDatabase({ name: 'iv-import', storage: 'memory' });
    try {
      const s = db.session({ user: 'root', role: 'system' });
      await s.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, d INTERVAL)');
      await s.insertMany('app.t', [{ id: 1, d: '1 day' }, { id: 2, d: 'P1M' }]);
      const t = other.session({ user: 'root', role: 'system' });
      await t.importDatabase(await s.exportDatabase());
      expect((await t.query('SELECT id, d, d * 2 AS twice FROM app.t ORDER BY id')).rows).toEqual([{ id: 1, d: '1 day', twice: '2 days' }, { id: 2, d: '1 mon', twice: '2 mons' }]);
    } finally {
      await db.close();
      await other.close();
    }
  });

  it('survives a reopen of an IndexedDB database and a flush to a cold segment, exactly', async () => {
    const indexedDB = new IDBFactory();
    const first = await openDatabase({ storage: 'idb', name: 'iv', indexedDB });
    await first.session({ user: 'root', role: 'system' }).execute(`CREATE NAMESPACE app;
      CREATE SHARED TABLE app.t (id INT PRIMARY KEY, d INTERVAL);
      INSERT INTO app.t (id, d) VALUES (1, '1 year 2 mons -3 days 04:05:06.789'), (2, '-00:00:00.000001'), (3, '1 mon'), (4, '30 days')`);
    await first.close();
    const again = await openDatabase({ storage: 'idb', name: 'iv', indexedDB });
    try {
      const t = again.session({ user: 'root', role: 'system' });
      const expected = [{ id: 1, d: '1 year 2 mons -3 days +04:05:06.789' }, { id: 2, d: '-00:00:00.000001' }, { id: 3, d: '1 mon' }, { id: 4, d: '30 days' }];
      expect((await t.query('SELECT id, d FROM app.t ORDER BY id')).rows).toEqual(expected);
      expect(await one(t, `SELECT d * 2 AS twice FROM app.t WHERE id = 3`)).toEqual({ twice: '2 mons' });
      await t.execute('FLUSH TABLE app.t');
      expect((await t.query('SELECT id, d FROM app.t ORDER BY id')).rows).toEqual(expected);
      expect((await t.query(`SELECT id FROM app.t WHERE d = INTERVAL '720 hours' ORDER BY id`)).rows).toEqual([{ id: 3 }, { id: 4 }]);
      const arrow = await t.queryArrow('SELECT d FROM app.t ORDER BY id');
      expect(arrow.getChild('d')?.toArray()).toEqual(expected.map((r) => r.d));
    } finally {
      await again.close();
    }
  });
});
