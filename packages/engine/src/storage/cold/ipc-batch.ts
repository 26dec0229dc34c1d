/**
 * Reads an Arrow IPC stream of one record batch of flat fields — what a
 * row group, a row page or a page directory is (row-group.ts) — without
 * Arrow's reader: the schema message is decoded once per distinct schema
 * (a segment's pages and groups share one) and kept; the record batch
 * message gives each field's buffers as views of the bytes. In Node a
 * 64-row page of six columns took ~50 µs through `tableFromIPC` and ~8 µs
 * here: a point read decodes one page.
 *
 * Anything it does not know (a nested or dictionary field, compression, a
 * message it does not expect) gives undefined, and the caller reads the
 * stream with Arrow's reader. Part of the codec chunk (segment.ts).
 */
import { Message, Precision, Type, type Field, type Schema } from 'apache-arrow';

/** One field's values as row-group.ts reads them (the properties of Arrow's Data it uses). */
export interface FieldData {
  readonly offset: number;
  readonly nullCount: number;
  /** Undefined or empty: no NULLs. */
  readonly nullBitmap?: Uint8Array;
  /** Bool: the bits; fixed width: the typed values; Utf8/Binary: the bytes. */
  readonly values: Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array | BigInt64Array;
  /** Utf8/Binary: where each value starts (length + 1). */
  readonly valueOffsets?: Int32Array;
}

export interface BatchField {
  readonly name: string;
  readonly metadata: ReadonlyMap<string, string>;
  readonly data: FieldData;
}

export interface DecodedBatch {
  readonly rows: number;
  readonly fields: readonly BatchField[];
}

type Layout =
  | { kind: 'bits' }
  | { kind: 'fixed'; make: new (buffer: ArrayBuffer, offset: number, length: number) => FieldData['values']; size: number }
  | { kind: 'var' };

interface SchemaInfo {
  readonly fields: readonly { name: string; metadata: ReadonlyMap<string, string>; layout: Layout }[];
}

/**
 * Decoded schemas by their message's bytes (as latin1 text): a table
 * version's schema message is ~0.3–2 KB, decoded ~1–3 KB. Bounded by
 * SCHEMA_CACHE_BYTES counted as twice the message bytes an entry, emptied
 * when full (reads meet a few table versions at a time); its size is
 * `ipc_schema_cache_bytes` in system.stats.
 */
const schemas = new Map<string, SchemaInfo | null>();
let schemaBytes = 0;
export const SCHEMA_CACHE_BYTES = 256 * 1024;
const latin1 = new TextDecoder('latin1');

/** Bytes the schema cache counts now. */
export const schemaCacheBytes = (): number => schemaBytes;

function layoutOf(f: Field): Layout | undefined {
  const t = f.type as { typeId: Type; bitWidth?: number; isSigned?: boolean; precision?: Precision };
  switch (t.typeId) {
    case Type.Bool:
      return { kind: 'bits' };
    case Type.Int:
      if (t.isSigned === false) return undefined;
      if (t.bitWidth === 16) return { kind: 'fixed', make: Int16Array, size: 2 };
      if (t.bitWidth === 32) return { kind: 'fixed', make: Int32Array, size: 4 };
      if (t.bitWidth === 64) return { kind: 'fixed', make: BigInt64Array, size: 8 };
      return undefined;
    case Type.Float:
      if (t.precision === Precision.SINGLE) return { kind: 'fixed', make: Float32Array, size: 4 };
      if (t.precision === Precision.DOUBLE) return { kind: 'fixed', make: Float64Array, size: 8 };
      return undefined;
    case Type.Timestamp:
      return { kind: 'fixed', make: BigInt64Array, size: 8 };
    case Type.Utf8:
    case Type.Binary:
      return { kind: 'var' };
    default:
      return undefined;
  }
}

