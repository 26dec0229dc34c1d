/**
 * Storage failures at the KvStore boundary (storage/guarded-store.ts;
 * issue 12, Observed 6), for every backend: whatever a store throws reaches the user as a KalamError
 * with a storage code (STORAGE_ERROR, QUOTA_EXCEEDED) — from statements,
 * transactions and background jobs alike — and a failed commit changes
 * nothing in memory, so memory equals disk after a reopen.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../api/database';
import { KalamError } from '../core/errors';
import { FileSegmentStore } from '../storage/cold/file-segment-store';
import type { SegmentStore } from '../storage/cold/types';
import { faultyStore, reopened, type FaultyStore } from '../storage/faulty.fixture';
import { openIdbStore } from '../storage/idb';
import { compareBytes } from '../storage/keys';
import type { KvStore, StoreName } from '../storage/kv';
import { openMemoryStore } from '../storage/memory';
import { LogStore } from '../storage/opfs-log';
import { FakeDirectory } from '../storage/opfs.fixture';
import { Engine, type OpenOptions, type SessionState } from './engine';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const alice: SessionState = { user: 'alice', role: 'user', namespace: 'default' };

let open: Engine[] = [];
afterEach(async () => {
  for (const e of open) await e.close().catch(() => undefined);
  open = [];
});

async function engineOver(options: OpenOptions): Promise<Engine> {
  const engine = await Engine.open(options);
  open.push(engine);
  return engine;
}

/**
 * A custom backend as an app might write one: a Map of hex keys, sorted at
 * scan time. It fails the way such code does, with whatever it throws.
 */
function mapStore(data = new Map<StoreName, Map<string, [Uint8Array, unknown]>>()): KvStore {
  const area = (s: StoreName) => {
    let m = data.get(s);
    if (!m) data.set(s, (m = new Map()));
    return m;
  };
  const hex = (k: Uint8Array) => Buffer.from(k).toString('hex');
  return {
    kind: 'memory',
    async get(s, k) {
      return area(s).get(hex(k))?.[1];
    },
    async scan(s, range, visit) {
      const entries = [...area(s).values()].filter(([k]) => compareBytes(k, range.lower) >= 0 && compareBytes(k, range.upper) < 0);
      entries.sort((a, b) => compareBytes(a[0], b[0]));
      for (const [k, v] of entries) visit(k, v);
    },
    async commit(writes) {
      for (const w of writes) {
        if (w.value === undefined) area(w.store).delete(hex(w.key));
        else area(w.store).set(hex(w.key), [w.key.slice(), w.value]);
      }
    },
    async close() {},
  };
}

interface Backend {
  name: string;
  /** What the failing commit throws: each backend's own kind of failure. */
  error: () => unknown;
  /** A fresh database: the faulty store over it, and how to open it again without faults. */
  create(): Promise<{ store: FaultyStore; reopen(): Promise<OpenOptions> }>;
}

const BACKENDS: Backend[] = [
  {
    name: 'memory',
    error: () => new Error('memory store refused the batch'),
    async create() {
      const inner = openMemoryStore();
      return { store: faultyStore(inner, { keepOnClose: true }), reopen: async () => ({ storage: reopened(inner) }) };
    },
  },
  {
    name: 'idb',
    error: () => new DOMException('The transaction failed for an unknown reason', 'UnknownError'),
    async create() {
      const indexedDB = new IDBFactory();
      const inner = await openIdbStore('faults', indexedDB);
      return { store: faultyStore(inner), reopen: async () => ({ storage: 'idb', name: 'faults', indexedDB }) };
    },
  },
  {
    name: 'opfs',
    error: () => Object.assign(new Error('the file could not be written'), { name: 'NotReadableError' }),
    async create() {
      const dir = new FakeDirectory();
      const inner = await LogStore.open(dir);
      return { store: faultyStore(inner), reopen: async () => ({ storage: await LogStore.open(dir) }) };
    },
  },
  {
    name: 'custom',
    error: () => 'EIO: the custom backend lost its connection',
    async create() {
      const data = new Map<StoreName, Map<string, [Uint8Array, unknown]>>();
      return { store: faultyStore(mapStore(data)), reopen: async () => ({ storage: mapStore(data) }) };
    },
  },
];

