/**
 * The engine sides of the scale bench: `createClient({ name, storage, transport: 'worker' })`
 * — the engine in a dedicated worker of this page (so a cold start is a new
 * page and a new worker, and bench/scale-run.mjs reads that worker's heap
 * through the DevTools protocol), or with run.mjs --scale-transport=shared-worker
 * in a SharedWorker — driven with a `dba` session of the one
 * user on a USER table. Timed in the page around each client call, so every
 * figure includes the round trip to the worker.
 */
import { createClient, isKalamError, type ClientSession, type KalamClient, type Row, type Value } from '@kalamlite/worker';
import type { BenchRow } from './rows';
import {
  ENGINE_NAMESPACE,
  ENGINE_TABLE,
  SCALE_USER,
  SQL_COMPACT,
  SQL_COUNT,
  SQL_FILTER,
  SQL_FLUSH,
  SQL_INDEX,
  SQL_GROUP,
  SQL_LOOKUP,
  SQL_RANGE,
  quantiles,
  scaleRow,
  type AfterLoad,
  type CompactOptions,
  type CompactOutcome,
  type ScaleRow,
  type ScaleStore,
} from './scale';

const COLUMNS = ['id', 'category', 'score', 'title', 'created_at', 'user_id'] as const;

/** `INSERT … VALUES ($1, …, $6), (…)` for `rowCount` rows; one text per size, so the plan cache sees one shape. */
const statements = new Map<number, string>();
function insertSql(rowCount: number): string {
  let sql = statements.get(rowCount);
  if (sql === undefined) {
    const tuples: string[] = new Array(rowCount);
    for (let r = 0; r < rowCount; r++) {
      const p = r * COLUMNS.length;
      tuples[r] = `(${COLUMNS.map((_, c) => `$${p + c + 1}`).join(', ')})`;
    }
    sql = `INSERT INTO bench.items (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}`;
    statements.set(rowCount, sql);
  }
  return sql;
}

/** BIGINT travels as bigint (DIALECT.md wire mapping); TIMESTAMP as ms since the epoch. */
function insertParams(rows: readonly ScaleRow[]): Value[] {
  const params: Value[] = new Array(rows.length * COLUMNS.length);
  let p = 0;
  for (const row of rows) {
    params[p++] = BigInt(row.id);
    params[p++] = row.category;
    params[p++] = row.score;
    params[p++] = row.title;
    params[p++] = row.created_at;
    params[p++] = row.user_id;
  }
  return params;
}

function benchRow(row: Row | undefined): BenchRow | undefined {
  if (row === undefined) return undefined;
  return { id: Number(row.id), category: String(row.category), score: Number(row.score), title: String(row.title) };
}

const ACTIVE = new Set(['new', 'queued', 'running', 'retrying']);

interface JobRow {
  job_id: string;
  job_type: string;
  status: string;
  message: string;
  rows_affected: number;
  table: string | undefined;
  /** parameters.trigger of a flush job: 'manual', 'policy', or the engine's own. */
  trigger: string;
}

