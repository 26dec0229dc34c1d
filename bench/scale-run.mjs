// The scale phase of bench/run.mjs (issue 11, "Benchmarks"): engine/idb, engine/opfs, Dexie and SQLite-WASM
// (OPFS SAH pool) at 10,000, 100,000 and 1,000,000 rows, in one run. Drives bench/scale.html pages
// (scale-page.ts): per size and side, on an empty origin, a page loads the rows (sampling the heap of the worker
// that hosts the database every 250 ms through the DevTools protocol), the engine flushes them to its cold tier,
// then three cold starts each open a NEW page (and so a new worker) on the data on disk and time navigation start →
// first query result, each followed by a forced GC and a heap reading; the last cold page then runs the timed
// operations. Every step has a timeout; a failure or timeout is recorded in its cell and the run goes on with the
// next step (a page whose step timed out is closed, which ends its worker, and a fresh cold page takes over).
// Prints the table (scale-table.mjs) and writes bench/results-scale.json.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { formatScaleTable, scaleTargets } from './scale-table.mjs';

const resultsFile = fileURLToPath(new URL('./results-scale.json', import.meta.url));

export const SCALE_DEFAULT_SIZES = [10_000, 100_000, 1_000_000];

/** Mirrors SCALE_SIDES / SCALE_LABELS / OP_NAMES / OP_SPECS / SCALE_SEED in scale.ts (this file cannot import TypeScript). */
export const SCALE_SIDES = ['engine-idb', 'engine-opfs', 'dexie', 'sqlite'];
const SIDES = SCALE_SIDES;
const LABELS = { 'engine-idb': 'engine/idb', 'engine-opfs': 'engine/opfs', dexie: 'dexie', sqlite: 'sqlite-wasm' };
const OPS = ['lookup', 'range', 'count', 'filter', 'group', 'single'];
const OP_BUDGET_MS = { lookup: 30_000, range: 30_000, count: 30_000, filter: 30_000, group: 45_000, single: 30_000 };
const COLD_STARTS = 3;
const HEAP_SAMPLE_MS = 250;
/**
 * How the engine sides reach their engine: 'worker' (a dedicated worker of the page, the default: its heap is
 * read through CDP) or, with `--scale-transport=shared-worker`, a SharedWorker (what `'auto'` picks in
 * Chromium), whose heap CDP does not reach from the page: its heap rows then read n/a.
 */
let engineTransport = 'worker';

/** Step timeouts, growing with the size: the current engine is known to be slow, or to hang, at 1,000,000 rows. */
const timeouts = (size) => ({
  open: 60_000,
  load: 60_000 + 0.3 * size, // 1,000,000 rows: 6 min
  afterLoad: 60_000 + 0.3 * size, // in the page; Node waits 30 s more
  close: 30_000,
  cold: 30_000 + 0.15 * size, // 1,000,000 rows: 3 min
  op: (op) => 2 * OP_BUDGET_MS[op] + 120_000,
  compact: 120_000 + 0.1 * size, // in the page; Node waits 60 s more
});

