/**
 * A compact binary encoding of the values the engine stores, for backends
 * that write bytes themselves (OPFS). It round-trips what IndexedDB's
 * structured clone would for those values: null, undefined, booleans,
 * numbers (including -0, NaN, ±Infinity), bigints, DECIMALs, strings, Dates,
 * ArrayBuffers and typed arrays (Uint8Array first of all), arrays (holes
 * read back as undefined) and plain objects (own enumerable string keys).
 * Anything else (functions, symbols, Maps, cycles) is refused with
 * STORAGE_ERROR before a byte of the batch is written.
 */
import { Decimal } from '../core/decimal';
import { Interval } from '../core/interval';
import { KalamError } from '../core/errors';

const enum Tag {
  Null = 0,
  Undefined = 1,
  False = 2,
  True = 3,
  Int32 = 4,
  Float64 = 5,
  BigInt64 = 6,
  BigIntText = 7,
  String = 8,
  Bytes = 9,
  Array = 10,
  Object = 11,
  Date = 12,
  ArrayBuffer = 13,
  TypedArray = 14,
  /** A DECIMAL (core/decimal.ts): its unscaled digits as text, then its scale. */
  Decimal = 15,
  /** An INTERVAL (core/interval.ts): months, days, microseconds, each a float64. */
  Interval = 16,
}

/** Typed-array kinds by their index in the encoding; never reorder. */
const TYPED_ARRAYS = [
  Int8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
] as const;

/** Nesting deeper than this is refused (and stops a cycle). */
const MAX_DEPTH = 512;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

