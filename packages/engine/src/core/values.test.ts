import { describe, expect, it } from 'vitest';
import { KalamError } from './errors';
import type { DataType } from './types';
import { coerce, compareValues, hashKey, outputValue, valuesEqual } from './values';

function mismatch(value: unknown, type: DataType): string {
  try {
    coerce(value, type, 'c');
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return (e as KalamError).code;
  }
  throw new Error(`expected ${String(value)} not to fit ${type}`);
}

describe('coerce', () => {
  it('rounds to integers halves away from zero, as SQL casts do', () => {
    expect(coerce(2.5, 'INT', 'c')).toBe(3);
    expect(coerce(-2.5, 'INT', 'c')).toBe(-3);
    expect(coerce(-1.5, 'SMALLINT', 'c')).toBe(-2);
    expect(coerce(-0.4, 'INT', 'c')).toBe(0);
    expect(Object.is(coerce(-0.4, 'INT', 'c'), -0)).toBe(false);
    expect(coerce(-2.5, 'BIGINT', 'c')).toBe(-3n);
  });

  it('refuses NaN and infinities for integer columns', () => {
    expect(mismatch(Number.NaN, 'INT')).toBe('TYPE_MISMATCH');
    expect(mismatch(Number.POSITIVE_INFINITY, 'SMALLINT')).toBe('TYPE_MISMATCH');
    expect(mismatch(Number.NEGATIVE_INFINITY, 'BIGINT')).toBe('TYPE_MISMATCH');
  });

  it('enforces integer ranges', () => {
    expect(coerce(32767, 'SMALLINT', 'c')).toBe(32767);
    expect(mismatch(32768, 'SMALLINT')).toBe('OUT_OF_RANGE');
    expect(mismatch(2147483648, 'INT')).toBe('OUT_OF_RANGE');
    expect(coerce('9223372036854775807', 'BIGINT', 'c')).toBe(9223372036854775807n);
    expect(mismatch('9223372036854775808', 'BIGINT')).toBe('OUT_OF_RANGE');
  });

  it('reads timestamps as ISO text in UTC, Date objects or milliseconds', () => {
    expect(coerce('2024-01-01T00:00:00', 'TIMESTAMP', 'c')).toBe(Date.UTC(2024, 0, 1));
    expect(coerce(new Date(Date.UTC(2024, 0, 1)), 'TIMESTAMP', 'c')).toBe(Date.UTC(2024, 0, 1));
    expect(coerce(1704067200000, 'DATETIME', 'c')).toBe(1704067200000);
    expect(mismatch('5', 'TIMESTAMP')).toBe('TYPE_MISMATCH');
    expect(mismatch('2024-02-30', 'TIMESTAMP')).toBe('TYPE_MISMATCH');
    expect(mismatch(new Date('nonsense'), 'TIMESTAMP')).toBe('TYPE_MISMATCH');
  });

  it('refuses dates and times that do not exist', () => {
    expect(coerce('2024-02-29', 'DATE', 'c')).toBe('2024-02-29');
    expect(coerce('2024-03-01T01:00:00+02:00', 'DATE', 'c')).toBe('2024-02-29');
    expect(mismatch('2023-02-29', 'DATE')).toBe('TYPE_MISMATCH');
    expect(mismatch('2024-04-31', 'DATE')).toBe('TYPE_MISMATCH');
    expect(coerce('23:59:59', 'TIME', 'c')).toBe('23:59:59');
    expect(mismatch('25:00', 'TIME')).toBe('TYPE_MISMATCH');
  });
});

