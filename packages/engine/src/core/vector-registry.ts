/**
 * Where EMBEDDING's chunk (plan/vector-math.ts) registers as it loads, and
 * where the engine reaches it. It loads (execute/sql-extensions.ts) before a
 * statement whose text names EMBEDDING or a distance function is planned,
 * and whenever the catalog has an EMBEDDING column.
 */
/** What the EMBEDDING chunk does, registered as it loads. */
export interface VectorMath {
  /** EMBEDDING(p[, s]) of a column definition: its dimension, or INVALID_SQL (`p`/`s` as written, undefined when absent). */
  dimension(column: string, p: string | undefined, s: string | undefined, position?: number): number;
  /** coerce() into an EMBEDDING(dimension) column: a Float32Array of exactly `dimension` finite floats, or TYPE_MISMATCH. */
  coerce(value: unknown, dimension: number | undefined, column: string): Float32Array;
}

/**
 * The loaded vector code. Reached only where an EMBEDDING column or a
 * distance function is, so after loadSqlExtensions / loadColumnTypesFor
 * loaded it; unloaded there is a bug (a TypeError, INTERNAL).
 */
export let vectorMath: VectorMath | undefined;

export function registerVectorMath(m: VectorMath): void {
  vectorMath = m;
}
