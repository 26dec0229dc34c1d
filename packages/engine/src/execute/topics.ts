/**
 * The topic statements' executor (loaded on first use, lazy-executors.ts):
 * CREATE / DROP / CLEAR / ALTER TOPIC (dba and system roles), CONSUME and
 * ACK (every role). Definitions, messages and group offsets live in the
 * TopicLog (topic-log.ts); every change is a StateChange through the one
 * commit path, under the write lock.
 *
 * Isolation: a session whose role may not consume every message
 * (`consumeAllMessages`: the user role) sees only messages of its own
 * USER/STREAM-table rows and of SHARED tables its role may read, and its
 * consumer groups are its own (owner = its user id): it can neither read
 * nor move another user's position.
 */
import { accessLevelOf, can, canReadShared } from '../auth/permissions';
import type { Catalog } from '../catalog/catalog';
import { KalamError } from '../core/errors';
import type { ColumnInfo, StatementResult, Value } from '../core/types';
import type { Tuple } from '../exec/context';
import type { KvStore } from '../storage/kv';
import type { UnitOfWork } from '../storage/unit-of-work';
import { parseTopicStatement, type TopicStmt } from '../sql/parse-topic';
import { tokenize } from '../sql/lexer';
import type { JobRecord } from '../jobs/job';
import type { Committer } from './commit';
import { registerSystemTable } from '../system/tables';
import { okResult, rowsResult } from './results';
import type { SessionState } from './session-state';
import { firstOffset, TopicLog, type TopicState } from './topic-log';
import type { CancelSignal } from '../exec/pace';
import { compileRouteFilter, type TopicMessage } from './topic-route';


export interface TopicContext {
  readonly kv: KvStore;
  readonly catalog: Catalog;
  /** Attached before a topic statement runs (Engine.attachTopics). */
  readonly topics: TopicLog | undefined;
  commit(unit: UnitOfWork): Promise<void>;
  exclusive<T>(fn: () => Promise<T> | T): Promise<T>;
}

/** CONSUME without LIMIT returns this many messages at most; LIMIT may not exceed MAX_CONSUME. */
export const DEFAULT_CONSUME_LIMIT = 100;
export const MAX_CONSUME = 10_000;

export const CONSUME_COLUMNS: ColumnInfo[] = [
  { name: 'topic', type: 'TEXT' },
  { name: 'partition', type: 'INT' },
  { name: 'offset', type: 'BIGINT' },
  { name: 'op', type: 'TEXT' },
  { name: 'table_name', type: 'TEXT' },
  { name: 'user_id', type: 'TEXT' },
  { name: 'key', type: 'JSON' },
  { name: 'payload', type: 'JSON' },
  { name: '_seq', type: 'BIGINT' },
  { name: 'timestamp', type: 'TIMESTAMP' },
];

const deny = (message: string): never => {
  throw new KalamError('PERMISSION_DENIED', message);
};

export async function executeTopicStatement(engine: TopicHost, state: SessionState, text: string, params: readonly Value[], signal?: CancelSignal): Promise<StatementResult> {
  const stmt = parseTopicStatement(text, tokenize(text), params);
  const topics = await attachTopics(engine);
  if (stmt.kind !== 'consume' && stmt.kind !== 'ack' && !can(state.role, 'manageTopics')) {
    deny('Admin privileges (DBA or System role) required for topic operations (CREATE, DROP, CLEAR, ALTER TOPIC)');
  }
  switch (stmt.kind) {
    case 'consume':
      return consume(engine, topics, state, stmt, signal);
    case 'ack':
      return engine.exclusive(async () => {
        const t = topics.require(stmt.topic);
        if (stmt.partition !== undefined && stmt.partition >= t.def.partitions) {
          throw new KalamError('INVALID_PARAMETER', `Topic '${t.def.name}' has partitions 0 to ${t.def.partitions - 1}, not ${stmt.partition}`);
        }
        const upto = new Map<number, number>();
        if (stmt.offset === 'latest') {
          t.parts.forEach((part, p) => {
            if ((stmt.partition === undefined || stmt.partition === p) && part.next > 0) upto.set(p, part.next - 1);
          });
        } else {
          const p = stmt.partition ?? 0;
          const next = t.parts[p].next;
          if (stmt.offset >= next) {
            throw new KalamError('INVALID_PARAMETER', `Offset ${stmt.offset} of topic '${t.def.name}' partition ${p} has not been written (the next offset is ${next}): ack only offsets CONSUME returned`);
          }
          upto.set(p, stmt.offset);
        }
        if (upto.size > 0) await engine.commit({ state: [topics.ack(t, groupOwner(state), stmt.group, upto, Date.now())] });
        const where = [...upto].map(([p, o]) => `partition ${p} up to offset ${o}`).join(', ');
        return okResult(`Acknowledged topic '${t.def.name}' group '${stmt.group}'${where ? ` ${where}` : ': no messages yet'}`);
      });
    default:
      return engine.exclusive(() => manage(engine, topics, state, stmt));
  }
}

