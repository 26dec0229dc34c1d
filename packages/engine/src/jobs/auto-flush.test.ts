import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, type OpenOptions, type SessionState } from '../execute/engine';
import { flushableHotBytes } from './auto-flush';
import type { SegmentKey, SegmentStore } from '../storage/cold/types';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const as = (user: string): SessionState => ({ user, role: 'user', namespace: 'default' });

let open: Engine[] = [];
afterEach(async () => {
  for (const e of open) await e.close();
  open = [];
});

async function engineWith(options: Partial<OpenOptions>): Promise<Engine> {
  const engine = await Engine.open({ storage: 'memory', ...options });
  open.push(engine);
  await engine.execute(root, 'CREATE NAMESPACE IF NOT EXISTS app');
  await engine.execute(root, 'CREATE USER TABLE IF NOT EXISTS app.notes (id INT PRIMARY KEY, body TEXT)');
  return engine;
}

const stat = (engine: Engine, name: string) => engine.metrics().find(([k]) => k === name)?.[1] as number;
const hotRows = (engine: Engine, user: string) => engine.hot.partition(engine.catalog.findTable('app', 'notes')!.id, user)?.size ?? 0;

async function insertNotes(engine: Engine, user: string, from: number, to: number, body = (i: number) => `note ${i}`): Promise<void> {
  const values = [];
  for (let i = from; i <= to; i++) values.push(`(${i}, '${body(i)}')`);
  await engine.execute(as(user), `INSERT INTO app.notes (id, body) VALUES ${values.join(', ')}`);
}

async function count(engine: Engine, user: string): Promise<number> {
  const [r] = await engine.execute(as(user), 'SELECT COUNT(*) AS n FROM app.notes');
  return r.rows[0].n as number;
}

describe('the default flush policy', () => {
  it('flushes a partition of a table without FLUSH_POLICY once it holds hotPartitionRows rows, and its rows read the same', async () => {
    const engine = await engineWith({ hotPartitionRows: 50 });
    await insertNotes(engine, 'alice', 1, 40);
    await engine.jobs.idle();
    expect(hotRows(engine, 'alice')).toBe(40); // under the bound: nothing flushed
    expect(stat(engine, 'auto_flushes')).toBe(0);
    await insertNotes(engine, 'alice', 41, 60);
    await engine.jobs.idle();
    expect(hotRows(engine, 'alice')).toBe(0);
    expect(stat(engine, 'auto_flushes')).toBe(1);
    expect(stat(engine, 'segments')).toBeGreaterThan(0);
    expect(await count(engine, 'alice')).toBe(60);
    const [job] = (await engine.execute(root, "SELECT parameters, status FROM system.jobs WHERE job_type = 'flush'"))[0].rows;
    expect(job.status).toBe('completed');
    expect((job.parameters as { trigger: string }).trigger).toBe('auto');
  });

  it('flushes only the partitions past the bound: a small partition of another user stays hot', async () => {
    const engine = await engineWith({ hotPartitionRows: 30 });
    await insertNotes(engine, 'bob', 1, 5);
    await insertNotes(engine, 'alice', 1, 35);
    await engine.jobs.idle();
    expect(hotRows(engine, 'alice')).toBe(0);
    expect(hotRows(engine, 'bob')).toBe(5);
  });

  it('leaves a table with its own FLUSH_POLICY to that policy', async () => {
    const engine = await engineWith({ hotPartitionRows: 10 });
    await engine.execute(root, "CREATE USER TABLE app.logs (id INT PRIMARY KEY, line TEXT) WITH (FLUSH_POLICY = 'rows:1000')");
    const values = Array.from({ length: 50 }, (_, i) => `(${i}, 'l${i}')`).join(', ');
    await engine.execute(as('alice'), `INSERT INTO app.logs (id, line) VALUES ${values}`);
    await engine.jobs.idle();
    expect(engine.hot.partition(engine.catalog.findTable('app', 'logs')!.id, 'alice')?.size).toBe(50);
  });
});

