import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type BackupProgress, type Database } from '@kalamlite/engine';
import { createClient, createLocalClient } from './client';
import { caught, openTestDatabase } from './testing/channel.fixture';
import { installKalamErrorTransfer } from './transfer';
import type { KalamClient } from './types';
import { createWorkerApi } from './worker-api';

const ports: MessagePort[] = [];
afterEach(() => {
  for (const port of ports.splice(0)) port.close();
});

/** A client over a real Comlink pair (Node MessageChannel), its engine opened by `open`. */
async function overChannel(open: () => Promise<Database>): Promise<KalamClient> {
  installKalamErrorTransfer();
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  expose(createWorkerApi(open), nodeEndpoint(port1));
  return createClient({ name: 'test', storage: 'memory', worker: nodeEndpoint(port2) });
}

const empty = () => openDatabase({ storage: 'memory' });

for (const [transport, connect] of [
  ['in-process', async (open: () => Promise<Database>) => createLocalClient(await open())],
  ['over Comlink', overChannel],
] as const) {
  describe(`export and import, a client ${transport}`, () => {
    async function filled(): Promise<KalamClient> {
      const client = await connect(openTestDatabase);
      const admin = client.session({ user: 'admin', role: 'dba' });
      await admin.execute('CREATE SHARED TABLE app.blobs (id BIGINT PRIMARY KEY, b BYTES, j JSON) WITH (ACCESS_LEVEL = \'public\')');
      await admin.execute('INSERT INTO app.blobs VALUES ($1, $2, $3)', [2n ** 62n, new Uint8Array([1, 2, 255]), { deep: ['ü', 1.5] }]);
      for (const user of ['alice', 'bob']) {
        const values = Array.from({ length: 1500 }, (_, i) => `('${user}-${String(i).padStart(4, '0')}', 'todo ${i} of ${user}')`);
        await client.session({ user }).execute(`INSERT INTO app.todos (id, title) VALUES ${values.join(', ')}`);
      }
      return client;
    }

    it('moves the whole database as a Blob, with progress on the page, into an empty database', async () => {
      const source = await filled();
      const progress: BackupProgress[] = [];
      const file = await source.exportDatabase({ onProgress: (p) => progress.push(p) });
      expect(file).toBeInstanceOf(Blob);
      // The progress calls cross the channel without being awaited: wait for the last one.
      await expect.poll(() => progress.at(-1)).toEqual({ rows: 3001, tables: 2 });

      const target = await connect(empty);
      const imported: BackupProgress[] = [];
      expect(await target.importDatabase(file, { onProgress: (p) => imported.push(p) })).toEqual({ kind: 'database', namespaces: 1, tables: 2, rows: 3001, users: 0 });
      await expect.poll(() => imported.at(-1)).toEqual({ rows: 3001, tables: 2 });
      for (const user of ['alice', 'bob']) {
        const q = 'SELECT id, title FROM app.todos ORDER BY id';
        expect((await target.session({ user }).query(q)).rows).toEqual((await source.session({ user }).query(q)).rows);
      }
      expect((await target.session({ user: 'carol' }).query('SELECT * FROM app.blobs')).rows).toEqual([{ id: 2n ** 62n, b: new Uint8Array([1, 2, 255]), j: { deep: ['ü', 1.5] } }]);
      // Importing again: the database is no longer empty.
      expect((await caught(target.importDatabase(file))).code).toBe('IMPORT_NOT_EMPTY');
      await source.close();
      await target.close();
    });

    it("moves one user's data to a new device with session.exportUserData()", async () => {
      const source = await filled();
      const file = await source.session({ user: 'alice' }).exportUserData();
      const device = await connect(empty);
      expect(await device.importDatabase(file)).toMatchObject({ kind: 'user', user: 'alice', tables: 2, rows: 1501 });
      expect((await device.session({ user: 'alice' }).query('SELECT COUNT(*) AS n FROM app.todos')).rows).toEqual([{ n: 1500 }]);
      expect((await device.session({ user: 'bob' }).query('SELECT COUNT(*) AS n FROM app.todos')).rows).toEqual([{ n: 0 }]);
      await source.close();
      await device.close();
    });

    it('fails with the engine codes, intact across the boundary, for bad files and options', async () => {
      const source = await filled();
      const bytes = new Uint8Array(await (await source.exportDatabase()).arrayBuffer());
      const target = await connect(empty);
      const damaged = bytes.slice();
      damaged[Math.floor(bytes.length / 2)] ^= 1;
      const e = await caught(target.importDatabase(new Blob([damaged])));
      expect([e.code, e.message]).toEqual(['IMPORT_INVALID_FILE', expect.stringContaining('checksum')]);
      expect((await caught(target.importDatabase(new Blob([bytes.slice(0, 100)])))).code).toBe('IMPORT_INVALID_FILE');
      expect((await caught(target.exportDatabase({ onProgress: 5 } as never))).code).toBe('INVALID_OPTION');
      // Nothing stayed behind: a good file imports.
      expect(await target.importDatabase(new Blob([bytes]))).toMatchObject({ rows: 3001 });
      await source.close();
      await target.close();
      expect((await caught(target.exportDatabase())).code).toBe('CLOSED');
    });
  });
}
