#!/usr/bin/env node
// A one-off experiment behind the hot tier's layout choice (issue 4, item 1):
// raw IndexedDB in headless Chromium, one record per row against pages of
// rows, in the same run. Prints each figure and its ratio to one-record-per-row.
//   node bench/hot-layout.mjs
// Rows look like the engine's: [id, title, done, n, created_at, _seq, _deleted],
// keys are binary (table id, user, pk / page number).
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';

const ROWS = 10_000;
const SINGLES = 200;
const LOOKUPS = 500;
const PAGE_SIZES = [64, 256];
// Rounds measured after a warm-up round; each figure is the median over them (layouts interleave, so load spikes hit all alike).
const ROUNDS = 3;

const page = `<!doctype html><meta charset=utf-8><script type=module>
const ROUNDS = ${ROUNDS}, ROWS = ${ROWS}, SINGLES = ${SINGLES}, LOOKUPS = ${LOOKUPS};
const key = (...parts) => { const out = []; for (const p of parts) { const b = new Uint8Array(8); new DataView(b.buffer).setFloat64(0, p); out.push(...b); } return new Uint8Array(out); };
const row = (i) => [i, 'title ' + i + ' '.repeat(20), i % 3 === 0, i * 7, 1700000000000 + i, BigInt(i) << 22n, false];
const open = (name) => new Promise((res, rej) => { indexedDB.deleteDatabase(name); const r = indexedDB.open(name, 1); r.onupgradeneeded = () => r.result.createObjectStore('user'); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
const done = (tx) => new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = tx.onabort = () => rej(tx.error); });
const req = (r) => new Promise((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
const median = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1];
const p95 = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length * 0.95)];

async function perRow() {
  const db = await open('layout-row');
  let t = performance.now();
  { const tx = db.transaction('user', 'readwrite'); const s = tx.objectStore('user'); for (let i = 0; i < ROWS; i++) s.put(row(i), key(1, 7, i)); await done(tx); }
  const bulk = performance.now() - t;
  const singles = [];
  for (let i = 0; i < SINGLES; i++) { t = performance.now(); const tx = db.transaction('user', 'readwrite'); tx.objectStore('user').put(row(ROWS + i), key(1, 7, ROWS + i)); await done(tx); singles.push(performance.now() - t); }
  t = performance.now();
  { const tx = db.transaction('user'); const all = await req(tx.objectStore('user').getAll()); if (all.length !== ROWS + SINGLES) throw new Error('count'); }
  const load = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < LOOKUPS; i++) { const tx = db.transaction('user'); await req(tx.objectStore('user').get(key(1, 7, (i * 7919) % ROWS))); }
  const lookup = (performance.now() - t) / LOOKUPS;
  db.close();
  return { layout: 'row', bulk, single50: median(singles.slice()), single95: p95(singles.slice()), load, lookup };
}

async function paged(size) {
  const db = await open('layout-page-' + size);
  let t = performance.now();
  { const tx = db.transaction('user', 'readwrite'); const s = tx.objectStore('user'); for (let p = 0; p * size < ROWS; p++) { const rows = []; for (let i = p * size; i < Math.min(ROWS, (p + 1) * size); i++) rows.push(row(i)); s.put(rows, key(1, 7, p)); } await done(tx); }
  const bulk = performance.now() - t;
  const singles = [];
  for (let i = 0; i < SINGLES; i++) {
    t = performance.now();
    const id = ROWS + i, p = Math.floor(id / size);
    const tx = db.transaction('user', 'readwrite'); const s = tx.objectStore('user');
    const rows = (await req(s.get(key(1, 7, p)))) ?? []; rows.push(row(id)); s.put(rows, key(1, 7, p)); await done(tx);
    singles.push(performance.now() - t);
  }
  t = performance.now();
  { const tx = db.transaction('user'); const pages = await req(tx.objectStore('user').getAll()); let n = 0; for (const p of pages) n += p.length; if (n !== ROWS + SINGLES) throw new Error('count ' + n); }
  const load = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < LOOKUPS; i++) { const id = (i * 7919) % ROWS; const tx = db.transaction('user'); const rows = await req(tx.objectStore('user').get(key(1, 7, Math.floor(id / size)))); if (!rows.some((r) => r[0] === id)) throw new Error('lookup'); }
  const lookup = (performance.now() - t) / LOOKUPS;
  db.close();
  return { layout: 'page of ' + size, bulk, single50: median(singles.slice()), single95: p95(singles.slice()), load, lookup };
}

// Pages again, but as the engine would write them: every row is in memory (the hot tier), so a
// single-row insert rewrites its page from memory without reading it first.
async function pagedFromMemory(size) {
  const db = await open('layout-mem-page-' + size);
  const pages = [];
  let t = performance.now();
  { const tx = db.transaction('user', 'readwrite'); const s = tx.objectStore('user'); for (let p = 0; p * size < ROWS; p++) { const rows = []; for (let i = p * size; i < Math.min(ROWS, (p + 1) * size); i++) rows.push(row(i)); pages[p] = rows; s.put(rows, key(1, 7, p)); } await done(tx); }
  const bulk = performance.now() - t;
  const singles = [];
  for (let i = 0; i < SINGLES; i++) {
    t = performance.now();
    const id = ROWS + i, p = Math.floor(id / size);
    const rows = (pages[p] ??= []); rows.push(row(id));
    const tx = db.transaction('user', 'readwrite'); tx.objectStore('user').put(rows, key(1, 7, p)); await done(tx);
    singles.push(performance.now() - t);
  }
  t = performance.now();
  { const tx = db.transaction('user'); const all = await req(tx.objectStore('user').getAll()); let n = 0; for (const p of all) n += p.length; if (n !== ROWS + SINGLES) throw new Error('count ' + n); }
  const load = performance.now() - t;
  db.close();
  return { layout: 'mem page ' + size, bulk, single50: median(singles.slice()), single95: p95(singles.slice()), load, lookup: NaN };
}

// One record per commit (a log, as the OPFS backend keeps): a bulk insert is one record (chunked at
// 1024 rows), a single insert one small record; open reads every record and replays it.
async function commitRecords() {
  const db = await open('layout-commit');
  let seq = 0;
  let t = performance.now();
  { const tx = db.transaction('user', 'readwrite'); const s = tx.objectStore('user'); for (let c = 0; c * 1024 < ROWS; c++) { const rows = []; for (let i = c * 1024; i < Math.min(ROWS, (c + 1) * 1024); i++) rows.push(row(i)); s.put(rows, key(seq++)); } await done(tx); }
  const bulk = performance.now() - t;
  const singles = [];
  for (let i = 0; i < SINGLES; i++) { t = performance.now(); const tx = db.transaction('user', 'readwrite'); tx.objectStore('user').put([row(ROWS + i)], key(seq++)); await done(tx); singles.push(performance.now() - t); }
  t = performance.now();
  { const tx = db.transaction('user'); const all = await req(tx.objectStore('user').getAll()); const m = new Map(); for (const rec of all) for (const r of rec) m.set(r[0], r); if (m.size !== ROWS + SINGLES) throw new Error('count ' + m.size); }
  const load = performance.now() - t;
  db.close();
  return { layout: 'commit log', bulk, single50: median(singles.slice()), single95: p95(singles.slice()), load, lookup: NaN };
}

const out = [];
for (let round = 0; round < ROUNDS + 1; round++) {
  out.push(await perRow());
  for (const s of ${JSON.stringify(PAGE_SIZES)}) out.push(await paged(s));
  for (const s of ${JSON.stringify(PAGE_SIZES)}) out.push(await pagedFromMemory(s));
  out.push(await commitRecords());
}
window.results = out.slice(out.length / (ROUNDS + 1)); // the first round warms up
</script>`;