/** Every step of the workload: DDL, DML, a transaction, ALTER, users, flush jobs, stream eviction, a compaction. */
const WORKLOAD: ((e: Engine) => Promise<unknown>)[] = [
  (e) => e.execute(root, 'CREATE NAMESPACE app'),
  (e) => e.execute(root, 'CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT)'),
  (e) => e.execute(root, 'CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT)'),
  (e) => e.execute(root, 'CREATE STREAM TABLE app.events (v INT) WITH (TTL_SECONDS = 3600)'),
  (e) => e.execute(root, "INSERT INTO app.items (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')"),
  (e) => e.execute(alice, "INSERT INTO app.notes (id, body) VALUES (1, 'x'), (2, 'y')"),
  (e) => e.execute(root, "UPDATE app.items SET name = 'B' WHERE id = 2"),
  (e) => e.execute(root, 'DELETE FROM app.items WHERE id = 3'),
  (e) => e.execute(alice, "BEGIN; INSERT INTO app.notes (id, body) VALUES (3, 'z'); UPDATE app.notes SET body = 'X' WHERE id = 1; COMMIT"),
  (e) => Promise.all([e.execute(alice, "INSERT INTO app.notes (id, body) VALUES (4, 'g1')"), e.execute(alice, "INSERT INTO app.notes (id, body) VALUES (5, 'g2')")]),
  (e) => e.execute(root, 'ALTER TABLE app.items ADD COLUMN n INT DEFAULT 7'),
  (e) => e.execute(alice, 'INSERT INTO app.events (v) VALUES (1), (2)'),
  (e) => e.execute(root, "CREATE USER 'bob' ROLE user"),
  async (e) => {
    await e.execute(root, 'FLUSH TABLE app.items');
    await e.jobs.idle();
  },
  (e) => e.jobs.run('stream_eviction', Date.now() + 7_200_000),
  (e) => e.execute(root, "INSERT INTO app.items (id, name) VALUES (4, 'd')"),
  async (e) => {
    // A second segment, then a compaction merging both.
    await e.execute(root, 'FLUSH TABLE app.items');
    await e.jobs.idle();
    await e.execute(root, 'STORAGE COMPACT TABLE app.items');
    await e.jobs.idle();
  },
  (e) => e.execute(root, "UPDATE app.items SET name = 'A' WHERE id = 1"),
];

/** Everything the database holds, read through queries: catalog, users, and every row (tombstones included) of every table as root and alice. */
async function dump(e: Engine): Promise<unknown> {
  const q = async (state: SessionState, sql: string) => (await e.execute(state, sql))[0].rows;
  const out: Record<string, unknown> = {
    tables: await q(root, 'SELECT namespace_id, table_name, table_type, version FROM system.tables ORDER BY namespace_id, table_name'),
    users: await q(root, 'SELECT user_id, role FROM system.users ORDER BY user_id'),
  };
  for (const t of (out.tables as { namespace_id: string; table_name: string; table_type: string }[]).filter((x) => x.namespace_id === 'app')) {
    for (const who of t.table_type === 'SHARED' ? [root] : [root, alice]) {
      out[`${t.table_name}/${who.user}`] = await q(who, `SELECT *, _seq, _deleted FROM app.${t.table_name} WHERE _deleted = true OR _deleted = false ORDER BY _seq`);
    }
  }
  return out;
}

async function runWorkload(e: Engine, failures: KalamError[]): Promise<void> {
  for (const step of WORKLOAD) {
    try {
      await step(e);
    } catch (x) {
      expect(x).toBeInstanceOf(KalamError);
      failures.push(x as KalamError);
    }
  }
}

