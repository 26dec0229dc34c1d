import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Database } from '../api/database';
import type { KalamError } from '../core/errors';
import { openMemoryStore } from '../storage/memory';
import type { KvStore } from '../storage/kv';

/**
 * The modules loaded on first use (lazy-executors.ts, migrate-loader.ts,
 * opfs-loader.ts, jobs/compact-merge-loader.ts, jobs/segment-upgrade-loader.ts, jobs/flush.ts,
 * jobs/segment-write.ts, storage/cold/cold-tier.ts), as vi.doMock names them
 * from this file, by the name the tests use.
 */
const LAZY = {
  alter: './alter',
  viewDdl: './view-ddl',
  indexDdl: './index-ddl',
  storageStatements: './storage-statements',
  explain: './explain',
  users: './users',
  introspection: './introspection',
  insertMany: './insert-many',
  topics: './topics',
  migrate: './migrate',
  compactMerge: '../jobs/compact-merge',
  segmentUpgrade: '../jobs/segment-upgrade',
  flushRun: '../jobs/flush-run',
  segmentEncode: '../jobs/segment-encode',
  rowPages: '../storage/cold/row-pages',
  opfs: '../storage/opfs',
} as const;
type Lazy = keyof typeof LAZY;

/** What was imported since the module registry was last reset, and what cannot be fetched now (a chunk gone after an update). */
const loaded = new Set<Lazy>();
const offline = new Set<Lazy>();

/** A fresh module registry: nothing imported yet; each lazily loaded module's import is recorded, and fails while it is offline. */
function resetModules(): void {
  vi.resetModules();
  loaded.clear();
  offline.clear();
  for (const [name, path] of Object.entries(LAZY) as [Lazy, string][]) {
    vi.doMock(path, async (importOriginal) => {
      if (offline.has(name)) throw new TypeError(`Failed to fetch dynamically imported module: worker-${name}.js`);
      loaded.add(name);
      return importOriginal();
    });
  }
}

beforeEach(resetModules);

const root = { user: 'root', role: 'dba' } as const;

async function openMemory(storage: KvStore | 'memory' = 'memory'): Promise<Database> {
  const { openDatabase } = await import('../index');
  return openDatabase({ storage });
}

/** A memory store that outlives the databases opened over it (db.close() closes its store). */
function durableStore(): KvStore {
  const inner = openMemoryStore();
  return { kind: inner.kind, get: (s, k) => inner.get(s, k), scan: (s, r, v) => inner.scan(s, r, v), commit: (w) => inner.commit(w), close: async () => undefined };
}

/** The rejection of `p`: a KalamError of the modules imported since the last reset. */
async function failure(p: Promise<unknown>): Promise<KalamError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  const { KalamError } = await import('../core/errors');
  expect(e).toBeInstanceOf(KalamError);
  return e as KalamError;
}

/** Waits for the flush jobs queued to have completed. */
async function flushed(s: ReturnType<Database['session']>): Promise<void> {
  await vi.waitFor(async () => {
    const { rows } = await s.query<{ status: string }>("SELECT status FROM system.jobs WHERE job_type = 'flush'");
    expect(rows.length > 0 && rows.every((r) => r.status === 'completed')).toBe(true);
  }, { timeout: 15_000 });
}

const SCHEMA = 'CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT)';

