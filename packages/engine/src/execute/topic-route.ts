/**
 * From row changes to topic messages: which change a source (route)
 * takes (its table, operation and WHERE filter), the partition (a hash of
 * the primary key), and the payload in the route's mode. Pure functions of
 * the change; topic-log.ts gives the offsets and writes them.
 */
import { Decimal } from '../core/decimal';
import { Interval } from '../core/interval';
import { KalamError } from '../core/errors';
import { JSON_NULL } from '../core/json';
import { deletedSlot, seqSlot, type RowChange, type StoredRow, type TableDef } from '../core/schema';
import type { JsonValue, Value } from '../core/types';
import type { Evaluator } from '../exec/context';
import { compileExpr } from '../plan/compile';
import { Scope } from '../plan/scope';
import type { SelectStmt } from '../sql/ast';
import { parseStatement } from '../sql/parse';
import type { PayloadMode, TopicOp } from '../sql/parse-topic';

/** A topic's source as stored: rows of `table_id` on `op`, filtered by `where`, sent in `payload` mode. */
export interface RouteDef {
  table_id: number;
  /** The table's creation time: a table id freed by DROP TABLE may be given again after a reopen, to a table this source does not read. */
  table_created_at: number;
  /** `ns.table` when the source was added. */
  table: string;
  op: TopicOp;
  where: string | null;
  payload: PayloadMode;
}

/** One message as stored (system store, in its page: ['topic_page', topic id, partition, page], topic-log.ts). */
export interface TopicMessage {
  partition: number;
  offset: number;
  /** The topic's write order: increasing across partitions, in commit order (CONSUME returns messages in it). */
  n: number;
  op: TopicOp;
  table_id: number;
  table: string;
  /** The change's partition user: the owner for USER/STREAM tables, '' for SHARED. */
  scope: string;
  key: JsonValue;
  payload: JsonValue;
  seq: bigint | null;
  timestamp: number;
  /** Rough size, counted against retention_max_bytes. */
  bytes: number;
}

/** The operation a row change is, or undefined for one no source takes (a tombstone purged, an expired row evicted). */
export function opOf(c: RowChange): TopicOp | undefined {
  const d = deletedSlot(c.table);
  const existed = c.before !== undefined && c.before[d] !== true;
  if (c.row === null || c.row[d] === true) return existed ? 'delete' : undefined;
  return existed ? 'update' : 'insert';
}

/** FNV-1a of the primary key's hash, modulo `partitions`: a key always lands in the same partition. */
export function partitionOf(pkHash: string, partitions: number): number {
  if (partitions === 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < pkHash.length; i++) {
    h ^= pkHash.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % partitions;
}

/** A stored value as JSON: BIGINT beyond ±2^53 as text, DECIMAL as its exact text (as the API gives it), BYTES as hex text, EMBEDDING as an array of numbers. */
export function toJson(v: Value): JsonValue {
  if (v === null || v === JSON_NULL) return null;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Decimal || v instanceof Interval) return v.toString();
  if (v instanceof Uint8Array) {
    let s = '';
    for (const b of v) s += b.toString(16).padStart(2, '0');
    return s;
  }
  if (v instanceof Float32Array) return Array.from(v); // an EMBEDDING: its numbers
  return v;
}

const pkName = (t: TableDef) => (t.pk >= 0 ? t.columns[t.pk].name : '_seq');

function rowObject(t: TableDef, row: StoredRow): { [k: string]: JsonValue } {
  const o: { [k: string]: JsonValue } = {};
  for (let i = 0; i < t.columns.length; i++) o[t.columns[i].name] = toJson(row[i]);
  return o;
}

/** The payload of change `c` in `mode` (c is an `op` change). */
export function payloadOf(c: RowChange, op: TopicOp, mode: PayloadMode): JsonValue {
  const t = c.table;
  const keyOnly = () => ({ [pkName(t)]: toJson(c.pk) });
  if (mode === 'key' || (mode === 'diff' && op === 'delete')) return keyOnly();
  if (op === 'delete') return rowObject(t, c.before!);
  if (mode === 'full' || op === 'insert') return rowObject(t, c.row!);
  const diff: { [k: string]: JsonValue } = keyOnly();
  for (let i = 0; i < t.columns.length; i++) {
    if (!sameValue(c.row![i], c.before![i])) diff[t.columns[i].name] = toJson(c.row![i]);
  }
  return diff;
}

function sameValue(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) return JSON.stringify(a) === JSON.stringify(b);
  return false;
}

/** Rough bytes of a JSON value (UTF-16 text, 8-byte numbers). */
export function jsonBytes(v: JsonValue): number {
  if (v === null || typeof v === 'boolean') return 4;
  if (typeof v === 'number') return 8;
  if (typeof v === 'string') return 2 * v.length + 4;
  if (Array.isArray(v)) return v.reduce<number>((n, x) => n + jsonBytes(x), 8);
  let n = 8;
  for (const k in v) n += 2 * k.length + jsonBytes(v[k]);
  return n;
}

/** The message of change `c` through a route (no offset yet). */
export function messageOf(c: RowChange, op: TopicOp, route: RouteDef, partition: number, now: number): TopicMessage {
  const key = toJson(c.pk);
  const payload = payloadOf(c, op, route.payload);
  const seqRow = c.row ?? c.before;
  const seq = seqRow ? (seqRow[seqSlot(c.table)] as bigint) : null;
  const table = `${c.table.namespace}.${c.table.name}`;
  return {
    partition, offset: -1, n: -1, op, table_id: c.table.id, table, scope: c.user, key, payload, seq, timestamp: now,
    bytes: 64 + 2 * table.length + 2 * c.user.length + jsonBytes(key) + jsonBytes(payload),
  };
}

/**
 * A route's WHERE filter compiled against the table's row layout (columns,
 * then `_seq`, `_deleted`). Throws the parse or name error (ADD SOURCE
 * reports it); subqueries are refused.
 */
export function compileRouteFilter(t: TableDef, where: string): Evaluator {
  const stmt = parseStatement(`SELECT * FROM t WHERE ${where}`) as SelectStmt;
  if (stmt.kind !== 'select' || stmt.setOp || !stmt.where || stmt.groupBy.length > 0 || stmt.having || stmt.orderBy.length > 0 || stmt.limit || stmt.offset) {
    throw new KalamError('INVALID_SQL', `A source's WHERE is one condition on the table's columns, got '${where}'`);
  }
  const relation = t.name;
  const scope = new Scope([
    ...t.columns.map((c) => ({ relation, name: c.name, type: c.type, hidden: false })),
    { relation, name: '_seq', type: 'BIGINT', hidden: true },
    { relation, name: '_deleted', type: 'BOOLEAN', hidden: true },
  ]);
  return compileExpr(stmt.where!, scope);
}
