/**
 * EMBEDDING vectors in a real Chromium, through the worker client over
 * IndexedDB: a table with an EMBEDDING(8) column, vectors written as
 * Float32Array parameters, arrays and '[…]' text, the k nearest by
 * cosine_distance (compared with the same search done in the page), a
 * live top-k that follows a write, and the same answers after the client
 * is closed and the database opened again, before and after a flush to
 * the cold tier; and a vector index: built by its job in the worker, the
 * same answers through it, its snapshot loaded after a reopen, cold rows.
 */
import { expect, it } from 'vitest';
import { clientPage } from './client-page';

const client = clientPage();

it('stores vectors, answers top-k by cosine distance, keeps a live top-k current, and survives a reopen and a flush', async () => {
  const result = await client.page.evaluate(async () => {
    type Worker = typeof import('@kalamlite/worker');
    const { createClient } = (window as unknown as { kalamlite: Worker }).kalamlite;
    const name = `vectors-${Date.now()}`;
    const until = async (check: () => boolean) => {
      const end = Date.now() + 10_000;
      while (!check()) {
        if (Date.now() > end) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    let seed = 1;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
    const vectors = Array.from({ length: 200 }, () => Float32Array.from({ length: 8 }, rand));
    const query = Float32Array.from({ length: 8 }, rand);
    const cosine = (a: Float32Array, b: Float32Array) => {
      let d = 0, na = 0, nb = 0;
      for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
      return 1 - d / Math.sqrt(na * nb);
    };
    const expected = vectors.map((v, id) => ({ id, d: cosine(v, query) })).sort((a, b) => a.d - b.d).slice(0, 5).map((x) => x.id);
    const TOP = 'SELECT id, v FROM app.docs ORDER BY cosine_distance(v, $1) LIMIT 5';

    let client = await createClient({ name, storage: 'idb' });
    let alice = client.session({ user: 'alice', role: 'user' });
    await client.session({ user: 'root', role: 'system' }).execute('CREATE NAMESPACE app; CREATE USER TABLE app.docs (id INT PRIMARY KEY, v EMBEDDING(8))');
    for (let i = 0; i < vectors.length; i += 50) {
      const rows = vectors.slice(i, i + 50);
      await alice.execute(`INSERT INTO app.docs (id, v) VALUES ${rows.map((_, j) => `(${i + j}, $${j + 1})`).join(', ')}`, rows);
    }
    const first = (await alice.query(TOP, [query])).rows;
    const isFloat32 = first.every((r) => r.v instanceof Float32Array && (r.v as Float32Array).length === 8);
    const exactVector = Array.from(first[0].v as Float32Array).join() === Array.from(vectors[first[0].id as number]).join();
    // A live top-1: a row written at the query's own place moves to the top.
    const live: number[][] = [];
    const stop = await alice.live('SELECT id FROM app.docs ORDER BY cosine_distance(v, $1) LIMIT 1', [query], (rows) => live.push(rows.map((r) => r.id as number)));
    await until(() => live.length > 0);
    await alice.execute('INSERT INTO app.docs (id, v) VALUES (1000, $1)', [Array.from(query)]);
    await until(() => live.at(-1)?.[0] === 1000);
    stop();
    await alice.execute('DELETE FROM app.docs WHERE id = 1000');
    const textWrite = await alice.execute(`INSERT INTO app.docs (id, v) VALUES (2000, '[1, 2, 3]')`).then(() => 'ok', (e: { code: string }) => e.code);
    await client.close();

    client = await createClient({ name, storage: 'idb' });
    alice = client.session({ user: 'alice', role: 'user' });
    const afterReopen = (await alice.query(TOP, [query])).rows.map((r) => r.id);
    await client.session({ user: 'root', role: 'system' }).execute('FLUSH TABLE app.docs');
    const root = client.session({ user: 'root', role: 'system' });
    const flushed = async () => (await root.query(`SELECT count(*) AS n FROM system.manifest WHERE table_name = 'docs'`)).rows[0].n as number;
    const end = Date.now() + 10_000;
    while ((await flushed()) === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    const afterFlush = (await alice.query(TOP, [query])).rows;
    const bobSees = (await client.session({ user: 'bob', role: 'user' }).query(TOP, [query])).rows.length;
    await client.close();
    return {
      expected, first: first.map((r) => r.id), isFloat32, exactVector, textWrite, afterReopen,
      afterFlush: afterFlush.map((r) => r.id), flushedFloat32: afterFlush.every((r) => r.v instanceof Float32Array), bobSees,
    };
  });
  expect(result.first).toEqual(result.expected);
  expect(result.isFloat32).toBe(true);
  expect(result.exactVector).toBe(true);
  expect(result.textWrite).toBe('TYPE_MISMATCH'); // '[1, 2, 3]' is not 8 numbers
  expect(result.afterReopen).toEqual(result.expected);
  expect(result.afterFlush).toEqual(result.expected);
  expect(result.flushedFloat32).toBe(true);
  expect(result.bobSees).toBe(0);
});

it('a vector index: built by its vector_index job in the worker, answers as the page’s exact search, loads its snapshot after a reopen, reads cold rows', async () => {
  const result = await client.page.evaluate(async () => {
    type Worker = typeof import('@kalamlite/worker');
    const { createClient } = (window as unknown as { kalamlite: Worker }).kalamlite;
    const name = `vector-index-${Date.now()}`;
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) - 0.5;
    const vectors = Array.from({ length: 300 }, () => Float32Array.from({ length: 8 }, rand));
    const queries = Array.from({ length: 5 }, () => Float32Array.from({ length: 8 }, rand));
    const cosine = (a: Float32Array, b: Float32Array) => {
      let d = 0, na = 0, nb = 0;
      for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
      return 1 - d / Math.sqrt(na * nb);
    };
    const expected = queries.map((q) => vectors.map((v, id) => ({ id, d: cosine(v, q) })).sort((a, b) => a.d - b.d).slice(0, 5).map((x) => x.id));
    const TOP = 'SELECT id FROM app.docs ORDER BY cosine_distance(v, $1) LIMIT 5';
    const jobs = async (root: ReturnType<Awaited<ReturnType<typeof createClient>>['session']>, count: number) => {
      const end = Date.now() + 20_000;
      for (;;) {
        const rows = (await root.query(`SELECT status, message FROM system.jobs WHERE job_type = 'vector_index'`)).rows;
        if (rows.length >= count && rows.every((r) => r.status === 'completed')) return rows.map((r) => r.message as string);
        if (Date.now() > end) throw new Error(`vector_index jobs: ${JSON.stringify(rows)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const answers = async (s: ReturnType<Awaited<ReturnType<typeof createClient>>['session']>) => Promise.all(queries.map(async (q) => (await s.query(TOP, [q])).rows.map((r) => r.id)));

    let client = await createClient({ name, storage: 'idb' });
    let root = client.session({ user: 'root', role: 'system' });
    await root.execute('CREATE NAMESPACE app; CREATE USER TABLE app.docs (id INT PRIMARY KEY, v EMBEDDING(8)); ALTER TABLE app.docs CREATE VECTOR INDEX v USING COSINE');
    let alice = client.session({ user: 'alice', role: 'user' });
    for (let i = 0; i < vectors.length; i += 50) {
      const rows = vectors.slice(i, i + 50);
      await alice.execute(`INSERT INTO app.docs (id, v) VALUES ${rows.map((_, j) => `(${i + j}, $${j + 1})`).join(', ')}`, rows);
    }
    const beforeBuild = await answers(alice);
    const built = await jobs(root, 1);
    const indexed = await answers(alice);
    const plan = JSON.stringify((await alice.query(`EXPLAIN ${TOP}`, [queries[0]])).rows, (_, x) => (typeof x === 'bigint' ? String(x) : x));
    // Let the snapshot write land before closing.
    const end = Date.now() + 10_000;
    while (Date.now() < end && Number((await root.query(`SELECT metric_value FROM system.stats WHERE metric_name = 'vector_index_snapshots'`)).rows[0]?.metric_value) < 1) await new Promise((r) => setTimeout(r, 20));
    await client.close();

    client = await createClient({ name, storage: 'idb' });
    root = client.session({ user: 'root', role: 'system' });
    alice = client.session({ user: 'alice', role: 'user' });
    const before = (await root.query(`SELECT count(*) AS n FROM system.jobs WHERE job_type = 'vector_index'`)).rows[0].n as number;
    await alice.query(TOP, [queries[0]]);
    const reloaded = await jobs(root, before + 1);
    await root.execute('FLUSH TABLE app.docs');
    const flushEnd = Date.now() + 10_000;
    while (Date.now() < flushEnd && (await root.query(`SELECT count(*) AS n FROM system.manifest WHERE table_name = 'docs'`)).rows[0].n === 0) await new Promise((r) => setTimeout(r, 20));
    const cold = await answers(alice);
    const bobSees = (await client.session({ user: 'bob', role: 'user' }).query(TOP, [queries[0]])).rows.length;
    await client.close();
    return { expected, beforeBuild, built, indexed, plan, reloaded, cold, bobSees };
  });
  expect(result.beforeBuild).toEqual(result.expected);
  expect(result.built[0]).toContain('300 vectors');
  expect(result.indexed).toEqual(result.expected);
  expect(result.plan).toContain('Vector index scan');
  expect(result.reloaded.some((m) => m.includes('from its snapshot, 0 newer row version(s) replayed'))).toBe(true);
  expect(result.cold).toEqual(result.expected);
  expect(result.bobSees).toBe(0);
});
