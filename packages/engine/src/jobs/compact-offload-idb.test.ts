/**
 * A compaction helper over IndexedDB (fake-indexeddb as the global
 * indexedDB here): it opens the database itself, reads the inputs' row
 * groups and writes the outputs' bytes through its own connection; the
 * engine's thread only commits the entries, swaps and deletes.
 */
import 'fake-indexeddb/auto';
import { afterEach, expect, it } from 'vitest';
import { Engine } from '../execute/engine';
import { compact, expectClean, flush, insert, range, root, rows, SMALL, stat } from './compact.fixture';
import { allRows as all, cleanUp, compactJob, expectUnchanged, inProcessHelper, interleavedFlushes, killRunningCompaction } from './compact-offload.fixture';
import type { FromHelper } from './compact-wire';
import { useCompactionWorker } from './compaction-worker';

let open: Engine[] = [];
afterEach(() => cleanUp(open));


it('reads and writes the segment bytes itself: the engine\'s thread reads no input group and writes no output byte', async () => {
  const sent: FromHelper['type'][] = [];
  const segmentsWithBytes: number[] = [];
  useCompactionWorker(() =>
    inProcessHelper({
      fromHelper: (m) => {
        sent.push(m.type);
        if (m.type === 'segment') segmentsWithBytes.push(m.bytes?.length ?? 0);
      },
    }),
  );
  const name = `offload-${Date.now()}`;
  let engine = await Engine.open({ storage: 'idb', name, ...SMALL, compactL0Segments: 0 });
  open.push(engine);
  expect(engine.segmentsIdb).toEqual({ name, durability: 'relaxed' });
  await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT); CREATE INDEX t_a ON app.t (a)');
  for (let round = 0; round < 3; round++) {
    await insert(engine, range(round, 90, 3), round);
    await engine.execute(root, `UPDATE app.t SET a = 9 WHERE id % 10 = ${round}`);
    await flush(engine);
  }
  await engine.execute(root, 'DELETE FROM app.t WHERE id % 13 = 0');
  await flush(engine);
  const before = await all(engine);
  const message = await compact(engine);
  const [job] = await rows(engine, `SELECT status FROM system.jobs WHERE job_id = '${message.split('Job ID: ')[1]}'`);
  expect(job.status).toBe('completed');
  expect(stat(engine, 'compaction_merges_offloaded')).toBeGreaterThan(0);
  expect(sent).not.toContain('read');
  expect(segmentsWithBytes.length).toBeGreaterThan(0);
  expect(segmentsWithBytes.every((n) => n === 0)).toBe(true);
  expect(stat(engine, 'compaction_group_loads')).toBe(0);
  expect(await all(engine)).toEqual(before);
  const indexed = await rows(engine, 'SELECT id FROM app.t WHERE a = 9 ORDER BY id');
  expect(indexed).toEqual(before.filter((r) => r.a === 9).map((r) => ({ id: r.id })));
  await expectClean(engine);
  // Reopened: the helper's bytes are there.
  await engine.close();
  open = [];
  engine = await Engine.open({ storage: 'idb', name, ...SMALL, compactL0Segments: 0 });
  open.push(engine);
  expect(await all(engine)).toEqual(before);
  await expectClean(engine);
});

it('KILL JOB stops a helper that asks nothing of the engine\'s thread meanwhile; what it wrote is removed', async () => {
  let engine!: Engine;
  let killed = false;
  useCompactionWorker(() =>
    inProcessHelper({
      fromHelper: (m) => {
        if (m.type === 'segment' && !killed) {
          killed = true;
          killRunningCompaction(engine);
        }
      },
    }),
  );
  engine = await Engine.open({ storage: 'idb', name: `offload-kill-${Date.now()}`, ...SMALL, compactL0Segments: 0, maxSegmentRows: 8 });
  open.push(engine);
  await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT)');
  const snapshot = await interleavedFlushes(engine, 90);
  const job = await compactJob(engine);
  expect(killed).toBe(true);
  expect(job.status).toBe('cancelled');
  await expectUnchanged(engine, snapshot);
});