function log(message) {
  console.log(`[run] scale: ${message}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** "12 s", "0.3 s". */
const seconds = (ms) => `${ms < 10_000 ? (ms / 1000).toFixed(1) : Math.round(ms / 1000)} s`;

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${seconds(ms)} (${what})`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs a step; resolves to its value, or to { error } when it threw or timed out. */
async function step(what, run, timeoutMs) {
  try {
    return await withTimeout(run(), timeoutMs, what);
  } catch (e) {
    return { error: String(e?.message ?? e).split('\n')[0] };
  }
}

/** A seeded PRNG (mulberry32, as rows.ts) for the cold-start ids. */
function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * The heap of a page's workers (or of the page) through the DevTools protocol: a CDP session on the page that
 * auto-attaches to its workers (non-flattened, so commands travel as Target.sendMessageToTarget), then
 * HeapProfiler.collectGarbage and Runtime.getHeapUsage on the worker's own session (each worker is its own V8 isolate).
 */
export async function openProbe(context, page) {
  const cdp = await context.newCDPSession(page);
  const workers = new Map(); // sessionId → url
  const pending = new Map(); // message id → { resolve, reject, sessionId }
  let nextId = 1;
  cdp.on('Target.attachedToTarget', ({ sessionId, targetInfo }) => {
    if (targetInfo.type === 'worker') workers.set(sessionId, targetInfo.url);
  });
  cdp.on('Target.detachedFromTarget', ({ sessionId }) => {
    workers.delete(sessionId);
    for (const [id, p] of pending) {
      if (p.sessionId === sessionId) {
        pending.delete(id);
        p.reject(new Error('the worker went away'));
      }
    }
  });
  cdp.on('Target.receivedMessageFromTarget', ({ message }) => {
    const m = JSON.parse(message);
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(new Error(m.error.message));
    else p.resolve(m.result);
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const sendTo = (sessionId, method, timeoutMs) =>
    withTimeout(
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject, sessionId });
        cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params: {} }) }).catch(reject);
      }),
      timeoutMs,
      method,
    );
  return {
    workerUrls: () => [...workers.values()],
    /**
     * { used, total, backing, embedder, targets } in bytes: the page's workers summed ('worker') or the page itself
     * ('page'). With `gc`, two full collections first. `backing` is the ArrayBuffer backing stores (wasm memory included).
     */
    async heap(target, { gc = false, timeoutMs = 10_000 } = {}) {
      if (target === undefined) throw new Error("n/a: a SharedWorker's heap is out of the DevTools protocol's reach from the page");
      const read = (u) => ({ used: u.usedSize, total: u.totalSize, backing: u.backingStorageSize ?? 0, embedder: u.embedderHeapUsedSize ?? 0 });
      if (target === 'page') {
        if (gc) {
          await withTimeout(cdp.send('HeapProfiler.collectGarbage'), 60_000, 'collectGarbage');
          await withTimeout(cdp.send('HeapProfiler.collectGarbage'), 60_000, 'collectGarbage');
        }
        return { ...read(await withTimeout(cdp.send('Runtime.getHeapUsage'), timeoutMs, 'getHeapUsage')), targets: 1 };
      }
      const sessions = [...workers.keys()];
      if (sessions.length === 0) throw new Error('no worker attached');
      const sum = { used: 0, total: 0, backing: 0, embedder: 0, targets: sessions.length };
      for (const sessionId of sessions) {
        if (gc) {
          await sendTo(sessionId, 'HeapProfiler.collectGarbage', 60_000);
          await sendTo(sessionId, 'HeapProfiler.collectGarbage', 60_000);
        }
        const u = read(await sendTo(sessionId, 'Runtime.getHeapUsage', timeoutMs));
        for (const k of ['used', 'total', 'backing', 'embedder']) sum[k] += u[k];
      }
      return sum;
    },
    detach: () => cdp.detach().catch(() => {}),
  };
}

/** Where a side's database lives: the engine and SQLite in a worker of the page, Dexie in the page. */
const heapTarget = (side) => (side === 'dexie' ? 'page' : side.startsWith('engine') && engineTransport === 'shared-worker' ? undefined : 'worker');

/** Samples the heap every HEAP_SAMPLE_MS until stopped; resolves to the peak. */
function heapSampler(probe, target) {
  if (target === undefined) return async () => ({ used: 0, backing: 0, samples: 0, misses: 0 }); // no heap to read
  let stopped = false;
  const peak = { used: 0, backing: 0, samples: 0, misses: 0 };
  const done = (async () => {
    while (!stopped) {
      try {
        const h = await probe.heap(target, { timeoutMs: 5_000 });
        peak.used = Math.max(peak.used, h.used);
        peak.backing = Math.max(peak.backing, h.backing);
        peak.samples++;
      } catch {
        peak.misses++;
      }
      await sleep(HEAP_SAMPLE_MS);
    }
  })();
  return async () => {
    stopped = true;
    await done;
    return peak;
  };
}

/** A new page on scale.html for one side (and, with `cold`, a cold start reading row `cold`), with its heap probe. */
async function openSidePage(context, baseUrl, side, name, cold) {
  const page = await context.newPage();
  page.on('console', (message) => {
    const text = message.text();
    if (text.startsWith('[bench]') || message.type() === 'error') console.log(`[page] ${text}`);
  });
  page.on('pageerror', (error) => console.error(`[page] uncaught: ${error.stack ?? error.message}`));
  const probe = await openProbe(context, page);
  const query = new URLSearchParams({
    side,
    name,
    ...(cold === undefined ? {} : { cold: String(cold) }),
    ...(side.startsWith('engine') && engineTransport !== 'worker' ? { transport: engineTransport } : {}),
  });
  await page.goto(`${baseUrl}scale.html?${query}`, { waitUntil: 'commit' });
  return {
    page,
    probe,
    async close() {
      await probe.detach();
      await page.close().catch(() => {});
    },
  };
}

