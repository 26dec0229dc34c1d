/**
 * Vector indexes' engine side (execute/vector-index.ts, with the HNSW graph
 * and the DDL) is its own lazily loaded chunk (worker-vector-index.js):
 * loaded at open when a table has a vector index, and before ALTER TABLE …
 * CREATE/DROP VECTOR INDEX runs. Until then no table has one.
 */
import { lazyModule } from '../core/lazy-module';
import type { RunSelect, VectorIndexHost } from './vector-index';

export const loadVectorIndex = lazyModule('vector indexes', () => import('./vector-index'));

/** Loads and installs vector indexes when the catalog has one (or `force`: the DDL is about to run). */
export async function ensureVectorIndexes(engine: VectorIndexHost & { catalog: { listTables(): { vectorIndexes?: unknown[] }[] } }, run: RunSelect, force = false): Promise<void> {
  if (engine.vectors) return;
  if (!force && !engine.catalog.listTables().some((t) => t.vectorIndexes?.length)) return;
  (await loadVectorIndex()).installVectorIndexes(engine, run);
}
