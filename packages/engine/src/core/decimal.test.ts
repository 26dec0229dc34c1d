// DECIMAL's exact arithmetic, cases taken from PostgreSQL's documentation:
// §8.1.2 (numeric rounding and storage), Table 9.4 (operators) and
// Table 9.5 (functions). Each expected value is the documented result text.
import { describe, expect, it } from 'vitest';
import { decimalArith, divisionScale, fitDecimal, parseDecimal, roundDecimal } from './decimal-ops';
import { Decimal } from './decimal';
import { registerDecimalMath } from './decimal-registry';
import { compareValues, hashKey, valuesEqual } from './values';
import { KalamError } from './errors';
import { DECIMAL_FUNCTIONS, DECIMAL_MATH } from '../plan/decimal-math';

registerDecimalMath(DECIMAL_MATH); // as execute/sql-extensions.ts does when the chunk loads

const d = (s: string) => parseDecimal(s)!;

describe('DECIMAL arithmetic', () => {
  it.each([
    ['2', '+', '3', '5'], // Table 9.4
    ['2', '-', '3', '-1'],
    ['2', '*', '3', '6'],
    ['5.0', '/', '2', '2.5000000000000000'], // Table 9.4: numeric division
    ['5', '%', '4', '1'],
    ['0.1', '+', '0.2', '0.3'], // exact, unlike float8
    ['1.10', '*', '2.5', '2.750'], // result scale = sum of scales
    ['-7.5', '%', '2', '-1.5'], // mod takes the dividend's sign
  ])('%s %s %s = %s', (a, op, b, expected) => {
    expect(decimalArith(op, d(a), d(b)).toString()).toBe(expected);
  });

  it('divides with at least 16 significant digits, rounding the last half away from zero', () => {
    expect(decimalArith('/', d('1'), d('3')).toString()).toBe('0.33333333333333333333');
    expect(decimalArith('/', d('2'), d('3')).toString()).toBe('0.66666666666666666667');
    expect(divisionScale(d('100'), d('7'))).toBe(16);
  });

  it('refuses division by zero with DIVISION_BY_ZERO', () => {
    expect(() => decimalArith('/', d('1.5'), d('0.00'))).toThrow(expect.objectContaining({ code: 'DIVISION_BY_ZERO' }));
  });
});

describe('numeric rounding (§8.1.2: ties away from zero)', () => {
  it.each([
    ['-3.5', '-4'], ['-2.5', '-3'], ['-1.5', '-2'], ['-0.5', '-1'],
    ['0.5', '1'], ['1.5', '2'], ['2.5', '3'], ['3.5', '4'],
  ])('round(%s) = %s', (x, expected) => {
    expect(roundDecimal(d(x), 0).toString()).toBe(expected);
  });
});

describe('numeric functions (Table 9.5)', () => {
  it.each([
    ['ABS', ['-17.4'], '17.4'],
    ['CEIL', ['42.2'], '43'],
    ['CEIL', ['-42.8'], '-42'],
    ['FLOOR', ['42.8'], '42'],
    ['FLOOR', ['-42.8'], '-43'],
    ['ROUND', ['42.4'], '42'],
    ['ROUND', ['42.4382', '2'], '42.44'],
    ['ROUND', ['1234.56', '-1'], '1230'],
    ['TRUNC', ['42.8'], '42'],
    ['TRUNC', ['42.4382', '2'], '42.43'],
    ['SIGN', ['-8.4'], '-1'],
  ] as const)('%s(%s) = %s', (fn, args, expected) => {
    expect(String(DECIMAL_FUNCTIONS[fn]!(args.map(d)))).toBe(expected);
  });
});

describe('storing into NUMERIC(p, s) (§8.1.2)', () => {
  it('rounds to the declared scale, then refuses more integer digits than precision − scale allows', () => {
    expect(fitDecimal(d('23.5141'), 6, 4, 'x').toString()).toBe('23.5141');
    expect(fitDecimal(d('23.5141'), 5, 2, 'x').toString()).toBe('23.51');
    expect(fitDecimal(d('2.005'), 5, 2, 'x').toString()).toBe('2.01');
    expect(fitDecimal(d('12'), 5, 2, 'x').toString()).toBe('12.00');
    expect(() => fitDecimal(d('1000'), 5, 2, 'x')).toThrow(KalamError);
    expect(() => fitDecimal(d('999.995'), 5, 2, 'x')).toThrow(/numeric field overflow/); // rounds to 1000.00
    expect(fitDecimal(d('999.994'), 5, 2, 'x').toString()).toBe('999.99');
  });
});

describe('ordering and equality', () => {
  it('compares decimals with each other, with integers and with floats by value', () => {
    expect(compareValues(d('10.00'), d('9.5'))).toBe(1);
    expect(compareValues(d('1.10'), d('1.1'))).toBe(0);
    expect(compareValues(d('2'), 3)).toBe(-1);
    expect(compareValues(5n, d('4.99'))).toBe(1);
    expect(valuesEqual(d('5.00'), 5)).toBe(true);
    expect(valuesEqual(d('5.00'), 5n)).toBe(true);
    expect(valuesEqual(d('0.1'), 0.1)).toBe(true);
  });

  it('gives SQL-equal values one hash key (GROUP BY 1.10 and 1.1 together)', () => {
    expect(hashKey(d('1.10'))).toBe(hashKey(d('1.1')));
    expect(hashKey(d('5.00'))).toBe(hashKey(5));
    expect(hashKey(d('1.1'))).not.toBe(hashKey(d('1.2')));
  });

  it('prints its scale: 12.30 stays 12.30', () => {
    expect(new Decimal(1230n, 2).toString()).toBe('12.30');
    expect(new Decimal(-5n, 3).toString()).toBe('-0.005');
    expect(d('1e3').toString()).toBe('1000');
    expect(d('-.5').toString()).toBe('-0.5');
    expect(parseDecimal('abc')).toBeUndefined();
  });
});
