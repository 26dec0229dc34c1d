/**
 * `window.runTiers(overrides?)`: the tiers bench in the page. Three sides,
 * each on an empty origin — engine, raw IndexedDB, Dexie — then every
 * figure as a summary, with the checks that their answers agree.
 * Cold opens are timed here in the page for all three: the engine's is a new
 * client (worker start, open, first lookup); the others open their database
 * from the page, as an app would, and read one row.
 */
import { wrap } from 'comlink';
import type { Check } from './results';
import { summarize } from './stats';
import { sameGroups, TIERS_DEFAULT, type TiersConfig, type TiersFigures, type TiersResults, type TiersSamples } from './tiers';
import { engineColdOpens, engineTiers } from './tiers-engine';
import { DexieItems, openIdbItems } from './tiers-stores';
import type { TiersWorkerApi } from './tiers.worker';
import { seededRandom } from './rows';

declare global {
  interface Window {
    runTiers: (overrides?: Partial<TiersConfig>) => Promise<TiersResults>;
  }
}

function progress(message: string): void {
  console.log(`[bench] tiers: ${message}`);
  const status = document.getElementById('status');
  if (status) status.textContent = `tiers: ${message}`;
}

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    const timer = setTimeout(() => reject(new Error(`deleting IndexedDB database ${name} stayed blocked`)), 5_000);
    request.onsuccess = () => {
      clearTimeout(timer);
      resolve();
    };
    request.onerror = () => {
      clearTimeout(timer);
      reject(request.error ?? new Error(`deleting IndexedDB database ${name} failed`));
    };
  });
}

async function emptyOrigin(): Promise<void> {
  for (const { name } of await indexedDB.databases()) if (name) await deleteDatabase(name);
}

function coldOpenIds(config: TiersConfig): number[] {
  const random = seededRandom(config.seed ^ 0x30);
  return Array.from({ length: config.coldOpens }, () => 1 + Math.floor(random() * config.largeRows));
}

async function idbColdOpens(name: string, config: TiersConfig): Promise<number[]> {
  const samples: number[] = [];
  for (const id of coldOpenIds(config)) {
    const started = performance.now();
    const db = await openIdbItems(name, 2);
    const row = await db.get('items', id);
    samples.push(performance.now() - started);
    db.close();
    if (row?.id !== id) throw new Error(`raw IndexedDB cold-open lookup of ${id} returned ${row?.id}`);
  }
  return samples;
}

async function dexieColdOpens(name: string, config: TiersConfig): Promise<number[]> {
  const samples: number[] = [];
  for (const id of coldOpenIds(config)) {
    const started = performance.now();
    const db = new DexieItems(name, true);
    const row = await db.items.get(id); // opens on first use
    samples.push(performance.now() - started);
    db.close();
    if (row?.id !== id) throw new Error(`Dexie cold-open lookup of ${id} returned ${row?.id}`);
  }
  return samples;
}

function figures(s: TiersSamples): TiersFigures {
  return {
    bulkMs: s.bulkMs,
    single: summarize(s.singleMs),
    lookup: summarize(s.lookupMs),
    largeBulkMs: s.largeBulkMs,
    largeLookup: summarize(s.largeLookupMs),
    query: summarize(s.queryMs),
    group: summarize(s.groupMs),
    coldOpen: summarize(s.coldOpenMs),
  };
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length > 0 && a.length === b.length && a.every((id, i) => id === b[i]);
}

async function runTiers(overrides: Partial<TiersConfig> = {}): Promise<TiersResults> {
  const config: TiersConfig = { ...TIERS_DEFAULT, ...overrides };
  const started = performance.now();
  const runId = Date.now().toString(36);
  const checks: Check[] = [];
  const names = (side: string) => [`bench-tiers-${side}-small-${runId}`, `bench-tiers-${side}-large-${runId}`] as const;
  let worker: Worker | undefined;
  try {
    await emptyOrigin();
    progress(`engine: ${config.bulkRows} + ${config.largeRows} rows, FLUSH TABLE halfway through the large load`);
    const [es, el] = names('engine');
    const engine = await engineTiers(es, el, config, checks);
    progress('engine: cold opens');
    const engineCold = await engineColdOpens(el, config, checks);

    // The comparison sides' worker starts only now, so it is idle-free during the engine's figures.
    worker = new Worker(new URL('./tiers.worker.ts', import.meta.url), { type: 'module' });
    const sides = wrap<TiersWorkerApi>(worker);
    await emptyOrigin();
    progress('raw IndexedDB: the same');
    const [is, il] = names('idb');
    const idb = await sides.idb(is, il, config);
    const idbCold = await idbColdOpens(il, config);

    await emptyOrigin();
    progress('Dexie: the same');
    const [ds, dl] = names('dexie');
    const dexie = await sides.dexie(ds, dl, config);
    const dexieCold = await dexieColdOpens(dl, config);
    await emptyOrigin();

    checks.push({
      name: 'engine, raw IndexedDB and Dexie answer the filtered query with the same ids in the same order',
      ok: sameIds(engine.samples.firstQueryIds, idb.firstQueryIds) && sameIds(dexie.firstQueryIds, idb.firstQueryIds),
      detail: `engine [${engine.samples.firstQueryIds.slice(0, 4).join(', ')}, …] (${engine.samples.firstQueryIds.length}), idb (${idb.firstQueryIds.length}), dexie (${dexie.firstQueryIds.length})`,
    });
    checks.push({
      name: 'engine, raw IndexedDB and Dexie agree on COUNT/SUM … GROUP BY',
      ok: engine.samples.groups.length > 0 && sameGroups(engine.samples.groups, idb.groups) && sameGroups(dexie.groups, idb.groups),
      detail: `engine ${JSON.stringify(engine.samples.groups[0])}, idb ${JSON.stringify(idb.groups[0])}, dexie ${JSON.stringify(dexie.groups[0])}`,
    });
    progress('done');
    return {
      config,
      engine: figures({ ...engine.samples, coldOpenMs: engineCold }),
      idb: figures({ ...idb, coldOpenMs: idbCold }),
      dexie: figures({ ...dexie, coldOpenMs: dexieCold }),
      flush: engine.flush,
      arrow: engine.arrow,
      checks,
      totalMs: performance.now() - started,
    };
  } finally {
    worker?.terminate();
  }
}

window.runTiers = runTiers;
