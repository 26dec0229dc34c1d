/**
 * Format 2 row groups: a slice of a segment's rows (sorted by key) as an
 * Arrow IPC stream of one record batch, and its decoded form for reading.
 *
 * Fields are named `c<column id>` and carry the column's type in their
 * metadata (`kalam_data_type`), then `_seq` (Int64) and `_deleted` (Bool),
 * as format 1 segments. Decoding parses the IPC message (a view over the
 * bytes, nothing copied) and materializes only the key, `_seq` and
 * `_deleted`; any other column is turned into values the first time a read
 * asks for it, for the current definition of the column (by id: an added
 * column reads as its literal DEFAULT or NULL, a retyped one is converted,
 * NULL where a value does not convert).
 *
 * Loaded on first use through segment.ts (segment-loader.ts): import this
 * module only as types.
 */
import { Bool, Field, Int64, makeData, RecordBatch, Schema, Struct, Table, tableFromIPC, tableToIPC, type Data } from 'apache-arrow';
import type { ColumnDef, StoredRow, TableDef } from '../../core/schema';
import type { DataType, Value } from '../../core/types';
import { coerce, freezeJson } from '../../core/values';
import { arrowType, gatherColumn, readsAsStored, storedType, TYPE_KEY } from './arrow-types';
import { decodeBatch, type DecodedBatch, type FieldData } from './ipc-batch';
import type { RowGroupData } from './types';

/** Text min/max longer than this are not kept whole in the manifest (see RowGroupsMeta.columns). */
export const STATS_TEXT_MAX = 64;

export interface GroupColumnStats {
  min: Value;
  max: Value;
  nulls: number;
}

export interface EncodedRowGroup {
  bytes: Uint8Array;
  rows: number;
  minSeq: bigint;
  maxSeq: bigint;
  keyMin: Value;
  keyMax: Value;
  /** Rows that are tombstones, and the oldest one's `_seq` (null: none). */
  tombstones: number;
  minTombstoneSeq: bigint | null;
  /** Exact min/max/null count per column id (the manifest truncates long text). */
  stats: Record<string, GroupColumnStats>;
  /** The group's row pages (segment-write.ts encodePages): each page's bytes and first key. */
  pages?: { bytes: Uint8Array[]; first: Value[] };
}

const encoder = new TextEncoder();

/** Column values → Arrow data, built straight into typed arrays (Arrow's builders cost ~10× more per value). */
function buildData(type: DataType, values: readonly Value[], nulls: number): Data {
  const count = values.length;
  let nullBitmap: Uint8Array | undefined;
  if (nulls > 0) {
    nullBitmap = new Uint8Array(((count + 63) >> 6) << 3);
    for (let i = 0; i < count; i++) if (values[i] !== null) nullBitmap[i >> 3] |= 1 << (i & 7);
  }
  const arrow = arrowType(type);
  const base = { type: arrow, length: count, nullCount: nulls, nullBitmap } as const;
  switch (type) {
    case 'BOOLEAN': {
      const bits = new Uint8Array(((count + 63) >> 6) << 3);
      for (let i = 0; i < count; i++) if (values[i] === true) bits[i >> 3] |= 1 << (i & 7);
      return makeData({ ...base, data: bits } as never);
    }
    case 'SMALLINT': case 'INT': case 'FLOAT': case 'DOUBLE': case 'DECIMAL': {
      const a = type === 'SMALLINT' ? new Int16Array(count) : type === 'INT' ? new Int32Array(count) : type === 'FLOAT' ? new Float32Array(count) : new Float64Array(count);
      for (let i = 0; i < count; i++) {
        const v = values[i];
        if (v !== null) a[i] = Number(v);
      }
      return makeData({ ...base, data: a } as never);
    }
    case 'BIGINT': case 'TIMESTAMP': case 'DATETIME': {
      const a = new BigInt64Array(count);
      for (let i = 0; i < count; i++) {
        const v = values[i];
        if (v !== null) a[i] = typeof v === 'bigint' ? v : BigInt(v as number);
      }
      return makeData({ ...base, data: a } as never);
    }
    default: {
      // Utf8 and Binary: offsets into one byte buffer.
      const offsets = new Int32Array(count + 1);
      // EMBEDDING: its Float32Array's bytes (little-endian, as every browser's).
      const isBinary = type === 'BYTES' || type === 'EMBEDDING';
      let size = 0;
      for (let i = 0; i < count; i++) {
        const v = values[i];
        if (v !== null) size += isBinary ? (v as Uint8Array).byteLength : (v as string).length * 3;
      }
      const bytes = new Uint8Array(size);
      let at = 0;
      for (let i = 0; i < count; i++) {
        const v = values[i] as Uint8Array | Float32Array | string | null;
        if (v !== null) {
          if (typeof v !== 'string') {
            bytes.set(v instanceof Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength), at);
            at += v.byteLength;
          } else {
            at += encoder.encodeInto(v as string, bytes.subarray(at)).written;
          }
        }
        offsets[i + 1] = at;
      }
      return makeData({ ...base, valueOffsets: offsets, data: bytes.subarray(0, at) } as never);
    }
  }
}