describe('executors loaded on first use', () => {
  it('none by opening a database, DDL, DML, transactions, live queries and system tables, but the flush job, in the background after the first write', async () => {
    const db = await openMemory();
    try {
      const s = db.session(root);
      await s.execute(SCHEMA);
      await s.execute("INSERT INTO app.items (id, name) VALUES (1, 'a'), (2, 'b'); UPDATE app.items SET name = 'c' WHERE id = 2");
      await s.transaction(async (tx) => {
        await tx.execute('DELETE FROM app.items WHERE id = 1');
      });
      let latest: readonly unknown[] = [];
      const stop = await s.live('SELECT id, name FROM app.items ORDER BY id', [], (rows) => { latest = rows; });
      expect(latest).toEqual([{ id: 2, name: 'c' }]);
      stop();
      expect((await s.query('SELECT COUNT(*) AS n FROM system.tables')).rows).toEqual([{ n: 1 }]);
      await s.execute('DROP TABLE app.items');
      expect([...loaded]).toEqual(['flushRun']);
    } finally {
      await db.close();
    }
  });

  it('each by the first statement that needs it, and nothing else with it', async () => {
    const db = await openMemory();
    try {
      const s = db.session(root);
      await s.execute(SCHEMA);
      expect([...loaded]).toEqual([]);
      const steps: [Lazy[], () => Promise<unknown>][] = [
        [['alter'], () => s.execute('ALTER TABLE app.items ADD COLUMN note TEXT')],
        [['viewDdl'], () => s.execute('CREATE VIEW app.named AS SELECT id, name FROM app.items')],
        [['explain'], () => s.query('EXPLAIN SELECT * FROM app.named')],
        [['users'], () => s.execute("CREATE USER 'alice' ROLE user")],
        [['introspection'], () => s.query('SHOW TABLES')],
        // The first write preloads the flush job too; its first run loads segment encoding.
        [['insertMany', 'flushRun'], () => s.insertMany('app.items', [{ id: 1, name: 'a' }])],
        [['storageStatements'], () => s.execute("KILL JOB 'FL00009999'").catch(() => undefined)],
        [['segmentEncode'], () => s.execute('FLUSH TABLE app.items').then(() => flushed(s))],
        [['topics'], () => s.execute('CREATE TOPIC t')],
        [['migrate'], () => db.migrate([{ version: 1, sql: 'CREATE TABLE app.more (id INT PRIMARY KEY)' }])],
      ];
      const expected: Lazy[] = [];
      for (const [names, run] of steps) {
        for (const name of names) expect(loaded.has(name), name).toBe(false);
        await run();
        expected.push(...names);
        await vi.waitFor(() => expect([...loaded].sort(), names.join()).toEqual([...expected].sort()), { timeout: 15_000 });
      }
      expect((await s.query('SELECT id, name, note FROM app.items')).rows).toEqual([{ id: 1, name: 'a', note: null }]);
    } finally {
      await db.close();
    }
  });

  it('the row page reads while an open finds segments with row pages, before the first query', async () => {
    const store = durableStore();
    let db = await openMemory(store);
    const s = db.session(root);
    await s.execute(SCHEMA);
    await s.insertMany('app.items', Array.from({ length: 600 }, (_, i) => ({ id: i, name: `n${i}` })));
    await s.execute('FLUSH TABLE app.items');
    await flushed(s);
    await db.close();
    resetModules();
    db = await openMemory(store);
    try {
      await vi.waitFor(() => expect(loaded.has('rowPages')).toBe(true), { timeout: 15_000 });
      expect(loaded.has('flushRun')).toBe(false);
      expect((await db.session(root).query('SELECT name FROM app.items WHERE id = 300')).rows).toEqual([{ name: 'n300' }]);
    } finally {
      await db.close();
    }
  });

  it('the migration runner by an open only when a migration was cut off (its undo journal), which it then takes back', async () => {
    const inner = durableStore();
    let commitsLeft = Infinity;
    const dying: KvStore = { ...inner, async commit(writes) {
      if (commitsLeft-- <= 0) throw new Error('the tab was closed');
      await inner.commit(writes);
    } };
    let db = await openMemory(dying);
    await db.migrate([{ version: 1, sql: SCHEMA }]);
    await db.close();

    resetModules();
    db = await openMemory(dying);
    expect(loaded.has('migrate')).toBe(false);
    commitsLeft = 1; // CREATE TABLE commits with its journal step; the INSERT's commit and the undo fail
    const cut = await failure(db.migrate([{ version: 1, sql: SCHEMA }, { version: 2, sql: 'CREATE TABLE app.tags (id INT PRIMARY KEY); INSERT INTO app.tags (id) VALUES (1)' }]));
    expect(cut.code).toBe('MIGRATION_FAILED');
    await db.close();

    resetModules();
    db = await openMemory(inner);
    try {
      expect(loaded.has('migrate')).toBe(true);
      expect((await db.session(root).query("SELECT table_name FROM system.tables WHERE namespace_id = 'app'")).rows).toEqual([{ table_name: 'items' }]);
    } finally {
      await db.close();
    }
  });
});

