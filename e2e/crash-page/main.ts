/**
 * The crash harness: opens the database in a dedicated worker this page
 * owns, fires batches of writes without awaiting them, records each batch
 * when its write is acknowledged, and can terminate the worker at any moment
 * (`kill()` returns the acknowledged batches in the same synchronous step).
 *
 * Every row carries its batch number and the batch's row count, so a check
 * can tell a whole batch from a partial one. BEGIN…COMMIT batches also mark
 * their rows `touched` with an UPDATE inside the transaction.
 */
import { createClient, type ClientSession, type ClientStorage, type KalamClient } from '@kalamlite/worker';

/** Which background jobs an iteration starts among its writes. */
export type CrashJobs = 'none' | 'flush' | 'compact';

interface BatchCount {
  batch: number;
  size: number;
  rows: number;
  touched: number;
}

export interface CrashHarness {
  open(storage: ClientStorage, name: string): Promise<BatchCount[]>;
  /**
   * Fires `count` batches. With `jobs` 'flush', a FLUSH TABLE is started among them (a flush in progress at
   * the kill); with 'compact', a STORAGE COMPACT TABLE is started too, at another random batch.
   */
  start(firstBatch: number, count: number, seed: number, jobs?: CrashJobs): void;
  /** Segments in system.manifest for crash.rows (how many flushes completed), and how many of them compactions wrote (level 1 or more). */
  segments(): Promise<{ segments: number; compacted: number }>;
  acked(): number[];
  kill(): number[];
  flush(): Promise<string>;
  /** Milliseconds one statement takes (diagnostics). */
  time(sql: string): Promise<number>;
}

