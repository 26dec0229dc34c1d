/**
 * Encoding a partition's rows as one Arrow IPC segment (with the stats the
 * manifest keeps) and decoding a segment for the current table definition.
 *
 * Fields are named `c<column id>` and carry the column's type in their
 * metadata (`kalam_data_type`), then `_seq` (Int64) and `_deleted` (Bool).
 * Decoding maps fields to the current columns by id: an added column reads
 * as its literal DEFAULT or NULL, a dropped one is skipped, a column whose
 * type changed is converted (NULL where a value does not convert).
 *
 * Loaded on first use (segment-loader.ts): import this module only as types.
 * At run time it imports apache-arrow and nothing of the engine: the
 * engine's value semantics (and the identity of its deep-frozen JSON) come
 * in as `SegmentValues`, so the worker bundle can ship this module as a
 * file of its own, loaded by URL (see scripts/build.mjs).
 */
import {
  Binary, Bool, Field, Float32, Float64, Int16, Int32, Int64, Schema, Table, TimestampMillisecond, Utf8,
  tableFromIPC, tableToIPC, vectorFromArray, type DataType as ArrowType, type Vector,
} from 'apache-arrow';
import type { ColumnDef, TableDef } from '../../core/schema';
import type { DataType, Value } from '../../core/types';
import type { coerce, compareValues, freezeJson, hashKey } from '../../core/values';
import type { StoredRow } from '../../core/schema';
import type { ColumnStats, DecodedSegment, SegmentMeta } from './types';

/** The engine's value functions the codec uses, passed in by segment-loader.ts. */
export interface SegmentValues {
  coerce: typeof coerce;
  compareValues: typeof compareValues;
  freezeJson: typeof freezeJson;
  hashKey: typeof hashKey;
}

/** encodeSegment, decodeSegment and residentSegment over the engine's value functions. */
export function segmentCodec(values: SegmentValues) {
  return {
    encodeSegment: (t: TableDef, rows: readonly StoredRow[]) => encodeSegment(values, t, rows),
    decodeSegment: (meta: SegmentMeta, bytes: Uint8Array, t: TableDef) => decodeSegment(values, meta, bytes, t),
    residentSegment: (meta: SegmentMeta, rows: readonly StoredRow[], t: TableDef, encodedBytes: number) => residentSegment(values, meta, rows, t, encodedBytes),
  };
}

const TYPE_KEY = 'kalam_data_type';

function arrowType(t: DataType): ArrowType {
  switch (t) {
    case 'BOOLEAN': return new Bool();
    case 'SMALLINT': return new Int16();
    case 'INT': return new Int32();
    case 'BIGINT': return new Int64();
    case 'FLOAT': return new Float32();
    case 'DOUBLE': case 'DECIMAL': return new Float64();
    case 'TIMESTAMP': case 'DATETIME': return new TimestampMillisecond();
    case 'BYTES': return new Binary();
    case 'TEXT': case 'JSON': case 'DATE': case 'TIME': case 'UUID': return new Utf8();
  }
}

/** JSON and BYTES have no useful order: no min/max for them. */
const isOrdered = (t: DataType) => t !== 'JSON' && t !== 'BYTES';

const colKey = (c: ColumnDef) => String(c.id);
export const SEQ_STATS_KEY = '_seq';

export interface EncodedSegment {
  bytes: Uint8Array;
  minSeq: bigint;
  maxSeq: bigint;
  stats: Record<string, ColumnStats>;
}

