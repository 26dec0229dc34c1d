/**
 * The page of the indexes phase (indexes.html), driven by
 * bench/indexes-run.mjs: the engine in a dedicated worker of this page over
 * IndexedDB (`createClient({ transport: 'worker' })`, as the scale phase),
 * a `dba` session of one user, and Dexie in the page, on the same rows
 * (rows.ts).
 *
 * - load: N rows in 1,000-row INSERTs into two USER tables, `plain` (no
 *   secondary index) and `indexed` (3: category, score, title), the batches
 *   alternating between them so machine load falls on both alike (the first
 *   batch untimed, then a query through each index builds the hot indexes); the
 *   engine flushes on its own as the hot tier fills (index records written
 *   with each segment). Dexie: `bulkPut` of the same batches into
 *   `items: 'id, score'`.
 * - settle: STORAGE FLUSH and COMPACT of both tables, waited for: every row
 *   is cold, in one sorted run of segments with their index records.
 * - query: `SELECT * FROM bench.<t> WHERE score BETWEEN $1 AND $2 ORDER BY
 *   score LIMIT 50` (windows of 2% of the score range), p50 through the
 *   index and on the table without it; Dexie
 *   `where('score').between(a, b, true, true).limit(50)`; the ids must be
 *   the same on all three.
 */
import { Dexie, type Table } from 'dexie';
import { createClient, type ClientSession, type KalamClient, type Value } from '@kalamlite/worker';
import { rowFor, type BenchRow } from './rows';

declare global {
  interface Window {
    indexesBench?: IndexesBenchApi;
  }
}