async function jobs(session: ClientSession): Promise<JobRow[]> {
  const { rows } = await session.query('SELECT job_id, job_type, status, parameters, message, rows_affected FROM system.jobs');
  return rows.map((r) => {
    let parameters = r.parameters as unknown;
    if (typeof parameters === 'string') {
      try {
        parameters = JSON.parse(parameters);
      } catch {
        parameters = undefined;
      }
    }
    const p = (parameters ?? {}) as { namespace_id?: unknown; table_name?: unknown; trigger?: unknown };
    return {
      job_id: String(r.job_id),
      job_type: String(r.job_type),
      status: String(r.status),
      message: String(r.message ?? ''),
      rows_affected: Number(r.rows_affected ?? 0),
      table: p.table_name === undefined ? undefined : `${String(p.namespace_id)}.${String(p.table_name)}`,
      trigger: String(p.trigger ?? '?'),
    };
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until no job of bench.items is queued or running; rejects once `deadline` (a performance.now() time) is past. */
async function waitForTableJobs(session: ClientSession, deadline: number, what: string): Promise<void> {
  for (;;) {
    const active = (await jobs(session)).filter((j) => ACTIVE.has(j.status) && j.table === 'bench.items');
    if (active.length === 0) return;
    if (performance.now() > deadline) {
      throw new Error(`timeout: ${what}: ${active.map((j) => `${j.job_type} job ${j.job_id} still ${j.status}`).join(', ')}`);
    }
    await sleep(20);
  }
}

/**
 * STORAGE FLUSH TABLE, waited for: the statement only queues a job, so this
 * polls system.jobs until no job of the table is queued or running. When the
 * answer is neither a new job nor "no pending writes" (a flush of the engine's
 * own was already running), it waits for that one and asks again, so every row
 * written before the call ends up in the cold tier. Rejects when a flush job of
 * the table failed, or after `timeoutMs`. The detail says what system.jobs holds
 * for the table (the engine may also flush on its own while rows arrive).
 */
async function flushAndWait(session: ClientSession, timeoutMs: number): Promise<{ ms: number; detail: string }> {
  const started = performance.now();
  const deadline = started + timeoutMs;
  let message = '';
  for (let round = 0; round < 20; round++) {
    [{ message }] = await session.execute(SQL_FLUSH);
    await waitForTableJobs(session, deadline, `${SQL_FLUSH} after ${(timeoutMs / 1000).toFixed(timeoutMs < 10_000 ? 1 : 0)} s`);
    if (/Job IDs?:/.test(message) || /no pending writes/.test(message)) break;
  }
  const ms = performance.now() - started;
  const flushes = (await jobs(session)).filter((j) => j.table === 'bench.items' && j.job_type === 'flush');
  const failed = flushes.find((j) => j.status !== 'completed' && j.status !== 'skipped');
  if (failed) throw new Error(`flush job ${failed.job_id} ended ${failed.status}: ${failed.message}`);
  const byTrigger = new Map<string, number>();
  for (const j of flushes) byTrigger.set(j.trigger, (byTrigger.get(j.trigger) ?? 0) + 1);
  const rows = flushes.reduce((sum, j) => sum + j.rows_affected, 0);
  const triggers = [...byTrigger].map(([t, n]) => `${n} ${t}`).join(', ');
  return { ms, detail: `"${message}"; system.jobs: ${flushes.length} flush job(s) of the table (${triggers}), ${rows} rows flushed in all` };
}

function notSupported(e: unknown): boolean {
  return isKalamError(e) && (e.code === 'PARSE_ERROR' || e.code === 'UNSUPPORTED' || e.code === 'INVALID_SQL');
}

/** Rows the compaction step updates across the key range before it flushes (see compactDuring). */
const COMPACT_SPREAD = 64;

export function engineStore(name: string, storage: 'idb' | 'opfs', transport: 'worker' | 'shared-worker' = 'worker'): ScaleStore {
  let client: KalamClient | undefined;
  let session: ClientSession;
  const single = insertSql(1);
  return {
    async open(create) {
      client = await createClient({ name, storage, transport });
      session = client.session({ user: SCALE_USER, role: 'dba' });
      if (create) {
        await session.execute(ENGINE_NAMESPACE);
        await session.execute(ENGINE_TABLE);
      }
    },
    async get(id) {
      const { rows } = await session.query(SQL_LOOKUP, [BigInt(id)]);
      return benchRow(rows[0]);
    },
    async insertBatch(rows) {
      return (await session.execute(insertSql(rows.length), insertParams(rows)))[0].rowCount;
    },
    async afterLoad(timeoutMs): Promise<AfterLoad> {
      const started = performance.now();
      const { ms, detail } = await flushAndWait(session, timeoutMs);
      // The index the peers build for the filtered query (Dexie's [category+score], SQLite's items_category_score): compact jobs (trigger index_build) write its records for the cold rows.
      const indexStarted = performance.now();
      await session.execute(SQL_INDEX);
      await waitForTableJobs(session, started + timeoutMs, SQL_INDEX);
      const failed = (await jobs(session)).find((j) => j.table === 'bench.items' && j.trigger === 'index_build' && j.status !== 'completed' && j.status !== 'skipped');
      if (failed) throw new Error(`${failed.job_type} job ${failed.job_id} (index_build) ended ${failed.status}: ${failed.message}`);
      const indexMs = performance.now() - indexStarted;
      return { what: 'flush', ms: performance.now() - started, detail: `flush ${Math.round(ms)} ms: ${detail}; then ${SQL_INDEX} ${Math.round(indexMs)} ms` };
    },
    async range(from, to) {
      const { rows } = await session.query(SQL_RANGE, [BigInt(from), BigInt(to)]);
      return rows.map((r) => Number(r.id));
    },
    async count() {
      const { rows } = await session.query(SQL_COUNT);
      return Number(rows[0]?.n);
    },
    async filtered(category) {
      const { rows } = await session.query(SQL_FILTER, [category]);
      return rows.map((r) => Number(r.id));
    },
    async groupBy() {
      const { rows } = await session.query(SQL_GROUP);
      return rows.map((r) => ({ category: String(r.category), n: Number(r.n), avg: Number(r.avg_score) }));
    },
    async insertOne(row) {
      await session.execute(single, insertParams([row]));
    },
    async compactDuring({ nextId, timeoutMs }: CompactOptions): Promise<CompactOutcome> {
      // New versions of COMPACT_SPREAD rows spread over the whole key range join the rows inserted since the cold
      // open: flushed, they make a segment overlapping every other, so the compaction merges the whole table (a
      // compaction of the new rows alone only moves one small segment and ends before an insert is timed).
      // First the table's level 0 segments are compacted (waited for), so the one flushed below is the only one and
      // queues no compaction of its own (compactL0Segments) that the flush's wait would see through.
      try {
        await session.execute(SQL_COMPACT);
        await waitForTableJobs(session, performance.now() + timeoutMs, `${SQL_COMPACT} before the timed one`);
      } catch (e) {
        if (!notSupported(e)) throw e;
      }
      const spread = Array.from({ length: COMPACT_SPREAD }, (_, k) => BigInt(1 + Math.floor(((nextId - 2) * k) / (COMPACT_SPREAD - 1))));
      await session.execute(`UPDATE bench.items SET score = score WHERE id IN (${spread.map((_, k) => `$${k + 1}`).join(', ')})`, spread);
      // The rows inserted or updated since the cold open are hot: flush them, so there are segments to compact.
      let flushMs = Number.NaN;
      try {
        flushMs = (await flushAndWait(session, timeoutMs)).ms;
      } catch (e) {
        if (!notSupported(e)) throw e;
      }
      const started = performance.now();
      let message: string;
      try {
        [{ message }] = await session.execute(SQL_COMPACT);
      } catch (e) {
        if (notSupported(e)) return { supported: false, detail: `${isKalamError(e) ? e.code : 'error'}: ${(e as Error).message}` };
        throw e;
      }
      // The flush may have queued a compaction of its own (compactL0Segments): then the inserts are timed against that one.
      const found = /Job IDs?: (\S+)/.exec(message) ?? /already queued or running .*\(job ([^)]+)\)/.exec(message);
      const jobId = found?.[1]?.replace(/,$/, '');
      if (jobId === undefined) return { supported: true, skipped: message, flushMs, compactMs: performance.now() - started, status: 'none', latency: undefined, inserted: 0 };
      // A poller watches the job while the loop below inserts one row at a time; only inserts that start while
      // the job is queued or running are counted.
      let status = 'queued';
      let pollError: unknown;
      const poller = (async () => {
        while (ACTIVE.has(status)) {
          try {
            const job = (await jobs(session)).find((j) => j.job_id === jobId);
            status = job?.status ?? 'gone';
          } catch (e) {
            pollError = e;
            status = 'poll failed';
          }
          if (ACTIVE.has(status)) await sleep(25);
        }
      })();
      const samples: number[] = [];
      let inserted = 0;
      while (ACTIVE.has(status) && performance.now() - started < timeoutMs) {
        const row = scaleRow(nextId + inserted);
        const t = performance.now();
        await session.execute(single, insertParams([row]));
        if (ACTIVE.has(status)) samples.push(performance.now() - t);
        inserted++;
      }
      if (ACTIVE.has(status)) throw new Error(`timeout after ${Math.round(timeoutMs / 1000)} s: compaction job ${jobId} still ${status} (${inserted} inserts meanwhile)`);
      await poller;
      if (pollError) throw pollError;
      return { supported: true, flushMs, compactMs: performance.now() - started, status, latency: quantiles(samples), inserted };
    },
    async stats() {
      const { rows } = await session.query('SELECT metric_name, metric_value FROM system.stats');
      return Object.fromEntries(rows.map((r) => [String(r.metric_name), String(r.metric_value)]));
    },
    async close() {
      await client?.close();
      client = undefined;
    },
  };
}
