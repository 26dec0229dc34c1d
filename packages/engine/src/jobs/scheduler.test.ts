import { afterEach, describe, expect, it, vi } from 'vitest';
import { Engine, type SessionState } from '../execute/engine';
import { type OpenOptions } from '../execute/options';
import { KalamError } from '../core/errors';
import type { KvStore } from '../storage/kv';
import { openMemoryStore } from '../storage/memory';

const HOUR = 3_600_000;
const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const as = (user: string, role: SessionState['role'] = 'user'): SessionState => ({ user, role, namespace: 'default' });

afterEach(() => {
  vi.useRealTimers();
});

async function setup(options: Partial<OpenOptions> = {}): Promise<Engine> {
  const engine = await Engine.open({ storage: 'memory', ...options });
  await engine.execute(root, 'CREATE NAMESPACE app');
  await engine.execute(root, 'CREATE USER TABLE app.todos (id INT PRIMARY KEY) WITH (DELETED_RETENTION_HOURS = 0)');
  await engine.execute(root, 'CREATE STREAM TABLE app.events (v INT) WITH (TTL_SECONDS = 1)');
  return engine;
}

/** Leaves one tombstone in app.todos, so the next retention run has work. */
async function tombstone(engine: Engine, id: number): Promise<void> {
  await engine.execute(as('alice'), `INSERT INTO app.todos (id) VALUES (${id})`);
  await engine.execute(as('alice'), `DELETE FROM app.todos WHERE id = ${id}`);
}

const query = async (engine: Engine, sql: string, state = root) => (await engine.execute(state, sql))[0].rows;
const stat = async (engine: Engine, name: string) =>
  (await query(engine, `SELECT metric_value FROM system.stats WHERE metric_name = '${name}'`))[0]?.metric_value;

/** A memory store whose commits fail while `failing` is set, or wait for `gate` when one is set. */
function flakyStore() {
  const inner = openMemoryStore();
  const control = { failing: false, gate: undefined as Promise<void> | undefined };
  const store: KvStore = {
    ...inner,
    kind: inner.kind,
    async commit(writes) {
      if (control.failing) throw new KalamError('STORAGE_ERROR', 'The disk is full');
      if (control.gate) await control.gate;
      return inner.commit(writes);
    },
  };
  return { store, control };
}

describe('system.jobs', () => {
  it('lists each job with its prefixed id, type, status, parameters and rows affected', async () => {
    const engine = await setup();
    await tombstone(engine, 1);
    await engine.execute(as('alice'), 'INSERT INTO app.events (v) VALUES (1), (2)');
    const later = Date.now() + 10_000;
    await engine.jobs.run('stream_eviction', later);
    await engine.jobs.run('retention', later);

    const rows = await query(engine, 'SELECT job_id, job_type, status, parameters, message, rows_affected, started_at, finished_at FROM system.jobs');
    expect(rows.map((r) => [r.job_type, r.status, r.rows_affected])).toEqual([
      ['stream_eviction', 'completed', 2],
      ['retention', 'completed', 1],
    ]);
    expect(rows[0].job_id).toMatch(/^SE\d{8}$/);
    expect(rows[1].job_id).toMatch(/^RT\d{8}$/);
    expect(rows[0].parameters).toMatchObject({ namespace_id: 'app', table_name: 'events', ttl_seconds: 1 });
    expect(rows[1].message).toBe('Purged 1 deleted row(s) from app.todos');
    expect(rows[1].finished_at as number).toBeGreaterThanOrEqual(rows[1].started_at as number);
    expect(await stat(engine, 'stream_rows_evicted')).toBe('2');
    expect(await stat(engine, 'tombstones_purged')).toBe('1');
    expect(await stat(engine, 'jobs_completed')).toBe('2');
    await engine.close();
  });

  it('is refused to the user and service roles', async () => {
    const engine = await setup();
    for (const role of ['user', 'service'] as const) {
      const err = await engine.execute(as('bob', role), 'SELECT * FROM system.jobs').then(() => undefined, (e: unknown) => e);
      expect((err as KalamError).code).toBe('PERMISSION_DENIED');
    }
    expect(await query(engine, 'SELECT * FROM system.jobs', as('ops', 'system'))).toEqual([]);
    await engine.close();
  });

  it('keeps at most maxJobHistory records, dropping the oldest, and counts the drops in system.stats', async () => {
    const engine = await setup({ maxJobHistory: 3 });
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) {
      await tombstone(engine, i);
      const [record] = await engine.jobs.run('retention', Date.now() + 1);
      ids.push(record.job_id);
    }
    const rows = await query(engine, 'SELECT job_id FROM system.jobs');
    expect(rows.map((r) => r.job_id)).toEqual(ids.slice(2));
    expect(await stat(engine, 'job_history_size')).toBe('3');
    expect(await stat(engine, 'job_history_max')).toBe('3');
    expect(await stat(engine, 'job_history_dropped')).toBe('2');
    await engine.close();
  });

  it('records a failing job as failed with the error, and the engine keeps working', async () => {
    const { store, control } = flakyStore();
    const engine = await setup({ storage: store });
    await tombstone(engine, 1);
    control.failing = true;
    const [failed] = await engine.jobs.run('retention', Date.now() + 1);
    expect(failed).toMatchObject({ job_type: 'retention', status: 'failed', rows_affected: 0, message: 'STORAGE_ERROR: The disk is full' });
    expect(failed.finished_at).not.toBeNull();
    control.failing = false;

    expect((await query(engine, 'SELECT id FROM app.todos WHERE _deleted = true', as('alice'))).length).toBe(1);
    await engine.execute(as('alice'), 'INSERT INTO app.todos (id) VALUES (9)');
    const [retried] = await engine.jobs.run('retention', Date.now() + 1);
    expect(retried).toMatchObject({ status: 'completed', rows_affected: 1 });
    expect(await stat(engine, 'jobs_failed')).toBe('1');
    await engine.close();
  });
});

