/**
 * Where DECIMAL's chunk (plan/decimal-math.ts) registers as it loads, and
 * where the engine reaches it: see core/decimal.ts for when it is loaded.
 */
import type { Decimal } from './decimal';
import { KalamError } from './errors';
import type { TableDef } from './schema';
import type { Value } from './types';

/** What the DECIMAL chunk does, registered as it loads (plan/decimal-math.ts). */
export interface DecimalMath {
  /** Numeric input ('12.30', 1e3, 5n, 0.1): the Decimal it reads as, or undefined when it is not a finite number. */
  read(v: unknown): Decimal | undefined;
  /** coerce() into a DECIMAL column: fitted to NUMERIC(precision, scale) (OUT_OF_RANGE "numeric field overflow" past it), unconstrained without a precision. */
  coerce(value: unknown, precision: number | undefined, scale: number | undefined, column: string): Decimal;
  /** A Decimal against a Decimal, number or bigint (either side), exactly; undefined when the other is not numeric. */
  compare(a: Value, b: Value): number | undefined;
  /** A hash key equal for SQL-equal numbers (5.00 keys as 5 does). */
  hashKey(d: Decimal): string;
  /** To the nearest integer, halves away from zero (numeric → integer casts). */
  toInteger(d: Decimal): bigint;
  /**
   * A hot row read back from storage with its DECIMAL cells in the engine's
   * form: IndexedDB gives a plain `{ unscaled, scale }` for a Decimal, and a
   * database written before DECIMAL was exact holds floats (core/decimal-ops.ts reviveDecimal).
   */
  reviveRow(t: TableDef, row: Value[]): void;
  /** `a op b` for + - * / % with at least one DECIMAL operand, the other an integer or a DECIMAL. */
  arith(op: string, a: Value, b: Value): Decimal;
  /** SUM/AVG's running sum with one more value. */
  sum(sum: Value, v: Value, fn: string): Decimal;
  average(sum: Decimal, count: number): Decimal;
  /** round/trunc/ceil/ceiling/floor/abs/sign on a DECIMAL first argument. */
  call(name: string, args: Value[]): Value;
}

/** The numeric functions that stay exact on a DECIMAL argument (DecimalMath.call). */
export const DECIMAL_FUNCTION_NAMES: ReadonlySet<string> = new Set(['ROUND', 'TRUNC', 'CEIL', 'CEILING', 'FLOOR', 'ABS', 'SIGN']);

let registered: DecimalMath | undefined;

export function registerDecimalMath(m: DecimalMath): void {
  registered = m;
}

/** The loaded arithmetic; a statement reaching it unloaded is a bug in loadSqlExtensions, and fails with UNSUPPORTED. */
export function decimalMath(): DecimalMath {
  if (!registered) throw new KalamError('UNSUPPORTED', 'DECIMAL code not loaded (a bug): please report the statement');
  return registered;
}
