import type { Value } from '@kalamlite/worker';

/** TIMESTAMP values arrive as milliseconds since the epoch. */
export function formatTime(value: number | null): string {
  if (value === null) return '';
  return new Date(value).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** One cell of the SQL console's result table. */
export function formatCell(value: Value): string {
  if (value === null) return 'NULL';
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