/** Waits for the page's module to have set up window.scale. */
const scaleReady = (page, timeoutMs) => page.waitForFunction(() => window.scale !== undefined, null, { timeout: timeoutMs, polling: 50 });

/** Closes the side's database (bounded), then the page (which ends its workers, whatever state they are in). */
async function closeSide(handle) {
  if (!handle) return undefined;
  const closed = await step('close', () => handle.page.evaluate(() => window.scale.close()), 30_000);
  await handle.close();
  return closed?.error;
}

const MB = 1024 * 1024;

/**
 * A cold start: a new page on the existing database, timed from navigation start to the first lookup's result,
 * then two forced GCs and the heap of the worker holding the database (or of the page, for Dexie).
 */
async function coldStart(context, baseUrl, side, name, id, timeoutMs) {
  let handle;
  const outcome = await step(
    'cold start',
    async () => {
      handle = await openSidePage(context, baseUrl, side, name, id);
      try {
        await handle.page.waitForFunction(() => window.scaleCold !== undefined, null, { timeout: timeoutMs, polling: 50 });
      } catch (e) {
        if (e?.name === 'TimeoutError') throw new Error(`timeout after ${seconds(timeoutMs)} (cold start: no first result)`);
        throw e;
      }
      const cold = await handle.page.evaluate(() => window.scaleCold);
      if (cold.error) return { error: cold.error };
      const heap = heapTarget(side) === undefined ? undefined : await handle.probe.heap(heapTarget(side), { gc: true });
      return { ms: cold.ms, ok: cold.ok, scriptMs: cold.scriptMs, openMs: cold.openMs, heap };
    },
    timeoutMs + 90_000,
  );
  if (outcome.error) {
    await handle?.close(); // the engine may be stuck: no close() round trip, the page (and its worker) just goes
    return { outcome, handle: undefined };
  }
  return { outcome, handle };
}