/** Encodes rows in the hot tier's layout for `t` (current columns, `_seq`, `_deleted`). */
function encodeSegment({ compareValues }: SegmentValues, t: TableDef, rows: readonly StoredRow[]): EncodedSegment {
  const n = t.columns.length;
  const fields: Field[] = [];
  const vectors: Record<string, Vector> = {};
  const stats: Record<string, ColumnStats> = {};
  for (let i = 0; i < n; i++) {
    const c = t.columns[i];
    const values = new Array<Value>(rows.length);
    let nulls = 0;
    let min: Value = null;
    let max: Value = null;
    const ordered = isOrdered(c.type);
    for (let r = 0; r < rows.length; r++) {
      const v = rows[r][i];
      if (v === null || v === undefined) {
        nulls++;
        values[r] = null;
        continue;
      }
      values[r] = c.type === 'JSON' ? JSON.stringify(v) : v;
      if (ordered) {
        if (min === null || compareValues(v, min) < 0) min = v;
        if (max === null || compareValues(v, max) > 0) max = v;
      }
    }
    const type = arrowType(c.type);
    const name = `c${c.id}`;
    fields.push(new Field(name, type, true, new Map([[TYPE_KEY, c.type]])));
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

/** Decodes a segment's bytes into rows laid out for the current definition `t`. */
function decodeSegment(values: SegmentValues, meta: SegmentMeta, bytes: Uint8Array, t: TableDef): DecodedSegment {
  const table = tableFromIPC(bytes);
  const count = table.numRows;
  const n = t.columns.length;
  // Column by column, each vector walked once by its iterator (get(r) looks up the record batch on every call).
  const columns: Value[][] = t.columns.map((c) => columnValues(values, table, c, count));
  const seqs = valuesOf(table.getChild('_seq'), count);
  const deleted = valuesOf(table.getChild('_deleted'), count);
  const rows = new Array<StoredRow>(count);
  const index = new Map<string, StoredRow>();
  let size = 64;
  for (let r = 0; r < count; r++) {
    const row = new Array<Value>(n + 2);
    for (let i = 0; i < n; i++) row[i] = columns[i][r];
    row[n] = seqs[r] as bigint;
    row[n + 1] = deleted[r] === true;
    Object.freeze(row);
    rows[r] = row;
    index.set(values.hashKey(t.pk >= 0 ? row[t.pk] : row[n]), row);
  }
  size += bytes.byteLength * 2 + count * (48 + 8 * (n + 2));
  return { meta, tableVersion: t.version, rows, index, bytes: size };
}

/** Every value of a vector in row order (null for a null slot); `count` nulls when there is no vector. */
function valuesOf(vector: Vector | null | undefined, count: number): Value[] {
  const out = new Array<Value>(count);
  if (!vector) return out.fill(null);
  let r = 0;
  for (const v of vector) out[r++] = v === undefined ? null : (v as Value);
  return out;
}

/** Wraps rows that are already in the current layout (a segment just flushed) without decoding. */
function residentSegment({ hashKey }: SegmentValues, meta: SegmentMeta, rows: readonly StoredRow[], t: TableDef, encodedBytes: number): DecodedSegment {
  const index = new Map<string, StoredRow>();
  for (const row of rows) index.set(hashKey(t.pk >= 0 ? row[t.pk] : row[t.columns.length]), row);
  return { meta, tableVersion: t.version, rows, index, bytes: 64 + encodedBytes * 2 + rows.length * (48 + 8 * (t.columns.length + 2)) };
}

function columnValues({ coerce, freezeJson }: SegmentValues, table: Table, c: ColumnDef, count: number): Value[] {
  const name = `c${c.id}`;
  const vector = table.getChild(name);
  if (!vector) {
    // Added after this segment was written.
    return new Array<Value>(count).fill(c.default?.kind === 'literal' ? freezeJson(c.default.value) : null);
  }
  const stored = (table.schema.fields.find((f) => f.name === name)?.metadata.get(TYPE_KEY) ?? c.type) as DataType;
  const values = valuesOf(vector, count);
  if (stored === 'JSON') for (let r = 0; r < count; r++) if (values[r] !== null) values[r] = freezeJson(JSON.parse(values[r] as string) as Value);
  if (stored === c.type) return values;
  for (let r = 0; r < count; r++) {
    const v = values[r];
    if (v === null) continue;
    try {
      values[r] = c.type === 'TEXT' && stored === 'JSON' ? JSON.stringify(v) : coerce(v, c.type, c.name);
    } catch {
      values[r] = null;
    }
  }
  return values;
}
