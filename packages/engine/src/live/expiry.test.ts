import { afterEach, describe, expect, it, vi } from 'vitest';
import { Engine, type SessionState } from '../execute/engine';
import type { Row } from '../core/types';
import type { LiveChange } from './types';

const T0 = Date.UTC(2025, 0, 1);
const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const alice: SessionState = { user: 'alice', role: 'user', namespace: 'default' };

afterEach(() => {
  vi.useRealTimers();
});

/** An engine whose jobs never run on a timer (the eviction job cannot be what removes a row), with Date and timers faked at T0. */
async function setup(): Promise<Engine> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(T0);
  const engine = await Engine.open({ storage: 'memory', streamEvictionIntervalMs: 0, retentionIntervalMs: 0, flushCheckIntervalMs: 0 });
  await engine.execute(root, 'CREATE NAMESPACE app');
  await engine.execute(root, 'CREATE STREAM TABLE app.events (v INT) WITH (TTL_SECONDS = 60)');
  return engine;
}

function watch(engine: Engine, sql: string) {
  const seen: { rows: readonly Row[]; change: LiveChange }[] = [];
  const stop = engine.liveQuery(alice, sql, [], (rows, change) => seen.push({ rows, change }), (e) => {
    throw e;
  });
  return { seen, stop, values: () => seen[seen.length - 1].rows.map((r) => r.v) };
}

const pending = async (engine: Engine) =>
  (await engine.execute(root, "SELECT metric_value FROM system.stats WHERE metric_name = 'live_expiries_pending'"))[0].rows[0].metric_value;

describe('STREAM rows leave maintained live results when they expire', () => {
  it('drops each row when its TTL passes, not when the eviction job runs', async () => {
    const engine = await setup();
    await engine.execute(alice, 'INSERT INTO app.events (v) VALUES (1)');
    vi.setSystemTime(T0 + 30_000);
    await engine.execute(alice, 'INSERT INTO app.events (v) VALUES (2)');
    const [{ s1 }] = (await engine.execute(alice, 'SELECT MIN(_seq) AS s1 FROM app.events'))[0].rows;
    const live = watch(engine, 'SELECT v FROM app.events ORDER BY v');
    expect(live.values()).toEqual([1, 2]);
    expect(await pending(engine)).toBe('1');
    // A row expires once more than TTL_SECONDS passed since its _seq time.
    vi.advanceTimersByTime(30_000);
    expect(live.seen).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(live.values()).toEqual([2]);
    expect(live.seen[1].change).toEqual({ kind: 'changes', inserted: [], updated: [], deleted: [s1], deletedRows: [{ key: s1, old: live.seen[0].rows[0] }] });
    vi.advanceTimersByTime(30_000);
    expect(live.values()).toEqual([]);
    expect(await pending(engine)).toBe('0');
    expect(vi.getTimerCount()).toBe(0);
    live.stop();
    await engine.close();
  });

  it('refills a LIMIT window with the next row when the row it showed expires', async () => {
    const engine = await setup();
    await engine.execute(alice, 'INSERT INTO app.events (v) VALUES (1)');
    vi.setSystemTime(T0 + 10_000);
    await engine.execute(alice, 'INSERT INTO app.events (v) VALUES (2)');
    const live = watch(engine, 'SELECT v FROM app.events ORDER BY v LIMIT 1');
    expect(live.values()).toEqual([1]);
    vi.advanceTimersByTime(50_001);
    expect(live.values()).toEqual([2]);
    expect(live.seen[1].change).toMatchObject({ kind: 'changes', inserted: [{ v: 2 }] });
    live.stop();
    await engine.close();
  });

  it('keeps one engine-wide timer for any number of subscriptions, and forgets a stopped one', async () => {
    const engine = await setup();
    await engine.execute(alice, 'INSERT INTO app.events (v) VALUES (1)');
    const lives = Array.from({ length: 50 }, (_, i) => watch(engine, `SELECT v FROM app.events WHERE v < ${i + 2}`));
    expect(vi.getTimerCount()).toBe(1);
    expect(await pending(engine)).toBe('50');
    lives[0].stop();
    expect(await pending(engine)).toBe('49');
    vi.advanceTimersByTime(60_001);
    expect(lives[0].seen).toHaveLength(1); // stopped: nothing more
    for (const live of lives.slice(1)) expect(live.values()).toEqual([]);
    expect(await pending(engine)).toBe('0');
    for (const live of lives) live.stop();
    await engine.close();
  });

  it('arms no timer for a result without STREAM rows, and none after close', async () => {
    const engine = await setup();
    await engine.execute(root, 'CREATE USER TABLE app.notes (id INT PRIMARY KEY)');
    await engine.execute(alice, 'INSERT INTO app.notes (id) VALUES (1)');
    await engine.execute(alice, 'INSERT INTO app.events (v) VALUES (1)');
    const notes = watch(engine, 'SELECT id FROM app.notes');
    expect(vi.getTimerCount()).toBe(0);
    const events = watch(engine, 'SELECT v FROM app.events');
    expect(vi.getTimerCount()).toBe(1);
    await engine.close();
    expect(vi.getTimerCount()).toBe(0);
    notes.stop();
    events.stop();
  });
});
