/**
 * An import cut off by a crash (import-recovery.ts): whichever commit the
 * storage stops at, the next open finds either the whole import (the call
 * had resolved) or an empty database (it had not), records the roll-back
 * in system.jobs, and takes the import again — over memory, IndexedDB and
 * the OPFS log.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { openDatabase, type Database } from '../api/database';
import { KalamError } from '../core/errors';
import { faultyStore, reopened, type FaultyStore } from '../storage/faulty.fixture';
import { openIdbStore } from '../storage/idb';
import type { KvStore } from '../storage/kv';
import { openMemoryStore } from '../storage/memory';
import { LogStore } from '../storage/opfs-log';
import { FakeDirectory } from '../storage/opfs.fixture';

/** A small hot budget, partitions and row groups: the import waits for flushes of its rows to the cold tier while it runs. */
const TARGET = { hotBudgetBytes: 16 * 1024, hotPartitionRows: 200, rowGroupRows: 64 };
const USERS = ['alice', 'bob', 'carol'];

interface Backend {
  name: string;
  /** A fresh, empty database's store. */
  create(): Promise<{ first: KvStore; again(): Promise<KvStore> }>;
  /** Whether closing the store loses its data (memory): the test keeps it open then. */
  keep: boolean;
}

const BACKENDS: Backend[] = [
  {
    name: 'memory',
    keep: true,
    async create() {
      const inner = openMemoryStore();
      return { first: inner, again: async () => reopened(inner) };
    },
  },
  {
    name: 'idb',
    keep: false,
    async create() {
      const indexedDB = new IDBFactory();
      return { first: await openIdbStore('target', indexedDB), again: () => openIdbStore('target', indexedDB) };
    },
  },
  {
    name: 'opfs log',
    keep: false,
    async create() {
      const dir = new FakeDirectory();
      return { first: await LogStore.open(dir), again: () => LogStore.open(dir) };
    },
  },
];

async function fill(db: Database): Promise<void> {
  const root = db.session({ user: 'root', role: 'system' });
  await root.execute(`CREATE NAMESPACE app;
    CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT, tags JSON, made TIMESTAMP);
    CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, price DECIMAL(10, 2)) WITH (ACCESS_LEVEL = 'public');
    CREATE STREAM TABLE app.events (kind TEXT, payload BYTES) WITH (TTL_SECONDS = 3600);
    CREATE SHARED TABLE config (k TEXT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'public');
    CREATE USER 'alice' ROLE user; CREATE USER 'ops' ROLE dba`);
  for (const user of USERS) {
    const s = db.session({ user, namespace: 'app' });
    const values = Array.from({ length: 500 }, (_, i) => `(${i}, 'note ${i} of ${user}', '{"n": ${i}}', ${1_700_000_000_000 + i})`);
    await s.execute(`INSERT INTO notes (id, body, tags, made) VALUES ${values.join(', ')}`);
    await s.execute(`INSERT INTO events (kind, payload) VALUES ('login', $1), ('logout', NULL)`, [new Uint8Array([0, 255])]);
  }
  await root.execute(`INSERT INTO app.items (id, name, price) VALUES ${Array.from({ length: 200 }, (_, i) => `(${i}, 'item ${i}', ${i}.25)`).join(', ')}`);
  await root.execute(`INSERT INTO config (k, v) VALUES ('theme', 'dark')`);
}

