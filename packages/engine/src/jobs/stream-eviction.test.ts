import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Engine, type SessionState } from '../execute/engine';
import { type OpenOptions } from '../execute/options';
import { storedRowCount } from '../storage/kv.fixture';
import type { KvStore } from '../storage/kv';
import { openMemoryStore } from '../storage/memory';

const T0 = Date.UTC(2025, 0, 1);
const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const as = (user: string): SessionState => ({ user, role: 'user', namespace: 'default' });

afterEach(() => {
  vi.useRealTimers();
});

/** Freezes Date (only Date: promises and IndexedDB keep running) at `ms`. */
function clockAt(ms: number): void {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(ms);
}

async function setup(options: Partial<OpenOptions> = {}): Promise<Engine> {
  const engine = await Engine.open({ storage: 'memory', ...options });
  await engine.execute(root, 'CREATE NAMESPACE app');
  await engine.execute(root, 'CREATE STREAM TABLE app.events (v INT) WITH (TTL_SECONDS = 60)');
  return engine;
}

async function storedRows(engine: Engine, tableId: number): Promise<number> {
  return storedRowCount(engine.kv, 'stream', tableId);
}

const tableId = (engine: Engine) => engine.catalog.findTable('app', 'events')!.id;
const values = async (engine: Engine, user: string) =>
  (await engine.execute(as(user), 'SELECT v FROM app.events ORDER BY v'))[0].rows.map((r) => r.v);

describe('stream_eviction', () => {
  it('deletes expired stream rows from storage and keeps fresh ones, across a reopen', async () => {
    const indexedDB = new IDBFactory();
    clockAt(T0);
    let engine = await setup({ storage: 'idb', name: 'evict', indexedDB });
    await engine.execute(as('alice'), 'INSERT INTO app.events (v) VALUES (1), (2)');
    vi.setSystemTime(T0 + 30_000);
    await engine.execute(as('alice'), 'INSERT INTO app.events (v) VALUES (3)');
    const id = tableId(engine);
    expect(await storedRows(engine, id)).toBe(3);

    vi.setSystemTime(T0 + 61_000);
    const [record] = await engine.jobs.run('stream_eviction');
    expect(record).toMatchObject({ job_type: 'stream_eviction', status: 'completed', rows_affected: 2 });
    expect(engine.hot.table(id).liveRows).toBe(1);
    expect(await storedRows(engine, id)).toBe(1);
    expect(await values(engine, 'alice')).toEqual([3]);
    await engine.close();

    engine = await Engine.open({ storage: 'idb', name: 'evict', indexedDB });
    expect(await storedRows(engine, id)).toBe(1);
    expect(engine.hot.table(id).liveRows).toBe(1);
    expect(await values(engine, 'alice')).toEqual([3]);
    await engine.close();
  });

  it("evicts expired rows from every user's partition and leaves each user only their fresh rows", async () => {
    clockAt(T0);
    const engine = await setup();
    await engine.execute(as('alice'), 'INSERT INTO app.events (v) VALUES (1)');
    await engine.execute(as('bob'), 'INSERT INTO app.events (v) VALUES (10)');
    vi.setSystemTime(T0 + 50_000);
    await engine.execute(as('bob'), 'INSERT INTO app.events (v) VALUES (11)');

    const [record] = await engine.jobs.run('stream_eviction', T0 + 70_000);
    expect(record.rows_affected).toBe(2);
    expect(record.parameters).toMatchObject({ namespace_id: 'app', table_name: 'events', ttl_seconds: 60 });
    expect(engine.hot.partition(tableId(engine), 'alice')).toBeUndefined();
    expect([...engine.hot.partition(tableId(engine), 'bob')!.values()].map((r) => r[0])).toEqual([11]);
    expect(await storedRows(engine, tableId(engine))).toBe(1);
    await engine.close();
  });

  it('removes rows in batches of jobBatchSize, one storage commit per batch', async () => {
    const inner = openMemoryStore();
    let commits = 0;
    const counting: KvStore = { ...inner, kind: inner.kind, commit: (w) => { commits++; return inner.commit(w); } };
    clockAt(T0);
    const engine = await setup({ storage: counting, jobBatchSize: 2 });
    await engine.execute(as('alice'), 'INSERT INTO app.events (v) VALUES (1), (2), (3), (4), (5)');
    const before = commits;

    const [record] = await engine.jobs.run('stream_eviction', T0 + 61_000);
    expect(record.rows_affected).toBe(5);
    expect(commits - before).toBe(3);
    expect(await storedRows(engine, tableId(engine))).toBe(0);
    await engine.close();
  });

  it('leaves no job record when no stream row has expired', async () => {
    clockAt(T0);
    const engine = await setup();
    await engine.execute(as('alice'), 'INSERT INTO app.events (v) VALUES (1)');
    expect(await engine.jobs.run('stream_eviction', T0 + 59_000)).toEqual([]);
    expect(engine.jobs.history.size).toBe(0);
    expect(await storedRows(engine, tableId(engine))).toBe(1);
    await engine.close();
  });

  it('updates a live query on the stream table when rows are evicted', async () => {
    clockAt(T0);
    const engine = await setup();
    await engine.execute(as('alice'), 'INSERT INTO app.events (v) VALUES (1)');
    const seen: number[] = [];
    const stop = engine.liveQuery(as('alice'), 'SELECT v FROM app.events', [], (rows) => seen.push(rows.length), () => undefined);
    vi.setSystemTime(T0 + 61_000);
    await engine.jobs.run('stream_eviction');
    expect(seen).toEqual([1, 0]);
    stop();
    await engine.close();
  });
});
