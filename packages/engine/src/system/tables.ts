/**
 * `system.*` virtual tables: rows computed from the catalog and metrics at
 * read time. Readable by the dba and system roles only, as in KalamDB.
 */
import { Decimal } from '../core/decimal';
import { Interval } from '../core/interval';
import { checkSystemRead } from '../auth/permissions';
import type { UserRecord } from '../auth/users';
import type { Catalog } from '../catalog/catalog';
import type { AuditEntry } from './audit';
import type { MigrationRecord } from './migrations';
import type { Subscription } from '../live/subscription';
import type { JobRecord } from '../jobs/job';
import { levelOf, type SegmentMeta } from '../storage/cold/types';
import { KalamError } from '../core/errors';
import { indexColumnNames } from '../core/schema';
import type { ExecContext, Tuple } from '../exec/context';
import type { RelationSource, SourceColumn } from '../plan/source';
import type { DataType, JsonValue, Value } from '../core/types';
import { stableJson } from '../core/values';

/** One row of system.transactions. */
export interface TransactionInfo {
  transaction_id: string;
  owner_id: string;
  origin: 'sql' | 'api';
  state: 'open' | 'committing' | 'committed' | 'rolled_back';
  age_ms: number;
  idle_ms: number;
  write_count: number;
  staged_rows: number;
  touched_tables_count: number;
}

/** One row of system.queries: a statement (one call: a query or a batch) running now. */
export interface QueryInfo {
  query_id: string;
  user_id: string;
  role: string;
  /** The client the session belongs to (session option `client`), if any. */
  owner: string | null;
  transaction_id: string | null;
  /** 'cancelling': asked to stop, not at a pause point yet; 'committing': writing, no longer cancelled. */
  state: 'running' | 'cancelling' | 'committing';
  started_at: number;
  elapsed_ms: number;
  /** The SQL text, cut at 1024 characters. */
  sql: string;
}

export interface SystemEnv {
  catalog: Catalog;
  /** name → value pairs for system.stats, computed on read. */
  metrics(): [string, Value][];
  users(): readonly UserRecord[];
  live(): readonly Subscription[];
  audit(): readonly AuditEntry[];
  /** The bounded job history, oldest first. */
  jobs(): readonly JobRecord[];
  /** name, value, description */
  settings(): [string, Value, string][];
  /** Open explicit transactions. */
  transactions(): readonly TransactionInfo[];
  /** Committed cold segments (system.manifest). */
  segments?(): readonly SegmentMeta[];
  /** Statements running now (system.queries). */
  queries?(): readonly QueryInfo[];
  /** Applied schema migrations, by version (system.migrations). */
  migrations?(): readonly MigrationRecord[];
  /** Topics and consumer-group offsets (execute/topic-log.ts), as rows of system.topics / system.topic_offsets. */
  topics?(): Tuple[];
  topicOffsets?(): Tuple[];
}

export interface SystemTable {
  columns: [string, DataType][];
  rows(env: SystemEnv): Tuple[];
}

