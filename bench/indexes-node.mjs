#!/usr/bin/env node
// Secondary indexes in Node (indexes-node.ts): insert cost with 3 indexes against none, and a filtered,
// ordered LIMIT 50 through an index against the same table without it and Dexie (over fake-indexeddb).
// Bundles the workload with rolldown (the workspace's sources, through the `kalamlite-source` condition)
// and runs it:
//
//   node bench/indexes-node.mjs              20,000 rows (hot tier)
//   node bench/indexes-node.mjs --rows=N     N rows
//   node bench/indexes-node.mjs --cold       the rows flushed and compacted before the queries (cold tier)
//
// Figures are Node's, on memory storage: for comparing changes, not the browser target.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kalam-indexes-'));
const rowsArg = process.argv.find((a) => a.startsWith('--rows='));
const cold = process.argv.includes('--cold');
try {
  await build({
    cwd: root,
    input: fileURLToPath(new URL('./indexes-node.ts', import.meta.url)),
    platform: 'node',
    logLevel: 'silent',
    resolve: { conditionNames: ['kalamlite-source', 'import', 'node', 'default'] },
    output: { dir, format: 'esm', entryFileNames: 'indexes-node.mjs' },
  });
  const env = { ...process.env, ...(rowsArg ? { KALAM_INDEX_ROWS: rowsArg.slice('--rows='.length) } : {}), ...(cold ? { KALAM_INDEX_COLD: '1' } : {}) };
  const run = spawnSync(process.execPath, [join(dir, 'indexes-node.mjs')], { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.status !== 0) throw new Error(`the workload failed (exit ${run.status})`);
  const f = JSON.parse(run.stdout.trim().split('\n').at(-1));
  const ms = (x) => `${x.toFixed(3)} ms`;
  const where = f.cold ? `flushed and compacted to the cold tier before the queries (${ms(f.flushMs)}; ${f.coldReads} index reads prepared through segment index records)` : 'in the hot tier';
  console.log(`secondary indexes in Node ${process.version}, ${f.rows.toLocaleString('en-US')} rows ${where} (memory storage)`);
  console.log(`  bulk insert, 1,000-row INSERTs: no index ${ms(f.insertPlainMs)}, 3 indexes ${ms(f.insertIndexedMs)} (${(f.insertIndexedMs / f.insertPlainMs).toFixed(2)}×)`);
  console.log(`  single-row INSERT p50: no index ${ms(f.singlePlainP50)}, 3 indexes ${ms(f.singleIndexedP50)} (${(f.singleIndexedP50 / f.singlePlainP50).toFixed(2)}×)`);
  console.log(`  WHERE score BETWEEN … ORDER BY score LIMIT 50, p50: index ${ms(f.queryIndexedP50)}, no index ${ms(f.queryPlainP50)}, Dexie where().between().limit() ${ms(f.queryDexieP50)}`);
  console.log(`  plan: ${f.explain}`);
  console.log(`  hot index entries: ${f.hotIndexEntries.toLocaleString('en-US')} (3 indexes)`);
  console.log(`  answers equal (index, no index, Dexie): ${f.same}`);
  if (!f.same) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
