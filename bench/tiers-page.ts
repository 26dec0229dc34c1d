/**
 * `window.runTiers(overrides?)`: the tiers bench in the page. Four sides,
 * each on an empty origin (IndexedDB and OPFS) — engine/idb, engine/opfs,
 * raw IndexedDB, Dexie — then every figure as a summary, with the checks
 * that their answers agree.
 * Cold opens are timed here in the page for all of them: each engine side
 * has a reopen (new client, the engine's worker already running) and a cold
 * start (new client in a new worker), both to the first lookup's answer (see
 * engineColdOpens); the others open their database from the page, as an app
 * would, and read one row.
 */
import { wrap } from 'comlink';
import type { Check } from './results';
import { summarize } from './stats';
import {
  sameGroups,
  TIERS_DEFAULT,
  type CommonFigures,
  type EngineStorage,
  type EngineTiersResults,
  type TiersConfig,
  type TiersFigures,
  type TiersResults,
  type TiersSamples,
} from './tiers';
import { engineColdOpens, engineTiers, type EngineSide, type EngineTiersSamples } from './tiers-engine';
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

/**
 * Deletes every IndexedDB database of the origin and the engine's OPFS
 * directory. Only called while no engine has its storage open: the engines'
 * workers may still run, but their clients have closed, which closes them.
 */
async function emptyOrigin(): Promise<void> {
  for (const { name } of await indexedDB.databases()) if (name) await deleteDatabase(name);
  const root = await navigator.storage.getDirectory();
  try {
    await root.removeEntry('kalamlite', { recursive: true });
  } catch (e) {
    if (!(e instanceof DOMException && e.name === 'NotFoundError')) throw e;
  }
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

function common(s: EngineTiersSamples): CommonFigures {
  return {
    bulkMs: s.bulkMs,
    single: summarize(s.singleMs),
    lookup: summarize(s.lookupMs),
    largeBulkMs: s.largeBulkMs,
    largeLookup: summarize(s.largeLookupMs),
    query: summarize(s.queryMs),
    group: summarize(s.groupMs),
  };
}

function figures(s: TiersSamples): TiersFigures {
  return { ...common(s), coldOpen: summarize(s.coldOpenMs) };
}

const ENGINE_SIDES: readonly EngineSide[] = [
  { storage: 'idb', label: 'engine/idb' },
  { storage: 'opfs', label: 'engine/opfs' },
];

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
    const engines = {} as Record<EngineStorage, EngineTiersResults>;
    const engineSamples = {} as Record<EngineStorage, EngineTiersSamples>;
    for (const side of ENGINE_SIDES) {
      await emptyOrigin();
      progress(`${side.label}: ${config.bulkRows} + ${config.largeRows} rows, FLUSH TABLE halfway through the large load`);
      const [small, large] = names(side.storage === 'idb' ? 'engine' : `engine-${side.storage}`);
      const outcome = await engineTiers(side, small, large, config, checks);
      progress(`${side.label}: reopens and cold starts`);
      const { reopenMs, coldStartMs } = await engineColdOpens(side, large, config, checks);
      engineSamples[side.storage] = outcome.samples;
      engines[side.storage] = {
        label: side.label,
        storage: side.storage,
        figures: { ...common(outcome.samples), reopen: summarize(reopenMs), coldStart: summarize(coldStartMs) },
        flush: outcome.flush,
        arrow: outcome.arrow,
      };
    }

    // The comparison sides' worker starts only now, so it is idle-free during the engines' figures.
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

    const e = engineSamples.idb;
    const o = engineSamples.opfs;
    checks.push({
      name: 'engine/idb, engine/opfs, raw IndexedDB and Dexie answer the filtered query with the same ids in the same order',
      ok: sameIds(e.firstQueryIds, idb.firstQueryIds) && sameIds(o.firstQueryIds, idb.firstQueryIds) && sameIds(dexie.firstQueryIds, idb.firstQueryIds),
      detail: `engine/idb [${e.firstQueryIds.slice(0, 4).join(', ')}, …] (${e.firstQueryIds.length}), engine/opfs (${o.firstQueryIds.length}), idb (${idb.firstQueryIds.length}), dexie (${dexie.firstQueryIds.length})`,
    });
    checks.push({
      name: 'engine/idb, engine/opfs, raw IndexedDB and Dexie agree on COUNT/SUM … GROUP BY',
      ok: e.groups.length > 0 && sameGroups(e.groups, idb.groups) && sameGroups(o.groups, idb.groups) && sameGroups(dexie.groups, idb.groups),
      detail: `engine/idb ${JSON.stringify(e.groups[0])}, engine/opfs ${JSON.stringify(o.groups[0])}, idb ${JSON.stringify(idb.groups[0])}, dexie ${JSON.stringify(dexie.groups[0])}`,
    });
    progress('done');
    return {
      config,
      engines,
      idb: figures({ ...idb, coldOpenMs: idbCold }),
      dexie: figures({ ...dexie, coldOpenMs: dexieCold }),
      checks,
      totalMs: performance.now() - started,
    };
  } finally {
    worker?.terminate();
  }
}

window.runTiers = runTiers;