let worker: Worker | undefined;
let client: KalamClient | undefined;
let session: ClientSession | undefined;
let acked: number[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function openClient(storage: ClientStorage, name: string): Promise<KalamClient> {
  // A terminated worker's OPFS file handles are released asynchronously: retry while the file is still locked.
  for (let attempt = 0; ; attempt++) {
    worker = new Worker(new URL('../../packages/worker/src/worker.ts', import.meta.url), { type: 'module' });
    try {
      return await createClient({ name, storage, worker });
    } catch (e) {
      worker.terminate();
      const message = e instanceof Error ? e.message : String(e);
      if (attempt < 40 && /another tab|locked/i.test(message)) {
        console.debug(`reopen attempt ${attempt + 1}: ${message}`);
        await sleep(50);
        continue;
      }
      throw e;
    }
  }
}

function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

function insertSql(batch: number, from: number, n: number, size: number, payload: string): string {
  const values: string[] = [];
  for (let j = from; j < from + n; j++) values.push(`(${batch * 1000 + j}, ${batch}, ${size}, '${payload}', false)`);
  return `INSERT INTO crash.rows (id, batch, size, payload, touched) VALUES ${values.join(', ')}`;
}

const harness: CrashHarness = {
  async open(storage, name) {
    acked = [];
    client = await openClient(storage, name);
    const admin = client.session({ user: 'root', role: 'dba' });
    await admin.execute(`CREATE NAMESPACE IF NOT EXISTS crash;
      CREATE USER TABLE IF NOT EXISTS crash.rows (id BIGINT PRIMARY KEY, batch INT NOT NULL, size INT NOT NULL, payload TEXT, touched BOOLEAN)`);
    session = client.session({ user: 'writer' });
    // Arrow (the cold tier's segment format) loads on first use: load it now, so the first FLUSH of this worker
    // writes as soon as it starts instead of after fetching and compiling it, and kills land during flushes.
    const probe = await admin.queryArrow('SELECT 1 AS x');
    if (probe.numRows !== 1) throw new Error(`queryArrow returned ${probe.numRows} rows`);
    // FLUSH TABLE's executor loads on first use too: load it now (a KILL JOB of no job runs through it, and only
    // says there is none), for the same reason.
    await admin.execute("KILL JOB 'FL-none'").catch((e: unknown) => {
      if ((e as { code?: string }).code === 'VERSION_MISMATCH') throw e;
    });
    const result = await session.query(
      'SELECT batch, size, COUNT(*) AS n, SUM(CASE WHEN touched THEN 1 ELSE 0 END) AS t FROM crash.rows GROUP BY batch, size ORDER BY batch',
    );
    document.getElementById('status')!.textContent = 'open';
    return result.rows.map((r) => ({ batch: Number(r.batch), size: Number(r.size), rows: Number(r.n), touched: Number(r.t) }));
  },

  start(firstBatch, count, seed, jobs = 'none') {
    const s = session;
    if (!s || !client) throw new Error('open() first');
    const admin = client.session({ user: 'root', role: 'dba' });
    const next = random(seed);
    const flushAt = jobs !== 'none' ? firstBatch + Math.floor(next() * count) : -1;
    const compactAt = jobs === 'compact' ? firstBatch + Math.floor(next() * count) : -1;
    void (async () => {
      for (let b = firstBatch; b < firstBatch + count; b++) {
        if (b === flushAt) admin.execute('FLUSH TABLE crash.rows').catch(() => undefined);
        // Queued behind a flush (or run alone); a kill lands before, during or after its steps.
        if (b === compactAt) admin.execute('STORAGE COMPACT TABLE crash.rows').catch(() => undefined);
        const payload = 'p'.repeat(Math.floor(next() * 600));
        // Three fixed shapes, so each new worker plans each shape once (rows differ only in literals).
        const shape = next();
        let sql: string;
        if (shape < 0.35) sql = insertSql(b, 0, 10, 10, payload);
        else if (shape < 0.6) sql = insertSql(b, 0, 3, 3, payload);
        else sql = `BEGIN; ${insertSql(b, 0, 4, 6, payload)}; ${insertSql(b, 4, 2, 6, payload)}; UPDATE crash.rows SET touched = true WHERE batch = ${b}; COMMIT`;
        const batch = b;
        s.execute(sql).then(
          () => void acked.push(batch),
          // A write cut off by a kill never settles (its worker is gone); a rejection is a real failure.
          (e: unknown) => console.error(`batch ${batch} failed: ${e instanceof Error ? e.message : String(e)}`),
        );
        // Mostly several batches per tick (group commit), sometimes a pause.
        if (next() < 0.3) await sleep(Math.floor(next() * 4));
      }
    })();
  },

  acked: () => acked.slice(),

  async segments() {
    const admin = client!.session({ user: 'root', role: 'dba' });
    const r = await admin.query(
      `SELECT COUNT(*) AS n, SUM(CASE WHEN level >= 1 THEN 1 ELSE 0 END) AS c FROM system.manifest WHERE namespace_id = 'crash' AND table_name = 'rows'`,
    );
    return { segments: Number(r.rows[0].n), compacted: Number(r.rows[0].c ?? 0) };
  },

  async time(sql) {
    const t = performance.now();
    await session!.execute(sql);
    return performance.now() - t;
  },

  kill() {
    const done = acked.slice();
    worker?.terminate();
    worker = undefined;
    client = undefined;
    session = undefined;
    return done;
  },

  async flush() {
    const admin = client!.session({ user: 'root', role: 'dba' });
    const [r] = await admin.execute('FLUSH TABLE crash.rows');
    return r.message;
  },
};

(window as unknown as { crash: CrashHarness }).crash = harness;
// For tests of clients on the origin's shared engine (SharedWorker or leader tab): close, then open again.
// For tests that kill the worker mid-call (an import cut off): a client over this page's own worker, which kill() terminates.
const openWorkerClient = async (storage: ClientStorage, name: string): Promise<KalamClient> => (client = await openClient(storage, name));
(window as unknown as { kalamlite: { createClient: typeof createClient; openWorkerClient: typeof openWorkerClient } }).kalamlite = { createClient, openWorkerClient };
document.getElementById('status')!.textContent = 'ready';
