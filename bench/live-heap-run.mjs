// The live-heap phase of bench/run.mjs (`--live-heap`): what a live query costs the worker's heap, and whether
// stopping live queries gives it back. In a page of its own (live-heap.html, live-heap-page.ts) the engine runs in
// a dedicated worker over IndexedDB with a 10,000-row SHARED table; after a warm-up (a few hundred live queries
// opened and stopped, so code and the one cached plan are in place) the worker's heap is read after GC
// (DevTools protocol: HeapProfiler.collectGarbage, Runtime.getHeapUsage on the worker's own session) as the
// baseline; then 10,000 one-row live queries (`WHERE id = $1`, each a distinct parameter, so none is shared) are
// opened in two halves, each live query awaited until its first result, and the heap is read after each half
// (heap per live query: the second half's growth, its marginal cost); then all are stopped, and once
// system.stats shows no live query left, read again. Prints heap per live query and heap left after stopping,
// beside their targets (≤ 1 KB per live query; back to the baseline within 100 KB), and writes
// bench/results-live-heap.json. The page's own heap (the client-side registry) is printed for context.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { openProbe } from './scale-run.mjs';
import { withTimeout } from './run-util.mjs';

const resultsFile = fileURLToPath(new URL('./results-live-heap.json', import.meta.url));

export const LIVE_HEAP_SUBSCRIPTIONS = 10_000;
const WARM_UP = 300;
const TARGET_PER_SUBSCRIPTION = 1024;
const TARGET_RETAINED = 100 * 1024;
const STEP_TIMEOUT_MS = 120_000;

function log(message) {
  console.log(`[run] live-heap: ${message}`);
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MB`;
const bytes = (b) => `${Math.round(b).toLocaleString('en-US')} B`;

/** Runs the phase; resolves to true when both targets are met. */
export async function runLiveHeapPhase(context, baseUrl, { profile, browserVersion, count = LIVE_HEAP_SUBSCRIPTIONS }) {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') console.log(`[page] ${message.text()}`);
  });
  page.on('pageerror', (error) => console.error(`[page] uncaught: ${error.stack ?? error.message}`));
  const probe = await openProbe(context, page);
  await page.goto(`${baseUrl}live-heap.html`);
  await page.waitForFunction(() => typeof window.liveHeap === 'object');
  const call = (what, fn, arg) => withTimeout(page.evaluate(fn, arg), STEP_TIMEOUT_MS, what);
  const heaps = async () => ({ worker: await probe.heap('worker', { gc: true }), page: await probe.heap('page', { gc: true }) });

  log(`opening the engine and ${count.toLocaleString('en-US')} rows`);
  await call('open', (n) => window.liveHeap.open(n), count + WARM_UP);
  log(`warm-up: ${WARM_UP} live queries opened and stopped`);
  await call('warm-up', (n) => window.liveHeap.subscribe(n), WARM_UP);
  await call('warm-up stop', () => window.liveHeap.stop());
  const baseline = await heaps();
  log(`baseline: worker ${mb(baseline.worker.used)} (${baseline.worker.targets} worker(s)), page ${mb(baseline.page.used)}`);

  // Two halves: the second half's growth is the marginal cost of a live query, free of whatever the baseline
  // still held that a later GC gives back (V8 flushes the bytecode of functions no longer run, for one).
  const halfA = await call('subscribe', (n) => window.liveHeap.subscribe(n), count / 2);
  const half = await heaps();
  const halfB = await call('subscribe', (n) => window.liveHeap.subscribe(n), count / 2);
  const opened = { ms: halfA.ms + halfB.ms, delivered: halfA.delivered + halfB.delivered };
  const statsOpen = await call('stats', () => window.liveHeap.stats());
  const open = await heaps();
  log(`${count} live queries open in ${(opened.ms / 1000).toFixed(1)} s (${opened.delivered} first results): worker ${mb(open.worker.used)}`);

  const stopped = await call('stop', () => window.liveHeap.stop());
  const statsStopped = await call('stats', () => window.liveHeap.stats());
  const after = await heaps();
  log(`stopped in ${(stopped.ms / 1000).toFixed(1)} s: worker ${mb(after.worker.used)}`);
  await call('close', () => window.liveHeap.close());
  await probe.detach();
  await page.close();

  const averagePerSubscription = (open.worker.used - baseline.worker.used) / count;
  const perSubscription = (open.worker.used - half.worker.used) / (count / 2);
  const retained = after.worker.used - baseline.worker.used;
  const pagePerSubscription = (open.page.used - half.page.used) / (count / 2);
  const pageRetained = after.page.used - baseline.page.used;
  const isPerSubscriptionMet = perSubscription <= TARGET_PER_SUBSCRIPTION;
  const isRetainedMet = retained <= TARGET_RETAINED;
  const rows = [
    ['worker heap, baseline (after GC)', mb(baseline.worker.used), ''],
    [`worker heap, ${count.toLocaleString('en-US')} live queries open`, mb(open.worker.used), ''],
    [`worker heap per live query (the second ${(count / 2).toLocaleString('en-US')})`, bytes(perSubscription), `≤ 1,024 B ${isPerSubscriptionMet ? 'met' : 'NOT met'}`],
    ['worker heap per live query (all, above baseline)', bytes(averagePerSubscription), ''],
    ['worker heap after stopping all, above baseline', kb(retained), `≤ 100 KB ${isRetainedMet ? 'met' : 'NOT met'}`],
    ['page heap per live query (client registry, second half)', bytes(pagePerSubscription), ''],
    ['page heap after stopping all, above baseline', kb(pageRetained), ''],
    ['engine live_queries open / after stop', `${statsOpen.live_queries} / ${statsStopped.live_queries}`, `${count} / 0`],
    ['open 10,000 (each awaited to its first result)', `${(opened.ms / 1000).toFixed(1)} s`, ''],
    ['stop all (until system.stats shows 0)', `${(stopped.ms / 1000).toFixed(1)} s`, ''],
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length), ['figure', 'value', 'target'][i].length));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\nlive-heap (${browserVersion}, ${profile})\n${line(['figure', 'value', 'target'])}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.map(line).join('\n')}\n`);
  const results = {
    environment: { browserVersion, profile, count, warmUp: WARM_UP, date: new Date().toISOString() },
    baseline, half, open, after, perSubscription, averagePerSubscription, retained, pagePerSubscription, pageRetained,
    statsOpen, statsStopped, openMs: opened.ms, stopMs: stopped.ms,
    targets: { perSubscription: TARGET_PER_SUBSCRIPTION, retained: TARGET_RETAINED },
  };
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${resultsFile}`);
  return opened.delivered === count && statsStopped.live_queries === '0';
}
