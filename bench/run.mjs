#!/usr/bin/env node
// Builds the bench page, serves it, runs it in headless Chromium, prints the
// table and writes bench/results.json.
//   node bench/run.mjs            full run
//   node bench/run.mjs --quick    small sizes, for checking that it works
//   node bench/run.mjs --off-the-record  an off-the-record context (IndexedDB and OPFS in memory) instead of
//                                 the default persistent profile on disk (what a user's browser has)
//   (--disk-profile and --live-opfs are accepted and do nothing: both are the default now)
//   node bench/run.mjs --scale    only the scale phase (issue 11): engine/idb, engine/opfs, Dexie and SQLite-WASM
//                                 at 10,000, 100,000 and 1,000,000 rows (long: see bench/README.md); not part of
//                                 the default run. --scale-sizes=10000,100000 picks the sizes (implies --scale),
//                                 --scale-sides=engine-idb,engine-opfs,dexie the sides (all four by default),
//                                 --scale-transport=shared-worker the engine in a SharedWorker (what 'auto' picks in
//                                 Chromium; engine-idb only, its heap n/a) instead of a dedicated worker
//   node bench/run.mjs --indexes  only the indexes phase: insert cost with 3 secondary indexes, indexed LIMIT 50 over cold
//                                 rows beside Dexie (100,000 rows; --index-rows=N for another size)
//   node bench/run.mjs --vectors  only the vectors phase (issue 16): 100,000 × 384-d vectors through the worker, exact
//                                 top-10 by cosine, and the HNSW graph's build, p50 and recall@10 in the page
//                                 (--vector-rows=N, --vector-index-rows=N for other sizes; the vectors are of 100
//                                 topics of 16 dimensions each, as text embeddings, unless --vector-clustered: around
//                                 100 Gaussian centres, or --vector-random: uniformly random; --vector-ef=N: the
//                                 engine's vectorIndexEf), then CREATE VECTOR INDEX,
//                                 its vector_index job's build and top-10 through the index: p50 and recall@10
//   node bench/run.mjs --live-heap  only the live-heap phase: worker heap per live query (10,000 one-row live
//                                 queries) and after stopping them all, beside their targets (under 2 minutes)
//   node bench/run.mjs --joins    only the join phase (issue 14): a five-table equi-join, engine beside SQLite-WASM
//                                 (a few minutes; --quick for smaller tables)
//   node bench/run.mjs --profile  no figures: runs the engine phases in-process
//                                 in the page under the CPU profiler, prints the
//                                 functions with the most self time and writes
//                                 bench/profile.cpuprofile (open it in DevTools)
// Exits 1 when the page throws or a correctness check fails (figures from a
// wrong answer mean nothing).
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build, preview, runnerImport } from 'vite';
import { summarizeProfile } from './profile-summary.mjs';
import { formatTable } from './table.mjs';
import { runTiersPhase } from './tiers-run.mjs';
import { runScalePhase, SCALE_DEFAULT_SIZES, SCALE_SIDES } from './scale-run.mjs';
import { runLiveHeapPhase } from './live-heap-run.mjs';
import { runJoinsPhase } from './joins-run.mjs';
import { INDEX_DEFAULT_ROWS, runIndexesPhase } from './indexes-run.mjs';
import { VECTOR_DEFAULT_INDEX_ROWS, VECTOR_DEFAULT_ROWS, runVectorsPhase } from './vectors-run.mjs';
import { withTimeout } from './run-util.mjs';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const configFile = fileURLToPath(new URL('./vite.config.ts', import.meta.url));
const resultsFile = fileURLToPath(new URL('./results.json', import.meta.url));
const profileFile = fileURLToPath(new URL('./profile.cpuprofile', import.meta.url));
const browserModule = fileURLToPath(new URL('../e2e/browser.ts', import.meta.url));

const QUICK = { bulkRows: 2_000, singleInserts: 50, lookups: 100, queryRows: 10_000, queryIterations: 5, scanIterations: 2, warmup: 3, queryWarmup: 1, liveWrites: 40, liveWarmup: 5 };
// --live-writes=N overrides the number of timed live-query writes (to check the live phase alone at full length).
const liveWritesArg = process.argv.find((a) => a.startsWith('--live-writes='));
// By default the page runs in a persistent Chromium profile in a temporary directory, as a user's browser does:
// IndexedDB and OPFS are on disk. --off-the-record runs it in browser.newContext() instead, an off-the-record context,
// where IndexedDB and OPFS are kept in memory (no disk writes, no fsync; each OPFS sync-access-handle write is an IPC
// to the in-memory file system, about 1.4 ms).
const offTheRecord = process.argv.includes('--off-the-record');
const PROFILE = offTheRecord ? 'off-the-record context (IndexedDB and OPFS in memory)' : 'persistent profile on disk';
const RUN_TIMEOUT_MS = 10 * 60_000;
// The tiers phase runs four sides (engine/idb, engine/opfs, raw IndexedDB, Dexie) at 100,000 rows.
const TIERS_TIMEOUT_MS = 20 * 60_000;

