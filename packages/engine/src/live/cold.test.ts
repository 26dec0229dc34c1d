import { afterEach, describe, expect, it } from 'vitest';
import { Engine, type SessionState } from '../execute/engine';
import type { KalamError } from '../core/errors';
import type { Row, Value } from '../core/types';
import type { LiveChange, LiveOptions } from './types';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const alice: SessionState = { user: 'alice', role: 'user', namespace: 'default' };

let open: Engine[] = [];
afterEach(async () => {
  for (const e of open) await e.close();
  open = [];
});

/**
 * A cache that holds one segment of 40 rows whole (~5.8 KB decoded) and
 * not another beside it, even shrunk to the columns a scan read (~0.6 KB):
 * reading another table's segment evicts the first.
 */
async function engineWith(segmentCacheBytes = 6_000): Promise<Engine> {
  const engine = await Engine.open({ storage: 'memory', segmentCacheBytes, flushCheckIntervalMs: 0 });
  open.push(engine);
  await engine.execute(root, 'CREATE NAMESPACE app');
  await engine.execute(root, 'CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT, n INT) WITH (ACCESS_LEVEL = PUBLIC)');
  await engine.execute(root, 'CREATE SHARED TABLE app.other (id INT PRIMARY KEY, name TEXT, n INT)');
  await engine.execute(root, 'CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT)');
  return engine;
}

async function insert(engine: Engine, table: string, from: number, to: number): Promise<void> {
  const values = [];
  for (let i = from; i <= to; i++) values.push(`(${i}, 'r${i}', ${i})`);
  await engine.execute(root, `INSERT INTO ${table} (id, name, n) VALUES ${values.join(', ')}`);
}

async function flush(engine: Engine, table: string): Promise<void> {
  await engine.execute(root, `FLUSH TABLE ${table}`);
  await engine.jobs.idle();
}

const stat = (engine: Engine, name: string) => engine.metrics().find(([k]) => k === name)?.[1];

interface Probe {
  deliveries: { rows: readonly Row[]; change: LiveChange }[];
  errors: KalamError[];
  stop: () => void;
  readonly last: readonly Row[];
}

/** What session.live does. */
async function probe(engine: Engine, state: SessionState, sql: string, options: LiveOptions = {}, params: Value[] = []): Promise<Probe> {
  const deliveries: Probe['deliveries'] = [];
  const errors: KalamError[] = [];
  const stop = await engine.openLive(state, sql, params, (rows, change) => deliveries.push({ rows, change }), (e) => errors.push(e), options);
  return { deliveries, errors, stop, get last() { return deliveries[deliveries.length - 1].rows; } };
}

/** Evicts app.items' segments: a read of app.other loads its own. */
async function evictItems(engine: Engine): Promise<void> {
  const before = stat(engine, 'segment_cache_evictions') as number;
  expect((await engine.execute(root, 'SELECT count(*) AS c FROM app.other'))[0].rows).toEqual([{ c: 40 }]);
  expect(stat(engine, 'segment_cache_evictions') as number).toBeGreaterThan(before);
}

const ids = (rows: readonly Row[]) => rows.map((r) => r.id);

