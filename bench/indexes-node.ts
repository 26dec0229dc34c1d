/**
 * Secondary indexes in Node, without a browser (bench/indexes-node.mjs
 * bundles and runs it): the engine over memory storage, its rows kept in
 * the hot tier (where indexes are read today; cold partitions are scanned
 * until per-segment index records exist), beside Dexie over
 * fake-indexeddb with an index on the same column.
 *
 * - insert cost: the same rows into a table without indexes and into one
 *   with 3 (category, score, title), in 1,000-row INSERTs, then 300
 *   single-row INSERTs (p50);
 * - `SELECT * FROM t WHERE score BETWEEN $1 AND $2 ORDER BY score LIMIT 50`,
 *   p50 of 50, with the index on score and on the table without it;
 *   Dexie: `where('score').between(a, b).limit(50)`.
 *
 * Prints one JSON line of figures; answers are checked against each other.
 */
import 'fake-indexeddb/auto';
import { Dexie, type Table } from 'dexie';
import { openDatabase, type Value } from '@kalamlite/engine';
import { rowFor, type BenchRow } from './rows';

const ROWS = Number(process.env.KALAM_INDEX_ROWS ?? 20_000);
/** Flush and compact both tables before the queries: the rows are read from the cold tier through the segments' index records. */
const COLD = process.env.KALAM_INDEX_COLD === '1';
const SEED = 7;
const BATCH = 1_000;
const SINGLES = 300;
const QUERIES = 50;
const WIDTH = 20; // score units per query window: about 2% of the rows

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

class BenchDexie extends Dexie {
  items!: Table<BenchRow, number>;
  constructor() {
    super('bench-indexes');
    this.version(1).stores({ items: 'id, score' });
  }
}

