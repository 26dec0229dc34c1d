/**
 * DECIMAL/NUMERIC values: exact, an unscaled bigint and a scale (digits
 * after the point), as PostgreSQL's numeric keeps its display scale: 12.30
 * is (1230n, 2) and prints '12.30'. Inside the engine a DECIMAL value is a
 * `Decimal`; it leaves the engine as its text ('12.30', outputValue) and
 * is stored by the value codec (OPFS, export) under a tag of its own, by
 * IndexedDB's structured clone as a plain `{ unscaled, scale }` object that
 * the hot tier revives on open, and in cold segments as its text.
 *
 * This file holds only the class and a registry: everything that reads,
 * orders, rounds or computes on decimals (core/decimal-ops.ts) is a chunk
 * of its own (plan/decimal-math.ts), loaded while a database with a DECIMAL
 * column opens and before a statement that names DECIMAL/NUMERIC or meets
 * such a column is planned (execute/sql-extensions.ts), and reached through
 * decimalMath() (core/decimal-registry.ts). A Decimal exists only where a
 * DECIMAL column or a statement naming the type does, so the chunk is
 * loaded wherever one is met.
 */

export class Decimal {
  /** Brands a real Decimal: `#brand in v` asks no proxy trap (a caller's value may be any object). */
  readonly #brand = true;
  static is(v: unknown): v is Decimal {
    return typeof v === 'object' && v !== null && #brand in v;
  }

  /** value = unscaled / 10^scale; scale >= 0. */
  constructor(
    readonly unscaled: bigint,
    readonly scale: number,
  ) {
    Object.freeze(this);
  }

  toString(): string {
    const neg = this.unscaled < 0n;
    let digits = (neg ? -this.unscaled : this.unscaled).toString();
    if (this.scale > 0) {
      digits = digits.padStart(this.scale + 1, '0');
      digits = `${digits.slice(0, -this.scale)}.${digits.slice(-this.scale)}`;
    }
    return neg ? `-${digits}` : digits;
  }
}

export const isDecimal = (v: unknown): v is Decimal => Decimal.is(v);

/** A Decimal as a float (casts to FLOAT/DOUBLE, and arithmetic with a float operand). */
export const decimalToNumber = (d: Decimal): number => Number(d.toString());