/** Encodes rows[start, end) — in the hot tier's layout for `t`, sorted by key — as one row group. */
export function encodeRowGroup(t: TableDef, rows: readonly StoredRow[], start: number, end: number): EncodedRowGroup {
  const n = t.columns.length;
  const count = end - start;
  const fields: Field[] = [];
  const children: Data[] = [];
  const stats: Record<string, GroupColumnStats> = {};
  const values = new Array<Value>(count);
  for (let i = 0; i < n; i++) {
    const c = t.columns[i];
    const { nulls, min, max } = gatherColumn(c, i, rows, start, end, values);
    const stored = storedType(c.type);
    fields.push(new Field(`c${c.id}`, arrowType(stored), true, new Map([[TYPE_KEY, stored]])));
    children.push(buildData(stored, values, nulls));
    stats[String(c.id)] = { min, max, nulls };
  }
  const seqs = new BigInt64Array(count);
  const deleted = new Uint8Array(((count + 63) >> 6) << 3);
  let minSeq = 0n;
  let maxSeq = 0n;
  let tombstones = 0;
  let minTombstoneSeq: bigint | null = null;
  for (let r = 0; r < count; r++) {
    const row = rows[start + r];
    const s = row[n] as bigint;
    seqs[r] = s;
    if (row[n + 1] === true) {
      deleted[r >> 3] |= 1 << (r & 7);
      tombstones++;
      if (minTombstoneSeq === null || s < minTombstoneSeq) minTombstoneSeq = s;
    }
    if (r === 0 || s < minSeq) minSeq = s;
    if (r === 0 || s > maxSeq) maxSeq = s;
  }
  fields.push(new Field('_seq', new Int64(), false), new Field('_deleted', new Bool(), false));
  children.push(makeData({ type: new Int64(), length: count, nullCount: 0, data: seqs }), makeData({ type: new Bool(), length: count, nullCount: 0, data: deleted }));
  const schema = new Schema(fields);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: count, nullCount: 0, children }));
  const key = (row: StoredRow) => (t.pk >= 0 ? row[t.pk] : row[n]);
  return {
    bytes: tableToIPC(new Table([batch]), 'stream'),
    rows: count,
    minSeq,
    maxSeq,
    keyMin: key(rows[start]),
    keyMax: key(rows[end - 1]),
    tombstones,
    minTombstoneSeq,
    stats,
  };
}

/** A group's stats as the manifest keeps them: text longer than STATS_TEXT_MAX keeps a prefix as its min and no max. */
export function manifestStats(s: GroupColumnStats): GroupColumnStats {
  const min = typeof s.min === 'string' && s.min.length > STATS_TEXT_MAX ? s.min.slice(0, STATS_TEXT_MAX) : s.min;
  const max = typeof s.max === 'string' && s.max.length > STATS_TEXT_MAX ? null : s.max;
  return { min, max, nulls: s.nulls };
}

const decoder = new TextDecoder();

function isValid(d: FieldData, i: number): boolean {
  if (d.nullCount === 0 || !d.nullBitmap || d.nullBitmap.length === 0) return true;
  const at = d.offset + i;
  return ((d.nullBitmap[at >> 3] >> (at & 7)) & 1) === 1;
}

/** Every value of one field in row order, as the engine holds values of `stored` (its type when written), and their rough bytes. */
function materialize(d: FieldData, stored: DataType, count: number): { values: Value[]; bytes: number } {
  const out = fixedValues(d, stored, count);
  return out ? { values: out, bytes: valuesBytes(out) } : textValues(d, stored, count);
}

