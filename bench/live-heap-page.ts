/**
 * The page of the live-heap phase (live-heap.html), driven by
 * bench/live-heap-run.mjs: the engine in a dedicated worker of this page
 * over IndexedDB, a SHARED table of one row per subscription, and
 * `window.liveHeap` to open N one-row live queries (distinct parameters, so
 * none is shared), stop them all, and read the engine's live-query counts
 * from system.stats. The Node side reads the worker's heap through the
 * DevTools protocol between the steps.
 *
 * The engine allows 1,000 live queries (100 per session) by default, and
 * createClient() passes no engine options; so the client is given the
 * worker (its real entry, in a dedicated worker) through an endpoint that
 * adds `maxLiveQueries` and `maxSubscriptionsPerSession` to the one `open`
 * call the client makes. Everything else is the client and worker as apps
 * use them.
 */
import type { Endpoint } from 'comlink';
import { createClient, type ClientSession, type KalamClient } from '@kalamlite/worker';

declare global {
  interface Window {
    liveHeap?: LiveHeapApi;
  }
}

export interface LiveHeapApi {
  open(rows: number): Promise<void>;
  subscribe(count: number): Promise<{ ms: number; delivered: number }>;
  stop(): Promise<{ ms: number }>;
  stats(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

const NAME = 'live-heap';
const BATCH = 250;
let client: KalamClient | undefined;
let session: ClientSession;
let stops: (() => void)[] = [];

async function stats(): Promise<Record<string, string>> {
  const { rows } = await session.query("SELECT metric_name, metric_value FROM system.stats WHERE metric_name LIKE 'live%' OR metric_name LIKE 'client%'");
  return Object.fromEntries(rows.map((r) => [String(r.metric_name), String(r.metric_value)]));
}

/** Comlink's message for a call of `open(options, listener)`: the options travel as a raw value. */
interface OpenCall {
  type?: string;
  path?: string[];
  argumentList?: { type: string; value: unknown }[];
}

/** `worker` as a Comlink endpoint that adds `extra` to the options of the client's `open` call. */
function withEngineOptions(worker: Worker, extra: Record<string, number>): Endpoint {
  return {
    postMessage(message: OpenCall, transfer?: Transferable[]) {
      const first = message?.argumentList?.[0];
      if (message?.type === 'APPLY' && message.path?.[0] === 'open' && first?.type === 'RAW') {
        message = { ...message, argumentList: [{ ...first, value: { ...(first.value as object), ...extra } }, ...message.argumentList!.slice(1)] };
      }
      worker.postMessage(message, transfer ?? []);
    },
    addEventListener: worker.addEventListener.bind(worker) as Endpoint['addEventListener'],
    removeEventListener: worker.removeEventListener.bind(worker) as Endpoint['removeEventListener'],
  };
}

window.liveHeap = {
  async open(rows) {
    const worker = new Worker(new URL('../packages/worker/src/worker.ts', import.meta.url), { type: 'module' });
    client = await createClient({
      name: NAME,
      storage: 'idb',
      worker: withEngineOptions(worker, { maxLiveQueries: rows + 100, maxSubscriptionsPerSession: rows + 100 }),
      limits: { maxSubscriptions: rows + 100 },
    });
    session = client.session({ user: 'bench', role: 'dba' });
    await session.execute('CREATE NAMESPACE IF NOT EXISTS bench; CREATE SHARED TABLE IF NOT EXISTS bench.one (id INT PRIMARY KEY, title TEXT, n INT)');
    for (let start = 0; start < rows; start += 1000) {
      const n = Math.min(1000, rows - start);
      const tuples = Array.from({ length: n }, (_, i) => `(${start + i}, 'row ${start + i}', ${i % 7})`);
      await session.execute(`INSERT INTO bench.one (id, title, n) VALUES ${tuples.join(', ')}`);
    }
  },
  async subscribe(count) {
    const started = performance.now();
    let delivered = 0;
    const first = stops.length; // ids continue after the live queries already open
    for (let start = first; start < first + count; start += BATCH) {
      const batch: Promise<() => void>[] = [];
      for (let id = start; id < Math.min(first + count, start + BATCH); id++) {
        batch.push(
          session.live('SELECT id, title, n FROM bench.one WHERE id = $1', [id], (rows) => {
            if (rows.length === 1) delivered++;
          }),
        );
      }
      stops.push(...(await Promise.all(batch)));
    }
    const ms = performance.now() - started;
    // First results reach the page a moment after live() resolves.
    for (let i = 0; i < 100 && delivered < count; i++) await new Promise((r) => setTimeout(r, 50));
    return { ms, delivered };
  },
  async stop() {
    const started = performance.now();
    for (const stop of stops) stop();
    stops = [];
    // stop() is fire-and-forget; wait until the worker has released every subscription.
    for (let i = 0; i < 600; i++) {
      const s = await stats();
      if (s.live_queries === '0' && (s.client_live_queries ?? '0') === '0') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return { ms: performance.now() - started };
  },
  stats,
  async close() {
    await client?.close();
  },
};
