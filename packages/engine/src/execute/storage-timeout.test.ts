/**
 * A storage commit that never completes (issue 12, Observed 7): the write
 * fails with STORAGE_TIMEOUT after storageTimeoutMs, close() ends within
 * the bound, and the engine stays usable. A timed-out commit's outcome is
 * unknown; until it is known later writes wait for it and then fail,
 * writing nothing. If it completes late it is applied then (memory follows
 * disk); if it fails, nothing changes. Memory equals disk after reopen in
 * every case.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../api/database';
import { KalamError } from '../core/errors';
import type { Row } from '../core/types';
import { faultyStore, reopened, type FaultyStore } from '../storage/faulty.fixture';
import { openMemoryStore } from '../storage/memory';
import type { KvStore } from '../storage/kv';

const TIMEOUT = 150;

let dbs: Database[] = [];
afterEach(async () => {
  for (const db of dbs) await db.close().catch(() => undefined);
  dbs = [];
});

async function setup(extra: Record<string, unknown> = {}) {
  const inner = openMemoryStore();
  const store = faultyStore(inner, { keepOnClose: true });
  const db = await openDatabase({ storage: store, storageTimeoutMs: TIMEOUT, ...extra });
  dbs.push(db);
  const admin = db.session({ user: 'root', role: 'dba' });
  await admin.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT)');
  await admin.execute("INSERT INTO app.items (id, name) VALUES (1, 'before')");
  store.control.armed = true;
  return { inner, store, db, admin };
}

async function failure(p: Promise<unknown>): Promise<KalamError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(KalamError);
  return e as KalamError;
}

const ids = async (s: { query(sql: string): Promise<{ rows: readonly Row[] }> }) => (await s.query('SELECT id FROM app.items ORDER BY id')).rows.map((r) => r.id);

/** The rows after closing and opening the same store again. */
async function idsAfterReopen(db: Database, inner: KvStore): Promise<unknown[]> {
  await db.close();
  const again = await openDatabase({ storage: reopened(inner) });
  dbs.push(again);
  return ids(again.session({ user: 'root', role: 'dba' }));
}

async function stat(admin: { query(sql: string): Promise<{ rows: readonly Row[] }> }, name: string): Promise<unknown> {
  return (await admin.query(`SELECT metric_value FROM system.stats WHERE metric_name = '${name}'`)).rows[0]?.metric_value;
}

/** Waits until `store` holds `n` hung commits. */
async function hungCommits(store: FaultyStore, n: number): Promise<void> {
  for (let i = 0; i < 200 && store.control.hung.length < n; i++) await new Promise((r) => setTimeout(r, 5));
  expect(store.control.hung.length).toBe(n);
}

