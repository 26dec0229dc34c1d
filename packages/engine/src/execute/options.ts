/**
 * The engine's options: their types, defaults, and the one place they are
 * validated. `openDatabase` (and through it every host: the worker, the
 * tabs hub) checks options here, so a bad value is an INVALID_OPTION that
 * names what is allowed wherever it was given.
 */
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import type { Durability } from '../storage/opfs-log';
import type { KvStore } from '../storage/kv';
import type { SegmentStore } from '../storage/cold/types';
import type { BlobStore } from '../storage/blob-store';
import { COLD_DEFAULTS, DEFAULT_MAX_SCHEMA_VERSIONS, HOT_DEFAULTS, JOB_DEFAULTS, LIVE_DEFAULTS, MAX_TIMER_MS, MIGRATION_DEFAULTS, QUERY_DEFAULTS, TRANSACTION_DEFAULTS } from '../core/defaults';
import type { JobSettings } from '../jobs/scheduler';
import { SQL_LIMIT_DEFAULTS, SQL_LIMIT_NAMES, type SqlLimits } from '../sql/limits';

export interface OpenOptions {
  /** IndexedDB database name, or OPFS directory name (default 'kalamlite'). */
  name?: string;
  /** 'opfs' needs a dedicated worker with OPFS sync access handles; elsewhere it fails with UNSUPPORTED (use 'idb'). */
  storage: 'memory' | 'idb' | 'opfs' | KvStore;
  /** IndexedDB factory (tests pass fake-indexeddb's); defaults to globalThis.indexedDB. */
  indexedDB?: IDBFactory;
  /** Compiled plans kept (LRU). Default 256. */
  planCacheSize?: number;
  /** Live queries open at once across all sessions. Default 1000. */
  maxLiveQueries?: number;
  /** Live queries one session may hold open at once (KalamDB: 10 per user). Default 100. */
  maxSubscriptionsPerSession?: number;
  /** Entries kept in system.audit_log (oldest dropped). Default 10,000. */
  maxAuditEntries?: number;
  /** Topics at most (CREATE TOPIC fails past it). Default 64. */
  maxTopics?: number;
  /** Messages one topic keeps at most: past it the oldest are dropped in the commit that adds more. Default 100,000. */
  maxTopicMessages?: number;
  /** Consumer groups one topic keeps at most (an ACK of a new group fails past it). Default 256. */
  maxTopicGroups?: number;
  /** Schema versions kept per table in system.schemas (oldest dropped). Default 64. */
  maxSchemaVersions?: number;
  /** Migrations recorded in system.migrations at most (db.migrate() refuses past it). Default 10,000. */
  maxMigrations?: number;
  /** Rows one explicit transaction may stage before it fails. Default 100,000. */
  maxTransactionRows?: number;
  /** Explicit transactions open at once across all sessions. Default 1000. */
  maxOpenTransactions?: number;
  /** Expired STREAM rows are deleted every this many ms (0: never on a timer). Default 60,000. */
  streamEvictionIntervalMs?: number;
  /** Tombstones past DELETED_RETENTION_HOURS are purged every this many ms (0: never on a timer). Default 3,600,000. */
  retentionIntervalMs?: number;
  /** Rows a background job removes per storage commit. Default 1000. */
  jobBatchSize?: number;
  /** Records kept in system.jobs (oldest dropped). Default 500. */
  maxJobHistory?: number;
  /** Tables with a FLUSH_POLICY are checked every this many ms (0: never on a timer). Default 60,000. */
  flushCheckIntervalMs?: number;
  /** Decoded cold row groups kept in memory (LRU), by their rough size in bytes. Default 64 MiB. */
  segmentCacheBytes?: number;
  /** Rows per cold row group (the unit a read loads and decodes). Default 2048. */
  rowGroupRows?: number;
  /** Rows per cold row page: segments written store each group's rows again in pages this small, so a point read of an uncached group fetches a page, not the group (0: none; the pages about double a segment's bytes). Default 64. */
  rowPageRows?: number;
  /** Rows per cold segment, at most: a flush of more writes several. Default 65,536. */
  maxSegmentRows?: number;
  /** Level 0 (flushed) segments a partition may have before the flush queues its compaction; 0: only STORAGE COMPACT compacts. Default 4. */
  compactL0Segments?: number;
  /** Where cold segment bytes live; default: the KV store's `segments` store. */
  segmentStore?: SegmentStore;
  /** Where the bytes of FILE columns live; default: memory, IndexedDB ("<name>-files") or OPFS (`files/`) as `storage` says. Needed with a KvStore `storage` to store files. */
  blobStore?: BlobStore;
  /** Bytes of one file a FILE column may store (QUOTA_EXCEEDED past it). Default 256 MiB. */
  maxFileBytes?: number;
  /** Bytes of all stored files together, uploads not yet committed included (QUOTA_EXCEEDED past it). Default 2 GiB. */
  maxFilesBytes?: number;
  /**
   * Bytes of vector (HNSW) indexes kept in memory, all partitions together
   * (execute/vector-index.ts). Past it the least recently used partitions'
   * indexes are dropped and rebuilt by a `vector_index` job when next
   * queried (exact search meanwhile). Default 256 MiB.
   */
  vectorIndexBytes?: number;
  /**
   * Candidates a vector index search looks at (HNSW's ef; at least twice
   * the rows it fetches): higher finds more of the true nearest, slower.
   * Default 64.
   */
  vectorIndexEf?: number;
  /** More name → value pairs for system.stats from whoever hosts the engine (the worker reports its connected clients). */
  hostMetrics?: () => readonly [string, Value][];
  /** Write statements committed together in one storage commit at most (group commit). Default 1000. */
  maxGroupCommitStatements?: number;
  /**
   * Rough bytes of hot USER/SHARED rows the engine keeps in memory before it
   * flushes the largest partitions to the cold tier; writes wait while they
   * exceed twice this. Default 8 MiB.
   */
  hotBudgetBytes?: number;
  /** Hot rows of one partition that flush it (tables without a FLUSH_POLICY). Default 8192. */
  hotPartitionRows?: number;
  /**
   * How long (ms) a statement runs before it yields the worker's thread to
   * other work (other clients' statements, commits), then goes on. Default 8.
   * 0 yields at every row (tests).
   */
  statementSliceMs?: number;
  /** A statement running longer than this (ms) fails with STATEMENT_TIMEOUT. Default 60,000; 0: no limit. */
  statementTimeoutMs?: number;
  /**
   * How long (ms) one storage operation may take before it fails with
   * STORAGE_TIMEOUT: a read, a commit, closing (a scan: without making
   * progress). A write that timed out may still complete (then it is
   * applied); later writes wait for its outcome this long again, then fail.
   * Default 30,000; at most 2,147,483,647 (what a timer holds).
   */
  storageTimeoutMs?: number;
  /** Statements (calls) system.queries tracks at once; beyond it a call runs untracked (not listed, not killable by KILL QUERY; its AbortSignal still works). Default 1000. */
  maxRunningQueries?: number;
  /**
   * When a write is acknowledged ('idb' and 'opfs'). 'relaxed' (default):
   * once the browser has it — it survives the worker, the tab or the
   * browser crashing, and the page reloading (IndexedDB's own default in
   * Chromium). 'strict': once it is flushed to the disk, so it also survives
   * a power loss; each commit pays for the flush.
   */
  durability?: Durability;
  /** Characters of SQL text in one call (a batch, a query, a live query). Default 1 MiB (1,048,576). */
  maxSqlLength?: number;
  /** Tokens of SQL text in one call. Default 100,000. */
  maxSqlTokens?: number;
  /** Parameter values one call may pass, and the highest `$n` a statement may name. Default 65,535. */
  maxParameters?: number;
  /** How deeply an expression may nest (parentheses, subqueries, CASE, NOT and sign chains; 4 × this for the converted statement, where each operator of an arithmetic or || chain is a level). Default 128. */
  maxExpressionDepth?: number;
  /** Terms of one AND or OR chain, and items of one list (select list, arguments, CASE arms, GROUP BY, ORDER BY). Default 10,000. */
  maxExpressionTerms?: number;
  /** Values of one `IN (…)` list. Default 50,000. */
  maxInListLength?: number;
  /** SELECTs one UNION / INTERSECT / EXCEPT combines. Default 500. */
  maxSetOperationArms?: number;
  /** Characters of one LIKE / ILIKE pattern (matching costs at most value × pattern steps). Default 10,000. */
  maxLikePatternLength?: number;
  /** Characters of one text value an expression builds (||, CONCAT, CONCAT_WS, REPEAT, LPAD, RPAD, REPLACE), checked before it is built. Default 16 Mi (16,777,216). */
  maxTextLength?: number;
  /** Nesting levels of one JSON value (a parameter, a value stored into a JSON column or cast to JSON, JSON text compared with a JSON column). Default 128. */
  maxJsonDepth?: number;
  /** Milliseconds the SQL parser may spend on one statement; past it LIMIT_EXCEEDED (it backtracks exponentially on syntax errors inside nested CASTs, subqueries, EXISTS). Default 5,000. */
  maxParseMs?: number;
  /** Views one statement may expand: each use of a view, also inside another view's query (a view read twice counts twice). Default 256. */
  maxViewExpansions?: number;
  /** Rows one `generate_series(start, stop[, step])` may produce; past it LIMIT_EXCEEDED before the first row. Default 10,000,000. */
  maxSeriesRows?: number;
}

