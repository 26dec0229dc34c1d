/**
 * An engine side of the tiers bench (storage 'idb' or 'opfs', the client's
 * default transport: a SharedWorker for IndexedDB, a leader tab's worker for
 * OPFS), timed in the page around calls on the `@kalamlite/worker` client
 * (so every figure includes the Comlink round trip and the structured clone,
 * as in engine-suite.ts). The large load runs
 * `FLUSH TABLE` halfway, so the query figures read half the rows from the
 * cold tier and half from the hot tier; where the engine has no FLUSH TABLE
 * the outcome says so and the figures are hot-only.
 */
import { createClient, isKalamError, type ClientSession, type KalamClient, type Row } from '@kalamlite/worker';
import type { Check } from './results';
import { queryParams, rowFor, rowsFrom, seededRandom } from './rows';
import { CREATE_NAMESPACE, CREATE_TABLE, FILTERED_QUERY, LOOKUP, insertParams, insertStatement } from './sql';
import {
  COUNT_QUERY,
  FLUSH,
  GROUP_QUERY,
  type EngineStorage,
  type EngineTiersResults,
  type FlushOutcome,
  type GroupRow,
  type TiersConfig,
  type TiersSamples,
} from './tiers';

export type EngineTiersSamples = Omit<TiersSamples, 'coldOpenMs'>;

export interface EngineTiersOutcome {
  samples: EngineTiersSamples;
  flush: FlushOutcome;
  arrow: EngineTiersResults['arrow'];
}

/** Which engine a side runs, and its name in checks and progress lines ('engine/idb', 'engine/opfs'). */
export interface EngineSide {
  storage: EngineStorage;
  label: string;
}

async function openBench(side: EngineSide, name: string): Promise<{ client: KalamClient; session: ClientSession }> {
  const client = await createClient({ name, storage: side.storage });
  const session = client.session({ user: 'bench', role: 'dba' });
  await session.execute(CREATE_NAMESPACE);
  await session.execute(CREATE_TABLE);
  return { client, session };
}

async function timed<T>(samples: number[] | null, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await run();
  samples?.push(performance.now() - started);
  return result;
}

/** Writes rows [first, first + count) as multi-row INSERTs of `batchSize`; statements are built before the clock starts. */
async function load(session: ClientSession, config: TiersConfig, first: number, count: number): Promise<{ ms: number; affected: number }> {
  const batches: { sql: string; params: ReturnType<typeof insertParams> }[] = [];
  for (let offset = 0; offset < count; offset += config.batchSize) {
    const rows = rowsFrom(config.seed, first + offset, Math.min(config.batchSize, count - offset));
    batches.push({ sql: insertStatement(rows.length), params: insertParams(rows) });
  }
  let affected = 0;
  const started = performance.now();
  for (const { sql, params } of batches) affected += (await session.execute(sql, params))[0].rowCount;
  return { ms: performance.now() - started, affected };
}

const CLOSE_TIMEOUT_MS = 5_000;

/**
 * Closes a client, but gives up after CLOSE_TIMEOUT_MS and records a failed
 * check instead of hanging the whole bench (the worker is then left behind).
 */
async function closeClient(side: EngineSide, client: KalamClient, checks: Check[], label: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const closed = await Promise.race([
    client.close().then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS))),
  ]).finally(() => clearTimeout(timer));
  if (!closed) checks.push({ name: `${side.label} client.close() of the ${label} finishes`, ok: false, detail: `still pending after ${CLOSE_TIMEOUT_MS / 1000} s` });
}

function lookupIds(config: TiersConfig, present: number, salt: number): number[] {
  const random = seededRandom(config.seed ^ salt);
  const ids: number[] = [];
  for (let i = 0; i < config.warmup + config.lookups; i++) ids.push(1 + Math.floor(random() * present));
  return ids;
}

/** Whether a result row is the bench row `id` as written. */
export function isRowFor(config: TiersConfig, id: number, row: Row | undefined): boolean {
  const want = rowFor(config.seed, id);
  return row !== undefined && row.id === BigInt(id) && row.category === want.category && row.score === want.score && row.title === want.title;
}

async function lookups(side: EngineSide, session: ClientSession, config: TiersConfig, ids: number[], checks: Check[], label: string): Promise<number[]> {
  const samples: number[] = [];
  let wrong = 0;
  for (let i = 0; i < ids.length; i++) {
    const { rows } = await timed(i < config.warmup ? null : samples, () => session.query(LOOKUP, [BigInt(ids[i])]));
    if (rows.length !== 1 || !isRowFor(config, ids[i], rows[0])) wrong++;
  }
  checks.push({ name: `${side.label} ${label} lookups return the row written`, ok: wrong === 0, detail: `${wrong} wrong of ${ids.length}` });
  return samples;
}

