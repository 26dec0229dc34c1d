/**
 * The two comparison sides of the tiers bench, in one dedicated worker and
 * timed inside it (no page ↔ worker round trip, as in baseline.worker.ts):
 *
 * - `idb`: raw IndexedDB through `idb` — one record per row, `add` in a
 *   transaction per batch, `put` + commit per single row, `get`, a compound
 *   [category, score] index cursor, `getAll` + a JS loop for GROUP BY.
 * - `dexie`: the same through Dexie — `bulkPut` per batch, `put`, `get`,
 *   `where('[category+score]').between()`, `toArray()` + a JS loop.
 *
 * Both build their secondary index after the load (a version upgrade), so
 * the load figures pay for the primary store only. Cold opens are timed in
 * the page (tiers-page.ts), where an app would open these databases.
 */
import { expose } from 'comlink';
import { Dexie } from 'dexie';
import { queryParams, rowsFrom, seededRandom, type BenchRow } from './rows';
import { groupRows, type TiersConfig, type TiersSamples } from './tiers';
import { DexieItems, openIdbItems, type IdbItems, type StoredRow } from './tiers-stores';

/** The samples a worker side measures; cold opens are the page's. */
export type WorkerSamples = Omit<TiersSamples, 'coldOpenMs'>;

const LIMIT = 50;

function stored(row: BenchRow): StoredRow {
  return { ...row, created_at: Date.now() };
}

/** Rows [first, first + count) as batches of stored rows, built before any clock starts. */
function batchesOf(config: TiersConfig, first: number, count: number): StoredRow[][] {
  const batches: StoredRow[][] = [];
  for (let offset = 0; offset < count; offset += config.batchSize) {
    batches.push(rowsFrom(config.seed, first + offset, Math.min(config.batchSize, count - offset)).map(stored));
  }
  return batches;
}

async function timed<T>(samples: number[] | null, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await run();
  samples?.push(performance.now() - started);
  return result;
}

/** The lookup ids of one phase: the same seeded sequence on every side. */
function lookupIds(config: TiersConfig, present: number, salt: number): number[] {
  const random = seededRandom(config.seed ^ salt);
  const ids: number[] = [];
  for (let i = 0; i < config.warmup + config.lookups; i++) ids.push(1 + Math.floor(random() * present));
  return ids;
}

/** Operations one side implements; the phases below drive them identically. */
interface Side {
  writeBatch(rows: StoredRow[]): Promise<void>;
  insertOne(row: StoredRow): Promise<void>;
  get(id: number): Promise<StoredRow | undefined>;
  filtered(i: number): Promise<StoredRow[]>;
  all(): Promise<StoredRow[]>;
  /** Builds the [category, score] index (untimed) and reopens. */
  index(): Promise<void>;
  close(): void;
}

async function idbSide(name: string): Promise<Side> {
  const open = (version: 1 | 2) => openIdbItems(name, version);
  let db: IdbItems = await open(1);
  return {
    async writeBatch(rows) {
      const tx = db.transaction('items', 'readwrite');
      for (const row of rows) void tx.store.add(row);
      await tx.done;
    },
    async insertOne(row) {
      const tx = db.transaction('items', 'readwrite');
      void tx.store.put(row);
      await tx.done;
    },
    get: (id) => db.get('items', id),
    async filtered(i) {
      const { category, minScore } = queryParams(i);
      const range = IDBKeyRange.bound([category, minScore], [category, Infinity], true, false);
      const out: StoredRow[] = [];
      let cursor = await db.transaction('items').store.index('category_score').openCursor(range, 'prev');
      while (cursor && out.length < LIMIT) {
        out.push(cursor.value);
        cursor = await cursor.continue();
      }
      return out;
    },
    all: () => db.getAll('items'),
    async index() {
      db.close();
      db = await open(2);
    },
    close: () => db.close(),
  };
}