describe('coerce: type ranges', () => {
  const failure = (value: unknown, type: DataType): KalamError => {
    try {
      coerce(value, type, 'col');
    } catch (e) {
      expect(e).toBeInstanceOf(KalamError);
      return e as KalamError;
    }
    throw new Error(`expected ${String(value)} not to fit ${type}`);
  };

  it('keeps DATE within 0000-01-01 … 9999-12-31 (a DATE of 1e308 was an INTERNAL "Invalid time value")', () => {
    const e = failure(1e308, 'DATE');
    expect(e.code).toBe('OUT_OF_RANGE');
    expect(e.message).toBe("Value 1e+308 is out of range for column 'col' of type DATE (0000-01-01 to 9999-12-31)");
    expect(coerce('0000-01-01', 'DATE', 'c')).toBe('0000-01-01');
    expect(coerce('9999-12-31T23:59:59.999Z', 'DATE', 'c')).toBe('9999-12-31');
    expect(mismatch('9999-12-31T23:00:00-05:00', 'DATE')).toBe('OUT_OF_RANGE'); // 10000-01-01 in UTC
    expect(mismatch('0000-01-01T00:00:00+01:00', 'DATE')).toBe('OUT_OF_RANGE');
    expect(mismatch(new Date(-8.64e15), 'DATE')).toBe('OUT_OF_RANGE');
    expect(mismatch(Number.POSITIVE_INFINITY, 'DATE')).toBe('OUT_OF_RANGE');
    expect(mismatch(Number.NaN, 'DATE')).toBe('TYPE_MISMATCH');
    expect(mismatch(5n, 'DATE')).toBe('TYPE_MISMATCH');
  });

  it('keeps TIMESTAMP within a JS Date (±8.64e15 ms) and rounds fractions of a ms half to even', () => {
    const e = failure(1e308, 'TIMESTAMP');
    expect(e.code).toBe('OUT_OF_RANGE');
    expect(e.message).toMatch(/^Value 1e\+308 is out of range for column 'col' of type TIMESTAMP \(±8\.64e15 ms/);
    expect(coerce(8.64e15, 'TIMESTAMP', 'c')).toBe(8.64e15);
    expect(coerce(-8.64e15, 'DATETIME', 'c')).toBe(-8.64e15);
    expect(mismatch(8.64e15 + 1, 'TIMESTAMP')).toBe('OUT_OF_RANGE');
    expect(mismatch(Number.NEGATIVE_INFINITY, 'TIMESTAMP')).toBe('OUT_OF_RANGE');
    expect(mismatch(10n ** 400n, 'TIMESTAMP')).toBe('OUT_OF_RANGE');
    expect(coerce(1704067200000n, 'TIMESTAMP', 'c')).toBe(1704067200000);
    expect(coerce(0.5, 'TIMESTAMP', 'c')).toBe(0);
    expect(coerce(1.5, 'TIMESTAMP', 'c')).toBe(2);
    expect(coerce(2.5, 'TIMESTAMP', 'c')).toBe(2);
    expect(coerce(2.5001, 'TIMESTAMP', 'c')).toBe(3);
    expect(Object.is(coerce(-0.5, 'TIMESTAMP', 'c'), 0)).toBe(true);
    expect(coerce(-1.5, 'TIMESTAMP', 'c')).toBe(-2);
    expect(Number.isInteger(coerce(1704067200000.7, 'TIMESTAMP', 'c'))).toBe(true);
  });

  it('reads integers as PostgreSQL does: a number rounds (numeric → integer), text must be a whole number', () => {
    expect(coerce(0.5, 'INT', 'c')).toBe(1);
    expect(coerce(-0.5, 'SMALLINT', 'c')).toBe(-1);
    expect(coerce(' 42 ', 'INT', 'c')).toBe(42);
    const e = failure('0.5', 'INT');
    expect(e.code).toBe('TYPE_MISMATCH');
    expect(e.message).toBe("Cannot store '0.5' (string) in column 'col' of type INT: text for an integer column must be a whole number");
    expect(mismatch('1e3', 'SMALLINT')).toBe('TYPE_MISMATCH');
    expect(mismatch('1.5', 'BIGINT')).toBe('TYPE_MISMATCH');
    expect(mismatch(new Date(0), 'INT')).toBe('TYPE_MISMATCH');
    expect(mismatch(new Date(0), 'BIGINT')).toBe('TYPE_MISMATCH');
    expect(mismatch(new Date(0), 'DOUBLE')).toBe('TYPE_MISMATCH');
    expect(mismatch(new Date(0), 'TEXT')).toBe('TYPE_MISMATCH');
    expect(mismatch(true, 'INT')).toBe('TYPE_MISMATCH');
    const range = failure(-32769, 'SMALLINT');
    expect(range.code).toBe('OUT_OF_RANGE');
    expect(range.message).toBe("Value -32769 is out of range for column 'col' of type SMALLINT (-32768 to 32767)");
    expect(mismatch(2147483647.5, 'INT')).toBe('OUT_OF_RANGE'); // rounds to 2^31
    expect(mismatch(2n ** 31n, 'INT')).toBe('OUT_OF_RANGE');
    expect(mismatch(1e300, 'BIGINT')).toBe('OUT_OF_RANGE');
    expect(coerce(-(2n ** 63n), 'BIGINT', 'c')).toBe(-(2n ** 63n));
    expect(mismatch(-(2n ** 63n) - 1n, 'BIGINT')).toBe('OUT_OF_RANGE');
  });

  it('takes ±Infinity in FLOAT/DOUBLE/DECIMAL as float8 does, refuses NaN, and keeps FLOAT within float4', () => {
    expect(coerce(Number.POSITIVE_INFINITY, 'DOUBLE', 'c')).toBe(Number.POSITIVE_INFINITY);
    expect(coerce('-Infinity', 'DOUBLE', 'c')).toBe(Number.NEGATIVE_INFINITY);
    expect(coerce('inf', 'FLOAT', 'c')).toBe(Number.POSITIVE_INFINITY);
    expect(coerce(Number.NEGATIVE_INFINITY, 'DECIMAL', 'c')).toBe(Number.NEGATIVE_INFINITY);
    expect(failure(Number.NaN, 'DOUBLE').message).toMatch(/NaN is not stored .*use NULL/);
    expect(mismatch('NaN', 'DOUBLE')).toBe('TYPE_MISMATCH');
    expect(mismatch('1e400', 'DOUBLE')).toBe('OUT_OF_RANGE');
    expect(mismatch(1e300, 'FLOAT')).toBe('OUT_OF_RANGE');
    expect(mismatch(1e-50, 'FLOAT')).toBe('OUT_OF_RANGE');
    expect(coerce(1e300, 'DOUBLE', 'c')).toBe(1e300);
    expect(coerce(0, 'FLOAT', 'c')).toBe(0);
    expect(coerce(0.1, 'FLOAT', 'c')).toBe(Math.fround(0.1));
  });

  it('copies, validates and deep-freezes JSON, and copies an ArrayBuffer into BYTES', () => {
    const doc = { a: [1, { b: 2 }] };
    const stored = coerce(doc, 'JSON', 'j') as { a: [number, { b: number }] };
    expect(stored).toEqual(doc);
    expect(stored).not.toBe(doc);
    expect(Object.isFrozen(stored.a[1])).toBe(true);
    expect(coerce(stored, 'JSON', 'j')).toBe(stored); // already the engine's: shared, not copied again
    expect(Object.isFrozen(coerce('{"x":{"y":1}}', 'JSON', 'j'))).toBe(true);
    const cyclic: Record<string, unknown> = {};
    cyclic.me = cyclic;
    const e = failure(cyclic, 'JSON');
    expect(e.code).toBe('TYPE_MISMATCH');
    expect(e.message).toMatch(/^Column 'col' is JSON and cannot hold this value: a cycle/);
    expect(mismatch('1e400', 'JSON')).toBe('TYPE_MISMATCH');
    expect(mismatch(Number.NaN, 'JSON')).toBe('TYPE_MISMATCH');
    expect(mismatch(5n, 'JSON')).toBe('TYPE_MISMATCH');
    expect(mismatch('['.repeat(300) + ']'.repeat(300), 'JSON')).toBe('LIMIT_EXCEEDED'); // nesting past maxJsonDepth
    const buffer = new Uint8Array([1, 2]).buffer;
    const bytes = coerce(buffer, 'BYTES', 'b') as Uint8Array;
    new Uint8Array(buffer)[0] = 9;
    expect([...bytes]).toEqual([1, 2]);
  });
});

describe('outputValue', () => {
  it('hands out copies of BYTES and sealed JSON as it is', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const out = outputValue(bytes) as Uint8Array;
    out[0] = 9;
    expect(bytes[0]).toBe(1);
    const sealed = coerce({ a: 1 }, 'JSON', 'j');
    expect(outputValue(sealed)).toBe(sealed);
    const mine = { a: { b: 1 } };
    const handed = outputValue(mine) as { a: { b: number } };
    expect(handed).toEqual(mine);
    expect(Object.isFrozen(handed.a)).toBe(true);
    expect(Object.isFrozen(mine)).toBe(false);
  });
});

describe('comparison and hashing', () => {
  it('orders numbers and bigints numerically, exactly above 2^53', () => {
    expect(compareValues(2n ** 53n + 1n, 2 ** 53)).toBe(1);
    expect(compareValues(3, 3n)).toBe(0);
    expect(compareValues(2.5, 3n)).toBe(-1);
    expect(valuesEqual(5, 5n)).toBe(true);
    expect(valuesEqual(5.5, 5n)).toBe(false);
  });

  it('hashes SQL-equal values alike and different values apart', () => {
    expect(hashKey(5)).toBe(hashKey(5n));
    expect(hashKey(5)).not.toBe(hashKey('5'));
    expect(hashKey(null)).not.toBe(hashKey('z'));
    expect(hashKey({ a: 1, b: 2 })).toBe(hashKey({ b: 2, a: 1 }));
    expect(hashKey(true)).not.toBe(hashKey('t'));
  });
});
