/** The SQLite-WASM side of the scale bench, page half: its own dedicated worker (scale-sqlite.worker.ts), called through Comlink. */
import { wrap, type Remote } from 'comlink';
import type { AfterLoad, ScaleStore } from './scale';
import type { SqliteWorkerApi } from './scale-sqlite.worker';

export function sqliteStore(name: string): ScaleStore {
  let worker: Worker | undefined;
  let api: Remote<SqliteWorkerApi>;
  let inTransaction = false;
  return {
    async open(create) {
      worker = new Worker(new URL('./scale-sqlite.worker.ts', import.meta.url), { type: 'module' });
      api = wrap<SqliteWorkerApi>(worker);
      await api.open(name, create);
    },
    get: (id) => api.get(id),
    async insertBatch(rows) {
      // The whole load is one transaction: opened by the first batch, committed by afterLoad().
      if (!inTransaction) {
        await api.begin();
        inTransaction = true;
      }
      return api.insertBatch(rows);
    },
    async endLoad() {
      if (inTransaction) await api.commit();
      inTransaction = false;
    },
    async afterLoad(): Promise<AfterLoad> {
      const started = performance.now();
      await api.createIndex();
      return { what: 'index', ms: performance.now() - started, detail: 'CREATE INDEX items_category_score ON items (category, score)' };
    },
    range: (from, to) => api.range(from, to),
    count: () => api.count(),
    filtered: (category) => api.filtered(category),
    groupBy: () => api.groupBy(),
    insertOne: (row) => api.insertOne(row),
    async close() {
      try {
        await api?.close();
      } finally {
        worker?.terminate();
        worker = undefined;
      }
    },
  };
}
