/**
 * A compaction's merge in a compaction helper worker (compact-offload.ts,
 * compact-helper.ts): here the helper is served in this process over a
 * MessageChannel (startCompactionHelper on one port, the engine on the
 * other), so the messages, transfers and failures are the real ones; the
 * browser runs it in a worker (e2e/compaction-helper.e2e.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, type OpenOptions } from '../execute/engine';
import { allRows as all, cleanUp, compactJob, expectUnchanged, inProcessHelper, interleavedFlushes, killRunningCompaction } from './compact-offload.fixture';
import { useCompactionWorker } from './compaction-worker';
import { compact, expectClean, expectSortedRun, flush, insert, range, root, rows, SMALL, stat } from './compact.fixture';

let open: Engine[] = [];
afterEach(() => cleanUp(open));

async function engineWith(options: Partial<OpenOptions> = {}, ddl = 'CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT)'): Promise<Engine> {
  const engine = await Engine.open({ storage: 'memory', ...SMALL, compactL0Segments: 0, ...options });
  open.push(engine);
  await engine.execute(root, `CREATE NAMESPACE app; ${ddl}`);
  return engine;
}

const tableId = (engine: Engine) => engine.catalog.requireTable('app', 't').id;

/** Three overlapping flushes with updates and deletes: a compaction merges them (60 versions of 42 keys). */
async function overlapping(engine: Engine): Promise<void> {
  await insert(engine, range(0, 40, 2));
  await flush(engine);
  await insert(engine, range(1, 41, 2));
  await engine.execute(root, 'UPDATE app.t SET a = 7 WHERE id < 10');
  await flush(engine);
  await engine.execute(root, 'UPDATE app.t SET a = 9 WHERE id BETWEEN 5 AND 15');
  await engine.execute(root, 'DELETE FROM app.t WHERE id IN (3, 30)');
  await flush(engine);
}

const manifestShape = (engine: Engine) => engine.cold.manifest.all().map((m) => [m.level, m.row_count, m.groups!.rows.join(','), m.size_bytes, m.tombstones]).sort();

