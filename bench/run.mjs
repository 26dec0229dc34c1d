#!/usr/bin/env node
// Builds the bench page, serves it, runs it in headless Chromium, prints the
// table and writes bench/results.json.
//   node bench/run.mjs            full run
//   node bench/run.mjs --quick    small sizes, for checking that it works
//   node bench/run.mjs --live-opfs   also runs the live phase's engine side over OPFS (engine/opfs row)
//   node bench/run.mjs --disk-profile  a persistent profile on disk instead of an off-the-record context
//   node bench/run.mjs --profile  no figures: runs the engine phases in-process
//                                 in the page under the CPU profiler, prints the
//                                 functions with the most self time and writes
//                                 bench/profile.cpuprofile (open it in DevTools)
// Exits 1 when the page throws or a correctness check fails (figures from a
// wrong answer mean nothing).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build, preview, runnerImport } from 'vite';
import { summarizeProfile } from './profile-summary.mjs';
import { formatTable } from './table.mjs';
import { runTiersPhase } from './tiers-run.mjs';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const configFile = fileURLToPath(new URL('./vite.config.ts', import.meta.url));
const resultsFile = fileURLToPath(new URL('./results.json', import.meta.url));
const profileFile = fileURLToPath(new URL('./profile.cpuprofile', import.meta.url));
const browserModule = fileURLToPath(new URL('../e2e/browser.ts', import.meta.url));

const QUICK = { bulkRows: 2_000, singleInserts: 50, lookups: 100, queryRows: 10_000, queryIterations: 5, scanIterations: 2, warmup: 3, queryWarmup: 1, liveWrites: 40, liveWarmup: 5 };
// --live-writes=N overrides the number of timed live-query writes (to check the live phase alone at full length).
const liveWritesArg = process.argv.find((a) => a.startsWith('--live-writes='));
// --live-opfs also runs the engine side of the live phase with storage 'opfs' (printed as engine/opfs).
const liveOpfs = process.argv.includes('--live-opfs');
// --disk-profile runs the page in a persistent Chromium profile in a temporary directory. By default the page runs in
// browser.newContext(), an off-the-record context, where IndexedDB and OPFS are kept in memory (no disk writes, no fsync;
// each OPFS sync-access-handle write is an IPC to the in-memory file system).
const diskProfile = process.argv.includes('--disk-profile');
// The flags of e2e/browser.ts launchChromium(), for the persistent profile (launchPersistentContext takes no Browser).
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];
const RUN_TIMEOUT_MS = 10 * 60_000;

const overrides = {
  ...(process.argv.includes('--quick') ? QUICK : {}),
  ...(liveWritesArg ? { liveWrites: Number(liveWritesArg.split('=')[1]) } : {}),
  ...(liveOpfs ? { liveOpfs: true } : {}),
};
const isProfile = process.argv.includes('--profile');
// The tiers phase (engine beside raw IndexedDB and Dexie, bench/tiers*.ts) runs after the others;
// --tiers runs it alone, --no-tiers skips it.
const tiersOnly = process.argv.includes('--tiers');
const withTiers = !process.argv.includes('--no-tiers');

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

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main() {
  log('building bench page');
  await build({ configFile, root: benchDir, logLevel: 'warn' });
  const port = await freePort();
  const server = await preview({ configFile, root: benchDir, logLevel: 'warn', preview: { host: '127.0.0.1', port, strictPort: true } });
  const url = `http://127.0.0.1:${port}/`;
  // One launcher for e2e and bench; it is TypeScript, so Vite's module runner loads it.
  const { module: browserLauncher } = await runnerImport(browserModule);
  const { context, version, close } = await openContext(browserLauncher);
  try {
    const page = await context.newPage();
    page.on('console', (message) => {
      const text = message.text();
      if (text.startsWith('[bench]') || message.type() === 'error' || message.type() === 'warning') console.log(`[page] ${text}`);
    });
    page.on('pageerror', (error) => console.error(`[page] uncaught: ${error.stack ?? error.message}`));
    log(`running ${url} in ${version}${diskProfile ? ', persistent profile on disk' : ', off-the-record context (storage in memory)'}`);
    await page.goto(url);
    await page.waitForFunction(() => typeof window.runBench === 'function');
    if (isProfile) return await profile(context, page);
    if (tiersOnly) return (await runTiersPhase(page, { quick: process.argv.includes('--quick'), timeoutMs: RUN_TIMEOUT_MS })) ? 0 : 1;
    const results = await withTimeout(
      page.evaluate((config) => window.runBench(config), overrides),
      RUN_TIMEOUT_MS,
      'the bench',
    );
    await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\n${formatTable(results)}\n`);
    log(`wrote ${resultsFile}`);
    const tiersOk = withTiers ? await runTiersPhase(page, { quick: process.argv.includes('--quick'), timeoutMs: RUN_TIMEOUT_MS }) : true;
    return results.checks.every((check) => check.ok) && tiersOk ? 0 : 1;
  } finally {
    await close();
    await new Promise((resolve) => server.httpServer.close(resolve));
  }
}

/** A fresh off-the-record context of the shared launcher, or with --disk-profile a persistent profile in a temporary directory. */
async function openContext(browserLauncher) {
  if (!diskProfile) {
    const browser = await browserLauncher.launchChromium();
    return { context: await browser.newContext(), version: browser.version(), close: () => browser.close() };
  }
  const { chromium } = await import('playwright-core');
  const userDataDir = await mkdtemp(join(tmpdir(), 'kalamlite-bench-profile-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: browserLauncher.chromiumPath, headless: true, args: CHROMIUM_ARGS });
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
