/**
 * Order-preserving binary tuple keys.
 *
 * A key is a tuple of parts; its encoding is the concatenation of each part's
 * encoding, and encoded keys compare bytewise (`compareBytes`, which is also
 * how IndexedDB orders binary keys) exactly as the tuples compare:
 *
 * - element by element; a tuple that is a prefix of another sorts first;
 * - across types: null < false < true < numbers < strings < bytes;
 * - numbers and bigints are one numeric domain and compare by exact value
 *   (5n < 5.5 < 6, 2n**60n + 1n > 2**60). A number and a bigint of the same
 *   value are different keys: the number sorts first;
 * - -0 is stored as 0 (they are one key); NaN is rejected (INVALID_PARAMETER);
 *   ±Infinity sort below/above every other numeric value;
 * - strings by their UTF-8 bytes (code point order). Lone surrogates are kept
 *   (generalised UTF-8), so every JS string round-trips;
 * - byte arrays bytewise.
 *
 * Layout of each part (first byte is its tag):
 *   null   05
 *   false  10        true 11
 *   number 20 · 8 bytes IEEE-754 big-endian with the sign trick (positive:
 *          sign bit set; negative: all bits inverted) · class byte:
 *            02  a JS number
 *            03  a bigint equal to that double
 *            04  a bigint above the double: · L · L magnitude bytes
 *            01  a bigint below the double: · 255-L · inverted magnitude bytes
 *          The double of a bigint is Number(b) (round to nearest), clamped to
 *          ±Number.MAX_VALUE; the magnitude is |b - double|, big-endian, at
 *          most 254 bytes (so bigints up to about ±2^2000). Bigints within
 *          ±2^53 never carry a magnitude.
 *   string 30 · UTF-8 bytes, 00 written as 00 FF · terminator 00
 *   bytes  40 · bytes, 00 written as 00 FF · terminator 00
 *
 * Invariant that `prefixUpperBound` relies on: no tag byte is 0xFF, and a
 * terminator 00 is never followed by FF. So the byte that follows a complete
 * encoded tuple in any longer key is < 0xFF, and `prefix + FF` is greater than
 * every key that extends the tuple `prefix` and less than or equal to every key
 * after them.
 */
import { KalamError } from '../core/errors';

export type KeyPart = null | boolean | number | bigint | string | Uint8Array;

const TAG_NULL = 0x05;
const TAG_FALSE = 0x10;
const TAG_TRUE = 0x11;
const TAG_NUMBER = 0x20;
const TAG_STRING = 0x30;
const TAG_BYTES = 0x40;

const NUM_BIGINT_BELOW = 0x01;
const NUM_NUMBER = 0x02;
const NUM_BIGINT_EXACT = 0x03;
const NUM_BIGINT_ABOVE = 0x04;

const TERMINATOR = 0x00;
const ESCAPE = 0xff;
const MAX_MAGNITUDE_BYTES = 254;

const MAX_EXACT_BIGINT = 9007199254740992n; // 2^53: every bigint within ±2^53 is an exact double

/** Bytewise comparison, unsigned, a shorter prefix first. Negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i];
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * The exclusive upper bound of every key that extends the encoded tuple
 * `prefix` (prefix + 0xFF; see the invariant at the top of this file).
 * `prefix` must be a whole encoded tuple, not a cut through a part.
 */
export function prefixUpperBound(prefix: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + 1);
  out.set(prefix);
  out[prefix.length] = 0xff;
  return out;
}

/** Above this, the scratch buffer is dropped after use, so one huge key does not pin memory. */
const RETAINED_SCRATCH_BYTES = 64 * 1024;

/**
 * Encodes keys into one reused, growing scratch buffer and hands out a
 * right-sized copy per key. Not re-entrant: one key at a time per encoder.
 */
export class KeyEncoder {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;
  private readonly initialCapacity: number;

  constructor(initialCapacity = 128) {
    this.initialCapacity = initialCapacity;
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
  }

  encode(parts: readonly KeyPart[]): Uint8Array {
    this.pos = 0;
    for (let i = 0; i < parts.length; i++) this.write(parts[i]);
    return this.finish();
  }

  /** Starts a key part by part: `enc.begin().add(a).add(b).finish()`. */
  begin(): this {
    this.pos = 0;
    return this;
  }

  add(part: KeyPart): this {
    this.write(part);
    return this;
  }

  finish(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    if (this.buf.length > RETAINED_SCRATCH_BYTES) {
      this.buf = new Uint8Array(this.initialCapacity);
      this.view = new DataView(this.buf.buffer);
    }
    return out;
  }

