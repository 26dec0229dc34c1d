/**
 * Secondary indexes' engine side (execute/index-support.ts: hot-tier
 * indexes, UNIQUE checks, index scans) is loaded on first use, as the rare
 * executors are (lazy-executors.ts): at open when a table has an index,
 * and before CREATE INDEX runs. Until then no table has an index, so
 * nothing needs it; once loaded it is installed into the engine's hooks.
 */
import { lazyModule } from '../core/lazy-module';
import type { IndexSupportHost } from './index-support';

export type { IndexHost, UniqueCheck } from './index-types';

export const loadIndexSupport = lazyModule('secondary indexes', () => import('./index-support'));

/** Loads and installs index support when the catalog has an index (or `force`: CREATE INDEX is about to run). */
export async function ensureIndexSupport(engine: IndexSupportHost, force = false): Promise<void> {
  if (engine.uniqueCheck) return;
  if (!force && !engine.catalog.listTables().some((t) => t.indexes?.length)) return;
  (await loadIndexSupport()).installIndexSupport(engine);
}
