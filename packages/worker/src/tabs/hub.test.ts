import 'fake-indexeddb/auto';
import { MessageChannel } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter';
import { describe, expect, it } from 'vitest';
import { IDBFactory } from 'fake-indexeddb';
import { openDatabase, type Row } from '@kalamlite/engine';
import type { Endpoint } from 'comlink';
import { installKalamErrorTransfer } from '../transfer';
import { connectClient } from '../connect';
import { createFailoverHost } from './failover-host';
import { fakeLocks } from './fake-locks';
import { createHub, type Hub } from './hub';
import { holdLock, lockNames, type Locks } from './locks';
import { linkTo, type Link } from './link';
import type { HelperRequest } from './compaction-relay';
import type { LiveChange, LiveEvent } from '../protocol';

installKalamErrorTransfer();
const names = lockNames('memory', 'db');

function memoryHub(locks: Locks, format = 1): Hub {
  return createHub({ name: 'db', storage: 'memory', locks, format, open: (o) => openDatabase({ ...o, storage: 'memory' }) });
}

/** A client of `hubs()` — whichever hub is current — over MessageChannels, as a tab's client is. */
async function tabClient(locks: Locks, hubs: () => Hub, clientId: string, format = 1, gate: () => Promise<void> = async () => undefined, durability?: 'strict') {
  const release = await holdLock(locks, names.client(clientId));
  let deliver: (events: readonly LiveEvent[]) => Promise<void> | undefined = () => undefined;
  let resumeFrom: (id: number) => bigint | undefined = () => undefined;
  const connect = async (): Promise<Link> => {
    await gate();
    const { port1, port2 } = new MessageChannel();
    // Both ends close, as a browser's MessagePorts do.
    const served = nodeEndpoint(port1) as Endpoint & { close?(): void };
    served.close = () => port1.close();
    hubs().serve(served);
    const endpoint = nodeEndpoint(port2) as Endpoint & { close?(): void };
    endpoint.close = () => port2.close();
    return linkTo(endpoint, { name: 'db', storage: 'memory', clientId, format, ...(durability ? { durability } : {}) }, locks, names, (events) => deliver(events));
  };
  const failover = createFailoverHost(connect, (events) => deliver(events), (id) => resumeFrom(id));
  const connection = connectClient(failover.host, async () => {
    await failover.host.close();
    release();
  });
  deliver = connection.deliver;
  resumeFrom = connection.resumeFrom;
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

    // A tab that goes away frees its lock: the hub drops its connection
    // and closes its end of it (a browser tab that went away has none left).
    b.release();
    await until(() => hub.clientCount === 1);
    // What remains of b here finds no host to answer it: its close ends with the host.
    const bClosed = b.client.close();
    await a.client.close();
    await hub.close();
    await bClosed;
  });

  it('refuses a client whose build has another storage format with VERSION_MISMATCH', async () => {
    const locks = fakeLocks();
    const hub = memoryHub(locks, 2);
    await expect(tabClient(locks, () => hub, 'old', 1)).rejects.toMatchObject({ code: 'VERSION_MISMATCH' });
    expect(hub.clientCount).toBe(0);
    await hub.close();
  });

  it("makes the shared engine strict once a client asks for durability 'strict'", async () => {
    const locks = fakeLocks();
    const hub = memoryHub(locks);
    const setting = async (client: { session(o: { user: string; role: 'dba' }): { query(sql: string): Promise<{ rows: readonly Row[] }> } }) =>
      (await client.session({ user: 'root', role: 'dba' }).query("SELECT value FROM system.settings WHERE name = 'durability'")).rows[0]?.value;
    const a = await tabClient(locks, () => hub, 'a');
    expect(await setting(a.client)).toBe('relaxed');
    const b = await tabClient(locks, () => hub, 'b', 1, undefined, 'strict');
    expect(await setting(a.client)).toBe('strict');
    await a.client.close();
    await b.client.close();
    await hub.close();
  });

  it('asks the page of the client attached last to start a compaction helper on the port it sends, naming that client’s lock, and says when no client is attached', async () => {
    const locks = fakeLocks();
    const hub = memoryHub(locks);
    await hub.ready;
    expect(hub.spawnHelper(new MessageChannel().port1 as unknown as MessagePort, 'helper-lock')).toBeUndefined();
    const asked: string[] = [];
    const links: Link[] = [];
    for (const clientId of ['a', 'b']) {
      await holdLock(locks, names.client(clientId));
      const { port1, port2 } = new MessageChannel();
      hub.serve(nodeEndpoint(port1) as Endpoint);
      const spawn = ({ port, lock }: HelperRequest) => {
        asked.push(`${clientId} ${lock}`);
        port.postMessage(`helper of ${clientId}`);
      };
      links.push(await linkTo(nodeEndpoint(port2) as Endpoint, { name: 'db', storage: 'memory', clientId, format: 1 }, locks, names, () => undefined, undefined, spawn));
    }
    const { port1: engineEnd, port2: helperEnd } = new MessageChannel();
    const answered = new Promise((resolve) => engineEnd.once('message', resolve));
    // The answer names the lock b's client holds while it lives.
    expect(hub.spawnHelper(helperEnd as unknown as MessagePort, 'helper-lock')).toBe(names.client('b'));
    expect(await answered).toBe('helper of b');
    expect(asked).toEqual(['b helper-lock']);
    engineEnd.close();
    for (const link of links) await link.close();
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

  it('cancels a tab client’s running query in the shared engine when its AbortSignal aborts', async () => {
    const locks = fakeLocks();
    const hub = memoryHub(locks);
    const a = await tabClient(locks, () => hub, 'a');
    const admin = a.client.session({ user: 'admin', role: 'dba' });
    await admin.execute("CREATE SHARED TABLE t (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL = 'public')");
    await admin.execute(`INSERT INTO t (id) VALUES ${Array.from({ length: 300 }, (_, i) => `(${i})`).join(', ')}`);
    // 27 million rows: it runs until cancelled, pausing every few ms.
    const sql = 'SELECT COUNT(*) AS n FROM t x, t y, t z';
    const controller = new AbortController();
    const long = a.client.session({ user: 'bob' }).query(sql, [], { signal: controller.signal });
    let isListed = false;
    while (!isListed) isListed = (await admin.query('SELECT COUNT(*) AS n FROM system.queries WHERE sql = $1', [sql])).rows[0].n === 1;
    controller.abort();
    await expect(long).rejects.toMatchObject({ code: 'QUERY_CANCELLED' });
    expect((await admin.query('SELECT COUNT(*) AS n FROM system.queries WHERE sql = $1', [sql])).rows).toEqual([{ n: 0 }]);
    await a.client.close();
    await hub.close();
  });
});

