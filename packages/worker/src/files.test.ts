import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type FileRef } from '@kalamlite/engine';
import { createClient, createLocalClient } from './client';
import { caught } from './testing/channel.fixture';
import { installKalamErrorTransfer } from './transfer';
import type { KalamClient } from './types';
import { createWorkerApi } from './worker-api';

const ports: MessagePort[] = [];
afterEach(() => {
  for (const port of ports.splice(0)) port.close();
});

async function overChannel(open: () => Promise<Database>): Promise<KalamClient> {
  installKalamErrorTransfer();
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  expose(createWorkerApi(open), nodeEndpoint(port1));
  return createClient({ name: 'test', storage: 'memory', worker: nodeEndpoint(port2) });
}

const open = async () => {
  const db = await openDatabase({ storage: 'memory' });
  await db.session({ user: 'root', role: 'dba' }).execute('CREATE NAMESPACE app; CREATE USER TABLE app.photos (id INT PRIMARY KEY, caption TEXT, image FILE)');
  return db;
};

for (const [transport, connect] of [
  ['in-process', async () => createLocalClient(await open())],
  ['over Comlink', () => overChannel(open)],
] as const) {
  describe(`FILE columns, a client ${transport}`, () => {
    it('sends a Blob parameter to the worker, and reads the file back as a Blob and an object URL', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      const bytes = Uint8Array.from({ length: 200_000 }, (_, i) => i & 0xff);
      await alice.execute('INSERT INTO app.photos (id, caption, image) VALUES ($1, $2, $3)', [1, 'cat', new File([bytes], 'cat.png', { type: 'image/png' })]);
      const { rows } = await alice.query<{ image: FileRef }>('SELECT image FROM app.photos WHERE id = 1');
      const ref = rows[0].image;
      expect(ref).toMatchObject({ size: 200_000, mime: 'image/png' });
      // Node's MessageChannel clones a File as a plain Blob (browsers keep File and its name: e2e/files.e2e.test.ts).
      if (transport === 'in-process') expect(ref.name).toBe('cat.png');
      const blob = await alice.readFile(ref);
      expect(blob.type).toBe('image/png');
      expect(Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true);
      const url = await alice.fileUrl(ref);
      expect(url).toMatch(/^blob:/);
      URL.revokeObjectURL(url);
      // The client's own fileUrl reads as the session it names.
      const viaClient = await client.fileUrl(ref, { user: 'alice' });
      expect(viaClient).toMatch(/^blob:/);
      URL.revokeObjectURL(viaClient);
      expect((await caught(client.fileUrl(ref, { user: 'bob' }))).code).toBe('FILE_NOT_FOUND');
      // Another user holding the ref gets nothing.
      expect((await caught(client.session({ user: 'bob' }).readFile(ref))).code).toBe('FILE_NOT_FOUND');
      // Other parameters are still checked on the page.
      expect((await caught(alice.execute('INSERT INTO app.photos (id, image) VALUES ($1, $2)', [undefined as never, new Blob([bytes])]))).code).toBe('INVALID_PARAMETER');
      await client.close();
    });

    it('stores a file inside a transaction: committed with its row, gone with a rollback', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      const tx = await alice.begin();
      await tx.execute('INSERT INTO app.photos (id, image) VALUES (1, $1)', [new Blob(['kept'])]);
      await tx.commit();
      const ref = (await alice.query<{ image: FileRef }>('SELECT image FROM app.photos WHERE id = 1')).rows[0].image;
      expect(await (await alice.readFile(ref)).text()).toBe('kept');
      const dropped = await alice.begin();
      await dropped.execute('INSERT INTO app.photos (id, image) VALUES (2, $1)', [new Blob(['dropped'])]);
      const staged = (await dropped.query<{ image: FileRef }>('SELECT image FROM app.photos WHERE id = 2')).rows[0].image;
      await dropped.rollback();
      expect((await caught(alice.readFile(staged))).code).toBe('FILE_NOT_FOUND');
      expect((await alice.query('SELECT id FROM app.photos')).rows).toEqual([{ id: 1 }]);
      await client.close();
    });

    it('reads a file as another user with EXECUTE AS USER rules: a dba session may, a user session may not', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      await alice.execute('INSERT INTO app.photos (id, image) VALUES (1, $1)', [new Blob(['hello'])]);
      const ref = (await alice.query<{ image: FileRef }>('SELECT image FROM app.photos WHERE id = 1')).rows[0].image;
      const ops = client.session({ user: 'ops', role: 'dba' });
      expect((await caught(ops.readFile(ref))).code).toBe('FILE_NOT_FOUND');
      expect(await (await ops.readFile(ref, { asUser: 'alice' })).text()).toBe('hello');
      const url = await ops.fileUrl(ref, { asUser: 'alice' });
      expect(url).toMatch(/^blob:/);
      URL.revokeObjectURL(url);
      expect((await caught(client.session({ user: 'bob' }).readFile(ref, { asUser: 'alice' }))).code).toBe('PERMISSION_DENIED');
      expect((await caught(ops.readFile(ref, { asUser: 42 } as never))).code).toBe('INVALID_OPTION');
      await client.close();
    });
  });
}
