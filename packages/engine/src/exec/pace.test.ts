import { afterEach, describe, expect, it } from 'vitest';
import { Engine, type OpenOptions, type SessionState } from '../execute/engine';
import { KalamError } from '../core/errors';
import type { Tuple } from './context';
import { checkStop, collect, drain, newPace, paced, PAUSE } from './pace';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'app' };
const alice: SessionState = { user: 'alice', role: 'user', namespace: 'app' };

let open: Engine[] = [];
afterEach(async () => {
  for (const e of open) await e.close();
  open = [];
});

async function engineWith(options: Partial<OpenOptions>): Promise<Engine> {
  const engine = await Engine.open({ storage: 'memory', ...options });
  open.push(engine);
  await engine.execute({ ...root, namespace: 'default' }, `CREATE NAMESPACE app;
    CREATE SHARED TABLE app.a (id INT PRIMARY KEY, k INT, name TEXT) WITH (ACCESS_LEVEL = 'public');
    CREATE SHARED TABLE app.b (id INT PRIMARY KEY, a_id INT, score DOUBLE) WITH (ACCESS_LEVEL = 'public');
    CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT)`);
  const a = Array.from({ length: 300 }, (_, i) => `(${i}, ${i % 7}, 'n${i % 13}')`).join(', ');
  const b = Array.from({ length: 300 }, (_, i) => `(${i}, ${(i * 7) % 300}, ${(i % 11) * 1.5})`).join(', ');
  await engine.execute(root, `INSERT INTO app.a (id, k, name) VALUES ${a}`);
  await engine.execute(root, `INSERT INTO app.b (id, a_id, score) VALUES ${b}`);
  return engine;
}

const ROWS = async (engine: Engine, sql: string, state = root) => (await engine.execute(state, sql)).map((r) => r.rows);

/** Query shapes through every operator: joins, aggregates, sorts, set operations, subqueries, CTEs, derived tables, writes. */
const CORPUS = [
  'SELECT id, name FROM app.a WHERE k = 3',
  'SELECT a.id, b.score FROM app.a a JOIN app.b b ON b.a_id = a.id WHERE b.score > 3 ORDER BY a.id, b.id',
  'SELECT a.id, b.id FROM app.a a LEFT JOIN app.b b ON b.a_id = a.id AND b.score > 10 ORDER BY a.id LIMIT 40 OFFSET 5',
  'SELECT a.id, b.id FROM app.a a JOIN app.b b ON b.a_id < a.id AND a.id < 12 ORDER BY a.id, b.id',
  'SELECT k, COUNT(*) AS n, SUM(id) AS s, AVG(id) AS avg, MIN(name) AS lo, MAX(name) AS hi FROM app.a GROUP BY k HAVING COUNT(*) > 40 ORDER BY k',
  'SELECT COUNT(*) AS n, COUNT(DISTINCT name) AS names FROM app.a',
  'SELECT DISTINCT name FROM app.a ORDER BY name',
  'SELECT id FROM app.a ORDER BY name DESC, id LIMIT 17',
  'SELECT name FROM app.a WHERE id < 50 UNION SELECT name FROM app.a WHERE id > 250 ORDER BY 1',
  'SELECT k FROM app.a INTERSECT SELECT a_id % 7 FROM app.b ORDER BY 1',
  'SELECT k FROM app.a EXCEPT SELECT a_id FROM app.b WHERE a_id < 3 ORDER BY 1',
  'SELECT id, (SELECT MAX(score) FROM app.b WHERE b.a_id = a.id) AS best FROM app.a a WHERE id < 30 ORDER BY id',
  'SELECT id FROM app.a a WHERE EXISTS (SELECT 1 FROM app.b WHERE b.a_id = a.id AND b.score > 12) ORDER BY id',
  'SELECT id FROM app.a WHERE id IN (SELECT a_id FROM app.b WHERE score < 2) ORDER BY id',
  'SELECT id FROM app.a WHERE id NOT IN (SELECT a_id FROM app.b) ORDER BY id',
  'WITH big AS (SELECT a_id, score FROM app.b WHERE score > 5) SELECT a.name, COUNT(*) AS n FROM app.a a JOIN big ON big.a_id = a.id GROUP BY a.name ORDER BY a.name',
  'SELECT t.k, t.n FROM (SELECT k, COUNT(*) AS n FROM app.a GROUP BY k) t WHERE t.n > 42 ORDER BY t.k',
  'SELECT x.id, y.id FROM app.a x, app.a y WHERE x.id < 20 AND y.id < 20 AND x.k = y.k ORDER BY x.id, y.id',
  'SELECT id, rank() OVER (PARTITION BY k ORDER BY name), lag(name, 2) OVER (ORDER BY id), sum(id) OVER (PARTITION BY k ORDER BY id ROWS BETWEEN 3 PRECEDING AND 1 FOLLOWING) FROM app.a ORDER BY id',
  'SELECT k, count(*) AS n, rank() OVER (ORDER BY count(*) DESC, k) FROM app.a GROUP BY k ORDER BY k',
];

