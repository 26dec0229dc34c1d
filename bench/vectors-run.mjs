// The vectors phase of bench/run.mjs (`--vectors`, `--vector-rows=N`, `--vector-index-rows=N`): EMBEDDING(384)
// in Chromium, on a page of its own (vectors.html, vectors-page.ts). Loads N seeded unit vectors (default 100,000;
// topic-shaped unless --vector-clustered or --vector-random) into a USER table through the worker over IndexedDB,
// times the exact top-10 by cosine distance through the worker (checked against the page's own exact search), then
// CREATE VECTOR INDEX: its vector_index job's build, top-10 through the index (p50, recall@10), and the same number
// of rows read by key; then builds the HNSW graph (storage/hnsw.ts) in the page over the first M vectors (default
// 10,000) and times top-10 searches at several ef with their recall@10. Prints the table and writes
// bench/results-vectors.json.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { withTimeout, p50, ms } from './run-util.mjs';

const resultsFile = fileURLToPath(new URL('./results-vectors.json', import.meta.url));
export const VECTOR_DEFAULT_ROWS = 100_000;
export const VECTOR_DEFAULT_INDEX_ROWS = 10_000;
const EXACT_QUERIES = 11;
const INDEX_QUERIES = 50;
const EFS = [16, 64, 256];
/** The data sets (vectors-page.ts VectorData: topics by default, --vector-clustered, --vector-random). */
export const DATA_NAMES = {
  random: 'uniformly random unit vectors',
  clustered: '100 Gaussian clusters (σ 0.05 a dimension)',
  topics: '100 topics, each a 16-dimensional subspace (low intrinsic dimension, as text embeddings)',
};

function log(message) {
  console.log(`[run] vectors: ${message}`);
}


/** Runs the phase; resolves to true when it completed (the exact scan agreed with the page on every query). */
export async function runVectorsPhase(context, baseUrl, { profile, browserVersion, rows = VECTOR_DEFAULT_ROWS, indexRows = VECTOR_DEFAULT_INDEX_ROWS, data = 'topics', ef }) {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') console.log(`[page] ${message.text()}`);
  });
  page.on('pageerror', (error) => console.error(`[page] uncaught: ${error.stack ?? error.message}`));
  await page.goto(`${baseUrl}vectors.html`);
  await page.waitForFunction(() => typeof window.vectorsBench === 'object');
  const call = (what, timeoutMs, fn, arg) => withTimeout(page.evaluate(fn, arg), timeoutMs, what);
  await call('open', 60_000, (e) => window.vectorsBench.open(e ?? undefined), ef ?? null);
  log(`loading ${rows.toLocaleString('en-US')} vectors of 384 dimensions: ${DATA_NAMES[data]}`);
  const load = await call('load', 300_000 + rows * 5, ([n, c]) => window.vectorsBench.load(n, c), [rows, data]);
  log(`loaded in ${ms(load.ms)}; exact top-10 queries`);
  const exact = await call('exact', 1_800_000, (n) => window.vectorsBench.exact(n), EXACT_QUERIES);
  log(`exact p50 ${ms(p50(exact.times))}; CREATE VECTOR INDEX and its vector_index job over all ${rows.toLocaleString('en-US')} vectors`);
  const sqlIndex = await call('sqlIndex', 3_600_000, (n) => window.vectorsBench.sqlIndex(n), INDEX_QUERIES);
  if (!sqlIndex.plan.includes('Vector index scan')) throw new Error(`the indexed query did not plan a Vector index scan: ${sqlIndex.plan}`);
  log(`index built in ${ms(sqlIndex.buildMs)} (${sqlIndex.job}); p50 ${ms(p50(sqlIndex.times))}, recall@10 ${sqlIndex.recall.toFixed(3)}; building HNSW in the page over ${indexRows.toLocaleString('en-US')} vectors`);
  const index = await call('index', 3_600_000, ([n, q, efs]) => window.vectorsBench.index(n, q, efs), [indexRows, INDEX_QUERIES, EFS]);
  await call('close', 60_000, () => window.vectorsBench.close());
  await page.close();

  const n = Math.min(indexRows, rows).toLocaleString('en-US');
  const table = [
    [`load ${rows.toLocaleString('en-US')} × 384-d vectors, 500-row INSERTs through the worker (IndexedDB)`, ms(load.ms), ''],
    [`exact top-10 ORDER BY cosine_distance LIMIT 10 through the worker, p50 of ${exact.times.length}`, ms(p50(exact.times)), `first ${ms(exact.firstMs)}; top-10 equal to the page's exact search`],
    [`vector_index job: the partition's graph over ${rows.toLocaleString('en-US')} vectors in the worker (${index.params})`, ms(sqlIndex.buildMs), `${(sqlIndex.bytes / 1e6).toFixed(1)} MB; the first query (exact, requesting it) ${ms(sqlIndex.firstMs)}`],
    [`top-10 through the vector index and the worker (vectorIndexEf ${ef ?? "default, 64"}), p50 of ${sqlIndex.times.length}`, ms(p50(sqlIndex.times)), `recall@10 ${sqlIndex.recall.toFixed(3)} against the exact top-10 (target ≥ 0.95, ≤ 5 ms)`],
    [`the same number of rows read by key instead (SELECT id, v … WHERE id IN (10 keys)), p50 of ${sqlIndex.byKeyTimes.length}`, ms(p50(sqlIndex.byKeyTimes)), `without the graph: the round trip, the rows' cold reads and their decoding (SELECT 1 through the worker: ${ms(p50(sqlIndex.roundTrips))})`],
    [`HNSW build in the page, ${n} vectors (${index.params})`, ms(index.buildMs), `${(index.bytes / 1e6).toFixed(1)} MB`],
    [`exact top-10 over the same ${n} in the page (no worker), p50`, ms(p50(index.inPageExactMs)), ''],
    ...index.byEf.map((x) => [`HNSW top-10 in the page, ef ${x.ef}, p50 of ${x.times.length}`, ms(p50(x.times)), `recall@10 ${x.recall.toFixed(3)} (target ≥ 0.95)`]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...table.map((r) => r[i].length), ['figure', 'value', 'note'][i].length));
  const line = (r) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  console.log(`\nvectors, ${DATA_NAMES[data]} (${browserVersion}, ${profile})\n${line(['figure', 'value', 'note'])}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${table.map(line).join('\n')}\n`);
  const results = { environment: { browserVersion, profile, rows, indexRows, data, date: new Date().toISOString() }, load, exact, sqlIndex, index };
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${resultsFile}`);
  return true;
}