describe('the hot budget', () => {
  it('flushes the largest partitions when the hot USER/SHARED rows pass hotBudgetBytes, until they are under half of it', async () => {
    const engine = await engineWith({ hotPartitionRows: 100_000, hotBudgetBytes: 40_000 });
    // Four users, none near the row bound; together past the byte budget.
    for (const [user, n] of [['a', 30], ['b', 60], ['c', 90], ['d', 120]] as const) await insertNotes(engine, user, 1, n, (i) => `${'x'.repeat(100)} ${i}`);
    await engine.jobs.idle();
    expect(stat(engine, 'budget_flushes')).toBeGreaterThan(0);
    expect(flushableHotBytes(engine)).toBeLessThanOrEqual(20_000);
    // The largest partition went first; the smallest stayed hot.
    expect(hotRows(engine, 'd')).toBe(0);
    expect(hotRows(engine, 'a')).toBe(30);
    for (const [user, n] of [['a', 30], ['b', 60], ['c', 90], ['d', 120]] as const) expect(await count(engine, user)).toBe(n);
  });

  it('does not count or flush STREAM rows (they expire instead), and never makes a STREAM write wait', async () => {
    const engine = await engineWith({ hotBudgetBytes: 10_000 });
    await engine.execute(root, 'CREATE STREAM TABLE app.events (id INT, payload TEXT) WITH (TTL_SECONDS = 3600)');
    for (let k = 0; k < 5; k++) {
      const values = Array.from({ length: 40 }, (_, i) => `(${k * 40 + i}, '${'y'.repeat(200)}')`).join(', ');
      await engine.execute(as('alice'), `INSERT INTO app.events (id, payload) VALUES ${values}`);
    }
    await engine.jobs.idle();
    expect(stat(engine, 'hot_bytes')).toBeGreaterThan(30_000);
    expect(flushableHotBytes(engine)).toBe(0);
    expect(stat(engine, 'budget_flushes')).toBe(0);
    expect(stat(engine, 'writes_waited_for_flush')).toBe(0);
  });

  it('makes writes wait for flushes while hot rows are past twice the budget, so a bulk load keeps the hot tier bounded', async () => {
    // A segment store that takes 20 ms per write: flushes drain slower than one awaited INSERT after another fills.
    const segments = new Map<string, readonly Uint8Array[]>();
    const id = (k: SegmentKey) => `${k.tableId}/${k.user}/${k.segmentId}`;
    const slow: SegmentStore = {
      readGroups: async (k, groups) => groups.map((g) => segments.get(id(k))?.[g.index]),
      get: async () => undefined,
      put: async (k, groups) => {
        await new Promise((r) => setTimeout(r, 20));
        segments.set(id(k), groups);
      },
      delete: async (refs) => {
        for (const r of refs) segments.delete(id(r));
      },
    };
    const engine = await engineWith({ hotPartitionRows: 1_000_000, hotBudgetBytes: 30_000, segmentStore: slow });
    const statementBytes = 100 * 140; // one INSERT below: 100 rows of ~140 rough bytes
    let peak = 0;
    for (let k = 0; k < 40; k++) {
      await insertNotes(engine, 'alice', k * 100 + 1, (k + 1) * 100, (i) => `${'z'.repeat(40)} ${i}`);
      peak = Math.max(peak, flushableHotBytes(engine));
    }
    await engine.jobs.idle();
    expect(peak).toBeLessThanOrEqual(2 * 30_000 + statementBytes);
    expect(stat(engine, 'writes_waited_for_flush')).toBeGreaterThan(0);
    expect(await count(engine, 'alice')).toBe(4000);
  });

  it('brings a database opened over its budget under it, and shows the bound in system.settings and system.stats', async () => {
    const indexedDB = new IDBFactory();
    const first = await engineWith({ storage: 'idb', name: 'over', indexedDB, hotBudgetBytes: 10_000_000 });
    await insertNotes(first, 'alice', 1, 300, (i) => `${'w'.repeat(100)} ${i}`);
    await first.jobs.idle();
    expect(hotRows(first, 'alice')).toBe(300);
    await first.close();
    open = open.filter((e) => e !== first);
    const second = await Engine.open({ storage: 'idb', name: 'over', indexedDB, hotBudgetBytes: 20_000 });
    open.push(second);
    await second.jobs.idle();
    expect(flushableHotBytes(second)).toBeLessThanOrEqual(10_000);
    expect(await count(second, 'alice')).toBe(300);
    const [settings] = await second.execute(root, "SELECT value FROM system.settings WHERE name = 'hot_budget_bytes'");
    expect(settings.rows).toEqual([{ value: '20000' }]);
    expect(stat(second, 'hot_budget_bytes')).toBe(20_000);
  });
});