const server = createServer((req, res) => { res.setHeader('content-type', 'text/html'); res.end(page); });
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
try {
  const tab = await browser.newPage();
  tab.on('pageerror', (e) => { console.error(e); process.exitCode = 1; });
  await tab.goto(`http://127.0.0.1:${server.address().port}/`);
  const results = await tab.waitForFunction(() => window.results, null, { timeout: 300_000, polling: 200 }).then((h) => h.jsonValue());
  const byLayout = new Map();
  for (const r of results) byLayout.set(r.layout, [...(byLayout.get(r.layout) ?? []), r]);
  const med = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
  const medians = [...byLayout].map(([layout, rs]) => ({ layout, ...Object.fromEntries(['bulk', 'single50', 'single95', 'load', 'lookup'].map((k) => [k, med(rs.map((r) => r[k]))])) }));
  const base = medians[0];
  const f = (v, b) => `${v.toFixed(2)} ms (${(v / b).toFixed(2)}×)`;
  console.log(`hot-tier layout, raw IndexedDB, ${ROWS} rows, ${SINGLES} single inserts, ${LOOKUPS} lookups; ratio to one record per row`);
  for (const r of medians) {
    console.log(`${r.layout.padEnd(12)} bulk ${f(r.bulk, base.bulk)} | single p50 ${f(r.single50, base.single50)} p95 ${f(r.single95, base.single95)} | load all ${f(r.load, base.load)} | pk get ${f(r.lookup, base.lookup)}`);
  }
} finally {
  await browser.close();
  server.close();
}
