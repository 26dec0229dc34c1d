/**
 * The engine's option defaults, as plain values with no imports, so that
 * what validates options (execute/options.ts, api/session-options.ts) —
 * which the page-side client imports too — pulls in none of the modules
 * that use them: an app page that talks to the worker loads these
 * numbers, not the cold tier, the job scheduler or the live registry. Each
 * owning module re-exports its own under its old name.
 */

/** storage/cold/cold-tier.ts: see docs/ARCHITECTURE.md (storage) for the measurements behind them; compactL0Segments: jobs/compact.ts. */
export const COLD_DEFAULTS = { segmentCacheBytes: 64 * 1024 * 1024, rowGroupRows: 2048, rowPageRows: 64, maxSegmentRows: 65_536, compactL0Segments: 4 } as const;

/** jobs/auto-flush.ts: the hot tier's budget. */
export const HOT_DEFAULTS = { hotBudgetBytes: 8 * 1024 * 1024, hotPartitionRows: 8192 };

/** jobs/scheduler.ts. */
export const JOB_DEFAULTS = {
  streamEvictionIntervalMs: 60_000,
  retentionIntervalMs: 3_600_000,
  jobBatchSize: 1000,
  maxJobHistory: 500,
  flushCheckIntervalMs: 60_000,
};

/** live/registry.ts. */
export const LIVE_DEFAULTS = { maxLiveQueries: 1000, maxSubscriptionsPerSession: 100 };

/** execute/transaction.ts. */
export const TRANSACTION_DEFAULTS = { maxRows: 100_000, maxOpen: 1000 };

/** execute/queries.ts. */
export const QUERY_DEFAULTS = { maxRunningQueries: 1000 } as const;

/** system/migrations.ts. */
export const MIGRATION_DEFAULTS = { maxMigrations: 10_000 } as const;

/** catalog/catalog.ts: schema versions kept per table. */
export const DEFAULT_MAX_SCHEMA_VERSIONS = 64;

/** catalog/catalog.ts: the namespace a session starts in. */
export const DEFAULT_NAMESPACE = 'default';

/** storage/guarded-store.ts: the longest delay setTimeout takes (2^31 − 1 ms). */
export const MAX_TIMER_MS = 2_147_483_647;