export interface IndexesBenchApi {
  open(): Promise<void>;
  load(rows: number): Promise<{ plainMs: number; indexedMs: number; dexieMs: number; batches: number }>;
  settle(): Promise<{ ms: number }>;
  query(count: number, plainCount: number): Promise<{ indexed: number[]; plain: number[]; dexie: number[]; same: boolean; firstIndexedMs: number }>;
  stats(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

const NAME = 'indexes-bench';
const SEED = 7;
const BATCH = 1_000;
const WIDTH = 20; // score units per window: 2% of the rows
const SQL = (t: string) => `SELECT * FROM bench.${t} WHERE score BETWEEN $1 AND $2 ORDER BY score LIMIT 50`;

class BenchDexie extends Dexie {
  items!: Table<BenchRow, number>;
  constructor() {
    super(`${NAME}-dexie`);
    this.version(1).stores({ items: 'id, score' });
  }
}

let client: KalamClient | undefined;
let session: ClientSession;
let dexie: BenchDexie | undefined;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function jobsIdle(): Promise<void> {
  for (;;) {
    const { rows } = await session.query("SELECT COUNT(*) AS n FROM system.jobs WHERE status IN ('new', 'queued', 'running', 'retrying')");
    if (Number(rows[0].n) === 0) return;
    await sleep(50);
  }
}

async function deleteDatabases(): Promise<void> {
  for (const { name } of await indexedDB.databases()) {
    if (!name) continue;
    await new Promise<void>((resolve, reject) => {
      const req = indexedDB.deleteDatabase(name);
      req.onsuccess = () => resolve();
      req.onerror = () => reject(req.error);
      req.onblocked = () => resolve();
    });
  }
}

const windows = (n: number) => Array.from({ length: n }, (_, i) => (i * 37) % (1000 - WIDTH));

window.indexesBench = {
  async open() {
    await deleteDatabases();
    client = await createClient({ name: NAME, storage: 'idb', transport: 'worker' });
    session = client.session({ user: 'u1', role: 'dba' });
    await session.execute(`CREATE NAMESPACE IF NOT EXISTS bench;
      CREATE USER TABLE bench.plain (id BIGINT PRIMARY KEY, category TEXT NOT NULL, score DOUBLE, title TEXT);
      CREATE USER TABLE bench.indexed (id BIGINT PRIMARY KEY, category TEXT NOT NULL, score DOUBLE, title TEXT);
      CREATE INDEX by_category ON bench.indexed (category);
      CREATE INDEX by_score ON bench.indexed (score);
      CREATE INDEX by_title ON bench.indexed (title)`);
    dexie = new BenchDexie();
    await dexie.open();
  },
  async load(total) {
    let plainMs = 0;
    let indexedMs = 0;
    let dexieMs = 0;
    let batches = 0;
    for (let from = 0; from < total; from += BATCH) {
      const rows = Array.from({ length: Math.min(BATCH, total - from) }, (_, k) => rowFor(SEED, from + k));
      const params: Value[] = [];
      const tuples: string[] = [];
      for (const r of rows) {
        const k = params.length;
        tuples.push(`($${k + 1}, $${k + 2}, $${k + 3}, $${k + 4})`);
        params.push(BigInt(r.id), r.category, r.score, r.title);
      }
      const values = `(id, category, score, title) VALUES ${tuples.join(', ')}`;
      // The first batch is a warm-up for both tables (plans, chunks); the order alternates.
      const first = batches % 2 === 0 ? 'plain' : 'indexed';
      for (const t of [first, first === 'plain' ? 'indexed' : 'plain']) {
        const started = performance.now();
        await session.execute(`INSERT INTO bench.${t} ${values}`, params);
        const ms = performance.now() - started;
        if (from === 0) continue;
        if (t === 'plain') plainMs += ms;
        else indexedMs += ms;
      }
      const started = performance.now();
      await dexie!.items.bulkPut(rows);
      if (from > 0) dexieMs += performance.now() - started;
      batches++;
      // A hot index is built when a statement first reads it: read each once after the warm-up batch, so the
      // timed inserts pay for keeping all 3 current (as an app that queries its indexes does).
      if (from === 0) {
        await session.query(`SELECT id FROM bench.indexed WHERE category = 'c1' LIMIT 1`);
        await session.query('SELECT id FROM bench.indexed WHERE score > 1 LIMIT 1');
        await session.query(`SELECT id FROM bench.indexed WHERE title LIKE 'item 1%' LIMIT 1`);
      }
    }
    return { plainMs, indexedMs, dexieMs, batches: batches - 1 };
  },
  async settle() {
    const started = performance.now();
    await jobsIdle();
    for (const t of ['plain', 'indexed']) {
      await session.execute(`STORAGE FLUSH TABLE bench.${t}`);
      await jobsIdle();
      await session.execute(`STORAGE COMPACT TABLE bench.${t}`);
      await jobsIdle();
    }
    return { ms: performance.now() - started };
  },
  async query(count, plainCount) {
    const ws = windows(count);
    const run = async (t: string, list: number[]) => {
      const times: number[] = [];
      const answers: number[][] = [];
      for (const lo of list) {
        const started = performance.now();
        const { rows } = await session.query(SQL(t), [lo, lo + WIDTH]);
        times.push(performance.now() - started);
        answers.push(rows.map((r) => Number(r.id)));
      }
      return { times, answers };
    };
    // The first indexed query after the settle is timed apart (record pages and row groups not cached yet).
    const first = await run('indexed', [ws[0]]);
    const indexed = await run('indexed', ws);
    const plain = await run('plain', ws.slice(0, plainCount));
    const dexieTimes: number[] = [];
    const dexieAnswers: number[][] = [];
    await dexie!.items.where('score').between(ws[0], ws[0] + WIDTH, true, true).limit(50).toArray(); // warm-up
    for (const lo of ws) {
      const started = performance.now();
      const rows = await dexie!.items.where('score').between(lo, lo + WIDTH, true, true).limit(50).toArray();
      dexieTimes.push(performance.now() - started);
      dexieAnswers.push(rows.map((r) => r.id));
    }
    const same =
      JSON.stringify(indexed.answers) === JSON.stringify(dexieAnswers) &&
      JSON.stringify(plain.answers) === JSON.stringify(dexieAnswers.slice(0, plainCount)) &&
      indexed.answers.every((a) => a.length === 50);
    return { indexed: indexed.times, plain: plain.times, dexie: dexieTimes, same, firstIndexedMs: first.times[0] };
  },
  async stats() {
    const { rows } = await session.query('SELECT metric_name, metric_value FROM system.stats');
    return Object.fromEntries(rows.map((r) => [String(r.metric_name), String(r.metric_value)]));
  },
  async close() {
    await client?.close();
    dexie?.close();
  },
};
