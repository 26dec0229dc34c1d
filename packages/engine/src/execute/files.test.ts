import { createHash } from 'node:crypto';
import { IDBFactory } from 'fake-indexeddb';
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { FileRef } from '../core/types';
import { MemoryBlobStore } from '../storage/blob-store';
import { openIdbBlobStore } from '../storage/idb-blob-store';
import { faultyStore, reopened } from '../storage/faulty.fixture';
import { openMemoryStore } from '../storage/memory';

const bytes = (n: number, seed = 1) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const read = async (b: Blob) => new Uint8Array(await b.arrayBuffer());

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return (e as KalamError).code;
  }
  throw new Error('expected a failure');
};

async function stats(db: Database): Promise<Record<string, unknown>> {
  const r = await db.session({ user: 'root', role: 'dba' }).query(`SELECT metric_name, metric_value FROM system.stats WHERE metric_name LIKE 'file%'`);
  return Object.fromEntries(r.rows.map((x) => [x.metric_name, Number(x.metric_value)]));
}

async function setup(db: Database) {
  const root = db.session({ user: 'root', role: 'dba' });
  await root.execute(`CREATE NAMESPACE IF NOT EXISTS app;
    CREATE USER TABLE IF NOT EXISTS app.docs (id INT PRIMARY KEY, title TEXT, body FILE)`);
  return { root, alice: db.session({ user: 'alice' }) };
}