/** A field of a fixed-width or binary type's values; undefined for a Utf8 one (textValues). */
function fixedValues(d: FieldData, stored: DataType, count: number): Value[] | undefined {
  const out = new Array<Value>(count);
  const off = d.offset;
  const values = d.values as ArrayLike<unknown>;
  switch (stored) {
    case 'BOOLEAN': {
      const bits = d.values as Uint8Array;
      for (let i = 0; i < count; i++) out[i] = isValid(d, i) ? ((bits[(off + i) >> 3] >> ((off + i) & 7)) & 1) === 1 : null;
      return out;
    }
    case 'SMALLINT': case 'INT': case 'FLOAT': case 'DOUBLE': case 'DECIMAL':
      for (let i = 0; i < count; i++) out[i] = isValid(d, i) ? (values[off + i] as number) : null;
      return out;
    case 'BIGINT':
      for (let i = 0; i < count; i++) out[i] = isValid(d, i) ? (values[off + i] as bigint) : null;
      return out;
    case 'TIMESTAMP': case 'DATETIME':
      for (let i = 0; i < count; i++) out[i] = isValid(d, i) ? Number(values[off + i] as bigint) : null;
      return out;
    case 'BYTES': case 'EMBEDDING': {
      const bytes = d.values as Uint8Array;
      const o = d.valueOffsets as Int32Array;
      for (let i = 0; i < count; i++) out[i] = isValid(d, i) ? binaryValue(bytes, o[off + i], o[off + i + 1], stored) : null;
      return out;
    }
    default:
      return undefined;
  }
}

/** A text column keeps one string per distinct value while it has at most this many (a category, a status); past it, one a row. */
const INTERN_MAX = 256;

/**
 * A Utf8 field's values (TEXT, JSON, DATE, TIME, UUID) and their rough
 * bytes: all-ASCII data is decoded once and sliced; rows with the same
 * text share one string while the field has few distinct values, so a
 * low-cardinality column costs a slot a row, not a string a row.
 */
function textValues(d: FieldData, stored: DataType, count: number): { values: Value[]; bytes: number } {
  const out = new Array<Value>(count);
  const off = d.offset;
  const bytes = d.values as Uint8Array;
  const o = d.valueOffsets as Int32Array;
  const from = o[off];
  const to = o[off + count];
  let ascii = true;
  for (let b = from; b < to; b++) {
    if (bytes[b] >= 0x80) {
      ascii = false;
      break;
    }
  }
  const text = ascii ? decoder.decode(bytes.subarray(from, to)) : '';
  let distinct: Map<string, string> | undefined = new Map();
  let size = 16 + count * 8;
  for (let i = 0; i < count; i++) {
    if (!isValid(d, i)) {
      out[i] = null;
      continue;
    }
    const v = ascii ? text.slice(o[off + i] - from, o[off + i + 1] - from) : decoder.decode(bytes.subarray(o[off + i], o[off + i + 1]));
    if (distinct) {
      const seen = distinct.get(v);
      if (seen !== undefined) {
        out[i] = seen;
        continue;
      }
      if (distinct.size < INTERN_MAX) distinct.set(v, v);
      else distinct = undefined;
    }
    size += 16 + v.length * 2;
    out[i] = v;
  }
  // Read back from storage: deep-frozen, as every stored JSON value is (core/json.ts).
  if (stored === 'JSON') for (let i = 0; i < count; i++) if (out[i] !== null) out[i] = freezeJson(JSON.parse(out[i] as string) as Value);
  return { values: out, bytes: stored === 'JSON' ? valuesBytes(out) : size };
}

/** A Binary field's value at bytes[from, to): a copy, as a Float32Array for an EMBEDDING. */
function binaryValue(bytes: Uint8Array, from: number, to: number, stored: DataType): Uint8Array | Float32Array {
  const copy = bytes.slice(from, to);
  return stored === 'EMBEDDING' ? new Float32Array(copy.buffer) : copy;
}