const overrides = {
  ...(process.argv.includes('--quick') ? QUICK : {}),
  ...(liveWritesArg ? { liveWrites: Number(liveWritesArg.split('=')[1]) } : {}),
};
const isProfile = process.argv.includes('--profile');
// The tiers phase (engine/idb and engine/opfs beside raw IndexedDB and Dexie, bench/tiers*.ts) runs after the others;
// --tiers runs it alone, --no-tiers skips it.
const tiersOnly = process.argv.includes('--tiers');
const withTiers = !process.argv.includes('--no-tiers');
// The scale phase (bench/scale*.ts, issue 11) runs alone: --scale, or --scale-sizes=N,N,… for other sizes.
const scaleSizesArg = process.argv.find((a) => a.startsWith('--scale-sizes='));
const scaleOnly = process.argv.includes('--scale') || scaleSizesArg !== undefined || process.argv.some((a) => a.startsWith('--scale-sides=') || a.startsWith('--scale-transport='));
const scaleSizes = scaleSizesArg ? scaleSizesArg.split('=')[1].split(',').map((n) => Number(n.replaceAll('_', ''))) : SCALE_DEFAULT_SIZES;
if (scaleSizes.some((n) => !Number.isInteger(n) || n < 100)) throw new Error(`--scale-sizes wants whole numbers of rows ≥ 100, got ${scaleSizesArg}`);
// --scale-sides=engine-idb,dexie: some sides only (a quicker run while working on one; ratios need the peer).
const scaleSidesArg = process.argv.find((a) => a.startsWith('--scale-sides='));
const scaleTransportArg = process.argv.find((a) => a.startsWith('--scale-transport='));
const scaleTransport = scaleTransportArg ? scaleTransportArg.split('=')[1] : 'worker';
if (!['worker', 'shared-worker'].includes(scaleTransport)) throw new Error(`--scale-transport wants worker or shared-worker, got ${scaleTransport}`);
const scaleSides = scaleSidesArg ? scaleSidesArg.split('=')[1].split(',') : scaleTransport === 'shared-worker' ? SCALE_SIDES.filter((s) => s !== 'engine-opfs') : SCALE_SIDES;
if (scaleTransport === 'shared-worker' && scaleSides.includes('engine-opfs')) throw new Error("--scale-transport=shared-worker runs engine-idb only: OPFS's sync access handles need a dedicated worker");
if (scaleSides.length === 0 || scaleSides.some((s) => !SCALE_SIDES.includes(s))) throw new Error(`--scale-sides wants some of ${SCALE_SIDES.join(', ')}, got ${scaleSidesArg}`);

// The live-heap phase (bench/live-heap*.{ts,mjs}): worker heap per live query and after stopping them; alone.
const liveHeapOnly = process.argv.includes('--live-heap');

// The join phase (bench/joins*.{ts,mjs}): a five-table equi-join beside SQLite-WASM; alone.
const joinsOnly = process.argv.includes('--joins');

// The indexes phase (bench/indexes*.{ts,mjs}): insert cost with 3 secondary indexes, and an indexed LIMIT 50 over
// cold rows beside Dexie; alone. --index-rows=N picks the size (implies --indexes).
const indexRowsArg = process.argv.find((a) => a.startsWith('--index-rows='));
const indexesOnly = process.argv.includes('--indexes') || indexRowsArg !== undefined;
const indexRows = indexRowsArg ? Number(indexRowsArg.split('=')[1].replaceAll('_', '')) : INDEX_DEFAULT_ROWS;
// The vectors phase (bench/vectors*.{ts,mjs}): alone. --vector-rows=N and --vector-index-rows=N pick the sizes.
const vectorRowsArg = process.argv.find((a) => a.startsWith('--vector-rows='));
const vectorIndexRowsArg = process.argv.find((a) => a.startsWith('--vector-index-rows='));
const vectorData = process.argv.includes('--vector-random') ? 'random' : process.argv.includes('--vector-clustered') ? 'clustered' : 'topics';
const vectorDataFlag = ['--vector-random', '--vector-clustered', '--vector-topics'].some((f) => process.argv.includes(f));
// --vector-ef=N: the engine's vectorIndexEf for the phase (default: the engine's).
const vectorEfArg = process.argv.find((a) => a.startsWith('--vector-ef='));
const vectorEf = vectorEfArg ? Number(vectorEfArg.split('=')[1]) : undefined;
const vectorsOnly = process.argv.includes('--vectors') || vectorDataFlag || vectorEfArg !== undefined || vectorRowsArg !== undefined || vectorIndexRowsArg !== undefined;
const vectorRows = vectorRowsArg ? Number(vectorRowsArg.split('=')[1]) : VECTOR_DEFAULT_ROWS;
const vectorIndexRows = vectorIndexRowsArg ? Number(vectorIndexRowsArg.split('=')[1]) : VECTOR_DEFAULT_INDEX_ROWS;
if (![vectorRows, vectorIndexRows].every((n) => Number.isInteger(n) && n >= 10)) throw new Error('--vector-rows and --vector-index-rows want whole numbers ≥ 10');

