// The indexes phase of bench/run.mjs (`--indexes`, `--index-rows=N`): secondary indexes in Chromium, the engine
// (a dedicated worker over IndexedDB, round trip included) beside Dexie, on a page of its own (indexes.html,
// indexes-page.ts). Loads N rows (default 100,000) into a USER table without secondary indexes and one with 3,
// in 1,000-row INSERTs (the bulk insert cost with 3 indexes against none; Dexie's bulkPut alongside), flushes and
// compacts both so every row is cold, then times `WHERE score BETWEEN … ORDER BY score LIMIT 50` through the index,
// on the table without it, and Dexie's `where('score').between().limit(50)`. Prints the table and writes
// bench/results-indexes.json; fails when the three answers differ.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { withTimeout, p50, p95, ms } from './run-util.mjs';

const resultsFile = fileURLToPath(new URL('./results-indexes.json', import.meta.url));
export const INDEX_DEFAULT_ROWS = 100_000;
const QUERIES = 30;
const PLAIN_QUERIES = 5;

function log(message) {
  console.log(`[run] indexes: ${message}`);
}


/** Runs the phase; resolves to true when the answers agree. */
export async function runIndexesPhase(context, baseUrl, { profile, browserVersion, rows = INDEX_DEFAULT_ROWS }) {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') console.log(`[page] ${message.text()}`);
  });
  page.on('pageerror', (error) => console.error(`[page] uncaught: ${error.stack ?? error.message}`));
  await page.goto(`${baseUrl}indexes.html`);
  await page.waitForFunction(() => typeof window.indexesBench === 'object');
  const call = (what, timeoutMs, fn, arg) => withTimeout(page.evaluate(fn, arg), timeoutMs, what);
  await call('open', 60_000, () => window.indexesBench.open());
  log(`loading ${rows.toLocaleString('en-US')} rows into each table and Dexie`);
  const load = await call('load', 120_000 + rows * 2, (n) => window.indexesBench.load(n), rows);
  log(`loaded: no index ${ms(load.plainMs)}, 3 indexes ${ms(load.indexedMs)}, Dexie ${ms(load.dexieMs)}`);
  const settle = await call('settle', 120_000 + rows * 1, () => window.indexesBench.settle());
  log(`flushed and compacted in ${ms(settle.ms)}`);
  const q = await call('query', 600_000, ([n, m]) => window.indexesBench.query(n, m), [QUERIES, PLAIN_QUERIES]);
  const stats = await call('stats', 60_000, () => window.indexesBench.stats());
  await call('close', 60_000, () => window.indexesBench.close());
  await page.close();

  const ratio = load.indexedMs / load.plainMs;
  const table = [
    [`bulk insert ${(load.batches * 1000).toLocaleString('en-US')} rows, 1,000-row INSERTs, no secondary index`, ms(load.plainMs), ''],
    ['the same with 3 secondary indexes (category, score, title)', ms(load.indexedMs), `${ratio.toFixed(2)}× (target ≤ 1.5×)`],
    ['Dexie bulkPut, same batches (index on score)', ms(load.dexieMs), ''],
    ['flush + compact both tables (all rows cold)', ms(settle.ms), ''],
    [`score BETWEEN … ORDER BY score LIMIT 50, index, p50 / p95 of ${QUERIES}`, `${ms(p50(q.indexed))} / ${ms(p95(q.indexed))}`, `first after settle ${ms(q.firstIndexedMs)}`],
    [`same query without the index, p50 of ${PLAIN_QUERIES}`, ms(p50(q.plain)), ''],
    [`Dexie where('score').between().limit(50), p50 / p95 of ${QUERIES}`, `${ms(p50(q.dexie))} / ${ms(p95(q.dexie))}`, ''],
    ['index reads prepared through segment index records (system.stats)', stats.index_cold_reads ?? '?', ''],
    ['answers equal (index, no index, Dexie)', String(q.same), ''],
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...table.map((r) => r[i].length), ['figure', 'value', 'note'][i].length));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\nindexes, ${rows.toLocaleString('en-US')} rows (${browserVersion}, ${profile}, IndexedDB)\n${line(['figure', 'value', 'note'])}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${table.map(line).join('\n')}\n`);
  const results = {
    environment: { browserVersion, profile, rows, queries: QUERIES, date: new Date().toISOString() },
    load, settle, query: q, ratio,
    stats: Object.fromEntries(Object.entries(stats).filter(([k]) => /index|segment|row_group|compaction/.test(k))),
  };
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${resultsFile}`);
  return q.same;
}