describe('a hub that closes the engine while no client is attached (SharedWorker, leader worker)', () => {
  /**
   * One hub over an IndexedDB, as a SharedWorker's: it outlives its clients.
   * Counts engine opens and closes; while `holdCloses()` is in force, an
   * engine's close waits for `letClose()`.
   */
  function sharedWorker() {
    const locks = fakeLocks();
    const indexedDB = new IDBFactory();
    const state = { opened: 0, closesStarted: 0, closed: 0 };
    let closeGate = Promise.resolve();
    let letClose: () => void = () => undefined;
    const open = async (o: Parameters<typeof openDatabase>[0]) => {
      const db = await openDatabase({ ...o, storage: 'idb', indexedDB });
      state.opened++;
      return {
        session: db.session.bind(db),
        migrate: db.migrate.bind(db),
        setDurability: db.setDurability.bind(db),
        exportDatabase: db.exportDatabase.bind(db),
        importDatabase: db.importDatabase.bind(db),
        async close() {
          state.closesStarted++;
          await closeGate;
          await db.close();
          state.closed++;
        },
      };
    };
    const hub = createHub({ name: 'db', storage: 'memory', locks, format: 1, open, closeWhenIdle: true });
    return {
      locks,
      state,
      hub,
      holdCloses() {
        closeGate = new Promise((resolve) => (letClose = resolve));
      },
      letClose: () => letClose(),
    };
  }

  async function count(client: Awaited<ReturnType<typeof tabClient>>['client']): Promise<number> {
    const result = await client.session({ user: 'admin', role: 'dba' }).query('SELECT COUNT(*) AS n FROM t');
    return Number(result.rows[0].n);
  }

  it("keeps the engine open while one of two clients closes; the last client's close() resolves once the engine is closed, and the next client's engine opens anew from storage", async () => {
    const worker = sharedWorker();
    const a = await tabClient(worker.locks, () => worker.hub, 'a');
    const b = await tabClient(worker.locks, () => worker.hub, 'b');
    const admin = a.client.session({ user: 'admin', role: 'dba' });
    await admin.execute("CREATE SHARED TABLE t (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL = 'public')");
    await admin.execute('INSERT INTO t (id) VALUES (1), (2), (3)');
    await a.client.close();
    expect(worker.state).toEqual({ opened: 1, closesStarted: 0, closed: 0 });
    expect(worker.hub.clientCount).toBe(1);
    expect(await count(b.client)).toBe(3);

    await b.client.close();
    expect(worker.state).toEqual({ opened: 1, closesStarted: 1, closed: 1 });

    const c = await tabClient(worker.locks, () => worker.hub, 'c');
    expect(worker.state.opened).toBe(2);
    expect(await count(c.client)).toBe(3);
    // A fresh engine: it has counted none of the first one's commits.
    const stats = await c.client.session({ user: 'admin', role: 'dba' }).query("SELECT metric_value FROM system.stats WHERE metric_name = 'commits'");
    expect(stats.rows[0].metric_value).toBe('0');
    await c.client.close();
    expect(worker.state.closed).toBe(2);
    await worker.hub.close();
  });

  it('closes the engine when the last client’s tab goes away', async () => {
    const worker = sharedWorker();
    const a = await tabClient(worker.locks, () => worker.hub, 'a');
    a.release();
    await until(() => worker.state.closed === 1);
    expect(worker.hub.clientCount).toBe(0);
    await worker.hub.close();
  });

  it('opens the engine anew for a client that attaches while it closes, once it is closed', async () => {
    const worker = sharedWorker();
    const a = await tabClient(worker.locks, () => worker.hub, 'a');
    await a.client.session({ user: 'admin', role: 'dba' }).execute("CREATE SHARED TABLE t (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL = 'public'); INSERT INTO t (id) VALUES (1)");
    worker.holdCloses();
    const closing = a.client.close();
    await until(() => worker.state.closesStarted === 1);
    const late = tabClient(worker.locks, () => worker.hub, 'late');
    worker.letClose();
    await closing;
    const b = await late;
    expect(worker.state).toEqual({ opened: 2, closesStarted: 1, closed: 1 });
    expect(await count(b.client)).toBe(1);
    await b.client.close();
    await worker.hub.close();
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

describe('resuming live queries from their last _seq after failover', () => {
  /**
   * Two hubs in turn over one IndexedDB (as two leader tabs): the second
   * opens its own engine over the storage the first wrote. `gated` does not
   * reconnect until `reconnect()` is called, so writes happen while it is away.
   */
  async function setup() {
    const locks = fakeLocks();
    const indexedDB = new IDBFactory();
    const open = (o: Parameters<typeof openDatabase>[0]) => openDatabase({ ...o, storage: 'idb', indexedDB });
    let hub = createHub({ name: 'db', storage: 'memory', locks, format: 1, open });
    let letIn: () => void = () => undefined;
    let gate: Promise<void> | undefined;
    const gated = await tabClient(locks, () => hub, 'gated', 1, () => gate ?? Promise.resolve());
    const writer = await tabClient(locks, () => hub, 'writer');
    const admin = writer.client.session({ user: 'admin', role: 'dba' });
    await admin.execute("CREATE SHARED TABLE t (id BIGINT PRIMARY KEY, v TEXT, w INT) WITH (ACCESS_LEVEL = 'public')");
    await admin.execute("INSERT INTO t (id, v, w) VALUES (1, 'a', 0), (2, 'b', 0), (3, 'c', 0)");
    return {
      gated,
      writer,
      admin,
      /** The host goes away; a new one opens the storage; the writer follows at once, `gated` waits. */
      async failover() {
        gate = new Promise((resolve) => (letIn = resolve));
        const old = hub;
        hub = createHub({ name: 'db', storage: 'memory', locks, format: 1, open });
        await old.close();
        await until(() => writer.failover.failovers === 1 && gated.failover.failovers === 1);
      },
      reconnect: () => letIn(),
      async close() {
        await gated.client.close();
        await writer.client.close();
        await hub.close();
      },
    };
  }

  it('delivers writes and deletes made while the client was away exactly once, as changes, keeping unchanged rows', async () => {
    const t = await setup();
    const seen: { rows: readonly Row[]; change: LiveChange }[] = [];
    await t.gated.client.session({ user: 'bob' }).live('SELECT id, v FROM t ORDER BY id', [], (rows, change) => {
      seen.push({ rows, change });
    });
    await until(() => seen.length === 1);
    // Seen before the host went away: must not come again.
    await t.admin.execute("INSERT INTO t (id, v, w) VALUES (4, 'd', 0)");
    await until(() => seen.length === 2);
    const before = seen[1].rows;

    await t.failover();
    await t.admin.execute("INSERT INTO t (id, v, w) VALUES (5, 'e', 0)");
    await t.admin.execute("UPDATE t SET v = 'B' WHERE id = 2");
    await t.admin.execute('DELETE FROM t WHERE id = 3');
    await t.admin.execute('UPDATE t SET w = 1 WHERE id = 1'); // not visible to this query
    t.reconnect();
    await until(() => seen.length === 3);
    const resumed = seen[2];
    // A replay names deleted keys only: which held row each removed is not known to the new host.
    expect(resumed.change).toEqual({ kind: 'changes', inserted: [{ id: 2n, v: 'B' }, { id: 5n, v: 'e' }], updated: [], deleted: [3n], deletedRows: [{ key: 3n, old: undefined }] });
    expect(resumed.rows).toEqual([{ id: 1n, v: 'a' }, { id: 2n, v: 'B' }, { id: 4n, v: 'd' }, { id: 5n, v: 'e' }]);
    // Unchanged rows keep their objects; the changes name the rows the result holds.
    expect(resumed.rows[0]).toBe(before[0]);
    expect(resumed.rows[2]).toBe(before[3]);
    expect((resumed.change as Extract<LiveChange, { kind: 'changes' }>).inserted[1]).toBe(resumed.rows[3]);

    // Later commits follow as usual, each once.
    await t.admin.execute("INSERT INTO t (id, v, w) VALUES (6, 'f', 0)");
    await until(() => seen.length === 4);
    expect(seen[3].change).toEqual({ kind: 'changes', inserted: [{ id: 6n, v: 'f' }], updated: [], deleted: [] });
    const stats = await t.gated.client.stats();
    expect(stats.subscriptions).toBe(1);
    expect(seen.length).toBe(4);
    await t.close();
  });

  it('resumes a subscription that saw no change on the old host from its first result, and delivers nothing when nothing changed while away', async () => {
    const t = await setup();
    const quiet: LiveChange[] = [];
    const busy: { rows: readonly Row[]; change: LiveChange }[] = [];
    const bob = t.gated.client.session({ user: 'bob' });
    await bob.live('SELECT id FROM t WHERE id > 100', [], (_rows, change) => {
      quiet.push(change);
    });
    await bob.live('SELECT id, v FROM t WHERE id < 100 ORDER BY id', [], (rows, change) => {
      busy.push({ rows, change });
    });
    await until(() => quiet.length === 1 && busy.length === 1);
    await t.failover();
    await t.admin.execute('DELETE FROM t WHERE id = 1');
    t.reconnect();
    await until(() => busy.length === 2);
    expect(busy[1].change).toEqual({ kind: 'changes', inserted: [], updated: [], deleted: [1n], deletedRows: [{ key: 1n, old: undefined }] });
    expect(busy[1].rows.map((r) => r.id)).toEqual([2n, 3n]);
    // The other subscription's result did not change: no event (its replay named key 1, which it never held).
    await t.admin.execute('INSERT INTO t (id, v, w) VALUES (101, \'x\', 0)');
    await until(() => quiet.length === 2);
    expect(quiet).toEqual([{ kind: 'snapshot' }, { kind: 'changes', inserted: [{ id: 101n }], updated: [], deleted: [] }]);
    await t.close();
  });

  it('starts a lastRows subscription over on the new host and flags its fresh result resumed: false', async () => {
    const t = await setup();
    const seen: { rows: readonly Row[]; change: LiveChange }[] = [];
    await t.gated.client.session({ user: 'bob' }).live('SELECT id FROM t', [], (rows, change) => {
      seen.push({ rows, change });
    }, undefined, { lastRows: 2 });
    await until(() => seen.length === 1);
    await t.failover();
    await t.admin.execute('INSERT INTO t (id, v, w) VALUES (7, \'g\', 0)');
    t.reconnect();
    await until(() => seen.length === 2);
    expect(seen[1].change).toEqual({ kind: 'snapshot', resumed: false });
    await t.close();
  });
});