export const DEFAULTS = {
  planCacheSize: 256,
  maxLiveQueries: LIVE_DEFAULTS.maxLiveQueries,
  maxSubscriptionsPerSession: LIVE_DEFAULTS.maxSubscriptionsPerSession,
  maxAuditEntries: 10_000,
  maxTopics: 64,
  maxTopicMessages: 100_000,
  maxTopicGroups: 256,
  maxGroupCommitStatements: 1000,
  statementSliceMs: 8,
  statementTimeoutMs: 60_000,
  storageTimeoutMs: 30_000,
  maxRunningQueries: QUERY_DEFAULTS.maxRunningQueries,
} as const;

/** Every option with its defaults filled in, as the engine's parts are built from. */
export interface ResolvedOptions extends JobSettings, SqlLimits {
  name: string;
  storage: OpenOptions['storage'];
  indexedDB?: IDBFactory;
  planCacheSize: number;
  maxLiveQueries: number;
  maxSubscriptionsPerSession: number;
  maxAuditEntries: number;
  maxTopics: number;
  maxTopicMessages: number;
  maxTopicGroups: number;
  maxSchemaVersions: number;
  maxMigrations: number;
  maxTransactionRows: number;
  maxOpenTransactions: number;
  segmentCacheBytes: number;
  rowGroupRows: number;
  rowPageRows: number;
  maxSegmentRows: number;
  compactL0Segments: number;
  segmentStore?: SegmentStore;
  blobStore?: BlobStore;
  maxFileBytes: number;
  maxFilesBytes: number;
  vectorIndexBytes: number;
  vectorIndexEf: number;
  hostMetrics?: () => readonly [string, Value][];
  maxGroupCommitStatements: number;
  hotBudgetBytes: number;
  hotPartitionRows: number;
  statementSliceMs: number;
  statementTimeoutMs: number;
  storageTimeoutMs: number;
  maxRunningQueries: number;
  durability: Durability;
}

