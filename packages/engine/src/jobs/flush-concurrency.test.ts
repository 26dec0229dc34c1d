/**
 * A flush that writes many segments while reads, writes, a transaction and
 * live queries run: every promise settles (a flush waits for executions
 * prepared before each of its segments, and they never wait for it), no row
 * is lost or doubled, nothing stays pinned, and the cache returns within its
 * bound — also when each row group is larger than the whole cache.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RowChange } from '../core/schema';
import type { Row } from '../core/types';
import { hashKey } from '../core/values';
import { Engine, type SessionState } from '../execute/engine';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const bob: SessionState = { user: 'bob', role: 'dba', namespace: 'default' };

let open: Engine[] = [];
afterEach(async () => {
  for (const e of open) await e.close();
  open = [];
});

const stat = (engine: Engine, name: string) => engine.metrics().find(([k]) => k === name)?.[1] as number;
const rows = async (engine: Engine, sql: string, state = root) => (await engine.execute(state, sql))[0].rows;

/** Settles within `ms` or fails the test (a promise that never settles must not hang the suite). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms))]);
}

describe('a flush while the database is in use', () => {
  for (const cacheBytes of [1_000, 64 << 20]) {
    it(`settles with reads, writes, a transaction and live queries running meanwhile (cache ${cacheBytes} bytes)`, async () => {
      const engine = await Engine.open({ storage: 'memory', flushCheckIntervalMs: 0, rowGroupRows: 64, maxSegmentRows: 512, segmentCacheBytes: cacheBytes });
      open.push(engine);
      await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, v INT)');
      const t = engine.catalog.requireTable('app', 't');
      const changes: RowChange[] = [];
      for (let id = 0; id < 6000; id++) changes.push({ table: t, user: '', pkHash: hashKey(id), pk: id, row: Object.freeze([id, id % 10, engine.seq.next(), false]) });
      await engine.exclusive(() => engine.commit({ rows: changes }));

      let count: readonly Row[] = [];
      let top: readonly Row[] = [];
      const stopCount = await engine.openLive(root, 'SELECT COUNT(*) AS n FROM app.t', [], (r) => { count = r; }, (e) => { throw e; });
      const stopTop = await engine.openLive(root, 'SELECT id, v FROM app.t ORDER BY id DESC LIMIT 3', [], (r) => { top = r; }, (e) => { throw e; });

      await engine.execute(root, 'FLUSH TABLE app.t');
      const flushing = engine.jobs.idle();
      let done = false;
      void flushing.then(() => { done = true; });
      const tx = engine.beginTransaction('root', 'api');
      await engine.execute(root, 'UPDATE app.t SET v = 100 WHERE id = 10', [], tx);
      let i = 0;
      const work: Promise<unknown>[] = [];
      while (!done && i < 200) {
        const id = (i * 397) % 6000;
        work.push(rows(engine, `SELECT v FROM app.t WHERE id = ${id}`).then((r) => expect(r).toHaveLength(1)));
        if (i % 5 === 0) work.push(engine.execute(bob, `UPDATE app.t SET v = v + 1 WHERE id = ${(i * 13) % 6000}`));
        if (i % 7 === 0) work.push(engine.execute(bob, `INSERT INTO app.t (id, v) VALUES (${10_000 + i}, 1)`));
        if (i % 11 === 0) work.push(rows(engine, 'SELECT COUNT(*) AS n FROM app.t WHERE v >= 0'));
        i++;
        await new Promise((r) => setTimeout(r, 0));
      }
      await within(Promise.all(work), 15_000, 'the reads and writes');
      await within(flushing, 15_000, 'the flush');
      await within(engine.commitTransaction(tx), 5_000, 'the transaction commit');
      await within(engine.live.idle(), 5_000, 'the live queries');

      const inserted = (await rows(engine, 'SELECT COUNT(*) AS n FROM app.t WHERE id >= 10000'))[0].n as number;
      expect(await rows(engine, 'SELECT COUNT(*) AS n FROM app.t')).toEqual([{ n: 6000 + inserted }]);
      expect(count).toEqual([{ n: 6000 + inserted }]);
      expect(top.map((r) => r.id)).toEqual((await rows(engine, 'SELECT id FROM app.t ORDER BY id DESC LIMIT 3')).map((r) => r.id));
      expect(await rows(engine, 'SELECT v FROM app.t WHERE id = 10')).toEqual([{ v: 100 }]);
      expect(stat(engine, 'segments')).toBeGreaterThanOrEqual(12); // 6000 rows in segments of 512
      expect(stat(engine, 'segment_pins')).toBe(0);
      expect(stat(engine, 'segment_cache_pinned_bytes')).toBe(0);
      expect(stat(engine, 'segment_cache_bytes')).toBeLessThanOrEqual(cacheBytes);
      stopCount();
      stopTop();
    });
  }
});
