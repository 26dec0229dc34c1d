/** system.settings and system.stats: every bound the engine keeps, and the numbers that show how close it is. */
import type { UserRegistry } from '../auth/users';
import type { Catalog } from '../catalog/catalog';
import type { Value } from '../core/types';
import { flushableHotBytes, type AutoFlushCounters, type HotBudget } from '../jobs/auto-flush';
import type { JobScheduler } from '../jobs/scheduler';
import type { LiveRegistry } from '../live/registry';
import { SQL_LIMIT_NAMES, SQL_LIMIT_SETTINGS } from '../sql/limits';
import { notLoaded } from '../plan/call-hooks';
import type { PlanCache } from '../plan/cache';
import type { ColdTier } from '../storage/cold/cold-tier';
import { PAGE_ROWS, type HotTier } from '../storage/hot-tier';
import type { KvStore } from '../storage/kv';
import type { AuditLog } from '../system/audit';
import type { MigrationLog } from '../system/migrations';
import type { GroupCommitter } from './group-commit';
import type { Plan } from './planner';
import type { ResolvedOptions } from './options';
import type { QueryRegistry } from './queries';
import type { TransactionRegistry } from './transaction';

export interface StatsSource {
  readonly options: ResolvedOptions;
  readonly kv: KvStore;
  readonly catalog: Catalog;
  readonly hot: HotTier;
  readonly cold: ColdTier;
  readonly users: UserRegistry;
  readonly audit: AuditLog;
  readonly migrations: MigrationLog;
  readonly live: LiveRegistry;
  readonly jobs: JobScheduler;
  readonly transactions: TransactionRegistry;
  readonly groups: GroupCommitter;
  readonly plans: PlanCache<Plan>;
  readonly commits: number;
  readonly budget: HotBudget;
  readonly autoFlush: AutoFlushCounters;
  readonly queries: QueryRegistry;
  readonly topics: { metrics(): [string, Value][] } | undefined;
  readonly files: { metrics(): [string, Value][] } | undefined;
  readonly vectors?: { metrics(): [string, Value][] } | undefined;
  readonly committer: { readonly timeouts: number; readonly lateCommits: number; readonly inDoubt: number };
}

/**
 * What each setting is, shown in system.settings: the text lives in
 * setting-descriptions.ts, an SQL extension loaded before a statement whose
 * text says SETTINGS (execute/sql-extensions.ts).
 */
let descriptions: Readonly<Record<string, string>> | undefined;

export function registerSettingDescriptions(d: Readonly<Record<string, string>>): void {
  descriptions = d;
}

export function settingsOf(e: StatsSource): [string, Value, string][] {
  if (descriptions === undefined) throw notLoaded('The setting descriptions');
  const d = descriptions;
  const o = e.options;
  const rows: [string, Value][] = [
    ['plan_cache_size', o.planCacheSize],
    ['max_live_queries', o.maxLiveQueries],
    ['max_subscriptions_per_session', e.live.limits.maxSubscriptionsPerSession],
    ['max_audit_entries', o.maxAuditEntries],
    ['max_topics', o.maxTopics],
    ['max_topic_messages', o.maxTopicMessages],
    ['max_topic_groups', o.maxTopicGroups],
    ['max_schema_versions', e.catalog.maxSchemaVersions],
    ['max_migrations', o.maxMigrations],
    ['max_transaction_rows', e.transactions.limits.maxRows],
    ['max_open_transactions', e.transactions.limits.maxOpen],
    ['stream_eviction_interval_ms', e.jobs.settings.streamEvictionIntervalMs],
    ['retention_interval_ms', e.jobs.settings.retentionIntervalMs],
    ['job_batch_size', e.jobs.settings.jobBatchSize],
    ['max_job_history', e.jobs.settings.maxJobHistory],
    ['flush_check_interval_ms', e.jobs.settings.flushCheckIntervalMs],
    ['segment_cache_bytes', e.cold.cache.capacityBytes],
    ['row_group_rows', e.cold.options.rowGroupRows],
    ['row_page_rows', e.cold.options.rowPageRows],
    ['max_segment_rows', e.cold.options.maxSegmentRows],
    ['compact_l0_segments', e.cold.options.compactL0Segments],
    ['max_group_commit_statements', e.groups.maxStatements],
    ['hot_budget_bytes', e.budget.hotBudgetBytes],
    ['hot_partition_rows', e.budget.hotPartitionRows],
    ['statement_slice_ms', o.statementSliceMs],
    ['statement_timeout_ms', o.statementTimeoutMs],
    ['storage_timeout_ms', o.storageTimeoutMs],
    ['max_running_queries', e.queries.maxRunning],
    ['max_file_bytes', o.maxFileBytes],
    ['max_files_bytes', o.maxFilesBytes],
    ['max_vector_index_bytes', o.vectorIndexBytes],
    ['vector_index_ef', o.vectorIndexEf],
    ...SQL_LIMIT_NAMES.map((k): [string, Value] => [SQL_LIMIT_SETTINGS[k], o[k]]),
    ['durability', o.durability],
    ['storage', e.kv.kind],
  ];
  return rows.map(([name, value]) => [name, value, d[name] ?? '']);
}