async function measureSide(context, baseUrl, driver, size, side, runId) {
  const label = LABELS[side];
  const t = timeouts(size);
  const started = Date.now();
  const name = `scale-${side}-${size}-${runId}`;
  const result = { side, label, size, name, load: undefined, afterLoad: undefined, cold: [], ops: {}, compact: undefined, stats: {}, skipped: undefined };
  const emptied = await step('empty origin', () => driver.evaluate(() => window.scaleDriver.emptyOrigin()), 120_000);
  if (emptied) log(`${label} ${size}: emptying the origin: ${emptied.error ?? emptied}`);

  // 1. Load, sampling the heap of the database's worker.
  log(`${label} ${size.toLocaleString('en-US')} rows: load`);
  let handle;
  const opened = await step(
    'open',
    async () => {
      handle = await openSidePage(context, baseUrl, side, name, undefined);
      await scaleReady(handle.page, t.open);
      return handle.page.evaluate(() => window.scale.open(true));
    },
    t.open,
  );
  if (opened.error) {
    result.load = { error: `open: ${opened.error}` };
    result.skipped = `open failed: ${opened.error}`;
    await handle?.close();
    result.seconds = (Date.now() - started) / 1000;
    return result;
  }
  const stopSampler = heapSampler(handle.probe, heapTarget(side));
  let load = await step('load', () => handle.page.evaluate((n) => window.scale.load(n), size), t.load);
  const peak = await stopSampler();
  if (load.error?.startsWith('timeout')) {
    const written = await step('progress', () => handle.page.evaluate(() => window.scaleProgress), 5_000);
    if (typeof written === 'number') load = { error: `${load.error}: ${written.toLocaleString('en-US')} of ${size.toLocaleString('en-US')} rows written` };
  }
  result.load = { ...load, peak };
  if (load.error || load.rows !== size) {
    if (!load.error) result.load.error = `wrote ${load.rows} rows of ${size}`;
    result.skipped = `load failed: ${result.load.error}`;
    await closeSide(handle);
    result.seconds = (Date.now() - started) / 1000;
    return result;
  }
  // What the load left behind once garbage is collected (the peak above includes garbage not yet collected).
  result.load.afterGc = await step('heap after the load', () => handle.probe.heap(heapTarget(side), { gc: true }), 150_000);
  log(
    `${label} ${size}: loaded in ${(load.ms / 1000).toFixed(1)} s, peak heap ${peak.samples ? `${(peak.used / MB).toFixed(1)} MB` : 'n/a'}, ` +
      `${result.load.afterGc.error ?? `${(result.load.afterGc.used / MB).toFixed(1)} MB after GC`}; ${side.startsWith('engine') ? 'STORAGE FLUSH TABLE' : 'index'}`,
  );
  result.afterLoad = await step('after load', () => handle.page.evaluate((ms) => window.scale.afterLoad(ms), t.afterLoad), t.afterLoad + 30_000);
  log(`${label} ${size}: after load ${result.afterLoad.error ?? `${(result.afterLoad.ms / 1000).toFixed(1)} s (${result.afterLoad.detail})`}`);
  const closeError = await closeSide(handle);
  if (closeError) result.closeAfterLoad = closeError;
  handle = undefined;

  // 2. Cold starts: a new page and a new worker each; the last one stays open for the timed operations.
  const random = seededRandom(0x5ca1e ^ size);
  const coldId = () => 1 + Math.floor(random() * size);
  for (let i = 0; i < COLD_STARTS; i++) {
    const { outcome, handle: h } = await coldStart(context, baseUrl, side, name, coldId(), t.cold);
    result.cold.push(outcome);
    log(`${label} ${size}: cold start ${i + 1}: ${outcome.error ?? `${outcome.ms.toFixed(0)} ms, heap ${outcome.heap ? `${(outcome.heap.used / MB).toFixed(1)} MB` : 'n/a'}`}`);
    if (outcome.error) break;
    if (i < COLD_STARTS - 1) await closeSide(h);
    else handle = h;
  }
  if (!handle) {
    result.skipped = `cold start failed: ${result.cold.at(-1)?.error}`;
    result.seconds = (Date.now() - started) / 1000;
    return result;
  }
  if (side.startsWith('engine')) result.stats.afterColdOpen = await step('stats', () => handle.page.evaluate(() => window.scale.stats()), 60_000);

  // 3. The timed operations on the cold-opened database. A timed-out op closes the page; the next op gets a fresh one.
  let nextId = size + 1;
  for (const op of OPS) {
    if (!handle) {
      const { outcome, handle: h } = await coldStart(context, baseUrl, side, name, coldId(), t.cold);
      if (outcome.error) {
        result.ops[op] = { error: `skipped: reopening after a failed step: ${outcome.error}` };
        continue;
      }
      handle = h;
    }
    log(`${label} ${size}: ${op}`);
    const out = await step(op, () => handle.page.evaluate(([o, options]) => window.scale.run(o, options), [op, { size, expectedCount: size, nextId }]), t.op(op));
    result.ops[op] = out;
    if (out.inserted) nextId += out.inserted;
    if (out.error?.startsWith('timeout')) {
      await handle.close();
      handle = undefined;
    }
  }

  // 4. Engine: single-row inserts while STORAGE COMPACT TABLE runs.
  if (side.startsWith('engine') && handle) {
    log(`${label} ${size}: STORAGE COMPACT TABLE`);
    result.compact = await step('compact', () => handle.page.evaluate((o) => window.scale.compact(o), { nextId, timeoutMs: t.compact }), t.compact + 60_000);
    log(`${label} ${size}: compaction: ${result.compact.error ?? (result.compact.supported ? result.compact.skipped ?? result.compact.status : result.compact.detail)}`);
    if (result.compact.error?.startsWith('timeout')) {
      await handle.close();
      handle = undefined;
    }
  } else if (side.startsWith('engine')) {
    result.compact = { error: 'skipped: no page after a failed step' };
  }
  if (side.startsWith('engine') && handle) result.stats.afterOps = await step('stats', () => handle.page.evaluate(() => window.scale.stats()), 60_000);
  // What the worker holds once the queries have run (the engine: its segment cache), garbage collected.
  if (handle) result.heapAfterOps = await step('heap after the operations', () => handle.probe.heap(heapTarget(side), { gc: true }), 150_000);
  if (handle) {
    const closeErr = await closeSide(handle);
    if (closeErr) result.closeAtEnd = closeErr;
  }
  result.seconds = (Date.now() - started) / 1000;
  log(`${label} ${size}: done in ${result.seconds.toFixed(0)} s`);
  return result;
}