  private ensure(extra: number): void {
    const need = this.pos + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private write(part: KeyPart): void {
    if (part === null) {
      this.ensure(1);
      this.buf[this.pos++] = TAG_NULL;
      return;
    }
    switch (typeof part) {
      case 'boolean':
        this.ensure(1);
        this.buf[this.pos++] = part ? TAG_TRUE : TAG_FALSE;
        return;
      case 'number':
        if (part !== part) {
          throw new KalamError('INVALID_PARAMETER', 'NaN cannot be part of a key. Use a number, or NULL.');
        }
        this.ensure(10);
        this.buf[this.pos++] = TAG_NUMBER;
        this.writeDouble(part);
        this.buf[this.pos++] = NUM_NUMBER;
        return;
      case 'bigint':
        this.writeBigint(part);
        return;
      case 'string':
        this.writeString(part);
        return;
      default:
        if (part instanceof Uint8Array) {
          this.writeBytes(part);
          return;
        }
        throw new KalamError(
          'INVALID_PARAMETER',
          `A key part must be null, a boolean, a number, a bigint, a string or a Uint8Array, not ${describeType(part)}.`,
        );
    }
  }

  /** Writes 8 bytes; the caller has ensured room. */
  private writeDouble(x: number): void {
    const p = this.pos;
    this.view.setFloat64(p, x === 0 ? 0 : x); // -0 is stored as 0
    const buf = this.buf;
    if (buf[p] & 0x80) {
      for (let i = p; i < p + 8; i++) buf[i] = ~buf[i] & 0xff;
    } else {
      buf[p] |= 0x80;
    }
    this.pos = p + 8;
  }

  private writeBigint(b: bigint): void {
    if (b >= -MAX_EXACT_BIGINT && b <= MAX_EXACT_BIGINT) {
      this.ensure(10);
      this.buf[this.pos++] = TAG_NUMBER;
      this.writeDouble(Number(b));
      this.buf[this.pos++] = NUM_BIGINT_EXACT;
      return;
    }
    let d = Number(b);
    if (d === Infinity) d = Number.MAX_VALUE;
    else if (d === -Infinity) d = -Number.MAX_VALUE;
    const rest = b - BigInt(d);
    const magnitude = rest < 0n ? -rest : rest;
    const bytes = magnitudeBytes(magnitude);
    this.ensure(11 + bytes.length);
    this.buf[this.pos++] = TAG_NUMBER;
    this.writeDouble(d);
    if (rest === 0n) {
      this.buf[this.pos++] = NUM_BIGINT_EXACT;
    } else if (rest > 0n) {
      this.buf[this.pos++] = NUM_BIGINT_ABOVE;
      this.buf[this.pos++] = bytes.length;
      this.buf.set(bytes, this.pos);
      this.pos += bytes.length;
    } else {
      this.buf[this.pos++] = NUM_BIGINT_BELOW;
      this.buf[this.pos++] = 255 - bytes.length;
      for (let i = 0; i < bytes.length; i++) this.buf[this.pos++] = ~bytes[i] & 0xff;
    }
  }

  /** UTF-8 (lone surrogates as their 3-byte form), 00 escaped, terminated. */
  private writeString(s: string): void {
    this.ensure(2 + s.length * 3);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = TAG_STRING;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        if (c === 0) {
          buf[p++] = 0x00;
          buf[p++] = ESCAPE;
        } else {
          buf[p++] = c;
        }
      } else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6);
        buf[p++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && isLowSurrogate(s.charCodeAt(i + 1))) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(i + 1) - 0xdc00);
        i++;
        buf[p++] = 0xf0 | (cp >> 18);
        buf[p++] = 0x80 | ((cp >> 12) & 0x3f);
        buf[p++] = 0x80 | ((cp >> 6) & 0x3f);
        buf[p++] = 0x80 | (cp & 0x3f);
      } else {
        buf[p++] = 0xe0 | (c >> 12);
        buf[p++] = 0x80 | ((c >> 6) & 0x3f);
        buf[p++] = 0x80 | (c & 0x3f);
      }
    }
    buf[p++] = TERMINATOR;
    this.pos = p;
  }

  private writeBytes(bytes: Uint8Array): void {
    this.ensure(2 + bytes.length * 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = TAG_BYTES;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      buf[p++] = b;
      if (b === 0) buf[p++] = ESCAPE;
    }
    buf[p++] = TERMINATOR;
    this.pos = p;
  }
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