describe('a commit that never completes', () => {
  it('fails the write with STORAGE_TIMEOUT after storageTimeoutMs; reads go on and see nothing of it', async () => {
    const { store, admin } = await setup();
    store.control.hang = true;
    const started = performance.now();
    const e = await failure(admin.execute("INSERT INTO app.items (id, name) VALUES (2, 'hung')"));
    expect(e.code).toBe('STORAGE_TIMEOUT');
    expect(e.message).toMatch(new RegExp(`within ${TIMEOUT} ms \\(storageTimeoutMs\\)`));
    expect(e.message).toMatch(/outcome is unknown/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(TIMEOUT - 5);
    expect(await ids(admin)).toEqual([1]);
    expect(await stat(admin, 'storage_commit_timeouts')).toBe('1');
    expect(await stat(admin, 'storage_commits_in_doubt')).toBe('1');
  });

  it('every statement of a group commit fails with it', async () => {
    const { store, admin } = await setup();
    store.control.hang = true;
    const [a, b] = await Promise.all([
      failure(admin.execute("INSERT INTO app.items (id, name) VALUES (2, 'a')")),
      failure(admin.execute("INSERT INTO app.items (id, name) VALUES (3, 'b')")),
    ]);
    expect([a.code, b.code]).toEqual(['STORAGE_TIMEOUT', 'STORAGE_TIMEOUT']);
    expect(store.control.hung).toHaveLength(1);
  });

  it('while its outcome is unknown, later writes wait for it and then fail without writing anything, even if it lands afterwards', async () => {
    const { inner, store, db, admin } = await setup();
    store.control.hang = true;
    await failure(admin.execute("INSERT INTO app.items (id, name) VALUES (2, 'hung')"));
    store.control.hang = false;
    const started = performance.now();
    const e = await failure(admin.execute("INSERT INTO app.items (id, name) VALUES (3, 'refused')"));
    expect(e.code).toBe('STORAGE_TIMEOUT');
    expect(e.message).toMatch(/not saved \(nothing of it was written\)/);
    expect(performance.now() - started).toBeLessThan(TIMEOUT * 10);
    // Past the wait, writes fail at once (they do not queue up behind the silent storage).
    const quick = performance.now();
    expect((await failure(admin.execute("INSERT INTO app.items (id, name) VALUES (4, 'refused')"))).code).toBe('STORAGE_TIMEOUT');
    expect((await failure(admin.execute("UPDATE app.items SET name = 'x' WHERE id = 1"))).code).toBe('STORAGE_TIMEOUT');
    expect(performance.now() - quick).toBeLessThan(TIMEOUT);
    expect(store.control.commits).toBe(1); // nothing else reached the storage
    await store.control.hung[0].land();
    // Applied once the write lock reconciles it (a positive condition, polled).
    for (let i = 0; i < 200 && (await ids(admin)).length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await ids(admin)).toEqual([1, 2]);
    await admin.execute("INSERT INTO app.items (id, name) VALUES (5, 'after')");
    expect(await ids(admin)).toEqual([1, 2, 5]);
    expect(await idsAfterReopen(db, inner)).toEqual([1, 2, 5]);
  });

  it('that completes late is applied then — reads and live queries see it, memory equals disk — and writes work again', async () => {
    const { inner, store, db, admin } = await setup();
    const deliveries: unknown[][] = [];
    const stop = await admin.live('SELECT id FROM app.items', [], (rows) => void deliveries.push(rows.map((r) => r.id)));
    store.control.hang = true;
    expect((await failure(admin.execute("INSERT INTO app.items (id, name) VALUES (2, 'late')"))).code).toBe('STORAGE_TIMEOUT');
    expect(await ids(admin)).toEqual([1]);
    store.control.hang = false;
    await store.control.hung[0].land();
    for (let i = 0; i < 100 && deliveries.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await ids(admin)).toEqual([1, 2]);
    expect(deliveries).toEqual([[1], [1, 2]]);
    expect(await stat(admin, 'storage_late_commits')).toBe('1');
    expect(await stat(admin, 'storage_commits_in_doubt')).toBe('0');
    await admin.execute("INSERT INTO app.items (id, name) VALUES (3, 'next')");
    stop();
    expect(await idsAfterReopen(db, inner)).toEqual([1, 2, 3]);
  });

  it('that fails late changes nothing, and the next write works', async () => {
    const { inner, store, db, admin } = await setup();
    store.control.hang = true;
    await failure(admin.execute("INSERT INTO app.items (id, name) VALUES (2, 'lost')"));
    store.control.hang = false;
    store.control.hung[0].fail();
    await admin.execute("INSERT INTO app.items (id, name) VALUES (3, 'next')");
    expect(await ids(admin)).toEqual([1, 3]);
    expect(await stat(admin, 'storage_late_commits')).toBe('0');
    expect(await idsAfterReopen(db, inner)).toEqual([1, 3]);
  });

  it('a write waiting for it goes ahead when it completes within the wait, on top of it', async () => {
    const { inner, store, db, admin } = await setup({ storageTimeoutMs: 400 });
    store.control.hang = true;
    const first = failure(admin.execute("INSERT INTO app.items (id, name) VALUES (2, 'late')"));
    await hungCommits(store, 1);
    expect((await first).code).toBe('STORAGE_TIMEOUT');
    store.control.hang = false;
    // An UPDATE of the row the timed-out write inserted: it must see that row once it landed.
    const waiting = admin.execute("UPDATE app.items SET name = 'updated' WHERE id = 2");
    setTimeout(() => void store.control.hung[0].land(), 50);
    await waiting;
    expect((await admin.query('SELECT id, name FROM app.items ORDER BY id')).rows).toEqual([{ id: 1, name: 'before' }, { id: 2, name: 'updated' }]);
    expect(await idsAfterReopen(db, inner)).toEqual([1, 2]);
  });

  it('close() ends within the bound while a commit hangs, and a late completion after close is left on disk for the next open', async () => {
    const { inner, store, db, admin } = await setup();
    store.control.hang = true;
    const write = failure(admin.execute("INSERT INTO app.items (id, name) VALUES (2, 'hung')"));
    await hungCommits(store, 1);
    const started = performance.now();
    await db.close();
    expect(performance.now() - started).toBeLessThan(TIMEOUT * 10);
    expect((await write).code).toBe('STORAGE_TIMEOUT');
    await store.control.hung[0].land();
    const again = await openDatabase({ storage: reopened(inner) });
    dbs.push(again);
    expect(await ids(again.session({ user: 'root', role: 'dba' }))).toEqual([1, 2]);
  });

  it('close() whose store never closes ends with STORAGE_TIMEOUT, and the database is closed', async () => {
    const { store, db, admin } = await setup();
    store.close = () => new Promise<void>(() => undefined);
    const e = await failure(db.close());
    expect(e.code).toBe('STORAGE_TIMEOUT');
    expect(e.message).toMatch(/closing the database/);
    expect((await failure(admin.query('SELECT 1'))).code).toBe('CLOSED');
  });
});

describe('a commit that never completes, outside a plain statement', () => {
  it('session.transaction() fails with STORAGE_TIMEOUT and rolls back; once the commit fails late, the next transaction commits', async () => {
    const { inner, store, db, admin } = await setup();
    const alice = db.session({ user: 'root', role: 'dba', namespace: 'app' });
    store.control.hang = true;
    const e = await failure(alice.transaction(async (tx) => {
      await tx.execute("INSERT INTO items (id, name) VALUES (2, 'in tx')");
      await tx.execute("UPDATE items SET name = 'changed' WHERE id = 1");
    }));
    expect(e.code).toBe('STORAGE_TIMEOUT');
    expect((await admin.query('SELECT COUNT(*) AS n FROM system.transactions')).rows).toEqual([{ n: 0 }]);
    expect((await admin.query('SELECT id, name FROM app.items ORDER BY id')).rows).toEqual([{ id: 1, name: 'before' }]);
    store.control.hang = false;
    store.control.hung[0].fail();
    await alice.transaction((tx) => tx.execute("INSERT INTO items (id, name) VALUES (3, 'next')"));
    expect(await ids(admin)).toEqual([1, 3]);
    expect(await idsAfterReopen(db, inner)).toEqual([1, 3]);
  });

  it('a flush job whose commit hangs records STORAGE_TIMEOUT in system.jobs, not INTERNAL, and the rows stay readable', async () => {
    const { store, admin } = await setup();
    store.control.hang = true;
    await admin.execute('FLUSH TABLE app.items');
    const job = async () => (await admin.query("SELECT status, message FROM system.jobs WHERE job_type = 'flush'")).rows[0];
    for (let i = 0; i < 200 && (await job())?.status !== 'failed'; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await job()).toEqual({ status: 'failed', message: expect.stringMatching(/^STORAGE_TIMEOUT: The storage \(custom KvStore\) did not finish committing/) });
    expect(await ids(admin)).toEqual([1]);
    store.control.hang = false;
    store.control.hung[0].fail();
  });
});

describe('storageTimeoutMs', () => {
  it('is shown in system.settings (default 30 s)', async () => {
    const db = await openDatabase({ storage: 'memory' });
    dbs.push(db);
    const rows = (await db.session({ user: 'root', role: 'dba' }).query("SELECT value FROM system.settings WHERE name = 'storage_timeout_ms'")).rows;
    expect(rows).toEqual([{ value: '30000' }]);
  });

  it.each([0, -1, 1.5, 2 ** 31, '100', null])('refuses %s with INVALID_OPTION naming the range', async (bad) => {
    const e = await failure(openDatabase({ storage: 'memory', storageTimeoutMs: bad as number }));
    expect(e.code).toBe('INVALID_OPTION');
    expect(e.message).toMatch(/storageTimeoutMs must be a whole number from 1 to 2147483647/);
  });
});
