/**
 * The page of the scale bench (scale.html), driven by bench/scale-run.mjs.
 * One page plays one of three roles, by its query string:
 *
 * - no `side`: the driver, `window.scaleDriver.emptyOrigin()` deletes every
 *   IndexedDB database and every OPFS entry of the origin;
 * - `?side=S&name=N`: one side's database, `window.scale` (open, load,
 *   afterLoad, run, compact, stats, close);
 * - `&transport=shared-worker` (engine sides): the engine in a SharedWorker
 *   rather than a dedicated worker of the page (run.mjs --scale-transport);
 * - `?side=S&name=N&cold=ID`: a cold start — as soon as the module runs it
 *   opens the existing database (the engine: a new dedicated worker) and
 *   reads row ID; `window.scaleCold.ms` is performance.now() at that result,
 *   i.e. ms since the navigation started. `window.scale` then serves the
 *   timed operations on this freshly opened database.
 *
 * The module is small and loads its side's code with a dynamic import, so a
 * cold start pays for that side's code only, as an app would.
 */
import { rowFor, seededRandom, type BenchRow } from './rows';
import {
  FILTER_LIMIT,
  OP_SPECS,
  RANGE_ROWS,
  SCALE_BATCH_ROWS,
  SCALE_LABELS,
  SCALE_SEED,
  describeError,
  filterCategory,
  quantiles,
  scaleRow,
  scaleRows,
  type AfterLoad,
  type ColdOutcome,
  type CompactOptions,
  type CompactOutcome,
  type LoadOutcome,
  type OpName,
  type OpOutcome,
  type ScaleSideName,
  type ScaleStore,
} from './scale';

declare global {
  interface Window {
    scaleDriver?: { emptyOrigin(): Promise<string | undefined> };
    scale?: ScalePageApi;
    scaleCold?: ColdOutcome;
    /** Rows written so far by load(), for a timeout message. */
    scaleProgress?: number;
  }
}

export interface ScalePageApi {
  open(create: boolean): Promise<{ error?: string }>;
  load(size: number): Promise<LoadOutcome>;
  afterLoad(timeoutMs: number): Promise<AfterLoad | { error: string }>;
  run(op: OpName, options: { size: number; expectedCount: number; nextId: number }): Promise<OpOutcome>;
  compact(options: CompactOptions): Promise<CompactOutcome | { error: string }>;
  stats(): Promise<Record<string, string> | undefined>;
  close(): Promise<{ error?: string }>;
}

/** When this module started running (ms since navigation start): what precedes it is the page's own load. */
const scriptMs = performance.now();
const params = new URLSearchParams(location.search);
const side = params.get('side') as ScaleSideName | null;
const name = params.get('name') ?? 'scale';
/** The engine sides' transport (run.mjs --scale-transport): a dedicated worker unless 'shared-worker'. */
const transport = params.get('transport') === 'shared-worker' ? 'shared-worker' : 'worker';

function log(message: string): void {
  console.log(`[bench] scale: ${side ? `${SCALE_LABELS[side]} ` : ''}${message}`);
}

async function makeStore(s: ScaleSideName): Promise<ScaleStore> {
  switch (s) {
    case 'engine-idb':
      return (await import('./scale-engine')).engineStore(name, 'idb', transport);
    case 'engine-opfs':
      return (await import('./scale-engine')).engineStore(name, 'opfs', transport);
    case 'dexie':
      return (await import('./scale-dexie')).dexieStore(name);
    case 'sqlite':
      return (await import('./scale-sqlite')).sqliteStore(name);
  }
}

function isRowFor(id: number, row: BenchRow | undefined): boolean {
  const want = rowFor(SCALE_SEED, id);
  return row !== undefined && Number(row.id) === id && row.category === want.category && row.score === want.score && row.title === want.title;
}

async function guard<T extends object>(run: () => Promise<T>): Promise<T | { error: string }> {
  try {
    return await run();
  } catch (e) {
    return { error: describeError(e) };
  }
}

/**
 * Warm-up calls (while under a third of the op's budget), then timed ones
 * until `iterations` or the budget is spent: at least one timed call, and up
 * to three as long as the next one should end within twice the budget.
 */
async function timedLoop(op: OpName, call: (i: number, timed: boolean) => Promise<void>): Promise<number[]> {
  const { warmup, iterations, budgetMs } = OP_SPECS[op];
  const started = performance.now();
  let i = 0;
  for (; i < warmup && performance.now() - started < budgetMs / 3; i++) await call(i, false);
  const samples: number[] = [];
  for (;;) {
    const elapsed = performance.now() - started;
    if (samples.length >= iterations) break;
    if (samples.length >= 1 && elapsed >= budgetMs && (samples.length >= 3 || elapsed + samples[samples.length - 1] > 2 * budgetMs)) break;
    const t = performance.now();
    await call(i++, true);
    samples.push(performance.now() - t);
  }
  return samples;
}

