import { describe, expect, it } from 'vitest';
import { openDatabase } from '../api/database';
import type { Session } from '../api/database';
import { PlanCache } from './cache';

interface FakePlan {
  tableIds: number[];
  label: string;
}

const plan = (label: string, ...tableIds: number[]): FakePlan => ({ label, tableIds });

describe('PlanCache', () => {
  it('never holds more plans than its capacity', () => {
    const cache = new PlanCache<FakePlan>(3);
    for (let i = 0; i < 50; i++) {
      cache.set(`q${i}`, plan(`q${i}`, 1));
      expect(cache.stats().size).toBeLessThanOrEqual(3);
    }
    expect(cache.stats()).toMatchObject({ size: 3, capacity: 3, evictions: 47 });
    expect(cache.keys()).toEqual(['q47', 'q48', 'q49']);
  });

  it('evicts the least recently used plan when full', () => {
    const cache = new PlanCache<FakePlan>(2);
    cache.set('a', plan('a'));
    cache.set('b', plan('b'));
    cache.set('c', plan('c'));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.label).toBe('b');
    expect(cache.get('c')?.label).toBe('c');
  });

  it('counts a get as a use, so a recently read plan survives eviction', () => {
    const cache = new PlanCache<FakePlan>(2);
    cache.set('a', plan('a'));
    cache.set('b', plan('b'));
    expect(cache.get('a')?.label).toBe('a');
    cache.set('c', plan('c'));
    expect(cache.keys()).toEqual(['a', 'c']);
    expect(cache.get('b')).toBeUndefined();
  });

  it('replacing a key keeps one entry and makes it the most recently used', () => {
    const cache = new PlanCache<FakePlan>(2);
    cache.set('a', plan('a1'));
    cache.set('b', plan('b'));
    cache.set('a', plan('a2'));
    expect(cache.stats().size).toBe(2);
    cache.set('c', plan('c'));
    expect(cache.keys()).toEqual(['a', 'c']);
    expect(cache.get('a')?.label).toBe('a2');
  });

  it('counts hits, misses and evictions', () => {
    const cache = new PlanCache<FakePlan>(1);
    cache.get('x');
    cache.set('x', plan('x'));
    cache.get('x');
    cache.get('x');
    cache.set('y', plan('y'));
    cache.get('x');
    expect(cache.stats()).toEqual({ size: 1, capacity: 1, hits: 2, misses: 2, evictions: 1, invalidations: 0 });
  });

  it('stores nothing when the capacity is zero', () => {
    const cache = new PlanCache<FakePlan>(0);
    cache.set('a', plan('a'));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.stats().size).toBe(0);
  });

  it('refuses a negative or fractional capacity', () => {
    expect(() => new PlanCache<FakePlan>(-1)).toThrow(RangeError);
    expect(() => new PlanCache<FakePlan>(1.5)).toThrow(RangeError);
  });

  it('invalidateTables drops exactly the plans that name one of the tables', () => {
    const cache = new PlanCache<FakePlan>(10);
    cache.set('t1', plan('t1', 1));
    cache.set('t2', plan('t2', 2));
    cache.set('join12', plan('join12', 1, 2));
    cache.set('join23', plan('join23', 2, 3));
    cache.set('t3', plan('t3', 3));
    cache.set('none', plan('none'));
    cache.invalidateTables([1]);
    expect(cache.keys().sort()).toEqual(['join23', 'none', 't2', 't3']);
    expect(cache.stats().invalidations).toBe(2);
    cache.invalidateTables([3, 4]);
    expect(cache.keys().sort()).toEqual(['none', 't2']);
    expect(cache.stats().invalidations).toBe(4);
  });

  it('get drops a plan its isCurrent check rejects, counting a miss and an invalidation', () => {
    const cache = new PlanCache<FakePlan>(10);
    const stale = plan('stale', 1);
    cache.set('stale', stale);
    cache.set('fresh', plan('fresh', 2));
    const isCurrent = (p: FakePlan) => p !== stale;
    expect(cache.get('fresh', isCurrent)?.tableIds).toEqual([2]);
    expect(cache.get('stale', isCurrent)).toBeUndefined();
    expect(cache.keys()).toEqual(['fresh']);
    expect(cache.stats()).toMatchObject({ size: 1, hits: 1, misses: 1, invalidations: 1 });
  });
});

