/**
 * Query results as Apache Arrow tables (`session.queryArrow`), and the IPC
 * bytes they travel in between the worker and the page.
 *
 * The mapping follows the wire mapping of DIALECT.md, column by column:
 *
 * | SQL type            | Arrow type              | JS value read back         |
 * |---------------------|-------------------------|----------------------------|
 * | BOOLEAN             | Bool                    | boolean                    |
 * | SMALLINT            | Int16                   | number                     |
 * | INT                 | Int32                   | number                     |
 * | BIGINT              | Int64                   | bigint                     |
 * | FLOAT               | Float32                 | number                     |
 * | DOUBLE              | Float64                 | number                     |
 * | DECIMAL             | Utf8 (exact text)       | string, such as '12.30'    |
 * | TEXT, UUID, TIME    | Utf8                    | string                     |
 * | JSON                | Utf8 (JSON text)        | string — `JSON.parse` it   |
 * | BYTES               | Binary                  | Uint8Array                 |
 * | TIMESTAMP, DATETIME | Timestamp(MILLISECOND)  | number, ms since the epoch |
 * | DATE                | Date(DAY)               | number, ms since the epoch (midnight UTC) |
 * | EMBEDDING(n)        | FixedSizeList(n, Float32) | a Vector of n numbers (`.toArray()`: Float32Array) |
 *
 * Every field carries its SQL type in the metadata key `kalamlite.type`.
 * A computed column of unknown type (`SELECT a + 1`), or one whose values do
 * not fit its declared type (`SUM` of an INT column past 2^31), takes its
 * type from its values: all booleans → Bool, all bigints (or bigints and
 * integral numbers) → Int64, all numbers → Float64, all strings → Utf8, all
 * byte arrays → Binary, anything else (objects, mixed kinds) → Utf8 holding
 * JSON text; a column of nulls only → Null.
 *
 * Loaded on first use (arrow-loader.ts): import this module only as types.
 * At run time it imports apache-arrow and nothing of the engine (the
 * arrow-types.ts constant aside), so the worker bundle can ship it as a
 * file of its own, loaded by URL (see scripts/build.mjs).
 */
import {
  Binary,
  Bool,
  DateDay,
  Field,
  FixedSizeList,
  Float32,
  Float64,
  Int16,
  Int32,
  Int64,
  Null,
  RecordBatch,
  Schema,
  Struct,
  Table,
  TimestampMillisecond,
  Utf8,
  makeData,
  makeVector,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
  type DataType as ArrowType,
  type Vector,
} from 'apache-arrow';
import { SQL_TYPE_KEY } from './arrow-types';
import type { ColumnInfo, Row, StatementResult, Value } from '../core/types';

/** An Arrow table of query results; `apache-arrow`'s `Table`. */
export type ArrowTable = Table;

/** Declared in arrow-loader.ts, so it is there without loading Arrow. */
export { SQL_TYPE_KEY };

type Kind = 'null' | 'boolean' | 'number' | 'integer' | 'bigint' | 'string' | 'bytes' | 'other';

const INT16: [number, number] = [-32768, 32767];
const INT32: [number, number] = [-2147483648, 2147483647];
const DATE_TEXT = /^(\d{4,})-(\d{2})-(\d{2})$/;

function isIntegerIn(v: Value, [lo, hi]: [number, number]): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
}

/** Whether `v` (not null) has the representation the engine uses for `type`. */
function fits(type: ColumnInfo['type'], v: Value): boolean {
  switch (type) {
    case 'BOOLEAN': return typeof v === 'boolean';
    case 'SMALLINT': return isIntegerIn(v, INT16);
    case 'INT': return isIntegerIn(v, INT32);
    case 'BIGINT': return typeof v === 'bigint';
    case 'FLOAT': case 'DOUBLE': case 'TIMESTAMP': case 'DATETIME': return typeof v === 'number';
    case 'DECIMAL': case 'INTERVAL': return typeof v === 'string';
    case 'TEXT': case 'UUID': case 'TIME': return typeof v === 'string';
    case 'DATE': return typeof v === 'string' && DATE_TEXT.test(v);
    case 'BYTES': return v instanceof Uint8Array;
    case 'EMBEDDING': return v instanceof Float32Array;
    case 'JSON': case 'FILE': return true;
    case 'UNKNOWN': return false;
  }
}

function declaredArrowType(type: ColumnInfo['type']): ArrowType | undefined {
  switch (type) {
    case 'BOOLEAN': return new Bool();
    case 'SMALLINT': return new Int16();
    case 'INT': return new Int32();
    case 'BIGINT': return new Int64();
    case 'FLOAT': return new Float32();
    case 'DOUBLE': return new Float64();
    case 'TEXT': case 'UUID': case 'TIME': case 'JSON': case 'FILE': case 'DECIMAL': case 'INTERVAL': return new Utf8();
    case 'BYTES': return new Binary();
    case 'TIMESTAMP': case 'DATETIME': return new TimestampMillisecond();
    case 'DATE': return new DateDay();
    case 'EMBEDDING': case 'UNKNOWN': return undefined; // EMBEDDING: embeddingVector

  }
}

function kindOf(v: Value): Kind {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean': return 'boolean';
    case 'number': return Number.isSafeInteger(v) ? 'integer' : 'number';
    case 'bigint': return 'bigint';
    case 'string': return 'string';
    default: return v instanceof Uint8Array ? 'bytes' : 'other'; // a Float32Array of another column: JSON text of its elements
  }
}

