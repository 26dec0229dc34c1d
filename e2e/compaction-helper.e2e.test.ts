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
import { expect, it } from 'vitest';
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