/** A user-role session's consumer groups are its own; the other roles share them. */
const groupOwner = (state: SessionState) => (can(state.role, 'consumeAllMessages') ? '' : state.user);

async function manage(engine: TopicContext, topics: TopicLog, state: SessionState, stmt: Exclude<TopicStmt, { kind: 'consume' | 'ack' }>): Promise<StatementResult> {
  const now = Date.now();
  switch (stmt.kind) {
    case 'createTopic': {
      if (topics.get(stmt.name)) {
        if (stmt.ifNotExists) return okResult(`Topic '${stmt.name}' already exists`);
        throw new KalamError('TOPIC_EXISTS', `Topic '${stmt.name}' already exists: drop it first, or write CREATE TOPIC IF NOT EXISTS`);
      }
      const retention = { retention_seconds: stmt.retentionSeconds ?? null, retention_max_bytes: stmt.retentionMaxBytes ?? null };
      await engine.commit({ state: [topics.create(stmt.name, stmt.partitions, retention, now)] });
      return okResult(`Topic '${stmt.name}' created with ${stmt.partitions} partition(s)`);
    }
    case 'dropTopic': {
      const t = topics.get(stmt.name);
      if (!t) {
        if (stmt.ifExists) return okResult(`Topic '${stmt.name}' does not exist`);
        topics.require(stmt.name);
      }
      await engine.commit({ state: [topics.drop(t!)] });
      return okResult(`Topic '${stmt.name}' dropped`);
    }
    case 'clearTopic': {
      const t = topics.require(stmt.name);
      const n = t.count;
      await engine.commit({ state: [topics.clear(t)] });
      return okResult(`Topic '${stmt.name}' cleared (${n} message(s) removed)`, n);
    }
    case 'addSource': {
      const t = topics.require(stmt.topic);
      const table = engine.catalog.requireTable(stmt.table.namespace ?? state.namespace, stmt.table.name);
      if (stmt.where !== null) {
        try {
          compileRouteFilter(table, stmt.where);
        } catch (e) {
          if (e instanceof KalamError) throw new KalamError(e.code, `The WHERE of ADD SOURCE: ${e.message}`, e.position === undefined ? stmt.whereAt : undefined);
          throw e;
        }
      }
      const route = { table_id: table.id, table_created_at: table.createdAt, table: `${table.namespace}.${table.name}`, op: stmt.op, where: stmt.where, payload: stmt.payload };
      const routes = t.def.routes.filter((r) => !(r.table_id === table.id && r.op === stmt.op));
      const replaced = routes.length < t.def.routes.length;
      await engine.commit({ state: [topics.redefine(t, { ...t.def, routes: [...routes, route], updated_at: now })] });
      return okResult(`${replaced ? 'Replaced' : 'Added'} source ${route.table} ON ${stmt.op.toUpperCase()} of topic '${t.def.name}'`);
    }
    case 'dropSource': {
      const t = topics.require(stmt.topic);
      const ns = stmt.table.namespace ?? state.namespace;
      const name = `${ns}.${stmt.table.name}`;
      const routes = t.def.routes.filter((r) => !(r.table === name && (stmt.op === undefined || r.op === stmt.op)));
      if (routes.length === t.def.routes.length) {
        throw new KalamError('INVALID_SQL', `Topic '${t.def.name}' has no source ${name}${stmt.op ? ` ON ${stmt.op.toUpperCase()}` : ''}: see its routes in system.topics`);
      }
      await engine.commit({ state: [topics.redefine(t, { ...t.def, routes, updated_at: now })] });
      return okResult(`Removed ${t.def.routes.length - routes.length} source(s) of topic '${t.def.name}'`);
    }
    case 'alterRetention': {
      const t = topics.require(stmt.topic);
      const def = { ...t.def, updated_at: now };
      if (stmt.retentionSeconds !== undefined) def.retention_seconds = stmt.retentionSeconds;
      if (stmt.retentionMaxBytes !== undefined) def.retention_max_bytes = stmt.retentionMaxBytes;
      await engine.commit({ state: [topics.redefine(t, def)] });
      return okResult(`Topic '${t.def.name}' altered`);
    }
    default:
      return stmt satisfies never;
  }
}

