/**
 * The bench page. `window.runBench(overrides?)` runs every phase in this
 * order — engine small, baseline small, engine large, baseline large —
 * deleting every IndexedDB database of the origin before each phase, and
 * resolves to the figures (bench/run.mjs prints them).
 */
import { wrap } from 'comlink';
import type { BaselineApi } from './baseline.worker';
import { Dexie } from 'dexie';
import { createClient } from '@kalamlite/worker';
import { engineLarge, engineSmall, workerClient } from './engine-suite';
import { dexieLive, engineLive, type Connect } from './live-suite';
import { DEFAULT_CONFIG, type BenchConfig, type BenchResults, type Check } from './results';
import { summarize } from './stats';
import { profileWorkload } from './profile';
import './tiers-page'; // window.runTiers

declare global {
  interface Window {
    runBench: (overrides?: Partial<BenchConfig>) => Promise<BenchResults>;
    /** The engine phases in-process, for bench/run.mjs --profile; resolves to their checks. */
    profileEngine: (overrides?: Partial<BenchConfig>) => Promise<Check[]>;
  }
}

const DELETE_TIMEOUT_MS = 5_000;
const ROUND_TRIPS = 300;

function progress(message: string): void {
  console.log(`[bench] ${message}`);
  const status = document.getElementById('status');
  if (status) status.textContent = message;
}

