// Vector (HNSW) indexes through SQL: ALTER TABLE … CREATE/DROP VECTOR INDEX,
// the vector_index job that builds a partition's graph, the planner using it
// for ORDER BY <distance>(col, $1) LIMIT k (EXPLAIN), answers equal to the
// exact path, upkeep on write, the memory bound, and per-user partitions.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { random } from '../core/seeded-random.fixture';

const next = random(42);
const vec = (n = 8) => Float32Array.from({ length: n }, () => next() * 2 - 1);

async function open(options: { vectorIndexBytes?: number; rowGroupRows?: number; vectorIndexEf?: number } = {}): Promise<{ db: Database; root: Session }> {
  const db = await openDatabase({ name: 'vi', storage: 'memory', ...options });
  const root = db.session({ user: 'root', role: 'system' });
  await root.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.docs (id INT PRIMARY KEY, v EMBEDDING(8), tag TEXT)');
  return { db, root };
}

async function fill(s: Session, table: string, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) await s.query(`INSERT INTO ${table} (id, v, tag) VALUES ($1, $2, $3)`, [i, vec(), i % 2 ? 'odd' : 'even']);
}

/** Waits until every vector_index job has ended; returns their statuses. */
async function jobsDone(s: Session): Promise<string[]> {
  for (let i = 0; i < 500; i++) {
    const r = await s.query<{ status: string }>(`SELECT status FROM system.jobs WHERE job_type = 'vector_index'`);
    const statuses = r.rows.map((x) => x.status);
    if (statuses.length > 0 && statuses.every((x) => x === 'completed' || x === 'failed' || x === 'cancelled')) return statuses;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('vector_index job did not end');
}

/** `n` rows in app.docs, an L2 index on v, and its graph built (a first query requests it); the LIMIT 3 queries through the index and exact. */
async function builtL2(root: Session, n: number): Promise<{ indexed: string; exact: string }> {
  await fill(root, 'app.docs', 0, n);
  await root.execute('ALTER TABLE app.docs CREATE VECTOR INDEX v USING L2');
  const indexed = 'SELECT id FROM app.docs ORDER BY l2_distance(v, $1) LIMIT 3';
  await root.query(indexed, [vec()]);
  await jobsDone(root);
  return { indexed, exact: 'SELECT id FROM app.docs ORDER BY l2_distance(v, $1) + 0 LIMIT 3' };
}

const ids = (r: { rows: readonly object[] }) => r.rows.map((x) => (x as { id: number }).id);
const stat = async (s: Session, name: string) => (await s.query<{ metric_value: unknown }>(`SELECT metric_value FROM system.stats WHERE metric_name = '${name}'`)).rows[0]?.metric_value;

describe('vector indexes', () => {
  it('are created, listed in system.indexes and dropped; wrong columns and tables are refused with a code', async () => {
    const { db, root } = await open();
    try {
      await root.execute('ALTER TABLE app.docs CREATE VECTOR INDEX v USING L2');
      const listed = await root.query('SELECT index_name, column_names FROM system.indexes');
      expect(listed.rows).toEqual([{ index_name: 'docs_v_vector_idx', column_names: ['v USING L2'] }]);
      await expect(root.execute('ALTER TABLE app.docs CREATE VECTOR INDEX v')).rejects.toMatchObject({ code: 'INDEX_EXISTS' });
      await expect(root.execute('ALTER TABLE app.docs CREATE VECTOR INDEX tag')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      await expect(root.execute('ALTER TABLE app.docs CREATE VECTOR INDEX nope')).rejects.toMatchObject({ code: 'COLUMN_NOT_FOUND' });
      await expect(root.execute('ALTER TABLE app.docs CREATE VECTOR INDEX v USING MANHATTAN')).rejects.toMatchObject({ code: 'PARSE_ERROR' });
      await root.execute("CREATE STREAM TABLE app.s (id INT PRIMARY KEY, v EMBEDDING(8)) WITH (TTL_SECONDS = 60)");
      await expect(root.execute('ALTER TABLE app.s CREATE VECTOR INDEX v')).rejects.toMatchObject({ code: 'UNSUPPORTED' });
      await expect(db.session({ user: 'alice', role: 'user' }).execute('ALTER TABLE app.docs DROP VECTOR INDEX v')).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
      await root.execute('ALTER TABLE app.docs DROP VECTOR INDEX v');
      expect((await root.query('SELECT * FROM system.indexes')).rows).toEqual([]);
      await expect(root.execute('ALTER TABLE app.docs DROP VECTOR INDEX v')).rejects.toMatchObject({ code: 'INDEX_NOT_FOUND' });
    } finally {
      await db.close();
    }
  });

  it('searches exactly until its vector_index job built the graph, then through it, with the exact answer; EXPLAIN says so', async () => {
    const { db, root } = await open({ vectorIndexEf: 100 });
    try {
      await fill(root, 'app.docs', 0, 300);
      await root.execute('ALTER TABLE app.docs CREATE VECTOR INDEX v USING COSINE');
      const indexed = 'SELECT id FROM app.docs ORDER BY cosine_distance(v, $1) LIMIT 10';
      const exact = 'SELECT id FROM app.docs ORDER BY cosine_distance(v, $1) + 0 LIMIT 10';
      const q0 = vec();
      expect(ids(await root.query(indexed, [q0]))).toEqual(ids(await root.query(exact, [q0])));
      expect(await jobsDone(root)).toEqual(['completed']);
      const job = await root.query<{ job_id: string; rows_affected: number }>(`SELECT job_id, rows_affected FROM system.jobs WHERE job_type = 'vector_index'`);
      expect(job.rows[0].job_id.startsWith('VI')).toBe(true);
      expect(job.rows[0].rows_affected).toBe(300);
      const plan = JSON.stringify((await root.query('EXPLAIN SELECT id FROM app.docs ORDER BY cosine_distance(v, $1) LIMIT 10', [q0])).rows, (_, x) => (typeof x === 'bigint' ? String(x) : x));
      expect(plan).toContain('Vector index scan');
      expect(plan).toContain('(ef max(100, 2 × candidates)');
      expect((await root.query(`SELECT value FROM system.settings WHERE name = 'vector_index_ef'`)).rows).toEqual([{ value: '100' }]);
      const before = Number(await stat(root, 'vector_index_searches'));
      for (let i = 0; i < 20; i++) {
        const q = vec();
        expect(ids(await root.query(indexed, [q]))).toEqual(ids(await root.query(exact, [q])));
      }
      expect(Number(await stat(root, 'vector_index_searches'))).toBe(before + 20);
      expect(Number(await stat(root, 'vector_index_bytes'))).toBeGreaterThan(300 * 32);
      // With a WHERE: over-fetched and filtered, still the exact answer.
      for (let i = 0; i < 5; i++) {
        const q = vec();
        const where = "SELECT id FROM app.docs WHERE tag = 'odd' ORDER BY cosine_distance(v, $1) LIMIT 5";
        expect(ids(await root.query(where, [q]))).toEqual(ids(await root.query(where.replace('LIMIT', '+ 0 LIMIT'), [q])));
      }
    } finally {
      await db.close();
    }
  });

  it('follows inserts, updates and deletes once built, and a transaction with staged rows searches exactly', async () => {
    const { db, root } = await open();
    try {
      const { indexed } = await builtL2(root, 100);
      const target = Float32Array.from({ length: 8 }, () => 5);
      await root.query('INSERT INTO app.docs (id, v) VALUES (1000, $1)', [target]);
      expect(ids(await root.query(indexed, [target]))[0]).toBe(1000);
      await root.query('UPDATE app.docs SET v = $1 WHERE id = 7', [Float32Array.from({ length: 8 }, () => 5.01)]);
      expect(ids(await root.query(indexed, [target])).slice(0, 2)).toEqual([1000, 7]);
      await root.query('DELETE FROM app.docs WHERE id = 1000');
      expect(ids(await root.query(indexed, [target]))[0]).toBe(7);
      await root.query('UPDATE app.docs SET v = $1 WHERE id = 7', [Float32Array.from({ length: 8 }, () => -5)]);
      expect(ids(await root.query(indexed, [target]))).not.toContain(7);
      const fallbacks = Number(await stat(root, 'vector_index_exact_fallbacks'));
      const searches = Number(await stat(root, 'vector_index_searches'));
      const t = `'[${Array.from(target).join(',')}]'`;
      const tx = await root.execute(`BEGIN; INSERT INTO app.docs (id, v) VALUES (2000, ${t}); SELECT id FROM app.docs ORDER BY l2_distance(v, ${t}) LIMIT 3; ROLLBACK`);
      expect(ids(tx[2])[0]).toBe(2000);
      expect(Number(await stat(root, 'vector_index_searches'))).toBe(searches);
      expect(Number(await stat(root, 'vector_index_exact_fallbacks'))).toBe(fallbacks);
    } finally {
      await db.close();
    }
  });

  it('drops a graph whose removed nodes outnumber its rows and rebuilds it from the live rows, not its snapshot', async () => {
    const { db, root } = await open();
    try {
      const { indexed, exact } = await builtL2(root, 40);
      const built = Number(await stat(root, 'vector_index_bytes'));
      // Every update removes a row's node and adds one: 40 rows × 26 rounds leave 1,040 removed nodes, past REBUILD_REMOVED_MIN and the 40 live.
      let grown = 0;
      for (let round = 0; round < 26; round++) {
        await root.query('UPDATE app.docs SET v = $1 WHERE id < 40', [vec()]);
        if (round === 20) grown = Number(await stat(root, 'vector_index_bytes'));
      }
      expect(grown).toBeGreaterThan(10 * built);
      expect(Number(await stat(root, 'vector_index_rebuilds'))).toBe(1);
      expect(Number(await stat(root, 'vector_index_partitions'))).toBe(0);
      // Until the rebuild: exact answers; the query requests it.
      const q = vec();
      expect(ids(await root.query(indexed, [q]))).toEqual(ids(await root.query(exact, [q])));
      await jobsDone(root);
      const jobs = await root.query<{ message: string }>(`SELECT message FROM system.jobs WHERE job_type = 'vector_index' ORDER BY created_at`);
      expect(jobs.rows.at(-1)!.message).toMatch(/built for partition ''/);
      expect(Number(await stat(root, 'vector_index_bytes'))).toBe(built);
      for (let i = 0; i < 5; i++) {
        const p = vec();
        expect(ids(await root.query(indexed, [p]))).toEqual(ids(await root.query(exact, [p])));
      }
      expect(Number(await stat(root, 'vector_index_partitions'))).toBe(1);
    } finally {
      await db.close();
    }
  });

  it('drops graphs past max_vector_index_bytes and answers exactly; rebuilds them once they fit', async () => {
    const { db, root } = await open({ vectorIndexBytes: 1000 });
    try {
      await fill(root, 'app.docs', 0, 50);
      await root.execute('ALTER TABLE app.docs CREATE VECTOR INDEX v');
      const indexed = 'SELECT id FROM app.docs ORDER BY cosine_distance(v, $1) LIMIT 5';
      const q = vec();
      const want = ids(await root.query('SELECT id FROM app.docs ORDER BY cosine_distance(v, $1) + 0 LIMIT 5', [q]));
      expect(ids(await root.query(indexed, [q]))).toEqual(want);
      await jobsDone(root);
      expect(Number(await stat(root, 'vector_index_evictions'))).toBe(1);
      expect(Number(await stat(root, 'vector_index_bytes'))).toBe(0);
      const settings = await root.query<{ value: unknown }>(`SELECT value FROM system.settings WHERE name = 'max_vector_index_bytes'`);
      expect(Number(settings.rows[0].value)).toBe(1000);
      // Too large alone: not rebuilt on every query; answers stay exact.
      expect(ids(await root.query(indexed, [q]))).toEqual(want);
      const jobs = await root.query(`SELECT job_id FROM system.jobs WHERE job_type = 'vector_index'`);
      expect(jobs.rows.length).toBe(1);
      expect(Number(await stat(root, 'vector_index_searches'))).toBe(0);
    } finally {
      await db.close();
    }
  });

  it('keeps one graph per user partition: bob never gets alice’s rows, by index or EXECUTE AS', async () => {
    const db = await openDatabase({ name: 'vi-iso', storage: 'memory' });
    try {
      const root = db.session({ user: 'root', role: 'system' });
      await root.execute('CREATE NAMESPACE app; CREATE USER TABLE app.notes (id INT PRIMARY KEY, v EMBEDDING(8), tag TEXT)');
      await root.execute('ALTER TABLE app.notes CREATE VECTOR INDEX v');
      const alice = db.session({ user: 'alice', role: 'user' });
      const bob = db.session({ user: 'bob', role: 'user' });
      await fill(alice, 'app.notes', 0, 40);
      await fill(bob, 'app.notes', 100, 40);
      const q = 'SELECT id FROM app.notes ORDER BY cosine_distance(v, $1) LIMIT 50';
      const aliceVector = (await alice.query<{ v: Float32Array }>('SELECT v FROM app.notes WHERE id = 3')).rows[0].v;
      await alice.query(q, [aliceVector]);
      await bob.query(q, [aliceVector]);
      await jobsDone(root);
      expect(Number(await stat(root, 'vector_index_partitions'))).toBe(2);
      const got = ids(await bob.query(q, [aliceVector]));
      expect(got.length).toBe(40);
      expect(got.every((id) => id >= 100)).toBe(true);
      expect(ids(await alice.query(q, [aliceVector]))[0]).toBe(3);
      const asBob = await root.query(`EXECUTE AS USER 'bob' (SELECT id FROM app.notes ORDER BY cosine_distance(v, $1) LIMIT 5)`, [aliceVector]);
      expect(ids(asBob).every((id) => id >= 100)).toBe(true);
    } finally {
      await db.close();
    }
  });

  it('persists a snapshot with the _seq it covers: a reopen loads it and replays only newer rows (deletes too); DROP removes it', async () => {
    const indexedDB = new IDBFactory();
    const first = await openDatabase({ name: 'vi-persist', storage: 'idb', indexedDB });
    let root = first.session({ user: 'root', role: 'system' });
    await root.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.docs (id INT PRIMARY KEY, v EMBEDDING(8), tag TEXT)');
    await fill(root, 'app.docs', 0, 200);
    await root.execute('ALTER TABLE app.docs CREATE VECTOR INDEX v');
    const indexed = 'SELECT id FROM app.docs ORDER BY cosine_distance(v, $1) LIMIT 10';
    const exact = 'SELECT id FROM app.docs ORDER BY cosine_distance(v, $1) + 0 LIMIT 10';
    await root.query(indexed, [vec()]);
    await jobsDone(root);
    await expect.poll(async () => Number(await stat(root, 'vector_index_snapshots'))).toBe(1);
    // Written after the snapshot: replayed at the next build.
    const target = Float32Array.from({ length: 8 }, (_, i) => (i === 0 ? 1 : 0));
    await root.query('INSERT INTO app.docs (id, v) VALUES (500, $1)', [target]);
    await root.query('DELETE FROM app.docs WHERE id = 3');
    const near3 = (await root.query<{ v: Float32Array }>('SELECT v FROM app.docs WHERE id = 4')).rows[0].v;
    await first.close();

    const second = await openDatabase({ name: 'vi-persist', storage: 'idb', indexedDB });
    try {
      root = second.session({ user: 'root', role: 'system' });
      await root.query(indexed, [target]);
      await jobsDone(root);
      const job = await root.query<{ message: string; rows_affected: number }>(`SELECT message, rows_affected FROM system.jobs WHERE job_type = 'vector_index'`);
      expect(job.rows[0].message).toContain('from its snapshot, 2 newer row version(s) replayed');
      expect(job.rows[0].message).toContain(': 200 vectors');
      expect(ids(await root.query(indexed, [target]))[0]).toBe(500);
      expect(ids(await root.query(indexed, [near3]))).not.toContain(3);
      for (let i = 0; i < 10; i++) {
        const q = vec();
        expect(ids(await root.query(indexed, [q]))).toEqual(ids(await root.query(exact, [q])));
      }
      expect(Number(await stat(root, 'vector_index_searches'))).toBeGreaterThanOrEqual(12);
      // A dropped index leaves no snapshot: the next one is built from the rows.
      await root.execute('ALTER TABLE app.docs DROP VECTOR INDEX v');
      await root.execute('ALTER TABLE app.docs CREATE VECTOR INDEX v');
      await root.query(indexed, [target]);
      await jobsDone(root);
      const jobs = await root.query<{ message: string }>(`SELECT message FROM system.jobs WHERE job_type = 'vector_index' ORDER BY created_at`);
      expect(jobs.rows.at(-1)!.message).toContain(`built for partition ''`);
    } finally {
      await second.close();
    }
  });

  it('reads only the row groups of its candidates when the rows are cold, and answers as the exact path', async () => {
    const { db, root } = await open({ rowGroupRows: 20 });
    try {
      await fill(root, 'app.docs', 0, 400);
      await root.execute('FLUSH TABLE app.docs');
      await expect.poll(async () => (await root.query(`SELECT status FROM system.jobs WHERE job_type = 'flush'`)).rows, { timeout: 30_000 }).toEqual([{ status: 'completed' }]);
      await root.execute('ALTER TABLE app.docs CREATE VECTOR INDEX v');
      const indexed = 'SELECT id, tag FROM app.docs ORDER BY cosine_distance(v, $1) LIMIT 3';
      const exact = 'SELECT id, tag FROM app.docs ORDER BY cosine_distance(v, $1) + 0 LIMIT 3';
      await root.query(indexed, [vec()]);
      await jobsDone(root);
      await root.query('DELETE FROM app.docs WHERE id = 10');
      for (let i = 0; i < 10; i++) {
        const q = i === 0 ? (await root.query<{ v: Float32Array }>('SELECT v FROM app.docs WHERE id = 11')).rows[0].v : vec();
        const read = Number(await stat(root, 'row_groups_read'));
        const got = await root.query(indexed, [q]);
        const groups = Number(await stat(root, 'row_groups_read')) - read;
        // LIMIT 3 reads the rows of 3 candidates: at most 3 of the 20 row groups; a scan reads all 20.
        expect(groups).toBeLessThanOrEqual(3);
        expect(got.rows).toEqual((await root.query(exact, [q])).rows);
        if (i === 0) expect(ids(got)[0]).toBe(11);
      }
    } finally {
      await db.close();
    }
  });
});
