import { contentKey, type Value } from '@kalamlite/worker';

/**
 * Parameters compared by value (bigint and Uint8Array included), so an
 * inline array literal does not start a new query on every render.
 */
export function paramsKey(params: readonly Value[] | undefined): string {
  if (params === undefined) return '-';
  let key = params.length + ':';
  for (const param of params) key += contentKey(param);
  return key;
}
