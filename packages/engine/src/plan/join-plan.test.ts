import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import type { Row, Value } from '../core/types';
import type { ExecContext, Tuple } from '../exec/context';
import { innerHashJoin } from '../exec/hash-join';
import { sqlEquals } from './compile';
import { indexJoinRuns } from './index-join';
import { LOOKUP_JOIN_MAX_ROWS } from './join-plan';

let db: Database;
let s: Session;

beforeAll(async () => {
  db = await openDatabase({ storage: 'memory' });
  s = db.session({ user: 'root', role: 'dba' });
  await s.execute(`CREATE NAMESPACE j;
    CREATE SHARED TABLE j.nums (id INT PRIMARY KEY, n INT, t TEXT);
    CREATE SHARED TABLE j.texts (id INT PRIMARY KEY, t TEXT, flag BOOLEAN)`);
  await s.execute(`INSERT INTO j.nums (id, n, t) VALUES (1, 1, '1'), (2, 2, ' 2 '), (3, 3, 'TRUE'), (4, NULL, NULL), (5, 10, '1e1')`);
  await s.execute(`INSERT INTO j.texts (id, t, flag) VALUES (1, '1', true), (2, '2', false), (3, '1.0', true), (4, 'abc', NULL), (5, 't', true), (6, '10', false)`);
});

afterAll(async () => {
  await db.close();
});

const key = (r: Row) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
const sorted = (rows: readonly Row[]) => rows.map(key).sort();

/** The same WHERE read as one term with a subquery: no term can be pushed or hashed, so the rows come from a filtered cross product. */
const asReference = (where: string) => `(${where}) OR (SELECT false)`;

describe('inner joins: = means the same with a hash join as with a nested loop', () => {
  it.each([
    ['INT = TEXT', 'a.n = b.t'],
    ['TEXT = INT', 'b.t = a.n'],
    ['TEXT = TEXT', 'a.t = b.t'],
    ['BOOLEAN = TEXT', 'b.flag = a.t'],
    ['INT = INT + residual', 'a.id = b.id AND a.t <> b.t'],
  ])('%s', async (_label, where) => {
    const reference = (await s.query(`SELECT a.id AS a, b.id AS b FROM j.nums a, j.texts b WHERE ${asReference(where)}`)).rows;
    expect(reference.length).toBeGreaterThan(0);
    // Either relation first: each side of = is the probe side once.
    for (const from of ['j.nums a, j.texts b', 'j.texts b, j.nums a']) {
      const planned = (await s.query(`SELECT a.id AS a, b.id AS b FROM ${from} WHERE ${where}`)).rows;
      expect(sorted(planned)).toEqual(sorted(reference));
    }
    const joined = (await s.query(`SELECT a.id AS a, b.id AS b FROM j.nums a JOIN j.texts b ON ${where}`)).rows;
    expect(sorted(joined)).toEqual(sorted(reference));
  });

  it("'1' = 1 and 10 = '1e1' match as the comparison operators say", async () => {
    const r = await s.query(`SELECT a.id AS a, b.id AS b FROM j.nums a JOIN j.texts b ON a.n = b.t ORDER BY a.id, b.id`);
    expect(r.rows).toEqual([{ a: 1, b: 1 }, { a: 1, b: 3 }, { a: 2, b: 2 }, { a: 5, b: 6 }]);
  });
});

describe('comma joins', () => {
  beforeAll(async () => {
    await s.execute(`CREATE SHARED TABLE j.c1 (id INT PRIMARY KEY, k INT);
      CREATE SHARED TABLE j.c2 (id INT PRIMARY KEY, k INT, m INT);
      CREATE SHARED TABLE j.c3 (id INT PRIMARY KEY, m INT, label TEXT)`);
    const values = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i + 1)).join(', ');
    await s.execute(`INSERT INTO j.c1 (id, k) VALUES ${values(50, (i) => `(${i}, ${i % 7})`)}`);
    await s.execute(`INSERT INTO j.c2 (id, k, m) VALUES ${values(50, (i) => `(${i}, ${i % 7}, ${i % 5})`)}`);
    await s.execute(`INSERT INTO j.c3 (id, m, label) VALUES ${values(5, (i) => `(${i}, ${i - 1}, 'l${i - 1}')`)}`);
  });

  it('a relation linked only to a later one waits for it, and SELECT * keeps FROM order', async () => {
    // c1 and c3 share no term: joined in FROM order that would be a cross product first.
    const where = 'c1.k = c2.k AND c2.m = c3.m AND c1.id <= 10';
    const sql = (w: string) => `SELECT * FROM j.c1, j.c3, j.c2 WHERE ${w} ORDER BY c1.id, c2.id`;
    const planned = await s.query(sql(where));
    const reference = await s.query(sql(asReference(where)));
    expect(planned.columns).toEqual(reference.columns);
    expect(planned.columns.map((c) => c.name)).toHaveLength(8);
    expect(planned.rows.length).toBeGreaterThan(0);
    expect(planned.rows).toEqual(reference.rows);
  });

  it('joins on a primary key by lookups for few rows and by hashing past LOOKUP_JOIN_MAX_ROWS, with the same rows', async () => {
    const n = LOOKUP_JOIN_MAX_ROWS + 200;
    await s.execute(`CREATE SHARED TABLE j.many (id INT PRIMARY KEY, ref INT);
      CREATE SHARED TABLE j.target (id INT PRIMARY KEY, v TEXT)`);
    const chunk = 500;
    for (let start = 1; start <= n; start += chunk) {
      const rows = Array.from({ length: Math.min(chunk, n - start + 1) }, (_, i) => `(${start + i}, ${(start + i) % 300})`);
      await s.execute(`INSERT INTO j.many (id, ref) VALUES ${rows.join(', ')}`);
    }
    await s.execute(`INSERT INTO j.target (id, v) VALUES ${Array.from({ length: 250 }, (_, i) => `(${i}, 'v${i}')`).join(', ')}`);
    for (const where of [`m.id <= 40 AND m.ref = t.id`, `m.ref = t.id`, `m.ref = t.id AND t.v <> 'v3'`]) {
      const sql = (w: string) => `SELECT m.id, t.v FROM j.many m, j.target t WHERE ${w}`;
      const planned = (await s.query(sql(where))).rows;
      const reference = (await s.query(sql(asReference(where)))).rows;
      expect(planned.length).toBeGreaterThan(0);
      expect(sorted(planned)).toEqual(sorted(reference));
    }
  });
});