function log(message) {
  console.log(`[run] ${message}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function main() {
  const runStarted = Date.now();
  if (scaleOnly) {
    // The scale page is built from the packages' dist/, as an app that installs them gets them (vite.config.ts).
    log('building the packages (scripts/build.mjs) for the scale page');
    const built = spawnSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url))], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error(`scripts/build.mjs failed (exit ${built.status})`);
    process.env.KALAM_BENCH_BUILD = 'scale';
  }
  log('building bench page');
  await build({ configFile, root: benchDir, logLevel: 'warn' });
  const port = await freePort();
  const server = await preview({ configFile, root: benchDir, logLevel: 'warn', preview: { host: '127.0.0.1', port, strictPort: true } });
  const url = `http://127.0.0.1:${port}/`;
  // One launcher for e2e and bench; it is TypeScript, so Vite's module runner loads it.
  const { module: browserLauncher } = await runnerImport(browserModule);
  const { context, version, close } = await openContext(browserLauncher);
  try {
    if (indexesOnly) {
      log(`indexes phase in ${version}, ${PROFILE}`);
      return (await runIndexesPhase(context, url, { profile: PROFILE, browserVersion: version, rows: indexRows })) ? 0 : 1;
    }
    if (vectorsOnly) {
      log(`vectors phase in ${version}, ${PROFILE}`);
      return (await runVectorsPhase(context, url, { profile: PROFILE, browserVersion: version, rows: vectorRows, indexRows: vectorIndexRows, data: vectorData, ef: vectorEf })) ? 0 : 1;
    }
    if (liveHeapOnly) {
      log(`live-heap phase in ${version}, ${PROFILE}`);
      return (await runLiveHeapPhase(context, url, { profile: PROFILE, browserVersion: version })) ? 0 : 1;
    }
    if (joinsOnly) {
      log(`join phase in ${version}, ${PROFILE}`);
      return (await runJoinsPhase(context, url, { quick: process.argv.includes('--quick'), profile: PROFILE, browserVersion: version })).ok ? 0 : 1;
    }
    if (scaleOnly) {
      log(`scale phase in ${version}, ${PROFILE}`);
      return (await runScalePhase(context, url, { sizes: scaleSizes, sides: scaleSides, profile: PROFILE, browserVersion: version, transport: scaleTransport })) ? 0 : 1;
    }
    const page = await context.newPage();
    page.on('console', (message) => {
      const text = message.text();
      if (text.startsWith('[bench]') || message.type() === 'error' || message.type() === 'warning') console.log(`[page] ${text}`);
    });
    page.on('pageerror', (error) => console.error(`[page] uncaught: ${error.stack ?? error.message}`));
    log(`running ${url} in ${version}, ${PROFILE}`);
    await page.goto(url);
    await page.waitForFunction(() => typeof window.runBench === 'function');
    if (isProfile) return await profile(context, page);
    const tiersOptions = { quick: process.argv.includes('--quick'), timeoutMs: TIERS_TIMEOUT_MS, profile: PROFILE };
    if (tiersOnly) return (await runTiersPhase(page, tiersOptions)) ? 0 : 1;
    const results = await withTimeout(
      page.evaluate((config) => window.runBench(config), overrides),
      RUN_TIMEOUT_MS,
      'the bench',
    );
    results.environment.profile = PROFILE;
    await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\n${formatTable(results)}\n`);
    log(`wrote ${resultsFile}`);
    const tiersOk = withTiers ? await runTiersPhase(page, tiersOptions) : true;
    return results.checks.every((check) => check.ok) && tiersOk ? 0 : 1;
  } finally {
    await close();
    await new Promise((resolve) => server.httpServer.close(resolve));
    log(`total run time ${((Date.now() - runStarted) / 1000).toFixed(1)} s`);
  }
}

/** A persistent profile in a temporary directory (the default), or with --off-the-record a fresh off-the-record context; both from the shared launcher. */
async function openContext(browserLauncher) {
  if (offTheRecord) {
    const browser = await browserLauncher.launchChromium();
    return { context: await browser.newContext(), version: browser.version(), close: () => browser.close() };
  }
  const userDataDir = await mkdtemp(join(tmpdir(), 'kalamlite-bench-profile-'));
  const context = await browserLauncher.launchPersistentChromium(userDataDir);
  return {
    context,
    version: context.browser()?.version() ?? 'chromium',
    close: async () => {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Runs the in-process engine workload under the page's CPU profiler. */
async function profile(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 250 });
  await cdp.send('Profiler.start');
  const checks = await withTimeout(page.evaluate((config) => window.profileEngine(config), overrides), RUN_TIMEOUT_MS, 'the profile');
  const { profile: cpuProfile } = await cdp.send('Profiler.stop');
  await writeFile(profileFile, JSON.stringify(cpuProfile));
  console.log(`\n${summarizeProfile(cpuProfile)}\n`);
  log(`wrote ${profileFile}`);
  const failed = checks.filter((check) => !check.ok);
  for (const check of failed) console.log(`FAILED ${check.name}: ${check.detail}`);
  return failed.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`[run] bench failed: ${error.stack ?? error}`);
    process.exit(1);
  },
);