function storeApi(store: ScaleStore): ScalePageApi {
  return {
    open: (create) => guard(async () => (await store.open(create), {})),
    async load(size) {
      window.scaleProgress = 0;
      let ms = 0;
      let rows = 0;
      let nextLog = size / 10;
      try {
        for (let first = 1; first <= size; first += SCALE_BATCH_ROWS) {
          const batch = scaleRows(first, Math.min(SCALE_BATCH_ROWS, size - first + 1)); // built before the clock starts
          const t = performance.now();
          rows += await store.insertBatch(batch);
          ms += performance.now() - t;
          window.scaleProgress = rows;
          if (rows >= nextLog) {
            log(`loaded ${rows.toLocaleString('en-US')} rows, ${(ms / 1000).toFixed(1)} s`);
            nextLog += size / 10;
          }
        }
        const t = performance.now();
        await store.endLoad?.();
        ms += performance.now() - t;
        return { ms, rows };
      } catch (e) {
        return { ms, rows, error: describeError(e) };
      }
    },
    afterLoad: (timeoutMs) => guard(() => store.afterLoad(timeoutMs)),
    async run(op, { size, expectedCount, nextId }) {
      const out: OpOutcome = { wrong: 0 };
      try {
        switch (op) {
          case 'lookup': {
            const random = seededRandom(SCALE_SEED ^ 0x11);
            const samples = await timedLoop(op, async () => {
              const id = 1 + Math.floor(random() * size);
              if (!isRowFor(id, await store.get(id))) out.wrong++;
            });
            out.q = quantiles(samples);
            break;
          }
          case 'range': {
            const random = seededRandom(SCALE_SEED ^ 0x22);
            const samples = await timedLoop(op, async () => {
              const from = 1 + Math.floor(random() * (size - RANGE_ROWS + 1));
              const ids = [...(await store.range(from, from + RANGE_ROWS - 1))].sort((a, b) => a - b);
              if (ids.length !== RANGE_ROWS || ids.some((id, k) => id !== from + k)) {
                if (out.wrong++ === 0) out.detail = `range ${from}…${from + RANGE_ROWS - 1} returned ${ids.length} rows [${ids.slice(0, 3).join(', ')}, …]`;
              }
            });
            out.q = quantiles(samples);
            break;
          }
          case 'count': {
            const samples = await timedLoop(op, async () => {
              const n = await store.count();
              if (n !== expectedCount) {
                if (out.wrong++ === 0) out.detail = `COUNT(*) ${n}, expected ${expectedCount}`;
              }
            });
            out.q = quantiles(samples);
            break;
          }
          case 'filter': {
            const samples = await timedLoop(op, async (i) => {
              const category = filterCategory(i);
              const ids = await store.filtered(category);
              if (i === 0) out.firstIds = ids;
              const rows = ids.map((id) => rowFor(SCALE_SEED, id));
              const sorted = rows.every((r, k) => r.category === category && (k === 0 || rows[k - 1].score >= r.score));
              // Each of the 10 categories has about a tenth of the rows: at these sizes, always more than the limit.
              if (!sorted || ids.length !== FILTER_LIMIT) {
                if (out.wrong++ === 0) out.detail = `category ${category}: ${ids.length} ids, sorted and in the category: ${sorted}`;
              }
            });
            out.q = quantiles(samples);
            break;
          }
          case 'group': {
            const samples = await timedLoop(op, async () => {
              const groups = await store.groupBy();
              out.groups = groups;
              const total = groups.reduce((sum, g) => sum + g.n, 0);
              if (total !== expectedCount) {
                if (out.wrong++ === 0) out.detail = `GROUP BY counts add up to ${total}, expected ${expectedCount}`;
              }
            });
            out.q = quantiles(samples);
            break;
          }
          case 'single': {
            let inserted = 0;
            const samples = await timedLoop(op, async () => {
              await store.insertOne(scaleRow(nextId + inserted));
              inserted++;
            });
            out.inserted = inserted;
            out.q = quantiles(samples);
            break;
          }
        }
      } catch (e) {
        out.error = describeError(e);
      }
      return out;
    },
    async compact(options) {
      if (!store.compactDuring) return { supported: false, detail: 'no compaction on this side' };
      return guard(() => store.compactDuring!(options));
    },
    async stats() {
      try {
        return await store.stats?.();
      } catch {
        return undefined;
      }
    },
    close: () => guard(async () => (await store.close(), {})),
  };
}

function deleteDatabase(dbName: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.deleteDatabase(dbName);
    const timer = setTimeout(() => reject(new Error(`deleting IndexedDB database ${dbName} stayed blocked for 10 s`)), 10_000);
    request.onsuccess = () => (clearTimeout(timer), resolve());
    request.onerror = () => (clearTimeout(timer), reject(request.error ?? new Error(`deleting ${dbName} failed`)));
  });
}

/**
 * Every IndexedDB database and every OPFS entry of the origin. Called only
 * once the pages of the previous side are closed; their workers may take a
 * moment to release OPFS access handles, hence the retries. Resolves to a
 * problem, or undefined.
 */
async function emptyOrigin(): Promise<string | undefined> {
  for (const { name: dbName } of await indexedDB.databases()) if (dbName) await deleteDatabase(dbName);
  const root = (await navigator.storage.getDirectory()) as FileSystemDirectoryHandle & { keys(): AsyncIterable<string> };
  let problem: string | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    problem = undefined;
    const entries: string[] = [];
    for await (const entry of root.keys()) entries.push(entry);
    for (const entry of entries) {
      try {
        await root.removeEntry(entry, { recursive: true });
      } catch (e) {
        problem = `OPFS entry ${entry}: ${describeError(e)}`;
      }
    }
    if (problem === undefined) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return problem;
}

if (side === null) {
  window.scaleDriver = { emptyOrigin };
} else {
  const cold = params.get('cold');
  const store = await makeStore(side);
  if (cold !== null) {
    const id = Number(cold);
    try {
      await store.open(false);
      const openMs = performance.now();
      const row = await store.get(id);
      window.scaleCold = { ms: performance.now(), ok: isRowFor(id, row), scriptMs, openMs };
    } catch (e) {
      window.scaleCold = { error: describeError(e) };
    }
  }
  window.scale = storeApi(store);
}