describe('live queries over cold segments the cache evicted', () => {
  it('a maintained window refills with merged hot and cold rows after its segment was evicted', async () => {
    const engine = await engineWith();
    await insert(engine, 'app.other', 1, 40);
    await flush(engine, 'app.other');
    await insert(engine, 'app.items', 1, 40);
    await flush(engine, 'app.items');
    await insert(engine, 'app.items', 41, 42); // hot
    const p = await probe(engine, root, 'SELECT id, name FROM app.items WHERE n > 1 ORDER BY n DESC LIMIT 3');
    expect(ids(p.last)).toEqual([42, 41, 40]);
    await evictItems(engine);
    // A hot row leaves (its key is outside the segment's range: the DELETE itself loads nothing); the refill needs row 39, cold.
    await engine.execute(root, 'DELETE FROM app.items WHERE id = 42');
    await engine.live.idle();
    expect(p.errors).toEqual([]);
    expect(ids(p.last)).toEqual([41, 40, 39]);
    expect(p.deliveries[1].change).toEqual({ kind: 'changes', inserted: [{ id: 39, name: 'r39' }], updated: [], deleted: [42], deletedRows: [{ key: 42, old: p.deliveries[0].rows[0] }] });
    expect(stat(engine, 'live_cold_loads')).toBe(1);
    // A hot version of a cold row shadows it in the refill: row 1 shows once, with its new rank.
    await engine.execute(root, 'UPDATE app.items SET n = 1000 WHERE id = 1');
    await evictItems(engine);
    await engine.execute(root, 'DELETE FROM app.items WHERE id = 41');
    await engine.live.idle();
    expect(ids(p.last)).toEqual([1, 40, 39]);
    expect(p.errors).toEqual([]);
    expect(stat(engine, 'live_cold_loads')).toBe(2);
    expect(stat(engine, 'segment_pins')).toBe(0);
    p.stop();
  });

  it('a re-run live query sees hot and cold rows after its segment was evicted', async () => {
    const engine = await engineWith();
    await insert(engine, 'app.other', 1, 40);
    await flush(engine, 'app.other');
    await insert(engine, 'app.items', 1, 40);
    await flush(engine, 'app.items');
    const p = await probe(engine, root, 'SELECT count(*) AS c, sum(n) AS s FROM app.items');
    expect(p.last).toEqual([{ c: 40, s: 820 }]);
    await evictItems(engine);
    await insert(engine, 'app.items', 41, 41);
    await engine.live.idle();
    expect(p.errors).toEqual([]);
    expect(p.last).toEqual([{ c: 41, s: 861 }]);
    expect(stat(engine, 'live_cold_loads')).toBe(1);
    await evictItems(engine);
    await engine.execute(root, 'UPDATE app.items SET n = 0 WHERE id = 1');
    await engine.live.idle();
    expect(p.last).toEqual([{ c: 41, s: 860 }]);
    expect(p.errors).toEqual([]);
    p.stop();
  });

  it('keeps delivering in commit order while segments load', async () => {
    const engine = await engineWith();
    await insert(engine, 'app.other', 1, 40);
    await flush(engine, 'app.other');
    await insert(engine, 'app.items', 1, 40);
    await flush(engine, 'app.items');
    const p = await probe(engine, root, 'SELECT count(*) AS c FROM app.items');
    await evictItems(engine);
    // Three commits without waiting: the first refresh loads the segment; the others follow it, in order.
    await Promise.all([insert(engine, 'app.items', 41, 41), insert(engine, 'app.items', 42, 42), insert(engine, 'app.items', 43, 43)]);
    await engine.live.idle();
    const counts = p.deliveries.map((d) => d.rows[0].c as number);
    expect(counts[0]).toBe(40);
    expect(counts[counts.length - 1]).toBe(43);
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThan(counts[i - 1]);
    expect(p.errors).toEqual([]);
    p.stop();
  });
});

describe('live queries across a flush', () => {
  it('FLUSH TABLE while a maintained and a re-run live query are open, then writes: both stay correct', async () => {
    // Room for one segment of app.items only: the second flush's segment evicts the first.
    const engine = await engineWith();
    await insert(engine, 'app.items', 1, 40);
    await flush(engine, 'app.items');
    const window = await probe(engine, root, 'SELECT id FROM app.items ORDER BY n DESC LIMIT 2');
    const count = await probe(engine, root, 'SELECT count(*) AS c FROM app.items');
    await engine.execute(root, 'UPDATE app.items SET n = n + 100 WHERE id <= 35');
    await engine.live.idle();
    expect(ids(window.last)).toEqual([35, 34]);
    await flush(engine, 'app.items');
    expect(stat(engine, 'segments')).toBe(2);
    expect(stat(engine, 'table_rows.app.items')).toBe(0);
    await engine.execute(root, 'DELETE FROM app.items WHERE id >= 34');
    await insert(engine, 'app.items', 100, 100);
    await engine.live.idle();
    expect(ids(window.last)).toEqual([33, 32]);
    expect(count.last).toEqual([{ c: 34 }]);
    expect(window.errors).toEqual([]);
    expect(count.errors).toEqual([]);
    window.stop();
    count.stop();
  });

  it('a USER table live query reads its own flushed partition after the flush and an eviction', async () => {
    const engine = await engineWith();
    await insert(engine, 'app.other', 1, 40);
    await flush(engine, 'app.other');
    for (let i = 1; i <= 30; i++) await engine.execute(alice, `INSERT INTO app.notes (id, body) VALUES (${i}, 'b${i}')`);
    const p = await probe(engine, alice, 'SELECT id FROM app.notes ORDER BY id LIMIT 2');
    await flush(engine, 'app.notes');
    await evictItems(engine);
    await engine.execute(alice, 'DELETE FROM app.notes WHERE id = 1');
    await engine.live.idle();
    expect(ids(p.last)).toEqual([2, 3]);
    expect(p.errors).toEqual([]);
    p.stop();
  });

  it('ALTER TABLE re-plans a live query over cold segments (read under the new version)', async () => {
    const engine = await engineWith();
    await insert(engine, 'app.items', 1, 5);
    await flush(engine, 'app.items');
    const p = await probe(engine, root, 'SELECT * FROM app.items ORDER BY id LIMIT 2');
    await engine.execute(root, "ALTER TABLE app.items ADD COLUMN tag TEXT DEFAULT 'x'");
    await engine.live.idle();
    expect(p.errors).toEqual([]);
    expect(p.last).toEqual([{ id: 1, name: 'r1', n: 1, tag: 'x' }, { id: 2, name: 'r2', n: 2, tag: 'x' }]);
    await engine.execute(root, 'DELETE FROM app.items WHERE id = 1');
    await engine.live.idle();
    expect(ids(p.last)).toEqual([2, 3]);
    expect(p.errors).toEqual([]);
    p.stop();
  });

  it('a partition larger than the whole cache still serves its live query', async () => {
    const engine = await engineWith(1000);
    await insert(engine, 'app.items', 1, 40);
    await flush(engine, 'app.items');
    expect(stat(engine, 'segment_cache_size')).toBe(0);
    const p = await probe(engine, root, 'SELECT id FROM app.items ORDER BY id LIMIT 2');
    expect(ids(p.last)).toEqual([1, 2]);
    await engine.execute(root, 'DELETE FROM app.items WHERE id = 1');
    await engine.live.idle();
    expect(ids(p.last)).toEqual([2, 3]);
    expect(stat(engine, 'segment_cache_bytes') as number).toBeLessThanOrEqual(1000);
    expect(p.errors).toEqual([]);
    p.stop();
  });
});