describe.each(BACKENDS)('a commit failing in the $name backend', (backend) => {
  it('reaches the user as STORAGE_ERROR naming the backend error, never INTERNAL; nothing of it is applied: memory equals disk after reopen, whichever commit fails', { timeout: 60_000 }, async () => {
    // How many commits the workload makes with nothing failing.
    const probe = await backend.create();
    const clean = await engineOver({ storage: probe.store });
    probe.store.control.armed = true;
    await runWorkload(clean, []);
    const total = probe.store.control.commits;
    expect(total).toBeGreaterThan(WORKLOAD.length);

    for (let n = 1; n <= total; n++) {
      const { store, reopen } = await backend.create();
      const engine = await engineOver({ storage: store });
      store.control.armed = true;
      store.control.failure = (i) => (i === n ? backend.error() : undefined);
      const failures: KalamError[] = [];
      await runWorkload(engine, failures);
      const jobs = (await engine.execute(root, 'SELECT status, message FROM system.jobs'))[0].rows as { status: string; message: string }[];
      const failedJobs = jobs.filter((j) => j.status === 'failed');
      // The failing commit surfaced once: in a statement, or in the job that made it.
      const storageFailures = [...failures, ...failedJobs.map((j) => ({ code: j.message.split(':')[0], message: j.message }))].filter((f) => f.code === 'STORAGE_ERROR');
      expect(storageFailures.length, `commit ${n} of ${total}`).toBeGreaterThanOrEqual(1);
      for (const f of storageFailures) {
        expect(f.message).toContain(String(backend.name === 'custom' ? 'EIO: the custom backend lost its connection' : (backend.error() as Error).message));
      }
      for (const f of failures) expect(f.code, f.message).not.toBe('INTERNAL');
      for (const j of jobs) expect(j.message ?? '').not.toMatch(/^INTERNAL/);

      const before = await dump(engine);
      await engine.close();
      open = open.filter((x) => x !== engine);
      const again = await engineOver(await reopen());
      expect(await dump(again), `commit ${n} of ${total} failed`).toEqual(before);
      await again.close();
      open = open.filter((x) => x !== again);
    }
  });
});

describe('storage failures in transactions', () => {
  async function setup() {
    const store = faultyStore(openMemoryStore());
    const db = await openDatabase({ storage: store });
    await db.session({ user: 'root', role: 'dba' }).execute('CREATE NAMESPACE app; CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT)');
    const session = db.session({ user: 'alice' });
    await session.execute("INSERT INTO app.notes (id, body) VALUES (1, 'kept')");
    store.control.armed = true;
    return { store, db, session, admin: db.session({ user: 'root', role: 'dba' }) };
  }

  it('session.transaction() surfaces the KalamError (not the raw error) and rolls the transaction back', async () => {
    const { store, db, session, admin } = await setup();
    store.control.failure = () => new TypeError('socket closed');
    const e = await session
      .transaction(async (tx) => {
        await tx.execute("INSERT INTO app.notes (id, body) VALUES (2, 'lost')");
        await tx.execute('DELETE FROM app.notes WHERE id = 1');
      })
      .then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(KalamError);
    expect((e as KalamError).code).toBe('STORAGE_ERROR');
    expect((e as KalamError).message).toMatch(/TypeError: socket closed/);
    expect((await session.query('SELECT id, body FROM app.notes')).rows).toEqual([{ id: 1, body: 'kept' }]);
    const stats = Object.fromEntries(((await admin.query("SELECT metric_name, metric_value FROM system.stats WHERE metric_name LIKE 'transactions_%'")).rows as { metric_name: string; metric_value: string }[]).map((r) => [r.metric_name, r.metric_value]));
    expect(stats.transactions_open).toBe('0');
    expect(stats.transactions_rolled_back).toBe('1');
    store.control.failure = undefined;
    await session.execute("INSERT INTO app.notes (id, body) VALUES (2, 'fits')");
    await db.close();
  });

  it('begin().commit() rejects with the KalamError; the transaction is over (a later statement is refused)', async () => {
    const { store, db, session } = await setup();
    store.control.failure = () => ({ reason: 'a thrown object' });
    const tx = await session.begin();
    await tx.execute("INSERT INTO app.notes (id, body) VALUES (3, 'lost')");
    const e = await tx.commit().then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(KalamError);
    expect((e as KalamError).code).toBe('STORAGE_ERROR');
    const after = await tx.execute('SELECT 1').then(() => undefined, (x: unknown) => x);
    expect((after as KalamError).code).toBe('TRANSACTION_ERROR');
    expect((await session.query('SELECT id FROM app.notes ORDER BY id')).rows).toEqual([{ id: 1 }]);
    await db.close();
  });

  it('a quota failure of a custom store is QUOTA_EXCEEDED, in a transaction too', async () => {
    const { store, db, session } = await setup();
    store.control.failure = () => Object.assign(new Error('disk full'), { name: 'QuotaExceededError' });
    const e = await session.transaction((tx) => tx.execute("INSERT INTO app.notes (id, body) VALUES (4, 'x')")).then(() => undefined, (x: unknown) => x);
    expect((e as KalamError).code).toBe('QUOTA_EXCEEDED');
    const plain = await session.execute("INSERT INTO app.notes (id, body) VALUES (4, 'x')").then(() => undefined, (x: unknown) => x);
    expect((plain as KalamError).code).toBe('QUOTA_EXCEEDED');
    await db.close();
  });
});

