/**
 * DECIMAL's operations (a lazily loaded chunk with plan/decimal-math.ts):
 * reading numeric input, ordering and hashing, rounding and fitting a
 * column's NUMERIC(p, s), and exact arithmetic with PostgreSQL's result
 * scales: `+` and `-` keep the larger operand scale, `*` the sum of the
 * scales, `%` the larger scale (the remainder of a truncating division),
 * and `/` the scale numeric.c's select_div_scale picks — at least 16
 * significant digits, at least either operand's scale, at most 1000 —
 * rounded half away from zero. Also the rounding functions (round, trunc,
 * ceil, floor), abs and sign, and SUM/AVG's exact folding.
 */
import { Decimal } from './decimal';
import { KalamError } from './errors';
import type { Value } from './types';
import { describeValue } from './values';

/** PostgreSQL's limit on a numeric's scale (NUMERIC_MAX_DISPLAY_SCALE). */
export const MAX_DECIMAL_SCALE = 1000;

export const pow10 = (n: number): bigint => 10n ** BigInt(n);

const DECIMAL_TEXT = /^\s*([-+]?)(\d*)(?:\.(\d*))?(?:[eE]([-+]?\d+))?\s*$/;

/** Text as numeric input reads it ('12.30', '-.5', '1e3'), or undefined when it is not a number. */
export function parseDecimal(text: string): Decimal | undefined {
  const m = DECIMAL_TEXT.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const frac = m[3] ?? '';
  let unscaled = BigInt((m[2] || '0') + frac);
  let scale = frac.length - (m[4] ? Number(m[4]) : 0);
  if (!Number.isFinite(scale) || scale > MAX_DECIMAL_SCALE || scale < -MAX_DECIMAL_SCALE) return undefined;
  if (scale < 0) {
    unscaled *= pow10(-scale);
    scale = 0;
  }
  return new Decimal(m[1] === '-' ? -unscaled : unscaled, scale);
}

/** A finite number as the decimal its shortest text reads (0.1 → 0.1, not 0.1000000000000000055…); undefined for NaN and ±Infinity. */
export function decimalFromNumber(n: number): Decimal | undefined {
  return Number.isFinite(n) ? parseDecimal(String(n)) : undefined;
}

/** Any numeric value as a Decimal: a Decimal, a bigint, a finite number, numeric text; undefined otherwise. */
export function toDecimal(v: unknown): Decimal | undefined {
  if (Decimal.is(v)) return v;
  if (typeof v === 'bigint') return new Decimal(v, 0);
  if (typeof v === 'number') return decimalFromNumber(v);
  if (typeof v === 'string') return parseDecimal(v);
  return undefined;
}

/**
 * A DECIMAL cell read back from storage: a Decimal, the plain
 * `{ unscaled, scale }` object structured clone makes of one, or a float a
 * database written before DECIMAL was exact holds (read as the decimal its
 * shortest text reads, at the column's `scale` when it declares one:
 * 12.3 in a NUMERIC(10,2) reads as 12.30). Anything else is returned
 * unchanged.
 */
export function reviveDecimal(v: unknown, scale?: number): unknown {
  if (v === null || Decimal.is(v)) return v;
  if (typeof v === 'object') {
    const o = v as { unscaled?: unknown; scale?: unknown };
    if (typeof o.unscaled === 'bigint' && typeof o.scale === 'number') return new Decimal(o.unscaled, o.scale);
    return v;
  }
  const d = typeof v === 'number' || typeof v === 'string' ? toDecimal(v) : undefined;
  return d === undefined ? v : scale === undefined ? d : roundDecimal(d, scale);
}

/** Same value at scale `s` (>= d.scale). */
export const widen = (d: Decimal, s: number): bigint => (s === d.scale ? d.unscaled : d.unscaled * pow10(s - d.scale));

