import { MessageChannel } from 'node:worker_threads';
import { expose, type Endpoint } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Migration } from '@kalamlite/engine';
import { createClient } from './client';
import { connectClient } from './connect';
import { caught, closePorts, createChannelClient } from './testing/channel.fixture';
import { createFailoverHost } from './tabs/failover-host';
import { fakeLocks } from './tabs/fake-locks';
import { createHub, type Hub } from './tabs/hub';
import { linkTo } from './tabs/link';
import { holdLock, lockNames, type Locks } from './tabs/locks';
import { installKalamErrorTransfer } from './transfer';
import type { KalamClient } from './types';
import { createWorkerApi } from './worker-api';

installKalamErrorTransfer();
afterEach(closePorts);

const V1: Migration = { version: 1, sql: 'CREATE NAMESPACE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, name TEXT)' };
const V2: Migration = { version: 2, sql: "ALTER TABLE shop.items ADD COLUMN price INT DEFAULT 0; INSERT INTO shop.items (id, name) VALUES (1, 'seed')" };
const names = lockNames('memory', 'db');

/** A hub over one memory engine; `opened` counts migrate() calls the engine saw. */
function memoryHub(locks: Locks): { hub: Hub; migrateCalls: () => number } {
  let calls = 0;
  const hub = createHub({
    name: 'db',
    storage: 'memory',
    locks,
    format: 1,
    open: async (o): Promise<Database> => {
      const db = await openDatabase({ ...o, storage: 'memory' });
      return { ...db, session: db.session, migrate: (m) => (calls++, db.migrate(m)), setDurability: db.setDurability, close: db.close };
    },
  });
  return { hub, migrateCalls: () => calls };
}

/** A tab's client of `hub` over MessageChannels, attaching with `migrations`. */
async function tabClient(locks: Locks, hub: Hub, clientId: string, migrations: readonly Migration[]): Promise<KalamClient> {
  const release = await holdLock(locks, names.client(clientId));
  const connect = async () => {
    const { port1, port2 } = new MessageChannel();
    const served = nodeEndpoint(port1) as Endpoint & { close?(): void };
    served.close = () => port1.close();
    hub.serve(served);
    const endpoint = nodeEndpoint(port2) as Endpoint & { close?(): void };
    endpoint.close = () => port2.close();
    return linkTo(endpoint, { name: 'db', storage: 'memory', clientId, format: 1, migrations }, locks, names, () => undefined);
  };
  const failover = createFailoverHost(connect, () => undefined, () => undefined);
  const connection = connectClient(failover.host, async () => {
    await failover.host.close();
    release();
  });
  try {
    await failover.ready;
  } catch (e) {
    await connection.client.close().catch(() => undefined);
    throw e;
  }
  return connection.client;
}

const dba = (client: KalamClient) => client.session({ user: 'admin', role: 'dba' });
const versions = async (client: KalamClient) => (await dba(client).query('SELECT version FROM system.migrations ORDER BY version')).rows.map((r) => r.version);

