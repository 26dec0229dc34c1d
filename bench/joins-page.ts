/**
 * The join bench page (joins.html), driven by joins-run.mjs: loads the same
 * five tables into the engine (its worker, over IndexedDB, SHARED tables in
 * namespace `jb`, a dba session) and into SQLite-WASM (its worker, OPFS SAH
 * pool), then times each query on both, alternating sides per iteration so
 * machine noise falls on both alike. Every timed answer is compared with the
 * other side's for the same parameters.
 */
import { wrap } from 'comlink';
import { createClient, type ClientSession, type Value } from '@kalamlite/worker';
import type { JoinsSqliteApi } from './joins-sqlite.worker';
import {
  COLUMNS,
  difference,
  columnDefs,
  joinsData,
  QUERIES,
  QUERY_NAMES,
  TABLES,
  timing,
  type Cell,
  type JoinsResult,
  type JoinsSize,
  type QueryName,
} from './joins';

const ENGINE_BATCH_ROWS = 500;

interface Config {
  size: JoinsSize;
  warmup: number;
  iterations: number;
}

async function clearOrigin(): Promise<void> {
  for (const { name } of await indexedDB.databases()) if (name) indexedDB.deleteDatabase(name);
  const root = await navigator.storage.getDirectory();
  for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) await root.removeEntry(name, { recursive: true });
}

async function loadEngine(session: ClientSession, data: Record<string, Cell[][]>): Promise<void> {
  await session.execute('CREATE NAMESPACE IF NOT EXISTS jb');
  for (const table of TABLES) {
    await session.execute(`CREATE SHARED TABLE jb.${table} (${columnDefs(table)})`);
    const cols = COLUMNS[table];
    const rows = data[table];
    for (let at = 0; at < rows.length; at += ENGINE_BATCH_ROWS) {
      const batch = rows.slice(at, at + ENGINE_BATCH_ROWS);
      const tuples = batch.map((_, r) => `(${cols.map((_, c) => `$${r * cols.length + c + 1}`).join(', ')})`);
      await session.execute(`INSERT INTO jb.${table} (${cols.join(', ')}) VALUES ${tuples.join(', ')}`, batch.flat() as Value[]);
    }
  }
}

async function run(config: Config): Promise<JoinsResult> {
  await clearOrigin();
  const data = joinsData(config.size);

  let started = performance.now();
  const client = await createClient({ name: 'joins-bench', storage: 'idb', transport: 'worker' });
  const session = client.session({ user: 'bench', role: 'dba', namespace: 'jb' });
  await loadEngine(session, data);
  const engineLoadMs = performance.now() - started;

  started = performance.now();
  const worker = new Worker(new URL('./joins-sqlite.worker.ts', import.meta.url), { type: 'module' });
  const sqlite = wrap<JoinsSqliteApi>(worker);
  const sqliteVersion = await sqlite.open('joins-bench');
  for (const table of TABLES) await sqlite.load(table, data[table]);
  const sqliteLoadMs = performance.now() - started;

  const result: JoinsResult = {
    size: config.size,
    sqliteVersion,
    sides: { engine: { loadMs: engineLoadMs, queries: {} as never }, sqlite: { loadMs: sqliteLoadMs, queries: {} as never } },
    checks: [],
  };
  try {
    for (const name of QUERY_NAMES) {
      const { sql, params } = QUERIES[name as QueryName];
      const samples = { engine: [] as number[], sqlite: [] as number[] };
      let rows = { engine: 0, sqlite: 0 };
      let mismatch = '';
      for (let i = 0; i < config.warmup + config.iterations; i++) {
        const p = params(i);
        const t0 = performance.now();
        const engineRows = (await session.query(sql, p as Value[])).rows;
        const t1 = performance.now();
        const sqliteRows = await sqlite.query(sql, p);
        const t2 = performance.now();
        if (i >= config.warmup) {
          samples.engine.push(t1 - t0);
          samples.sqlite.push(t2 - t1);
        }
        rows = { engine: engineRows.length, sqlite: sqliteRows.length };
        const why = mismatch ? '' : difference(engineRows, sqliteRows);
        if (why) mismatch = `params ${JSON.stringify(p)}: engine against sqlite-wasm: ${why}`;
      }
      result.sides.engine.queries[name] = { timing: timing(samples.engine), rows: rows.engine };
      result.sides.sqlite.queries[name] = { timing: timing(samples.sqlite), rows: rows.sqlite };
      result.checks.push({ query: name, ok: mismatch === '' && rows.engine > 0, detail: mismatch || `${rows.engine} rows, same on both sides` });
    }
  } finally {
    await sqlite.close();
    worker.terminate();
    await client.close();
  }
  return result;
}

declare global {
  interface Window {
    joinsBench: (config: Config) => Promise<JoinsResult>;
  }
}

window.joinsBench = run;