const TABLES: Record<string, SystemTable> = {
  namespaces: {
    columns: [['namespace_id', 'TEXT'], ['name', 'TEXT'], ['created_at', 'TIMESTAMP'], ['table_count', 'INT']],
    rows: ({ catalog }) => catalog.listNamespaces().map((n) => [n.name, n.name, n.createdAt, catalog.listTables(n.name).length]),
  },
  tables: {
    columns: [
      ['namespace_id', 'TEXT'], ['table_name', 'TEXT'], ['table_type', 'TEXT'], ['table_id', 'INT'], ['version', 'INT'],
      ['access_level', 'TEXT'], ['ttl_seconds', 'INT'], ['options', 'JSON'], ['created_at', 'TIMESTAMP'],
    ],
    rows: ({ catalog }) => catalog.listTables().map((t) => [
      t.namespace, t.name, t.type, t.id, t.version, t.accessLevel ?? null, t.ttlSeconds ?? null, t.options, t.createdAt,
    ]),
  },
  views: {
    columns: [
      ['namespace_id', 'TEXT'], ['view_name', 'TEXT'], ['definition', 'TEXT'], ['column_names', 'JSON'],
      ['created_at', 'TIMESTAMP'], ['updated_at', 'TIMESTAMP'],
    ],
    rows: ({ catalog }) => catalog.listViews().map((v) => [v.namespace, v.name, v.query, v.columns ?? null, v.createdAt, v.updatedAt]),
  },
  indexes: {
    columns: [
      ['namespace_id', 'TEXT'], ['table_name', 'TEXT'], ['index_name', 'TEXT'], ['column_names', 'JSON'],
      ['is_unique', 'BOOLEAN'], ['created_at', 'TIMESTAMP'],
    ],
    rows: ({ catalog }) => catalog.listTables().flatMap((t) => (t.indexes ?? []).map((x): Value[] => [
      t.namespace, t.name, x.name, indexColumnNames(t, x), x.unique, x.createdAt,
    ]).concat((t.vectorIndexes ?? []).map((v): Value[] => {
      // A vector index: named `<table>_<column>_vector_idx`, its column with the metric.
      const c = t.columns.find((x) => x.id === v.columnId)?.name ?? `#${v.columnId}`;
      return [t.namespace, t.name, `${t.name}_${c}_vector_idx`, [`${c} USING ${v.metric.toUpperCase()}`], false, v.createdAt];
    }))),
  },
  columns: {
    columns: [
      ['namespace_id', 'TEXT'], ['table_name', 'TEXT'], ['column_id', 'INT'], ['column_name', 'TEXT'], ['ordinal', 'INT'],
      ['data_type', 'TEXT'], ['nullable', 'BOOLEAN'], ['primary_key', 'BOOLEAN'], ['default_value', 'TEXT'],
    ],
    rows: ({ catalog }) => catalog.listTables().flatMap((t) => t.columns.map((c, i): Value[] => [
      t.namespace, t.name, c.id, c.name, i + 1, c.type, !c.notNull, c.primaryKey,
      c.default ? (c.default.kind === 'literal' ? stableJson(c.default.value) : `${c.default.name}()`) : null,
    ])),
  },
  schemas: {
    columns: [
      ['table_id', 'TEXT'], ['table_name', 'TEXT'], ['namespace_id', 'TEXT'], ['table_type', 'TEXT'], ['schema_version', 'INT'],
      ['columns', 'JSON'], ['options', 'JSON'], ['created_at', 'TIMESTAMP'], ['updated_at', 'TIMESTAMP'], ['access_level', 'TEXT'],
      ['is_latest', 'BOOLEAN'],
    ],
    rows: ({ catalog }) => catalog.listSchemaVersions().map(({ def: t }) => [
      `${t.namespace}:${t.name}`, t.name, t.namespace, t.type, t.version,
      t.columns.map((c, i) => ({
        column_id: c.id, column_name: c.name, ordinal_position: i + 1, data_type: c.type, is_nullable: !c.notNull,
        is_primary_key: c.primaryKey,
        default_value: c.default ? (c.default.kind === 'literal' ? stableJson(c.default.value) : `${c.default.name}()`) : null,
      })),
      t.options, t.createdAt, t.updatedAt ?? t.createdAt, t.accessLevel ?? null,
      catalog.tableById(t.id)?.version === t.version,
    ]),
  },
  users: {
    columns: [
      ['user_id', 'TEXT'], ['role', 'TEXT'], ['email', 'TEXT'], ['auth_type', 'TEXT'],
      ['created_at', 'TIMESTAMP'], ['updated_at', 'TIMESTAMP'], ['deleted_at', 'TIMESTAMP'],
    ],
    rows: (env) => env.users().map((u) => [u.user_id, u.role, u.email, u.auth_type, u.created_at, u.updated_at, u.deleted_at]),
  },
  audit_log: {
    columns: [
      ['audit_id', 'BIGINT'], ['timestamp', 'TIMESTAMP'], ['actor_user_id', 'TEXT'], ['actor_role', 'TEXT'], ['action', 'TEXT'],
      ['target', 'TEXT'], ['subject_user_id', 'TEXT'], ['outcome', 'TEXT'], ['details', 'TEXT'],
    ],
    rows: (env) => env.audit().map((a) => [
      a.audit_id, a.timestamp, a.actor_user_id, a.actor_role, a.action, a.target, a.subject_user_id, a.outcome, a.details,
    ]),
  },
  jobs: {
    columns: [
      ['job_id', 'TEXT'], ['job_type', 'TEXT'], ['status', 'TEXT'], ['parameters', 'JSON'], ['message', 'TEXT'],
      ['created_at', 'TIMESTAMP'], ['started_at', 'TIMESTAMP'], ['finished_at', 'TIMESTAMP'], ['rows_affected', 'INT'],
    ],
    rows: (env) => env.jobs().map((j) => [
      j.job_id, j.job_type, j.status, j.parameters, j.message, j.created_at, j.started_at, j.finished_at, j.rows_affected,
    ]),
  },
  settings: {
    columns: [['name', 'TEXT'], ['value', 'TEXT'], ['description', 'TEXT']],
    rows: (env) => env.settings().map(([n, v, d]) => [n, v === null ? null : String(v), d]),
  },
  transactions: {
    columns: [
      ['transaction_id', 'TEXT'], ['owner_id', 'TEXT'], ['origin', 'TEXT'], ['state', 'TEXT'], ['age_ms', 'BIGINT'],
      ['idle_ms', 'BIGINT'], ['write_count', 'INT'], ['staged_rows', 'INT'], ['touched_tables_count', 'INT'],
    ],
    rows: (env) => env.transactions().map((t) => [
      t.transaction_id, t.owner_id, t.origin, t.state, BigInt(t.age_ms), BigInt(t.idle_ms), t.write_count, t.staged_rows, t.touched_tables_count,
    ]),
  },
  live: {
    columns: [
      ['live_id', 'TEXT'], ['user_id', 'TEXT'], ['owner', 'TEXT'], ['namespace_id', 'TEXT'], ['table_name', 'TEXT'], ['query', 'TEXT'],
      ['options', 'JSON'], ['status', 'TEXT'], ['maintained', 'BOOLEAN'], ['created_at', 'TIMESTAMP'], ['last_update', 'TIMESTAMP'], ['changes', 'INT'],
    ],
    rows: (env) => env.live().map((sub) => {
      const t = sub.tableIds.map((id) => env.catalog.tableById(id)).find((x) => x);
      const o = sub.options;
      const options: { [key: string]: JsonValue } = {};
      if (o.lastRows !== undefined) options.last_rows = o.lastRows;
      if (o.batchSize !== undefined) options.batch_size = o.batchSize;
      if (o.from !== undefined) options.from = o.from.toString();
      return [
        sub.liveId, sub.owner.user, sub.owner.client ?? null, t?.namespace ?? null, t?.name ?? null, sub.sql,
        options, sub.isLoading ? 'loading' : 'active', sub.isMaintained, sub.createdAt, sub.lastUpdate, sub.changes,
      ];
    }),
  },
  queries: {
    columns: [
      ['query_id', 'TEXT'], ['user_id', 'TEXT'], ['role', 'TEXT'], ['owner', 'TEXT'], ['transaction_id', 'TEXT'], ['state', 'TEXT'],
      ['started_at', 'TIMESTAMP'], ['elapsed_ms', 'BIGINT'], ['sql', 'TEXT'],
    ],
    rows: (env) => (env.queries?.() ?? []).map((q) => [
      q.query_id, q.user_id, q.role, q.owner, q.transaction_id, q.state, q.started_at, BigInt(q.elapsed_ms), q.sql,
    ]),
  },
  manifest: {
    columns: [
      ['cache_key', 'TEXT'], ['segment_id', 'TEXT'], ['namespace_id', 'TEXT'], ['table_name', 'TEXT'], ['scope', 'TEXT'],
      ['row_count', 'INT'], ['min_seq', 'BIGINT'], ['max_seq', 'BIGINT'], ['size_bytes', 'INT'], ['schema_version', 'INT'],
      ['status', 'TEXT'], ['column_stats', 'JSON'], ['created_at', 'TIMESTAMP'], ['format', 'INT'], ['row_groups', 'INT'], ['level', 'INT'],
    ],
    rows: (env) => (env.segments?.() ?? []).map((m) => {
      const t = env.catalog.tableById(m.table_id);
      const scope = t?.type === 'SHARED' ? 'shared' : m.user_id;
      // JSON: min/max as the wire mapping gives them, bigints and ±Infinity as text.
      const stats: { [k: string]: JsonValue } = {};
      for (const [id, st] of Object.entries(m.column_stats)) stats[id] = { min: segmentJson(st.min), max: segmentJson(st.max), null_count: st.null_count };
      return [
        `${t?.namespace ?? '?'}:${t?.name ?? m.table_id}:${scope}:${m.id}`, m.id, t?.namespace ?? null, t?.name ?? null, scope,
        m.row_count, m.min_seq, m.max_seq, m.size_bytes, m.schema_version, m.status, stats, m.created_at,
        m.format ?? 1, m.groups?.rows.length ?? null, levelOf(m),
      ];
    }),
  },
  migrations: {
    columns: [['version', 'INT'], ['checksum', 'TEXT'], ['applied_at', 'TIMESTAMP'], ['statements', 'INT']],
    rows: (env) => (env.migrations?.() ?? []).map((m) => [m.version, m.checksum, m.applied_at, m.statements]),
  },
  stats: {
    columns: [['metric_name', 'TEXT'], ['metric_value', 'TEXT']],
    rows: (env) => env.metrics().map(([k, v]) => [k, v === null ? null : typeof v === 'string' ? v : stableJson(v).replace(/n$/, '')]),
  },
};

