/**
 * The raw-IndexedDB baseline, in its own dedicated worker like the engine.
 * Every figure is timed inside this worker, around `idb` calls only: it is
 * the floor an IndexedDB-backed engine could reach, without the page ↔
 * worker round trip the engine's figures include (that round trip is
 * measured separately, by `ping`).
 */
import { expose } from 'comlink';
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { queryParams, rowsFrom, seededRandom, type BenchRow } from './rows';
import type { BenchConfig } from './results';

interface StoredRow extends BenchRow {
  created_at: number;
}

interface BaselineSchema extends DBSchema {
  items: { key: number; value: StoredRow; indexes: { category_score: [string, number] } };
}

type Db = IDBPDatabase<BaselineSchema>;

export interface SmallPhaseSamples {
  bulkInsertMs: number;
  singleInsertMs: number[];
  lookupMs: number[];
}

export interface LargePhaseSamples {
  loadMs: number;
  /** Compound [category, score] index, cursor 'prev' from the top, first 50: the headline baseline. */
  queryMs: number[];
  /** getAll + filter + sort + slice: what a scan without an index costs. */
  scanQueryMs: number[];
  /** Ids answered for queryParams(0), by each method, for the cross-check with the engine. */
  firstQueryIds: number[];
  firstScanIds: number[];
}

const LIMIT = 50;

function stored(row: BenchRow): StoredRow {
  return { ...row, created_at: Date.now() };
}

async function open(name: string, version: number): Promise<Db> {
  return openDB<BaselineSchema>(name, version, {
    upgrade(db, oldVersion, _newVersion, tx) {
      if (oldVersion < 1) db.createObjectStore('items', { keyPath: 'id' });
      if (version >= 2 && oldVersion < 2) tx.objectStore('items').createIndex('category_score', ['category', 'score']);
    },
  });
}

/** Writes rows [first, first + count) in transactions of `batchSize` rows; `add` refuses duplicates as the engine's INSERT does. */
async function writeBatches(db: Db, config: BenchConfig, first: number, count: number): Promise<number> {
  // Rows are generated before the clock starts, as on the engine side.
  const batches: BenchRow[][] = [];
  for (let offset = 0; offset < count; offset += config.batchSize) {
    batches.push(rowsFrom(config.seed, first + offset, Math.min(config.batchSize, count - offset)));
  }
  const started = performance.now();
  for (const rows of batches) {
    const tx = db.transaction('items', 'readwrite');
    for (const row of rows) void tx.store.add(stored(row));
    await tx.done;
  }
  return performance.now() - started;
}

async function filterSortQuery(db: Db, i: number): Promise<StoredRow[]> {
  const { category, minScore } = queryParams(i);
  const all = await db.getAll('items');
  return all
    .filter((r) => r.category === category && r.score > minScore)
    .sort((a, b) => b.score - a.score)
    .slice(0, LIMIT);
}

async function indexCursorQuery(db: Db, i: number): Promise<StoredRow[]> {
  const { category, minScore } = queryParams(i);
  const range = IDBKeyRange.bound([category, minScore], [category, Infinity], true, false);
  const out: StoredRow[] = [];
  let cursor = await db.transaction('items').store.index('category_score').openCursor(range, 'prev');
  while (cursor && out.length < LIMIT) {
    out.push(cursor.value);
    cursor = await cursor.continue();
  }
  return out;
}

async function timed<T>(samples: number[], run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await run();
  samples.push(performance.now() - started);
  return result;
}

const api = {
  ping(): number {
    return 0;
  },

  /** Bulk insert, then single-row inserts, then primary-key lookups, all on one fresh database. */
  async small(name: string, config: BenchConfig): Promise<SmallPhaseSamples> {
    const db = await open(name, 1);
    try {
      const bulkInsertMs = await writeBatches(db, config, 1, config.bulkRows);

      let nextId = config.bulkRows + 1;
      const singleInsertMs: number[] = [];
      const discard: number[] = [];
      for (let i = 0; i < config.warmup + config.singleInserts; i++) {
        const row = stored(rowsFrom(config.seed, nextId++, 1)[0]);
        await timed(i < config.warmup ? discard : singleInsertMs, async () => {
          const tx = db.transaction('items', 'readwrite');
          void tx.store.add(row);
          await tx.done;
        });
      }

      const present = nextId - 1;
      const random = seededRandom(config.seed ^ 0x10);
      const lookupMs: number[] = [];
      for (let i = 0; i < config.warmup + config.lookups; i++) {
        const id = 1 + Math.floor(random() * present);
        const row = await timed(i < config.warmup ? discard : lookupMs, () => db.get('items', id));
        if (row?.id !== id) throw new Error(`baseline lookup of id ${id} returned ${row?.id}`);
      }
      return { bulkInsertMs, singleInsertMs, lookupMs };
    } finally {
      db.close();
    }
  },

  /** Loads `queryRows` rows, runs the filtered sorted LIMIT query both ways. */
  async large(name: string, config: BenchConfig): Promise<LargePhaseSamples> {
    let db = await open(name, 1);
    const loadMs = await writeBatches(db, config, 1, config.queryRows);
    const discard: number[] = [];
    const scanQueryMs: number[] = [];
    let firstScanIds: number[] = [];
    // A full getAll of the table takes seconds, so this one gets one warm-up and `scanIterations`.
    for (let k = -1; k < config.scanIterations; k++) {
      const rows = await timed(k < 0 ? discard : scanQueryMs, () => filterSortQuery(db, Math.max(0, k)));
      if (k === 0) firstScanIds = rows.map((r) => r.id);
    }
    db.close();

    // The index is built after the load, so it costs the load figure nothing.
    db = await open(name, 2);
    try {
      const queryMs: number[] = [];
      let firstQueryIds: number[] = [];
      for (let i = 0; i < config.queryWarmup + config.queryIterations; i++) {
        const k = i - config.queryWarmup;
        const rows = await timed(k < 0 ? discard : queryMs, () => indexCursorQuery(db, Math.max(0, k)));
        if (k === 0) firstQueryIds = rows.map((r) => r.id);
      }
      return { loadMs, queryMs, scanQueryMs, firstQueryIds, firstScanIds };
    } finally {
      db.close();
    }
  },
};

export type BaselineApi = typeof api;

expose(api);