export function metricsOf(e: StatsSource): [string, Value][] {
  const p = e.plans.stats();
  const out: [string, Value][] = [
    ['plan_cache_size', p.size],
    ['plan_cache_capacity', p.capacity],
    ['plan_cache_hits', p.hits],
    ['plan_cache_misses', p.misses],
    ['plan_cache_evictions', p.evictions],
    ['plan_cache_invalidations', p.invalidations],
    ['live_queries', e.live.size],
    ['live_queries_max', e.live.maxSubscriptions],
    ['live_queries_max_per_session', e.live.limits.maxSubscriptionsPerSession],
    ['live_queries_maintained', e.live.list().filter((s) => s.isMaintained).length],
    ['live_index_entries', e.live.indexSize],
    ['live_texts', e.live.textCount],
    ['live_expiries_pending', e.live.expiriesPending],
    ['live_sessions', e.live.sessionsWithSubscriptions],
    ['live_cold_loads', e.live.coldLoads],
    ['live_subscriptions_examined', e.live.subscriptionsExamined],
    ['live_deliveries', e.live.deliveries],
    ['commits', e.commits],
    ['group_commits', e.groups.groupCommits],
    ['group_commit_statements', e.groups.groupedStatements],
    ['queries_running', e.queries.size],
    ['queries_running_max', e.queries.maxRunning],
    ['queries_untracked', e.queries.untracked],
    ['queries_cancelled', e.queries.cancelledCount],
    ['storage_commit_timeouts', e.committer.timeouts],
    ['storage_late_commits', e.committer.lateCommits],
    ['storage_commits_in_doubt', e.committer.inDoubt],
    ['transactions_open', e.transactions.size],
    ['transactions_max', e.transactions.limits.maxOpen],
    ['transactions_committed', e.transactions.committed],
    ['transactions_rolled_back', e.transactions.rolledBack],
    ['audit_log_entries', e.audit.size],
    ['audit_log_max', e.audit.max],
    ['schema_versions', e.catalog.schemaVersionCount],
    ['schema_versions_max_per_table', e.catalog.maxSchemaVersions],
    ['migrations_applied', e.migrations.size],
    ['migrations_max', e.options.maxMigrations],
    ['migration_version', e.migrations.version],
    ...(e.topics?.metrics() ?? [['topics', 0]]),
    ...(e.files?.metrics() ?? []),
    ...(e.vectors?.metrics() ?? [['vector_index_bytes', 0]]),
    ...e.jobs.metrics(),
    ...e.cold.metrics(),
    ['users', e.users.list().length],
    ['namespaces', e.catalog.listNamespaces().length],
    ['tables', e.catalog.listTables().length],
    ['views', e.catalog.viewCount],
    ['indexes', e.catalog.listTables().reduce((n, t) => n + (t.indexes?.length ?? 0), 0)],
    ['hot_index_entries', e.hot.observer?.entries ?? 0],
    ['index_cold_reads', e.hot.observer?.coldReads ?? 0],
    ['storage', e.kv.kind],
    ['hot_pages', e.hot.pageCount()],
    ['hot_bytes', e.hot.bytes],
    ['hot_budget_bytes', e.budget.hotBudgetBytes],
    ['hot_flushable_bytes', flushableHotBytes(e)],
    ['auto_flushes', e.autoFlush.autoFlushes],
    ['budget_flushes', e.autoFlush.budgetFlushes],
    ['writes_waited_for_flush', e.autoFlush.writesWaited],
    ['hot_page_rows_max', PAGE_ROWS],
  ];
  if (e.options.hostMetrics) out.push(...e.options.hostMetrics());
  for (const t of e.catalog.listTables()) {
    const rows = e.hot.table(t.id);
    out.push([`table_rows.${t.namespace}.${t.name}`, rows.liveRows]);
    out.push([`table_tombstones.${t.namespace}.${t.name}`, rows.tombstones]);
  }
  return out;
}