function schemaOf(meta: Uint8Array): SchemaInfo | null {
  const key = latin1.decode(meta);
  const hit = schemas.get(key);
  if (hit !== undefined) return hit;
  let info: SchemaInfo | null = null;
  const message = Message.decode(meta);
  if (message.isSchema()) {
    const schema = message.header() as Schema;
    const fields: SchemaInfo['fields'][number][] = [];
    for (const f of schema.fields) {
      const layout = layoutOf(f);
      if (!layout) break;
      fields.push({ name: f.name, metadata: f.metadata, layout });
    }
    if (fields.length === schema.fields.length) info = { fields };
  }
  if (schemaBytes + 2 * meta.length > SCHEMA_CACHE_BYTES) {
    schemas.clear();
    schemaBytes = 0;
  }
  schemas.set(key, info);
  schemaBytes += 2 * meta.length;
  return info;
}

/** The next message's metadata bytes and where its body starts, at `pos` (undefined: not a message). */
function messageAt(bytes: Uint8Array, view: DataView, pos: number): { meta: Uint8Array; body: number } | undefined {
  if (pos + 8 > bytes.length || view.getInt32(pos, true) !== -1) return undefined;
  const len = view.getInt32(pos + 4, true);
  if (len <= 0 || pos + 8 + len > bytes.length) return undefined;
  return { meta: bytes.subarray(pos + 8, pos + 8 + len), body: pos + 8 + len };
}

/** A view of `length` elements at body offset `at`: of the bytes when aligned, else of a copy. */
function view(bytes: Uint8Array, at: number, length: number, make: Extract<Layout, { kind: 'fixed' }>['make'], size: number): FieldData['values'] {
  const abs = bytes.byteOffset + at;
  if (abs % size === 0) return new make(bytes.buffer as ArrayBuffer, abs, length);
  return new make(bytes.slice(at, at + length * size).buffer, 0, length);
}

/** The stream's one record batch (undefined: read it with Arrow's reader instead). */
export function decodeBatch(bytes: Uint8Array): DecodedBatch | undefined {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = messageAt(bytes, dv, 0);
  if (!first) return undefined;
  const schema = schemaOf(first.meta);
  if (!schema) return undefined;
  const second = messageAt(bytes, dv, first.body);
  if (!second) return undefined;
  const message = Message.decode(second.meta);
  if (!message.isRecordBatch()) return undefined;
  const header = message.header() as unknown as { length: number; nodes: { length: number; nullCount: number }[]; buffers: { offset: number; length: number }[]; compression?: unknown };
  if (header.compression || header.nodes.length !== schema.fields.length) return undefined;
  const body = second.body;
  if (body + Number(message.bodyLength) > bytes.length) return undefined;
  const rows = Number(header.length);
  const fields: BatchField[] = [];
  let b = 0;
  for (let i = 0; i < schema.fields.length; i++) {
    const { name, metadata, layout } = schema.fields[i];
    const node = header.nodes[i];
    if (node.length !== rows) return undefined;
    const validity = header.buffers[b++];
    const nullBitmap = node.nullCount > 0 ? bytes.subarray(body + validity.offset, body + validity.offset + validity.length) : undefined;
    let data: FieldData;
    if (layout.kind === 'bits') {
      const v = header.buffers[b++];
      data = { offset: 0, nullCount: node.nullCount, nullBitmap, values: bytes.subarray(body + v.offset, body + v.offset + v.length) };
    } else if (layout.kind === 'fixed') {
      const v = header.buffers[b++];
      if (v.length < rows * layout.size) return undefined;
      data = { offset: 0, nullCount: node.nullCount, nullBitmap, values: view(bytes, body + v.offset, rows, layout.make, layout.size) };
    } else {
      const o = header.buffers[b++];
      const v = header.buffers[b++];
      if (o.length < (rows + 1) * 4) return undefined;
      const valueOffsets = view(bytes, body + o.offset, rows + 1, Int32Array, 4) as Int32Array;
      data = { offset: 0, nullCount: node.nullCount, nullBitmap, values: bytes.subarray(body + v.offset, body + v.offset + v.length), valueOffsets };
    }
    fields.push({ name, metadata, data });
  }
  return { rows, fields };
}
