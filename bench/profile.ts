/**
 * The engine workload of the bench, run in the page itself (the engine
 * in-process through `createLocalClient`, over the same IndexedDB) so that
 * bench/run.mjs --profile can record it with the page's CPU profiler. The
 * engine code is the one the worker runs; only the Comlink hop is missing.
 */
import { openDatabase } from '@kalamlite/engine';
import { createLocalClient } from '@kalamlite/worker';
import { engineLarge, engineSmall, type Connect } from './engine-suite';
import type { BenchConfig, Check } from './results';

const inPageClient: Connect = async (name) => {
  const db = await openDatabase({ name, storage: 'idb' });
  const client = createLocalClient(db);
  return {
    session: (options) => client.session(options),
    stats: () => client.stats(),
    consume: (topic, options, handler) => client.consume(topic, options, handler),
    fileUrl: (ref, as) => client.fileUrl(ref, as),
    exportDatabase: (options) => client.exportDatabase(options),
    importDatabase: (file, options) => client.importDatabase(file, options),
    async close() {
      await client.close();
      await db.close();
    },
  };
};

export async function profileWorkload(config: BenchConfig): Promise<Check[]> {
  const checks: Check[] = [];
  const runId = Date.now().toString(36);
  await engineSmall(inPageClient, `bench-profile-small-${runId}`, config, checks);
  await engineLarge(inPageClient, `bench-profile-large-${runId}`, config, checks);
  return checks;
}
