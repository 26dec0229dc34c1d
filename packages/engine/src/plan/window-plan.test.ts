/**
 * Window functions against PostgreSQL's documentation: the empsalary
 * examples of the tutorial (§3.5, results as printed there), and cases
 * worked by hand from the rules of §4.2.8 (frames, peers, NULLs) and §9.22
 * (the functions).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { Row, Value } from '../core/types';

let db: Database;
let s: Session;

beforeAll(async () => {
  db = await openDatabase({ storage: 'memory' });
  s = db.session({ user: 'root', role: 'dba' });
  await s.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.empsalary (empno INT PRIMARY KEY, depname TEXT, salary INT);
    CREATE SHARED TABLE app.t (id INT PRIMARY KEY, v INT)`);
  // The tutorial's table (PostgreSQL §3.5).
  await s.execute(`INSERT INTO app.empsalary (depname, empno, salary) VALUES
    ('develop', 11, 5200), ('develop', 7, 4200), ('develop', 9, 4500), ('develop', 8, 6000), ('develop', 10, 5200),
    ('personnel', 5, 3500), ('personnel', 2, 3900), ('sales', 3, 4800), ('sales', 1, 5000), ('sales', 4, 4800)`);
  await s.execute('INSERT INTO app.t (id, v) VALUES (1, 10), (2, NULL), (3, 20), (4, NULL), (5, 10)');
});

afterAll(async () => {
  await db.close();
});

const values = async (sql: string, params?: Value[]): Promise<Value[][]> =>
  (await s.query(sql, params)).rows.map((r: Row) => Object.values(r));

async function failure(sql: string, params?: Value[]): Promise<KalamError> {
  try {
    await s.query(sql, params);
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error(`expected ${sql} to fail`);
}

// Salaries by empno: 1:5000 2:3900 3:4800 4:4800 5:3500 7:4200 8:6000 9:4500 10:5200 11:5200
const E = 'app.empsalary';

interface Case { name: string; sql: string; params?: Value[]; rows: Value[][] }

const TUTORIAL: Case[] = [
  {
    name: 'avg over the partition, every row kept',
    sql: `SELECT depname, empno, salary, avg(salary) OVER (PARTITION BY depname) FROM ${E} ORDER BY depname, empno`,
    rows: [
      ['develop', 7, 4200, 5020], ['develop', 8, 6000, 5020], ['develop', 9, 4500, 5020], ['develop', 10, 5200, 5020], ['develop', 11, 5200, 5020],
      ['personnel', 2, 3900, 3700], ['personnel', 5, 3500, 3700],
      ['sales', 1, 5000, 14600 / 3], ['sales', 3, 4800, 14600 / 3], ['sales', 4, 4800, 14600 / 3],
    ],
  },
  {
    name: 'rank within each department, ties share a rank and leave a gap',
    sql: `SELECT depname, empno, salary, rank() OVER (PARTITION BY depname ORDER BY salary DESC) AS rank FROM ${E} ORDER BY depname, rank, empno`,
    rows: [
      ['develop', 8, 6000, 1], ['develop', 10, 5200, 2], ['develop', 11, 5200, 2], ['develop', 9, 4500, 4], ['develop', 7, 4200, 5],
      ['personnel', 2, 3900, 1], ['personnel', 5, 3500, 2],
      ['sales', 1, 5000, 1], ['sales', 3, 4800, 2], ['sales', 4, 4800, 2],
    ],
  },
  {
    name: 'an empty OVER () is the whole table',
    sql: `SELECT salary, sum(salary) OVER () FROM ${E} ORDER BY empno LIMIT 3`,
    rows: [[5000, 47100], [3900, 47100], [4800, 47100]],
  },
  {
    name: 'with ORDER BY the default frame runs to the last peer (a running sum; equal salaries get the same sum)',
    sql: `SELECT salary, sum(salary) OVER (ORDER BY salary) FROM ${E} ORDER BY salary`,
    rows: [[3500, 3500], [3900, 7400], [4200, 11600], [4500, 16100], [4800, 25700], [4800, 25700], [5000, 30700], [5200, 41100], [5200, 41100], [6000, 47100]],
  },
  {
    name: 'filtering on a window function in a subquery (top two per department)',
    sql: `SELECT depname, empno, salary FROM (SELECT depname, empno, salary, rank() OVER (PARTITION BY depname ORDER BY salary DESC, empno) AS pos FROM ${E}) AS ss
          WHERE pos < 3 ORDER BY depname, pos`,
    rows: [['develop', 8, 6000], ['develop', 10, 5200], ['personnel', 2, 3900], ['personnel', 5, 3500], ['sales', 1, 5000], ['sales', 3, 4800]],
  },
  {
    name: 'a named window shared by two functions',
    sql: `SELECT empno, sum(salary) OVER w, avg(salary) OVER w FROM ${E} WINDOW w AS (PARTITION BY depname ORDER BY salary DESC) ORDER BY depname, salary DESC, empno`,
    rows: [
      [8, 6000, 6000], [10, 16400, 16400 / 3], [11, 16400, 16400 / 3], [9, 20900, 5225], [7, 25100, 5020],
      [2, 3900, 3900], [5, 7400, 3700],
      [1, 5000, 5000], [3, 14600, 14600 / 3], [4, 14600, 14600 / 3],
    ],
  },
];

const RANKING: Case[] = [
  {
    name: 'row_number, rank, dense_rank, percent_rank, cume_dist over ties',
    sql: `SELECT empno, row_number() OVER (ORDER BY salary, empno), rank() OVER (ORDER BY salary), dense_rank() OVER (ORDER BY salary),
            percent_rank() OVER (ORDER BY salary), cume_dist() OVER (ORDER BY salary)
          FROM ${E} WHERE depname = 'develop' ORDER BY salary, empno`,
    rows: [[7, 1, 1, 1, 0, 0.2], [9, 2, 2, 2, 0.25, 0.4], [10, 3, 3, 3, 0.5, 0.8], [11, 4, 3, 3, 0.5, 0.8], [8, 5, 5, 4, 1, 1]],
  },
  {
    name: 'ntile splits as evenly as possible, earlier buckets larger',
    sql: `SELECT empno, ntile(3) OVER (ORDER BY empno), ntile(4) OVER (ORDER BY empno), ntile(20) OVER (ORDER BY empno) FROM ${E} ORDER BY empno`,
    rows: [[1, 1, 1, 1], [2, 1, 1, 2], [3, 1, 1, 3], [4, 1, 2, 4], [5, 2, 2, 5], [7, 2, 2, 6], [8, 2, 3, 7], [9, 3, 3, 8], [10, 3, 4, 9], [11, 3, 4, 10]],
  },
  {
    name: 'lag and lead with offset and default; NULL past the partition without a default',
    sql: `SELECT empno, lag(salary) OVER (ORDER BY empno), lead(salary, 2, -1) OVER (ORDER BY empno), lag(empno) OVER (PARTITION BY depname ORDER BY empno) FROM ${E} ORDER BY empno`,
    rows: [
      [1, null, 4800, null], [2, 5000, 4800, null], [3, 3900, 3500, 1], [4, 4800, 4200, 3], [5, 4800, 6000, 2],
      [7, 3500, 4500, null], [8, 4200, 5200, 7], [9, 6000, 5200, 8], [10, 4500, -1, 9], [11, 5200, -1, 10],
    ],
  },
  {
    name: 'first_value, last_value, nth_value over the default frame and over the whole partition',
    sql: `SELECT empno, first_value(salary) OVER w, last_value(salary) OVER w, nth_value(salary, 2) OVER w,
            last_value(salary) OVER (ORDER BY salary ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
          FROM ${E} WHERE depname = 'develop' WINDOW w AS (ORDER BY salary) ORDER BY salary, empno`,
    rows: [[7, 4200, 4200, null, 6000], [9, 4200, 4500, 4500, 6000], [10, 4200, 5200, 4500, 6000], [11, 4200, 5200, 4500, 6000], [8, 4200, 6000, 4500, 6000]],
  },
];

const FRAMES: Case[] = [
  {
    name: 'ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING',
    sql: `SELECT sum(salary) OVER (ORDER BY empno ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM ${E} ORDER BY empno`,
    rows: [[8900], [13700], [13500], [13100], [12500], [13700], [14700], [15700], [14900], [10400]],
  },
  {
    name: 'ROWS 2 PRECEDING (to the current row)',
    sql: `SELECT count(*) OVER (ORDER BY empno ROWS 2 PRECEDING), min(salary) OVER (ORDER BY empno ROWS 2 PRECEDING) FROM ${E} ORDER BY empno LIMIT 5`,
    rows: [[1, 5000], [2, 3900], [3, 3900], [3, 3900], [3, 3500]],
  },
  {
    name: 'ROWS BETWEEN 1 FOLLOWING AND 3 FOLLOWING: an empty frame at the end (count 0, max NULL)',
    sql: `SELECT max(salary) OVER f, count(salary) OVER f FROM ${E} WINDOW f AS (ORDER BY empno ROWS BETWEEN 1 FOLLOWING AND 3 FOLLOWING) ORDER BY empno`,
    rows: [[4800, 3], [4800, 3], [4800, 3], [6000, 3], [6000, 3], [6000, 3], [5200, 3], [5200, 2], [5200, 1], [null, 0]],
  },
  {
    name: 'RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING starts at the first peer',
    sql: `SELECT salary, sum(salary) OVER (ORDER BY salary RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) FROM ${E} ORDER BY salary`,
    rows: [[3500, 47100], [3900, 43600], [4200, 39700], [4500, 35500], [4800, 31000], [4800, 31000], [5000, 21400], [5200, 16400], [5200, 16400], [6000, 6000]],
  },
  {
    name: 'RANGE BETWEEN 500 PRECEDING AND 500 FOLLOWING compares salaries',
    sql: `SELECT salary, count(*) OVER (ORDER BY salary RANGE BETWEEN 500 PRECEDING AND 500 FOLLOWING) FROM ${E} ORDER BY salary`,
    rows: [[3500, 2], [3900, 3], [4200, 3], [4500, 5], [4800, 6], [4800, 6], [5000, 6], [5200, 5], [5200, 5], [6000, 1]],
  },
  {
    name: 'RANGE 300 PRECEDING under ORDER BY DESC looks at larger values',
    sql: `SELECT salary, count(*) OVER (ORDER BY salary DESC RANGE BETWEEN 300 PRECEDING AND CURRENT ROW) FROM ${E} ORDER BY salary`,
    rows: [[3500, 1], [3900, 2], [4200, 2], [4500, 3], [4800, 3], [4800, 3], [5000, 3], [5200, 2], [5200, 2], [6000, 1]],
  },
  {
    name: 'GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW counts peer groups',
    sql: `SELECT salary, count(*) OVER (ORDER BY salary GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM ${E} ORDER BY salary`,
    rows: [[3500, 1], [3900, 2], [4200, 2], [4500, 2], [4800, 3], [4800, 3], [5000, 3], [5200, 3], [5200, 3], [6000, 3]],
  },
  {
    name: 'a frame offset given as a parameter',
    sql: `SELECT sum(salary) OVER (ORDER BY empno ROWS BETWEEN $1 PRECEDING AND CURRENT ROW) FROM ${E} ORDER BY empno LIMIT 3`,
    params: [1],
    rows: [[5000], [8900], [8700]],
  },
  {
    name: 'the same text with another offset is another frame (literals are lifted into the cached plan)',
    sql: `SELECT sum(salary) OVER (ORDER BY empno ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM ${E} ORDER BY empno LIMIT 3`,
    rows: [[5000], [8900], [13700]],
  },
];

// app.t: 1:10, 2:NULL, 3:20, 4:NULL, 5:10
const NULLS: Case[] = [
  {
    name: 'NULLs sort last ascending and are peers of each other',
    sql: 'SELECT id, row_number() OVER (ORDER BY v, id), rank() OVER (ORDER BY v), sum(v) OVER (ORDER BY v) FROM app.t ORDER BY id',
    rows: [[1, 1, 1, 20], [2, 4, 4, 40], [3, 3, 3, 40], [4, 5, 4, 40], [5, 2, 1, 20]],
  },
  {
    name: 'DESC puts NULLs first; NULLS FIRST/LAST are honoured',
    sql: 'SELECT id, rank() OVER (ORDER BY v DESC), rank() OVER (ORDER BY v NULLS FIRST), rank() OVER (ORDER BY v DESC NULLS LAST) FROM app.t ORDER BY id',
    rows: [[1, 4, 3, 2], [2, 1, 1, 4], [3, 3, 5, 1], [4, 1, 1, 4], [5, 4, 3, 2]],
  },
  {
    name: 'count(v) skips NULLs, count(*) does not',
    sql: 'SELECT count(v) OVER (), count(*) OVER (), avg(v) OVER () FROM app.t ORDER BY id LIMIT 1',
    rows: [[3, 5, 40 / 3]],
  },
  {
    name: 'RANGE with an offset: a NULL row frames its NULL peers, a value never reaches the NULLs',
    sql: 'SELECT id, count(*) OVER (ORDER BY v RANGE BETWEEN 5 PRECEDING AND 5 FOLLOWING) FROM app.t ORDER BY id',
    rows: [[1, 2], [2, 2], [3, 1], [4, 2], [5, 2]],
  },
];

const ORDER_OF_CLAUSES: Case[] = [
  {
    name: 'WHERE runs before the window',
    sql: `SELECT empno, row_number() OVER (ORDER BY empno) FROM ${E} WHERE depname = 'sales' ORDER BY empno`,
    rows: [[1, 1], [3, 2], [4, 3]],
  },
  {
    name: 'LIMIT runs after the window',
    sql: `SELECT empno, count(*) OVER () FROM ${E} ORDER BY empno LIMIT 2`,
    rows: [[1, 10], [2, 10]],
  },
  {
    name: 'DISTINCT runs after the window',
    sql: `SELECT DISTINCT depname, count(*) OVER (PARTITION BY depname) FROM ${E} ORDER BY depname`,
    rows: [['develop', 5], ['personnel', 2], ['sales', 3]],
  },
  {
    name: 'ORDER BY a window function',
    sql: `SELECT empno FROM ${E} ORDER BY row_number() OVER (ORDER BY salary DESC, empno) LIMIT 3`,
    rows: [[8], [10], [11]],
  },
  {
    name: 'a window over aggregates of a grouped query',
    sql: `SELECT depname, sum(salary) AS total, rank() OVER (ORDER BY sum(salary) DESC) AS r, sum(sum(salary)) OVER (ORDER BY depname) AS running
          FROM ${E} GROUP BY depname ORDER BY r`,
    rows: [['develop', 25100, 1, 25100], ['sales', 14600, 2, 47100], ['personnel', 7400, 3, 32500]],
  },
];

describe('window functions, as PostgreSQL documents them', () => {
  for (const [group, cases] of [['tutorial (§3.5)', TUTORIAL], ['ranking and value functions', RANKING], ['frames', FRAMES], ['NULLs', NULLS], ['clause order', ORDER_OF_CLAUSES]] as const) {
    describe(group, () => {
      for (const c of cases) {
        it(c.name, async () => {
          expect(await values(c.sql, c.params)).toEqual(c.rows);
        });
      }
    });
  }

  it('reads ORDER BY and LIMIT after a WINDOW clause (the parser alone would drop them)', async () => {
    expect(await values(`SELECT empno, rank() OVER w FROM ${E} WHERE salary > 4000 WINDOW w AS (ORDER BY salary DESC ROWS 1 PRECEDING) ORDER BY empno DESC LIMIT 3`))
      .toEqual([[11, 2], [10, 2], [9, 7]]);
  });

  it('names the column after the function, as PostgreSQL does', async () => {
    const r = await s.query(`SELECT row_number() OVER (), lag(empno) OVER () FROM ${E} LIMIT 1`);
    expect(r.columns.map((c) => c.name)).toEqual(['row_number', 'lag']);
  });

  it('gives the same answer when the statement pauses at every row', async () => {
    const paced = await openDatabase({ storage: 'memory', statementSliceMs: 0 });
    const p = paced.session({ user: 'root', role: 'dba' });
    await p.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.n (id INT PRIMARY KEY, g INT)');
    await p.execute(`INSERT INTO app.n (id, g) VALUES ${Array.from({ length: 600 }, (_, i) => `(${i}, ${i % 3})`).join(', ')}`);
    const r = await p.query('SELECT id, row_number() OVER (PARTITION BY g ORDER BY id DESC) AS rn, sum(id) OVER (PARTITION BY g ORDER BY id ROWS 1 PRECEDING) AS s FROM app.n ORDER BY id LIMIT 4');
    expect(r.rows.map((x) => [x.id, x.rn, x.s])).toEqual([[0, 200, 0], [1, 200, 1], [2, 200, 2], [3, 199, 3]]);
    await paced.close();
  });
});

describe('window function errors', () => {
  const cases: { sql: string; params?: Value[]; code: string; message: RegExp }[] = [
    { sql: `SELECT row_number() FROM ${E}`, code: 'INVALID_SQL', message: /row_number\(\) requires an OVER clause/ },
    { sql: `SELECT * FROM ${E} WHERE row_number() OVER () > 1`, code: 'INVALID_SQL', message: /not allowed in WHERE: compute them in a subquery/ },
    { sql: `SELECT count(*) FROM ${E} GROUP BY rank() OVER ()`, code: 'INVALID_SQL', message: /not allowed in GROUP BY/ },
    { sql: `SELECT depname FROM ${E} GROUP BY depname HAVING rank() OVER () > 1`, code: 'INVALID_SQL', message: /not allowed in HAVING/ },
    { sql: `SELECT sum(row_number() OVER ()) OVER () FROM ${E}`, code: 'INVALID_SQL', message: /cannot be nested/ },
    { sql: `SELECT sum(row_number() OVER ()) FROM ${E}`, code: 'INVALID_SQL', message: /Aggregate function calls cannot contain window function calls/ },
    { sql: `SELECT ntile(0) OVER () FROM ${E}`, code: 'INVALID_PARAMETER', message: /ntile must be greater than zero/ },
    { sql: `SELECT nth_value(salary, 0) OVER () FROM ${E}`, code: 'INVALID_PARAMETER', message: /nth_value must be greater than zero/ },
    { sql: `SELECT lag(salary, 1, 0, 5) OVER () FROM ${E}`, code: 'INVALID_SQL', message: /lag\(\) takes 1 to 3 arguments, got 4/ },
    { sql: `SELECT sum(salary) OVER (ORDER BY empno ROWS BETWEEN UNBOUNDED FOLLOWING AND CURRENT ROW) FROM ${E}`, code: 'INVALID_SQL', message: /Frame start cannot be UNBOUNDED FOLLOWING/ },
    { sql: `SELECT sum(salary) OVER (ORDER BY empno ROWS BETWEEN CURRENT ROW AND 1 PRECEDING) FROM ${E}`, code: 'INVALID_SQL', message: /current row cannot have preceding rows/ },
    { sql: `SELECT sum(salary) OVER (ORDER BY empno ROWS 1 FOLLOWING) FROM ${E}`, code: 'INVALID_SQL', message: /following row cannot have preceding rows/ },
    { sql: `SELECT sum(salary) OVER (ORDER BY empno ROWS BETWEEN $1 PRECEDING AND CURRENT ROW) FROM ${E}`, params: [-1], code: 'INVALID_PARAMETER', message: /Frame starting offset must not be negative/ },
    { sql: `SELECT sum(salary) OVER (ORDER BY empno ROWS BETWEEN CURRENT ROW AND $1 FOLLOWING) FROM ${E}`, params: [null], code: 'INVALID_PARAMETER', message: /Frame ending offset must not be null/ },
    { sql: `SELECT sum(salary) OVER (GROUPS 1 PRECEDING) FROM ${E}`, code: 'INVALID_SQL', message: /GROUPS mode requires an ORDER BY clause/ },
    { sql: `SELECT sum(salary) OVER (ORDER BY salary, empno RANGE 1 PRECEDING) FROM ${E}`, code: 'INVALID_SQL', message: /requires exactly one ORDER BY column/ },
    { sql: `SELECT count(*) OVER (ORDER BY depname RANGE 1 PRECEDING) FROM ${E}`, code: 'UNSUPPORTED', message: /needs a numeric ORDER BY value/ },
    { sql: `SELECT sum(salary) OVER nope FROM ${E}`, code: 'INVALID_SQL', message: /Window 'nope' does not exist/ },
    { sql: `SELECT count(DISTINCT salary) OVER () FROM ${E}`, code: 'UNSUPPORTED', message: /DISTINCT is not implemented for window functions/ },
    { sql: `SELECT percent_rank() FROM ${E}`, code: 'INVALID_SQL', message: /percent_rank\(\) requires an OVER clause/ },
    { sql: `SELECT sum(salary) OVER (ORDER BY empno ROWS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE TIES) FROM ${E}`, code: 'UNSUPPORTED', message: /EXCLUDE in a window frame/ },
    { sql: `SELECT sum(salary) OVER (ORDER BY empno ROWS BETWEEN 1 PRECEDING) FROM ${E}`, code: 'PARSE_ERROR', message: /window frame/ },
    { sql: 'UPDATE app.t SET v = row_number() OVER () WHERE id = 1', code: 'INVALID_SQL', message: /row_number\(\) is not allowed here/ },
  ];
  for (const c of cases) {
    it(`${c.code}: ${c.sql}`, async () => {
      const e = await failure(c.sql, c.params);
      expect(e.code).toBe(c.code);
      expect(e.message).toMatch(c.message);
    });
  }

  it('never shows a parser node name for an expression it does not support', async () => {
    for (const sql of ['SELECT 1 = ANY(ARRAY[1])', 'SELECT ROW(1, 2) = ROW(1, 2)', `SELECT unnest(ARRAY[1, 2])`, `SELECT 'a' COLLATE "C"`]) {
      const e = await failure(sql);
      expect(e.message).not.toMatch(/Expression '|window_func|aggr_func|_expr|column_ref/);
    }
  });
});

describe('window functions elsewhere', () => {
  it('EXPLAIN shows a Window operator between the scan and the select', async () => {
    const plan = (await s.query(`EXPLAIN SELECT row_number() OVER (PARTITION BY depname ORDER BY salary DESC) FROM ${E}`)).rows;
    const window = plan.find((r) => r.operator === 'Window');
    expect(window?.detail).toBe('ROW_NUMBER() OVER (PARTITION BY depname ORDER BY salary DESC)');
    expect(plan.find((r) => r.parent_id === window?.id)?.operator).toBe('Scan');
  });

  it('a live query over a window function re-runs: an insert re-ranks every row', async () => {
    const seen: (readonly Row[])[] = [];
    const stop = await s.live('SELECT id, rank() OVER (ORDER BY v DESC NULLS LAST) AS r FROM app.t', [], (rows) => seen.push(rows), () => undefined);
    await vi.waitFor(() => expect(seen.length).toBeGreaterThan(0));
    await s.execute('INSERT INTO app.t (id, v) VALUES (6, 99)');
    await vi.waitFor(() => expect(seen[seen.length - 1].map((r) => [r.id, r.r])).toEqual([[1, 3], [2, 5], [3, 2], [4, 5], [5, 3], [6, 1]]));
    await stop();
    await s.execute('DELETE FROM app.t WHERE id = 6');
  });
});