/** What a user sees of the database: definitions, users, and every partition's rows with their _seq. */
async function dump(db: Database): Promise<Record<string, unknown>> {
  const q = async (sql: string, user = 'root') => (await db.session({ user, role: 'system' }).query(sql)).rows;
  const out: Record<string, unknown> = {
    namespaces: await q('SELECT name FROM system.namespaces ORDER BY name'),
    tables: await q('SELECT namespace_id, table_name, table_type, access_level, ttl_seconds, options FROM system.tables ORDER BY table_name'),
    columns: await q('SELECT table_name, column_name, data_type, nullable, primary_key FROM system.columns ORDER BY table_name, ordinal'),
    users: await q('SELECT user_id, role FROM system.users ORDER BY user_id'),
  };
  if ((out.tables as unknown[]).length === 0) return out;
  for (const user of USERS) {
    out[`notes/${user}`] = await q('SELECT *, _seq FROM app.notes ORDER BY id', user);
    out[`events/${user}`] = await q('SELECT *, _seq FROM app.events ORDER BY _seq', user);
  }
  out.items = await q('SELECT *, _seq FROM app.items ORDER BY id');
  out.config = await q('SELECT *, _seq FROM config ORDER BY k');
  return out;
}

const EMPTY = { namespaces: [{ name: 'default' }], tables: [], columns: [], users: [] };

const rollbacks = async (db: Database) =>
  (await db.session({ user: 'root', role: 'system' }).query("SELECT job_id, status, parameters, message, rows_affected FROM system.jobs WHERE job_type = 'import_rollback'")).rows;

let file: Blob;
let expected: Record<string, unknown>;

beforeAll(async () => {
  const source = await openDatabase({ storage: 'memory' });
  await fill(source);
  expected = await dump(source);
  file = await source.exportDatabase();
  await source.close();
});