function sameIds(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameGroups(a, b) {
  return a.length === b.length && a.every((g, i) => g.category === b[i].category && g.n === b[i].n && Math.abs(g.avg - b[i].avg) <= 1e-9 * Math.max(1, Math.abs(g.avg)));
}

/** Wrong answers (each side's own checks) and the cross-side agreement of the filtered query and the GROUP BY. */
function scaleChecks(results) {
  const checks = [];
  for (const size of results.sizes) {
    const sides = results.sides.map((s) => results.bySize[size]?.[s]).filter(Boolean);
    for (const r of sides) {
      for (const op of OPS) {
        const o = r.ops[op];
        if (o && !o.error && o.wrong > 0) checks.push({ name: `${r.label} ${size}: ${op} answers are right`, ok: false, detail: `${o.wrong} wrong: ${o.detail ?? ''}` });
      }
      const wrongCold = r.cold.filter((c) => !c.error && !c.ok).length;
      if (wrongCold > 0) checks.push({ name: `${r.label} ${size}: the cold start's lookup returns the row written`, ok: false, detail: `${wrongCold} wrong` });
    }
    const filters = sides.filter((r) => r.ops.filter?.firstIds?.length);
    if (filters.length > 1) {
      const ok = filters.every((r) => sameIds(r.ops.filter.firstIds, filters[0].ops.filter.firstIds));
      checks.push({
        name: `${size}: ${filters.map((r) => r.label).join(', ')} answer the filtered query with the same ids in the same order`,
        ok,
        detail: filters.map((r) => `${r.label} [${r.ops.filter.firstIds.slice(0, 3).join(', ')}, …]`).join('; '),
      });
    }
    const groups = sides.filter((r) => r.ops.group?.groups?.length);
    if (groups.length > 1) {
      const ok = groups.every((r) => sameGroups(r.ops.group.groups, groups[0].ops.group.groups));
      checks.push({
        name: `${size}: ${groups.map((r) => r.label).join(', ')} agree on COUNT/AVG … GROUP BY category`,
        ok,
        detail: groups.map((r) => `${r.label} ${JSON.stringify(r.ops.group.groups[0])}`).join('; '),
      });
    }
  }
  return checks;
}

/**
 * Runs the phase in `context` (the persistent profile of run.mjs) against the served bench at `baseUrl`.
 * Resolves to whether every correctness check passed (missed targets, timeouts and engine errors are reported, not
 * failures: they are the figures).
 */
export async function runScalePhase(context, baseUrl, { sizes = SCALE_DEFAULT_SIZES, sides = SIDES, profile, browserVersion, transport = 'worker' }) {
  const started = Date.now();
  engineTransport = transport;
  const runId = Date.now().toString(36);
  log(`sizes ${sizes.map((n) => n.toLocaleString('en-US')).join(', ')}; sides ${sides.map((s) => LABELS[s]).join(', ')}`);
  const driver = await context.newPage();
  driver.on('console', (message) => {
    if (message.text().startsWith('[bench]') || message.type() === 'error') console.log(`[page] ${message.text()}`);
  });
  await driver.goto(`${baseUrl}scale.html`);
  await driver.waitForFunction(() => window.scaleDriver !== undefined, null, { timeout: 30_000 });
  const environment = await driver.evaluate(() => ({
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    hardwareConcurrency: navigator.hardwareConcurrency,
  }));
  const results = { sizes, sides, labels: LABELS, bySize: {}, environment: { ...environment, browserVersion, profile, engineTransport, startedAt: new Date(started).toISOString() } };
  try {
    for (const size of sizes) {
      results.bySize[size] = {};
      for (const side of sides) {
        try {
          results.bySize[size][side] = await measureSide(context, baseUrl, driver, size, side, runId);
        } catch (e) {
          // Every step is guarded; this is for the unforeseen (a crashed browser context, …): the next side still runs.
          const message = String(e?.message ?? e).split('\n')[0];
          log(`${LABELS[side]} ${size}: failed: ${message}`);
          results.bySize[size][side] = { side, label: LABELS[side], size, cold: [], ops: {}, stats: {}, load: { error: message }, skipped: `failed: ${message}` };
        }
        results.totalSeconds = (Date.now() - started) / 1000;
        // Partial results are written as they come, so a long run that is interrupted still leaves its figures.
        await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
      }
    }
    await step('empty origin', () => driver.evaluate(() => window.scaleDriver.emptyOrigin()), 120_000);
  } finally {
    await driver.close().catch(() => {});
  }
  results.totalSeconds = (Date.now() - started) / 1000;
  results.checks = scaleChecks(results);
  results.targets = scaleTargets(results);
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${formatScaleTable(results)}\n`);
  log(`wrote ${resultsFile}`);
  return results.checks.every((check) => check.ok);
}