async function main(): Promise<void> {
  const db = await openDatabase({ storage: 'memory', hotBudgetBytes: 2 ** 31, hotPartitionRows: 10_000_000 });
  const s = db.session({ user: 'root', role: 'dba' });
  await s.execute(`CREATE NAMESPACE bench;
    CREATE SHARED TABLE bench.plain (id BIGINT PRIMARY KEY, category TEXT NOT NULL, score DOUBLE, title TEXT);
    CREATE SHARED TABLE bench.indexed (id BIGINT PRIMARY KEY, category TEXT NOT NULL, score DOUBLE, title TEXT);
    CREATE INDEX by_category ON bench.indexed (category);
    CREATE INDEX by_score ON bench.indexed (score);
    CREATE INDEX by_title ON bench.indexed (title)`);

  const jobsIdle = async () => {
    for (;;) {
      const { rows } = await s.query("SELECT COUNT(*) AS n FROM system.jobs WHERE status IN ('new', 'queued', 'running')");
      if (Number(rows[0].n) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  const batch = (from: number): [string, Value[]] => {
    const params: Value[] = [];
    const tuples: string[] = [];
    for (let id = from; id < Math.min(ROWS, from + BATCH); id++) {
      const r = rowFor(SEED, id);
      const k = params.length;
      tuples.push(`($${k + 1}, $${k + 2}, $${k + 3}, $${k + 4})`);
      params.push(r.id, r.category, r.score, r.title);
    }
    return [`(id, category, score, title) VALUES ${tuples.join(', ')}`, params];
  };
  // The first batch untimed into both tables (warm-up); then a query per index builds the indexes
  // (a hot index is built on first use), so the timed inserts pay for keeping all 3 current.
  for (const table of ['bench.plain', 'bench.indexed']) {
    const [sql, params] = batch(0);
    await s.execute(`INSERT INTO ${table} ${sql}`, params);
  }
  await s.query(`SELECT id FROM bench.indexed WHERE category = 'c1' LIMIT 1`);
  await s.query('SELECT id FROM bench.indexed WHERE score > 1 LIMIT 1');
  await s.query(`SELECT id FROM bench.indexed WHERE title LIKE 'item 1%' LIMIT 1`);
  // Batches alternate between the tables, so machine load falls on both alike.
  let plainLoad = 0;
  let indexedLoad = 0;
  for (let from = BATCH; from < ROWS; from += BATCH) {
    const [sql, params] = batch(from);
    let t = performance.now();
    await s.execute(`INSERT INTO bench.plain ${sql}`, params);
    plainLoad += performance.now() - t;
    t = performance.now();
    await s.execute(`INSERT INTO bench.indexed ${sql}`, params);
    indexedLoad += performance.now() - t;
  }
  const plainTimes: number[] = [];
  const indexedTimes: number[] = [];
  for (let i = 0; i < SINGLES; i++) {
    const r = rowFor(SEED + 1, ROWS + i);
    const params = [r.id, r.category, r.score, r.title];
    let t = performance.now();
    await s.execute('INSERT INTO bench.plain (id, category, score, title) VALUES ($1, $2, $3, $4)', params);
    plainTimes.push(performance.now() - t);
    t = performance.now();
    await s.execute('INSERT INTO bench.indexed (id, category, score, title) VALUES ($1, $2, $3, $4)', params);
    indexedTimes.push(performance.now() - t);
  }
  const plainSingle = p50(plainTimes);
  const indexedSingle = p50(indexedTimes);
  const entries = (await s.query(`SELECT metric_value FROM system.stats WHERE metric_name = 'hot_index_entries'`)).rows[0].metric_value;

  const windows = Array.from({ length: QUERIES }, (_, i) => (i * 37) % (1000 - WIDTH));
  const query = async (table: string) => {
    const times: number[] = [];
    const answers: number[][] = [];
    for (const lo of windows) {
      const t = performance.now();
      const r = await s.query(`SELECT * FROM ${table} WHERE score BETWEEN $1 AND $2 ORDER BY score LIMIT 50`, [lo, lo + WIDTH]);
      times.push(performance.now() - t);
      answers.push(r.rows.map((x) => Number(x.id)));
    }
    return { p50: p50(times), answers };
  };
  let flushMs = 0;
  if (COLD) {
    const t = performance.now();
    for (const table of ['bench.plain', 'bench.indexed']) {
      await s.execute(`STORAGE FLUSH TABLE ${table}`);
      await jobsIdle();
      await s.execute(`STORAGE COMPACT TABLE ${table}`);
      await jobsIdle();
    }
    flushMs = performance.now() - t;
  }
  await query('bench.indexed'); // warm-up: builds the hot index
  const indexed = await query('bench.indexed');
  const plain = await query('bench.plain');
  const coldReads = Number((await s.query(`SELECT metric_value FROM system.stats WHERE metric_name = 'index_cold_reads'`)).rows[0].metric_value);
  const explain = (await s.query(`EXPLAIN SELECT * FROM bench.indexed WHERE score BETWEEN 1 AND 2 ORDER BY score LIMIT 50`)).rows.map((r) => String(r.detail)).join(' | ');

  const dexie = new BenchDexie();
  for (let from = 0; from < ROWS; from += BATCH) {
    await dexie.items.bulkPut(Array.from({ length: Math.min(BATCH, ROWS - from) }, (_, k) => rowFor(SEED, from + k)));
  }
  for (let i = 0; i < SINGLES; i++) await dexie.items.put(rowFor(SEED + 1, ROWS + i));
  const dexieTimes: number[] = [];
  const dexieAnswers: number[][] = [];
  for (const lo of windows) {
    const t = performance.now();
    const rows = await dexie.items.where('score').between(lo, lo + WIDTH, true, true).limit(50).toArray();
    dexieTimes.push(performance.now() - t);
    dexieAnswers.push(rows.map((r) => r.id));
  }
  await db.close();
  const same = JSON.stringify(indexed.answers) === JSON.stringify(plain.answers) && JSON.stringify(indexed.answers) === JSON.stringify(dexieAnswers);
  console.log(JSON.stringify({
    rows: ROWS,
    insertPlainMs: plainLoad,
    insertIndexedMs: indexedLoad,
    singlePlainP50: plainSingle,
    singleIndexedP50: indexedSingle,
    queryIndexedP50: indexed.p50,
    queryPlainP50: plain.p50,
    queryDexieP50: p50(dexieTimes),
    explain,
    hotIndexEntries: Number(entries),
    cold: COLD,
    flushMs,
    coldReads,
    same,
  }));
}

await main();
