/**
 * How SQL types map to Arrow field types in cold segments, and how a
 * column's values are gathered for encoding, shared by the format 1 and
 * format 2 codecs. Loaded with them (segment-loader.ts).
 */
import { Binary, Bool, Float32, Float64, Int16, Int32, Int64, TimestampMillisecond, Utf8, type DataType as ArrowType } from 'apache-arrow';
import type { ColumnDef, StoredRow } from '../../core/schema';
import type { DataType, Value } from '../../core/types';
import { compareValues } from '../../core/values';

/** Field metadata key naming the SQL type a column was written as. */
export const TYPE_KEY = 'kalam_data_type';

export function arrowType(t: DataType): ArrowType {
  switch (t) {
    case 'BOOLEAN': return new Bool();
    case 'SMALLINT': return new Int16();
    case 'INT': return new Int32();
    case 'BIGINT': return new Int64();
    case 'FLOAT': return new Float32();
    case 'DOUBLE': case 'DECIMAL': return new Float64();
    case 'TIMESTAMP': case 'DATETIME': return new TimestampMillisecond();
    case 'BYTES': case 'EMBEDDING': return new Binary(); // EMBEDDING: its float32s' bytes, little-endian
    case 'TEXT': case 'JSON': case 'FILE': case 'DATE': case 'TIME': case 'UUID': case 'INTERVAL': return new Utf8();
  }
}

/**
 * JSON, BYTES and EMBEDDING have no useful order: no min/max for them. Nor DECIMAL or
 * INTERVAL: a manifest's min/max outlive the engine's Decimal/Interval form (a structured
 * clone makes a plain object of it), so its segments are not pruned.
 */
export const isOrdered = (t: DataType) => t !== 'JSON' && t !== 'FILE' && t !== 'BYTES' && t !== 'DECIMAL' && t !== 'EMBEDDING' && t !== 'INTERVAL';

/**
 * The type a column's values are written as: DECIMAL as its exact text
 * ('12.30', a TEXT column in the segment), FILE as its FileRef's JSON; segments written before DECIMAL
 * was exact hold Float64 columns typed DECIMAL. Both read back as Decimals
 * through coerce (readsAsStored). TIME goes through coerce too: a segment
 * written before its text was PostgreSQL's holds '10:23' for '10:23:00'.
 * INTERVAL is written as its text too
 * ('1 day 02:00:00'), read back as an Interval.
 */
export const storedType = (t: DataType): DataType => (t === 'DECIMAL' || t === 'INTERVAL' ? 'TEXT' : t === 'FILE' ? 'JSON' : t);

/**
 * Whether a column written as `stored` reads back as column type `type`
 * with no conversion. A DECIMAL never does: its text (or an old segment's
 * float) becomes a Decimal through coerce.
 */
export const readsAsStored = (stored: DataType, type: DataType) => (stored === type && type !== 'DECIMAL' && type !== 'INTERVAL' && type !== 'TIME') || (stored === 'JSON' && type === 'FILE');

/** What gathering one column of some rows found: its NULLs, and its smallest and largest value (ordered types only). */
export interface ColumnGathered {
  nulls: number;
  min: Value;
  max: Value;
}

/** Column `slot` (definition `c`) of rows[start, end) into `values` from index 0, as the codecs store it (JSON as text). */
export function gatherColumn(c: ColumnDef, slot: number, rows: readonly StoredRow[], start: number, end: number, values: Value[]): ColumnGathered {
  let nulls = 0;
  let min: Value = null;
  let max: Value = null;
  const ordered = isOrdered(c.type);
  for (let r = 0; r < end - start; r++) {
    const v = rows[start + r][slot];
    if (v === null || v === undefined) {
      nulls++;
      values[r] = null;
      continue;
    }
    values[r] = c.type === 'JSON' || c.type === 'FILE' ? JSON.stringify(v) : c.type === 'DECIMAL' || c.type === 'INTERVAL' ? String(v) : v;
    if (ordered) {
      if (min === null || compareValues(v, min) < 0) min = v;
      if (max === null || compareValues(v, max) > 0) max = v;
    }
  }
  return { nulls, min, max };
}
