/**
 * The engine side: every figure is timed in the page around a call on the
 * `@kalamlite/worker` client, so it includes the Comlink round trip to the
 * engine's worker and the structured clone of parameters and rows — the
 * cost a user of the client sees.
 */
import { createClient, type ClientSession, type KalamClient } from '@kalamlite/worker';
import { queryParams, rowFor, rowsFrom, seededRandom } from './rows';
import { CREATE_NAMESPACE, CREATE_TABLE, FILTERED_QUERY, LOOKUP, insertParams, insertStatement } from './sql';
import type { BenchConfig, Check } from './results';

export interface EngineSmallSamples {
  bulkInsertMs: number;
  singleInsertMs: number[];
  lookupMs: number[];
}

export interface EngineLargeSamples {
  loadMs: number;
  queryMs: number[];
  firstQueryIds: number[];
}

/** Opens a client on a fresh IndexedDB database called `name`. */
export type Connect = (name: string) => Promise<KalamClient>;

/** The client a user gets: the engine in a module worker. */
export const workerClient: Connect = (name) => createClient({ name, storage: 'idb', transport: 'worker' });

async function openBench(connect: Connect, name: string): Promise<{ client: KalamClient; session: ClientSession }> {
  const client = await connect(name);
  const session = client.session({ user: 'bench', role: 'dba' });
  await session.execute(CREATE_NAMESPACE);
  await session.execute(CREATE_TABLE);
  return { client, session };
}

async function writeBatches(session: ClientSession, config: BenchConfig, count: number, checks: Check[], label: string): Promise<number> {
  // Statements are built before the clock starts: the figure is the engine's, not the text building's.
  const batches: { sql: string; params: ReturnType<typeof insertParams> }[] = [];
  for (let offset = 0; offset < count; offset += config.batchSize) {
    const rows = rowsFrom(config.seed, 1 + offset, Math.min(config.batchSize, count - offset));
    batches.push({ sql: insertStatement(rows.length), params: insertParams(rows) });
  }
  let affected = 0;
  const started = performance.now();
  for (const { sql, params } of batches) {
    const [result] = await session.execute(sql, params);
    affected += result.rowCount;
  }
  const elapsed = performance.now() - started;
  checks.push({ name: `engine ${label} inserted every row`, ok: affected === count, detail: `${affected} of ${count} reported as inserted` });
  return elapsed;
}

async function timed<T>(samples: number[] | null, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await run();
  samples?.push(performance.now() - started);
  return result;
}

/** Bulk insert, then single-row inserts, then primary-key lookups, on one fresh database (the same sequence as the baseline's). */
export async function engineSmall(connect: Connect, name: string, config: BenchConfig, checks: Check[]): Promise<EngineSmallSamples> {
  const { client, session } = await openBench(connect, name);
  try {
    const bulkInsertMs = await writeBatches(session, config, config.bulkRows, checks, `bulk insert of ${config.bulkRows} rows`);

    let nextId = config.bulkRows + 1;
    const single = insertStatement(1);
    const singleInsertMs: number[] = [];
    for (let i = 0; i < config.warmup + config.singleInserts; i++) {
      const params = insertParams(rowsFrom(config.seed, nextId++, 1));
      await timed(i < config.warmup ? null : singleInsertMs, () => session.execute(single, params));
    }

    const present = nextId - 1;
    const random = seededRandom(config.seed ^ 0x10);
    const lookupMs: number[] = [];
    let mismatches = 0;
    let firstMismatch = '';
    for (let i = 0; i < config.warmup + config.lookups; i++) {
      const id = 1 + Math.floor(random() * present);
      const result = await timed(i < config.warmup ? null : lookupMs, () => session.query(LOOKUP, [BigInt(id)]));
      const row = result.rows[0];
      const want = rowFor(config.seed, id);
      const ok =
        result.rows.length === 1 && row.id === BigInt(id) && row.category === want.category && row.score === want.score && row.title === want.title;
      if (!ok) {
        mismatches++;
        firstMismatch ||= `id ${id}: got ${JSON.stringify(result.rows, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`;
      }
    }
    checks.push({
      name: 'engine primary-key lookups return the row that was written',
      ok: mismatches === 0,
      detail: mismatches === 0 ? `${config.warmup + config.lookups} lookups checked` : `${mismatches} mismatches; first ${firstMismatch}`,
    });
    return { bulkInsertMs, singleInsertMs, lookupMs };
  } finally {
    await client.close();
  }
}

/** Loads `queryRows` rows, then runs the filtered, sorted LIMIT 50 query. */
export async function engineLarge(connect: Connect, name: string, config: BenchConfig, checks: Check[]): Promise<EngineLargeSamples> {
  const { client, session } = await openBench(connect, name);
  try {
    const loadMs = await writeBatches(session, config, config.queryRows, checks, `load of ${config.queryRows} rows`);
    const queryMs: number[] = [];
    let firstQueryIds: number[] = [];
    for (let i = 0; i < config.queryWarmup + config.queryIterations; i++) {
      const k = i - config.queryWarmup;
      const { category, minScore } = queryParams(Math.max(0, k));
      const result = await timed(k < 0 ? null : queryMs, () => session.query(FILTERED_QUERY, [category, minScore]));
      if (k === 0) firstQueryIds = result.rows.map((r) => Number(r.id));
    }
    return { loadMs, queryMs, firstQueryIds };
  } finally {
    await client.close();
  }
}