describe.each(BACKENDS)('an import cut off by a crash ($name)', (backend) => {
  /** Opens the target over a faulty wrapper of `store` (armed after the open). */
  const openOver = (store: KvStore): Promise<{ db: Database; faulty: FaultyStore }> => {
    const faulty = faultyStore(store, { keepOnClose: backend.keep });
    return openDatabase({ storage: faulty, ...TARGET }).then((db) => ({ db, faulty }));
  };

  it('is rolled back at the next open, at every commit it can stop at, and the import then runs again', async () => {
    // A whole import first, to count its commits (flushes included).
    const whole = await backend.create();
    const full = await openOver(whole.first);
    full.faulty.control.armed = true;
    await full.db.importDatabase(file);
    const root = full.db.session({ user: 'root', role: 'system' });
    // It flushed rows to the cold tier while importing: the cuts below fall before and after cold segments exist.
    expect((await root.query('SELECT count(*) AS n FROM system.manifest')).rows[0].n).toBeGreaterThan(0);
    await vi.waitFor(async () => expect((await root.query("SELECT count(*) AS n FROM system.jobs WHERE status IN ('queued', 'running')")).rows[0].n).toBe(0));
    const commits = full.faulty.control.commits;
    expect(commits).toBeGreaterThan(10);
    await full.db.close();

    let cutOff = 0;
    for (let cut = 1; cut <= commits; cut++) {
      const { first, again } = await backend.create();
      const { db, faulty } = await openOver(first);
      faulty.control.armed = true;
      // From the cut on, every commit fails: the disk holds commits 1 … cut-1, as after a crash there.
      faulty.control.failure = (n) => (n >= cut ? new Error(`the tab closed (commit ${n})`) : undefined);
      let isComplete = true;
      try {
        await db.importDatabase(file);
      } catch (e) {
        isComplete = false;
        expect(e).toBeInstanceOf(KalamError);
        expect((e as KalamError).code).toBe('STORAGE_ERROR');
        // Past the first commit the undo fails too: the message says the next open removes what is left.
        if (cut > 1) expect((e as KalamError).message).toMatch(/removed when the database is next opened/);
      }
      await db.close().catch(() => undefined);

      const reopened = await openDatabase({ storage: await again(), ...TARGET });
      const jobs = await rollbacks(reopened);
      if (isComplete) {
        expect(await dump(reopened), `cut at commit ${cut} of ${commits}, after the import resolved`).toEqual(expected);
        expect(jobs).toEqual([]);
      } else {
        cutOff++;
        expect(await dump(reopened), `cut at commit ${cut} of ${commits}`).toEqual(EMPTY);
        if (cut === 1) expect(jobs).toEqual([]); // the first commit (catalog and marker) never landed: nothing to undo
        else {
          expect(jobs).toHaveLength(1);
          expect(jobs[0]).toMatchObject({ status: 'completed', rows_affected: 4, parameters: { kind: 'database', namespaces: ['app'] } });
          expect(jobs[0].message).toMatch(/was cut off before it finished: its 4 table\(s\) and 1 namespace\(s\) were dropped/);
        }
        // The database takes the import again, whole, and keeps it across another open (no second roll-back).
        expect(await reopened.importDatabase(file)).toMatchObject({ tables: 4, rows: 3 * 500 + 3 * 2 + 200 + 1 });
        await reopened.close();
        const third = await openDatabase({ storage: await again(), ...TARGET });
        expect(await dump(third)).toEqual(expected);
        expect(await rollbacks(third)).toEqual([]);
        await third.close();
        continue;
      }
      await reopened.close();
    }
    // Every commit but the last few (the last import commit and flushes after it) cut the import off.
    expect(cutOff).toBeGreaterThanOrEqual(commits - 4);
  }, 120_000);

  it('a failed import the storage could undo leaves no marker: nothing is rolled back at the next open', async () => {
    const { first, again } = await backend.create();
    const { db, faulty } = await openOver(first);
    faulty.control.armed = true;
    faulty.control.failure = (n) => (n === 3 ? new Error('one commit failed') : undefined); // one rows commit; the undo lands
    await expect(db.importDatabase(file)).rejects.toMatchObject({ code: 'STORAGE_ERROR', message: expect.not.stringMatching(/next opened/) });
    expect(await dump(db)).toEqual(EMPTY);
    await db.close();
    const reopened = await openDatabase({ storage: await again(), ...TARGET });
    expect([await dump(reopened), await rollbacks(reopened)]).toEqual([EMPTY, []]);
    await reopened.close();
  });

  it('a crash during the roll-back at open is rolled back at the open after it', async () => {
    const { first, again } = await backend.create();
    const { db, faulty } = await openOver(first);
    faulty.control.armed = true;
    faulty.control.failure = (n) => (n >= 5 ? new Error('the tab closed') : undefined);
    await expect(db.importDatabase(file)).rejects.toBeInstanceOf(KalamError);
    await db.close().catch(() => undefined);
    // The open rolls back in one commit, and that commit fails: the open fails with a storage error, and leaves the marker.
    const failing = faultyStore(await again(), { keepOnClose: backend.keep });
    failing.control.armed = true;
    failing.control.failure = () => new Error('the tab closed again');
    await expect(openDatabase({ storage: failing, ...TARGET })).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    if (!backend.keep) await failing.close();
    const reopened = await openDatabase({ storage: await again(), ...TARGET });
    expect(await dump(reopened)).toEqual(EMPTY);
    expect(await rollbacks(reopened)).toMatchObject([{ status: 'completed', rows_affected: 4 }]);
    await reopened.close();
  });
});

describe('an import cut off in a user-data file', () => {
  it('drops the tables it created in `default` too', async () => {
    const source = await openDatabase({ storage: 'memory' });
    await fill(source);
    const mine = await source.session({ user: 'alice', namespace: 'app' }).exportUserData();
    await source.close();
    const inner = openMemoryStore();
    const faulty = faultyStore(inner, { keepOnClose: true });
    const db = await openDatabase({ storage: faulty, ...TARGET });
    faulty.control.armed = true;
    faulty.control.failure = (n) => (n >= 3 ? new Error('the tab closed') : undefined);
    await expect(db.importDatabase(mine)).rejects.toBeInstanceOf(KalamError);
    await db.close().catch(() => undefined);
    const next = await openDatabase({ storage: reopened(inner), ...TARGET });
    expect(await dump(next)).toEqual(EMPTY);
    expect(await rollbacks(next)).toMatchObject([{ parameters: { kind: 'user', namespaces: ['app'], tables: expect.arrayContaining(['app.notes', 'app.items', 'default.config']) } }]);
    await next.close();
  });
});
