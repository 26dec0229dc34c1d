import { afterEach, describe, expect, it } from 'vitest';
import { normalizeTime, parseDate, parseTimestamp, timeOfDay } from './datetime';

const originalTz = process.env.TZ;
afterEach(() => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});

describe('parseTimestamp', () => {
  it('reads ISO dates and date-times, a missing zone meaning UTC', () => {
    const midnight = Date.UTC(2024, 0, 1);
    expect(parseTimestamp('2024-01-01')).toBe(midnight);
    expect(parseTimestamp('2024-01-01T00:00:00')).toBe(midnight);
    expect(parseTimestamp('2024-01-01 00:00')).toBe(midnight);
    expect(parseTimestamp('2024-01-01T00:00:00Z')).toBe(midnight);
    expect(parseTimestamp('2024-01-01T10:30:15.1239Z')).toBe(Date.UTC(2024, 0, 1, 10, 30, 15, 123));
  });

  it('applies an explicit offset', () => {
    expect(parseTimestamp('2024-01-01T02:00:00+02:00')).toBe(Date.UTC(2024, 0, 1));
    expect(parseTimestamp('2023-12-31T19:00:00-0500')).toBe(Date.UTC(2024, 0, 1));
    expect(parseTimestamp('2024-01-01T05:30:00+05:30')).toBe(Date.UTC(2024, 0, 1));
  });

  it('means the same instant whatever the machine time zone is', () => {
    process.env.TZ = 'America/New_York';
    expect(parseTimestamp('2024-01-01T00:00:00')).toBe(Date.UTC(2024, 0, 1));
    process.env.TZ = 'Asia/Tokyo';
    expect(parseTimestamp('2024-01-01 00:00:00')).toBe(Date.UTC(2024, 0, 1));
  });

  it('refuses text that is not a real ISO date-time', () => {
    for (const text of ['5', 'yesterday', '2024-02-30', '2023-02-29', '2024-13-01', '2024-01-01T24:00:00', '2024-01-01T10:60', '01/02/2024', '']) {
      expect([text, parseTimestamp(text)]).toEqual([text, undefined]);
    }
    expect(parseTimestamp('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
  });
});

describe('parseDate, normalizeTime and timeOfDay', () => {
  it('normalises a DATE to YYYY-MM-DD in UTC', () => {
    expect(parseDate('2024-02-29')).toBe('2024-02-29');
    expect(parseDate('2024-02-29T23:30:00-02:00')).toBe('2024-03-01');
    expect(parseDate('2024-02-30')).toBeUndefined();
  });

  it('accepts times of day only, printed as PostgreSQL prints a time (seconds always, the fraction without trailing zeros)', () => {
    expect(normalizeTime('00:00')).toBe('00:00:00');
    expect(normalizeTime('10:23')).toBe('10:23:00');
    expect(normalizeTime('23:59:59.999999')).toBe('23:59:59.999999');
    expect(normalizeTime('10:23:00.500')).toBe('10:23:00.5');
    expect(normalizeTime('10:23:00.000')).toBe('10:23:00');
    expect(normalizeTime('2024-01-31 10:23:45')).toBe('10:23:45'); // a date-time's time of day, as '…'::time reads it
    expect(normalizeTime('2024-01-31')).toBeUndefined();
    expect(normalizeTime('24:00')).toBeUndefined();
    expect(normalizeTime('12:60')).toBeUndefined();
    expect(normalizeTime('7:00')).toBeUndefined();
  });

  it('gives the UTC time of day of an instant, before the epoch too', () => {
    expect(timeOfDay(Date.UTC(2024, 0, 31, 10, 23, 45, 120))).toBe('10:23:45.12');
    expect(timeOfDay(Date.UTC(1969, 11, 31, 23, 0))).toBe('23:00:00');
    expect(timeOfDay(0)).toBe('00:00:00');
  });
});