/** The one kind describing every value of a column ('null' when all are null). */
function kindOfColumn(values: readonly Value[]): Kind {
  let kind: Kind = 'null';
  for (const v of values) {
    const k = kindOf(v);
    if (k === 'null' || k === kind) continue;
    if (kind === 'null') kind = k;
    else if ((kind === 'integer' && k === 'number') || (kind === 'number' && k === 'integer')) kind = 'number';
    else if ((kind === 'integer' && k === 'bigint') || (kind === 'bigint' && k === 'integer')) kind = 'bigint';
    else return 'other';
  }
  return kind;
}

function inferredArrowType(kind: Kind): ArrowType {
  switch (kind) {
    case 'null': return new Null();
    case 'boolean': return new Bool();
    case 'integer': case 'number': return new Float64();
    case 'bigint': return new Int64();
    case 'string': return new Utf8();
    case 'bytes': return new Binary();
    case 'other': return new Utf8();
  }
}

/** JSON text of a value; bigints (never in stored JSON, but possible in a computed mix) become decimal strings. */
function jsonText(v: Value): string {
  return JSON.stringify(v, (_key, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

function dayMs(text: string): number {
  const m = DATE_TEXT.exec(text)!;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

/** Fixed-width numbers go straight into a typed array; everything else through Arrow's builders. */
function columnVector(type: ArrowType, values: Value[], sqlType: ColumnInfo['type'], kind: Kind | undefined): Vector {
  const n = values.length;
  if (type instanceof Float64 || type instanceof Int64 || type instanceof Int32) {
    const data = type instanceof Float64 ? new Float64Array(n) : type instanceof Int64 ? new BigInt64Array(n) : new Int32Array(n);
    const validity = new Uint8Array((n + 7) >> 3);
    let nullCount = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (v === null) {
        nullCount++;
        continue;
      }
      validity[i >> 3] |= 1 << (i & 7);
      if (data instanceof BigInt64Array) data[i] = typeof v === 'bigint' ? v : BigInt(v as number);
      else data[i] = Number(v);
    }
    return makeVector(makeData({ type: type as Float64, length: n, nullCount, data: data as Float64Array, nullBitmap: nullCount > 0 ? validity : null }));
  }
  if (type instanceof Utf8 && (sqlType === 'JSON' || sqlType === 'FILE' || kind === 'other')) {
    for (let i = 0; i < n; i++) if (values[i] !== null) values[i] = jsonText(values[i]);
  } else if (type instanceof DateDay) {
    for (let i = 0; i < n; i++) if (values[i] !== null) values[i] = dayMs(values[i] as string);
  }
  return vectorFromArray(values as unknown[], type);
}

/** An EMBEDDING column whose vectors are all of one length n as FixedSizeList(n, Float32); undefined otherwise. */
function embeddingVector(values: Value[]): Vector | undefined {
  const first = values.find((v) => v !== null);
  const n = first instanceof Float32Array ? first.length : 0;
  if (n === 0 || !values.every((v) => v === null || (v instanceof Float32Array && v.length === n))) return undefined;
  const data = new Float32Array(values.length * n);
  const validity = new Uint8Array((values.length + 7) >> 3);
  let nullCount = 0;
  values.forEach((v, i) => {
    if (v === null) nullCount++;
    else {
      data.set(v as Float32Array, i * n);
      validity[i >> 3] |= 1 << (i & 7);
    }
  });
  const item = new Field('item', new Float32(), false);
  const child = makeData({ type: new Float32(), length: data.length, nullCount: 0, data });
  return makeVector(makeData({ type: new FixedSizeList(n, item), length: values.length, nullCount, nullBitmap: nullCount > 0 ? validity : null, child }));
}

/** The values of one column, in row order (absent keys read as NULL). */
function columnValues(rows: readonly Row[], name: string): Value[] {
  const values: Value[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) values[i] = rows[i][name] ?? null;
  return values;
}

/**
 * The rows of a query result as an Arrow table, one field per result column
 * in result order, typed as in the table at the top of this file. The
 * result is one that returns rows (arrow-loader.ts checks).
 */
export function resultToArrow(result: StatementResult): ArrowTable {
  const fields: Field[] = [];
  const vectors: Vector[] = [];
  const seen = new Set<string>();
  for (const column of result.columns) {
    // Rows are keyed by name, so a repeated name holds one value: keep the first field.
    if (seen.has(column.name)) continue;
    seen.add(column.name);
    const values = columnValues(result.rows, column.name);
    const embedding = column.type === 'EMBEDDING' ? embeddingVector(values) : undefined;
    const declared = declaredArrowType(column.type);
    let type: ArrowType;
    let kind: Kind | undefined;
    if (embedding) type = embedding.type;
    else if (declared !== undefined && values.every((v) => v === null || fits(column.type, v))) type = declared;
    else {
      kind = kindOfColumn(values);
      type = inferredArrowType(kind);
    }
    const vector = embedding ?? columnVector(type, values, column.type, kind);
    fields.push(new Field(column.name, vector.type, true, new Map([[SQL_TYPE_KEY, column.type]])));
    vectors.push(vector);
  }
  const schema = new Schema(fields);
  const length = result.rows.length;
  const children = vectors.map((v) => v.data[0]);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length, nullCount: 0, children }));
  return new Table([batch]);
}

/** The table as Arrow IPC stream bytes: one buffer, exactly sized, ready to transfer. */
export function encodeArrow(table: ArrowTable): Uint8Array {
  return tableToIPC(table, 'stream');
}

/** A table from Arrow IPC bytes (stream or file format). */
export function decodeArrow(bytes: Uint8Array): ArrowTable {
  return tableFromIPC(bytes);
}