/** One value of one field (row `i`), as `materialize` would give it: for a read of a few rows, nothing else is decoded. */
function valueAt(d: FieldData, stored: DataType, i: number): Value {
  if (!isValid(d, i)) return null;
  const at = d.offset + i;
  switch (stored) {
    case 'BOOLEAN':
      return (((d.values as Uint8Array)[at >> 3] >> (at & 7)) & 1) === 1;
    case 'SMALLINT': case 'INT': case 'FLOAT': case 'DOUBLE': case 'DECIMAL': case 'BIGINT':
      return (d.values as ArrayLike<Value>)[at];
    case 'TIMESTAMP': case 'DATETIME':
      return Number((d.values as BigInt64Array)[at]);
    case 'BYTES': case 'EMBEDDING': {
      const o = d.valueOffsets as Int32Array;
      return binaryValue(d.values as Uint8Array, o[at], o[at + 1], stored);
    }
    default: {
      const o = d.valueOffsets as Int32Array;
      const text = decoder.decode((d.values as Uint8Array).subarray(o[at], o[at + 1]));
      return stored === 'JSON' ? freezeJson(JSON.parse(text) as Value) : text;
    }
  }
}

/** A value written as `stored` read for column `c` of another type: converted, NULL where it does not convert. */
function convertStored(v: Value, c: ColumnDef, stored: DataType): Value {
  if (v === null) return null;
  try {
    return c.type === 'TEXT' && stored === 'JSON' ? JSON.stringify(v) : coerce(v, c.type, c.name, undefined, c.precision, c.scale);
  } catch {
    return null;
  }
}

/** A number column without nulls, as a view of its Arrow buffer (undefined for any other type). */
function numberView(d: FieldData, stored: DataType, count: number): ArrayLike<Value> | undefined {
  switch (stored) {
    case 'SMALLINT': case 'INT': case 'FLOAT': case 'DOUBLE': case 'DECIMAL': case 'BIGINT':
      return (d.values as Int32Array | BigInt64Array).subarray(d.offset, d.offset + count) as unknown as ArrayLike<Value>;
    default:
      return undefined;
  }
}

/** Rough bytes of materialized values: 8 a slot, plus string and byte lengths. */
function valuesBytes(values: readonly Value[]): number {
  let n = 16 + values.length * 8;
  for (const v of values) {
    if (typeof v === 'string') n += 16 + v.length * 2;
    else if (v instanceof Uint8Array) n += 48 + v.length;
    else if (typeof v === 'bigint') n += 16;
    else if (v !== null && typeof v === 'object') n += 64;
  }
  return n;
}

/** A typed-array view's own copy (a view keeps its whole Arrow buffer alive). */
const own = <T extends ArrayLike<unknown>>(v: T): T => (ArrayBuffer.isView(v) ? ((v as unknown as BigInt64Array).slice() as unknown as T) : v);

class ArrowRowGroup implements RowGroupData {
  keys: ArrayLike<Value>;
  seqs: ArrayLike<bigint>;
  readonly deleted: Uint8Array;
  bytes: number;
  /** column id → its field's data and the type it was written as; emptied by `shrink`. */
  private readonly fields = new Map<number, { data: FieldData; stored: DataType }>();
  /** The ids of the columns the group was written with (kept by `shrink`: a column added since reads as its default). */
  private readonly written = new Set<number>();
  /** `<column id>:<type>` → values. */
  private readonly materialized = new Map<string, ArrayLike<Value>>();
  /** Bytes of each materialized column that is not a view (valuesBytes, or textValues' count). */
  private readonly sizes = new Map<string, number>();
  /** After `shrink`, per column id: values a read materialized as written (another type of the column converts from them). */
  private asWritten?: Map<number, { values: ArrayLike<Value>; stored: DataType }>;
  /** A read took whole columns of it (`column`), not a few values (`reader`): what it would keep when it shrinks. */
  private scanned = false;