const STORAGES = ['memory', 'idb', 'opfs'] as const;
const KV_METHODS = ['get', 'scan', 'commit', 'close'] as const;

/** Whole-number options: default, and the smallest (and largest, when not any safe integer) value allowed. */
const COUNTS: Record<string, { fallback: number; min: number; max?: number }> = {
  planCacheSize: { fallback: DEFAULTS.planCacheSize, min: 1 },
  maxLiveQueries: { fallback: DEFAULTS.maxLiveQueries, min: 1 },
  maxSubscriptionsPerSession: { fallback: DEFAULTS.maxSubscriptionsPerSession, min: 1 },
  maxAuditEntries: { fallback: DEFAULTS.maxAuditEntries, min: 1 },
  maxTopics: { fallback: DEFAULTS.maxTopics, min: 1 },
  maxTopicMessages: { fallback: DEFAULTS.maxTopicMessages, min: 1 },
  maxTopicGroups: { fallback: DEFAULTS.maxTopicGroups, min: 1 },
  maxSchemaVersions: { fallback: DEFAULT_MAX_SCHEMA_VERSIONS, min: 1 },
  maxMigrations: { fallback: MIGRATION_DEFAULTS.maxMigrations, min: 1 },
  maxTransactionRows: { fallback: TRANSACTION_DEFAULTS.maxRows, min: 1 },
  maxOpenTransactions: { fallback: TRANSACTION_DEFAULTS.maxOpen, min: 1 },
  streamEvictionIntervalMs: { fallback: JOB_DEFAULTS.streamEvictionIntervalMs, min: 0 },
  retentionIntervalMs: { fallback: JOB_DEFAULTS.retentionIntervalMs, min: 0 },
  jobBatchSize: { fallback: JOB_DEFAULTS.jobBatchSize, min: 1 },
  maxJobHistory: { fallback: JOB_DEFAULTS.maxJobHistory, min: 1 },
  flushCheckIntervalMs: { fallback: JOB_DEFAULTS.flushCheckIntervalMs, min: 0 },
  segmentCacheBytes: { fallback: COLD_DEFAULTS.segmentCacheBytes, min: 0 },
  rowGroupRows: { fallback: COLD_DEFAULTS.rowGroupRows, min: 1 },
  rowPageRows: { fallback: COLD_DEFAULTS.rowPageRows, min: 0 },
  maxSegmentRows: { fallback: COLD_DEFAULTS.maxSegmentRows, min: 1 },
  compactL0Segments: { fallback: COLD_DEFAULTS.compactL0Segments, min: 0 },
  maxGroupCommitStatements: { fallback: DEFAULTS.maxGroupCommitStatements, min: 1 },
  hotBudgetBytes: { fallback: HOT_DEFAULTS.hotBudgetBytes, min: 1 },
  hotPartitionRows: { fallback: HOT_DEFAULTS.hotPartitionRows, min: 1 },
  statementSliceMs: { fallback: DEFAULTS.statementSliceMs, min: 0 },
  statementTimeoutMs: { fallback: DEFAULTS.statementTimeoutMs, min: 0 },
  storageTimeoutMs: { fallback: DEFAULTS.storageTimeoutMs, min: 1, max: MAX_TIMER_MS },
  maxRunningQueries: { fallback: DEFAULTS.maxRunningQueries, min: 1 },
  maxFileBytes: { fallback: 256 * 1024 * 1024, min: 0 },
  maxFilesBytes: { fallback: 2 * 1024 * 1024 * 1024, min: 0 },
  vectorIndexBytes: { fallback: 256 * 1024 * 1024, min: 0 },
  vectorIndexEf: { fallback: 64, min: 1 },
  ...Object.fromEntries(SQL_LIMIT_NAMES.map((k) => [k, { fallback: SQL_LIMIT_DEFAULTS[k], min: 1 }])),
};

