/**
 * Compactions merge in a compaction helper worker in a real Chromium: the
 * worker client's dedicated worker starts its own script again as a nested
 * worker (COMPACTION_WORKER_NAME), which decodes, merges and encodes while
 * the engine's worker reads and writes the bytes; a SharedWorker's engine
 * has the page of a client start it. Over IndexedDB and OPFS:
 * rows updated and deleted across three flushes of a table with a
 * secondary index, compacted while single-row inserts go on, then the same
 * answers (counts, sums, an index read) as the rows the page wrote, before
 * and after a reopen — and `compaction_merges_offloaded` in system.stats
 * says the merge ran in the helper.
 */
import { expect, inject, it } from 'vitest';
import { clientPage } from './client-page';

const client = clientPage();

// A SharedWorker (IndexedDB only: OPFS's sync access handles need a dedicated worker) cannot start the helper in
// Chromium: the page of one of its clients starts it and hands it a MessagePort (tabs/compaction-relay.ts).
const cases = [
  ['idb', 'worker'],
  ['opfs', 'worker'],
  ['idb', 'shared-worker'],
] as const;

for (const [storage, transport] of cases) {
  it(`merges in the helper worker over ${storage} (transport '${transport}'): the same answers, inserts going on meanwhile, and after a reopen`, async () => {
    const result = await client.page.evaluate(async ([storage, transport]) => {
      type Worker = typeof import('@kalamlite/worker');
      const { createClient } = (window as unknown as { kalamlite: Worker }).kalamlite;
      const name = `compaction-helper-${storage}-${transport}-${Date.now()}`;
      const open = () => createClient({ name, storage, transport });
      let db = await open();
      let root = db.session({ user: 'root', role: 'system' });
      await root.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT); CREATE INDEX t_a ON app.t (a)');
      // The model: what the page wrote.
      const model = new Map<number, { a: number; b: string }>();
      for (let from = 0; from < 3000; from += 500) {
        const ids = Array.from({ length: 500 }, (_, k) => from + k);
        await root.execute(`INSERT INTO app.t (id, a, b) VALUES ${ids.map((id) => `(${id}, ${id % 97}, 'row ${id}')`).join(', ')}`);
        for (const id of ids) model.set(id, { a: id % 97, b: `row ${id}` });
      }
      await root.execute('STORAGE FLUSH TABLE app.t');
      const idle = async () => {
        for (;;) {
          const { rows } = await root.query("SELECT COUNT(*) AS n FROM system.jobs WHERE status IN ('new', 'queued', 'running', 'retrying')");
          if (Number(rows[0].n) === 0) return;
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await idle();
      await root.execute('UPDATE app.t SET a = 500 WHERE id % 7 = 0');
      for (const [id, row] of model) if (id % 7 === 0) row.a = 500;
      await root.execute('STORAGE FLUSH TABLE app.t');
      await idle();
      await root.execute('DELETE FROM app.t WHERE id % 11 = 0');
      for (const id of [...model.keys()]) if (id % 11 === 0) model.delete(id);
      await root.execute('STORAGE FLUSH TABLE app.t');
      await idle();
      const [{ message }] = await root.execute('STORAGE COMPACT TABLE app.t');
      const jobId = message.split('Job ID: ')[1];
      // Single-row inserts while the compaction runs.
      let status = 'queued';
      let inserted = 0;
      while (status !== 'completed' && status !== 'failed' && inserted < 2000) {
        const id = 10_000 + inserted++;
        await root.execute('INSERT INTO app.t (id, a, b) VALUES ($1, $2, $3)', [id, 1, `late ${id}`]);
        model.set(id, { a: 1, b: `late ${id}` });
        const { rows } = await root.query('SELECT status FROM system.jobs WHERE job_id = $1', [jobId]);
        status = String(rows[0]?.status);
      }
      await idle();
      const { rows: job } = await root.query('SELECT status, message FROM system.jobs WHERE job_id = $1', [jobId]);
      const stat = async (metric: string) => Number((await root.query('SELECT metric_value FROM system.stats WHERE metric_name = $1', [metric])).rows[0]?.metric_value);
      const answers = async () => {
        const count = Number((await root.query('SELECT COUNT(*) AS n, SUM(a) AS s FROM app.t')).rows[0].n);
        const sum = Number((await root.query('SELECT SUM(a) AS s FROM app.t')).rows[0].s);
        const indexed = (await root.query('SELECT id FROM app.t WHERE a = 500 ORDER BY id LIMIT 20')).rows.map((r) => Number(r.id));
        const some = (await root.query('SELECT id, a, b FROM app.t WHERE id IN (0, 7, 11, 14, 2999, 10000)')).rows.map((r) => `${r.id}:${r.a}:${r.b}`);
        return { count, sum, indexed, some };
      };
      const expected = {
        count: model.size,
        sum: [...model.values()].reduce((n, r) => n + r.a, 0),
        indexed: [...model.entries()].filter(([, r]) => r.a === 500).map(([id]) => id).sort((x, y) => x - y).slice(0, 20),
        some: [0, 7, 11, 14, 2999, 10000].filter((id) => model.has(id)).map((id) => `${id}:${model.get(id)!.a}:${model.get(id)!.b}`),
      };
      const during = await answers();
      const offloaded = await stat('compaction_merges_offloaded');
      const inProgress = await stat('compaction_outputs_in_progress');
      await db.close();
      db = await open();
      root = db.session({ user: 'root', role: 'system' });
      const reopened = await answers();
      await db.close();
      return { job: job[0], inserted, offloaded, inProgress, during, reopened, expected };
    }, [storage, transport] as const);
    expect(result.job.status).toBe('completed');
    expect(result.job.message).toMatch(/^Compacted 3 segment\(s\) of app\.t merged into/);
    expect(result.offloaded).toBeGreaterThan(0);
    expect(result.inProgress).toBe(0);
    expect(result.inserted).toBeGreaterThan(0);
    expect(result.during).toEqual(result.expected);
    expect(result.reopened).toEqual(result.expected);
  });
}

it("merges through another page once the page that started a SharedWorker's helper closes, mid-compaction or not: the job ends well before the 60 s a silent helper gets, and no row is lost", async () => {
  type Worker = typeof import('@kalamlite/worker');
  type Win = { kalamlite: Worker; relayDb?: Awaited<ReturnType<Worker['createClient']>> };
  const name = `compaction-relay-close-${Date.now()}`;
  const rows = 60_000;
  const pageA = client.page;
  const pageB = await pageA.context().newPage();
  try {
    await pageB.goto(inject('crashUrl'));
    await pageB.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
    // A writes three overlapping flushes, so the compaction merges the whole table.
    await pageA.evaluate(
      async ([name, rows]) => {
        const w = window as unknown as Win;
        // Only STORAGE COMPACT compacts (compactL0Segments 0): no compaction the flushes queue can race the one timed here.
        const db = (w.relayDb = await w.kalamlite.createClient({ name, storage: 'idb', transport: 'shared-worker', engine: { compactL0Segments: 0 } }));
        const root = db.session({ user: 'root', role: 'system' });
        await root.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT)');
        const idle = async () => {
          for (;;) {
            const { rows: n } = await root.query("SELECT COUNT(*) AS n FROM system.jobs WHERE status IN ('new', 'queued', 'running', 'retrying')");
            if (Number(n[0].n) === 0) return;
            await new Promise((r) => setTimeout(r, 20));
          }
        };
        for (let round = 0; round < 3; round++) {
          for (let from = round; from < rows; from += 3000) {
            const ids = Array.from({ length: 1000 }, (_, k) => from + 3 * k).filter((id) => id < rows);
            await root.execute(`INSERT INTO app.t (id, a, b) VALUES ${ids.map((id) => `(${id}, ${id % 97}, 'row ${id} of a longer text')`).join(', ')}`);
          }
          await root.execute('STORAGE FLUSH TABLE app.t');
          await idle();
        }
      },
      [name, rows] as const,
    );
    // B attaches last: its page is the one asked to start the helper.
    await pageB.evaluate(async (name) => {
      const w = window as unknown as Win;
      w.relayDb = await w.kalamlite.createClient({ name, storage: 'idb', transport: 'shared-worker', engine: { compactL0Segments: 0 } });
    }, name);
    const started = await pageA.evaluate(async () => {
      const root = (window as unknown as Win).relayDb!.session({ user: 'root', role: 'system' });
      const [{ message }] = await root.execute('STORAGE COMPACT TABLE app.t');
      const jobId = message.split('Job ID: ')[1];
      if (jobId === undefined) throw new Error(`no job: ${message}`);
      return jobId;
    });
    await pageB.close();
    const ended = await pageA.evaluate(async (jobId) => {
      const root = (window as unknown as Win).relayDb!.session({ user: 'root', role: 'system' });
      const t0 = performance.now();
      for (;;) {
        const { rows } = await root.query('SELECT status FROM system.jobs WHERE job_id = $1', [jobId]);
        const status = String(rows[0]?.status);
        if (status === 'completed' || status === 'failed') return { status, ms: performance.now() - t0 };
        await new Promise((r) => setTimeout(r, 50));
      }
    }, started);
    expect(['completed', 'failed']).toContain(ended.status);
    expect(ended.ms).toBeLessThan(30_000);
    // A compaction now merges through page A's helper, and every row is there.
    const after = await pageA.evaluate(async () => {
      const db = (window as unknown as Win).relayDb!;
      const root = db.session({ user: 'root', role: 'system' });
      const stat = async () => Number((await root.query("SELECT metric_value FROM system.stats WHERE metric_name = 'compaction_merges_offloaded'")).rows[0]?.metric_value);
      const before = await stat();
      const idle = async () => {
        for (;;) {
          const { rows: n } = await root.query("SELECT COUNT(*) AS n FROM system.jobs WHERE status IN ('new', 'queued', 'running', 'retrying')");
          if (Number(n[0].n) === 0) return;
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await idle();
      await root.execute('UPDATE app.t SET a = 1000 WHERE id % 1000 = 0');
      await root.execute('STORAGE FLUSH TABLE app.t');
      await idle();
      const [{ message }] = await root.execute('STORAGE COMPACT TABLE app.t');
      await idle();
      const jobId = message.split('Job ID: ')[1];
      if (jobId === undefined) throw new Error(`no job: ${message}`);
      const { rows: job } = await root.query('SELECT status FROM system.jobs WHERE job_id = $1', [jobId]);
      const status = String(job[0]?.status);
      const { rows } = await root.query('SELECT COUNT(*) AS n, SUM(a) AS s FROM app.t');
      const offloaded = (await stat()) - before;
      await db.close();
      return { status, n: Number(rows[0].n), s: Number(rows[0].s), offloaded };
    });
    const sum = Array.from({ length: rows }, (_, id) => (id % 1000 === 0 ? 1000 : id % 97)).reduce((x, y) => x + y, 0);
    expect({ status: after.status, n: after.n, s: after.s }).toEqual({ status: 'completed', n: rows, s: sum });
    expect(after.offloaded).toBeGreaterThan(0);
  } finally {
    if (!pageB.isClosed()) await pageB.close();
  }
}, 120_000);