describe('live query lifetimes over cold segments', () => {
  it('10,000 live queries opened and stopped leave no segment pinned and the cache within its bound', async () => {
    const engine = await engineWith(20_000); // both segments fit: the loop measures lifetimes, not loads
    await insert(engine, 'app.other', 1, 40);
    await flush(engine, 'app.other');
    await insert(engine, 'app.items', 1, 40);
    await flush(engine, 'app.items');
    for (let i = 0; i < 10_000; i++) {
      const sql = i % 2 === 0 ? 'SELECT id FROM app.items ORDER BY id LIMIT 1' : 'SELECT count(*) AS c FROM app.other';
      const p = await probe(engine, root, sql);
      p.stop();
    }
    expect(engine.live.size).toBe(0);
    expect(stat(engine, 'segment_pins')).toBe(0);
    expect(stat(engine, 'segment_cache_bytes') as number).toBeLessThanOrEqual(20_000);
  });

  it('live queries opened and stopped while each one evicts the other\'s segment leave nothing pinned', async () => {
    const engine = await engineWith();
    await insert(engine, 'app.other', 1, 40);
    await flush(engine, 'app.other');
    await insert(engine, 'app.items', 1, 40);
    await flush(engine, 'app.items');
    const open: Probe[] = [];
    for (let i = 0; i < 40; i++) {
      open.push(await probe(engine, root, i % 2 === 0 ? 'SELECT id FROM app.items ORDER BY id LIMIT 1' : 'SELECT count(*) AS c FROM app.other'));
    }
    await insert(engine, 'app.items', 41, 41);
    await insert(engine, 'app.other', 41, 41);
    await engine.live.idle();
    for (const p of open) {
      expect(p.errors).toEqual([]);
      p.stop();
    }
    expect(open[1].last).toEqual([{ c: 41 }]);
    expect(stat(engine, 'segment_cache_evictions') as number).toBeGreaterThanOrEqual(40);
    expect(open[0].last).toEqual([{ id: 1 }]);
    expect(stat(engine, 'segment_pins')).toBe(0);
    expect(stat(engine, 'segment_cache_bytes') as number).toBeLessThanOrEqual(6_000);
  });

  it('dropping a table ends its live queries with TABLE_NOT_FOUND', async () => {
    const engine = await engineWith();
    await insert(engine, 'app.items', 1, 3);
    await flush(engine, 'app.items');
    const p = await probe(engine, root, 'SELECT id FROM app.items ORDER BY id');
    const other = await probe(engine, root, 'SELECT id FROM app.other');
    await engine.execute(root, 'DROP TABLE app.items');
    expect(p.errors.map((e) => e.code)).toEqual(['TABLE_NOT_FOUND']);
    expect(p.errors[0].message).toMatch(/Table 'app\.items' was dropped.*live query .* ended/);
    expect(other.errors).toEqual([]);
    expect(engine.live.size).toBe(1);
    await engine.execute(root, 'DROP NAMESPACE app CASCADE');
    expect(other.errors.map((e) => e.code)).toEqual(['TABLE_NOT_FOUND']);
    expect(engine.live.size).toBe(0);
    expect(stat(engine, 'segment_pins')).toBe(0);
  });
});