describe('FILE columns', () => {
  it('stores a Blob parameter as a file: the row holds its FileRef, readFile gives the bytes back', async () => {
    const store = new MemoryBlobStore();
    const db = await openDatabase({ storage: 'memory', blobStore: store });
    const { alice } = await setup(db);
    const data = bytes(100_000);
    await alice.execute('INSERT INTO app.docs (id, title, body) VALUES ($1, $2, $3)', [1, 'report', new File([data], 'report.pdf', { type: 'application/pdf' })]);
    const [row] = (await alice.query('SELECT body FROM app.docs WHERE id = 1')).rows;
    const ref = row.body as unknown as FileRef;
    expect(ref).toEqual({ id: expect.stringMatching(/^[0-9a-f]{32}$/), name: 'report.pdf', size: 100_000, mime: 'application/pdf', sha256: sha(data) });
    expect(Object.isFrozen(ref)).toBe(true);
    const blob = await alice.readFile(ref);
    expect(blob.type).toBe('application/pdf');
    expect(sha(await read(blob))).toBe(sha(data));
    expect(await stats(db)).toMatchObject({ files: 1, file_bytes: 100_000, files_pending: 0 });
    expect(await store.list()).toEqual([ref.id]);
    await db.close();
  });

  it('deletes the file with its row, and the old file when an UPDATE replaces it; keeps it through other updates', async () => {
    const store = new MemoryBlobStore();
    const db = await openDatabase({ storage: 'memory', blobStore: store });
    const { alice } = await setup(db);
    await alice.execute('INSERT INTO app.docs (id, body) VALUES (1, $1), (2, $2)', [new Blob([bytes(10)]), new Blob([bytes(20)])]);
    const refOf = async (id: number) => (await alice.query('SELECT body FROM app.docs WHERE id = $1', [id])).rows[0].body as unknown as FileRef;
    const first = await refOf(1);
    await alice.execute(`UPDATE app.docs SET title = 'renamed' WHERE id = 1`);
    expect(await refOf(1)).toEqual(first);
    expect(sha(await read(await alice.readFile(first)))).toBe(sha(bytes(10)));
    await alice.execute('UPDATE app.docs SET body = $1 WHERE id = 1', [new Blob([bytes(30, 7)])]);
    const second = await refOf(1);
    expect(second.id).not.toBe(first.id);
    expect(await codeOf(alice.readFile(first))).toBe('FILE_NOT_FOUND');
    expect(sha(await read(await alice.readFile(second)))).toBe(sha(bytes(30, 7)));
    const two = await refOf(2);
    await alice.execute('DELETE FROM app.docs WHERE id = 2');
    // A deleted row's file stays with its tombstone until retention purges it (files-retention.test.ts).
    expect(sha(await read(await alice.readFile(two)))).toBe(sha(bytes(20)));
    await alice.execute('UPDATE app.docs SET body = NULL WHERE id = 1');
    await new Promise((r) => setTimeout(r, 0)); // blobs are deleted right after the commit
    expect(await codeOf(alice.readFile(second))).toBe('FILE_NOT_FOUND');
    expect(await store.list()).toEqual([two.id]);
    expect(await stats(db)).toMatchObject({ files: 1, file_bytes: 20, files_retained: 1 });
    await db.close();
  });

  it('a statement that fails stores no file', async () => {
    const store = new MemoryBlobStore();
    const db = await openDatabase({ storage: 'memory', blobStore: store });
    const { alice } = await setup(db);
    await alice.execute('INSERT INTO app.docs (id, body) VALUES (1, $1)', [new Blob([bytes(5)])]);
    expect(await codeOf(alice.execute('INSERT INTO app.docs (id, body) VALUES (1, $1)', [new Blob([bytes(50)])]))).toBe('PRIMARY_KEY_VIOLATION');
    expect(await codeOf(alice.execute('INSERT INTO app.docs (id, title) VALUES (2, $1)', [new Blob([bytes(50)])]))).toBe('TYPE_MISMATCH');
    expect(await store.list()).toHaveLength(1);
    expect(await stats(db)).toMatchObject({ files: 1, file_bytes: 5, files_pending: 0, file_pending_bytes: 0 });
    await db.close();
  });

  it('a commit the storage refuses stores no file', async () => {
    const inner = openMemoryStore();
    const kv = faultyStore(inner, { keepOnClose: true });
    const store = new MemoryBlobStore();
    const db = await openDatabase({ storage: kv, blobStore: store });
    const { alice } = await setup(db);
    await alice.execute('INSERT INTO app.docs (id, body) VALUES (1, $1)', [new Blob([bytes(5)])]); // the marker and the first file
    kv.control.armed = true;
    kv.control.failure = () => new Error('the disk went away');
    expect(await codeOf(alice.execute('INSERT INTO app.docs (id, body) VALUES (2, $1)', [new Blob([bytes(50)])]))).toBe('STORAGE_ERROR');
    kv.control.armed = false;
    expect(await store.list()).toHaveLength(1);
    expect((await alice.query('SELECT id FROM app.docs')).rows).toEqual([{ id: 1 }]);
    await db.close();
    // Reopened: the one file is there and readable.
    const again = await openDatabase({ storage: reopened(inner), blobStore: store });
    const s = again.session({ user: 'alice' });
    const ref = (await s.query('SELECT body FROM app.docs WHERE id = 1')).rows[0].body as unknown as FileRef;
    expect(sha(await read(await s.readFile(ref)))).toBe(sha(bytes(5)));
    await again.close();
  });

  it('refuses a FileRef that was not uploaded with the statement: copied from a row, typed in, or stored twice', async () => {
    const store = new MemoryBlobStore();
    const db = await openDatabase({ storage: 'memory', blobStore: store });
    const { alice } = await setup(db);
    await alice.execute('INSERT INTO app.docs (id, body) VALUES (1, $1)', [new Blob([bytes(5)])]);
    const ref = (await alice.query('SELECT body FROM app.docs WHERE id = 1')).rows[0].body as unknown as FileRef;
    expect(await codeOf(alice.execute('INSERT INTO app.docs (id, body) SELECT 2, body FROM app.docs WHERE id = 1'))).toBe('INVALID_PARAMETER');
    expect(await codeOf(alice.execute('INSERT INTO app.docs (id, body) VALUES (3, $1)', [ref as never]))).toBe('INVALID_PARAMETER');
    expect(await codeOf(alice.execute('INSERT INTO app.docs (id, body) VALUES (4, $1)', [JSON.stringify(ref)]))).toBe('INVALID_PARAMETER');
    expect(await codeOf(alice.execute(`INSERT INTO app.docs (id, body) VALUES (5, '{"id":"x"}')`))).toBe('INVALID_PARAMETER');
    expect(await codeOf(alice.execute('INSERT INTO app.docs (id, body) VALUES (6, $1), (7, $1)', [new Blob([bytes(9)])]))).toBe('INVALID_PARAMETER');
    expect((await alice.query('SELECT id FROM app.docs')).rows).toEqual([{ id: 1 }]);
    expect(await store.list()).toEqual([ref.id]);
    await db.close();
  });

  it("a refused FILE value fails its own statement only: the other users' statements committed in the same group go through", async () => {
    const store = new MemoryBlobStore();
    const db = await openDatabase({ storage: 'memory', blobStore: store });
    const { root, alice } = await setup(db);
    await root.execute('CREATE USER TABLE app.notes (id INT PRIMARY KEY, text TEXT)');
    await alice.execute('INSERT INTO app.docs (id, body) VALUES (1, $1)', [new Blob([bytes(5)])]);
    const ref = (await alice.query('SELECT body FROM app.docs WHERE id = 1')).rows[0].body as unknown as FileRef;
    // Sent in the same tick: they join one group commit.
    const [bad, good, alsoGood] = await Promise.allSettled([
      alice.execute('INSERT INTO app.docs (id, body) VALUES (2, $1)', [ref as never]),
      db.session({ user: 'bob' }).execute(`INSERT INTO app.notes (id, text) VALUES (1, 'hello')`),
      alice.execute('INSERT INTO app.docs (id, body) VALUES (3, $1)', [new Blob([bytes(7)])]),
    ]);
    expect(bad.status === 'rejected' && (bad.reason as KalamError).code).toBe('INVALID_PARAMETER');
    expect([good.status, alsoGood.status], String((good as PromiseRejectedResult).reason)).toEqual(['fulfilled', 'fulfilled']);
    expect((await db.session({ user: 'bob' }).query('SELECT id, text FROM app.notes')).rows).toEqual([{ id: 1, text: 'hello' }]);
    expect((await alice.query('SELECT id FROM app.docs ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 3 }]);
    await db.close();
  });

  it('QUOTA_EXCEEDED past maxFileBytes or maxFilesBytes, storing nothing', async () => {
    const store = new MemoryBlobStore();
    const db = await openDatabase({ storage: 'memory', blobStore: store, maxFileBytes: 1000, maxFilesBytes: 1500 });
    const { alice } = await setup(db);
    const big = alice.execute('INSERT INTO app.docs (id, body) VALUES (1, $1)', [new Blob([bytes(1001)])]);
    await expect(big).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', message: expect.stringContaining('maxFileBytes') });
    await alice.execute('INSERT INTO app.docs (id, body) VALUES (1, $1)', [new Blob([bytes(1000)])]);
    const more = alice.execute('INSERT INTO app.docs (id, body) VALUES (2, $1)', [new Blob([bytes(600)])]);
    await expect(more).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED', message: expect.stringContaining('maxFilesBytes') });
    expect(await store.list()).toHaveLength(1);
    await alice.execute('UPDATE app.docs SET body = NULL WHERE id = 1');
    await alice.execute('INSERT INTO app.docs (id, body) VALUES (2, $1)', [new Blob([bytes(600)])]); // room again
    const settings = await db.session({ user: 'root', role: 'dba' }).query(`SELECT name, value FROM system.settings WHERE name LIKE 'max_file%'`);
    expect(settings.rows).toEqual(expect.arrayContaining([{ name: "max_file_bytes", value: "1000" }, { name: "max_files_bytes", value: "1500" }]));
    await db.close();
  });

  it('DROP TABLE deletes its files', async () => {
    const store = new MemoryBlobStore();
    const db = await openDatabase({ storage: 'memory', blobStore: store });
    const { root, alice } = await setup(db);
    await alice.execute('INSERT INTO app.docs (id, body) VALUES (1, $1), (2, $2)', [new Blob([bytes(5)]), new Blob([bytes(6)])]);
    await root.execute('DROP TABLE app.docs');
    await new Promise((r) => setTimeout(r, 0));
    expect(await store.list()).toEqual([]);
    expect(await stats(db)).toMatchObject({ files: 0, file_bytes: 0 });
    await db.close();
  });

  it('a FileRef survives a flush to the cold tier, and its file is kept with the tombstone of a deletion after it', async () => {
    const store = new MemoryBlobStore();
    const db = await openDatabase({ storage: 'memory', blobStore: store });
    const { root, alice } = await setup(db);
    await alice.execute('INSERT INTO app.docs (id, body) VALUES (1, $1)', [new Blob([bytes(70)], { type: 'text/plain' })]);
    await root.execute('STORAGE FLUSH TABLE app.docs');
    const ref = (await alice.query('SELECT body FROM app.docs WHERE id = 1')).rows[0].body as unknown as FileRef;
    expect(ref.mime).toBe('text/plain');
    expect(sha(await read(await alice.readFile(ref)))).toBe(sha(bytes(70)));
    await alice.execute('DELETE FROM app.docs WHERE id = 1');
    await new Promise((r) => setTimeout(r, 0));
    expect(await store.list()).toEqual([ref.id]); // until retention purges the tombstone (files-retention.test.ts)
    expect(await stats(db)).toMatchObject({ files: 1, files_retained: 1 });
    await db.close();
  });

  it('over IndexedDB: streams a file of several 256 KiB records, keeps it across a reopen, and sweeps a blob a crash left without a row', async () => {
    const indexedDB = new IDBFactory();
    const db = await openDatabase({ storage: 'idb', name: 'files', indexedDB });
    const { alice } = await setup(db);
    const data = bytes(600 * 1024 + 123);
    // A stream of small chunks (as Blob.stream() gives them): the store re-cuts them into 256 KiB records.
    await alice.execute('INSERT INTO app.docs (id, body) VALUES (1, $1)', [new Blob([data])]);
    const ref = (await alice.query('SELECT body FROM app.docs WHERE id = 1')).rows[0].body as unknown as FileRef;
    expect(ref.sha256).toBe(sha(data));
    await db.close();

    // A crash between an upload and its commit: a blob no record names.
    const blobs = await openIdbBlobStore('files', indexedDB);
    await blobs.write('0'.repeat(32), (async function* () { yield bytes(10); })());
    expect((await blobs.list()).sort()).toEqual(['0'.repeat(32), ref.id].sort());
    await blobs.close?.();

    const again = await openDatabase({ storage: 'idb', name: 'files', indexedDB });
    const s = again.session({ user: 'alice' });
    expect(sha(await read(await s.readFile(ref)))).toBe(sha(data));
    expect(await stats(again)).toMatchObject({ files: 1, file_bytes: data.length, file_orphans_swept: 1 });
    await again.close();
    const after = await openIdbBlobStore('files', indexedDB);
    expect(await after.list()).toEqual([ref.id]);
    await after.close?.();
  });

  it('a database that never stored a file does not load the file code: its figures appear in system.stats with the first file', async () => {
    const db = await openDatabase({ storage: 'memory' });
    const { alice } = await setup(db);
    expect(await stats(db)).toEqual({});
    await alice.execute('INSERT INTO app.docs (id, body) VALUES (1, $1)', [new Blob([bytes(3)])]);
    expect(await stats(db)).toMatchObject({ files: 1, file_bytes: 3 });
    await db.close();
  });
});
