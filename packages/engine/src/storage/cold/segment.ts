/**
 * The cold segment codec, loaded on first use (segment-loader.ts): format 2
 * row groups (row-group.ts), and format 1 — a partition's rows as one Arrow
 * IPC file, unsorted — which is only read, at open, to rewrite it as
 * format 2 (and written by tests that build a format 1 database).
 *
 * Fields are named `c<column id>` and carry the column's type in their
 * metadata (`kalam_data_type`), then `_seq` (Int64) and `_deleted` (Bool).
 * Decoding maps fields to the current columns by id: an added column reads
 * as its literal DEFAULT or NULL, a dropped one is skipped, a column whose
 * type changed is converted (NULL where a value does not convert).
 *
 * Import this module only as types (segment-loader.ts loads it).
 */
import { Field, Int64, Bool, Schema, Table, tableFromIPC, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import type { ColumnDef, StoredRow, TableDef } from '../../core/schema';
import type { DataType, Value } from '../../core/types';
import { coerce, freezeJson } from '../../core/values';
import { arrowType, gatherColumn, readsAsStored, storedType, TYPE_KEY } from './arrow-types';
import type { ColumnStats } from './types';

export { schemaCacheBytes } from './ipc-batch';
export { decodePageDirectory, decodeRowGroup, encodePageDirectory, encodeRowGroup, manifestStats, pageRowsFor, STATS_TEXT_MAX, type EncodedRowGroup, type GroupColumnStats } from './row-group';

const colKey = (c: ColumnDef) => String(c.id);
export const SEQ_STATS_KEY = '_seq';

export interface EncodedSegment {
  bytes: Uint8Array;
  minSeq: bigint;
  maxSeq: bigint;
  stats: Record<string, ColumnStats>;
}

/** Encodes rows in the hot tier's layout for `t` (current columns, `_seq`, `_deleted`). */
export function encodeSegment(t: TableDef, rows: readonly StoredRow[]): EncodedSegment {
  const n = t.columns.length;
  const fields: Field[] = [];
  const vectors: Record<string, Vector> = {};
  const stats: Record<string, ColumnStats> = {};
  for (let i = 0; i < n; i++) {
    const c = t.columns[i];
    const values = new Array<Value>(rows.length);
    const { nulls, min, max } = gatherColumn(c, i, rows, 0, rows.length, values);
    const stored = storedType(c.type);
    const type = arrowType(stored);
    const name = `c${c.id}`;
    fields.push(new Field(name, type, true, new Map([[TYPE_KEY, stored]])));
    vectors[name] = vectorFromArray(values as never[], type);
    stats[colKey(c)] = { min, max, null_count: nulls };
  }
  const seqs = new Array<bigint>(rows.length);
  const deleted = new Array<boolean>(rows.length);
  let minSeq = 0n;
  let maxSeq = 0n;
  for (let r = 0; r < rows.length; r++) {
    const s = rows[r][n] as bigint;
    seqs[r] = s;
    deleted[r] = rows[r][n + 1] === true;
    if (r === 0 || s < minSeq) minSeq = s;
    if (r === 0 || s > maxSeq) maxSeq = s;
  }
  fields.push(new Field('_seq', new Int64(), false), new Field('_deleted', new Bool(), false));
  vectors._seq = vectorFromArray(seqs, new Int64());
  vectors._deleted = vectorFromArray(deleted, new Bool());
  stats[SEQ_STATS_KEY] = { min: minSeq, max: maxSeq, null_count: 0 };
  const table = new Table(new Schema(fields), vectors);
  return { bytes: tableToIPC(table, 'file'), minSeq, maxSeq, stats };
}

/** Decodes a format 1 segment's bytes into rows laid out for the current definition `t` (in stored order). */
export function decodeSegment(bytes: Uint8Array, t: TableDef): StoredRow[] {
  const table = tableFromIPC(bytes);
  const count = table.numRows;
  const n = t.columns.length;
  // Column by column, each vector walked once by its iterator (get(r) looks up the record batch on every call).
  const columns: Value[][] = t.columns.map((c) => columnValues(table, c, count));
  const seqs = valuesOf(table.getChild('_seq'), count);
  const deleted = valuesOf(table.getChild('_deleted'), count);
  const rows = new Array<StoredRow>(count);
  for (let r = 0; r < count; r++) {
    const row = new Array<Value>(n + 2);
    for (let i = 0; i < n; i++) row[i] = columns[i][r];
    row[n] = seqs[r] as bigint;
    row[n + 1] = deleted[r] === true;
    rows[r] = Object.freeze(row);
  }
  return rows;
}

/** Every value of a vector in row order (null for a null slot); `count` nulls when there is no vector. */
function valuesOf(vector: Vector | null | undefined, count: number): Value[] {
  const out = new Array<Value>(count);
  if (!vector) return out.fill(null);
  let r = 0;
  for (const v of vector) out[r++] = v === undefined ? null : (v as Value);
  return out;
}

function columnValues(table: Table, c: ColumnDef, count: number): Value[] {
  const name = `c${c.id}`;
  const vector = table.getChild(name);
  if (!vector) {
    // Added after this segment was written.
    return new Array<Value>(count).fill(c.default?.kind === 'literal' ? freezeJson(c.default.value) : null);
  }
  const stored = (table.schema.fields.find((f) => f.name === name)?.metadata.get(TYPE_KEY) ?? c.type) as DataType;
  const values = valuesOf(vector, count);
  if (stored === 'JSON') for (let r = 0; r < count; r++) if (values[r] !== null) values[r] = freezeJson(JSON.parse(values[r] as string) as Value);
  if (readsAsStored(stored, c.type)) return values;
  for (let r = 0; r < count; r++) {
    const v = values[r];
    if (v === null) continue;
    try {
      values[r] = c.type === 'TEXT' && stored === 'JSON' ? JSON.stringify(v) : coerce(v, c.type, c.name, undefined, c.precision, c.scale);
    } catch {
      values[r] = null;
    }
  }
  return values;
}
