/**
 * The scale bench (issue 11, "Benchmarks"): one USER-table shape of six
 * columns and one user, at 10,000, 100,000 and 1,000,000 rows, on four
 * sides — the engine over IndexedDB and over OPFS, Dexie, and SQLite-WASM
 * over OPFS (SAH pool VFS) — in one run.
 *
 * What every side implements (ScaleStore), the names, the SQL, the shape of
 * what a page returns to bench/scale-run.mjs, and a percentile helper. The
 * Node side (scale-run.mjs) drives pages, cold starts and the worker heap
 * (Chrome DevTools Protocol); the pages (scale-page.ts) time the operations.
 */
import { categoryName, rowFor, type BenchRow } from './rows';

export type ScaleSideName = 'engine-idb' | 'engine-opfs' | 'dexie' | 'sqlite';

export const SCALE_SIDES: readonly ScaleSideName[] = ['engine-idb', 'engine-opfs', 'dexie', 'sqlite'];

export const SCALE_LABELS: Record<ScaleSideName, string> = {
  'engine-idb': 'engine/idb',
  'engine-opfs': 'engine/opfs',
  dexie: 'dexie',
  sqlite: 'sqlite-wasm',
};

export const SCALE_SEED = 20240611;
/** The one user every row belongs to (the engine's USER-table partition; a plain column for the peers). */
export const SCALE_USER = 'u1';
/** Rows per bulk-insert call: one multi-row INSERT / one bulkPut / one message of prepared inserts. */
export const SCALE_BATCH_ROWS = 1_000;
/** Rows of a pk range (`id BETWEEN $1 AND $2`). */
export const RANGE_ROWS = 20;
export const FILTER_LIMIT = 50;

/** A row as every side stores it: the bench row plus created_at and user_id (six columns). */
export interface ScaleRow extends BenchRow {
  created_at: number;
  user_id: string;
}

/** A fixed clock for created_at, so every side stores the same values. */
const CREATED_AT_BASE = Date.UTC(2024, 0, 1);

export function scaleRow(id: number): ScaleRow {
  return { ...rowFor(SCALE_SEED, id), created_at: CREATED_AT_BASE + id * 1000, user_id: SCALE_USER };
}

export function scaleRows(first: number, count: number): ScaleRow[] {
  const rows: ScaleRow[] = new Array(count);
  for (let i = 0; i < count; i++) rows[i] = scaleRow(first + i);
  return rows;
}

/** The category of the i-th filtered query. */
export function filterCategory(i: number): string {
  return categoryName(i * 3);
}

// The engine's SQL (the peers run the same statements in their own dialect).
export const ENGINE_NAMESPACE = 'CREATE NAMESPACE IF NOT EXISTS bench';
export const ENGINE_TABLE =
  'CREATE USER TABLE IF NOT EXISTS bench.items (id BIGINT PRIMARY KEY, category TEXT NOT NULL, score DOUBLE, title TEXT, created_at TIMESTAMP, user_id TEXT)';
export const SQL_LOOKUP = 'SELECT * FROM bench.items WHERE id = $1';
export const SQL_RANGE = 'SELECT * FROM bench.items WHERE id BETWEEN $1 AND $2';
export const SQL_COUNT = 'SELECT COUNT(*) AS n FROM bench.items';
export const SQL_FILTER = `SELECT * FROM bench.items WHERE category = $1 ORDER BY score DESC LIMIT ${FILTER_LIMIT}`;
export const SQL_GROUP = 'SELECT category, COUNT(*) AS n, AVG(score) AS avg_score FROM bench.items GROUP BY category ORDER BY category';
export const SQL_FLUSH = 'STORAGE FLUSH TABLE bench.items';
/** The engine's index for SQL_FILTER, as the peers have theirs. */
export const SQL_INDEX = 'CREATE INDEX IF NOT EXISTS items_category_score ON bench.items (category, score)';
export const SQL_COMPACT = 'STORAGE COMPACT TABLE bench.items';

/** One group of the GROUP BY answer. */
export interface GroupAgg {
  category: string;
  n: number;
  avg: number;
}

/** GROUP BY category (COUNT, AVG(score)) in plain JS, for the peers that have no aggregate. */
export function groupInJs(rows: Iterable<{ category: string; score: number }>): GroupAgg[] {
  const acc = new Map<string, { n: number; sum: number }>();
  for (const row of rows) {
    let a = acc.get(row.category);
    if (!a) acc.set(row.category, (a = { n: 0, sum: 0 }));
    a.n++;
    a.sum += row.score;
  }
  return [...acc.entries()]
    .map(([category, { n, sum }]) => ({ category, n, avg: sum / n }))
    .sort((x, y) => (x.category < y.category ? -1 : x.category > y.category ? 1 : 0));
}