describe('a compaction helper worker', () => {
  it('runs the merge: the same segments, rows and answers as a merge in the engine\'s thread', async () => {
    const here = await engineWith();
    await overlapping(here);
    await compact(here);
    let created = 0;
    useCompactionWorker(() => {
      created++;
      return inProcessHelper();
    });
    const there = await engineWith();
    await overlapping(there);
    const before = await all(there);
    const message = await compact(there);
    const [job] = await rows(there, `SELECT status, message FROM system.jobs WHERE job_id = '${message.split('Job ID: ')[1]}'`);
    expect(job.status).toBe('completed');
    const [theirs] = await rows(here, "SELECT message FROM system.jobs WHERE job_type = 'compact'");
    expect(job.message).toBe(theirs.message);
    expect(job.message).toMatch(/^Compacted 5 segment\(s\) of app\.t merged into 3 \(60 row\(s\) read, 18 shadowed version\(s\)/);
    expect([stat(there, 'compaction_merges_offloaded'), stat(here, 'compaction_merges_offloaded'), created]).toEqual([1, 0, 1]);
    expect(manifestShape(there)).toEqual(manifestShape(here));
    expect(await all(there)).toEqual(before);
    expect(await all(there)).toEqual(await all(here));
    expectSortedRun(there, tableId(there), '');
    expect(stat(there, 'compaction_outputs_in_progress')).toBe(0);
    await expectClean(there);
    // Point reads through the outputs' row pages, and a second compaction through the same helper.
    expect(await rows(there, 'SELECT a, b FROM app.t WHERE id = 7')).toEqual([{ a: 9, b: 'r7' }]);
    await insert(there, [100, 101]);
    await there.execute(root, 'UPDATE app.t SET a = 1 WHERE id < 4');
    await flush(there);
    await compact(there);
    expect([stat(there, 'compaction_merges_offloaded'), created]).toEqual([2, 1]);
    expect(await rows(there, 'SELECT COUNT(*) AS n FROM app.t')).toEqual([{ n: 42 }]);
  });

  it('writes the outputs\' index records: reads through the index answer as the table without one', async () => {
    useCompactionWorker(() => inProcessHelper());
    const engine = await engineWith({}, `CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT);
      CREATE SHARED TABLE app.plain (id INT PRIMARY KEY, a INT, b TEXT); CREATE INDEX t_a ON app.t (a)`);
    for (const table of ['app.t', 'app.plain']) {
      await insert(engine, range(0, 30), 0, table);
      await engine.execute(root, `UPDATE ${table} SET a = id % 7 WHERE id >= 0`);
      await flush(engine, table);
      await engine.execute(root, `UPDATE ${table} SET a = 3 WHERE id > 20`);
      await flush(engine, table);
      await compact(engine, table);
    }
    expect(stat(engine, 'compaction_merges_offloaded')).toBe(2);
    for (const m of engine.cold.manifest.segments(tableId(engine), '')) expect(m.index_records?.map((r) => r.name)).toEqual(['t_a']);
    const reads = stat(engine, 'index_cold_reads') as number;
    const q = (t: string) => rows(engine, `SELECT id, a FROM ${t} WHERE a BETWEEN 2 AND 3 ORDER BY a, id LIMIT 12`);
    expect(await q('app.t')).toEqual(await q('app.plain'));
    expect(stat(engine, 'index_cold_reads')).toBe(reads + 1);
  });

  it('KILL JOB during the merge: the helper stops, what it wrote is removed, the data stays as it was', async () => {
    let engine!: Engine;
    let killed = false;
    useCompactionWorker(() =>
      inProcessHelper({
        fromHelper: (m) => {
          // Once the first output is written, the job is killed while the helper goes on.
          if (m.type === 'read' && !killed && (stat(engine, 'compaction_outputs_in_progress') as number) > 0) {
            killed = true;
            killRunningCompaction(engine);
          }
        },
      }),
    );
    engine = await engineWith({ maxSegmentRows: 8 });
    const snapshot = await interleavedFlushes(engine, 60);
    const job = await compactJob(engine);
    expect(killed).toBe(true);
    expect(job.status).toBe('cancelled');
    await expectUnchanged(engine, snapshot);
    expect(stat(engine, 'compaction_merges_offloaded')).toBe(0);
  });

  it('a helper that dies during a merge fails the job, its outputs are removed, and the next compaction starts a new helper', async () => {
    let created = 0;
    useCompactionWorker(() => {
      const first = ++created === 1;
      let written = 0;
      return inProcessHelper({
        fromHelper: (m, worker) => {
          if (first && m.type === 'segment' && ++written === 2) {
            worker.fail('out of memory');
            return false;
          }
        },
      });
    });
    const engine = await engineWith({ maxSegmentRows: 8 });
    const snapshot = await interleavedFlushes(engine, 60);
    const job = await compactJob(engine);
    expect(job.status).toBe('failed');
    expect(job.message).toMatch(/out of memory/);
    await expectUnchanged(engine, snapshot);
    await compact(engine);
    expect(created).toBe(2);
    expect(stat(engine, 'compaction_merges_offloaded')).toBeGreaterThan(0);
    expect(await all(engine)).toEqual(snapshot.before);
    await expectClean(engine);
  });

  it('a helper that never starts leaves merges in the engine\'s thread, and is not started again', async () => {
    let created = 0;
    useCompactionWorker(() => {
      created++;
      const worker = inProcessHelper({ fromHelper: () => false });
      setTimeout(() => worker.fail('the script did not load'), 0);
      return worker;
    });
    const engine = await engineWith();
    await overlapping(engine);
    const before = await all(engine);
    await compact(engine);
    expect(await all(engine)).toEqual(before);
    expect([created, stat(engine, 'compaction_merges_offloaded'), stat(engine, 'compactions')]).toEqual([1, 0, 1]);
    await insert(engine, [200]);
    await flush(engine);
    await compact(engine);
    expect([created, stat(engine, 'compactions')]).toEqual([1, 2]);
    await expectClean(engine);
  });

  it('a helper that fails a merge before asking or writing anything leaves that merge to the engine\'s thread', async () => {
    let merges = 0;
    useCompactionWorker(() => {
      const listeners: ((e: MessageEvent) => void)[] = [];
      return {
        postMessage(m) {
          const { type, id } = m as { type: string; id: number };
          if (type !== 'merge') return;
          merges++;
          setTimeout(() => listeners.forEach((l) => l(new MessageEvent('message', { data: { type: 'error', id, error: { code: 'STORAGE_ERROR', message: 'the database would not open here' } } }))), 0);
        },
        addEventListener(type, listener) {
          if (type === 'message') listeners.push(listener as (e: MessageEvent) => void);
        },
        terminate: () => undefined,
      };
    });
    const engine = await engineWith();
    await overlapping(engine);
    const before = await all(engine);
    const message = await compact(engine);
    const [job] = await rows(engine, `SELECT status FROM system.jobs WHERE job_id = '${message.split('Job ID: ')[1]}'`);
    expect(job.status).toBe('completed');
    expect(merges).toBeGreaterThan(0);
    expect([stat(engine, 'compaction_merges_offloaded'), stat(engine, 'compactions')]).toEqual([0, 1]);
    expect(await all(engine)).toEqual(before);
    await expectClean(engine);
  });

  it('a table with DECIMAL or INTERVAL columns merges in the engine\'s thread (their values are classes)', async () => {
    let created = 0;
    useCompactionWorker(() => {
      created++;
      return inProcessHelper();
    });
    const engine = await engineWith({}, 'CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a DECIMAL(10, 2), b TEXT)');
    await engine.execute(root, `INSERT INTO app.t (id, a, b) VALUES ${range(0, 20).map((i) => `(${i}, ${i}.25, 'x')`).join(', ')}`);
    await flush(engine);
    await engine.execute(root, 'UPDATE app.t SET a = a * 2 WHERE id < 5');
    await flush(engine);
    const before = await rows(engine, 'SELECT id, a FROM app.t ORDER BY id');
    await compact(engine);
    expect([created, stat(engine, 'compaction_merges_offloaded'), stat(engine, 'compactions')]).toEqual([0, 0, 1]);
    expect(await rows(engine, 'SELECT id, a FROM app.t ORDER BY id')).toEqual(before);
  });

  it('drops tombstones past retention in the helper as in the engine\'s thread', async () => {
    useCompactionWorker(() => inProcessHelper());
    const engine = await engineWith({}, 'CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT) WITH (DELETED_RETENTION_HOURS = 0)');
    await insert(engine, range(1, 12));
    await flush(engine);
    await engine.execute(root, 'DELETE FROM app.t WHERE id IN (3, 7)');
    await flush(engine);
    await new Promise((r) => setTimeout(r, 3));
    await compact(engine);
    expect([stat(engine, 'compaction_merges_offloaded'), stat(engine, 'compaction_tombstones_purged')]).toEqual([1, 2]);
    expect((await all(engine)).map((r) => r.id)).toEqual([1, 2, 4, 5, 6, 8, 9, 10, 11, 12]);
    expect(engine.cold.manifest.all().reduce((n, m) => n + (m.tombstones ?? 0), 0)).toBe(0);
    await expectClean(engine);
  });
});
