/**
 * The live-heap workload in Node, without a browser (bench/live-heap-node.mjs
 * bundles and runs it under --expose-gc): the engine over memory storage and
 * the worker's host (createHost, as the worker runs it, with a listener that
 * acknowledges at once), a SHARED table of 10,300 rows kept hot, 300 live
 * queries opened and stopped (warm-up), then 2 × 5,000 one-row live queries
 * `SELECT id, title, n FROM bench.one WHERE id = $1` with distinct
 * parameters, the heap after GC before, between and after, then all stopped.
 * Node's pointers are 8 bytes (Chromium's 4), so its figures run about 1.7×
 * the browser's; they are for comparing changes and finding what a live
 * query holds: with KALAM_HEAP_SNAPSHOTS=dir it writes heap snapshots at the
 * half and with all open for `--snapshot` to compare.
 */
import { openDatabase, type Value } from '@kalamlite/engine';
import { writeHeapSnapshot } from 'node:v8';
import { join } from 'node:path';
import { createHost } from '../packages/worker/src/host';
import type { SessionKey } from '../packages/worker/src/protocol';

const COUNT = 10_000;
const WARM_UP = 300;
const BATCH = 250;
const SQL = 'SELECT id, title, n FROM bench.one WHERE id = $1';
const snapshots = process.env.KALAM_HEAP_SNAPSHOTS;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (bench/live-heap-node.mjs does)');
async function heap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return process.memoryUsage().heapUsed;
}

const rows = COUNT + WARM_UP;
// hotPartitionRows: no flush to the cold tier midway (its decoded rows would blur the figures).
const db = await openDatabase({ storage: 'memory', maxLiveQueries: rows, maxSubscriptionsPerSession: rows, hotPartitionRows: rows * 2 });
const admin = db.session({ user: 'bench', role: 'dba' });
await admin.execute('CREATE NAMESPACE IF NOT EXISTS bench; CREATE SHARED TABLE bench.one (id INT PRIMARY KEY, title TEXT, n INT)');
for (let start = 0; start < rows; start += 1000) {
  const tuples = Array.from({ length: Math.min(1000, rows - start) }, (_, i) => `(${start + i}, 'row ${start + i}', ${i % 7})`);
  await admin.execute(`INSERT INTO bench.one (id, title, n) VALUES ${tuples.join(', ')}`);
}
let events = 0;
const host = createHost(db, (batch) => void (events += batch.length), { maxSubscriptions: rows });
const key: SessionKey = { user: 'bench', role: 'dba' };
let nextId = 1;
let nextRow = 0;

async function open(count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let start = 0; start < count; start += BATCH) {
    const batch: Promise<void>[] = [];
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      const id = nextId++;
      ids.push(id);
      // A new string per call, as a message brings one.
      batch.push(host.live(key, SQL.slice(0, -1) + SQL.slice(-1), [nextRow++] as Value[], id, undefined));
    }
    await Promise.all(batch);
  }
  return ids;
}

for (const id of await open(WARM_UP)) await host.unsubscribe(id);
const baseline = await heap();
const ids = await open(COUNT / 2);
const half = await heap();
if (snapshots) writeHeapSnapshot(join(snapshots, 'half.heapsnapshot'));
ids.push(...(await open(COUNT / 2)));
const all = await heap();
if (snapshots) writeHeapSnapshot(join(snapshots, 'all.heapsnapshot'));
const open_ = (await host.stats()).subscriptions;
await Promise.all(ids.map((id) => host.unsubscribe(id)));
const after = await heap();
const left = (await host.stats()).subscriptions;
await host.close();
console.log(
  JSON.stringify({
    count: COUNT,
    firstResults: events,
    open: open_,
    openAfterStop: left,
    perLiveQuerySecondHalf: Math.round((all - half) / (COUNT / 2)),
    perLiveQueryAll: Math.round((all - baseline) / COUNT),
    afterStopAboveBaselineKB: Math.round((after - baseline) / 1024),
  }),
);
