import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../api/database';
import type { FileRef } from '../core/types';
import { MemoryBlobStore } from '../storage/blob-store';
import { BACKUP_MAGIC, BackupReader, BackupWriter, FILE_PIECE_BYTES, type BackupRecord } from './backup-format';

const bytes = (n: number, seed = 1) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const dba = (db: Database) => db.session({ user: 'root', role: 'dba' });
const versionOf = async (file: Blob) => new DataView(await file.slice(BACKUP_MAGIC.length, BACKUP_MAGIC.length + 4).arrayBuffer()).getUint32(0, true);

async function records(file: Blob): Promise<BackupRecord[]> {
  const reader = await BackupReader.open(file);
  const out: BackupRecord[] = [];
  for (let r = await reader.next(); r; r = await reader.next()) out.push(r);
  return out;
}

async function rowsOf(db: Database, user: string, table: string) {
  return (await db.session({ user }).query(`SELECT * FROM ${table} ORDER BY id`)).rows;
}

/** Every file the rows of `user` name, read back through readFile: its SHA-256 and type. */
async function contents(db: Database, user: string, table: string, column: string) {
  const s = db.session({ user });
  const out: [number, string, string][] = [];
  for (const row of await rowsOf(db, user, table)) {
    const ref = row[column] as unknown as FileRef | null;
    if (!ref) continue;
    const blob = await s.readFile(ref);
    out.push([row.id as number, sha(new Uint8Array(await blob.arrayBuffer())), blob.type]);
  }
  return out;
}

async function fileStats(db: Database) {
  const r = await dba(db).query(`SELECT metric_name, metric_value FROM system.stats WHERE metric_name IN ('files', 'file_bytes')`);
  return Object.fromEntries(r.rows.map((x) => [x.metric_name, Number(x.metric_value)]));
}

const big = bytes(FILE_PIECE_BYTES * 2 + 12_345, 9);

async function source(): Promise<Database> {
  const db = await openDatabase({ storage: 'memory', blobStore: new MemoryBlobStore() });
  await dba(db).execute(`CREATE NAMESPACE app;
    CREATE USER TABLE app.docs (id INT PRIMARY KEY, title TEXT, body FILE);
    CREATE SHARED TABLE app.assets (id INT PRIMARY KEY, logo FILE) WITH (ACCESS_LEVEL = 'public');
    CREATE USER TABLE app.notes (id INT PRIMARY KEY, text TEXT)`);
  const alice = db.session({ user: 'alice' });
  await alice.execute('INSERT INTO app.docs (id, title, body) VALUES (1, $1, $2), (2, $3, $4), (3, $5, NULL), (4, $6, $7)', [
    'big', new File([big], 'big.bin', { type: 'application/x-big' }),
    'empty', new File([], 'empty.txt', { type: 'text/plain' }),
    'none',
    'small', new Blob([bytes(10, 4)]),
  ]);
  await db.session({ user: 'bob' }).execute('INSERT INTO app.docs (id, title, body) VALUES (1, $1, $2)', ['bobs', new Blob([bytes(500, 5)], { type: 'image/png' })]);
  await dba(db).execute('INSERT INTO app.assets (id, logo) VALUES (1, $1)', [new Blob([bytes(64, 6)], { type: 'image/svg+xml' })]);
  await alice.execute(`INSERT INTO app.notes (id, text) VALUES (1, 'no files here')`);
  return db;
}

