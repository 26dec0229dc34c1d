import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { type OpenOptions } from './options';
import { openDatabase, type Database } from '../api/database';
import { KalamError } from '../core/errors';
import type { Row } from '../core/types';

async function setup(options: Partial<OpenOptions> = {}, db?: Database) {
  db ??= await openDatabase({ storage: 'memory', ...options } as OpenOptions);
  const admin = db.session({ user: 'root', role: 'dba' });
  await admin.execute(`CREATE NAMESPACE app;
    CREATE USER TABLE app.todos (id TEXT PRIMARY KEY, title TEXT NOT NULL, n INT);
    CREATE SHARED TABLE app.tags (id TEXT PRIMARY KEY, label TEXT) WITH (ACCESS_LEVEL='public');
    CREATE STREAM TABLE app.events (id TEXT, kind TEXT) WITH (TTL_SECONDS=60)`);
  return { db, admin, alice: db.session({ user: 'alice' }) };
}

const failure = async (p: Promise<unknown>): Promise<KalamError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected the call to fail');
};

const ids = (rows: readonly Row[]) => rows.map((r) => r.id);

describe('explicit transactions', () => {
  it('keeps staged writes invisible to other sessions of the same user until commit', async () => {
    const { db, alice } = await setup();
    const other = db.session({ user: 'alice' });
    const tx = await alice.begin();
    await tx.execute(`INSERT INTO app.todos (id, title) VALUES ('a', 'milk')`);
    expect((await other.query('SELECT id FROM app.todos')).rows).toEqual([]);
    expect((await other.query(`SELECT id FROM app.todos WHERE id = 'a'`)).rows).toEqual([]);
    expect((await alice.query('SELECT id FROM app.todos')).rows).toEqual([]); // outside the transaction
    await tx.commit();
    expect(ids((await other.query('SELECT id FROM app.todos')).rows)).toEqual(['a']);
  });

  it('keeps staged SHARED-table writes invisible to other users until commit', async () => {
    const { db, admin } = await setup();
    const bob = db.session({ user: 'bob' });
    await admin.execute(`BEGIN; INSERT INTO app.tags (id, label) VALUES ('t1', 'x');
      SELECT 1; COMMIT`);
    expect(ids((await bob.query('SELECT id FROM app.tags')).rows)).toEqual(['t1']);
    await admin.transaction(async (tx) => {
      await tx.execute(`UPDATE app.tags SET label = 'y' WHERE id = 't1'`);
      expect((await bob.query('SELECT label FROM app.tags')).rows).toEqual([{ label: 'x' }]);
    });
    expect((await bob.query('SELECT label FROM app.tags')).rows).toEqual([{ label: 'y' }]);
  });

  it('lets statements in the transaction read its own inserts, updates and deletes in scans, lookups, joins and aggregates', async () => {
    const { alice, admin } = await setup();
    await admin.execute(`INSERT INTO app.tags (id, label) VALUES ('a', 'tag-a'), ('b', 'tag-b'), ('c', 'tag-c')`);
    await alice.execute(`INSERT INTO app.todos (id, title, n) VALUES ('a', 'old-a', 1), ('b', 'old-b', 2)`);
    const [, , , , scan, lookup, gone, join, agg] = await alice.execute(`BEGIN;
      INSERT INTO app.todos (id, title, n) VALUES ('c', 'new-c', 3);
      UPDATE app.todos SET title = 'new-a' WHERE id = 'a';
      DELETE FROM app.todos WHERE id = 'b';
      SELECT id, title FROM app.todos;
      SELECT title FROM app.todos WHERE id = 'a';
      SELECT id FROM app.todos WHERE id = 'b';
      SELECT t.id, g.label FROM app.todos t JOIN app.tags g ON g.id = t.id ORDER BY t.id;
      SELECT COUNT(*) AS c, SUM(n) AS s FROM app.todos;
      COMMIT`);
    expect(scan.rows).toEqual([{ id: 'a', title: 'new-a' }, { id: 'c', title: 'new-c' }]);
    expect(lookup.rows).toEqual([{ title: 'new-a' }]);
    expect(gone.rows).toEqual([]);
    expect(join.rows).toEqual([{ id: 'a', label: 'tag-a' }, { id: 'c', label: 'tag-c' }]);
    expect(agg.rows).toEqual([{ c: 2, s: 4 }]);
    expect((await alice.query('SELECT id, title FROM app.todos')).rows).toEqual([{ id: 'a', title: 'new-a' }, { id: 'c', title: 'new-c' }]);
  });

  it('refuses a duplicate primary key against a row staged earlier in the same transaction', async () => {
    const { alice } = await setup();
    const err = await failure(alice.execute(`BEGIN; INSERT INTO app.todos (id, title) VALUES ('a', 'one');
      INSERT INTO app.todos (id, title) VALUES ('a', 'two'); COMMIT`));
    expect(err.code).toBe('PRIMARY_KEY_VIOLATION');
    expect((await alice.query('SELECT id FROM app.todos')).rows).toEqual([]);
  });

  it('updates a row inserted earlier in the same transaction and can re-insert a key it deleted', async () => {
    const { alice } = await setup();
    await alice.execute(`INSERT INTO app.todos (id, title) VALUES ('k', 'kept')`);
    await alice.execute(`BEGIN;
      INSERT INTO app.todos (id, title) VALUES ('x', 'draft');
      UPDATE app.todos SET title = 'final' WHERE id = 'x';
      DELETE FROM app.todos WHERE id = 'k';
      INSERT INTO app.todos (id, title) VALUES ('k', 'again');
      COMMIT`);
    expect((await alice.query('SELECT id, title FROM app.todos')).rows).toEqual([{ id: 'k', title: 'again' }, { id: 'x', title: 'final' }]);
  });

  it('writes nothing for a row inserted and deleted inside the transaction', async () => {
    const { alice } = await setup();
    await alice.execute(`BEGIN; INSERT INTO app.todos (id, title) VALUES ('t', 'temp'); DELETE FROM app.todos WHERE id = 't'; COMMIT`);
    expect((await alice.query('SELECT id FROM app.todos WHERE _deleted = true OR _deleted = false')).rows).toEqual([]);
  });

  it('leaves nothing behind after ROLLBACK, after a thrown callback and after an explicit rollback()', async () => {
    const { alice } = await setup();
    const [, , done] = await alice.execute(`BEGIN; INSERT INTO app.todos (id, title) VALUES ('a', 'x'); ROLLBACK`);
    expect(done.message).toMatch(/rolled back/);
    const boom = new Error('boom');
    await expect(alice.transaction(async (tx) => {
      await tx.execute(`INSERT INTO app.todos (id, title) VALUES ('b', 'x')`);
      throw boom;
    })).rejects.toBe(boom);
    const tx = await alice.begin();
    await tx.execute(`INSERT INTO app.todos (id, title) VALUES ('c', 'x')`);
    await tx.rollback();
    await tx.rollback(); // idempotent
    expect((await alice.query('SELECT id FROM app.todos')).rows).toEqual([]);
    expect((await failure(tx.execute('SELECT 1'))).code).toBe('TRANSACTION_ERROR');
  });

  it('accepts BEGIN TRANSACTION, BEGIN WORK, START TRANSACTION, COMMIT WORK and ROLLBACK WORK', async () => {
    const { alice } = await setup();
    await alice.execute(`BEGIN TRANSACTION; INSERT INTO app.todos (id, title) VALUES ('a', 'x'); COMMIT WORK`);
    await alice.execute(`START TRANSACTION; INSERT INTO app.todos (id, title) VALUES ('b', 'x'); ROLLBACK WORK`);
    await alice.execute(`-- comment first
      begin work; INSERT INTO app.todos (id, title) VALUES ('c', 'x'); commit`);
    expect(ids((await alice.query('SELECT id FROM app.todos')).rows)).toEqual(['a', 'c']);
    expect((await failure(alice.execute('START WORK'))).code).toBe('PARSE_ERROR');
  });

  it('rolls back every earlier statement of the transaction when one fails, and returns that error', async () => {
    const { alice } = await setup();
    await alice.execute(`INSERT INTO app.todos (id, title) VALUES ('dup', 'x')`);
    const err = await failure(alice.execute(`BEGIN;
      INSERT INTO app.todos (id, title) VALUES ('a', 'x');
      UPDATE app.todos SET title = 'changed' WHERE id = 'dup';
      INSERT INTO app.todos (id, title) VALUES ('dup', 'again');
      COMMIT`));
    expect(err.code).toBe('PRIMARY_KEY_VIOLATION');
    expect((await alice.query('SELECT id, title FROM app.todos')).rows).toEqual([{ id: 'dup', title: 'x' }]);
  });

  it('rolls back the transaction of session.transaction() when a statement fails, even if the callback swallows the error', async () => {
    const { alice } = await setup();
    const err = await failure(alice.transaction(async (tx) => {
      await tx.execute(`INSERT INTO app.todos (id, title) VALUES ('a', 'x')`);
      const bad = await failure(tx.execute(`INSERT INTO app.todos (id) VALUES ('b')`));
      expect(bad.code).toBe('NOT_NULL_VIOLATION');
      const after = await failure(tx.query('SELECT id FROM app.todos'));
      expect(after.code).toBe('TRANSACTION_ERROR');
      expect(after.message).toMatch(/rolled back after an error/);
      return 'done';
    }));
    expect(err.code).toBe('TRANSACTION_ERROR');
    expect((await alice.query('SELECT id FROM app.todos')).rows).toEqual([]);
  });

  it('returns the callback result after committing', async () => {
    const { alice } = await setup();
    const result = await alice.transaction(async (tx) => {
      const [r] = await tx.execute(`INSERT INTO app.todos (id, title) VALUES ('a', 'x'), ('b', 'y')`);
      return r.rowCount;
    });
    expect(result).toBe(2);
    expect(ids((await alice.query('SELECT id FROM app.todos')).rows)).toEqual(['a', 'b']);
  });

  it('rolls back a batch that ends with the transaction still open and reports it', async () => {
    const { alice } = await setup();
    const err = await failure(alice.execute(`BEGIN; INSERT INTO app.todos (id, title) VALUES ('a', 'x')`));
    expect(err.code).toBe('TRANSACTION_ERROR');
    expect(err.message).toMatch(/rolled back: the batch ended while it was still open/);
    expect((await alice.query('SELECT id FROM app.todos')).rows).toEqual([]);
  });

  it('refuses COMMIT and ROLLBACK without BEGIN, nested BEGIN, and control statements inside session.transaction()', async () => {
    const { alice } = await setup();
    expect((await failure(alice.execute('COMMIT'))).message).toMatch(/COMMIT without an open transaction/);
    expect((await failure(alice.execute('ROLLBACK'))).message).toMatch(/ROLLBACK without an open transaction/);
    const nested = await failure(alice.execute(`BEGIN; INSERT INTO app.todos (id, title) VALUES ('a', 'x'); BEGIN; COMMIT`));
    expect(nested.code).toBe('TRANSACTION_ERROR');
    expect(nested.message).toMatch(/nested transactions are not supported/);
    const inner = await failure(alice.transaction((tx) => tx.execute('COMMIT')));
    expect(inner.message).toMatch(/cannot run inside session.transaction/);
    expect((await alice.query('SELECT id FROM app.todos')).rows).toEqual([]);
  });

  it('refuses STREAM tables inside explicit transactions with KalamDB wording', async () => {
    const { alice } = await setup();
    const write = await failure(alice.execute(`BEGIN; INSERT INTO app.todos (id, title) VALUES ('a', 'x'); INSERT INTO app.events (id, kind) VALUES ('e', 'k'); COMMIT`));
    expect(write.code).toBe('TRANSACTION_ERROR');
    expect(write.message).toBe('stream tables are not supported inside explicit transactions');
    const read = await failure(alice.transaction((tx) => tx.query('SELECT t.id FROM app.todos t JOIN app.events e ON e.id = t.id')));
    expect(read.message).toBe('stream tables are not supported inside explicit transactions');
    expect((await alice.query('SELECT id FROM app.todos')).rows).toEqual([]);
    expect((await alice.query('SELECT id FROM app.events')).rows).toEqual([]);
  });

  it('refuses DDL and EXECUTE AS USER inside a transaction but allows SHOW and DESCRIBE', async () => {
    const { db, admin } = await setup();
    const err = await failure(admin.execute(`BEGIN; CREATE NAMESPACE other; COMMIT`));
    expect(err.code).toBe('TRANSACTION_ERROR');
    expect(err.message).toMatch(/not supported inside explicit transactions/);
    const asUser = await failure(admin.execute(`BEGIN; EXECUTE AS USER 'alice' (INSERT INTO app.todos (id, title) VALUES ('a', 'x')); COMMIT`));
    expect(asUser.message).toMatch(/EXECUTE AS USER is not supported inside explicit transactions/);
    expect((await db.session({ user: 'alice' }).query('SELECT id FROM app.todos')).rows).toEqual([]);
    const [, tables] = await admin.execute(`BEGIN; SHOW TABLES IN app; DESCRIBE TABLE app.todos; COMMIT`);
    expect(tables.rowCount).toBeGreaterThan(0);
    expect((await admin.query(`SELECT name FROM system.namespaces WHERE name = 'other'`)).rows).toEqual([]);
  });

  it('notifies a live query once for a whole committed transaction, and not at all before commit', async () => {
    const { alice } = await setup();
    const deliveries: (readonly Row[])[] = [];
    const stop = await alice.live('SELECT id FROM app.todos', [], (rows) => deliveries.push(rows));
    expect(deliveries).toHaveLength(1);
    await alice.transaction(async (tx) => {
      await tx.execute(`INSERT INTO app.todos (id, title) VALUES ('a', 'x')`);
      await tx.execute(`INSERT INTO app.todos (id, title) VALUES ('b', 'x')`);
      await tx.execute(`UPDATE app.todos SET n = 1 WHERE id = 'a'`);
      expect(deliveries).toHaveLength(1);
    });
    expect(deliveries).toHaveLength(2);
    expect(ids(deliveries[1])).toEqual(['a', 'b']);
    stop();
  });

  it('fails the commit with a primary-key violation when another session committed the same key meanwhile, writing nothing', async () => {
    const { db, alice } = await setup();
    const other = db.session({ user: 'alice' });
    const tx = await alice.begin();
    await tx.execute(`INSERT INTO app.todos (id, title) VALUES ('mine', 'x'), ('k', 'from tx')`);
    await other.execute(`INSERT INTO app.todos (id, title) VALUES ('k', 'from other')`);
    const err = await failure(tx.commit());
    expect(err.code).toBe('PRIMARY_KEY_VIOLATION');
    expect(err.message).toMatch(/k/);
    expect((await other.query('SELECT id, title FROM app.todos')).rows).toEqual([{ id: 'k', title: 'from other' }]);
    expect((await failure(tx.execute('SELECT 1'))).code).toBe('TRANSACTION_ERROR');
  });

  it('fails the commit when another session changed a row the transaction updated', async () => {
    const { db, alice } = await setup();
    const other = db.session({ user: 'alice' });
    await alice.execute(`INSERT INTO app.todos (id, title) VALUES ('r', 'v0')`);
    const tx = await alice.begin();
    await tx.execute(`UPDATE app.todos SET title = 'tx' WHERE id = 'r'`);
    await other.execute(`UPDATE app.todos SET title = 'other' WHERE id = 'r'`);
    const err = await failure(tx.commit());
    expect(err.code).toBe('TRANSACTION_ERROR');
    expect(err.message).toMatch(/Write conflict/);
    expect((await alice.query('SELECT title FROM app.todos')).rows).toEqual([{ title: 'other' }]);
  });

  it('does not conflict when other users write the same key in their own partitions', async () => {
    const { db, alice } = await setup();
    const bob = db.session({ user: 'bob' });
    const tx = await alice.begin();
    await tx.execute(`INSERT INTO app.todos (id, title) VALUES ('k', 'alice')`);
    await bob.execute(`INSERT INTO app.todos (id, title) VALUES ('k', 'bob')`);
    await tx.commit();
    expect((await alice.query('SELECT title FROM app.todos')).rows).toEqual([{ title: 'alice' }]);
    expect((await bob.query('SELECT title FROM app.todos')).rows).toEqual([{ title: 'bob' }]);
  });

  it('confines a transaction to its own user partition: another user sees neither staged nor foreign rows', async () => {
    const { db, alice } = await setup();
    const bob = db.session({ user: 'bob' });
    await alice.execute(`INSERT INTO app.todos (id, title) VALUES ('a1', 'alice committed')`);
    const tx = await alice.begin();
    await tx.execute(`INSERT INTO app.todos (id, title) VALUES ('a2', 'alice staged')`);
    const [, , scan, lookup, count] = await bob.execute(`BEGIN;
      UPDATE app.todos SET title = 'pwned' WHERE id <> 'zzz' OR id IS NULL;
      SELECT id FROM app.todos;
      SELECT id FROM app.todos WHERE id = 'a2';
      SELECT COUNT(*) AS c FROM app.todos;
      COMMIT`);
    expect(scan.rows).toEqual([]);
    expect(lookup.rows).toEqual([]);
    expect(count.rows).toEqual([{ c: 0 }]);
    expect((await tx.query('SELECT id, title FROM app.todos')).rows).toEqual([
      { id: 'a1', title: 'alice committed' }, { id: 'a2', title: 'alice staged' },
    ]);
    await tx.commit();
    expect((await bob.query('SELECT id FROM app.todos')).rows).toEqual([]);
  });

  it('gives committed rows _seq values in commit order', async () => {
    const { db, alice } = await setup();
    const other = db.session({ user: 'alice' });
    const tx = await alice.begin();
    await tx.execute(`INSERT INTO app.todos (id, title) VALUES ('early', 'x')`);
    await other.execute(`INSERT INTO app.todos (id, title) VALUES ('late', 'x')`);
    await tx.commit();
    const { rows } = await alice.query('SELECT id, _seq FROM app.todos ORDER BY _seq');
    expect(ids(rows)).toEqual(['late', 'early']);
  });

  it('refuses to stage more rows than maxTransactionRows, rolling the transaction back', async () => {
    const { alice } = await setup({ maxTransactionRows: 3 });
    await alice.execute(`BEGIN; INSERT INTO app.todos (id, title) VALUES ('a', 'x'), ('b', 'x'), ('c', 'x'); UPDATE app.todos SET n = 1 WHERE id = 'a'; COMMIT`);
    const err = await failure(alice.execute(`BEGIN; INSERT INTO app.todos (id, title) VALUES ('d', 'x'), ('e', 'x');
      INSERT INTO app.todos (id, title) VALUES ('f', 'x'), ('g', 'x'); COMMIT`));
    expect(err.code).toBe('TRANSACTION_ERROR');
    expect(err.message).toMatch(/more than the limit of 3 \(maxTransactionRows\)/);
    expect(ids((await alice.query('SELECT id FROM app.todos')).rows)).toEqual(['a', 'b', 'c']);
  });

  it('refuses to open more than maxOpenTransactions at once', async () => {
    const { db, alice } = await setup({ maxOpenTransactions: 2 });
    const t1 = await alice.begin();
    await db.session({ user: 'bob' }).begin();
    const err = await failure(alice.begin());
    expect(err.code).toBe('TRANSACTION_ERROR');
    expect(err.message).toMatch(/limit is 2 \(maxOpenTransactions\)/);
    await t1.rollback();
    await (await alice.begin()).commit();
  });

  it('lists open transactions in system.transactions and counts them in system.stats, for dba and system only', async () => {
    const { admin, alice } = await setup();
    const tx = await alice.begin();
    await tx.execute(`INSERT INTO app.todos (id, title) VALUES ('a', 'x'), ('b', 'y')`);
    const { rows } = await admin.query('SELECT transaction_id, owner_id, origin, state, write_count, touched_tables_count FROM system.transactions');
    expect(rows).toEqual([{ transaction_id: tx.id, owner_id: 'alice', origin: 'api', state: 'open', write_count: 2, touched_tables_count: 1 }]);
    // a user cannot write the shared table: the failed INSERT rolls the transaction back
    expect((await failure(tx.execute(`INSERT INTO app.tags (id) VALUES ('t')`))).code).toBe('PERMISSION_DENIED');
    const open = await admin.query(`SELECT transaction_id FROM system.transactions`);
    expect(open.rows).toEqual([]);
    expect((await failure(alice.query('SELECT * FROM system.transactions'))).code).toBe('PERMISSION_DENIED');
    const t2 = await alice.begin();
    const stats = await admin.query(`SELECT metric_value FROM system.stats WHERE metric_name = 'transactions_open'`);
    expect(stats.rows).toEqual([{ metric_value: '1' }]);
    await t2.rollback();
    const after = await admin.query(`SELECT metric_name, metric_value FROM system.stats WHERE metric_name IN ('transactions_open', 'transactions_rolled_back')`);
    expect(after.rows).toEqual([{ metric_name: 'transactions_open', metric_value: '0' }, { metric_name: 'transactions_rolled_back', metric_value: '2' }]);
  });

  it('keeps a committed transaction and drops a rolled-back one across a reopen of IndexedDB storage', async () => {
    const indexedDB = new IDBFactory();
    const open = () => openDatabase({ storage: 'idb', name: 'tx-persist', indexedDB });
    const { db, alice } = await setup({}, await open());
    await alice.execute(`INSERT INTO app.todos (id, title) VALUES ('gone', 'x')`);
    await alice.execute(`BEGIN; INSERT INTO app.todos (id, title) VALUES ('a', 'x'); DELETE FROM app.todos WHERE id = 'gone'; COMMIT`);
    await alice.execute(`BEGIN; INSERT INTO app.todos (id, title) VALUES ('b', 'x'); ROLLBACK`);
    const pending = await alice.begin();
    await pending.execute(`INSERT INTO app.todos (id, title) VALUES ('c', 'x')`);
    await db.close();
    expect((await failure(pending.commit())).code).toBe('TRANSACTION_ERROR');
    const again = await open();
    const { rows } = await again.session({ user: 'alice' }).query('SELECT id FROM app.todos');
    expect(ids(rows)).toEqual(['a']);
    await again.close();
  });
});