  constructor(
    readonly rows: number,
    ipcBytes: number,
    batch: DecodedBatch,
    keyColumn: ColumnDef | undefined,
  ) {
    let seqData: FieldData | undefined;
    let delData: FieldData | undefined;
    for (const f of batch.fields) {
      if (f.name === '_seq') seqData = f.data;
      else if (f.name === '_deleted') delData = f.data;
      else if (f.name.startsWith('c')) {
        const id = Number(f.name.slice(1));
        this.fields.set(id, { data: f.data, stored: (f.metadata.get(TYPE_KEY) ?? 'TEXT') as DataType });
        this.written.add(id);
      }
    }
    // `_seq` is read straight from the Arrow buffer (a bigint is made only for a row read).
    const seqs = seqData ? (seqData.values as BigInt64Array).subarray(seqData.offset, seqData.offset + rows) : new BigInt64Array(rows);
    this.seqs = seqs;
    const deleted = new Uint8Array(rows);
    if (delData) {
      const bits = delData.values as Uint8Array;
      for (let i = 0; i < rows; i++) deleted[i] = (bits[(delData.offset + i) >> 3] >> ((delData.offset + i) & 7)) & 1;
    }
    this.deleted = deleted;
    // The IPC bytes, Arrow's objects for each field (Field, Data, Vector, metadata: measured in Node at
    // ~4 KB for a 5-field group beside its bytes and keys), `_deleted`, then columns as they materialize.
    this.bytes = 64 + ipcBytes + batch.fields.length * 768 + rows;
    this.keys = keyColumn ? this.column(keyColumn) : seqs;
    this.scanned = false;
  }

  covers(c: ColumnDef): boolean {
    return this.asWritten === undefined || !this.written.has(c.id) || this.materialized.has(`${c.id}:${c.type}`) || this.asWritten.has(c.id);
  }

  /**
   * Gives up the Arrow buffer once a scan has read whole columns of the
   * group: it keeps its keys, `_seq`, `_deleted` and the columns reads
   * materialized (a number column's view copied out of the buffer), and no
   * longer reads any other (`covers`). A group only ever read a few values
   * at a time (a point read) keeps everything: it is evicted instead.
   */
  shrink(): boolean {
    if (!this.scanned || this.asWritten !== undefined) return false;
    const asWritten = new Map<number, { values: ArrayLike<Value>; stored: DataType }>();
    let bytes = 64 + this.rows * 9 + this.written.size * 16;
    const keys = this.keys;
    for (const [k, values] of this.materialized) {
      const copy = own(values);
      this.materialized.set(k, copy);
      if (values === keys) this.keys = copy;
      const id = Number(k.slice(0, k.indexOf(':')));
      const f = this.fields.get(id);
      if (f && readsAsStored(f.stored, k.slice(k.indexOf(':') + 1) as DataType)) asWritten.set(id, { values: copy, stored: f.stored });
      bytes += ArrayBuffer.isView(copy) ? (copy as unknown as Uint8Array).byteLength : (this.sizes.get(k) ?? valuesBytes(copy as Value[]));
    }
    const seqs = own(this.seqs);
    if (this.keys === this.seqs) this.keys = seqs;
    else if (this.keys === keys) this.keys = own(keys);
    this.seqs = seqs;
    this.fields.clear();
    this.asWritten = asWritten;
    this.bytes = bytes;
    return true;
  }

  column(c: ColumnDef): ArrayLike<Value> {
    this.scanned = true;
    const k = `${c.id}:${c.type}`;
    const hit = this.materialized.get(k);
    if (hit) return hit;
    const f = this.fields.get(c.id);
    const view = f && readsAsStored(f.stored, c.type) && f.data.nullCount === 0 ? numberView(f.data, f.stored, this.rows) : undefined;
    if (view) {
      // Nothing to materialize: the values are the Arrow buffer's (counted in the IPC bytes).
      this.materialized.set(k, view);
      return view;
    }
    let values: Value[];
    let size: number;
    if (!this.written.has(c.id)) {
      // Added after this segment was written.
      values = new Array<Value>(this.rows).fill(c.default?.kind === 'literal' ? freezeJson(c.default.value) : null);
      size = valuesBytes(values);
    } else if (f) {
      ({ values, bytes: size } = materialize(f.data, f.stored, this.rows));
      if (!readsAsStored(f.stored, c.type)) for (let r = 0; r < values.length; r++) values[r] = convertStored(values[r], c, f.stored);
    } else {
      // Shrunk: another type of the column, converted from the values a read kept as written.
      const kept = this.asWritten?.get(c.id);
      // A bug (the engine reports it as INTERNAL): this module holds no engine module but the codec's.
      if (!kept) throw new Error(`column ${c.id} of a cold row group was read after the group gave up its Arrow data (RowGroupData.covers was not asked)`);
      values = Array.from(kept.values, (v) => convertStored(v, c, kept.stored));
      size = valuesBytes(values);
    }
    this.materialized.set(k, values);
    this.sizes.set(k, size);
    this.bytes += size;
    return values;
  }

