// INTERVAL's text, arithmetic and functions, against PostgreSQL's documented
// results: §8.5.4 (Interval Input, Tables 8.16-8.18, and "Interval Output",
// IntervalStyle postgres) and §9.9 (Tables 9.33 and 9.34, §9.9.1 EXTRACT).
import { describe, expect, it } from 'vitest';
import { Interval } from '../core/interval';
import { registerIntervalMath } from '../core/interval-registry';
import { DATE_FUNCTIONS, intervalDatePart } from './interval-functions';
import { INTERVAL_MATH, addToTimestamp, scale } from './interval-math';
import { formatInterval, parseInterval } from './interval-text';

registerIntervalMath(INTERVAL_MATH);
const iv = (s: string) => parseInterval(s);
const text = (s: string) => formatInterval(iv(s));
const ts = (s: string) => Date.parse(`${s}Z`);

describe('interval input and output (IntervalStyle postgres)', () => {
  const cases: [string, string][] = [
    // Table 8.17 / 8.18
    ['1-2', '1 year 2 mons'],
    ['3 4:05:06', '3 days 04:05:06'],
    ['1 year 2 months 3 days 4 hours 5 minutes 6 seconds', '1 year 2 mons 3 days 04:05:06'],
    ['P1Y2M3DT4H5M6S', '1 year 2 mons 3 days 04:05:06'],
    ['-1 year -2 mons +3 days -04:05:06', '-1 years -2 mons +3 days -04:05:06'],
    // §8.5.4: fractions cascade
    ['1.5 years', '1 year 6 mons'],
    ['1.75 months', '1 mon 22 days 12:00:00'],
    ['1.5 weeks', '10 days 12:00:00'],
    // abbreviations, plural and singular, joined numbers, @ and ago
    ['1 day 2 hours', '1 day 02:00:00'],
    ['2h 30m', '02:30:00'],
    ['1day', '1 day'],
    ['@ 1 day 2 hours ago', '-1 days -02:00:00'],
    ['-1 day +2 hours', '-1 days +02:00:00'],
    ['0.5 seconds', '00:00:00.5'],
    ['1 ms', '00:00:00.001'],
    ['3', '00:00:03'],
    ['0', '00:00:00'],
    ['1 day 2', '1 day 00:00:02'],
    ['25:00', '25:00:00'],
    ['P2W', '14 days'],
    ['PT36H', '36:00:00'],
    ['1 century 1 decade', '110 years'],
    ['-00:00:01.25', '-00:00:01.25'],
  ];
  for (const [input, output] of cases) {
    it(`'${input}' prints as '${output}'`, () => expect(text(input)).toBe(output));
  }

  it('refuses text that is no interval with TYPE_MISMATCH naming it', () => {
    for (const bad of ['', 'abc', '1 fortnight', '1 day two', 'P', '12:61', 'ago']) {
      expect(() => iv(bad), bad).toThrow(expect.objectContaining({ code: 'TYPE_MISMATCH', message: expect.stringContaining('invalid input syntax for type interval') }));
    }
  });

  it('refuses parts past their range with OUT_OF_RANGE', () => {
    expect(() => iv('3000000000 days')).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
    expect(() => iv('300000000 years')).toThrow(expect.objectContaining({ code: 'OUT_OF_RANGE' }));
  });

  it("reads a bare number in the qualifier's unit (INTERVAL '3' DAY)", () => {
    expect(formatInterval(parseInterval('3', 'day'))).toBe('3 days');
  });
});

