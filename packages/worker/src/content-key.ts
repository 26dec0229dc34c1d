import type { Row, Value } from '@kalamlite/engine';

/**
 * A string that is equal for two values exactly when their contents are
 * equal: bigint, Uint8Array and JSON objects included (JSON object keys are
 * sorted, so their order does not matter). Every encoding starts with a tag
 * and is self-delimiting (strings are length-prefixed), so distinct values
 * never collide.
 */
export function contentKey(value: Value | undefined): string {
  switch (typeof value) {
    case 'string':
      return 's' + value.length + ':' + value;
    case 'number':
      return (Object.is(value, -0) ? 'd-0' : 'd' + value) + ';';
    case 'bigint':
      return 'n' + value + ';';
    case 'boolean':
      return value ? 't' : 'f';
    case 'undefined':
      return 'u';
    case 'object':
      if (value === null) return 'z';
      if (value instanceof Uint8Array) return bytesKey(value);
      if (Array.isArray(value)) return arrayKey(value);
      return objectKey(value as Readonly<Record<string, Value>>);
    default:
      // Functions and symbols are not Values; they only equal themselves.
      return 'o' + String(value) + ';';
  }
}

/**
 * The content key of a result row. Columns are taken in the row's own order
 * (rows of one query share it), which saves sorting on this hot path; rows
 * with the same cells in another column order merely go unshared.
 */
export function rowKey(row: Row): string {
  let key = 'r';
  for (const name in row) key += name.length + ':' + name + contentKey(row[name]);
  return key + ';';
}

function arrayKey(values: readonly Value[]): string {
  let key = '[';
  for (let i = 0; i < values.length; i++) key += contentKey(values[i]);
  return key + ']';
}

function objectKey(object: Readonly<Record<string, Value>>): string {
  const names = Object.keys(object).sort();
  let key = '{';
  for (const name of names) key += name.length + ':' + name + contentKey(object[name]);
  return key + '}';
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function bytesKey(bytes: Uint8Array): string {
  let key = 'x';
  for (let i = 0; i < bytes.length; i++) key += HEX[bytes[i]];
  return key + ';';
}
