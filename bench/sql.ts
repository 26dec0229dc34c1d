/** The SQL the engine side runs, and how bench rows become statement parameters. */
import type { BenchRow } from './rows';

export const CREATE_NAMESPACE = 'CREATE NAMESPACE bench';

export const CREATE_TABLE =
  'CREATE SHARED TABLE bench.items (id BIGINT PRIMARY KEY, category TEXT NOT NULL, score DOUBLE, title TEXT, created_at TIMESTAMP DEFAULT NOW())';

export const LOOKUP = 'SELECT * FROM bench.items WHERE id = $1';

export const FILTERED_QUERY =
  'SELECT * FROM bench.items WHERE category = $1 AND score > $2 ORDER BY score DESC LIMIT 50';

const COLUMNS_PER_ROW = 4;

/** `INSERT … VALUES ($1, $2, $3, $4), ($5, …)` for `rowCount` rows; one text per size, so the plan cache sees one shape. */
export function insertStatement(rowCount: number): string {
  const tuples: string[] = new Array(rowCount);
  for (let r = 0; r < rowCount; r++) {
    const p = r * COLUMNS_PER_ROW;
    tuples[r] = `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4})`;
  }
  return `INSERT INTO bench.items (id, category, score, title) VALUES ${tuples.join(', ')}`;
}

/** Parameters for `insertStatement(rows.length)`; BIGINT travels as bigint (DIALECT.md wire mapping). */
export function insertParams(rows: readonly BenchRow[]): (bigint | string | number)[] {
  const params: (bigint | string | number)[] = new Array(rows.length * COLUMNS_PER_ROW);
  rows.forEach((row, r) => {
    const p = r * COLUMNS_PER_ROW;
    params[p] = BigInt(row.id);
    params[p + 1] = row.category;
    params[p + 2] = row.score;
    params[p + 3] = row.title;
  });
  return params;
}
