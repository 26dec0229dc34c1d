// DECIMAL/NUMERIC through SQL: exact, with precision and scale kept, as
// PostgreSQL's numeric (§8.1.2, Tables 9.4 and 9.5 of its documentation give
// the expected results). Values leave the engine as their text ('12.30').
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './database';

const SCHEMA = `CREATE NAMESPACE shop; CREATE SHARED TABLE shop.prices (id INT PRIMARY KEY, amount DECIMAL(10, 2), ratio NUMERIC, cat TEXT)`;

async function withDb<T>(run: (s: ReturnType<Awaited<ReturnType<typeof openDatabase>>['session']>) => Promise<T>): Promise<T> {
  const db = await openDatabase({ name: 'decimal', storage: 'memory' });
  try {
    const s = db.session({ user: 'root', role: 'system' });
    await s.execute(SCHEMA);
    return await run(s);
  } finally {
    await db.close();
  }
}

describe('DECIMAL columns', () => {
  it('store values rounded to the declared scale and hand them out as exact text', async () => {
    await withDb(async (s) => {
      await s.execute(`INSERT INTO shop.prices (id, amount, ratio, cat) VALUES (1, 12.3, 0.1, 'a'), (2, '2.005', 0.2, 'a'), (3, 7, 1.5, 'b')`);
      const { rows } = await s.query('SELECT id, amount, ratio FROM shop.prices ORDER BY id');
      expect(rows).toEqual([
        { id: 1, amount: '12.30', ratio: '0.1' },
        { id: 2, amount: '2.01', ratio: '0.2' },
        { id: 3, amount: '7.00', ratio: '1.5' },
      ]);
    });
  });

  it('refuse a value with too many integer digits with OUT_OF_RANGE (numeric field overflow)', async () => {
    await withDb(async (s) => {
      await expect(s.execute(`INSERT INTO shop.prices (id, amount) VALUES (1, 123456789.99)`)).rejects.toMatchObject({ code: 'OUT_OF_RANGE', message: expect.stringMatching(/numeric field overflow/) });
      await expect(s.execute(`INSERT INTO shop.prices (id, amount) VALUES (1, 'ten')`)).rejects.toMatchObject({ code: 'TYPE_MISMATCH' });
    });
  });

  it('compute + - * / exactly with PostgreSQL result scales', async () => {
    await withDb(async (s) => {
      await s.execute(`INSERT INTO shop.prices (id, amount, ratio) VALUES (1, 0.10, 0.2)`);
      const { rows } = await s.query(`SELECT amount + ratio AS a, amount - 1 AS b, amount * ratio AS c, amount / 3 AS d, ratio * 1.5 AS e, -amount AS f FROM shop.prices`);
      expect(rows[0]).toEqual({ a: '0.30', b: '-0.90', c: '0.020', d: '0.03333333333333333333', e: '0.30', f: '-0.10' });
      // Table 9.4: 5.0 / 2 → 2.5000000000000000
      expect((await s.query(`SELECT 5.0::NUMERIC / 2 AS q, '1.50'::NUMERIC AS keep`)).rows[0]).toEqual({ q: '2.5000000000000000', keep: '1.50' });
    });
  });

  it('compare, order, group, SUM, AVG, MIN and MAX exactly', async () => {
    await withDb(async (s) => {
      await s.execute(`INSERT INTO shop.prices (id, amount, cat) VALUES (1, 10.00, 'a'), (2, 9.50, 'a'), (3, 0.10, 'b'), (4, 0.20, 'b'), (5, 10, 'c')`);
      const ordered = await s.query(`SELECT id FROM shop.prices ORDER BY amount DESC, id`);
      expect(ordered.rows.map((r) => r.id)).toEqual([1, 5, 2, 4, 3]);
      const where = await s.query(`SELECT id FROM shop.prices WHERE amount = '10' ORDER BY id`);
      expect(where.rows.map((r) => r.id)).toEqual([1, 5]);
      const grouped = await s.query(`SELECT amount, count(*) AS n FROM shop.prices GROUP BY amount ORDER BY amount`);
      expect(grouped.rows).toEqual([{ amount: '0.10', n: 1 }, { amount: '0.20', n: 1 }, { amount: '9.50', n: 1 }, { amount: '10.00', n: 2 }]);
      const agg = await s.query(`SELECT cat, sum(amount) AS s, avg(amount) AS a, min(amount) AS lo, max(amount) AS hi FROM shop.prices GROUP BY cat ORDER BY cat`);
      expect(agg.rows).toEqual([
        { cat: 'a', s: '19.50', a: '9.7500000000000000', lo: '9.50', hi: '10.00' },
        { cat: 'b', s: '0.30', a: '0.15000000000000000000', lo: '0.10', hi: '0.20' },
        { cat: 'c', s: '10.00', a: '10.0000000000000000', lo: '10.00', hi: '10.00' },
      ]);
      await expect(s.query(`SELECT id FROM shop.prices WHERE amount = 'abc'`)).rejects.toMatchObject({ code: 'TYPE_MISMATCH' });
    });
  });

  it('refuse a SUM past 38 digits, the most a DECIMAL holds (as Decimal128 in KalamDB), with OUT_OF_RANGE', async () => {
    await withDb(async (s) => {
      await s.execute(`CREATE SHARED TABLE shop.big (id INT PRIMARY KEY, v DECIMAL(38, 0))`);
      const nines = '9'.repeat(38);
      await s.execute(`INSERT INTO shop.big (id, v) VALUES (1, '${nines}'), (2, '1')`);
      await expect(s.query('SELECT sum(v) AS s FROM shop.big')).rejects.toMatchObject({ code: 'OUT_OF_RANGE', message: expect.stringMatching(/numeric field overflow: sum\(\)/) });
      await expect(s.query('SELECT avg(v) AS a FROM shop.big')).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
      // One digit less sums: the bound is the 38 digits, not the column's precision.
      expect((await s.query(`SELECT sum(v) AS s FROM shop.big WHERE id = 1`)).rows).toEqual([{ s: nines }]);
    });
  });

  it('cast to and from text, integers and floats; round/trunc/ceil/floor/abs stay exact', async () => {
    await withDb(async (s) => {
      await s.execute(`INSERT INTO shop.prices (id, amount) VALUES (1, -2.50)`);
      const { rows } = await s.query(
        `SELECT amount::TEXT AS t, amount::INT AS i, amount::BIGINT AS b, amount::DOUBLE AS f, round(amount) AS r, trunc(amount) AS tr, ceil(amount) AS c, floor(amount) AS fl, abs(amount) AS ab, round(amount, 1) AS r1 FROM shop.prices`,
      );
      // A cast to NUMERIC(p, s) fits the value as a column would.
      expect((await s.query(`SELECT 12.345::NUMERIC(5, 2) AS a, CAST('2.5' AS DECIMAL(5)) AS b, amount::NUMERIC(6, 3) AS c FROM shop.prices`)).rows).toEqual([{ a: '12.35', b: '3', c: '-2.500' }]);
      await expect(s.query(`SELECT CAST(1234.5 AS NUMERIC(5, 2)) AS x`)).rejects.toMatchObject({ code: 'OUT_OF_RANGE', message: expect.stringMatching(/^numeric field overflow: 1234.5 does not fit a cast to NUMERIC\(5,2\)/) });
      // numeric → integer rounds half away from zero (§8.1.2)
      expect(rows[0]).toEqual({ t: '-2.50', i: -3, b: -3n, f: -2.5, r: '-3', tr: '-2', c: '-2', fl: '-3', ab: '2.50', r1: '-2.5' });
    });
  });

  it('survive a reopen of an IndexedDB database and a flush to a cold segment', async () => {
    const indexedDB = new IDBFactory();
    const first = await openDatabase({ storage: 'idb', name: 'dec', indexedDB });
    const s = first.session({ user: 'root', role: 'system' });
    await s.execute(SCHEMA);
    await s.execute(`INSERT INTO shop.prices (id, amount) VALUES (1, 12.30), (2, 0.05)`);
    await first.close();
    const again = await openDatabase({ storage: 'idb', name: 'dec', indexedDB });
    try {
      const t = again.session({ user: 'root', role: 'system' });
      expect((await t.query('SELECT amount, amount * 2 AS twice FROM shop.prices ORDER BY id')).rows).toEqual([{ amount: '12.30', twice: '24.60' }, { amount: '0.05', twice: '0.10' }]);
      await t.execute('FLUSH TABLE shop.prices');
      await t.execute(`INSERT INTO shop.prices (id, amount) VALUES (3, 1.10)`);
      expect((await t.query('SELECT sum(amount) AS s FROM shop.prices')).rows).toEqual([{ s: '13.45' }]);
      expect((await t.query('SELECT id FROM shop.prices WHERE amount > 1 ORDER BY amount')).rows).toEqual([{ id: 3 }, { id: 1 }]);
    } finally {
      await again.close();
    }
  });

  it('take ALTER TABLE … MODIFY COLUMN to DECIMAL(p, s) by fitting every value (or refusing the change on overflow)', async () => {
    await withDb(async (s) => {
      await s.execute(`CREATE SHARED TABLE shop.m (id INT PRIMARY KEY, x DOUBLE)`);
      await s.execute(`INSERT INTO shop.m (id, x) VALUES (1, 2.345), (2, 10)`);
      await s.execute(`ALTER TABLE shop.m MODIFY COLUMN x DECIMAL(6, 2)`);
      expect((await s.query('SELECT x FROM shop.m ORDER BY id')).rows).toEqual([{ x: '2.35' }, { x: '10.00' }]);
      await expect(s.execute(`ALTER TABLE shop.m MODIFY COLUMN x DECIMAL(2, 1)`)).rejects.toMatchObject({ code: 'OUT_OF_RANGE' });
      expect((await s.query('SELECT x FROM shop.m ORDER BY id')).rows).toEqual([{ x: '2.35' }, { x: '10.00' }]);
    });
  });

  it('keep a live query ordered by a DECIMAL column exact as rows arrive and change (9.50 before 10.00)', async () => {
    await withDb(async (s) => {
      const seen: (readonly Record<string, unknown>[])[] = [];
      const stop = await s.live('SELECT id, amount FROM shop.prices WHERE amount > 0.1 ORDER BY amount DESC LIMIT 2', undefined, (rows) => seen.push(rows));
      await s.execute(`INSERT INTO shop.prices (id, amount) VALUES (1, 9.5), (2, 10), (3, 0.1)`);
      await expect.poll(() => seen.at(-1)).toEqual([{ id: 2, amount: '10.00' }, { id: 1, amount: '9.50' }]);
      await s.execute(`UPDATE shop.prices SET amount = 10.01 WHERE id = 1`);
      await expect.poll(() => seen.at(-1)).toEqual([{ id: 1, amount: '10.01' }, { id: 2, amount: '10.00' }]);
      stop();
    });
  });

  it('serve as a primary key across the hot and cold tiers: 1.50 and 1.5 are one key', async () => {
    const db = await openDatabase({ name: 'pk', storage: 'memory' });
    try {
      const s = db.session({ user: 'root', role: 'system' });
      await s.execute(`CREATE NAMESPACE a; CREATE SHARED TABLE a.t (id DECIMAL(10, 2) PRIMARY KEY, v INT)`);
      await s.execute(`INSERT INTO a.t (id, v) VALUES (1.5, 1), (2, 2), (10, 3)`);
      await s.execute('FLUSH TABLE a.t');
      await s.execute(`UPDATE a.t SET v = 20 WHERE id = 2`);
      await expect(s.execute(`INSERT INTO a.t (id, v) VALUES ('1.50', 9)`)).rejects.toMatchObject({ code: 'PRIMARY_KEY_VIOLATION' });
      expect((await s.query('SELECT * FROM a.t ORDER BY id')).rows).toEqual([{ id: '1.50', v: 1 }, { id: '2.00', v: 20 }, { id: '10.00', v: 3 }]);
      expect((await s.query('SELECT v FROM a.t WHERE id = 10')).rows).toEqual([{ v: 3 }]);
    } finally {
      await db.close();
    }
  });

  it('read a database written before DECIMAL was exact (floats in the column) as decimals', async () => {
    const indexedDB = new IDBFactory();
    const first = await openDatabase({ storage: 'idb', name: 'old', indexedDB });
    const s = first.session({ user: 'root', role: 'system' });
    await s.execute(SCHEMA);
    await s.execute(`INSERT INTO shop.prices (id, amount, ratio) VALUES (1, 12.30, 0.1), (2, 7, 2.5)`);
    await first.close();
    // Rewrite the stored rows as the float-DECIMAL engine wrote them: each Decimal ({ unscaled, scale } once cloned) a JS number.
    await rewriteStoredDecimalsAsFloats(indexedDB, 'old');
    const again = await openDatabase({ storage: 'idb', name: 'old', indexedDB });
    try {
      const t = again.session({ user: 'root', role: 'system' });
      expect((await t.query('SELECT id, amount, ratio, ratio * 3 AS r3 FROM shop.prices ORDER BY id')).rows).toEqual([
        { id: 1, amount: '12.30', ratio: '0.1', r3: '0.3' }, // at the column's scale, as if stored now
        { id: 2, amount: '7.00', ratio: '2.5', r3: '7.5' },
      ]);
      expect((await t.query('SELECT sum(ratio) AS s FROM shop.prices')).rows).toEqual([{ s: '2.6' }]);
    } finally {
      await again.close();
    }
  });
});