describe('interval arithmetic (Table 9.33)', () => {
  const fmt = (v: unknown) => (v instanceof Interval ? formatInterval(v) : new Date(v as number).toISOString());
  const cases: [string, () => unknown, string][] = [
    ["date '2001-09-28' + interval '1 hour'", () => INTERVAL_MATH.arith('+', '2001-09-28', iv('1 hour'), 'DATE', 'INTERVAL'), '2001-09-28T01:00:00.000Z'],
    ["timestamp '2001-09-28 01:00' + interval '23 hours'", () => INTERVAL_MATH.arith('+', ts('2001-09-28T01:00'), iv('23 hours'), 'TIMESTAMP', 'INTERVAL'), '2001-09-29T00:00:00.000Z'],
    ["interval '1 day' + interval '1 hour'", () => INTERVAL_MATH.arith('+', iv('1 day'), iv('1 hour'), 'INTERVAL', 'INTERVAL'), '1 day 01:00:00'],
    ["- interval '23 hours'", () => INTERVAL_MATH.negate(iv('23 hours')), '-23:00:00'],
    ["date '2001-09-28' - interval '1 hour'", () => INTERVAL_MATH.arith('-', '2001-09-28', iv('1 hour'), 'DATE', 'INTERVAL'), '2001-09-27T23:00:00.000Z'],
    ["timestamp '2001-09-28 23:00' - interval '23 hours'", () => INTERVAL_MATH.arith('-', ts('2001-09-28T23:00'), iv('23 hours'), 'TIMESTAMP', 'INTERVAL'), '2001-09-28T00:00:00.000Z'],
    ["interval '1 day' - interval '1 hour'", () => INTERVAL_MATH.arith('-', iv('1 day'), iv('1 hour'), 'INTERVAL', 'INTERVAL'), '1 day -01:00:00'],
    ["timestamp '2001-09-29 03:00' - timestamp '2001-07-27 12:00'", () => INTERVAL_MATH.arith('-', ts('2001-09-29T03:00'), ts('2001-07-27T12:00'), 'TIMESTAMP', 'TIMESTAMP'), '63 days 15:00:00'],
    ["interval '1 second' * 900", () => INTERVAL_MATH.arith('*', iv('1 second'), 900, 'INTERVAL', 'INT'), '00:15:00'],
    ["21 * interval '1 day'", () => INTERVAL_MATH.arith('*', 21, iv('1 day'), 'INT', 'INTERVAL'), '21 days'],
    ["3.5 * interval '1 hour'", () => INTERVAL_MATH.arith('*', 3.5, iv('1 hour'), 'DECIMAL', 'INTERVAL'), '03:30:00'],
    ["interval '1 hour' / 1.5", () => INTERVAL_MATH.arith('/', iv('1 hour'), 1.5, 'INTERVAL', 'DECIMAL'), '00:40:00'],
    // Months and days move by the calendar: the day is clamped to the month's last.
    ["timestamp '2024-01-31' + interval '1 month'", () => addToTimestamp(ts('2024-01-31T00:00'), iv('1 month')), '2024-02-29T00:00:00.000Z'],
    ["timestamp '2023-01-31 10:00' + interval '1 month 1 day'", () => addToTimestamp(ts('2023-01-31T10:00'), iv('1 month 1 day')), '2023-03-01T10:00:00.000Z'],
    ["timestamp '2024-03-31' - interval '1 month'", () => INTERVAL_MATH.arith('-', ts('2024-03-31T00:00'), iv('1 month'), 'TIMESTAMP', 'INTERVAL'), '2024-02-29T00:00:00.000Z'],
    ["interval '1 mon' * 1.5 (a half month is 15 days)", () => scale(iv('1 mon'), 1.5), '1 mon 15 days'],
    ["interval '1 day 02:00' / 3", () => scale(iv('1 day 02:00'), 1 / 3), '08:40:00'],
  ];
  for (const [sql, run, expected] of cases) {
    it(`${sql} = ${expected}`, () => expect(fmt(run())).toBe(expected));
  }

  it('refuses interval * interval and a division by zero', () => {
    expect(() => INTERVAL_MATH.arith('*', iv('1 day'), iv('1 day'), 'INTERVAL', 'INTERVAL')).toThrow(expect.objectContaining({ code: 'TYPE_MISMATCH' }));
    expect(() => INTERVAL_MATH.arith('/', iv('1 day'), 0, 'INTERVAL', 'INT')).toThrow(expect.objectContaining({ code: 'DIVISION_BY_ZERO' }));
  });

  it('orders by the span with a month as 30 days and a day as 24 hours', () => {
    expect(INTERVAL_MATH.compare(iv('1 mon'), iv('30 days'))).toBe(0);
    expect(INTERVAL_MATH.compare(iv('1 day'), iv('24 hours'))).toBe(0);
    expect(INTERVAL_MATH.compare(iv('1 day'), iv('25 hours'))).toBe(-1);
    expect(INTERVAL_MATH.compare(iv('1 year'), iv('360 days 00:00:01'))).toBe(-1);
    expect(INTERVAL_MATH.hashKey(iv('1 mon'))).toBe(INTERVAL_MATH.hashKey(iv('720 hours')));
  });
});

describe('date/time functions on intervals (Table 9.34, §9.9.1)', () => {
  const call = (name: string, ...args: unknown[]) => DATE_FUNCTIONS[name](args as never, 1e6);
  const part = (field: string, v: Interval) => intervalDatePart(field, v);
  const show = (v: unknown) => (v instanceof Interval ? formatInterval(v) : v);
  const cases: [string, () => unknown, unknown][] = [
    ["age(timestamp '2001-04-10', timestamp '1957-06-13')", () => call('AGE', ts('2001-04-10T00:00'), ts('1957-06-13T00:00')), '43 years 9 mons 27 days'],
    ["date_part('hour', interval '4 hours 3 minutes')", () => part('hour', iv('4 hours 3 minutes')), 4],
    ["extract(day FROM interval '40 days 1 minute')", () => part('day', iv('40 days 1 minute')), 40],
    ["extract(epoch FROM interval '5 days 3 hours')", () => part('epoch', iv('5 days 3 hours')), 442800],
    ["extract(month FROM interval '2 years 3 months')", () => part('month', iv('2 years 3 months')), 3],
    ["extract(month FROM interval '2 years 13 months')", () => part('month', iv('2 years 13 months')), 1],
    ["extract(year FROM interval '2 years 13 months')", () => part('year', iv('2 years 13 months')), 3],
    ["extract(minute FROM interval '2 hours 3 minutes 4.5 seconds')", () => part('minute', iv('2 hours 3 minutes 4.5 seconds')), 3],
    ["extract(second FROM interval '2 hours 3 minutes 4.5 seconds')", () => part('second', iv('2 hours 3 minutes 4.5 seconds')), 4.5],
    ["justify_days(interval '35 days')", () => call('JUSTIFY_DAYS', iv('35 days')), '1 mon 5 days'],
    ["justify_hours(interval '27 hours')", () => call('JUSTIFY_HOURS', iv('27 hours')), '1 day 03:00:00'],
    ["justify_interval(interval '1 mon -1 hour')", () => call('JUSTIFY_INTERVAL', iv('1 mon -1 hour')), '29 days 23:00:00'],
  ];
  for (const [sql, run, expected] of cases) {
    it(`${sql} = ${String(expected)}`, () => expect(show(run())).toBe(expected));
  }

  it('refuses a field an interval does not have, as PostgreSQL does', () => {
    expect(() => part('dow', iv('1 day'))).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER', message: expect.stringContaining('unit "dow" not supported for type interval') }));
  });
});