/** May `state` see message `m`? Its own USER/STREAM rows, and SHARED tables its role may read. */
function visibleTo(state: SessionState, catalog: Catalog): ((m: TopicMessage) => boolean) | undefined {
  if (can(state.role, 'consumeAllMessages')) return undefined;
  return (m) => {
    if (m.scope !== '') return m.scope === state.user;
    const table = catalog.tableById(m.table_id);
    return table !== undefined && table.type === 'SHARED' && `${table.namespace}.${table.name}` === m.table && canReadShared(state.role, accessLevelOf(table));
  };
}

/** How often a CONSUME … WAIT checks whether it was cancelled (KILL QUERY, an AbortSignal). */
const WAIT_SLICE_MS = 250;

async function consume(engine: TopicContext, topics: TopicLog, state: SessionState, stmt: Extract<TopicStmt, { kind: 'consume' }>, signal?: CancelSignal): Promise<StatementResult> {
  const t = topics.require(stmt.topic);
  const limit = stmt.limit ?? DEFAULT_CONSUME_LIMIT;
  if (limit > MAX_CONSUME) throw new KalamError('LIMIT_EXCEEDED', `CONSUME returns at most ${MAX_CONSUME.toLocaleString('en-US')} messages: lower the LIMIT and consume again`);
  const group = stmt.group === undefined ? undefined : topics.group(t, groupOwner(state), stmt.group);
  // Where each partition is read from, fixed before any wait: FROM LATEST … WAIT returns what arrives meanwhile.
  const starts = t.parts.map((part, p) => (stmt.from === 'earliest' ? firstOffset(part)
    : stmt.from === 'latest' ? part.next
    : typeof stmt.from === 'number' ? stmt.from
    : (group?.offsets[p] ?? -1) + 1));
  let rows = await read(engine, topics, t, state, starts, limit);
  for (let left = stmt.waitMs ?? 0; rows.length === 0 && left > 0 && topics.get(t.def.name) === t; ) {
    if (signal?.isCancelled) throw new KalamError('QUERY_CANCELLED', `The statement was cancelled${signal.reason ? `: ${signal.reason}` : ''}`);
    const slice = Math.min(WAIT_SLICE_MS, left);
    left -= slice;
    if (await topics.waitForMessages(t, slice)) rows = await read(engine, topics, t, state, starts, limit);
  }
  return rowsResult(CONSUME_COLUMNS, rows);
}

/** Up to `limit` messages visible to `state` from `starts` on, in write order, as CONSUME rows. */
async function read(engine: TopicContext, topics: TopicLog, t: TopicState, state: SessionState, starts: readonly number[], limit: number): Promise<Tuple[]> {
  const visible = visibleTo(state, engine.catalog);
  const found: TopicMessage[] = [];
  for (let p = 0; p < t.def.partitions; p++) {
    const from = starts[p];
    let taken = 0;
    // The top `limit` of all partitions are among the top `limit` of each.
    await topics.read(engine.kv, t, p, from, visible ? Math.max(limit, 256) : limit, (m) => {
      if (visible && !visible(m)) return true;
      found.push(m);
      return ++taken < limit;
    });
  }
  // Write order across partitions (commit order; within a commit, change order).
  found.sort((a, b) => a.n - b.n);
  if (found.length > limit) found.length = limit;
  return found.map((m) => [
    t.def.name, m.partition, BigInt(m.offset), m.op, m.table, m.scope === '' ? null : m.scope, m.key, m.payload, m.seq, m.timestamp,
  ]);
}


/** The topic_retention job's run: each topic with a retention setting, one commit each. */
export async function runTopicRetention(engine: TopicContext, record: JobRecord, now: number): Promise<void> {
  const topics = engine.topics;
  if (!topics) return;
  for (const t of topics.list()) {
    await engine.exclusive(async () => {
      if (topics.get(t.def.name) !== t) return; // dropped meanwhile
      const due = topics.retention(t, now);
      if (!due) return;
      await engine.commit({ state: [due.change] });
      record.rows_affected += due.removed;
    });
  }
}

