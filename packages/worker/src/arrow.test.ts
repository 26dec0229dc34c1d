import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { expose } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter';
import { openDatabase, type Database } from '@kalamlite/engine';
import { createClient, createLocalClient } from './client';
import { installKalamErrorTransfer } from './transfer';
import type { KalamClient } from './types';
import type { WorkerApi } from './protocol';
import { createWorkerApi } from './worker-api';

/** A memory database with a SHARED table `app.items` of `count` rows. */
async function openItems(count: number): Promise<Database> {
  const db = await openDatabase({ storage: 'memory' });
  const admin = db.session({ user: 'admin', role: 'dba' });
  await admin.execute(
    'CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, title TEXT, score DOUBLE, ts TIMESTAMP, doc JSON)',
  );
  for (let i = 1; i <= count; i++) {
    await admin.execute('INSERT INTO app.items VALUES ($1, $2, $3, $4, $5)', [BigInt(i), `item ${i}`, i / 4, 1_700_000_000_000 + i, { i }]);
  }
  return db;
}

const ports: MessagePort[] = [];
afterEach(() => {
  for (const port of ports.splice(0)) port.close();
});

/** createClient over a real Comlink MessageChannel; `sent` records each IPC buffer the worker side hands to Comlink. */
async function channelClient(count: number): Promise<{ client: KalamClient; sent: Uint8Array[] }> {
  installKalamErrorTransfer();
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const api = createWorkerApi(() => openItems(count));
  const sent: Uint8Array[] = [];
  const spied: WorkerApi = {
    ...api,
    async queryArrow(session, sql, params) {
      const executed = await api.queryArrow(session, sql, params);
      sent.push(executed.value);
      return executed; // the same object, so Comlink still finds its transfer list
    },
  };
  expose(spied, nodeEndpoint(port1));
  const client = await createClient({ name: 'test', storage: 'memory', worker: nodeEndpoint(port2) });
  return { client, sent };
}

describe('queryArrow across the worker boundary', () => {
  it('transfers the IPC buffer to the page: it is detached on the worker side', async () => {
    const { client, sent } = await channelClient(500);
    const session = client.session({ user: 'admin', role: 'dba' });
    const table = await session.queryArrow('SELECT id, title, score, ts, doc FROM app.items ORDER BY id');
    expect(sent).toHaveLength(1);
    expect(sent[0].buffer.byteLength).toBe(0);
    expect(sent[0].byteLength).toBe(0);
    expect(table.numRows).toBe(500);
    expect(table.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual([
      'id:Int64',
      'title:Utf8',
      'score:Float64',
      'ts:Timestamp<MILLISECOND>',
      'doc:Utf8',
    ]);
    expect(table.get(499)!.toJSON()).toEqual({ id: 500n, title: 'item 500', score: 125, ts: 1_700_000_000_500, doc: '{"i":500}' });
    await client.close();
  });

  it('passes parameters and reports errors as KalamErrors', async () => {
    const { client, sent } = await channelClient(20);
    const session = client.session({ user: 'admin', role: 'dba' });
    const table = await session.queryArrow('SELECT id FROM app.items WHERE id > $1 ORDER BY id', [17n]);
    expect([...table.getChild('id')!]).toEqual([18n, 19n, 20n]);
    await expect(session.queryArrow('DELETE FROM app.items WHERE id = 1')).rejects.toMatchObject({ code: 'INVALID_SQL' });
    await expect(session.queryArrow('SELECT * FROM app.missing')).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
    expect(sent).toHaveLength(1);
    expect((await session.query('SELECT COUNT(*) AS n FROM app.items')).rows[0].n).toBe(20);
    await client.close();
  });

  it('follows a USE of the session like query() does', async () => {
    const { client } = await channelClient(3);
    const session = client.session({ user: 'admin', role: 'dba' });
    await session.execute('USE app');
    expect((await session.queryArrow('SELECT id FROM items')).numRows).toBe(3);
    await client.close();
  });
});

describe('queryArrow in-process', () => {
  it('returns the same table without a worker', async () => {
    const db = await openItems(5);
    const client = createLocalClient(db);
    const table = await client.session({ user: 'admin', role: 'dba' }).queryArrow('SELECT SUM(score) AS total, COUNT(*) AS n FROM app.items');
    expect(table.get(0)!.toJSON()).toEqual({ total: 3.75, n: 5 });
    await client.close();
    await db.close();
  });
});
