/**
 * Isolation attack suite, vectors (issue 16): an EMBEDDING column of a USER
 * table is read only in the reader's partition, so no nearest-neighbour
 * query — alice's own vector as the query, distance functions in WHERE, a
 * subquery, a self-join, a live query, rows flushed to the cold tier — lets
 * bob reach alice's vectors. Alice's vectors hold numbers ≥ 91000, which
 * the fixture's leak judge (isolation.fixture.ts findLeak) finds in any
 * result or error message; same fixture and judges as isolation.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildFixture, expectBobRows, expectDenied, expectNoLeak, expectRefused, type Fixture } from './isolation.fixture';
import type { Row, Value } from '../core/types';

let f: Fixture;

/** Alice's query vector: the nearest to her own rows, far from bob's. */
const ALICE_Q = '[91001, 91002, 91003]';

beforeEach(async () => {
  f = await buildFixture();
  await f.root.execute(`CREATE USER TABLE app.vecs (id TEXT PRIMARY KEY, v EMBEDDING(3))`);
  await f.alice.execute(`INSERT INTO app.vecs (id, v) VALUES ('alice-k1', '[91001, 91002, 91003]'), ('alice-k2', '[91004, 91005, 91006]'), ('k-common', '[91007, 91008, 91009]')`);
  await f.bob.execute(`INSERT INTO app.vecs (id, v) VALUES ('bob-k1', '[1, 2, 3]'), ('k-common', '[3, 2, 1]')`);
});

afterEach(async () => {
  await f.db.close();
});

const BOB_IDS = [{ id: 'bob-k1' }, { id: 'k-common' }];

const ATTACKS: [string, string, Row[]][] = [
  ['the k nearest to alice’s own vector', `SELECT id FROM app.vecs ORDER BY l2_distance(v, '${ALICE_Q}'), id LIMIT 10`, BOB_IDS],
  ['cosine top-k selecting the vectors', `SELECT id, v FROM app.vecs ORDER BY cosine_distance(v, '${ALICE_Q}') LIMIT 10`,
    [{ id: 'bob-k1', v: new Float32Array([1, 2, 3]) }, { id: 'k-common', v: new Float32Array([3, 2, 1]) }]],
  ['a distance in WHERE aimed at alice’s rows', `SELECT id FROM app.vecs WHERE l2_distance(v, '${ALICE_Q}') < 100`, []],
  ['an inner product with no limit', `SELECT id FROM app.vecs WHERE inner_product(v, '[1, 1, 1]') > 1000`, []],
  ['a scalar subquery for the nearest vector', `SELECT (SELECT v FROM app.vecs ORDER BY l2_distance(v, '${ALICE_Q}') LIMIT 1) AS nearest`, [{ nearest: new Float32Array([1, 2, 3]) }]],
  ['a self-join on distance', `SELECT a.id FROM app.vecs a JOIN app.vecs b ON l2_distance(a.v, b.v) < 1e9 WHERE a.id = b.id ORDER BY a.id`, BOB_IDS],
  ['the key both users have', `SELECT v FROM app.vecs WHERE id = 'k-common'`, [{ v: new Float32Array([3, 2, 1]) }]],
  ['a count of every vector', `SELECT COUNT(v) AS c FROM app.vecs`, [{ c: 2 }]],
];

describe('bob’s vector queries reach only his own vectors', () => {
  it.each(ATTACKS)('%s', async (_name, sql, rows) => {
    await expectBobRows(f, sql, rows as Record<string, Value>[]);
  });

  it.each(ATTACKS)('%s, with every row flushed to the cold tier', async (_name, sql, rows) => {
    await f.root.execute('FLUSH TABLE app.vecs');
    await expect.poll(async () => (await f.root.query(`SELECT count(*) AS n FROM system.manifest WHERE table_name = 'vecs'`)).rows[0].n).toBe(2);
    await expectBobRows(f, sql, rows as Record<string, Value>[]);
  });

  it('a nearest-neighbour live query of bob’s is not moved by alice’s writes', async () => {
    const seen: (readonly Row[])[] = [];
    const stop = await f.bob.live(`SELECT id FROM app.vecs ORDER BY l2_distance(v, '${ALICE_Q}') LIMIT 1`, [], (rows) => seen.push(rows));
    await expect.poll(() => seen.at(-1)).toEqual([{ id: 'bob-k1' }]);
    await f.alice.execute(`INSERT INTO app.vecs (id, v) VALUES ('alice-new', '${ALICE_Q}')`);
    await f.bob.execute(`INSERT INTO app.vecs (id, v) VALUES ('bob-near', '[90000, 90000, 90000]')`);
    await expect.poll(() => seen.at(-1)).toEqual([{ id: 'bob-near' }]);
    for (const rows of seen) expectNoLeak(f, rows, 'the live query');
    stop();
  });

  it('EXECUTE AS USER alice is denied to bob', async () => {
    await expectDenied(f, `EXECUTE AS USER 'alice' (SELECT id, v FROM app.vecs ORDER BY l2_distance(v, '${ALICE_Q}') LIMIT 1)`);
  });

  it('a dimension error about alice’s query vector names no row of hers', async () => {
    const e = await expectRefused(f, `SELECT id FROM app.vecs ORDER BY l2_distance(v, '[91001, 91002]') LIMIT 1`, ['TYPE_MISMATCH']);
    expect(e.message).toMatch(/different dimensions \(3 and 2\)/);
  });
});

describe('bob’s queries through a vector index reach only his partition’s graph', () => {
  const built = async () => {
    await expect.poll(async () => (await f.root.query(`SELECT count(*) AS n FROM system.jobs WHERE job_type = 'vector_index' AND status = 'completed'`)).rows[0].n, { timeout: 5000 }).toBe(2);
  };

  it.each([['l2', 'L2'], ['cosine', 'COSINE']])('%s index: alice’s graph and bob’s are apart, in the hot and the cold tier, and EXECUTE AS', async (fn, metric) => {
    await f.root.execute(`ALTER TABLE app.vecs CREATE VECTOR INDEX v USING ${metric}`);
    const sql = `SELECT id FROM app.vecs ORDER BY ${fn}_distance(v, '${ALICE_Q}') LIMIT 10`;
    await f.alice.query(sql);
    await f.bob.query(sql);
    await built();
    const plan = JSON.stringify((await f.bob.query(`EXPLAIN ${sql}`)).rows, (_, x) => (typeof x === 'bigint' ? String(x) : x));
    expect(plan).toContain('Vector index scan');
    const ids = (await f.bob.query<{ id: string }>(sql)).rows.map((r) => r.id).sort();
    expect(ids).toEqual(['bob-k1', 'k-common']);
    expectNoLeak(f, (await f.bob.query(sql)).rows, 'a vector index query');
    const asBob = await f.root.query<{ id: string }>(`EXECUTE AS USER 'bob' (${sql})`);
    expect(asBob.rows.map((r) => r.id).sort()).toEqual(['bob-k1', 'k-common']);
    // Alice writes after the build: her graph changes, bob's answers do not.
    await f.alice.execute(`INSERT INTO app.vecs (id, v) VALUES ('alice-new', '${ALICE_Q}')`);
    expect((await f.bob.query<{ id: string }>(sql)).rows.map((r) => r.id).sort()).toEqual(['bob-k1', 'k-common']);
    await f.root.execute('FLUSH TABLE app.vecs');
    expect((await f.bob.query<{ id: string }>(sql)).rows.map((r) => r.id).sort()).toEqual(['bob-k1', 'k-common']);
  });
});