/** What attaching the topic log needs of the engine. */
export interface TopicHost extends TopicContext {
  topics: TopicLog | undefined;
  readonly committer: { router: Committer['router'] };
  /** Loads the SQL extensions a text needs (execute/sql-extensions.ts), before a route's WHERE is compiled. */
  loadSqlExtensions(text: string): Promise<void>;
  readonly options: { maxTopics: number; maxTopicMessages: number; maxTopicGroups: number; maxLiveQueries: number; retentionIntervalMs: number };
  readonly jobs: { enqueue(type: 'topic_retention', parameters: JobRecord['parameters'], work: (record: JobRecord) => Promise<void>): JobRecord; idle(): Promise<void> };
}

/** Registers system.topics and system.topic_offsets (rows from the engine's SystemEnv). */
export function registerTopicTables(): void {
  registerSystemTable('topics', {
    columns: [
      ['topic_id', 'TEXT'], ['name', 'TEXT'], ['alias', 'TEXT'], ['partitions', 'INT'], ['retention_seconds', 'BIGINT'],
      ['retention_max_bytes', 'BIGINT'], ['routes', 'JSON'], ['messages', 'BIGINT'], ['bytes', 'BIGINT'], ['created_at', 'TIMESTAMP'], ['updated_at', 'TIMESTAMP'],
    ],
    rows: (env) => env.topics?.() ?? [],
  });
  registerSystemTable('topic_offsets', {
    columns: [['topic_id', 'TEXT'], ['group_id', 'TEXT'], ['user_id', 'TEXT'], ['partition_id', 'INT'], ['last_acked_offset', 'BIGINT'], ['updated_at', 'TIMESTAMP']],
    rows: (env) => env.topicOffsets?.() ?? [],
  });
}

/** An attach in progress, per engine (lives until it settles). */
const attaching = new WeakMap<TopicHost, Promise<TopicLog>>();

/**
 * The engine's topic log, loaded once (at open when the store holds a
 * topic, else by the first topic statement) under the write lock — no
 * commit runs meanwhile — and hooked into the commit path (every later
 * commit's row changes are routed); arms the topic_retention timer.
 */
export function attachTopics(host: TopicHost): Promise<TopicLog> {
  if (host.topics) return Promise.resolve(host.topics);
  let pending = attaching.get(host);
  if (!pending) {
    pending = host.exclusive(async () => {
      if (host.topics) return host.topics;
      const o = host.options;
      const log = await TopicLog.load(host.kv, { maxTopics: o.maxTopics, maxTopicMessages: o.maxTopicMessages, maxTopicGroups: o.maxTopicGroups, maxWaiters: o.maxLiveQueries });
      // A source's WHERE is compiled as commits route rows: what it needs (EXTRACT, INTERVAL, a regular expression …) is loaded first.
      const wheres = log.list().flatMap((t) => t.def.routes.flatMap((r) => (r.where === null ? [] : [r.where])));
      if (wheres.length > 0) await host.loadSqlExtensions(wheres.join('\n'));
      host.topics = log;
      host.committer.router = log;
      if (o.retentionIntervalMs > 0) {
        log.timer = setInterval(() => void scheduleTopicRetention(host, Date.now()), o.retentionIntervalMs);
        (log.timer as { unref?: () => void }).unref?.();
      }
      return log;
    }).finally(() => attaching.delete(host));
    attaching.set(host, pending);
  }
  return pending;
}

/** Engine.runTopicRetention: queues the job now and waits for it. */
export async function runRetentionNow(host: TopicHost, now: number): Promise<JobRecord | undefined> {
  const record = scheduleTopicRetention(host, now);
  await host.jobs.idle();
  return record;
}

/** Engine.waitForTopic: true when a commit adds messages to `topic`, false after `timeoutMs`. */
export async function waitForTopic(host: TopicHost, topic: string, timeoutMs: number): Promise<boolean> {
  return (await attachTopics(host)).waitFor(topic, timeoutMs);
}

/** Queues a topic_retention job when some topic has a retention setting; its record, or undefined. */
export function scheduleTopicRetention(host: TopicHost, now: number): JobRecord | undefined {
  const topics = host.topics;
  if (!topics?.list().some((t) => t.def.retention_seconds !== null || t.def.retention_max_bytes !== null)) return undefined;
  return host.jobs.enqueue('topic_retention', {}, (record) => runTopicRetention(host, record, now));
}