describe('the job scheduler', () => {
  it('runDue runs only the job types whose interval has passed', async () => {
    const opened = Date.now();
    const engine = await setup({ streamEvictionIntervalMs: 60_000, retentionIntervalMs: HOUR });
    await tombstone(engine, 1);
    await engine.execute(as('alice'), 'INSERT INTO app.events (v) VALUES (1)');

    expect(await engine.jobs.runDue(opened + 10_000)).toEqual([]);
    const first = await engine.jobs.runDue(opened + 120_000);
    expect(first.map((r) => r.job_type)).toEqual(['stream_eviction']);
    const second = await engine.jobs.runDue(opened + 2 * HOUR);
    expect(second.map((r) => r.job_type)).toEqual(['retention']);
    await engine.close();
  });

  it('runs due jobs on its timer and leaves no timer behind after close', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const engine = await setup({ streamEvictionIntervalMs: 1000, retentionIntervalMs: 0 });
    await engine.execute(as('alice'), 'INSERT INTO app.events (v) VALUES (1)');
    expect(engine.jobs.hasTimer).toBe(true);
    await vi.advanceTimersByTimeAsync(3000);
    expect(engine.jobs.history.list().map((r) => [r.job_type, r.rows_affected])).toEqual([['stream_eviction', 1]]);
    expect(engine.jobs.hasTimer).toBe(true);

    await engine.close();
    expect(engine.jobs.hasTimer).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('arms no timer when every interval is 0', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const engine = await setup({ streamEvictionIntervalMs: 0, retentionIntervalMs: 0 });
    expect(engine.jobs.hasTimer).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    await engine.close();
  });

  it('does not keep a Node process alive while waiting', async () => {
    const engine = await setup();
    const timer = (engine.jobs as unknown as { timer: { hasRef(): boolean } }).timer;
    expect(timer.hasRef()).toBe(false);
    await engine.close();
  });

  it('close waits for a running job and stops it at the next batch boundary', async () => {
    const { store, control } = flakyStore();
    const engine = await setup({ storage: store, jobBatchSize: 1 });
    await engine.execute(as('alice'), 'INSERT INTO app.events (v) VALUES (1), (2), (3)');
    let release!: () => void;
    control.gate = new Promise((resolve) => { release = resolve; });
    const running = engine.jobs.run('stream_eviction', Date.now() + 10_000);
    await new Promise((resolve) => setImmediate(resolve)); // the first batch is now committing
    const closing = engine.close();
    release();
    await closing;
    const [record] = await running;
    expect(record.status).toBe('completed');
    expect(record.rows_affected).toBe(1);
    expect(record.message).toMatch(/^Stopped early: the database is closing/);
  });

  it('refuses job settings that are not whole numbers in range', async () => {
    for (const bad of [{ jobBatchSize: 0 }, { maxJobHistory: 1.5 }, { retentionIntervalMs: -1 }]) {
      const err = await Engine.open({ storage: 'memory', ...bad }).then(() => undefined, (e: unknown) => e);
      expect((err as KalamError).code).toBe('INVALID_OPTION');
    }
  });

  it('shows its settings in system.settings', async () => {
    const engine = await setup({ maxJobHistory: 42 });
    const rows = await query(engine, "SELECT value FROM system.settings WHERE name = 'max_job_history'");
    expect(rows).toEqual([{ value: '42' }]);
    await engine.close();
  });
});
