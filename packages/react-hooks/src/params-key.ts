import { contentKey, type LiveOptions, type Value } from '@kalamlite/worker';

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

/** Live-query options compared by value, like parameters. */
export function liveOptionsKey(options: LiveOptions | undefined): string {
  if (options === undefined) return '-';
  return paramsKey([options.lastRows ?? null, options.batchSize ?? null, options.from ?? null]);
}
