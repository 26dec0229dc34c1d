import { describe, expect, it } from 'vitest';
import { isKalamError } from '../core/errors';
import { decodeFromBytes, encodeToBytes } from './value-codec';

const roundTrip = (v: unknown) => decodeFromBytes(encodeToBytes(v));

describe('value codec', () => {
  it('round-trips every scalar the engine stores', () => {
    const values = [null, undefined, true, false, 0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 53 - 1, 0.5, -1e300, Infinity, -Infinity, '', 'héllo ✓ 𝄞', 'x'.repeat(10_000), 0n, -5n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 200n, -(2n ** 70n) + 3n];
    for (const v of values) expect(roundTrip(v)).toEqual(v);
  });

  it('keeps -0 and NaN apart from 0', () => {
    expect(Object.is(roundTrip(-0), -0)).toBe(true);
    expect(Number.isNaN(roundTrip(NaN))).toBe(true);
  });

  it('round-trips a stored row: an array of mixed values with bytes, bigint _seq and JSON', () => {
    const row = [42, 'title', null, true, new Uint8Array([0, 255, 7]), { a: [1, { b: 'c' }], d: null }, 7_000_000_000_123n, false];
    const back = roundTrip(row) as unknown[];
    expect(back).toEqual(row);
    expect(back[4]).toBeInstanceOf(Uint8Array);
  });

  it('round-trips Dates, ArrayBuffers and other typed arrays', () => {
    const buffer = new Uint8Array([1, 2, 3]).buffer;
    const back = roundTrip({ when: new Date(1234), buffer, f: new Float64Array([1.5, -2]), big: new BigInt64Array([5n]) }) as Record<string, unknown>;
    expect(back.when).toEqual(new Date(1234));
    expect(new Uint8Array(back.buffer as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 3]));
    expect(back.f).toEqual(new Float64Array([1.5, -2]));
    expect(back.big).toEqual(new BigInt64Array([5n]));
  });

  it('copies bytes out, so changing a decoded value does not change another decode', () => {
    const encoded = encodeToBytes(new Uint8Array([9]));
    const a = decodeFromBytes(encoded) as Uint8Array;
    a[0] = 1;
    expect(decodeFromBytes(encoded)).toEqual(new Uint8Array([9]));
  });

  it('refuses functions, symbols, Maps and cycles with STORAGE_ERROR', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [() => 1, Symbol('s'), new Map(), cyclic]) {
      let error: unknown;
      try {
        encodeToBytes(bad);
      } catch (e) {
        error = e;
      }
      expect(isKalamError(error) && error.code).toBe('STORAGE_ERROR');
    }
  });

  it('refuses bytes it did not write with STORAGE_ERROR', () => {
    for (const bad of [new Uint8Array([99]), new Uint8Array([8, 5, 97]), new Uint8Array([0, 0])]) {
      let error: unknown;
      try {
        decodeFromBytes(bad);
      } catch (e) {
        error = e;
      }
      expect(isKalamError(error) && error.code).toBe('STORAGE_ERROR');
    }
  });
});