export const SYSTEM_TABLE_NAMES = Object.keys(TABLES);

/** Adds a system table defined by code loaded on first use (system.topics: execute/topics.ts, through execute/sql-extensions.ts). */
export function registerSystemTable(name: string, table: SystemTable): void {
  if (!TABLES[name]) SYSTEM_TABLE_NAMES.push(name);
  TABLES[name] = table;
}

function segmentJson(v: Value): JsonValue {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v); // ±Infinity: JSON has no such number (PostgreSQL's to_json gives text too)
  if (v instanceof Uint8Array) return null;
  if (v instanceof Decimal || v instanceof Interval) return v.toString();
  return v as JsonValue; // never an EMBEDDING's Float32Array: its columns keep no min/max
}


export function systemSource(name: string, env: SystemEnv): RelationSource {
  const def = TABLES[name === 'live_queries' ? 'live' : name];
  if (!def) {
    throw new KalamError('TABLE_NOT_FOUND', `Table 'system.${name}' does not exist. System tables: ${SYSTEM_TABLE_NAMES.map((n) => `system.${n}`).join(', ')}`);
  }
  const columns: SourceColumn[] = def.columns.map(([n, type]) => ({ name: n, type, hidden: false }));
  return {
    name: `system.${name}`,
    columns,
    rows(ctx) {
      checkSystemRead(ctx.role, name);
      return def.rows(env);
    },
  };
}
