/**
 * The storage-tiers bench (issue 4): the engine over IndexedDB and over OPFS
 * beside raw IndexedDB and Dexie, all four measured in one run on the same
 * deterministic rows.
 * Config, result shapes and the SQL only the tiers phases run.
 */
import type { Check, Summary } from './results';
import { CATEGORY_COUNT, categoryName } from './rows';

export interface TiersConfig {
  /** Rows of the small bulk-insert figure (batches of `batchSize`). */
  bulkRows: number;
  /** Rows of the large database: the 100,000-row bulk insert and every query figure. */
  largeRows: number;
  batchSize: number;
  singleInserts: number;
  /** Primary-key lookups on the small database, then again on the large one. */
  lookups: number;
  queryIterations: number;
  groupIterations: number;
  /**
   * Close-and-reopen cycles of the large database, each timed to its first lookup's result
   * (the engine sides do this many reopens and as many cold starts).
   */
  coldOpens: number;
  warmup: number;
  queryWarmup: number;
  seed: number;
}

export const TIERS_DEFAULT: TiersConfig = {
  bulkRows: 10_000,
  largeRows: 100_000,
  batchSize: 1_000,
  singleInserts: 300,
  lookups: 300,
  queryIterations: 15,
  groupIterations: 5,
  coldOpens: 3,
  warmup: 10,
  queryWarmup: 2,
  seed: 20240611,
};

/** Small sizes for `node bench/run.mjs --quick`. */
export const TIERS_QUICK: Partial<TiersConfig> = {
  bulkRows: 2_000,
  largeRows: 10_000,
  singleInserts: 50,
  lookups: 100,
  queryIterations: 5,
  groupIterations: 2,
  coldOpens: 2,
  warmup: 3,
  queryWarmup: 1,
};

/** One group of GROUP_QUERY's answer. */
export interface GroupRow {
  category: string;
  n: number;
  total: number;
}

export const GROUP_QUERY = 'SELECT category, COUNT(*) AS n, SUM(score) AS total FROM bench.items GROUP BY category ORDER BY category';

export const COUNT_QUERY = 'SELECT COUNT(*) AS n FROM bench.items';

export const FLUSH = 'FLUSH TABLE bench.items';

/** COUNT and SUM per category in plain JS: what the baselines do after reading every row. */
export function groupRows(rows: Iterable<{ category: string; score: number }>): GroupRow[] {
  const n = new Array<number>(CATEGORY_COUNT).fill(0);
  const total = new Array<number>(CATEGORY_COUNT).fill(0);
  const index = new Map<string, number>();
  for (let i = 0; i < CATEGORY_COUNT; i++) index.set(categoryName(i), i);
  for (const row of rows) {
    const i = index.get(row.category)!;
    n[i]++;
    total[i] += row.score;
  }
  const out: GroupRow[] = [];
  for (let i = 0; i < CATEGORY_COUNT; i++) if (n[i] > 0) out.push({ category: categoryName(i), n: n[i], total: total[i] });
  return out.sort((a, b) => (a.category < b.category ? -1 : a.category > b.category ? 1 : 0));
}

/** Whether two GROUP BY answers agree (sums to 1e-9 relative: addition order differs). */
export function sameGroups(a: readonly GroupRow[], b: readonly GroupRow[]): boolean {
  return (
    a.length === b.length &&
    a.every((g, i) => g.category === b[i].category && g.n === b[i].n && Math.abs(g.total - b[i].total) <= 1e-9 * Math.max(1, Math.abs(g.total)))
  );
}

/** Raw samples of one side; every figure is in ms. */
export interface TiersSamples {
  bulkMs: number;
  singleMs: number[];
  lookupMs: number[];
  largeBulkMs: number;
  largeLookupMs: number[];
  queryMs: number[];
  groupMs: number[];
  /** Raw IndexedDB and Dexie: open the database from the page + get one row. */
  coldOpenMs: number[];
  /** Ids answered by FILTERED_QUERY for queryParams(0), for the cross-check. */
  firstQueryIds: number[];
  groups: GroupRow[];
}

/** The figures every side has. */
export interface CommonFigures {
  bulkMs: number;
  single: Summary;
  lookup: Summary;
  largeBulkMs: number;
  largeLookup: Summary;
  query: Summary;
  group: Summary;
}

/** Raw IndexedDB and Dexie. */
export interface TiersFigures extends CommonFigures {
  /** Open the database from the page + get one row. */
  coldOpen: Summary;
}

/** An engine side: its cold open in two figures. */
export interface EngineTiersFigures extends CommonFigures {
  /**
   * createClient (default transport) + first lookup while the origin's engine worker is already running:
   * the previous client closed, so the engine reopens from storage in that worker.
   */
  reopen: Summary;
  /** createClient with transport 'worker' + first lookup: a brand-new worker (start, bundle compile, open). */
  coldStart: Summary;
}

/** What FLUSH TABLE did halfway through the engine's large load. */
export interface FlushOutcome {
  /** False when the engine has no FLUSH TABLE yet: the query figures are then hot-only. */
  available: boolean;
  ms: number;
  detail: string;
}

export type EngineStorage = 'idb' | 'opfs';

/** One engine side's results. */
export interface EngineTiersResults {
  /** 'engine/idb' or 'engine/opfs'. */
  label: string;
  storage: EngineStorage;
  figures: EngineTiersFigures;
  flush: FlushOutcome;
  /** SELECT * of the large table through query() and queryArrow(). */
  arrow: { rows: number; queryMs: number; queryArrowMs: number } | undefined;
}

export interface TiersResults {
  config: TiersConfig;
  engines: Record<EngineStorage, EngineTiersResults>;
  idb: TiersFigures;
  dexie: TiersFigures;
  checks: Check[];
  totalMs: number;
}