async function stats(admin: Session): Promise<Record<string, string>> {
  const r = await admin.query('SELECT metric_name, metric_value FROM system.stats');
  return Object.fromEntries(r.rows.map((row) => [row.metric_name as string, row.metric_value as string]));
}

describe('the plan cache inside the database', () => {
  it('keeps plan_cache_size within planCacheSize after more distinct statements than it holds', async () => {
    const db = await openDatabase({ storage: 'memory', planCacheSize: 4 });
    const admin = db.session({ user: 'root', role: 'dba' });
    await admin.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b INT, c INT)');
    const shapes = ['id', 'a', 'b', 'c', 'id, a', 'a, b', 'b, c', 'id, c', 'a + b', 'b * c'];
    for (const cols of shapes) await admin.query(`SELECT ${cols} FROM app.t`);
    const s = await stats(admin);
    expect(Number(s.plan_cache_capacity)).toBe(4);
    expect(Number(s.plan_cache_size)).toBeLessThanOrEqual(4);
    expect(Number(s.plan_cache_size)).toBeGreaterThan(0);
    expect(Number(s.plan_cache_evictions)).toBeGreaterThanOrEqual(shapes.length - 4);
    await db.close();
  });

  it('shares one plan between statements that differ only in literals', async () => {
    const db = await openDatabase({ storage: 'memory' });
    const admin = db.session({ user: 'root', role: 'dba' });
    await admin.execute("CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, name TEXT)");
    await admin.execute("INSERT INTO app.t (id, name) VALUES (1, 'one'), (2, 'two')");
    const before = await stats(admin);
    const one = await admin.query('SELECT name FROM app.t WHERE id = 1');
    const two = await admin.query('SELECT name FROM app.t WHERE id = 2');
    expect(one.rows).toEqual([{ name: 'one' }]);
    expect(two.rows).toEqual([{ name: 'two' }]);
    const after = await stats(admin);
    // the stats query itself is cached after its first run: one miss for the new shape, then hits
    expect(Number(after.plan_cache_misses) - Number(before.plan_cache_misses)).toBe(1);
    await db.close();
  });

  it('DROP TABLE invalidates the plans that read the table, and a re-created table is read afresh', async () => {
    const db = await openDatabase({ storage: 'memory' });
    const admin = db.session({ user: 'root', role: 'dba' });
    await admin.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, v TEXT); CREATE SHARED TABLE app.u (id INT PRIMARY KEY)');
    await admin.execute("INSERT INTO app.t (id, v) VALUES (1, 'old')");
    expect((await admin.query('SELECT v FROM app.t')).rows).toEqual([{ v: 'old' }]);
    await admin.query('SELECT id FROM app.u');
    const before = await stats(admin);
    await admin.execute('DROP TABLE app.t');
    const after = await stats(admin);
    // the SELECT and the INSERT plans on app.t are gone; the app.u plan stays
    expect(Number(after.plan_cache_invalidations) - Number(before.plan_cache_invalidations)).toBe(2);
    await expect(admin.query('SELECT v FROM app.t')).rejects.toMatchObject({ code: 'TABLE_NOT_FOUND' });
    await admin.execute('CREATE SHARED TABLE app.t (id INT PRIMARY KEY, w TEXT, v TEXT)');
    await admin.execute("INSERT INTO app.t (id, w, v) VALUES (1, 'w', 'new')");
    expect((await admin.query('SELECT v FROM app.t')).rows).toEqual([{ v: 'new' }]);
    // the app.u plan survived: re-running it is a hit (so is the stats query itself)
    const hits = Number((await stats(admin)).plan_cache_hits);
    await admin.query('SELECT id FROM app.u');
    expect(Number((await stats(admin)).plan_cache_hits) - hits).toBe(2);
    await db.close();
  });
});