describe('migrations on the shared engine (hub)', () => {
  it('two clients attaching at once with the same migrations: they run once, and each client resolves with them applied', async () => {
    const locks = fakeLocks();
    const { hub, migrateCalls } = memoryHub(locks);
    const [a, b] = await Promise.all([tabClient(locks, hub, 'a', [V1, V2]), tabClient(locks, hub, 'b', [V1, V2])]);
    expect(migrateCalls()).toBe(2);
    // Each sees the result at once: the second attach waited for the first's migrations.
    for (const client of [a, b]) {
      expect(await versions(client)).toEqual([1, 2]);
      expect((await dba(client).query('SELECT id, name, price FROM shop.items')).rows).toEqual([{ id: 1, name: 'seed', price: 0 }]);
    }
    // A client that knows fewer migrations attaches; one that knows more applies the new one.
    const c = await tabClient(locks, hub, 'c', [V1]);
    const d = await tabClient(locks, hub, 'd', [V1, V2, { version: 3, sql: 'CREATE TABLE shop.orders (id INT PRIMARY KEY)' }]);
    expect(await versions(c)).toEqual([1, 2, 3]);
    for (const client of [a, b, c, d]) await client.close();
    await hub.close();
  });

  it('a client whose migration fails gets MIGRATION_FAILED and is not attached; the database and the other clients stay at the previous version', async () => {
    const locks = fakeLocks();
    const { hub } = memoryHub(locks);
    const a = await tabClient(locks, hub, 'a', [V1, V2]);
    const bad: Migration = { version: 3, sql: "CREATE TABLE shop.orders (id INT PRIMARY KEY); INSERT INTO shop.items (id, name) VALUES (1, 'again')" };
    const e = await caught(tabClient(locks, hub, 'b', [V1, V2, bad]));
    expect(e.code).toBe('MIGRATION_FAILED');
    expect(e.message).toContain('Migration 3 failed at statement 2 of 2');
    expect(e.message).toContain('PRIMARY_KEY_VIOLATION');
    expect(hub.clientCount).toBe(1);
    expect(await versions(a)).toEqual([1, 2]);
    expect((await dba(a).query("SELECT table_name FROM system.tables WHERE namespace_id = 'shop'")).rows).toEqual([{ table_name: 'items' }]);
    // A changed migration is refused as a mismatch.
    const changed = await caught(tabClient(locks, hub, 'c', [{ version: 1, sql: `${V1.sql}; CREATE TABLE shop.more (id INT PRIMARY KEY)` }]));
    expect(changed.code).toBe('MIGRATION_MISMATCH');
    await a.close();
    await hub.close();
  });
});

describe('migrations on a dedicated worker', () => {
  it('createClient({ migrations }) resolves with them applied, once per database', async () => {
    const client = await createChannelClient({ migrations: [V1, V2] });
    expect(await versions(client)).toEqual([1, 2]);
    expect((await dba(client).query('SELECT COUNT(*) AS n FROM shop.items')).rows).toEqual([{ n: 1 }]);
    await client.close();
  });

  it('rejects with MIGRATION_FAILED and closes the database it opened', async () => {
    let closed = 0;
    const { port1, port2 } = new MessageChannel();
    expose(
      createWorkerApi(async (o) => {
        const db = await openDatabase(o);
        return { ...db, session: db.session, migrate: db.migrate, setDurability: db.setDurability, close: () => (closed++, db.close()) };
      }),
      nodeEndpoint(port1),
    );
    const e = await caught(createClient({ name: 't', storage: 'memory', worker: nodeEndpoint(port2), migrations: [{ version: 1, sql: 'CREATE TABLE nowhere.t (id INT PRIMARY KEY)' }] }));
    expect(e.code).toBe('MIGRATION_FAILED');
    expect(e.message).toContain('Migration 1 failed at statement 1 of 1 (`CREATE TABLE nowhere.t (id INT PRIMARY KEY)`): NAMESPACE_NOT_FOUND');
    expect(closed).toBe(1);
    port1.close();
    port2.close();
  });

  it('checks the list on the page: INVALID_OPTION before any worker is asked', async () => {
    let asked = 0;
    const worker = { postMessage: () => void asked++, addEventListener: () => undefined, removeEventListener: () => undefined } as unknown as Endpoint;
    for (const [migrations, message] of [
      [[{ version: 0, sql: 'SELECT 1' }], 'positive integer'],
      [[{ version: 2, sql: 'SELECT 1' }, { version: 1, sql: 'SELECT 1' }], 'strictly increasing'],
      [[{ version: 1, sql: '' }], 'non-empty SQL string'],
      ['CREATE TABLE t', 'must be an array'],
    ] as const) {
      const e = await caught(createClient({ name: 't', storage: 'memory', worker, migrations: migrations as unknown as Migration[] }));
      expect(e.code).toBe('INVALID_OPTION');
      expect(e.message).toContain(message);
    }
    expect(asked).toBe(0);
  });
});