export function compareDecimals(a: Decimal, b: Decimal): number {
  const s = Math.max(a.scale, b.scale);
  const x = widen(a, s);
  const y = widen(b, s);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A Decimal compared with a number (±Infinity and NaN above or below every decimal, as PostgreSQL orders them). */
export function compareDecimalNumber(a: Decimal, n: number): number {
  if (n !== n) return -1; // eslint-disable-line no-self-compare
  if (n === Infinity) return -1;
  if (n === -Infinity) return 1;
  return compareDecimals(a, decimalFromNumber(n)!);
}

/** The value without trailing fractional zeros (12.30 → 12.3): equal values, equal forms. */
export function normalizeDecimal(d: Decimal): Decimal {
  let { unscaled, scale } = d;
  while (scale > 0 && unscaled % 10n === 0n) {
    unscaled /= 10n;
    scale--;
  }
  return scale === d.scale ? d : new Decimal(unscaled, scale);
}

/**
 * A group/hash key equal for SQL-equal numeric values: an integral decimal
 * keys as the integer (5.00 as 'i5', as the number 5 and 5n do), others as
 * their normalized text.
 */
export function decimalHashKey(d: Decimal): string {
  const n = normalizeDecimal(d);
  return n.scale === 0 ? 'i' + n.unscaled : 'n' + n.toString();
}

/** Rounds to `scale` digits after the point, halves away from zero (PostgreSQL's numeric rounding); a larger scale pads with zeros. */
export function roundDecimal(d: Decimal, scale: number): Decimal {
  if (scale >= d.scale) return scale === d.scale ? d : new Decimal(widen(d, scale), scale);
  const div = pow10(d.scale - scale);
  const neg = d.unscaled < 0n;
  const abs = neg ? -d.unscaled : d.unscaled;
  let q = abs / div;
  if ((abs % div) * 2n >= div) q += 1n;
  return new Decimal(neg ? -q : q, scale);
}

/**
 * A value fitted to NUMERIC(precision, scale) as PostgreSQL stores it:
 * rounded to the scale (halves away from zero), then refused with
 * OUT_OF_RANGE ("numeric field overflow") when more integer digits remain
 * than precision − scale allows. Without a precision the value is kept as
 * it is (an unconstrained NUMERIC).
 */
export function fitDecimal(d: Decimal, precision: number | undefined, scale: number | undefined, column: string): Decimal {
  if (precision === undefined) return d;
  const s = scale ?? 0;
  if (!(precision >= 1 && precision <= MAX_DECIMAL_SCALE && s >= 0 && s <= precision)) {
    throw new KalamError('INVALID_SQL', `NUMERIC(${precision},${s}) is invalid: precision must be 1..${MAX_DECIMAL_SCALE} and scale 0..precision`);
  }
  const r = roundDecimal(d, s);
  const abs = r.unscaled < 0n ? -r.unscaled : r.unscaled;
  if (abs >= pow10(precision)) {
    throw new KalamError(
      'OUT_OF_RANGE',
      `numeric field overflow: ${d.toString()} does not fit ${column === 'CAST' ? 'a cast to' : `column '${column}' of type`} NUMERIC(${precision},${s}), which must round to an absolute value less than 10^${precision - s}; widen the precision`,
    );
  }
  return r;
}

const divZero = () => new KalamError('DIVISION_BY_ZERO', 'Division by zero');

const abs = (b: bigint) => (b < 0n ? -b : b);

/** An operand as a Decimal, or TYPE_MISMATCH naming the operator. */
export function decimalOperand(v: Value, op: string): Decimal {
  const d = toDecimal(v);
  if (d === undefined) {
    const what = typeof v === 'string' ? `text ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}` : typeof v === 'number' ? String(v) : `a ${typeof v}`;
    throw new KalamError('TYPE_MISMATCH', `Operator ${op} needs numbers, got ${what} with a DECIMAL: cast the operand to a number type`);
  }
  return d;
}

/** Base-10000 weight and first digit group of |d| (PostgreSQL's numeric layout), for the division scale. */
function weightAndFirst(d: Decimal): [number, bigint] {
  const a = abs(d.unscaled);
  if (a === 0n) return [0, 0n];
  const exp10 = a.toString().length - d.scale - 1; // 10^exp10 <= |d| < 10^(exp10+1)
  const weight = Math.floor(exp10 / 4);
  const e = 4 * weight + d.scale;
  return [weight, e >= 0 ? a / pow10(e) : a * pow10(-e)];
}

/** The scale PostgreSQL gives a / b (select_div_scale). */
export function divisionScale(a: Decimal, b: Decimal): number {
  const [w1, f1] = weightAndFirst(a);
  const [w2, f2] = weightAndFirst(b);
  let qweight = w1 - w2;
  if (f1 <= f2) qweight--;
  const s = Math.max(16 - qweight * 4, a.scale, b.scale, 0);
  return Math.min(s, MAX_DECIMAL_SCALE);
}

/** n / d rounded half away from zero. */
function divRound(n: bigint, d: bigint): bigint {
  let q = n / d;
  const r = n % d;
  if (2n * abs(r) >= abs(d)) q += (n < 0n) !== (d < 0n) ? -1n : 1n;
  return q;
}

export function decimalArith(op: string, a: Decimal, b: Decimal): Decimal {
  switch (op) {
    case '+': case '-': {
      const s = Math.max(a.scale, b.scale);
      const x = widen(a, s);
      const y = widen(b, s);
      return new Decimal(op === '+' ? x + y : x - y, s);
    }
    case '*':
      return roundDecimal(new Decimal(a.unscaled * b.unscaled, a.scale + b.scale), Math.min(a.scale + b.scale, MAX_DECIMAL_SCALE));
    case '/': {
      if (b.unscaled === 0n) throw divZero();
      const s = divisionScale(a, b);
      // a/b·10^s = a.u·10^(b.s + s) / (b.u·10^a.s)
      return new Decimal(divRound(a.unscaled * pow10(b.scale + s), b.unscaled * pow10(a.scale)), s);
    }
    case '%': {
      if (b.unscaled === 0n) throw divZero();
      const s = Math.max(a.scale, b.scale);
      return new Decimal(widen(a, s) % widen(b, s), s); // bigint % keeps the dividend's sign, as PostgreSQL's mod
    }
    default:
      throw new KalamError('UNSUPPORTED', `Operator ${op} is not supported for DECIMAL`);
  }
}

export function negateDecimal(d: Decimal): Decimal {
  return new Decimal(-d.unscaled, d.scale);
}

/** trunc(d, s): drops digits past `s` (toward zero); a negative `s` zeroes integer digits, as PostgreSQL's trunc(numeric, int). */
export function truncDecimal(d: Decimal, s: number): Decimal {
  if (s >= d.scale) return roundDecimal(d, s);
  const cut = pow10(d.scale - s);
  const q = d.unscaled / cut; // bigint division truncates toward zero
  return s >= 0 ? new Decimal(q, s) : new Decimal(q * pow10(-s), 0);
}

/** round(d, s) with PostgreSQL's negative `s` (round(1234.5, -2) = 1200). */
export function roundDecimalTo(d: Decimal, s: number): Decimal {
  if (s >= 0) return roundDecimal(d, s);
  const r = roundDecimal(new Decimal(d.unscaled, d.scale - s), 0); // d / 10^-s, rounded
  return new Decimal(r.unscaled * pow10(-s), 0);
}

/** ceil/floor: the nearest integer above/below, scale 0. */
export function ceilFloorDecimal(d: Decimal, up: boolean): Decimal {
  const t = truncDecimal(d, 0);
  const exact = t.unscaled * pow10(d.scale) === d.unscaled;
  if (exact) return t;
  return new Decimal(t.unscaled + (up ? (d.unscaled > 0n ? 1n : 0n) : d.unscaled < 0n ? -1n : 0n), 0);
}

export function absDecimal(d: Decimal): Decimal {
  return d.unscaled < 0n ? negateDecimal(d) : d;
}

/** sign(d): -1, 0 or 1 as a DECIMAL of scale 0 (PostgreSQL's sign(numeric) is numeric). */
export function signDecimal(d: Decimal): Decimal {
  return new Decimal(d.unscaled < 0n ? -1n : d.unscaled > 0n ? 1n : 0n, 0);
}

/** AVG of decimals: their exact sum divided by the count, at the division's scale (PostgreSQL's numeric_avg). */
export function averageDecimal(sum: Decimal, count: number): Decimal {
  return decimalArith('/', sum, new Decimal(BigInt(count), 0));
}

/** SUM/AVG's running sum with one more value, exact once a DECIMAL is met (a float sum so far is read as the decimal its text reads). */
export function sumDecimal(sum: Value, v: Value, fn: string): Decimal {
  const x = toDecimal(v);
  if (x === undefined) throw new KalamError('TYPE_MISMATCH', `${fn}() needs numbers, got ${typeof v}`);
  if (sum === null) return x;
  const s = toDecimal(sum);
  if (s === undefined) throw new KalamError('TYPE_MISMATCH', `${fn}() needs numbers, got ${typeof sum}`);
  const out = decimalArith('+', s, x);
  // A DECIMAL holds at most 38 digits (KalamDB's Decimal128): a sum past it is an overflow, not a wider number.
  if ((out.unscaled < 0n ? -out.unscaled : out.unscaled) >= DECIMAL_128_LIMIT) {
    throw new KalamError('OUT_OF_RANGE', `numeric field overflow: ${fn.toLowerCase()}() of DECIMAL values passed 38 digits, the most a DECIMAL holds; sum fewer rows, or cast the values to DOUBLE (::DOUBLE) for an approximate total`);
  }
  return out;
}

/** 10^38: a DECIMAL's unscaled value stays below it (38 digits of precision, as KalamDB's Decimal128). */
const DECIMAL_128_LIMIT = 10n ** 38n;

/** A Decimal against another numeric value, in either order, exactly; undefined when the other is not numeric. */
export function compareWithDecimal(a: Value, b: Value): number | undefined {
  if (Decimal.is(a)) {
    if (Decimal.is(b)) return compareDecimals(a, b);
    if (typeof b === 'bigint') return compareDecimals(a, new Decimal(b, 0));
    if (typeof b === 'number') return compareDecimalNumber(a, b);
    return undefined;
  }
  const r = Decimal.is(b) ? compareWithDecimal(b, a) : undefined;
  return r === undefined ? undefined : -r;
}

/**
 * A value for a DECIMAL column (core/values.ts coerce): a number, bigint,
 * Decimal or numeric text, fitted to the column's NUMERIC(p, s). NaN and
 * ±Infinity are refused (an exact DECIMAL holds finite values only).
 */
export function coerceDecimal(value: unknown, precision: number | undefined, scale: number | undefined, column: string): Decimal {
  const d = toDecimal(value);
  if (d !== undefined) return fitDecimal(d, precision, scale, column);
  const what = describeValue(value as Value);
  if (typeof value === 'number' || (typeof value === 'string' && /^\s*[-+]?(?:inf|infinity|nan)\s*$/i.test(value))) {
    throw new KalamError('OUT_OF_RANGE', `Value ${what} is out of range for column '${column}' of type DECIMAL (finite numbers): store NULL, or use a DOUBLE column for NaN and ±Infinity`);
  }
  throw new KalamError('TYPE_MISMATCH', `Cannot store ${what} (${typeof value}) in column '${column}' of type DECIMAL: give a number, or numeric text such as '12.30'`);
}
