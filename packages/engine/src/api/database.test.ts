import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Database } from './database';
import { KalamError } from '../core/errors';

async function setup(db?: Database) {
  db ??= await openDatabase({ storage: 'memory' });
  const admin = db.session({ user: 'root', role: 'dba' });
  await admin.execute(`CREATE NAMESPACE app;
    CREATE USER TABLE app.todos (id TEXT PRIMARY KEY DEFAULT ULID(), title TEXT NOT NULL, done BOOLEAN DEFAULT false, n INT, created_at TIMESTAMP DEFAULT NOW());
    CREATE SHARED TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT, author TEXT DEFAULT CURRENT_USER()) WITH (ACCESS_LEVEL='public')`);
  return { db, admin };
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return (e as KalamError).code;
  }
  throw new Error('expected the statement to fail');
};

describe('database', () => {
  it('inserts and selects rows with projection, filters, ordering and limits', async () => {
    const { db } = await setup();
    const alice = db.session({ user: 'alice' });
    const [r] = await alice.execute(`INSERT INTO app.todos (id, title, n) VALUES ('a', 'first', 3), ('b', 'second', 1), ('c', 'third', NULL)`);
    expect(r.message).toBe('Inserted 3 row(s)');
    const q = await alice.query(`SELECT id, title AS t, n * 2 AS twice FROM app.todos WHERE n IS NOT NULL ORDER BY n DESC`);
    expect(q.rows).toEqual([{ id: 'a', t: 'first', twice: 6 }, { id: 'b', t: 'second', twice: 2 }]);
    expect(Object.isFrozen(q.rows[0])).toBe(true);
    const lim = await alice.query(`SELECT id FROM app.todos ORDER BY n NULLS FIRST LIMIT 2 OFFSET 1`);
    expect(lim.rows.map((x) => x.id)).toEqual(['b', 'a']);
    const agg = await alice.query(`SELECT done, COUNT(*) AS c, SUM(n) AS s, AVG(n) AS a, MIN(title) AS lo, MAX(n) AS hi FROM app.todos GROUP BY done HAVING COUNT(*) > 1`);
    expect(agg.rows).toEqual([{ done: false, c: 3, s: 4, a: 2, lo: 'first', hi: 3 }]);
    const like = await alice.query(`SELECT id FROM app.todos WHERE title LIKE '%ir%' OR title ILIKE 'SEC%' ORDER BY id`);
    expect(like.rows.map((x) => x.id)).toEqual(['a', 'b', 'c']);
    const d = await alice.query(`SELECT DISTINCT done FROM app.todos`);
    expect(d.rows).toEqual([{ done: false }]);
  });

  it('keeps each user to their own rows in USER tables', async () => {
    const { db } = await setup();
    const alice = db.session({ user: 'alice' });
    const bob = db.session({ user: 'bob' });
    await alice.execute(`INSERT INTO app.todos (id, title) VALUES ('x', 'alice secret')`);
    await bob.execute(`INSERT INTO app.todos (id, title) VALUES ('x', 'bob own')`);
    expect((await bob.query('SELECT title FROM app.todos')).rows).toEqual([{ title: 'bob own' }]);
    expect((await bob.query(`UPDATE app.todos SET title = 'hacked' WHERE 1 = 1`)).rowCount).toBe(1);
    expect((await alice.query(`SELECT title FROM app.todos WHERE id = 'x'`)).rows).toEqual([{ title: 'alice secret' }]);
  });

  it('rejects duplicate primary keys and NULL in NOT NULL columns without writing anything', async () => {
    const { db } = await setup();
    const alice = db.session({ user: 'alice' });
    await alice.execute(`INSERT INTO app.todos (id, title) VALUES ('a', 'one')`);
    expect(await codeOf(alice.execute(`INSERT INTO app.todos (id, title) VALUES ('b', 'two'), ('a', 'dup')`))).toBe('PRIMARY_KEY_VIOLATION');
    expect(await codeOf(alice.execute(`INSERT INTO app.todos (id, title) VALUES ('c', 'three'), ('d', NULL)`))).toBe('NOT_NULL_VIOLATION');
    expect((await alice.query('SELECT id FROM app.todos')).rows).toEqual([{ id: 'a' }]);
  });

  it('soft-deletes rows and shows tombstones only when WHERE names _deleted', async () => {
    const { db } = await setup();
    const alice = db.session({ user: 'alice' });
    await alice.execute(`INSERT INTO app.todos (id, title) VALUES ('a', 'one'), ('b', 'two')`);
    expect((await alice.query(`DELETE FROM app.todos WHERE id = 'a'`)).rowCount).toBe(1);
    expect((await alice.query('SELECT id, _deleted FROM app.todos')).rows).toEqual([{ id: 'b', _deleted: false }]);
    expect((await alice.query('SELECT id FROM app.todos WHERE _deleted = true')).rows).toEqual([{ id: 'a' }]);
    expect(await codeOf(alice.execute(`DELETE FROM app.todos`))).toBe('INVALID_SQL');
  });

  it('maps BIGINT to bigint without precision loss, through params and literals', async () => {
    const { db, admin } = await setup();
    const big = 9007199254740993n;
    await admin.execute('INSERT INTO app.notes (id, body) VALUES ($1, $2)', [big, 'p']);
    await admin.execute('INSERT INTO app.notes (id, body) VALUES (9007199254740995, \'lit\')');
    const r = await admin.query('SELECT id, body, author FROM app.notes WHERE id >= $1 ORDER BY id', [big]);
    expect(r.rows).toEqual([{ id: big, body: 'p', author: 'root' }, { id: 9007199254740995n, body: 'lit', author: 'root' }]);
    const one = await db.session({ user: 'x', role: 'service' }).query('SELECT body FROM app.notes WHERE id = 9007199254740995');
    expect(one.rows).toEqual([{ body: 'lit' }]);
  });

  it('joins tables and shares one plan across different literals', async () => {
    const { db, admin } = await setup();
    const alice = db.session({ user: 'alice' });
    await admin.execute(`INSERT INTO app.notes (id, body) VALUES (1, 'n1'), (2, 'n2')`);
    await alice.execute(`INSERT INTO app.todos (id, title, n) VALUES ('a', 'one', 1), ('b', 'two', 5)`);
    const j = await alice.query(`SELECT t.id, n.body FROM app.todos t LEFT JOIN app.notes n ON n.id = t.n ORDER BY t.id`);
    expect(j.rows).toEqual([{ id: 'a', body: 'n1' }, { id: 'b', body: null }]);
    await alice.query(`SELECT id FROM app.todos WHERE n = 1`);
    await alice.query(`SELECT id FROM app.todos WHERE n = 5`);
    const stats = await admin.query(`SELECT metric_name, metric_value FROM system.stats WHERE metric_name LIKE 'plan_cache%' OR metric_name LIKE 'table_rows%'`);
    const m = Object.fromEntries(stats.rows.map((r) => [r.metric_name, r.metric_value]));
    expect(Number(m.plan_cache_hits)).toBeGreaterThanOrEqual(1);
    expect(m['table_rows.app.notes']).toBe('2');
    expect(await codeOf(alice.query('SELECT * FROM system.stats'))).toBe('PERMISSION_DENIED');
  });

  it('reopens an IndexedDB database with the same data', async () => {
    const indexedDB = new IDBFactory();
    const first = await openDatabase({ storage: 'idb', name: 'reopen', indexedDB });
    await setup(first);
    await first.session({ user: 'alice' }).execute(`INSERT INTO app.todos (id, title) VALUES ('a', 'kept')`);
    await first.close();
    const again = await openDatabase({ storage: 'idb', name: 'reopen', indexedDB });
    const rows = (await again.session({ user: 'alice' }).query('SELECT id, title FROM app.todos')).rows;
    expect(rows).toEqual([{ id: 'a', title: 'kept' }]);
    await again.session({ user: 'alice' }).execute(`INSERT INTO app.todos (id, title) VALUES ('b', 'after')`);
    expect((await again.session({ user: 'bob' }).query('SELECT id FROM app.todos')).rows).toEqual([]);
    await again.close();
  });

  it('delivers live results after commits to the subscribed table', async () => {
    const { db } = await setup();
    const alice = db.session({ user: 'alice' });
    const bob = db.session({ user: 'bob' });
    const seen: unknown[][] = [];
    const stop = await alice.live('SELECT id FROM app.todos ORDER BY id', [], (rows) => seen.push(rows.map((r) => r.id)));
    await alice.execute(`INSERT INTO app.todos (id, title) VALUES ('a', 'one')`);
    await bob.execute(`INSERT INTO app.todos (id, title) VALUES ('b', 'bob')`);
    stop();
    await alice.execute(`INSERT INTO app.todos (id, title) VALUES ('c', 'three')`);
    expect(seen).toEqual([[], ['a']]);
  });
});
