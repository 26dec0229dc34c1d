import { describe, expect, it } from 'vitest';
import { KalamError } from './errors';
import type { DataType } from './types';
import { coerce, compareValues, hashKey, valuesEqual } from './values';

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
    expect(coerce('-1.5', 'SMALLINT', 'c')).toBe(-2);
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
    expect(mismatch(32768, 'SMALLINT')).toBe('TYPE_MISMATCH');
    expect(mismatch(2147483648, 'INT')).toBe('TYPE_MISMATCH');
    expect(coerce('9223372036854775807', 'BIGINT', 'c')).toBe(9223372036854775807n);
    expect(mismatch('9223372036854775808', 'BIGINT')).toBe('TYPE_MISMATCH');
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