function deleteDatabase(name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(name);
    const timer = setTimeout(() => reject(new Error(`deleting IndexedDB database ${name} stayed blocked for ${DELETE_TIMEOUT_MS} ms`)), DELETE_TIMEOUT_MS);
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

/** So each phase starts from an empty origin and no phase pays for another's data. */
async function deleteAllDatabases(): Promise<void> {
  const databases = await indexedDB.databases();
  for (const { name } of databases) if (name) await deleteDatabase(name);
}

/** Every entry of the origin's OPFS root (the engine keeps an OPFS database under 'kalamlite/'). */
async function deleteOpfs(): Promise<void> {
  const root = await navigator.storage.getDirectory();
  const names: string[] = [];
  for await (const name of (root as FileSystemDirectoryHandle & { keys(): AsyncIterable<string> }).keys()) names.push(name);
  for (const name of names) await root.removeEntry(name, { recursive: true });
}

/** The engine over OPFS in a dedicated worker, the same transport as `workerClient` (OPFS never runs in a SharedWorker). */
const opfsWorkerClient: Connect = (name) => createClient({ name, storage: 'opfs', transport: 'worker' });

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

async function runBench(overrides: Partial<BenchConfig> = {}): Promise<BenchResults> {
  const config: BenchConfig = { ...DEFAULT_CONFIG, ...overrides };
  const startedAt = new Date();
  const started = performance.now();
  const runId = startedAt.getTime().toString(36);
  const checks: Check[] = [];

  const worker = new Worker(new URL('./baseline.worker.ts', import.meta.url), { type: 'module' });
  const baseline = wrap<BaselineApi>(worker);
  try {
    progress('Comlink round trip');
    const roundTripMs: number[] = [];
    for (let i = 0; i < config.warmup + ROUND_TRIPS; i++) {
      const t = performance.now();
      await baseline.ping();
      if (i >= config.warmup) roundTripMs.push(performance.now() - t);
    }

    await deleteAllDatabases();
    progress(`engine: bulk insert ${config.bulkRows}, ${config.singleInserts} single inserts, ${config.lookups} lookups`);
    const es = await engineSmall(workerClient, `bench-engine-small-${runId}`, config, checks);

    await deleteAllDatabases();
    progress('baseline: the same');
    const bs = await baseline.small(`bench-baseline-small-${runId}`, config);

    await deleteAllDatabases();
    progress(`engine: load ${config.queryRows} rows, ${config.queryIterations} filtered sorted queries`);
    const el = await engineLarge(workerClient, `bench-engine-large-${runId}`, config, checks);

    await deleteAllDatabases();
    progress('baseline: the same');
    const bl = await baseline.large(`bench-baseline-large-${runId}`, config);
    await deleteAllDatabases();

    const subscribers = config.liveUsers * config.liveQueriesPerUser;
    progress(`engine live: ${subscribers} subscribers on ${config.liveRows} rows, ${config.liveWrites} single-row writes`);
    const elive = await engineLive(workerClient, `bench-engine-live-${runId}`, config, checks);
    await deleteAllDatabases();
    let olive: Awaited<ReturnType<typeof engineLive>> | undefined;
    if (config.liveOpfs) {
      progress('engine/opfs live: the same, storage opfs');
      await deleteOpfs();
      olive = await engineLive(opfsWorkerClient, `bench-engine-opfs-live-${runId}`, config, checks, 'engine/opfs');
      await deleteOpfs();
      await deleteAllDatabases();
      checks.push({
        name: 'engine/opfs live: no subscriber of another user is called',
        ok: olive.unaffected === 0,
        detail: `${olive.unaffected} unaffected callbacks`,
      });
    }
    progress('dexie live: the same');
    const dlive = await dexieLive(`bench-dexie-live-${runId}`, config, checks);
    await deleteAllDatabases();
    checks.push({
      name: 'engine live: no subscriber of another user is called',
      ok: elive.unaffected === 0,
      detail: `${elive.unaffected} unaffected callbacks`,
    });

    checks.push({
      name: 'engine and baseline answer the filtered sorted query with the same ids in the same order',
      ok: el.firstQueryIds.length > 0 && sameIds(el.firstQueryIds, bl.firstQueryIds),
      detail: `engine ${el.firstQueryIds.length} rows [${el.firstQueryIds.slice(0, 5).join(', ')}, …], baseline ${bl.firstQueryIds.length} rows [${bl.firstQueryIds.slice(0, 5).join(', ')}, …]`,
    });
    checks.push({
      name: 'the baseline index cursor answers like getAll + filter + sort',
      ok: sameIds(bl.firstScanIds, bl.firstQueryIds),
      detail: `${bl.firstQueryIds.length} and ${bl.firstScanIds.length} rows`,
    });

    const results: BenchResults = {
      config,
      engine: {
        bulkInsertMs: es.bulkInsertMs,
        singleInsert: summarize(es.singleInsertMs),
        lookup: summarize(es.lookupMs),
        queryLoadMs: el.loadMs,
        query: summarize(el.queryMs),
      },
      baseline: {
        bulkInsertMs: bs.bulkInsertMs,
        singleInsert: summarize(bs.singleInsertMs),
        lookup: summarize(bs.lookupMs),
        queryLoadMs: bl.loadMs,
        query: summarize(bl.queryMs),
      },
      baselineScanQuery: summarize(bl.scanQueryMs),
      roundTrip: summarize(roundTripMs),
      live: {
        subscribers,
        engine: summarize(elive.writeMs),
        dexie: summarize(dlive.writeMs),
        engineUnaffected: elive.unaffected,
        dexieUnaffected: dlive.unaffected,
        engineBatches: elive.batches,
        enginePatches: elive.patches,
        engineSnapshots: elive.snapshots,
        ...(olive
          ? { opfs: { engine: summarize(olive.writeMs), unaffected: olive.unaffected, batches: olive.batches, patches: olive.patches, snapshots: olive.snapshots } }
          : {}),
        dexieVersion: Dexie.semVer,
      },
      checks,
      environment: {
        userAgent: navigator.userAgent,
        crossOriginIsolated: globalThis.crossOriginIsolated === true,
        hardwareConcurrency: navigator.hardwareConcurrency,
        startedAt: startedAt.toISOString(),
        totalMs: performance.now() - started,
      },
    };
    progress('done');
    return results;
  } finally {
    worker.terminate();
  }
}

window.runBench = runBench;
window.profileEngine = async (overrides = {}) => {
  await deleteAllDatabases();
  const checks = await profileWorkload({ ...DEFAULT_CONFIG, ...overrides });
  await deleteAllDatabases();
  return checks;
};
progress('ready');
