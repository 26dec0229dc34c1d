import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { Row } from '../core/types';

let db: Database;
let s: Session;
const ROWS = 1000;

async function waitForJobs(session: Session): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const r = await session.query(`SELECT COUNT(*) AS n FROM system.jobs WHERE status IN ('queued', 'running')`);
    if (Number(r.rows[0].n) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('jobs did not finish');
}

beforeAll(async () => {
  db = await openDatabase({ storage: 'memory', rowGroupRows: 100 });
  s = db.session({ user: 'root', role: 'dba' });
  await s.execute(`CREATE NAMESPACE e;
    CREATE SHARED TABLE e.items (id INT PRIMARY KEY, kind INT, label TEXT);
    CREATE SHARED TABLE e.kinds (id INT PRIMARY KEY, name TEXT);
    CREATE SHARED TABLE e.tags (id INT PRIMARY KEY, item INT, tag TEXT);
    CREATE USER TABLE e.notes (id INT PRIMARY KEY, body TEXT)`);
  await s.execute(`INSERT INTO e.items (id, kind, label) VALUES ${Array.from({ length: ROWS }, (_, i) => `(${i}, ${i % 5}, 'l${i}')`).join(', ')}`);
  await s.execute(`INSERT INTO e.kinds (id, name) VALUES (0, 'a'), (1, 'b'), (2, 'c'), (3, 'd'), (4, 'e')`);
  await s.execute(`INSERT INTO e.tags (id, item, tag) VALUES (1, 10, 'x'), (2, 20, 'y'), (3, 30, 'x')`);
  await s.execute('STORAGE FLUSH TABLE e.items');
  await waitForJobs(s);
});

afterAll(async () => {
  await db.close();
});

const plan = async (sql: string, session: Session = s): Promise<readonly Row[]> => (await session.query(sql)).rows;
const ops = (rows: readonly Row[]) => rows.map((r) => r.operator);
const scanOf = (rows: readonly Row[], table: string) => rows.find((r) => r.operator === 'Scan' && String(r.detail).startsWith(table))!;

