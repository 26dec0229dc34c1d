/**
 * SQL extensions (execute/sql-extensions.ts) load before the statement that
 * needs them is planned. Each test imports the engine afresh
 * (vi.resetModules), so no extension is loaded when it starts: every
 * statement here is an extension's first use.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Database } from '../api/database';
import type { Row } from '../core/types';

const opened: Database[] = [];

/** A fresh copy of the engine's modules (nothing loaded) and a database on it. */
async function freshDatabase(options: Record<string, unknown> = { storage: 'memory' }) {
  vi.resetModules();
  const { openDatabase } = await import('../api/database');
  const db = await openDatabase(options as unknown as Parameters<typeof openDatabase>[0]);
  opened.push(db);
  const s = db.session({ user: 'root', role: 'dba' });
  return { db, s };
}

async function seeded(options?: Record<string, unknown>) {
  const { db, s } = await freshDatabase(options);
  await s.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.t (id INT PRIMARY KEY, name TEXT, v INT)`);
  await s.execute(`INSERT INTO app.t (id, name, v) VALUES (1, 'apple', 10), (2, 'banana', 20), (3, 'cherry', 30)`);
  return { db, s };
}

afterEach(async () => {
  for (const db of opened.splice(0)) await db.close();
});

const values = (rows: readonly Row[]) => rows.map((r) => Object.values(r));

/** One statement per extension, with what it returns. */
const CASES = [
  { extension: 'window functions', select: 'SELECT id, sum(v) OVER (ORDER BY id) AS s FROM app.t', rows: [[1, 10], [2, 30], [3, 60]] },
  { extension: 'regular expressions (operator)', select: `SELECT id FROM app.t WHERE name ~ '^b'`, rows: [[2]] },
  { extension: 'regular expressions (function)', select: `SELECT regexp_replace(name, 'a', 'A', 'g') AS r FROM app.t WHERE id = 2`, rows: [['bAnAnA']] },
  { extension: 'JSON (operator)', select: `SELECT id, '{"a": 7}'::json ->> 'a' AS a FROM app.t WHERE id = 1`, rows: [[1, '7']] },
  { extension: 'JSON (function)', select: `SELECT json_build_object('n', v) AS j FROM app.t WHERE id = 3`, rows: [[{ n: 30 }]] },
  { extension: 'generate_series', select: `SELECT g.i, t.name FROM generate_series(1, 2) AS g (i) JOIN app.t AS t ON t.id = g.i`, rows: [[1, 'apple'], [2, 'banana']] },
  { extension: 'JOIN … USING', select: `SELECT id, a.name FROM app.t AS a JOIN app.t AS b USING (id) WHERE id = 2`, rows: [[2, 'banana']] },
  { extension: 'text functions', select: `SELECT upper(name) AS u FROM app.t WHERE length(name) = 6 ORDER BY id`, rows: [['BANANA'], ['CHERRY']] },
  { extension: 'DECIMAL arithmetic', select: 'SELECT id, v::NUMERIC / 4 AS q FROM app.t ORDER BY id', rows: [[1, '2.5000000000000000'], [2, '5.0000000000000000'], [3, '7.5000000000000000']] },
  { extension: 'EMBEDDING vectors (distance functions)', select: `SELECT id, l2_distance('[0, 3]', '[4, 0]') AS d FROM app.t WHERE id = 1`, rows: [[1, 5]] },
  { extension: 'INTERVAL', select: `SELECT id, v * INTERVAL '1 minute' AS d FROM app.t WHERE id < 3 ORDER BY id`, rows: [[1, '00:10:00'], [2, '00:20:00']] },
  { extension: 'EXTRACT', select: `SELECT id, extract(year FROM TIMESTAMP '2024-05-01') AS y FROM app.t WHERE id = 1`, rows: [[1, 2024]] },
  { extension: 'INTERVAL (timestamp subtraction)', select: `SELECT id, TIMESTAMP '2024-01-02' - TIMESTAMP '2024-01-01 12:00' AS d FROM app.t WHERE id = 1`, rows: [[1, '12:00:00']] },
] as const;

describe('SQL extensions load on first use', () => {
  it('index statements: CREATE INDEX and ALTER TABLE … CREATE INDEX as the first statements of a fresh engine', async () => {
    const { s } = await seeded();
    await s.execute('CREATE INDEX by_name ON app.t (name)');
    await s.execute('ALTER TABLE app.t CREATE INDEX v');
    expect((await s.query('SELECT index_name FROM system.indexes ORDER BY index_name')).rows).toEqual([{ index_name: 'by_name' }, { index_name: 't_v_idx' }]);
  });

  it('ALTER TABLE: its parser loads when the first ALTER TABLE of a fresh engine comes, alone or in a script', async () => {
    const { s } = await seeded();
    await s.execute('ALTER TABLE app.t ADD COLUMN note TEXT');
    expect((await s.query('SELECT id, note FROM app.t WHERE id = 1')).rows).toEqual([{ id: 1, note: null }]);
    const fresh = await seeded();
    await fresh.s.execute(`INSERT INTO app.t (id, name, v) VALUES (4, 'date', 40);
      ALTER TABLE app.t DROP COLUMN v`);
    expect((await fresh.s.query('SELECT * FROM app.t WHERE id = 4')).rows).toEqual([{ id: 4, name: 'date' }]);
  });

  it('SUBSCRIBE TO: its parser loads for the first SUBSCRIBE of a fresh engine, through live() and through execute()', async () => {
    const { s } = await seeded();
    let latest: readonly Row[] = [];
    const stop = await s.live('SUBSCRIBE TO app.t WHERE v > 15', [], (rows) => { latest = rows; });
    expect(values(latest)).toEqual([[2, 'banana', 20], [3, 'cherry', 30]]);
    stop();
    const fresh = await seeded();
    const [res] = await fresh.s.execute('SUBSCRIBE TO app.t OPTIONS (last_rows = 1)');
    expect(res.rows).toHaveLength(1);
  });

  it('INTERVAL arithmetic on dates and timestamps that functions make loads on the first such statement (no date column in the catalog)', async () => {
    const { s } = await seeded();
    expect((await s.query('SELECT make_date(2024, 3, 1) - make_date(2024, 1, 1) AS d')).rows).toEqual([{ d: 60 }]);
    const fresh = await seeded();
    expect((await fresh.s.query(`SELECT make_timestamp(2024, 1, 2, 0, 0, 0) - to_timestamp(0) > INTERVAL '1 day' AS later`)).rows).toEqual([{ later: true }]);
  });

  it('CREATE USER: its parser loads for the first statement that says USER', async () => {
    const { s } = await seeded();
    await s.execute(`CREATE USER 'dave' ROLE user`);
    expect((await s.query(`SELECT user_id FROM system.users WHERE user_id = 'dave'`)).rows).toEqual([{ user_id: 'dave' }]);
  });

  it("a topic source's WHERE gets what it needs at the next open, before the first commit routes a row through it", async () => {
    const indexedDB = new IDBFactory();
    const first = await seeded({ storage: 'idb', name: 'route', indexedDB });
    await first.s.execute(`CREATE SHARED TABLE app.ev (id INT PRIMARY KEY, happened TIMESTAMP); CREATE TOPIC feed;
      ALTER TOPIC feed ADD SOURCE app.ev ON INSERT WHERE extract(hour FROM happened) >= 8`);
    await first.db.close();
    // A new engine (new modules): nothing loaded, and the commit below names neither EXTRACT nor the topic.
    const { s } = await freshDatabase({ storage: 'idb', name: 'route', indexedDB });
    await s.execute(`INSERT INTO app.ev (id, happened) VALUES (1, '2024-01-01 09:00:00'), (2, '2024-01-01 07:00:00')`);
    const messages = (await s.query('CONSUME FROM feed FROM EARLIEST')).rows;
    expect(messages.map((m) => (m.key as { id: number } | undefined)?.id ?? m.key)).toEqual([1]);
  });

  it('system.settings: the descriptions load before the first statement that reads it, and every setting has one', async () => {
    const { s } = await seeded();
    const rows = (await s.query('SELECT name, description FROM system.settings')).rows;
    expect(rows.length).toBeGreaterThan(40);
    expect(rows.filter((r) => typeof r.description !== 'string' || r.description.length < 5)).toEqual([]);
    expect(rows.find((r) => r.name === 'max_sql_length')?.description).toBe('Characters of SQL text in one call');
  });

  for (const c of CASES) {
    it(`${c.extension}: a query`, async () => {
      const { s } = await seeded();
      expect(values((await s.query(c.select)).rows)).toEqual(c.rows);
    });

    it(`${c.extension}: EXPLAIN`, async () => {
      const { s } = await seeded();
      const plan = await s.query(`EXPLAIN ${c.select}`);
      expect(plan.rows.length).toBeGreaterThan(0);
    });

    it(`${c.extension}: a live query`, async () => {
      const { s } = await seeded();
      let latest: readonly Row[] = [];
      const stop = await s.live(c.select, [], (rows) => { latest = rows; });
      expect(values(latest)).toEqual(c.rows);
      stop();
    });

    it(`${c.extension}: a view, created and read`, async () => {
      const { s } = await seeded();
      await s.execute(`CREATE VIEW app.v AS ${c.select}`);
      expect(values((await s.query('SELECT * FROM app.v')).rows)).toEqual(c.rows);
    });

    it(`${c.extension}: a view read after a reopen, the statement itself naming none`, async () => {
      const indexedDB = new IDBFactory();
      const first = await seeded({ storage: 'idb', name: 'ext', indexedDB });
      await first.s.execute(`CREATE VIEW app.v AS ${c.select}`);
      await first.db.close();
      // A new engine (new modules) over the same data: the view's body needs what its reader does not name.
      const { s } = await freshDatabase({ storage: 'idb', name: 'ext', indexedDB });
      expect(values((await s.query('SELECT * FROM app.v')).rows)).toEqual(c.rows);
      let latest: readonly Row[] = [];
      const stop = await s.live('SELECT * FROM app.v', [], (rows) => { latest = rows; });
      expect(values(latest)).toEqual(c.rows);
      stop();
    });
  }

  it('UPDATE … SET (columns) = (SELECT …) as the first statement of a fresh engine', async () => {
    const { s } = await seeded();
    await s.execute(`UPDATE app.t SET (name, v) = (SELECT upper(name), v * 2 FROM app.t AS o WHERE o.id = t.id) WHERE id = 2`);
    expect(values((await s.query('SELECT name, v FROM app.t WHERE id = 2')).rows)).toEqual([['BANANA', 40]]);
  });

  it('a statement that needs no extension loads none', async () => {
    const { s } = await seeded();
    const before = await import('../plan/window-check');
    expect(values((await s.query('SELECT id FROM app.t WHERE v > 15 ORDER BY id')).rows)).toEqual([[2], [3]]);
    expect(() => before.windowPlanner()).toThrow(/not loaded/);
    const decimals = await import('../core/decimal-registry');
    expect(() => decimals.decimalMath()).toThrow(/not loaded/);
    expect((await import('../core/vector-registry')).vectorMath).toBeUndefined();
    const intervals = await import('../core/interval-registry');
    expect(() => intervals.intervalMath()).toThrow(/not loaded/);
  });

  it('INTERVAL: an open of a database with an INTERVAL column, and a subtraction of TIMESTAMP columns, for statements that do not name the type', async () => {
    const indexedDB = new IDBFactory();
    const first = await freshDatabase({ storage: 'idb', name: 'iv', indexedDB });
    await first.s.execute(`CREATE NAMESPACE app; CREATE SHARED TABLE app.d (id INT PRIMARY KEY, d INTERVAL);
      CREATE SHARED TABLE app.e (id INT PRIMARY KEY, a TIMESTAMP, b TIMESTAMP)`);
    await first.s.execute(`INSERT INTO app.d (id, d) VALUES (1, '90 minutes'); INSERT INTO app.e (id, a, b) VALUES (1, '2024-01-01', '2024-01-03')`);
    await first.db.close();
    const { s } = await freshDatabase({ storage: 'idb', name: 'iv', indexedDB });
    expect((await s.query('SELECT d * 2 AS twice FROM app.d')).rows).toEqual([{ twice: '03:00:00' }]);
    const again = await freshDatabase({ storage: 'idb', name: 'iv', indexedDB: new IDBFactory() });
    await again.s.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.e (id INT PRIMARY KEY, a TIMESTAMP, b TIMESTAMP)');
    await again.s.execute(`INSERT INTO app.e (id, a, b) VALUES (1, '2024-01-01', '2024-01-03')`);
    expect((await again.s.query('SELECT b - a AS d FROM app.e')).rows).toEqual([{ d: '2 days' }]);
  });

  it('DECIMAL arithmetic: an open of a database with a DECIMAL column, for statements that do not name the type', async () => {
    const indexedDB = new IDBFactory();
    const first = await freshDatabase({ storage: 'idb', name: 'dec', indexedDB });
    await first.s.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.d (id INT PRIMARY KEY, amount DECIMAL(6, 2))');
    await first.s.execute('INSERT INTO app.d (id, amount) VALUES (1, 1.25)');
    await first.db.close();
    const { s } = await freshDatabase({ storage: 'idb', name: 'dec', indexedDB });
    expect((await s.query('SELECT amount * 2 AS twice FROM app.d')).rows).toEqual([{ twice: '2.50' }]);
    expect((await s.query('SELECT sum(amount) AS total FROM app.d WHERE amount > 1')).rows).toEqual([{ total: '1.25' }]);
  });

  it('EMBEDDING vectors: an open of a database with an EMBEDDING column, for writes that do not name the type', async () => {
    const indexedDB = new IDBFactory();
    const first = await freshDatabase({ storage: 'idb', name: 'vec', indexedDB });
    await first.s.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.e (id INT PRIMARY KEY, v EMBEDDING(2))');
    await first.db.close();
    const { db, s } = await freshDatabase({ storage: 'idb', name: 'vec', indexedDB });
    await s.execute(`INSERT INTO app.e (id, v) VALUES (1, '[1, 2]')`);
    await db.session({ user: 'root', role: 'dba' }).insertMany('app.e', [{ id: 2, v: [3, 4] }]);
    expect((await s.query('SELECT v FROM app.e ORDER BY id')).rows).toEqual([{ v: new Float32Array([1, 2]) }, { v: new Float32Array([3, 4]) }]);
  });
});