describe('storage failures in background jobs', () => {
  async function setup(options: Partial<OpenOptions> = {}) {
    const store = faultyStore(openMemoryStore());
    const engine = await engineOver({ storage: store, ...options });
    await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT)');
    await engine.execute(root, "INSERT INTO app.items (id, name) VALUES (1, 'a'), (2, 'b')");
    return { store, engine };
  }
  const jobs = async (e: Engine) => (await e.execute(root, 'SELECT job_type, status, message FROM system.jobs'))[0].rows;

  it('a flush whose commit fails records STORAGE_ERROR in system.jobs, never INTERNAL, and the rows stay readable', async () => {
    const { store, engine } = await setup();
    store.control.armed = true;
    store.control.failure = () => new Error('write failed');
    await engine.execute(root, 'FLUSH TABLE app.items');
    await engine.jobs.idle();
    expect(await jobs(engine)).toEqual([{ job_type: 'flush', status: 'failed', message: expect.stringMatching(/^STORAGE_ERROR: Storage error while committing \d+ write\(s\) \(custom KvStore\): write failed/) }]);
    expect((await engine.execute(root, 'SELECT id FROM app.items ORDER BY id'))[0].rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('a compaction whose commit fails records STORAGE_ERROR in system.jobs; the rows read as before, in memory and after a reopen', async () => {
    const inner = openMemoryStore();
    const store = faultyStore(inner, { keepOnClose: true });
    const engine = await engineOver({ storage: store });
    await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT)');
    for (const [id, name] of [[1, 'a'], [2, 'b']] as const) {
      await engine.execute(root, `INSERT INTO app.items (id, name) VALUES (${id}, '${name}')`);
      await engine.execute(root, 'FLUSH TABLE app.items');
      await engine.jobs.idle();
    }
    const segmentsBefore = engine.cold.manifest.all().map((m) => m.id);
    expect(segmentsBefore).toHaveLength(2);
    store.control.armed = true;
    store.control.failure = () => new Error('the device was unplugged');
    await engine.execute(root, 'STORAGE COMPACT TABLE app.items');
    await engine.jobs.idle();
    const compactions = (await jobs(engine)).filter((j) => j.job_type === 'compact');
    expect(compactions).toEqual([{ job_type: 'compact', status: 'failed', message: expect.stringMatching(/^STORAGE_ERROR: Storage error while committing \d+ write\(s\) \(custom KvStore\): the device was unplugged/) }]);
    expect(engine.cold.manifest.all().map((m) => m.id)).toEqual(segmentsBefore);
    const rows = (await engine.execute(root, 'SELECT id, name FROM app.items ORDER BY id'))[0].rows;
    expect(rows).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'b' }]);
    await engine.close();
    open = open.filter((x) => x !== engine);
    const again = await engineOver({ storage: reopened(inner) });
    expect((await again.execute(root, 'SELECT id, name FROM app.items ORDER BY id'))[0].rows).toEqual(rows);
    expect(again.cold.manifest.all().map((m) => m.id)).toEqual(segmentsBefore);
  });

  it('segment files that cannot be written (OPFS layout, quota) fail the flush with QUOTA_EXCEEDED in system.jobs; the rows stay hot and readable', async () => {
    const segments = new FakeDirectory();
    const engine = await engineOver({ storage: await LogStore.open(new FakeDirectory()), segmentStore: new FileSegmentStore(segments) });
    await engine.execute(root, "CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT); INSERT INTO app.items (id, name) VALUES (1, 'a'), (2, 'b')");
    // The browser refuses to grow a file (a new segment file is sized before it is written).
    let isFull = true;
    const openFile = segments.open.bind(segments);
    segments.open = async (name) => {
      const file = await openFile(name);
      return {
        ...file,
        truncate(size: number) {
          if (isFull) throw Object.assign(new Error('The quota has been exceeded.'), { name: 'QuotaExceededError' });
          file.truncate(size);
        },
      };
    };
    await engine.execute(root, 'FLUSH TABLE app.items');
    await engine.jobs.idle();
    expect(await jobs(engine)).toEqual([{ job_type: 'flush', status: 'failed', message: expect.stringMatching(/^QUOTA_EXCEEDED: .*writing segment/) }]);
    expect(engine.cold.manifest.size).toBe(0);
    expect((await engine.execute(root, 'SELECT id FROM app.items ORDER BY id'))[0].rows).toEqual([{ id: 1 }, { id: 2 }]);
    isFull = false;
    await engine.execute(root, 'FLUSH TABLE app.items');
    await engine.jobs.idle();
    expect(engine.cold.manifest.size).toBe(1);
  });

  it('stream eviction and retention record the storage code of their failure', async () => {
    const { store, engine } = await setup();
    await engine.execute(root, 'CREATE STREAM TABLE app.events (v INT) WITH (TTL_SECONDS = 60)');
    await engine.execute(alice, 'INSERT INTO app.events (v) VALUES (1)');
    await engine.execute(root, 'DELETE FROM app.items WHERE id = 1');
    store.control.armed = true;
    store.control.failure = () => Object.assign(new Error('no space'), { name: 'QuotaExceededError' });
    const later = Date.now() + 400 * 3_600_000;
    const [evicted] = await engine.jobs.run('stream_eviction', later);
    const [purged] = await engine.jobs.run('retention', later);
    expect([evicted.status, evicted.message]).toEqual(['failed', expect.stringMatching(/^QUOTA_EXCEEDED: /)]);
    expect([purged.status, purged.message]).toEqual(['failed', expect.stringMatching(/^QUOTA_EXCEEDED: /)]);
  });

  it('a custom segment store that fails is STORAGE_ERROR for the reads that need it, and the engine goes on', async () => {
    const bytes = new Map<string, readonly Uint8Array[]>();
    const id = (k: { tableId: number; user: string; segmentId: string }) => `${k.tableId}/${k.user}/${k.segmentId}`;
    let isBroken = false;
    const segmentStore: SegmentStore = {
      async readGroups(k, groups) {
        if (isBroken) throw new Error('the bucket is unreachable');
        return groups.map((g) => bytes.get(id(k))?.[g.index]);
      },
      async get() {
        return undefined;
      },
      async put(k, groups) {
        bytes.set(id(k), groups.slice());
      },
      async delete(keys) {
        for (const k of keys) bytes.delete(id(k));
      },
    };
    const engine = await engineOver({ storage: 'memory', segmentStore, segmentCacheBytes: 0 });
    await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT)');
    await engine.execute(root, "INSERT INTO app.items (id, name) VALUES (1, 'a')");
    await engine.execute(root, 'FLUSH TABLE app.items');
    await engine.jobs.idle();
    isBroken = true;
    const e = await engine.execute(root, 'SELECT * FROM app.items').then(() => undefined, (x: unknown) => x);
    expect([(e as KalamError).code, (e as KalamError).message]).toEqual(['STORAGE_ERROR', expect.stringMatching(/reading 1 row group\(s\) of segment \S+ of table \d+ \(custom segment store\): the bucket is unreachable/)]);
    isBroken = false;
    expect((await engine.execute(root, 'SELECT id FROM app.items'))[0].rows).toEqual([{ id: 1 }]);
  });

  it('reads failing in the store are STORAGE_ERROR too', async () => {
    const { store, engine } = await setup();
    await engine.execute(root, 'FLUSH TABLE app.items');
    await engine.jobs.idle();
    store.control.readFailure = new RangeError('offset out of bounds');
    // The segment is cached from the flush: drop it so the read goes to the store.
    engine.cold.cache.forget(new Set(engine.cold.manifest.all().map((m) => m.id)));
    const e = await engine.execute(root, 'SELECT * FROM app.items').then(() => undefined, (x: unknown) => x);
    expect([(e as KalamError).code, (e as KalamError).message]).toEqual(['STORAGE_ERROR', expect.stringMatching(/RangeError: offset out of bounds/)]);
  });
});
