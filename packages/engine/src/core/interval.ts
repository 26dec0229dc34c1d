/**
 * INTERVAL values, as PostgreSQL keeps them: months, days and microseconds,
 * never folded into one another ('2024-01-31' + 1 month is '2024-02-29';
 * a day is not always 24 hours). Inside the engine an INTERVAL value is an
 * `Interval`; it leaves the engine as its text in PostgreSQL's default
 * IntervalStyle (`1 year 2 mons 3 days 04:05:06`, outputValue), is stored
 * by the value codec under a tag of its own, by IndexedDB's structured clone
 * as a plain `{ months, days, micros }` that the hot tier revives on open,
 * and in cold segments as its text.
 *
 * This file holds only the class (core/interval-registry.ts the registry):
 * reading, printing,
 * ordering and arithmetic (plan/interval-math.ts) are a chunk of their own,
 * loaded before a statement that names INTERVAL (or subtracts timestamps)
 * is planned and while a database with an INTERVAL column opens
 * (execute/sql-extensions.ts). An Interval exists only once that chunk has
 * made or revived one, so every use below reaches it loaded.
 */
export class Interval {
  /** Brands a real Interval (`#brand in v` asks no proxy trap). */
  readonly #brand = true;
  static is(v: unknown): v is Interval {
    return typeof v === 'object' && v !== null && #brand in v;
  }

  /** Whole months, whole days, and microseconds (a safe integer), each with its own sign. */
  constructor(
    readonly months: number,
    readonly days: number,
    readonly micros: number,
  ) {
    Object.freeze(this);
  }

  /** PostgreSQL's text of the interval; the printer is the chunk's (core/interval-registry.ts sets it as it registers). */
  static format: (v: Interval) => string;

  toString(): string {
    return Interval.format(this);
  }
}

export const isInterval = (v: unknown): v is Interval => Interval.is(v);