describe('an executor that cannot be loaded (offline after an update)', () => {
  it('fails its statement with VERSION_MISMATCH saying to reload, writes nothing, and the next statement loads it', async () => {
    const db = await openMemory();
    try {
      const s = db.session(root);
      await s.execute(SCHEMA);
      const cases: [Lazy, string, () => Promise<unknown>][] = [
        ['alter', 'the ALTER TABLE executor', () => s.execute('ALTER TABLE app.items ADD COLUMN note TEXT')],
        ['viewDdl', 'the CREATE/DROP VIEW executor', () => s.execute('CREATE VIEW app.named AS SELECT id, name FROM app.items')],
        ['indexDdl', 'the CREATE/DROP INDEX executor', () => s.execute('CREATE INDEX by_name ON app.items (name)')],
        ['storageStatements', 'the FLUSH, STORAGE FLUSH/COMPACT and KILL JOB executor', () => s.execute('STORAGE FLUSH TABLE app.items')],
        ['explain', 'the EXPLAIN executor', () => s.query('EXPLAIN SELECT * FROM app.items')],
        ['users', 'the CREATE/ALTER/DROP USER executor', () => s.execute("CREATE USER 'alice' ROLE user")],
        ['introspection', 'the SHOW, DESCRIBE and USE executor', () => s.execute('USE app')],
        ['insertMany', 'the insertMany bulk loader', () => s.insertMany('app.items', [{ id: 1, name: 'a' }])],
        ['topics', 'the topic statements and system tables', () => s.execute('CREATE TOPIC t')],
        ['migrate', 'the schema migration runner', () => db.migrate([{ version: 1, sql: 'CREATE TABLE app.more (id INT PRIMARY KEY)' }])],
      ];
      const state = async () => (await s.query('SELECT (SELECT COUNT(*) FROM system.columns) AS columns, (SELECT COUNT(*) FROM system.tables) AS tables, (SELECT COUNT(*) FROM app.items) AS items, (SELECT COUNT(*) FROM system.users) AS users, (SELECT COUNT(*) FROM system.migrations) AS migrations')).rows;
      for (const [name, label, run] of cases) {
        offline.add(name);
        const before = await state();
        const e = await failure(run());
        expect(e.code, name).toBe('VERSION_MISMATCH');
        expect(e.message).toContain(`Could not load ${label}`);
        expect(e.message).toMatch(/reload the page$/);
        expect(await state(), `${name} wrote nothing`).toEqual(before);
        offline.delete(name);
        await run();
        expect(loaded.has(name), name).toBe(true);
      }
      expect((await s.query('SELECT id, name, note FROM app.items')).rows).toEqual([{ id: 1, name: 'a', note: null }]);
    } finally {
      await db.close();
    }
  });

  it('a migration that alters a table while ALTER TABLE cannot be loaded: VERSION_MISMATCH before any of it runs', async () => {
    const db = await openMemory();
    try {
      const s = db.session(root);
      const v1 = { version: 1, sql: SCHEMA };
      const v2 = { version: 2, sql: "CREATE TABLE app.tags (id INT PRIMARY KEY); ALTER TABLE app.items ADD COLUMN note TEXT; INSERT INTO app.items (id, name) VALUES (1, 'a')" };
      await db.migrate([v1]);
      offline.add('alter');
      const e = await failure(db.migrate([v1, v2]));
      expect(e.code).toBe('VERSION_MISMATCH');
      expect(e.message).toContain('Could not load the ALTER TABLE executor');
      expect((await s.query("SELECT table_name FROM system.tables WHERE namespace_id = 'app'")).rows).toEqual([{ table_name: 'items' }]);
      expect((await s.query('SELECT version FROM system.migrations')).rows).toEqual([{ version: 1 }]);
      offline.delete('alter');
      expect(await db.migrate([v1, v2])).toEqual({ version: 2, applied: [2] });
      expect((await s.query('SELECT id, name, note FROM app.items')).rows).toEqual([{ id: 1, name: 'a', note: null }]);
    } finally {
      await db.close();
    }
  });

  it("a compaction's planning and merge step: STORAGE COMPACT fails with VERSION_MISMATCH, the data reads the same, and the next compaction merges", async () => {
    const { Engine } = await import('./engine');
    const engine = await Engine.open({ storage: 'memory', rowGroupRows: 4, maxSegmentRows: 16, compactL0Segments: 0, flushCheckIntervalMs: 0 });
    const state = { ...root, namespace: 'default' };
    const query = async (sql: string) => (await engine.execute(state, sql))[0].rows;
    try {
      await engine.execute(state, SCHEMA);
      // Two flushes whose key ranges overlap: a compaction merges them.
      const values = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `(${from + i}, 'v${from + i}')`).join(', ');
      await engine.execute(state, `INSERT INTO app.items (id, name) VALUES ${values(0, 9)}`);
      await engine.execute(state, 'FLUSH TABLE app.items');
      await engine.jobs.idle();
      await engine.execute(state, `UPDATE app.items SET name = 'w' WHERE id >= 5; INSERT INTO app.items (id, name) VALUES ${values(10, 14)}`);
      await engine.execute(state, 'FLUSH TABLE app.items');
      await engine.jobs.idle();
      const before = await query('SELECT id, name FROM app.items ORDER BY id');
      expect(await query('SELECT COUNT(*) AS n FROM system.manifest WHERE level = 0')).toEqual([{ n: 2 }]);
      offline.add('compactMerge');
      const e = await failure(engine.execute(state, 'STORAGE COMPACT TABLE app.items'));
      expect(e.code).toBe('VERSION_MISMATCH');
      expect(e.message).toMatch(/Could not load the compaction's merge step/);
      await engine.jobs.idle();
      expect(await query('SELECT id, name FROM app.items ORDER BY id')).toEqual(before);
      expect(await query('SELECT COUNT(*) AS n FROM system.manifest WHERE level = 0')).toEqual([{ n: 2 }]);
      offline.delete('compactMerge');
      await engine.execute(state, 'STORAGE COMPACT TABLE app.items');
      await engine.jobs.idle();
      expect(loaded.has('compactMerge')).toBe(true);
      expect(await query('SELECT COUNT(*) AS n FROM system.manifest WHERE level = 0')).toEqual([{ n: 0 }]);
      expect(await query('SELECT id, name FROM app.items ORDER BY id')).toEqual(before);
    } finally {
      await engine.close();
    }
  });

  it("the OPFS backend: opening with storage 'opfs' fails with VERSION_MISMATCH, and the next open loads it", async () => {
    const { openDatabase } = await import('../index');
    offline.add('opfs');
    const e = await failure(openDatabase({ storage: 'opfs', name: 'app' }));
    expect(e.code).toBe('VERSION_MISMATCH');
    expect(e.message).toContain('Could not load the OPFS storage backend');
    offline.delete('opfs');
    // Node has no OPFS: the backend itself now answers.
    expect((await failure(openDatabase({ storage: 'opfs', name: 'app' }))).code).toBe('UNSUPPORTED');
    expect(loaded.has('opfs')).toBe(true);
  });
});