/** What a side did after its load, before the cold starts: the engine's flush (timed), the peers' index build. */
export interface AfterLoad {
  what: 'flush' | 'index';
  ms: number;
  detail: string;
}

/** One side's storage, driven identically by scale-page.ts. Every method rejects on failure. */
export interface ScaleStore {
  /** Opens the database (and its worker); with `create`, an empty one with the table. */
  open(create: boolean): Promise<void>;
  get(id: number): Promise<BenchRow | undefined>;
  /** Writes one batch of the bulk load; resolves to the rows written. */
  insertBatch(rows: ScaleRow[]): Promise<number>;
  /** Ends the load, inside the timed bulk figure (SQLite's COMMIT of its one transaction). */
  endLoad?(): Promise<void>;
  /** Called once, untimed by the caller, between the load and the end of the bulk figure (see AfterLoad). */
  afterLoad(timeoutMs: number): Promise<AfterLoad>;
  range(from: number, to: number): Promise<number[]>;
  count(): Promise<number>;
  /** Ids of the FILTER_LIMIT highest scores of `category`, highest first. */
  filtered(category: string): Promise<number[]>;
  groupBy(): Promise<GroupAgg[]>;
  /** One row, one commit. */
  insertOne(row: ScaleRow): Promise<void>;
  /** Engine only: compaction while single-row inserts run. */
  compactDuring?(options: CompactOptions): Promise<CompactOutcome>;
  /** Engine only: `system.stats` as name → value. */
  stats?(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

export interface CompactOptions {
  /** The id of the first row inserted while the compaction runs. */
  nextId: number;
  timeoutMs: number;
}

export type CompactOutcome =
  | { supported: false; detail: string }
  | {
      supported: true;
      /** No job was started (the statement said why). */
      skipped?: string;
      /** The flush run first so there are two segments to compact. */
      flushMs: number;
      compactMs: number;
      status: string;
      latency: Quantiles | undefined;
      inserted: number;
    };

/** The figures of a timed loop, in ms. */
export interface Quantiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  min: number;
  max: number;
}

/** Nearest-rank percentiles. */
export function quantiles(samples: readonly number[]): Quantiles | undefined {
  if (samples.length === 0) return undefined;
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  return { n: s.length, p50: at(50), p95: at(95), p99: at(99), min: s[0], max: s[s.length - 1] };
}

/** The timed operations on the cold-opened database, in the order they run. */
export type OpName = 'lookup' | 'range' | 'count' | 'filter' | 'group' | 'single';

export const OP_NAMES: readonly OpName[] = ['lookup', 'range', 'count', 'filter', 'group', 'single'];

/** Untimed warm-up calls, then up to `iterations` timed ones, stopping early once `budgetMs` of timed work is spent. */
export interface OpSpec {
  warmup: number;
  iterations: number;
  budgetMs: number;
}

export const OP_SPECS: Record<OpName, OpSpec> = {
  lookup: { warmup: 10, iterations: 300, budgetMs: 30_000 },
  range: { warmup: 5, iterations: 100, budgetMs: 30_000 },
  count: { warmup: 1, iterations: 10, budgetMs: 30_000 },
  filter: { warmup: 2, iterations: 20, budgetMs: 30_000 },
  group: { warmup: 1, iterations: 5, budgetMs: 45_000 },
  single: { warmup: 10, iterations: 200, budgetMs: 30_000 },
};

/** What one timed operation returns to Node (an `error` instead when it failed). */
export interface OpOutcome {
  q?: Quantiles;
  /** Answers that were wrong (each op checks its own: the row written, the ids of the range, …). */
  wrong: number;
  detail?: string;
  /** filter: the first query's ids; group: the answer — for the cross-side checks. */
  firstIds?: number[];
  groups?: GroupAgg[];
  /** single: rows inserted (warm-up included), so the next insert takes the next id. */
  inserted?: number;
  error?: string;
}

export interface LoadOutcome {
  ms: number;
  rows: number;
  error?: string;
}

/** What the page of a cold start leaves in `window.scaleCold`. */
export interface ColdOutcome {
  /** performance.now() when the first result arrived: ms since the navigation started. */
  ms?: number;
  ok?: boolean;
  /** performance.now() when the page's module started running, and when the database was open (before the lookup). */
  scriptMs?: number;
  openMs?: number;
  error?: string;
}

/** A failure as a table cell says it: "CODE: message" for a KalamError, else the message. */
export function describeError(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    return `${(e as { code: string }).code}: ${(e as { message?: string }).message ?? ''}`;
  }
  return e instanceof Error ? e.message : String(e);
}