/** The SQL limits (sql/limits.ts) out of resolved options. */
export function sqlLimitsOf(o: ResolvedOptions): SqlLimits {
  return Object.freeze(Object.fromEntries(SQL_LIMIT_NAMES.map((k) => [k, o[k]]))) as unknown as SqlLimits;
}

const OTHER_KEYS = ['name', 'storage', 'indexedDB', 'segmentStore', 'blobStore', 'hostMetrics', 'durability'];

/** Every option name openDatabase() knows. */
export const OPTION_NAMES: readonly string[] = [...OTHER_KEYS, ...Object.keys(COUNTS)];

const invalid = (message: string) => new KalamError('INVALID_OPTION', message);

/** The durability asked for, or INVALID_OPTION. */
export function checkDurability(durability: unknown): Durability {
  if (durability !== 'relaxed' && durability !== 'strict') {
    throw invalid(`durability must be 'relaxed' or 'strict' (got ${describe(durability)})`);
  }
  return durability;
}

/**
 * Checks every option and fills in the defaults. Throws INVALID_OPTION,
 * naming the option and what it accepts, for an unknown option name, a
 * storage that is not 'memory', 'idb', 'opfs' or a KvStore, or a number
 * that is not a whole number in range.
 */
export function resolveOptions(options: unknown): ResolvedOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid(`openDatabase() needs an options object, for example { storage: 'idb', name: 'app' } (got ${describe(options)})`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (o[key] !== undefined && !OPTION_NAMES.includes(key)) {
      throw invalid(`Unknown option '${key}'. Valid options: ${OPTION_NAMES.join(', ')}`);
    }
  }
  const storage = o.storage;
  if (!(STORAGES as readonly unknown[]).includes(storage) && !isKvStore(storage)) {
    throw invalid(`Unknown storage ${describe(storage)}: use 'idb' (IndexedDB), 'opfs' (Origin Private File System), 'memory', or a KvStore object`);
  }
  const name = o.name ?? 'kalamlite';
  if (typeof name !== 'string' || name.length === 0) throw invalid(`name must be a non-empty string (got ${describe(o.name)})`);
  if (o.indexedDB !== undefined && (typeof o.indexedDB !== 'object' || o.indexedDB === null || typeof (o.indexedDB as IDBFactory).open !== 'function')) {
    throw invalid('indexedDB must be an IDBFactory (an object with open(), like globalThis.indexedDB)');
  }
  if (o.hostMetrics !== undefined && typeof o.hostMetrics !== 'function') throw invalid('hostMetrics must be a function returning [name, value] pairs');
  if (o.segmentStore !== undefined && !isSegmentStore(o.segmentStore)) {
    throw invalid('segmentStore must be an object with readGroups() and get(), and either write() and remove() (a store inside the KV store) or put() and delete() (files)');
  }
  const counts: Record<string, number> = {};
  for (const [key, { fallback, min, max }] of Object.entries(COUNTS)) {
    const v = o[key];
    if (v === undefined) {
      counts[key] = fallback;
      continue;
    }
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || (max !== undefined && v > max)) {
      const range = max !== undefined ? `a whole number from ${min} to ${max}` : min === 1 ? 'a positive integer' : 'a whole number of at least 0';
      throw invalid(`${key} must be ${range} (got ${describe(v)})`);
    }
    counts[key] = v;
  }
  return {
    ...(counts as unknown as Omit<ResolvedOptions, 'name' | 'storage' | 'indexedDB' | 'segmentStore' | 'blobStore' | 'hostMetrics' | 'durability'>),
    name,
    storage: storage as OpenOptions['storage'],
    indexedDB: o.indexedDB as IDBFactory | undefined,
    segmentStore: o.segmentStore as SegmentStore | undefined,
    blobStore: o.blobStore as BlobStore | undefined,
    hostMetrics: o.hostMetrics as ResolvedOptions['hostMetrics'],
    durability: checkDurability(o.durability ?? 'relaxed'),
  };
}

function isKvStore(v: unknown): v is KvStore {
  return typeof v === 'object' && v !== null && KV_METHODS.every((m) => typeof (v as Record<string, unknown>)[m] === 'function');
}

function isSegmentStore(v: unknown): v is SegmentStore {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  const fn = (k: string) => typeof s[k] === 'function';
  return fn('readGroups') && fn('get') && ((fn('write') && fn('remove')) || (fn('put') && fn('delete')));
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'a function';
  if (v === null || typeof v !== 'object') return String(v);
  return Array.isArray(v) ? 'an array' : 'an object';
}
