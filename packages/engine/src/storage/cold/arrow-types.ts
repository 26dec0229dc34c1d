/**
 * How SQL types map to Arrow field types in cold segments, shared by the
 * format 1 and format 2 codecs. Loaded with them (segment-loader.ts).
 */
import { Binary, Bool, Float32, Float64, Int16, Int32, Int64, TimestampMillisecond, Utf8, type DataType as ArrowType } from 'apache-arrow';
import type { DataType } from '../../core/types';

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
    case 'BYTES': return new Binary();
    case 'TEXT': case 'JSON': case 'DATE': case 'TIME': case 'UUID': return new Utf8();
  }
}

/** JSON and BYTES have no useful order: no min/max for them. */
export const isOrdered = (t: DataType) => t !== 'JSON' && t !== 'BYTES';
