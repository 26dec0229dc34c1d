import { describe, expect, it } from 'vitest';
import { KalamError } from './errors';
import { JSON_NULL } from './json';
import type { DataType, Value } from './types';
import {
  coerce,
  compareValues,
  describeValue,
  freezeJson,
  hashKey,
  isTrue,
  outputValue,
  roundHalfAway,
  roundHalfEven,
  stableJson,
  truthy,
  tupleKey,
  valuesEqual,
} from './values';
import { registerDecimalMath } from './decimal-registry';
import { DECIMAL_MATH } from '../plan/decimal-math';

registerDecimalMath(DECIMAL_MATH); // DECIMAL's chunk, as a database with a DECIMAL column loads it

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

  it('takes ±Infinity in FLOAT/DOUBLE as float8 does (not in DECIMAL), refuses NaN, and keeps FLOAT within float4', () => {
    expect(coerce(Number.POSITIVE_INFINITY, 'DOUBLE', 'c')).toBe(Number.POSITIVE_INFINITY);
    expect(coerce('-Infinity', 'DOUBLE', 'c')).toBe(Number.NEGATIVE_INFINITY);
    expect(coerce('inf', 'FLOAT', 'c')).toBe(Number.POSITIVE_INFINITY);
    expect(mismatch(Number.NEGATIVE_INFINITY, 'DECIMAL')).toBe('OUT_OF_RANGE'); // an exact DECIMAL holds finite values only
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

describe('ordering across types', () => {
  it('orders booleans < numbers < strings < bytes < JSON, and within each kind by value', () => {
    const ascending = [false, true, -Infinity, -1, 0n, 0.5, 1, 2n, Infinity, '', 'a', 'b', 'ba', new Uint8Array([]), new Uint8Array([0]), new Uint8Array([0, 1]), new Uint8Array([2]), [1], { a: 1 }, { a: 2 }];
    for (let i = 0; i < ascending.length; i++) {
      for (let j = 0; j < ascending.length; j++) {
        const c = compareValues(ascending[i], ascending[j]);
        expect([i, j, Math.sign(c)]).toEqual([i, j, Math.sign(i - j)]);
      }
    }
  });

  it('compares numbers and bigints both ways, and equal JSON and BYTES by content', () => {
    expect(compareValues(3n, 2.5)).toBe(1);
    expect(compareValues(2n, 2.5)).toBe(-1);
    expect(compareValues(2 ** 53, 2n ** 53n + 1n)).toBe(-1);
    expect(compareValues(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(0);
    expect(compareValues({ b: [1, 2], a: 1 }, { a: 1, b: [1, 2] })).toBe(0);
  });

  it('SQL equality: numbers and bigints by value, objects by content, other kinds never equal', () => {
    expect(valuesEqual('a', 'a')).toBe(true);
    expect(valuesEqual(5n, 5)).toBe(true);
    expect(valuesEqual(2n ** 60n, 2 ** 60)).toBe(true);
    expect(valuesEqual(1, '1')).toBe(false);
    expect(valuesEqual('1', 1)).toBe(false);
    expect(valuesEqual(true, 1)).toBe(false);
    expect(valuesEqual(1, true)).toBe(false);
    expect(valuesEqual('x', { a: 1 })).toBe(false);
    expect(valuesEqual({ a: 1 }, 'x')).toBe(false);
    expect(valuesEqual({ a: [1] }, { a: [1] })).toBe(true);
    expect(valuesEqual({ a: [1] }, { a: [2] })).toBe(false);
    expect(valuesEqual(new Uint8Array([7]), new Uint8Array([7]))).toBe(true);
  });
});

describe('stable JSON text, hash keys and tuple keys', () => {
  it('writes JSON with sorted keys, bigints and bytes marked, NULL and undefined as null', () => {
    expect(stableJson({ b: [1, 'x', true, null], a: { d: 2n, c: undefined } })).toBe('{"a":{"c":null,"d":2n},"b":[1,"x",true,null]}');
    expect(stableJson(new Uint8Array([0, 255]))).toBe('b[0,255]');
    expect(stableJson('a"b')).toBe('"a\\"b"');
    expect(stableJson(1.5)).toBe('1.5');
    expect(stableJson(false)).toBe('false');
    expect(stableJson([])).toBe('[]');
    expect(stableJson({})).toBe('{}');
  });

  it('hashes each kind apart, integers alike whether number or bigint', () => {
    expect(hashKey('x')).toBe('sx');
    expect(hashKey(7)).toBe('i7');
    expect(hashKey(7n)).toBe('i7');
    expect(hashKey(7.5)).toBe('n7.5');
    expect(hashKey(true)).toBe('t');
    expect(hashKey(false)).toBe('f');
    expect(hashKey(null)).toBe('z');
    expect(hashKey({ a: 1 })).toBe('o{"a":1}');
    expect(hashKey(new Uint8Array([1]))).toBe('ob[1]');
  });

  it('keys a tuple by its values in order, so no two different tuples share a key', () => {
    expect(tupleKey([])).toBe('');
    expect(tupleKey([1, 'a', null])).toBe('2:i12:sa1:z');
    expect(tupleKey([1n, 'a'])).toBe(tupleKey([1, 'a']));
    expect(tupleKey(['a', 'b'])).not.toBe(tupleKey(['ab']));
    expect(tupleKey(['a', 'b'])).not.toBe(tupleKey(['b', 'a']));
    // Text holding NUL or digits and colons cannot run into the next value.
    expect(tupleKey(['a\u0000sb', 'x'])).not.toBe(tupleKey(['a', 'b\u0000sx']));
    expect(tupleKey(['2:sa', 'b'])).not.toBe(tupleKey(['', 'a2:sb']));
  });
});

describe('describing a value in a message', () => {
  it('names NULL, quotes text (cut at 40 characters), writes numbers, bigints, bytes, dates and JSON', () => {
    expect(describeValue(null)).toBe('NULL');
    expect(describeValue('abc')).toBe("'abc'");
    expect(describeValue('x'.repeat(40))).toBe(`'${'x'.repeat(40)}'`);
    expect(describeValue('x'.repeat(41))).toBe(`'${'x'.repeat(40)}…'`);
    expect(describeValue(12n)).toBe('12');
    expect(describeValue(1.5)).toBe('1.5');
    expect(describeValue(true)).toBe('a boolean');
    expect(describeValue(new Uint8Array(3))).toBe('<3 bytes>');
    expect(describeValue(new Date(0) as unknown as Value)).toBe('1970-01-01T00:00:00.000Z');
    expect(describeValue(new Date(Number.NaN) as unknown as Value)).toBe('an invalid Date');
    expect(describeValue({ a: 1 })).toBe('{"a":1}');
    const long = { text: 'y'.repeat(80) };
    expect(describeValue(long)).toBe(`${stableJson(long).slice(0, 60)}…`);
    expect(describeValue({ t: 'y'.repeat(51) })).toBe(stableJson({ t: 'y'.repeat(51) }));
    const hostile = new Proxy({}, { ownKeys: () => { throw new Error('no'); } });
    expect(describeValue(hostile as Value)).toBe('a value that cannot be read');
  });

  it('says what kind of value a column refused', () => {
    const message = (value: unknown, type: DataType, precision?: number, scale?: number) => {
      try {
        coerce(value, type, 'c', undefined, precision, scale);
      } catch (e) {
        return (e as KalamError).message;
      }
      return undefined;
    };
    expect(message(new Date(0), 'INT')).toBe("Cannot store 1970-01-01T00:00:00.000Z (Date) in column 'c' of type INT");
    expect(message(new Uint8Array(2), 'TEXT')).toBe("Cannot store <2 bytes> (Uint8Array) in column 'c' of type TEXT");
    expect(message(true, 'INT')).toBe("Cannot store a boolean (boolean) in column 'c' of type INT");
    expect(message('x', 'UUID')).toBe("Cannot store 'x' (string) in column 'c' of type UUID");
    const trap = new Proxy({}, { getPrototypeOf: () => { throw new Error('no'); } });
    expect(message(trap, 'INT')).toMatch(/^Cannot store .* \(object\) in column 'c' of type INT$/);
    expect(message(Infinity, 'BIGINT')).toBe("Cannot store Infinity (number) in column 'c' of type BIGINT");
    expect(message('abc', 'JSON')).toBe("Column 'c' is JSON: 'abc' is not valid JSON text");
    expect(message(Number.NaN, 'FLOAT')).toBe("Cannot store NaN in column 'c' of type FLOAT: NaN is not stored (its ordering is not implemented); use NULL");
    expect(message(1e39, 'FLOAT')).toBe("Value 1e+39 is out of range for column 'c' of type FLOAT (finite magnitudes up to 3.4e38 and down to 1.4e-45, or ±Infinity)");
    expect(String(coerce('1e400', 'DECIMAL', 'c'))).toBe(`1${'0'.repeat(400)}`); // exact, as PostgreSQL's numeric holds it
    expect(message(Infinity, 'DECIMAL')).toBe("Value Infinity is out of range for column 'c' of type DECIMAL (finite numbers): store NULL, or use a DOUBLE column for NaN and ±Infinity");
    expect(message(true, 'DECIMAL')).toBe("Cannot store a boolean (boolean) in column 'c' of type DECIMAL: give a number, or numeric text such as '12.30'");
    expect(message(1000, 'DECIMAL', 5, 2)).toMatch(/^numeric field overflow: 1000 does not fit column 'c' of type NUMERIC\(5,2\)/);
    expect(message(2n ** 64n, 'BIGINT')).toBe("Value 18446744073709551616 is out of range for column 'c' of type BIGINT (-9223372036854775808 to 9223372036854775807)");
    expect(message(2 ** 31, 'INT')).toBe("Value 2147483648 is out of range for column 'c' of type INT (-2147483648 to 2147483647)");
    expect(message(9e15, 'DATETIME')).toBe("Value 9000000000000000 is out of range for column 'c' of type DATETIME (±8.64e15 ms around the epoch: -271821-04-20 to +275760-09-13)");
  });
});

describe('coerce: each type', () => {
  it('BOOLEAN from booleans and the text PostgreSQL reads as one (true/yes/on/1, false/no/off/0, prefixes) in any case', () => {
    expect(coerce(true, 'BOOLEAN', 'c')).toBe(true);
    expect(coerce(false, 'BOOLEAN', 'c')).toBe(false);
    expect(coerce('TRUE', 'BOOLEAN', 'c')).toBe(true);
    expect(coerce('t', 'BOOLEAN', 'c')).toBe(true);
    expect(coerce('False', 'BOOLEAN', 'c')).toBe(false);
    expect(coerce('F', 'BOOLEAN', 'c')).toBe(false);
    expect(coerce('yes', 'BOOLEAN', 'c')).toBe(true);
    expect(coerce(' off ', 'BOOLEAN', 'c')).toBe(false);
    expect(mismatch('o', 'BOOLEAN')).toBe('TYPE_MISMATCH'); // on or off
    expect(mismatch('', 'BOOLEAN')).toBe('TYPE_MISMATCH');
    expect(mismatch(1, 'BOOLEAN')).toBe('TYPE_MISMATCH'); // a value, not a cast: 1::boolean is compile.ts's
  });

  it('NULL and undefined pass through every type', () => {
    for (const type of ['BOOLEAN', 'INT', 'BIGINT', 'DOUBLE', 'TEXT', 'BYTES', 'JSON', 'TIMESTAMP', 'DATE', 'TIME', 'UUID'] as DataType[]) {
      expect(coerce(null, type, 'c')).toBe(null);
      expect(coerce(undefined, type, 'c')).toBe(null);
    }
  });

  it('integers from bigints and text, with signs and spaces', () => {
    expect(coerce(12n, 'INT', 'c')).toBe(12);
    expect(coerce(-32768n, 'SMALLINT', 'c')).toBe(-32768);
    expect(coerce('-7', 'SMALLINT', 'c')).toBe(-7);
    expect(coerce('+7', 'INT', 'c')).toBe(7);
    expect(coerce(' -9 ', 'BIGINT', 'c')).toBe(-9n);
    expect(coerce(5, 'BIGINT', 'c')).toBe(5n);
    expect(coerce(2.5, 'BIGINT', 'c')).toBe(3n);
    expect(mismatch('', 'INT')).toBe('TYPE_MISMATCH');
    expect(mismatch('x', 'BIGINT')).toBe('TYPE_MISMATCH');
    expect(mismatch(true, 'BIGINT')).toBe('TYPE_MISMATCH');
    expect(coerce(-2147483648, 'INT', 'c')).toBe(-2147483648);
    expect(mismatch(-2147483649, 'INT')).toBe('OUT_OF_RANGE');
    expect(coerce(2n ** 63n - 1n, 'BIGINT', 'c')).toBe(2n ** 63n - 1n);
    expect(mismatch(2n ** 63n, 'BIGINT')).toBe('OUT_OF_RANGE');
    expect(Object.is(coerce(-0, 'INT', 'c'), 0)).toBe(true);
  });

  it('FLOAT, DOUBLE and (exact) DECIMAL from numbers, bigints and numeric text', () => {
    expect(coerce(2n, 'DOUBLE', 'c')).toBe(2);
    expect(String(coerce(' 1.5e2 ', 'DECIMAL', 'c'))).toBe('150');
    expect(String(coerce(0.1, 'DECIMAL', 'c'))).toBe('0.1');
    expect(coerce('.5', 'DOUBLE', 'c')).toBe(0.5);
    expect(coerce('-3.', 'DOUBLE', 'c')).toBe(-3);
    expect(coerce('+Infinity', 'DOUBLE', 'c')).toBe(Infinity);
    expect(coerce('-inf', 'FLOAT', 'c')).toBe(-Infinity);
    expect(coerce(-Infinity, 'FLOAT', 'c')).toBe(-Infinity);
    expect(coerce(0.1, 'DOUBLE', 'c')).toBe(0.1);
    expect(coerce(3.4e38, 'FLOAT', 'c')).toBe(Math.fround(3.4e38));
    expect(coerce(1e-45, 'FLOAT', 'c')).toBe(Math.fround(1e-45));
    expect(mismatch('1.2.3', 'DOUBLE')).toBe('TYPE_MISMATCH');
    expect(mismatch(true, 'DOUBLE')).toBe('TYPE_MISMATCH');
    expect(mismatch(-1e300, 'FLOAT')).toBe('OUT_OF_RANGE');
  });

  it('TEXT from text, numbers, bigints and booleans; BYTES from Uint8Array as it is, and from text as bytea input reads it', () => {
    expect(coerce('t', 'TEXT', 'c')).toBe('t');
    expect(coerce(1.5, 'TEXT', 'c')).toBe('1.5');
    expect(coerce(2n, 'TEXT', 'c')).toBe('2');
    expect(coerce(false, 'TEXT', 'c')).toBe('false');
    expect(mismatch({ a: 1 }, 'TEXT')).toBe('TYPE_MISMATCH');
    const bytes = new Uint8Array([1]);
    expect(coerce(bytes, 'BYTES', 'c')).toBe(bytes);
    expect(coerce('01', 'BYTES', 'c')).toEqual(new Uint8Array([0x30, 0x31])); // PostgreSQL: '01'::bytea is \x3031
    expect(coerce('\\x01ff', 'BYTES', 'c')).toEqual(new Uint8Array([1, 255]));
    expect(mismatch('\\x1', 'BYTES')).toBe('TYPE_MISMATCH');
    expect(mismatch([1], 'BYTES')).toBe('TYPE_MISMATCH');
  });

  it('JSON from text and values', () => {
    expect(coerce('[1,"a"]', 'JSON', 'c')).toEqual([1, 'a']);
    expect(coerce('"x"', 'JSON', 'c')).toBe('x');
    expect(coerce(3, 'JSON', 'c')).toBe(3);
  });

  it('TIMESTAMP from text with a zone, DATE from milliseconds and Dates, TIME and UUID from text', () => {
    expect(coerce('2024-01-01T02:00:00+02:00', 'TIMESTAMP', 'c')).toBe(Date.UTC(2024, 0, 1));
    expect(mismatch(true, 'TIMESTAMP')).toBe('TYPE_MISMATCH');
    expect(mismatch(-(10n ** 400n), 'TIMESTAMP')).toBe('OUT_OF_RANGE');
    expect(coerce(-(10n ** 15n), 'TIMESTAMP', 'c')).toBe(-1e15);
    expect(coerce(Date.UTC(2024, 1, 29, 12), 'DATE', 'c')).toBe('2024-02-29');
    expect(coerce(new Date(Date.UTC(2000, 0, 1)), 'DATE', 'c')).toBe('2000-01-01');
    expect(mismatch(-Infinity, 'DATE')).toBe('OUT_OF_RANGE');
    expect(mismatch(12, 'TIME')).toBe('TYPE_MISMATCH');
    expect(coerce('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'UUID', 'c')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(mismatch('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1', 'UUID')).toBe('TYPE_MISMATCH');
    expect(mismatch(' a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'UUID')).toBe('TYPE_MISMATCH');
    expect(mismatch('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11x', 'UUID')).toBe('TYPE_MISMATCH');
    expect(mismatch(5, 'UUID')).toBe('TYPE_MISMATCH');
  });
});

describe('rounding, truth and frozen JSON', () => {
  it('rounds halves away from zero, or to even, never giving -0', () => {
    expect([2.5, -2.5, 1.4, -1.6, 0.5].map(roundHalfAway)).toEqual([3, -3, 1, -2, 1]);
    expect(Object.is(roundHalfAway(-0.2), 0)).toBe(true);
    expect([0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 4, 0, -2, -2, 2, 3]);
    expect(Object.is(roundHalfEven(-0.5), 0)).toBe(true);
  });

  it('reads booleans, numbers and t/true/f/false text as truth; NULL is not true; other text fails', () => {
    expect([true, false, 1, 0, -2, 1n, 0n, 'TRUE', 't', 'false', 'F'].map(truthy)).toEqual([true, false, true, false, true, true, false, true, true, false, false]);
    expect(isTrue(null)).toBe(false);
    expect(isTrue(1)).toBe(true);
    expect(isTrue(false)).toBe(false);
    expect(() => truthy('maybe')).toThrow(expect.objectContaining({ code: 'TYPE_MISMATCH', message: 'Expected a boolean condition, got string' }));
    expect(() => truthy({ a: 1 })).toThrow(expect.objectContaining({ code: 'TYPE_MISMATCH', message: 'Expected a boolean condition, got object' }));
  });

  it('freezes decoded JSON in place and trusts it as sealed from then on', () => {
    const decoded = JSON.parse('{"a":{"b":[1]}}');
    expect(freezeJson(decoded)).toBe(decoded);
    expect(Object.isFrozen(decoded.a.b)).toBe(true);
    expect(outputValue(decoded)).toBe(decoded);
    expect(coerce(decoded, 'JSON', 'c')).toBe(decoded);
  });
});

describe('NaN (PostgreSQL float order) and the JSON null', () => {
  it('orders NaN above every number and bigint, equal to itself, in both argument orders', () => {
    expect(compareValues(NaN, NaN)).toBe(0);
    expect(compareValues(NaN, 1e308)).toBe(1);
    expect(compareValues(1e308, NaN)).toBe(-1);
    expect(compareValues(NaN, Infinity)).toBe(1);
    expect(compareValues(-Infinity, NaN)).toBe(-1);
    expect(compareValues(NaN, 5n)).toBe(1);
    expect(compareValues(5n, NaN)).toBe(-1);
    expect(compareValues(2n ** 70n, NaN)).toBe(-1);
    // Numbers that only compare equal still order as equal (no NaN involved).
    expect(compareValues(0, -0)).toBe(0);
    expect(compareValues(7n, 7)).toBe(0);
    expect(compareValues(7, 7n)).toBe(0);
    expect(compareValues('b', 'a')).toBe(1);
    expect(compareValues(false, true)).toBe(-1);
    expect(compareValues(true, true)).toBe(0);
  });

  it('treats NaN as equal to NaN and to nothing else', () => {
    expect(valuesEqual(NaN, NaN)).toBe(true);
    expect(valuesEqual(NaN, 1)).toBe(false);
    expect(valuesEqual(1, NaN)).toBe(false);
    expect(valuesEqual(NaN, 1n)).toBe(false);
    expect(valuesEqual('x', 'x')).toBe(true);
    expect(valuesEqual('1', 1)).toBe(false);
    expect(valuesEqual(1, '1')).toBe(false);
    expect(valuesEqual({ a: 1 }, { a: 1 })).toBe(true);
    expect(valuesEqual({ a: 1 }, { a: 2 })).toBe(false);
    expect(valuesEqual(new Uint8Array([1]), new Uint8Array([1]))).toBe(true);
    expect(valuesEqual(new Uint8Array([1]), { 0: 1 })).toBe(false);
  });

  it('stores a JSON null as SQL NULL, casts it to text as null, and refuses any other cast', () => {
    expect(coerce(JSON_NULL, 'JSON', 'j')).toBeNull();
    expect(coerce(JSON_NULL, 'TEXT', 't')).toBe('null');
    for (const type of ['INT', 'BOOLEAN', 'DOUBLE', 'TIMESTAMP'] as DataType[]) {
      try {
        coerce(JSON_NULL, type, 'c');
        throw new Error('expected a refusal');
      } catch (e) {
        expect(e).toBeInstanceOf(KalamError);
        expect((e as KalamError).code).toBe('TYPE_MISMATCH');
        expect((e as KalamError).message).toContain(`Cannot cast a JSON null to ${type} for 'c'`);
      }
    }
  });

  it('hands a JSON null out as null, and text for it as null', () => {
    expect(outputValue(JSON_NULL)).toBeNull();
    expect(outputValue(5)).toBe(5);
    expect(outputValue('s')).toBe('s');
    expect(outputValue(null)).toBeNull();
    expect(stableJson(JSON_NULL)).toBe('null');
    expect(stableJson(true)).toBe('true');
    expect(stableJson(undefined)).toBe('null');
  });
});
