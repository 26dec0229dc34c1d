/**
 * DECIMAL's exact arithmetic as a chunk of its own (loaded by
 * execute/sql-extensions.ts, registered with core/decimal.ts): the
 * operators and SUM/AVG of core/decimal-arith.ts, and the numeric
 * functions on a DECIMAL argument, exact as PostgreSQL's numeric versions
 * are: round/trunc (halves away from zero; a negative place count rounds
 * integer digits), ceil/floor, abs and sign.
 */
import type { Decimal } from '../core/decimal';
import type { DecimalMath } from '../core/decimal-registry';
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import {
  absDecimal, averageDecimal, ceilFloorDecimal, coerceDecimal, compareWithDecimal, decimalArith, decimalHashKey, decimalOperand, reviveDecimal,
  roundDecimal, roundDecimalTo, signDecimal, sumDecimal, toDecimal, truncDecimal,
} from '../core/decimal-ops';

type DecimalFn = (args: Value[]) => Value;

/** The place count of round/trunc: an integer (PostgreSQL's int parameter). */
function places(v: Value | undefined, fn: string): number {
  if (v === undefined) return 0;
  const d = toDecimal(v);
  if (d === undefined || d.scale > 0 && d.unscaled % 10n ** BigInt(d.scale) !== 0n) {
    throw new KalamError('TYPE_MISMATCH', `${fn}(numeric, places): places must be an integer`);
  }
  const n = Number(d.unscaled / 10n ** BigInt(d.scale));
  if (n > 1000 || n < -1000) throw new KalamError('OUT_OF_RANGE', `${fn}(numeric, places): places must be between -1000 and 1000`);
  return n;
}

export const DECIMAL_FUNCTIONS: Record<string, DecimalFn | undefined> = {
  ROUND: ([x, p]) => roundDecimalTo(x as Decimal, places(p, 'round')),
  TRUNC: ([x, p]) => truncDecimal(x as Decimal, places(p, 'trunc')),
  CEIL: ([x]) => ceilFloorDecimal(x as Decimal, true),
  CEILING: ([x]) => ceilFloorDecimal(x as Decimal, true),
  FLOOR: ([x]) => ceilFloorDecimal(x as Decimal, false),
  ABS: ([x]) => absDecimal(x as Decimal),
  SIGN: ([x]) => signDecimal(x as Decimal),
};

export const DECIMAL_MATH: DecimalMath = {
  read: toDecimal,
  coerce: coerceDecimal,
  compare: compareWithDecimal,
  hashKey: decimalHashKey,
  toInteger: (d) => roundDecimal(d, 0).unscaled,
  reviveRow: (t, row) => t.columns.forEach((c, i) => {
    if (c.type !== 'DECIMAL') return;
    const v = reviveDecimal(row[i], c.precision === undefined ? undefined : c.scale ?? 0) as Value;
    if (v !== row[i]) row[i] = v; // a row a memory store kept is frozen, and holds Decimals already
  }),
  arith: (op, a, b) => decimalArith(op, decimalOperand(a, op), decimalOperand(b, op)),
  sum: sumDecimal,
  average: averageDecimal,
  call: (name, args) => DECIMAL_FUNCTIONS[name]!(args),
};
