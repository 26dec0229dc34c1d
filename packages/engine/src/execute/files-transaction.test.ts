import { describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../api/database';
import type { FileRef } from '../core/types';
import { MemoryBlobStore } from '../storage/blob-store';

const settle = () => new Promise((r) => setTimeout(r, 0)); // blobs are deleted right after the call or commit

async function stats(db: Database): Promise<Record<string, number>> {
  const r = await db.session({ user: 'root', role: 'dba' }).query(`SELECT metric_name, metric_value FROM system.stats WHERE metric_name IN ('files', 'file_bytes', 'files_pending')`);
  return Object.fromEntries(r.rows.map((x) => [x.metric_name as string, Number(x.metric_value)]));
}

async function setup(options: { maxTransactionRows?: number } = {}) {
  const store = new MemoryBlobStore();
  const db = await openDatabase({ storage: 'memory', blobStore: store, ...options });
  await db.session({ user: 'root', role: 'dba' }).execute(`CREATE NAMESPACE app; CREATE USER TABLE app.docs (id INT PRIMARY KEY, body FILE)`);
  return { db, store, alice: db.session({ user: 'alice' }) };
}

describe('FILE columns inside explicit transactions', () => {
  it('a file stored in a transaction is committed with its row: unreadable before the commit, readable after', async () => {
    const { db, store, alice } = await setup();
    const tx = await alice.begin();
    await tx.execute('INSERT INTO app.docs (id, body) VALUES (1, $1)', [new Blob(['first'], { type: 'text/plain' })]);
    const ref = (await tx.query('SELECT body FROM app.docs WHERE id = 1')).rows[0].body as unknown as FileRef; // its own staged row
    expect(ref).toMatchObject({ size: 5, mime: 'text/plain' });
    await expect(alice.readFile(ref)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect(await stats(db)).toEqual({ files: 0, file_bytes: 0, files_pending: 1 });
    await tx.query('UPDATE app.docs SET body = $1 WHERE id = 1', [new Blob(['second'])]); // replaced before the commit: the first is never stored
    await tx.commit();
    await settle();
    const committed = (await alice.query('SELECT body FROM app.docs WHERE id = 1')).rows[0].body as unknown as FileRef;
    expect(await (await alice.readFile(committed)).text()).toBe('second');
    expect(await stats(db)).toEqual({ files: 1, file_bytes: 6, files_pending: 0 });
    expect(await store.list()).toEqual([committed.id]);
    await db.close();
  });

  it('a rollback, a failed statement, a throwing callback or a failed commit stores no file', async () => {
    const { db, store, alice } = await setup();
    const rolledBack = await alice.begin();
    await rolledBack.execute('INSERT INTO app.docs (id, body) VALUES (1, $1)', [new Blob(['a'])]);
    await rolledBack.rollback();

    const failed = await alice.begin();
    await failed.execute('INSERT INTO app.docs (id, body) VALUES (2, $1)', [new Blob(['b'])]);
    await expect(failed.execute('INSERT INTO app.docs (id, body) VALUES (2, $1)', [new Blob(['c'])])).rejects.toMatchObject({ code: 'PRIMARY_KEY_VIOLATION' });

    await expect(alice.transaction(async (tx) => {
      await tx.execute('INSERT INTO app.docs (id, body) VALUES (3, $1)', [new Blob(['d'])]);
      throw new Error('changed my mind');
    })).rejects.toThrow('changed my mind');

    // First committer wins: the other transaction's commit fails, and its file goes with it.
    const loser = await alice.begin();
    await loser.execute('INSERT INTO app.docs (id, body) VALUES (4, $1)', [new Blob(['e'])]);
    await alice.execute('INSERT INTO app.docs (id, body) VALUES (4, $1)', [new Blob(['winner'])]);
    await expect(loser.commit()).rejects.toMatchObject({ code: 'PRIMARY_KEY_VIOLATION' });
    await settle();

    const winner = (await alice.query('SELECT body FROM app.docs')).rows.map((r) => (r.body as unknown as FileRef).id);
    expect(await store.list()).toEqual(winner);
    expect(await stats(db)).toEqual({ files: 1, file_bytes: 6, files_pending: 0 });
    await db.close();
  });

  it('holds at most maxTransactionRows files per transaction (TRANSACTION_ERROR before uploading more)', async () => {
    const { db, store, alice } = await setup({ maxTransactionRows: 2 });
    const tx = await alice.begin();
    await tx.execute('INSERT INTO app.docs (id, body) VALUES (1, $1), (2, $2)', [new Blob(['1']), new Blob(['2'])]);
    await expect(tx.execute('INSERT INTO app.docs (id, body) VALUES (3, $1)', [new Blob(['3'])])).rejects.toMatchObject({ code: 'TRANSACTION_ERROR', message: expect.stringContaining('maxTransactionRows') });
    expect(await store.list()).toHaveLength(2);
    await tx.commit();
    expect(await stats(db)).toEqual({ files: 2, file_bytes: 2, files_pending: 0 });
    await db.close();
  });
});