describe('export and import carry FILE columns', () => {
  it('exportDatabase holds every file; importDatabase into a fresh database brings back equal rows and equal bytes', async () => {
    const db = await source();
    const file = await dba(db).exportDatabase();
    expect(await versionOf(file)).toBe(2);
    const pieces = (await records(file)).filter((r) => r.t === 'file');
    // big: 3 pieces; empty, small, bob's and the asset: one each.
    expect(pieces).toHaveLength(3 + 4);
    expect(pieces.every((r) => r.t === 'file' && r.bytes.length <= FILE_PIECE_BYTES)).toBe(true);

    const blobStore = new MemoryBlobStore();
    const target = await openDatabase({ storage: 'memory', blobStore });
    expect(await target.importDatabase(file)).toMatchObject({ kind: 'database', tables: 3, rows: 4 + 1 + 1 + 1 });
    for (const user of ['alice', 'bob']) {
      expect(await rowsOf(target, user, 'app.docs')).toEqual(await rowsOf(db, user, 'app.docs'));
      expect(await contents(target, user, 'app.docs', 'body')).toEqual(await contents(db, user, 'app.docs', 'body'));
    }
    expect(await contents(target, 'alice', 'app.docs', 'body')).toEqual([
      [1, sha(big), 'application/x-big'],
      [2, sha(new Uint8Array(0)), 'text/plain'],
      [4, sha(bytes(10, 4)), 'application/octet-stream'],
    ]);
    expect(await contents(target, 'carol', 'app.assets', 'logo')).toEqual([[1, sha(bytes(64, 6)), 'image/svg+xml']]);
    expect(await fileStats(target)).toEqual(await fileStats(db));
    expect(await fileStats(target)).toEqual({ files: 5, file_bytes: big.length + 10 + 500 + 64 });
    expect((await blobStore.list()).length).toBe(5);
    // The imported files are owned like uploaded ones: bob cannot read alice's, and deleting the row lets it go.
    const ref = (await rowsOf(target, 'alice', 'app.docs'))[0].body as unknown as FileRef;
    await expect(target.session({ user: 'bob' }).readFile(ref)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    await target.session({ user: 'alice' }).execute('UPDATE app.docs SET body = NULL WHERE id = 1');
    await expect(target.session({ user: 'alice' }).readFile(ref)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    await Promise.all([db.close(), target.close()]);
  });

  it("exportUserData carries the session's own files and the shared ones it may read, never another user's", async () => {
    const db = await source();
    const file = await db.session({ user: 'alice' }).exportUserData();
    const refs = (await records(file)).flatMap((r) => (r.t === 'file' && r.ref ? [r.ref.name] : []));
    expect(refs.sort()).toEqual(['big.bin', 'blob', 'blob', 'empty.txt'].sort()); // alice's three and the asset
    const bobs = (await rowsOf(db, 'bob', 'app.docs'))[0].body as unknown as FileRef;
    expect((await records(file)).some((r) => r.t === 'file' && (r.ref?.id ?? r.id) === bobs.id)).toBe(false);
    const blobStore = new MemoryBlobStore();
    const device = await openDatabase({ storage: 'memory', blobStore });
    await device.importDatabase(file);
    expect(await contents(device, 'alice', 'app.docs', 'body')).toEqual(await contents(db, 'alice', 'app.docs', 'body'));
    expect(await rowsOf(device, 'bob', 'app.docs')).toEqual([]);
    expect((await blobStore.list()).length).toBe(4);
    await Promise.all([db.close(), device.close()]);
  });

  it('a table without a FILE column is still exported in format 1 (older builds read it)', async () => {
    const db = await openDatabase({ storage: 'memory' });
    await dba(db).execute(`CREATE NAMESPACE app; CREATE USER TABLE app.notes (id INT PRIMARY KEY, text TEXT)`);
    expect(await versionOf(await dba(db).exportDatabase())).toBe(1);
    await db.close();
  });

  it('an import that fails over a file (over quota, cut off, bytes changed, or an old export without files) leaves an empty database and no blob', async () => {
    const db = await source();
    const file = await dba(db).exportDatabase();
    const all = await records(file);
    const rewrite = (change: (r: BackupRecord) => BackupRecord | undefined, version = 2) => {
      const w = new BackupWriter(version);
      for (const r of all) {
        const next = change(r);
        if (next) w.write(next);
      }
      return w.finish();
    };
    const flipped = rewrite((r) => (r.t === 'file' && r.at === FILE_PIECE_BYTES ? { ...r, bytes: r.bytes.map((b, i) => (i === 7 ? b ^ 1 : b)) } : r));
    const cutOff = rewrite((r) => (r.t === 'file' && r.at === FILE_PIECE_BYTES ? undefined : r));
    const withoutFiles = rewrite((r) => (r.t === 'file' ? undefined : r), 1); // what an export made before files were exported holds
    const cases: [Blob, Partial<Parameters<typeof openDatabase>[0]>, string, string][] = [
      [file, { maxFilesBytes: 1_000_000 }, 'QUOTA_EXCEEDED', 'maxFilesBytes'],
      [flipped, {}, 'IMPORT_INVALID_FILE', 'SHA-256'],
      [cutOff, {}, 'IMPORT_INVALID_FILE', 'cut off'],
      [withoutFiles, {}, 'IMPORT_INVALID_FILE', 'export it again'],
    ];
    for (const [given, options, code, says] of cases) {
      const blobStore = new MemoryBlobStore();
      const target = await openDatabase({ storage: 'memory', blobStore, ...options });
      await expect(target.importDatabase(given)).rejects.toMatchObject({ code, message: expect.stringContaining(says) });
      await new Promise((r) => setTimeout(r, 0)); // blobs are deleted right after the commit that drops the tables
      expect((await dba(target).query(`SELECT table_name FROM system.tables WHERE namespace_id = 'app'`)).rows).toEqual([]);
      expect(await blobStore.list()).toEqual([]);
      // And the import works once the file is right.
      if (code === 'IMPORT_INVALID_FILE') {
        await target.importDatabase(file);
        expect(await contents(target, 'alice', 'app.docs', 'body')).toEqual(await contents(db, 'alice', 'app.docs', 'body'));
      }
      await target.close();
    }
    await db.close();
  });
});