/** A growing byte buffer, reused across batches by its owner. */
export class ByteWriter {
  bytes = new Uint8Array(4096);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  reset(): void {
    this.length = 0;
  }

  ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.bytes[this.length++] = v;
  }

  u32At(at: number, v: number): void {
    this.view.setUint32(at, v, true);
  }

  /** Unsigned LEB128; v < 2^53. */
  varint(v: number): void {
    this.ensure(8);
    while (v >= 0x80) {
      this.bytes[this.length++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.bytes[this.length++] = v;
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.bytes.set(b, this.length);
    this.length += b.length;
  }

  i32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }

  i64(v: bigint): void {
    this.ensure(8);
    this.view.setBigInt64(this.length, v, true);
    this.length += 8;
  }

  string(s: string): void {
    // Reserve the worst case (3 bytes per UTF-16 unit), then write the length before the bytes.
    this.ensure(s.length * 3 + 5);
    if (s.length < 0x80 / 3) {
      const at = this.length++;
      const { written } = textEncoder.encodeInto(s, this.bytes.subarray(this.length));
      this.bytes[at] = written;
      this.length += written;
      return;
    }
    const encoded = textEncoder.encode(s);
    this.varint(encoded.length);
    this.raw(encoded);
  }
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

function refuse(what: string): never {
  throw new KalamError(
    'STORAGE_ERROR',
    `A value could not be stored: ${what} cannot be saved in the database. Nothing of this write was saved. Store numbers, strings, booleans, bigints, bytes, arrays or plain objects.`,
  );
}

export function encodeValue(w: ByteWriter, v: unknown, depth = 0): void {
  if (depth > MAX_DEPTH) refuse(`a value nested more than ${MAX_DEPTH} levels deep (or one that contains itself)`);
  switch (typeof v) {
    case 'boolean':
      w.u8(v ? Tag.True : Tag.False);
      return;
    case 'number':
      if ((v | 0) === v && !Object.is(v, -0)) {
        w.u8(Tag.Int32);
        w.i32(v);
      } else {
        w.u8(Tag.Float64);
        w.f64(v);
      }
      return;
    case 'bigint':
      if (v >= I64_MIN && v <= I64_MAX) {
        w.u8(Tag.BigInt64);
        w.i64(v);
      } else {
        w.u8(Tag.BigIntText);
        w.string(v.toString(16));
      }
      return;
    case 'string':
      w.u8(Tag.String);
      w.string(v);
      return;
    case 'undefined':
      w.u8(Tag.Undefined);
      return;
    case 'object':
      break;
    default:
      refuse(`a ${typeof v}`);
  }
  if (v === null) {
    w.u8(Tag.Null);
    return;
  }
  if (v instanceof Decimal) {
    w.u8(Tag.Decimal);
    w.string(v.unscaled.toString());
    w.varint(v.scale);
    return;
  }
  if (v instanceof Interval) {
    w.u8(Tag.Interval);
    for (const n of [v.months, v.days, v.micros]) w.f64(n);
    return;
  }
  if (v instanceof Uint8Array) {
    w.u8(Tag.Bytes);
    w.varint(v.length);
    w.raw(v);
    return;
  }
  if (Array.isArray(v)) {
    w.u8(Tag.Array);
    w.varint(v.length);
    for (let i = 0; i < v.length; i++) encodeValue(w, v[i], depth + 1);
    return;
  }
  if (v instanceof Date) {
    w.u8(Tag.Date);
    w.f64(v.getTime());
    return;
  }
  if (v instanceof ArrayBuffer) {
    w.u8(Tag.ArrayBuffer);
    w.varint(v.byteLength);
    w.raw(new Uint8Array(v));
    return;
  }
  if (ArrayBuffer.isView(v)) {
    const kind = TYPED_ARRAYS.findIndex((T) => v instanceof T);
    if (kind < 0) refuse(`a ${v.constructor.name}`);
    w.u8(Tag.TypedArray);
    w.u8(kind);
    w.varint(v.byteLength);
    w.raw(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return;
  }
  const proto = Object.getPrototypeOf(v);
  if (v instanceof Map || v instanceof Set || v instanceof RegExp || v instanceof Error || (proto !== Object.prototype && proto !== null)) {
    refuse(`a ${(v as object).constructor?.name ?? 'object'} object`);
  }
  const keys = Object.keys(v);
  w.u8(Tag.Object);
  w.varint(keys.length);
  for (const k of keys) {
    w.string(k);
    encodeValue(w, (v as Record<string, unknown>)[k], depth + 1);
  }
}

/** Reads values back from one byte range; throws STORAGE_ERROR on bytes it did not write. */
export class ByteReader {
  private readonly view: DataView;
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw corrupt();
  }

  u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }

  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  varint(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
      if (scale > 2 ** 49) throw corrupt();
    }
  }

  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    const n = this.varint();
    return textDecoder.decode(this.take(n));
  }

  value(): unknown {
    const tag = this.u8();
    switch (tag) {
      case Tag.Null: return null;
      case Tag.Undefined: return undefined;
      case Tag.False: return false;
      case Tag.True: return true;
      case Tag.Int32: {
        this.need(4);
        const v = this.view.getInt32(this.pos, true);
        this.pos += 4;
        return v;
      }
      case Tag.Float64: {
        this.need(8);
        const v = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case Tag.BigInt64: {
        this.need(8);
        const v = this.view.getBigInt64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case Tag.BigIntText: {
        const text = this.string();
        return text.startsWith('-') ? -BigInt(`0x${text.slice(1)}`) : BigInt(`0x${text}`);
      }
      case Tag.String: return this.string();
      case Tag.Decimal: {
        const text = this.string();
        if (!/^-?\d+$/.test(text)) throw corrupt();
        return new Decimal(BigInt(text), this.varint());
      }
      case Tag.Interval: {
        const [months, days, micros] = [this.f64(), this.f64(), this.f64()];
        if (![months, days, micros].every(Number.isSafeInteger)) throw corrupt();
        return new Interval(months, days, micros);
      }
      case Tag.Bytes: return this.take(this.varint()).slice();
      case Tag.Array: {
        const n = this.varint();
        if (n > this.end - this.pos) throw corrupt();
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = this.value();
        return out;
      }
      case Tag.Object: {
        const n = this.varint();
        const out: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const k = this.string();
          out[k] = this.value();
        }
        return out;
      }
      case Tag.Date: {
        this.need(8);
        const v = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return new Date(v);
      }
      case Tag.ArrayBuffer: return this.take(this.varint()).slice().buffer;
      case Tag.TypedArray: {
        const T = TYPED_ARRAYS[this.u8()];
        if (!T) throw corrupt();
        const bytes = this.take(this.varint()).slice();
        if (bytes.byteLength % T.BYTES_PER_ELEMENT !== 0) throw corrupt();
        return new T(bytes.buffer, 0, bytes.byteLength / T.BYTES_PER_ELEMENT);
      }
      default:
        throw corrupt();
    }
  }
}

function corrupt(): KalamError {
  return new KalamError('STORAGE_ERROR', 'A stored value is damaged (it does not decode). The database files may have been changed outside kalamlite; restore them or delete the database.');
}

/** Encodes one value into fresh bytes (tests and one-off callers; backends reuse a ByteWriter). */
export function encodeToBytes(v: unknown): Uint8Array {
  const w = new ByteWriter();
  encodeValue(w, v);
  return w.bytes.slice(0, w.length);
}

export function decodeFromBytes(bytes: Uint8Array): unknown {
  const r = new ByteReader(bytes);
  const v = r.value();
  if (r.pos !== bytes.length) throw corrupt();
  return v;
}