describe('USER tables in joins', () => {
  it('a join on a USER table primary key reads the session user’s partition only', async () => {
    await s.execute(`CREATE SHARED TABLE j.refs (id INT PRIMARY KEY, note_id INT) WITH (ACCESS_LEVEL = 'PUBLIC');
      CREATE USER TABLE j.notes (id INT PRIMARY KEY, body TEXT)`);
    await s.execute(`INSERT INTO j.refs (id, note_id) VALUES (1, 1), (2, 2), (3, 3)`);
    const alice = db.session({ user: 'alice', role: 'user' });
    const bob = db.session({ user: 'bob', role: 'user' });
    await alice.execute(`INSERT INTO j.notes (id, body) VALUES (1, 'alice 1'), (2, 'alice 2')`);
    await bob.execute(`INSERT INTO j.notes (id, body) VALUES (2, 'bob 2'), (3, 'bob 3')`);
    const sql = 'SELECT r.id, n.body FROM j.refs r, j.notes n WHERE r.note_id = n.id ORDER BY r.id';
    expect((await alice.query(sql)).rows).toEqual([{ id: 1, body: 'alice 1' }, { id: 2, body: 'alice 2' }]);
    expect((await bob.query(sql)).rows).toEqual([{ id: 2, body: 'bob 2' }, { id: 3, body: 'bob 3' }]);
    const joined = 'SELECT r.id, n.body FROM j.refs r JOIN j.notes n ON n.id = r.note_id ORDER BY r.id';
    expect((await bob.query(joined)).rows).toEqual([{ id: 2, body: 'bob 2' }, { id: 3, body: 'bob 3' }]);
  });
});