async function dexieSide(name: string): Promise<Side> {
  let db = new DexieItems(name, false);
  await db.open();
  return {
    async writeBatch(rows) {
      await db.items.bulkPut(rows);
    },
    async insertOne(row) {
      await db.items.put(row);
    },
    get: (id) => db.items.get(id),
    filtered(i) {
      const { category, minScore } = queryParams(i);
      return db.items.where('[category+score]').between([category, minScore], [category, Dexie.maxKey], false, true).reverse().limit(LIMIT).toArray();
    },
    all: () => db.items.toArray(),
    async index() {
      db.close();
      db = new DexieItems(name, true);
      await db.open();
    },
    close: () => db.close(),
  };
}

async function small(side: Side, config: TiersConfig): Promise<Pick<WorkerSamples, 'bulkMs' | 'singleMs' | 'lookupMs'>> {
  try {
    const batches = batchesOf(config, 1, config.bulkRows);
    const started = performance.now();
    for (const rows of batches) await side.writeBatch(rows);
    const bulkMs = performance.now() - started;

    const singles = batchesOf({ ...config, batchSize: 1 }, config.bulkRows + 1, config.warmup + config.singleInserts);
    const singleMs: number[] = [];
    for (let i = 0; i < singles.length; i++) await timed(i < config.warmup ? null : singleMs, () => side.insertOne(singles[i][0]));

    const lookupMs: number[] = [];
    const ids = lookupIds(config, config.bulkRows + singles.length, 0x10);
    for (let i = 0; i < ids.length; i++) {
      const row = await timed(i < config.warmup ? null : lookupMs, () => side.get(ids[i]));
      if (row?.id !== ids[i]) throw new Error(`lookup of id ${ids[i]} returned ${row?.id}`);
    }
    return { bulkMs, singleMs, lookupMs };
  } finally {
    side.close();
  }
}

async function large(side: Side, config: TiersConfig): Promise<Omit<WorkerSamples, 'bulkMs' | 'singleMs' | 'lookupMs'>> {
  try {
    const batches = batchesOf(config, 1, config.largeRows);
    const started = performance.now();
    for (const rows of batches) await side.writeBatch(rows);
    const largeBulkMs = performance.now() - started;
    batches.length = 0;
    await side.index();

    const largeLookupMs: number[] = [];
    const ids = lookupIds(config, config.largeRows, 0x20);
    for (let i = 0; i < ids.length; i++) {
      const row = await timed(i < config.warmup ? null : largeLookupMs, () => side.get(ids[i]));
      if (row?.id !== ids[i]) throw new Error(`lookup of id ${ids[i]} returned ${row?.id}`);
    }

    const queryMs: number[] = [];
    let firstQueryIds: number[] = [];
    for (let i = 0; i < config.queryWarmup + config.queryIterations; i++) {
      const k = i - config.queryWarmup;
      const rows = await timed(k < 0 ? null : queryMs, () => side.filtered(Math.max(0, k)));
      if (k === 0) firstQueryIds = rows.map((r) => r.id);
    }

    const groupMs: number[] = [];
    let groups = groupRows([]);
    for (let i = 0; i < 1 + config.groupIterations; i++) {
      groups = await timed(i < 1 ? null : groupMs, async () => groupRows(await side.all()));
    }
    return { largeBulkMs, largeLookupMs, queryMs, firstQueryIds, groupMs, groups };
  } finally {
    side.close();
  }
}

const api = {
  async idb(smallName: string, largeName: string, config: TiersConfig): Promise<WorkerSamples> {
    const s = await small(await idbSide(smallName), config);
    const l = await large(await idbSide(largeName), config);
    return { ...s, ...l };
  },
  async dexie(smallName: string, largeName: string, config: TiersConfig): Promise<WorkerSamples> {
    const s = await small(await dexieSide(smallName), config);
    const l = await large(await dexieSide(largeName), config);
    return { ...s, ...l };
  },
};

export type TiersWorkerApi = typeof api;

expose(api);