describe('EXPLAIN', () => {
  it('shows the access path of each scan and the cold row groups it reads', async () => {
    const point = await plan('EXPLAIN SELECT * FROM e.items WHERE id = 250');
    expect(scanOf(point, 'e.items').detail).toMatch(/pk lookup \(id = 250\)/);
    expect(scanOf(point, 'e.items').detail).toMatch(/cold: 1 of 10 row groups in 1 of 1 segments read/);
    expect(scanOf(point, 'e.items').estimated_rows).toBe(1n);

    // A key list: a lookup per key, reading only the row groups holding them.
    for (const where of ['id IN (150, 155, 720)', 'id = 150 OR id = 155 OR id = 720']) {
      const list = await plan(`EXPLAIN SELECT * FROM e.items WHERE ${where}`);
      expect(scanOf(list, 'e.items').detail).toMatch(/pk lookup \(id IN \(3 keys\)\)/);
      expect(scanOf(list, 'e.items').detail).toMatch(/cold: 2 of 10 row groups in 1 of 1 segments read/);
      expect(scanOf(list, 'e.items').estimated_rows).toBe(3n);
    }
    // One lookup per key: the rows found are the keys listed, not the groups' other rows.
    const listed = await plan('EXPLAIN ANALYZE SELECT label FROM e.items WHERE id IN (155, 150, 720, 150, 5000)');
    expect(scanOf(listed, 'e.items').actual_rows).toBe(3n);
    // Keys are coerced to the key's type; one that is not of it reads as the filtered scan, which refuses it.
    expect(await plan("SELECT id FROM e.items WHERE id IN (150, '155')")).toEqual([{ id: 150 }, { id: 155 }]);
    await expect(plan("SELECT id FROM e.items WHERE id IN (150, 'x')")).rejects.toMatchObject({ code: 'TYPE_MISMATCH' });

    const range = await plan('EXPLAIN SELECT * FROM e.items WHERE id BETWEEN 120 AND 330');
    expect(scanOf(range, 'e.items').detail).toMatch(/pk range/);
    expect(scanOf(range, 'e.items').detail).toMatch(/cold: 3 of 10 row groups/);

    // No ORDER BY: a single table is read in primary-key order.
    const full = await plan("EXPLAIN SELECT * FROM e.items WHERE label = 'l7'");
    expect(scanOf(full, 'e.items').detail).toMatch(/pk order; filter: \(label = 'l7'\)/);
    // Per-group min/max of label: only ids 0–99 ('l0'…'l99') can hold 'l7'.
    expect(scanOf(full, 'e.items').detail).toMatch(/cold: 1 of 10 row groups in 1 of 1 segments read/);
    expect(scanOf(full, 'e.items').estimated_rows).toBe(BigInt(ROWS));
  });

  it('shows joins as planned: lookup, hash, and a reordered comma list', async () => {
    const lookup = await plan('EXPLAIN SELECT * FROM e.tags t, e.items i WHERE t.item = i.id');
    expect(ops(lookup)).toEqual(['Select', 'Lookup join', 'Scan', 'Scan']);
    const hashed = await plan('EXPLAIN SELECT * FROM e.kinds k JOIN e.items i ON i.kind = k.id');
    expect(ops(hashed)).toEqual(['Select', 'Hash join', 'Scan', 'Scan']);
    // tags holds the fewest rows (3), so it is joined first; kinds shares no term with tags, so items
    // (linked by t.item = i.id) comes next although kinds is smaller; the columns come back in FROM order.
    const sql = 'SELECT * FROM e.kinds k, e.tags t, e.items i WHERE i.kind = k.id AND t.item = i.id';
    const reordered = await plan(`EXPLAIN ${sql}`);
    expect(ops(reordered)[1]).toBe('Reorder');
    expect(reordered[1].detail).toMatch(/joined as t, i, k/);
    // Each row's parent is an earlier row: a tree.
    for (const r of reordered) if (r.parent_id !== null) expect(Number(r.parent_id)).toBeLessThan(Number(r.id));
    // A WHERE term on kinds makes it the smallest estimate (5 rows × a tenth): it starts instead.
    const filtered = await plan(`EXPLAIN ${sql} AND k.name = 'c'`);
    expect(filtered[1].detail).toMatch(/joined as k, i, t/);
  });

  it('chooses the join order per execution from the row counts the tables have then', async () => {
    const sql = 'SELECT COUNT(*) AS n FROM e.kinds k, e.tags t, e.items i WHERE i.kind = k.id AND t.item = i.id';
    const order = async () => String((await plan(`EXPLAIN ANALYZE ${sql}`)).find((r) => r.operator === 'Reorder')?.detail);
    expect(await order()).toMatch(/joined as t, i, k/);
    expect(Number((await plan(sql))[0].n)).toBe(3);
    // 2,000 more tags: now kinds (5 rows) is the smallest, and the same (cached) statement starts from it.
    await s.execute(`INSERT INTO e.tags (id, item, tag) VALUES ${Array.from({ length: 2000 }, (_, i) => `(${100 + i}, ${i % ROWS}, 'z')`).join(', ')}`);
    try {
      expect(await order()).toMatch(/joined as k, i, t/); // kinds shares no term with tags: items comes second
      expect(Number((await plan(sql))[0].n)).toBe(2003);
    } finally {
      await s.execute('DELETE FROM e.tags WHERE id >= 100');
    }
  });

  it('ANALYZE runs the statement and reports rows per operator', async () => {
    const rows = await plan('EXPLAIN ANALYZE SELECT kind, COUNT(*) AS n FROM e.items WHERE id < 500 GROUP BY kind');
    expect(ops(rows)).toEqual(['Select', 'Aggregate', 'Scan']);
    expect(rows[0].actual_rows).toBe(5n);
    expect(rows[1].actual_rows).toBe(5n);
    expect(rows[2].actual_rows).toBe(500n);
    expect(rows[2].actual_loops).toBe(1);
    expect(typeof rows[2].actual_ms).toBe('number');
    const plain = await plan('EXPLAIN SELECT kind FROM e.items WHERE id < 500');
    expect(plain.every((r) => r.actual_rows === null)).toBe(true);
  });

  it('leaves the plan cache alone: the statement runs as before afterwards', async () => {
    const sql = 'SELECT COUNT(*) AS n FROM e.items WHERE kind = 2';
    const before = await plan(sql);
    await plan(`EXPLAIN ANALYZE ${sql}`);
    expect(await plan(sql)).toEqual(before);
  });

  it("counts the session's own partition of a USER table", async () => {
    const alice = db.session({ user: 'alice', role: 'user' });
    const bob = db.session({ user: 'bob', role: 'user' });
    await alice.execute(`INSERT INTO e.notes (id, body) VALUES (1, 'a'), (2, 'b'), (3, 'c')`);
    await bob.execute(`INSERT INTO e.notes (id, body) VALUES (1, 'z')`);
    expect(scanOf(await plan('EXPLAIN SELECT * FROM e.notes', alice), 'e.notes').estimated_rows).toBe(3n);
    const analyzed = await plan('EXPLAIN ANALYZE SELECT * FROM e.notes', bob);
    expect(scanOf(analyzed, 'e.notes').actual_rows).toBe(1n);
  });

  it('refuses what it cannot explain with a clear error', async () => {
    const codeOf = async (p: Promise<unknown>) => p.then(() => 'none', (e: unknown) => (e instanceof KalamError ? e.code : String(e)));
    expect(await codeOf(s.query('EXPLAIN'))).toBe('PARSE_ERROR');
    expect(await codeOf(s.query("EXPLAIN INSERT INTO e.kinds (id, name) VALUES (9, 'z')"))).toBe('UNSUPPORTED');
    expect(await codeOf(s.query('EXPLAIN SELECT * FROM e.nope'))).toBe('TABLE_NOT_FOUND');
    const user = db.session({ user: 'carol', role: 'user' });
    expect(await codeOf(user.query('EXPLAIN SELECT * FROM system.jobs'))).toBe('PERMISSION_DENIED');
    await expect(s.transaction((tx) => tx.query('EXPLAIN SELECT * FROM e.kinds'))).rejects.toMatchObject({ code: 'TRANSACTION_ERROR' });
    // The INSERT above was refused before running: no row was written.
    expect(await plan('SELECT * FROM e.kinds WHERE id = 9')).toEqual([]);
  });
});