describe('random inner joins equal the filtered cross product', () => {
  const COLS = ['id', 'a', 'b', 't'];
  const cell = fc.oneof(fc.constant('NULL'), fc.integer({ min: 0, max: 4 }).map(String));
  const textCell = fc.oneof(fc.constant('NULL'), fc.constantFrom("'0'", "'1'", "'2'", "' 3'", "'x'", "'1.0'"));
  const table = fc.array(fc.tuple(cell, cell, textCell), { minLength: 0, maxLength: 6 });
  const ref = (rel: number) => fc.tuple(fc.constant(`r${rel}`), fc.constantFrom(...COLS));
  const term = (rels: number) =>
    fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: rels - 1 }), fc.integer({ min: 0, max: rels - 1 }), fc.constantFrom(...COLS), fc.constantFrom(...COLS))
        .map(([x, y, c, d]) => `r${x}.${c} = r${y}.${d}`),
      fc.integer({ min: 0, max: rels - 1 }).chain((x) => ref(x)).chain(([r, c]) =>
        fc.oneof(fc.constant(`${r}.${c} IS NULL`), fc.integer({ min: 0, max: 4 }).map((v) => `${r}.${c} > ${v}`), fc.constant(`${r}.${c} = '1'`))),
      fc.tuple(fc.integer({ min: 0, max: rels - 1 }), fc.integer({ min: 0, max: rels - 1 })).map(([x, y]) => `r${x}.a + 1 = r${y}.b`),
      // Text against numbers, either side first.
      fc.tuple(fc.integer({ min: 0, max: rels - 1 }), fc.integer({ min: 0, max: rels - 1 }), fc.constantFrom('a', 'id')).map(([x, y, c]) => `r${x}.t = r${y}.${c}`),
    );

  // Secondary indexes a table may have (an index nested-loop join probes one led by the join column).
  const indexes = fc.subarray(['a', 'b', 't', 'a, t', 'b DESC'], { minLength: 0, maxLength: 3 });
  /** Rows added to one relation so its estimate makes probing it the cheaper join. */
  const BIG_ROWS = 60;

  it('for any tables, secondary indexes, FROM order and terms (WHERE or ON)', async () => {
    let round = 0;
    const probedBefore = indexJoinRuns.probed;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }).chain((rels) =>
          fc.record({
            tables: fc.array(table, { minLength: rels, maxLength: rels }),
            terms: fc.array(term(rels), { minLength: 0, maxLength: 5 }),
            useOn: fc.boolean(),
            indexes: fc.array(indexes, { minLength: rels, maxLength: rels }),
            big: fc.option(fc.integer({ min: 0, max: rels - 1 })),
          }),
        ),
        async ({ tables, terms: drawn, useOn, indexes: ix, big }) => {
          const ns = `p${round++}`;
          // The bigger relation is indexed on `a` and joined on it (besides the random terms), so some steps can probe it.
          const terms = big === null ? drawn : [...drawn, `r${big}.a = r${(big + 1) % tables.length}.a`];
          if (big !== null && !ix[big].includes('a')) ix[big] = [...ix[big], 'a'];
          await s.execute(`CREATE NAMESPACE ${ns}`);
          for (let i = 0; i < tables.length; i++) {
            await s.execute(`CREATE SHARED TABLE ${ns}.r${i} (id INT PRIMARY KEY, a INT, b INT, t TEXT)`);
            for (const cols of ix[i]) await s.execute(`CREATE INDEX ${ns}_r${i}_${cols.replace(/\W+/g, '_')} ON ${ns}.r${i} (${cols})`);
            const rows = tables[i].map((r, k) => `(${k}, ${r.join(', ')})`);
            if (big === i) for (let k = 0; k < BIG_ROWS; k++) rows.push(`(${100 + k}, ${k % 5}, ${k % 3 === 0 ? 'NULL' : (k * 3) % 5}, '${k % 4}')`);
            if (rows.length > 0) await s.execute(`INSERT INTO ${ns}.r${i} (id, a, b, t) VALUES ${rows.join(', ')}`);
          }
          const where = terms.length > 0 ? terms.join(' AND ') : 'true';
          const list = tables.map((_, i) => `${ns}.r${i} r${i}`);
          const select = tables.map((_, i) => `r${i}.id AS id${i}`).join(', ');
          const reference = (await s.query(`SELECT ${select} FROM ${list.join(', ')} WHERE ${asReference(where)}`)).rows;
          const planned = (await s.query(`SELECT ${select} FROM ${list.join(', ')} WHERE ${where}`)).rows;
          expect(sorted(planned)).toEqual(sorted(reference));
          if (useOn) {
            // The same terms as ON conditions of the last join (they may read every relation before it).
            const from = `${list.slice(0, -1).join(', ')} JOIN ${list[list.length - 1]} ON ${where}`;
            const joined = (await s.query(`SELECT ${select} FROM ${from}`)).rows;
            expect(sorted(joined)).toEqual(sorted(reference));
          }
          await s.execute(`DROP NAMESPACE ${ns} CASCADE`);
        },
      ),
      { numRuns: Number(process.env.JOIN_PROPERTY_RUNS ?? 60), seed: 20261207 }, // fixed: the probe count below must not depend on the draw
    );
    // Some joins probed an index per row rather than hashing.
    expect(indexJoinRuns.probed).toBeGreaterThan(probedBefore);
  }, 600_000);
});

describe('a hash join builds either side with the same answer as a nested loop under =', () => {
  // Keys of every family `=` compares across: numbers (NaN, -0, fractions), bigints (one past 2^53 too), numeric
  // and boolean texts, other texts, booleans and NULL.
  const value = fc.oneof(
    fc.constantFrom<Value>(null, 0, -0, 1, 1.5, Number.NaN, 2 ** 53, 2n ** 53n, 2n ** 53n + 1n, 1n, '1', ' 1 ', '1.0', '1.5', 'NaN', 't', 'true', 'f', true, false, 'x', ''),
    fc.integer({ min: -3, max: 3 }),
  );
  const rows = fc.array(value, { maxLength: 12 }).map((keys) => keys.map((k, i): Tuple => [k, i]));
  const key = (row: Tuple) => row[0];
  const ctx = {} as ExecContext;
  const run = (left: Tuple[], right: Tuple[], rightEstimate: number) =>
    [...innerHashJoin(left, () => right, key, key, undefined, rightEstimate, 2, sqlEquals, ctx)].map((r) => `${r[1]}-${r[3]}`).sort();

  it('for any keys', () => {
    fc.assert(
      fc.property(rows, rows, (left, right) => {
        const expected: string[] = [];
        for (const l of left) for (const r of right) if (l[0] !== null && r[0] !== null && sqlEquals(l[0], r[0])) expected.push(`${l[1]}-${r[1]}`);
        expected.sort();
        expect(run(left, right, Infinity)).toEqual(expected); // the left rows are built
        expect(run(left, right, 0)).toEqual(expected); // the right rows are built
      }),
      { numRuns: 2000 },
    );
  });
});
