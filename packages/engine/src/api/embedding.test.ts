// EMBEDDING(n) columns through SQL: DDL, writes from text, arrays and
// Float32Arrays, results as Float32Array copies, both tiers, live queries,
// Arrow results, row types, and the distance functions with ORDER BY … LIMIT.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Session } from './database';
import { schemaTypes } from './schema-types';
import { random } from '../core/seeded-random.fixture';

const SCHEMA = `CREATE NAMESPACE app; CREATE SHARED TABLE app.docs (id INT PRIMARY KEY, v EMBEDDING(3), tag TEXT)`;

async function withDb<T>(run: (s: Session) => Promise<T>): Promise<T> {
  const db = await openDatabase({ name: 'emb', storage: 'memory' });
  try {
    const s = db.session({ user: 'root', role: 'system' });
    await s.execute(SCHEMA);
    return await run(s);
  } finally {
    await db.close();
  }
}

const f32 = (xs: number[]) => new Float32Array(xs);


function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return 1 - d / Math.sqrt(na * nb);
}

describe('EMBEDDING(n) columns', () => {
  it('accept a dimension from 1 to 8192 and refuse any other with INVALID_SQL saying what to write', async () => {
    await withDb(async (s) => {
      await s.execute('CREATE SHARED TABLE app.big (id INT PRIMARY KEY, a EMBEDDING(1), b EMBEDDING(8192))');
      for (const bad of ['EMBEDDING(0)', 'EMBEDDING(8193)', 'EMBEDDING', 'EMBEDDING(3, 1)']) {
        await expect(s.execute(`CREATE SHARED TABLE app.bad (id INT PRIMARY KEY, e ${bad})`)).rejects.toMatchObject({
          code: 'INVALID_SQL',
          message: expect.stringMatching(/Column 'e'.*EMBEDDING\(n\) with n, the vector's dimension, from 1 to 8192/),
        });
      }
      const { rows } = await s.query(`SELECT column_name, data_type FROM system.columns WHERE table_name = 'big' ORDER BY ordinal`);
      expect(rows.map((r) => r.data_type)).toEqual(['INT', 'EMBEDDING', 'EMBEDDING']);
      // A vector (or a file) does not identify a row: never a primary key.
      for (const key of ['EMBEDDING(3)', 'FILE']) {
        await expect(s.execute(`CREATE SHARED TABLE app.keyed (k ${key} PRIMARY KEY, v INT)`)).rejects.toMatchObject({ code: 'INVALID_SQL', message: expect.stringContaining("Column 'k' cannot be the PRIMARY KEY") });
      }
    });
  });

  it('store vectors written as text, number arrays and Float32Arrays, and hand them out as Float32Arrays', async () => {
    await withDb(async (s) => {
      await s.execute(`INSERT INTO app.docs (id, v) VALUES (1, '[0.5, -1, 2]')`);
      await s.execute('INSERT INTO app.docs (id, v) VALUES (2, $1), (3, $2), (4, NULL)', [[1, 2, 3], f32([0.25, 0, -4])]);
      const { rows } = await s.query('SELECT id, v FROM app.docs ORDER BY id');
      expect(rows.map((r) => r.v)).toEqual([f32([0.5, -1, 2]), f32([1, 2, 3]), f32([0.25, 0, -4]), null]);
      expect(rows[0].v).toBeInstanceOf(Float32Array);
      // The text form, as KalamDB writes a vector literal.
      expect((await s.query(`SELECT CAST(v AS TEXT) AS t FROM app.docs WHERE id = 2`)).rows).toEqual([{ t: '[1, 2, 3]' }]);
    });
  });

  it('refuse a vector of the wrong length or with a non-number element with TYPE_MISMATCH naming the column and n', async () => {
    await withDb(async (s) => {
      await expect(s.execute(`INSERT INTO app.docs (id, v) VALUES (1, '[1, 2]')`)).rejects.toMatchObject({ code: 'TYPE_MISMATCH', message: expect.stringMatching(/'v' is EMBEDDING\(3\).*2 element/) });
      await expect(s.execute('INSERT INTO app.docs (id, v) VALUES (1, $1)', [f32([1, 2, 3, 4])])).rejects.toMatchObject({ code: 'TYPE_MISMATCH', message: expect.stringMatching(/EMBEDDING\(3\)/) });
      await expect(s.execute(`INSERT INTO app.docs (id, v) VALUES (1, '[1, x, 3]')`)).rejects.toMatchObject({ code: 'TYPE_MISMATCH', message: expect.stringMatching(/column 'v' of type EMBEDDING\(3\)/) });
      await expect(s.execute('INSERT INTO app.docs (id, v) VALUES (1, $1)', [[1, 'a', 3]])).rejects.toMatchObject({ code: 'TYPE_MISMATCH' });
      await expect(s.execute('INSERT INTO app.docs (id, v) VALUES (1, 42)')).rejects.toMatchObject({ code: 'TYPE_MISMATCH' });
      await s.execute(`INSERT INTO app.docs (id, v) VALUES (1, '[1, 2, 3]')`);
      await expect(s.execute(`UPDATE app.docs SET v = '[Infinity, 1, 2]' WHERE id = 1`)).rejects.toMatchObject({ code: 'TYPE_MISMATCH' });
      await expect(s.execute('UPDATE app.docs SET v = $1 WHERE id = 1', [f32([NaN, 1, 2])])).rejects.toMatchObject({ code: 'TYPE_MISMATCH' });
      expect((await s.query('SELECT count(*) AS n FROM app.docs')).rows).toEqual([{ n: 1 }]);
    });
  });

  it('hand out a copy: writing into a result or into the parameter passed does not change the stored vector', async () => {
    await withDb(async (s) => {
      const param = f32([1, 2, 3]);
      await s.execute('INSERT INTO app.docs (id, v) VALUES (1, $1)', [param]);
      param[0] = 99;
      const first = (await s.query('SELECT v FROM app.docs')).rows[0].v as Float32Array;
      first[1] = 99;
      expect((await s.query('SELECT v FROM app.docs')).rows[0].v).toEqual(f32([1, 2, 3]));
    });
  });

  it('compute COSINE_DISTANCE, L2_DISTANCE and INNER_PRODUCT; NULL in gives NULL; different dimensions fail', async () => {
    await withDb(async (s) => {
      await s.execute(`INSERT INTO app.docs (id, v) VALUES (1, '[1, 0, 0]'), (2, '[0, 3, 4]'), (3, NULL), (4, '[0, 0, 0]')`);
      const { rows } = await s.query(`SELECT id, COSINE_DISTANCE(v, '[1, 0, 0]') AS c, L2_DISTANCE(v, $1) AS l, INNER_PRODUCT(v, $1) AS d FROM app.docs ORDER BY id`, [[0, 3, 0]]);
      expect(rows).toEqual([
        { id: 1, c: 0, l: Math.sqrt(10), d: 0 },
        { id: 2, c: 1, l: 4, d: 9 },
        { id: 3, c: null, l: null, d: null },
        { id: 4, c: null, l: 3, d: 0 }, // a zero vector has no direction
      ]);
      expect((await s.query(`SELECT COSINE_DISTANCE(v, NULL) AS c FROM app.docs WHERE id = 1`)).rows).toEqual([{ c: null }]);
      await expect(s.query(`SELECT L2_DISTANCE(v, '[1, 2]') FROM app.docs WHERE id = 1`)).rejects.toMatchObject({ code: 'TYPE_MISMATCH', message: expect.stringMatching(/different dimensions \(3 and 2\)/) });
      await expect(s.query(`SELECT INNER_PRODUCT(v, 'abc') FROM app.docs WHERE id = 1`)).rejects.toMatchObject({ code: 'TYPE_MISMATCH', message: expect.stringMatching(/not a vector/) });
      await expect(s.query(`SELECT COSINE_DISTANCE(v) FROM app.docs WHERE id = 1`)).rejects.toMatchObject({ code: 'INVALID_SQL' });
    });
  });

  it('answer ORDER BY COSINE_DISTANCE(v, $1) LIMIT k with the k nearest rows, as a full sort does', async () => {
    await withDb(async (s) => {
      const next = random(7);
      const vectors: Float32Array[] = [];
      for (let i = 0; i < 300; i++) vectors.push(f32([next() - 0.5, next() - 0.5, next() - 0.5]));
      await s.insertMany('app.docs', vectors.map((v, i) => ({ id: i, v })));
      for (let q = 0; q < 5; q++) {
        const query = f32([next() - 0.5, next() - 0.5, next() - 0.5]);
        const expected = vectors.map((v, id) => ({ id, d: cosine(v, query) })).sort((a, b) => a.d - b.d || a.id - b.id).slice(0, 10).map((x) => x.id);
        const { rows } = await s.query('SELECT id FROM app.docs ORDER BY COSINE_DISTANCE(v, $1), id LIMIT 10', [query]);
        expect(rows.map((r) => r.id)).toEqual(expected);
      }
    });
  });

  it('take a VECTOR index (ALTER TABLE … CREATE VECTOR INDEX) and refuse an ordinary one', async () => {
    await withDb(async (s) => {
      await s.execute('ALTER TABLE app.docs CREATE VECTOR INDEX v USING COSINE');
      await s.execute('ALTER TABLE app.docs DROP VECTOR INDEX v');
      await expect(s.execute('CREATE INDEX by_v ON app.docs (v)')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
    });
  });

  it('survive a reopen of an IndexedDB database, a flush to a cold segment and a read of both tiers', async () => {
    const indexedDB = new IDBFactory();
    const first = await openDatabase({ storage: 'idb', name: 'emb', indexedDB });
    const s = first.session({ user: 'root', role: 'system' });
    await s.execute(SCHEMA);
    await s.execute(`INSERT INTO app.docs (id, v) VALUES (1, '[1, 2, 3]'), (2, '[-0.5, 0.125, 1e-3]'), (3, NULL)`);
    await first.close();
    const again = await openDatabase({ storage: 'idb', name: 'emb', indexedDB });
    try {
      const t = again.session({ user: 'root', role: 'system' });
      const expected = [f32([1, 2, 3]), f32([-0.5, 0.125, 1e-3]), null];
      expect((await t.query('SELECT v FROM app.docs ORDER BY id')).rows.map((r) => r.v)).toEqual(expected);
      await t.execute('FLUSH TABLE app.docs');
      // FLUSH runs as a job: wait for its segment.
      await expect.poll(async () => (await t.query(`SELECT count(*) AS n FROM system.manifest WHERE table_name = 'docs'`)).rows[0].n).toBe(1);
      await t.execute(`INSERT INTO app.docs (id, v) VALUES (4, '[0, 0, 1]')`);
      const { rows } = await t.query('SELECT id, v FROM app.docs ORDER BY id');
      expect(rows.map((r) => r.v)).toEqual([...expected, f32([0, 0, 1])]);
      expect(rows[0].v).toBeInstanceOf(Float32Array);
      expect((await t.query(`SELECT id FROM app.docs ORDER BY L2_DISTANCE(v, '[0, 0, 1]') LIMIT 2`)).rows).toEqual([{ id: 4 }, { id: 2 }]);
    } finally {
      await again.close();
    }
  });

  it('deliver vectors to a live query as rows are written', async () => {
    await withDb(async (s) => {
      const seen: (readonly Record<string, unknown>[])[] = [];
      const stop = await s.live('SELECT id, v FROM app.docs ORDER BY id', undefined, (rows) => seen.push(rows));
      await s.execute('INSERT INTO app.docs (id, v) VALUES (1, $1)', [[1, 2, 3]]);
      await expect.poll(() => seen.at(-1)).toEqual([{ id: 1, v: f32([1, 2, 3]) }]);
      await s.execute(`UPDATE app.docs SET v = '[3, 2, 1]' WHERE id = 1`);
      await expect.poll(() => seen.at(-1)).toEqual([{ id: 1, v: f32([3, 2, 1]) }]);
      stop();
    });
  });

  it('give queryArrow a FixedSizeList(n, Float32) column and the row types a Float32Array', async () => {
    await withDb(async (s) => {
      await s.execute(`INSERT INTO app.docs (id, v) VALUES (1, '[1, 2, 3]'), (2, NULL)`);
      const table = await s.queryArrow('SELECT v FROM app.docs ORDER BY id');
      const field = table.schema.fields[0];
      expect(String(field.type)).toMatch(/FixedSizeList\[3\]<Float32>/);
      expect(Array.from(table.getChild('v')!.get(0)!.toArray() as Float32Array)).toEqual([1, 2, 3]);
      expect(table.getChild('v')!.get(1)).toBeNull();
    });
    const types = await schemaTypes(SCHEMA);
    expect(types).toMatch(/EMBEDDING \*\/\n\s*readonly v: Float32Array \| null;/);
  });
});
