/** Building statement results: deeply immutable rows keyed by column name. */
import type { Tuple } from '../exec/context';
import type { ColumnInfo, Row, StatementResult, Value } from '../core/types';
import { outputValue } from '../core/values';

export function okResult(message: string, rowCount = 0): StatementResult {
  return { kind: 'ok', columns: [], rows: [], rowCount, message };
}

/** Tuples (values by slot) as frozen rows keyed by the output column names; JSON values deep-frozen, BYTES copies. */
export function toRows(columns: readonly ColumnInfo[], tuples: readonly Tuple[]): Row[] {
  const n = columns.length;
  const names = columns.map((c) => c.name);
  const out = new Array<Row>(tuples.length);
  for (let r = 0; r < tuples.length; r++) {
    const t = tuples[r];
    const o: Record<string, Value> = {};
    for (let i = 0; i < n; i++) {
      const v = t[i];
      o[names[i]] = typeof v === 'object' && v !== null ? outputValue(v) : v; // deeply immutable: JSON sealed, BYTES copied
    }
    out[r] = Object.freeze(o);
  }
  return out;
}

export function rowsResult(columns: ColumnInfo[], tuples: readonly Tuple[]): StatementResult {
  const rows = toRows(columns, tuples);
  return { kind: 'rows', columns, rows, rowCount: rows.length, message: `${rows.length} row(s)` };
}
