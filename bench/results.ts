/** What a bench run measures, and the shape `window.runBench()` resolves to (also written to bench/results.json). */

export interface BenchConfig {
  /** Rows of the bulk-insert figure, written in statements/transactions of `batchSize` rows. */
  bulkRows: number;
  batchSize: number;
  /** Single-row insert + commit iterations (after `warmup` untimed ones). */
  singleInserts: number;
  /** Primary-key lookups, ids drawn uniformly from the rows present. */
  lookups: number;
  /** Rows loaded for the filtered, sorted LIMIT query. */
  queryRows: number;
  /** Timed runs of the filtered sorted query (engine, and the baseline's index cursor). */
  queryIterations: number;
  /** Timed runs of the baseline's getAll + filter + sort, which reads the whole table each time. */
  scanIterations: number;
  /** Untimed iterations before the timed ones (plan cache, JIT); the query phase uses `queryWarmup`, its iterations being long. */
  warmup: number;
  queryWarmup: number;
  seed: number;
  /** Live phase: rows of bench.feed, users, live queries per user, timed single-row writes (after `liveWarmup` untimed ones). */
  liveRows: number;
  liveUsers: number;
  liveQueriesPerUser: number;
  liveWrites: number;
  liveWarmup: number;
  /** Live phase: also run the engine side over OPFS (a dedicated worker, like the IndexedDB side), printed as engine/opfs. On by default. */
  liveOpfs: boolean;
}

export const DEFAULT_CONFIG: BenchConfig = {
  bulkRows: 10_000,
  batchSize: 1_000,
  singleInserts: 300,
  lookups: 500,
  queryRows: 100_000,
  queryIterations: 15,
  scanIterations: 4,
  warmup: 10,
  queryWarmup: 2,
  seed: 20240611,
  liveRows: 10_000,
  liveUsers: 10,
  liveQueriesPerUser: 10,
  liveWrites: 300,
  liveWarmup: 20,
  liveOpfs: true,
};

/** One side of the live phase. */
export interface LiveSamples {
  /** Per timed write: ms from the write call to the callback of the last affected subscriber. */
  writeMs: number[];
  /** Callbacks of subscribers whose user the write did not touch, over all writes (target 0). */
  unaffected: number;
  /** Engine only: messages (batches) the client received, and subscription events sent as patches / whole results. */
  batches?: number;
  patches?: number;
  snapshots?: number;
}

export interface LiveFigures {
  subscribers: number;
  engine: Summary;
  dexie: Summary;
  engineUnaffected: number;
  dexieUnaffected: number;
  engineBatches: number | undefined;
  enginePatches: number | undefined;
  engineSnapshots: number | undefined;
  /** The engine side again with storage 'opfs', when `config.liveOpfs` is set. */
  opfs?: {
    engine: Summary;
    unaffected: number;
    batches: number | undefined;
    patches: number | undefined;
    snapshots: number | undefined;
  };
  dexieVersion: string;
}

/** Summary of a list of samples in milliseconds. */
export interface Summary {
  n: number;
  p50: number;
  p95: number;
  mean: number;
  min: number;
  max: number;
}

/** The figures of one side (engine or baseline). */
export interface SideFigures {
  /** Total ms to write `bulkRows` rows. */
  bulkInsertMs: number;
  singleInsert: Summary;
  lookup: Summary;
  /** Total ms to load `queryRows` rows for the query phase (informational). */
  queryLoadMs: number;
  /** The baseline answers through a compound [category, score] index cursor. */
  query: Summary;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface BenchResults {
  config: BenchConfig;
  engine: SideFigures;
  baseline: SideFigures;
  /** The query answered by the baseline with getAll + filter + sort + slice instead of its index cursor. */
  baselineScanQuery: Summary;
  /** A Comlink call that does nothing, page → worker → page: the floor of any engine call. */
  roundTrip: Summary;
  /** Live queries: engine beside Dexie's liveQuery, measured in the same run. */
  live: LiveFigures;
  checks: Check[];
  environment: {
    userAgent: string;
    crossOriginIsolated: boolean;
    hardwareConcurrency: number;
    startedAt: string;
    totalMs: number;
  };
}