const FLUSH_TIMEOUT_MS = 120_000;

function log(side: EngineSide, message: string): void {
  console.log(`[bench] tiers: ${side.label} ${message}`);
}

/**
 * Runs FLUSH TABLE and waits for its job to finish (the statement only
 * starts it), so the figures after it read the cold tier. The time is the
 * statement plus the job.
 */
async function flushTable(session: ClientSession): Promise<FlushOutcome> {
  const started = performance.now();
  let message: string;
  try {
    [{ message }] = await session.execute(FLUSH);
  } catch (e) {
    if (isKalamError(e) && (e.code === 'PARSE_ERROR' || e.code === 'UNSUPPORTED' || e.code === 'INVALID_SQL')) {
      return { available: false, ms: Number.NaN, detail: `${e.code}: ${e.message}` };
    }
    throw e;
  }
  const job = /Job ID: (\S+)/.exec(message)?.[1];
  if (job === undefined) return { available: true, ms: performance.now() - started, detail: message };
  for (;;) {
    const { rows } = await session.query('SELECT status, message, rows_affected FROM system.jobs WHERE job_id = $1', [job]);
    const status = String(rows[0]?.status);
    if (status !== 'running' && status !== 'queued' && status !== 'new' && status !== 'retrying') {
      const ms = performance.now() - started;
      if (status !== 'completed') throw new Error(`flush job ${job} ended ${status}: ${String(rows[0]?.message)}`);
      return { available: true, ms, detail: `job ${job} ${status}, ${String(rows[0]?.rows_affected)} rows` };
    }
    if (performance.now() - started > FLUSH_TIMEOUT_MS) throw new Error(`flush job ${job} still ${status} after ${FLUSH_TIMEOUT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function engineTiers(side: EngineSide, smallName: string, largeName: string, config: TiersConfig, checks: Check[]): Promise<EngineTiersOutcome> {
  // Small database: bulk insert, single-row inserts, lookups.
  log(side, 'small database');
  let { client, session } = await openBench(side, smallName);
  let bulkMs: number;
  let singleMs: number[];
  let lookupMs: number[];
  try {
    const bulk = await load(session, config, 1, config.bulkRows);
    bulkMs = bulk.ms;
    checks.push({ name: `${side.label} bulk insert of ${config.bulkRows} rows inserted every row`, ok: bulk.affected === config.bulkRows, detail: `${bulk.affected}` });
    singleMs = [];
    const single = insertStatement(1);
    for (let i = 0; i < config.warmup + config.singleInserts; i++) {
      const params = insertParams(rowsFrom(config.seed, config.bulkRows + 1 + i, 1));
      await timed(i < config.warmup ? null : singleMs, () => session.execute(single, params));
    }
    lookupMs = await lookups(side, session, config, lookupIds(config, config.bulkRows + config.warmup + config.singleInserts, 0x10), checks, 'small-database');
  } finally {
    await closeClient(side, client, checks, 'small database');
  }

  // Large database: half loaded, flushed to the cold tier, the other half loaded (stays hot).
  ({ client, session } = await openBench(side, largeName));
  try {
    const half = Math.floor(config.largeRows / 2);
    log(side, `loading ${half} rows`);
    const first = await load(session, config, 1, half);
    log(side, 'flushing');
    const flush = await flushTable(session);
    log(side, `flush: ${flush.detail}; loading ${config.largeRows - half} more rows`);
    const second = await load(session, config, half + 1, config.largeRows - half);
    log(side, 'queries');
    const largeBulkMs = first.ms + second.ms;
    const { rows: counted } = await session.query(COUNT_QUERY);
    checks.push({
      name: `${side.label} holds all ${config.largeRows} rows of the large load${flush.available ? ' across both tiers' : ''}`,
      ok: first.affected + second.affected === config.largeRows && Number(counted[0]?.n) === config.largeRows,
      detail: `inserted ${first.affected + second.affected}, COUNT(*) ${String(counted[0]?.n)}`,
    });

    const largeLookupMs = await lookups(side, session, config, lookupIds(config, config.largeRows, 0x20), checks, 'large-database');

    const queryMs: number[] = [];
    let firstQueryIds: number[] = [];
    for (let i = 0; i < config.queryWarmup + config.queryIterations; i++) {
      const k = i - config.queryWarmup;
      const { category, minScore } = queryParams(Math.max(0, k));
      const result = await timed(k < 0 ? null : queryMs, () => session.query(FILTERED_QUERY, [category, minScore]));
      if (k === 0) firstQueryIds = result.rows.map((r) => Number(r.id));
    }

    const groupMs: number[] = [];
    let groups: GroupRow[] = [];
    for (let i = 0; i < 1 + config.groupIterations; i++) {
      const result = await timed(i < 1 ? null : groupMs, () => session.query(GROUP_QUERY));
      groups = result.rows.map((r) => ({ category: String(r.category), n: Number(r.n), total: Number(r.total) }));
    }

    // Context: the whole table as rows and as an Arrow table (built in the worker, transferred).
    const all = 'SELECT id, category, score, title, created_at FROM bench.items';
    let started = performance.now();
    const asRows = (await session.query(all)).rows.length;
    const allRowsMs = performance.now() - started;
    started = performance.now();
    const asArrow = (await session.queryArrow(all)).numRows;
    const queryArrowMs = performance.now() - started;
    checks.push({ name: `${side.label} queryArrow returns as many rows as query`, ok: asRows === asArrow && asRows === config.largeRows, detail: `${asRows} and ${asArrow}` });

    return {
      samples: { bulkMs, singleMs, lookupMs, largeBulkMs, largeLookupMs, queryMs, groupMs, firstQueryIds, groups },
      flush,
      arrow: { rows: asRows, queryMs: allRowsMs, queryArrowMs },
    };
  } finally {
    await closeClient(side, client, checks, 'large database');
  }
}

/** The origin's Web Locks held right now whose name starts with `prefix`. */
async function heldLocks(prefix: string): Promise<string[]> {
  const { held = [] } = await navigator.locks.query();
  return held.map((lock) => lock.name ?? '').filter((name) => name.startsWith(prefix));
}

/**
 * Close-and-reopen of the large database, two ways, alternating, each timed
 * from createClient to the first lookup's answer:
 *
 * - reopen: createClient with the default transport while the origin's
 *   engine worker (the SharedWorker, or the leader tab's worker for OPFS)
 *   is still running after the previous client closed — the engine was
 *   closed with its last client, so it opens again from storage (catalog,
 *   hot tier, manifest) in that worker;
 * - cold start: createClient with transport 'worker', a brand-new dedicated
 *   worker — worker start, bundle compile, engine open.
 *
 * The reopen's premise is checked through the locks the engine's host holds
 * (kalamlite:<storage>:<name>:engine while the storage is open,
 * …:host:<id> while its worker serves): before each reopen the storage is
 * closed and one host is running, and that same host answers.
 */
export async function engineColdOpens(side: EngineSide, name: string, config: TiersConfig, checks: Check[]): Promise<{ reopenMs: number[]; coldStartMs: number[] }> {
  const reopenMs: number[] = [];
  const coldStartMs: number[] = [];
  const ids = lookupIds(config, config.largeRows, 0x30);
  const base = `kalamlite:${side.storage}:${name}:`;
  let wrong = 0;
  const premise: string[] = [];
  const openAndLookup = async (id: number, transport: 'auto' | 'worker', samples: number[], label: string): Promise<void> => {
    const started = performance.now();
    const client = await createClient({ name, storage: side.storage, transport });
    try {
      const { rows } = await client.session({ user: 'bench', role: 'dba' }).query(LOOKUP, [BigInt(id)]);
      samples.push(performance.now() - started);
      if (!isRowFor(config, id, rows[0])) wrong++;
    } finally {
      await closeClient(side, client, checks, label);
    }
  };
  for (let i = 0; i < config.coldOpens; i++) {
    const hostsBefore = await heldLocks(`${base}host:`);
    const engineBefore = await heldLocks(`${base}engine`);
    if (hostsBefore.length !== 1 || engineBefore.length !== 0) {
      premise.push(`before reopen ${i + 1}: ${hostsBefore.length} hosts running, storage ${engineBefore.length === 0 ? 'closed' : 'still open'}`);
    }
    await openAndLookup(ids[i], 'auto', reopenMs, `reopen ${i + 1}`);
    const hostsAfter = await heldLocks(`${base}host:`);
    if (hostsAfter.length !== 1 || hostsAfter[0] !== hostsBefore[0]) premise.push(`after reopen ${i + 1}: host [${hostsAfter.join(', ')}], was [${hostsBefore.join(', ')}]`);
    await openAndLookup(ids[config.coldOpens + i], 'worker', coldStartMs, `cold start ${i + 1}`);
  }
  checks.push({ name: `${side.label} answers the first lookup after a reopen and after a cold start`, ok: wrong === 0, detail: `${wrong} wrong of ${2 * config.coldOpens}` });
  checks.push({
    name: `${side.label} reopens ran in the worker already running, with the storage closed by the previous client's close()`,
    ok: premise.length === 0,
    detail: premise.length === 0 ? `${config.coldOpens} reopens` : premise.join('; '),
  });
  return { reopenMs, coldStartMs };
}