function magnitudeBytes(m: bigint): Uint8Array {
  if (m === 0n) return new Uint8Array(0);
  const hex = m.toString(16);
  const length = (hex.length + 1) >> 1;
  if (length > MAX_MAGNITUDE_BYTES) {
    throw new KalamError('INVALID_PARAMETER', 'This bigint is too large to be part of a key (keys hold integers up to about ±2^2000).');
  }
  const padded = hex.length % 2 === 1 ? '0' + hex : hex;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(padded.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function describeType(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? `an object (${Object.prototype.toString.call(v)})` : `a ${typeof v}`;
}

const sharedEncoder = new KeyEncoder();

export function encodeKey(parts: readonly KeyPart[]): Uint8Array {
  return sharedEncoder.encode(parts);
}

// ---------------------------------------------------------------- decoding

function corrupt(why: string): KalamError {
  return new KalamError(
    'STORAGE_ERROR',
    `A stored key is corrupt (${why}). The database files may be damaged; export what you can and clear this site's data.`,
  );
}

const decodeView = new DataView(new ArrayBuffer(8));

export function decodeKey(bytes: Uint8Array): KeyPart[] {
  const parts: KeyPart[] = [];
  let p = 0;
  const n = bytes.length;
  while (p < n) {
    const tag = bytes[p++];
    switch (tag) {
      case TAG_NULL:
        parts.push(null);
        break;
      case TAG_FALSE:
        parts.push(false);
        break;
      case TAG_TRUE:
        parts.push(true);
        break;
      case TAG_NUMBER: {
        if (p + 9 > n) throw corrupt('a number is cut short');
        const d = readDouble(bytes, p);
        p += 8;
        const cls = bytes[p++];
        if (cls === NUM_NUMBER) {
          parts.push(d);
        } else if (cls === NUM_BIGINT_EXACT) {
          parts.push(BigInt(d));
        } else if (cls === NUM_BIGINT_ABOVE || cls === NUM_BIGINT_BELOW) {
          if (p >= n) throw corrupt('a bigint is cut short');
          const isBelow = cls === NUM_BIGINT_BELOW;
          const length = isBelow ? 255 - bytes[p++] : bytes[p++];
          if (p + length > n) throw corrupt('a bigint is cut short');
          let m = 0n;
          for (let i = 0; i < length; i++) m = (m << 8n) | BigInt(isBelow ? ~bytes[p + i] & 0xff : bytes[p + i]);
          p += length;
          parts.push(isBelow ? BigInt(d) - m : BigInt(d) + m);
        } else {
          throw corrupt(`unknown number class ${cls}`);
        }
        break;
      }
      case TAG_STRING: {
        const end = findTerminator(bytes, p);
        parts.push(decodeString(bytes, p, end));
        p = end + 1;
        break;
      }
      case TAG_BYTES: {
        const end = findTerminator(bytes, p);
        parts.push(unescapeBytes(bytes, p, end));
        p = end + 1;
        break;
      }
      default:
        throw corrupt(`unknown tag ${tag}`);
    }
  }
  return parts;
}

function readDouble(bytes: Uint8Array, p: number): number {
  const isPositive = (bytes[p] & 0x80) !== 0;
  for (let i = 0; i < 8; i++) {
    const b = bytes[p + i];
    decodeView.setUint8(i, isPositive ? (i === 0 ? b & 0x7f : b) : ~b & 0xff);
  }
  return decodeView.getFloat64(0);
}

/** Index of the terminating 00 (one not followed by FF) at or after `p`. */
function findTerminator(bytes: Uint8Array, p: number): number {
  const n = bytes.length;
  for (let i = p; i < n; i++) {
    if (bytes[i] === 0) {
      if (i + 1 < n && bytes[i + 1] === ESCAPE) {
        i++;
        continue;
      }
      return i;
    }
  }
  throw corrupt('a string or byte array has no terminator');
}

function unescapeBytes(bytes: Uint8Array, start: number, end: number): Uint8Array {
  let zeros = 0;
  for (let i = start; i < end; i++) if (bytes[i] === 0) zeros++;
  const out = new Uint8Array(end - start - zeros);
  let o = 0;
  for (let i = start; i < end; i++) {
    out[o++] = bytes[i];
    if (bytes[i] === 0) i++;
  }
  return out;
}

const CHUNK = 4096;

function decodeString(bytes: Uint8Array, start: number, end: number): string {
  const units: number[] = [];
  let out = '';
  let i = start;
  while (i < end) {
    const b = bytes[i];
    if (b < 0x80) {
      units.push(b);
      i += b === 0 ? 2 : 1;
    } else if (b < 0xe0) {
      units.push(((b & 0x1f) << 6) | (bytes[i + 1] & 0x3f));
      i += 2;
    } else if (b < 0xf0) {
      units.push(((b & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f));
      i += 3;
    } else {
      const cp = (((b & 0x07) << 18) | ((bytes[i + 1] & 0x3f) << 12) | ((bytes[i + 2] & 0x3f) << 6) | (bytes[i + 3] & 0x3f)) - 0x10000;
      units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
      i += 4;
    }
    if (units.length >= CHUNK) {
      out += String.fromCharCode(...units);
      units.length = 0;
    }
  }
  if (i !== end) throw corrupt('a string ends inside a character');
  return units.length > 0 ? out + String.fromCharCode(...units) : out;
}