describe('pacing a statement', () => {
  it('gives the same answers when every row is a pause point as when none is', async () => {
    const plain = await engineWith({ statementSliceMs: 1_000_000 });
    const paused = await engineWith({ statementSliceMs: 0 });
    for (const sql of CORPUS) expect([sql, await ROWS(paused, sql)]).toEqual([sql, await ROWS(plain, sql)]);
    // Writes compute their changes through the same operators.
    for (const e of [plain, paused]) {
      await e.execute(alice, 'INSERT INTO app.notes (id, body) SELECT id, name FROM app.a WHERE k = 2');
      await e.execute(root, 'UPDATE app.b SET score = score + 1 WHERE a_id IN (SELECT id FROM app.a WHERE k = 1)');
      await e.execute(root, 'DELETE FROM app.b WHERE id IN (SELECT id FROM app.a WHERE name = \'n3\')');
    }
    for (const sql of ['SELECT * FROM app.b ORDER BY id']) expect(await ROWS(paused, sql)).toEqual(await ROWS(plain, sql));
    expect(await ROWS(paused, 'SELECT * FROM app.notes ORDER BY id', alice)).toEqual(await ROWS(plain, 'SELECT * FROM app.notes ORDER BY id', alice));
  });

  it('lets other statements run while a long query is paused, then finishes it', async () => {
    const engine = await engineWith({ statementSliceMs: 0 });
    const order: string[] = [];
    // 300 × 300 pairs through a nested loop: thousands of pause points.
    const long = engine.execute(root, 'SELECT COUNT(*) AS n FROM app.a x JOIN app.b y ON x.k < y.score').then((r) => {
      order.push('long');
      return r[0].rows[0].n;
    });
    const short = engine.execute(alice, "INSERT INTO app.notes (id, body) VALUES (1, 'while it runs')").then(() => order.push('write'));
    await Promise.all([long, short]);
    expect(order).toEqual(['write', 'long']);
    expect(await long).toBeGreaterThan(10_000);
  });

  it('stops a statement past its time budget with STATEMENT_TIMEOUT, and the engine keeps answering', async () => {
    const engine = await engineWith({ statementTimeoutMs: 50 });
    const error = await engine.execute(root, 'SELECT COUNT(*) FROM app.a x, app.a y, app.a z').then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(KalamError);
    expect((error as KalamError).code).toBe('STATEMENT_TIMEOUT');
    expect((error as KalamError).message).toContain('statementTimeoutMs');
    expect((await ROWS(engine, 'SELECT COUNT(*) AS n FROM app.a'))[0]).toEqual([{ n: 300 }]);
  });

  it('stops a write computing its changes past the budget, writing nothing', async () => {
    const engine = await engineWith({ statementTimeoutMs: 50 });
    const error = await engine
      .execute(root, 'UPDATE app.a SET k = 0 WHERE id IN (SELECT x.id FROM app.a x, app.a y, app.a z WHERE x.id = y.id + z.id)')
      .then(() => undefined, (e: unknown) => e);
    expect((error as KalamError).code).toBe('STATEMENT_TIMEOUT');
    expect((await ROWS(engine, 'SELECT COUNT(*) AS n FROM app.a WHERE k = 0'))[0]).toEqual([{ n: 43 }]);
  });
});

describe('the pace primitives', () => {
  const rows = (n: number): Tuple[] => Array.from({ length: n }, (_, i) => [i]);

  it('paced() puts a pause before every row when the slice is 0, and none when unpaced', () => {
    const ctx = { pace: newPace(0, 0) } as never;
    const out = [...paced(rows(3), ctx)];
    expect(out.filter((r) => r === PAUSE)).toHaveLength(3);
    expect(collect(out)).toEqual(rows(3));
    expect([...paced(rows(3), {} as never)]).toEqual(rows(3));
  });

  it('drain() skips pauses and starts a new slice after each', async () => {
    const pace = newPace(0, 0);
    const ctx = { pace } as never;
    const before = pace.sliceStart;
    expect(await drain(paced(rows(5), ctx), ctx)).toEqual(rows(5));
    expect(pace.sliceStart).toBeGreaterThanOrEqual(before);
  });

  it('checkStop() refuses a cancelled statement with QUERY_CANCELLED and its reason', () => {
    const pace = newPace(8, 0, { isCancelled: true, reason: 'the client went away' });
    expect(() => checkStop(pace)).toThrow(expect.objectContaining({ code: 'QUERY_CANCELLED', message: expect.stringContaining('the client went away') }));
    expect(() => checkStop(newPace(8, 0, { isCancelled: false }))).not.toThrow();
  });
});