/** Replaces every stored `{ unscaled, scale }` (a cloned Decimal) in `name`'s object stores by the float it stands for. */
async function rewriteStoredDecimalsAsFloats(factory: IDBFactory, name: string): Promise<void> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const r = factory.open(name);
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  const toFloat = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(toFloat);
    if (v && typeof v === 'object' && !(v instanceof Uint8Array)) {
      const o = v as Record<string, unknown>;
      if (typeof o.unscaled === 'bigint' && typeof o.scale === 'number') return Number(o.unscaled) / 10 ** o.scale;
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, toFloat(x)]));
    }
    return v;
  };
  let rewritten = 0;
  for (const store of Array.from(db.objectStoreNames)) {
    const tx = db.transaction(store, 'readwrite');
    const os = tx.objectStore(store);
    await new Promise<void>((resolve, reject) => {
      const req = os.openCursor();
      req.onsuccess = () => {
        const c = req.result;
        if (!c) return resolve();
        const next = toFloat(c.value);
        if (JSON.stringify(next, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)) !== JSON.stringify(c.value, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))) {
          c.update(next);
          rewritten++;
        }
        c.continue();
      };
      req.onerror = () => reject(req.error);
    });
  }
  db.close();
  expect(rewritten).toBeGreaterThan(0);
}