  reader(c: ColumnDef): (i: number) => Value {
    const hit = this.materialized.get(`${c.id}:${c.type}`);
    if (hit) return (i) => hit[i];
    if (!this.written.has(c.id)) {
      // Added after this segment was written.
      const v = c.default?.kind === 'literal' ? freezeJson(c.default.value) : null;
      return () => v;
    }
    const f = this.fields.get(c.id);
    if (!f) {
      const values = this.column(c);
      return (i) => values[i];
    }
    const { data, stored } = f;
    const view = readsAsStored(stored, c.type) && data.nullCount === 0 ? numberView(data, stored, this.rows) : undefined;
    if (view) return (i) => view[i];
    return readsAsStored(stored, c.type) ? (i) => valueAt(data, stored, i) : (i) => convertStored(valueAt(data, stored, i), c, stored);
  }
}

/** Bytes a row page aims at: a point read of an uncached group fetches about this much (a raw IndexedDB get of 8 KB costs little more than one of 100 bytes). */
export const PAGE_TARGET_BYTES = 8192;

/** Rough stored bytes of a value of each fixed-width type; others (text, bytes, JSON) count TEXT_GUESS. */
const WIDTH: Partial<Record<DataType, number>> = { BOOLEAN: 1, SMALLINT: 2, INT: 4, FLOAT: 4, DOUBLE: 8, DECIMAL: 8, BIGINT: 8, TIMESTAMP: 8, DATETIME: 8 };
const TEXT_GUESS = 32;

/** Rows per row page of `t`: `max` (rowPageRows), fewer for wide rows (an EMBEDDING(384) row is ~1.5 KB) so a page stays near PAGE_TARGET_BYTES; at least 2. */
export function pageRowsFor(t: TableDef, max: number): number {
  if (max <= 0) return 0;
  let bytes = 9; // _seq and _deleted
  for (const c of t.columns) bytes += c.type === 'EMBEDDING' ? 4 * (c.precision ?? 1) : WIDTH[c.type] ?? TEXT_GUESS;
  return Math.max(2, Math.min(max, Math.floor(PAGE_TARGET_BYTES / bytes)));
}

/** A page directory's columns (row-pages.ts): the page's first key (the table's key column), its offset and its bytes (ids no table column has). */
function directoryTable(t: TableDef): TableDef {
  const key = t.columns[t.pk];
  const number = (id: number, name: string): ColumnDef => ({ id, name, type: 'DOUBLE', notNull: true, primaryKey: false });
  return { ...t, columns: [key, number(-1, 'offset'), number(-2, 'bytes')], pk: 0, indexes: undefined };
}

/** A segment's row page directory as bytes: a row group of (first key, offset, bytes), a row per page. */
export function encodePageDirectory(t: TableDef, first: readonly Value[], offsets: readonly number[], sizes: readonly number[]): Uint8Array {
  const rows: StoredRow[] = first.map((k, i) => [k, offsets[i], sizes[i], 0n, false]);
  return encodeRowGroup(directoryTable(t), rows, 0, rows.length).bytes;
}

export function decodePageDirectory(bytes: Uint8Array, t: TableDef): { first: ArrayLike<Value>; offsets: ArrayLike<Value>; sizes: ArrayLike<Value> } {
  const d = directoryTable(t);
  const g = decodeRowGroup(bytes, d.columns[0]);
  return { first: g.keys, offsets: g.column(d.columns[1]), sizes: g.column(d.columns[2]) };
}

/** Decodes a row group's bytes; `keyColumn` is the table's primary key (undefined: the key is `_seq`). */
export function decodeRowGroup(bytes: Uint8Array, keyColumn: ColumnDef | undefined): RowGroupData {
  const batch = decodeBatch(bytes) ?? batchOf(tableFromIPC(bytes));
  return new ArrowRowGroup(batch.rows, bytes.byteLength, batch, keyColumn);
}

/** A stream Arrow's reader read (one ipc-batch.ts did not know), as ipc-batch.ts gives it. */
function batchOf(table: Table): DecodedBatch {
  const batch = table.batches[0];
  const fields: DecodedBatch['fields'][number][] = [];
  for (const f of table.schema.fields) {
    const data = batch?.getChild(f.name)?.data[0];
    if (data) fields.push({ name: f.name, metadata: f.metadata, data: data as unknown as FieldData });
  }
  return { rows: table.numRows, fields };
}
