// The join phase of bench/run.mjs (`--joins`, issue 14): a five-table equi-join of the TPC-H shape, the engine
// (worker, IndexedDB) beside SQLite-WASM (worker, OPFS SAH pool), in one page (joins.html, joins-page.ts) and one
// run. Prints p50 / p95 per query and side, and the engine / SQLite ratio beside the target (≤ 2×); writes
// bench/results-joins.json. Exits 1 when the two sides disagree on an answer.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const resultsFile = fileURLToPath(new URL('./results-joins.json', import.meta.url));

/** Mirrors JOINS_SIZE / JOINS_QUICK_SIZE in joins.ts (this file cannot import TypeScript). */
const SIZE = { customers: 2_000, orders: 4_000, lineitems: 8_000 };
const QUICK_SIZE = { customers: 500, orders: 1_000, lineitems: 2_000 };
const TARGET_RATIO = 2;
const TIMEOUT_MS = 10 * 60_000;

function log(message) {
  console.log(`[run] joins: ${message}`);
}

const ms = (v) => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : Math.round(v).toString());

export async function runJoinsPhase(context, baseUrl, { quick = false, profile, browserVersion }) {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') console.log(`[page] ${message.text()}`);
  });
  page.on('pageerror', (error) => console.error(`[page] uncaught: ${error.stack ?? error.message}`));
  await page.goto(`${baseUrl}joins.html`);
  await page.waitForFunction(() => typeof window.joinsBench === 'function');
  const config = { size: quick ? QUICK_SIZE : SIZE, warmup: quick ? 2 : 5, iterations: quick ? 5 : 30 };
  log(`${config.size.customers} customers, ${config.size.orders} orders, ${config.size.lineitems} line items; ${config.iterations} timed runs per query and side`);
  let timer;
  const result = await Promise.race([
    page.evaluate((c) => window.joinsBench(c), config),
    new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`the join bench did not finish within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS))),
  ]).finally(() => clearTimeout(timer));
  await page.close();

  const lines = [
    `Join bench — ${browserVersion}, ${profile}; SQLite ${result.sqliteVersion}`,
    `load: engine ${ms(result.sides.engine.loadMs)} ms, sqlite-wasm ${ms(result.sides.sqlite.loadMs)} ms`,
    '',
    '| query | engine p50 (p95) | sqlite-wasm p50 (p95) | engine / sqlite (p50) | target | rows |',
    '|---|---|---|---|---|---|',
  ];
  let met = true;
  for (const name of Object.keys(result.sides.engine.queries)) {
    const e = result.sides.engine.queries[name];
    const s = result.sides.sqlite.queries[name];
    const ratio = e.timing.p50 / s.timing.p50;
    const ok = ratio <= TARGET_RATIO;
    met &&= ok;
    lines.push(
      `| ${name} | ${ms(e.timing.p50)} ms (${ms(e.timing.p95)}) | ${ms(s.timing.p50)} ms (${ms(s.timing.p95)}) | ${ratio.toFixed(2)}× | ≤ ${TARGET_RATIO}×: ${ok ? 'met' : 'missed'} | ${e.rows} |`,
    );
  }
  for (const check of result.checks) lines.push(`check ${check.query}: ${check.ok ? 'ok' : 'FAILED'} — ${check.detail}`);
  console.log(`\n${lines.join('\n')}\n`);
  await writeFile(resultsFile, `${JSON.stringify({ profile, browserVersion, ...result }, null, 2)}\n`);
  log(`wrote ${resultsFile}`);
  return { ok: result.checks.every((c) => c.ok), met };
}
