import { describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../api/database';
import type { FileRef } from '../core/types';
import { MemoryBlobStore } from '../storage/blob-store';

const blob = (n: number) => new Blob([new Uint8Array(n).fill(n & 0xff)]);
const settle = () => new Promise((r) => setTimeout(r, 0)); // blobs are deleted right after their commit

async function stats(db: Database): Promise<Record<string, number>> {
  const r = await db.session({ user: 'root', role: 'dba' }).query(`SELECT metric_name, metric_value FROM system.stats WHERE metric_name IN ('files', 'file_bytes', 'files_retained')`);
  return Object.fromEntries(r.rows.map((x) => [x.metric_name as string, Number(x.metric_value)]));
}

describe('ALTER TABLE and FILE columns', () => {
  it("DROP COLUMN of a FILE column deletes its files — live rows', flushed rows' and deleted rows' — and keeps the other FILE column's", async () => {
    const store = new MemoryBlobStore();
    const db = await openDatabase({ storage: 'memory', blobStore: store });
    const root = db.session({ user: 'root', role: 'dba' });
    await root.execute(`CREATE NAMESPACE app; CREATE USER TABLE app.docs (id INT PRIMARY KEY, body FILE, thumb FILE)`);
    const alice = db.session({ user: 'alice' });
    const bob = db.session({ user: 'bob' });
    await alice.execute('INSERT INTO app.docs (id, body, thumb) VALUES (1, $1, $2), (2, $3, $4)', [blob(10), blob(1), blob(20), blob(2)]);
    await root.execute('STORAGE FLUSH TABLE app.docs'); // alice's rows are cold now
    await bob.execute('INSERT INTO app.docs (id, body, thumb) VALUES (1, $1, $2), (2, $3, $4)', [blob(30), blob(3), blob(40), blob(4)]);
    await bob.execute('DELETE FROM app.docs WHERE id = 2'); // its files are kept for retention
    const refs = async (s: typeof alice, where = '') => (await s.query(`SELECT * FROM app.docs${where} ORDER BY id`)).rows;
    const thumbs = [...(await refs(alice)), ...(await refs(bob, ' WHERE _deleted = true OR _deleted = false'))].map((r) => r.thumb as unknown as FileRef);
    const bodies = [...(await refs(alice)), ...(await refs(bob, ' WHERE _deleted = true OR _deleted = false'))].map((r) => r.body as unknown as FileRef);
    expect(thumbs).toHaveLength(4);
    expect(await stats(db)).toEqual({ files: 8, file_bytes: 110, files_retained: 2 });

    await root.execute('ALTER TABLE app.docs DROP COLUMN thumb');
    await settle();
    expect((await store.list()).sort()).toEqual(bodies.map((r) => r.id).sort());
    expect(await stats(db)).toEqual({ files: 4, file_bytes: 100, files_retained: 1 });
    for (const [i, ref] of thumbs.entries()) await expect((i < 2 ? alice : bob).readFile(ref)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect((await alice.readFile(bodies[0])).size).toBe(10);
    expect((await bob.readFile(bodies[3])).size).toBe(40); // the deleted row's body, still kept for retention
    expect(Object.keys((await refs(alice))[0])).toEqual(['id', 'body']);

    // The last FILE column: the same.
    await root.execute('ALTER TABLE app.docs DROP COLUMN body');
    await settle();
    expect(await store.list()).toEqual([]);
    expect(await stats(db)).toEqual({ files: 0, file_bytes: 0, files_retained: 0 });
    await db.close();
  });

  it('a FILE column cannot change type, nor another column become FILE: UNSUPPORTED, nothing changes', async () => {
    const db = await openDatabase({ storage: 'memory', blobStore: new MemoryBlobStore() });
    const root = db.session({ user: 'root', role: 'dba' });
    await root.execute(`CREATE NAMESPACE app; CREATE USER TABLE app.docs (id INT PRIMARY KEY, title TEXT, body FILE)`);
    const alice = db.session({ user: 'alice' });
    await alice.execute(`INSERT INTO app.docs (id, title, body) VALUES (1, 'x', $1)`, [blob(5)]);
    await expect(root.execute('ALTER TABLE app.docs MODIFY COLUMN body TEXT')).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('from FILE') });
    await expect(root.execute('ALTER TABLE app.docs MODIFY COLUMN title FILE')).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('to FILE') });
    const ref = (await alice.query('SELECT body FROM app.docs WHERE id = 1')).rows[0].body as unknown as FileRef;
    expect((await alice.readFile(ref)).size).toBe(5);
    await db.close();
  });
});
