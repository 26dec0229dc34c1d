import { MessageChannel } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Row } from '@kalamlite/engine';
import type { Endpoint } from 'comlink';
import { installKalamErrorTransfer } from '../transfer';
import { connectClient } from '../connect';
import { createFailoverHost } from './failover-host';
import { fakeLocks } from './fake-locks';
import { createHub, type Hub } from './hub';
import { holdLock, lockNames, type Locks } from './locks';
import { linkTo, type Link } from './link';
import type { LiveEvent } from '../protocol';

installKalamErrorTransfer();
const names = lockNames('memory', 'db');

function memoryHub(locks: Locks, format = 1): Hub {
  return createHub({ name: 'db', storage: 'memory', locks, format, open: (o) => openDatabase({ ...o, storage: 'memory' }) });
}

/** A client of `hubs()` — whichever hub is current — over MessageChannels, as a tab's client is. */
async function tabClient(locks: Locks, hubs: () => Hub, clientId: string, format = 1) {
  const release = await holdLock(locks, names.client(clientId));
  let deliver: (events: readonly LiveEvent[]) => Promise<void> | undefined = () => undefined;
  const connect = async (): Promise<Link> => {
    const { port1, port2 } = new MessageChannel();
    hubs().serve(nodeEndpoint(port1) as Endpoint);
    const endpoint = nodeEndpoint(port2) as Endpoint & { close?(): void };
    endpoint.close = () => port2.close();
    return linkTo(endpoint, { name: 'db', storage: 'memory', clientId, format }, locks, names, (events) => deliver(events));
  };
  const failover = createFailoverHost(connect, (events) => deliver(events));
  const connection = connectClient(failover.host, async () => {
    await failover.host.close();
    release();
  });
  deliver = connection.deliver;
  await failover.ready;
  return { client: connection.client, failover, release };
}

function until(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (check() ? resolve() : setTimeout(poll, 5));
    poll();
  });
}

describe('a hub serving several clients over one engine', () => {
  it('shows one client’s writes in another client’s live query and counts connected clients in system.stats', async () => {
    const locks = fakeLocks();
    const hub = memoryHub(locks);
    const a = await tabClient(locks, () => hub, 'a');
    const b = await tabClient(locks, () => hub, 'b');
    const admin = a.client.session({ user: 'admin', role: 'dba' });
    await admin.execute("CREATE SHARED TABLE t (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL = 'public')");
    let seen: readonly Row[] = [];
    await b.client.session({ user: 'bob' }).live('SELECT id FROM t', [], (rows) => {
      seen = rows;
    });
    await admin.execute('INSERT INTO t (id) VALUES (1), (2)');
    await until(() => seen.length === 2);
    const stats = await admin.query("SELECT metric_value FROM system.stats WHERE metric_name = 'clients_connected'");
    expect(stats.rows[0].metric_value).toBe('2');
    expect(hub.clientCount).toBe(2);
    // system.live names the client (tab) that owns each subscription.
    const live = await admin.query('SELECT owner, query FROM system.live');
    expect(live.rows.map((r) => r.owner)).toEqual(['b']);

    // A tab that goes away frees its lock: the hub drops its connection.
    b.release();
    await until(() => hub.clientCount === 1);
    await b.client.close();
    await a.client.close();
    await hub.close();
  });

  it('refuses a client whose build has another storage format with VERSION_MISMATCH', async () => {
    const locks = fakeLocks();
    const hub = memoryHub(locks, 2);
    await expect(tabClient(locks, () => hub, 'old', 1)).rejects.toMatchObject({ code: 'VERSION_MISMATCH' });
    expect(hub.clientCount).toBe(0);
    await hub.close();
  });

  it('refuses clients past its bound', async () => {
    const locks = fakeLocks();
    const hub = createHub({ name: 'db', storage: 'memory', locks, format: 1, maxClients: 1, open: (o) => openDatabase({ ...o, storage: 'memory' }) });
    const a = await tabClient(locks, () => hub, 'a');
    await expect(tabClient(locks, () => hub, 'b')).rejects.toMatchObject({ code: 'RESULT_TOO_LARGE' });
    await a.client.close();
    await hub.close();
  });
});

describe('failover to the next host', () => {
  it('fails in-flight calls with LEADER_CHANGED, resumes live queries on the new host and loses no committed row', async () => {
    const locks = fakeLocks();
    // Both hosts share one storage, as two tabs share IndexedDB.
    const shared = await openDatabase({ storage: 'memory' });
    const open = async () => ({ session: shared.session.bind(shared), close: async () => undefined }) as never;
    let hub = createHub({ name: 'db', storage: 'memory', locks, format: 1, open });
    const { client, failover } = await tabClient(locks, () => hub, 'a');
    const admin = client.session({ user: 'admin', role: 'dba' });
    await admin.execute("CREATE SHARED TABLE t (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL = 'public')");
    const results: (readonly Row[])[] = [];
    await client.session({ user: 'bob' }).live('SELECT id FROM t ORDER BY id', [], (rows) => {
      results.push(rows);
    });
    await admin.execute('INSERT INTO t (id) VALUES (1)');
    await until(() => results.at(-1)?.length === 1);
    const tx = await admin.begin();
    await tx.execute('INSERT INTO t (id) VALUES (99)');

    // The host goes away: its locks free (as when its worker dies).
    const old = hub;
    hub = createHub({ name: 'db', storage: 'memory', locks, format: 1, open });
    await old.close();
    await until(() => failover.failovers === 1);

    await expect(tx.commit()).rejects.toMatchObject({ code: 'LEADER_CHANGED' });
    await admin.execute('INSERT INTO t (id) VALUES (2)');
    await until(() => results.at(-1)?.length === 2);
    expect(results.at(-1)!.map((r) => r.id)).toEqual([1n, 2n]);
    // The resumed first result equalled the last one: it was not delivered again.
    expect(results.map((rows) => rows.length)).toEqual([0, 1, 2]);
    await client.close();
    await hub.close();
  });
});
