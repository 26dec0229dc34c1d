#!/usr/bin/env node
// The live-heap workload in Node (live-heap-node.ts): what a live query holds in the engine and the worker's
// host, in seconds and without Chromium. Bundles the workload with rolldown (the workspace's sources, through
// the `kalamlite-source` condition) into a temporary directory and runs it under `node --expose-gc`:
//
//   node bench/live-heap-node.mjs             heap per live query (second 5,000; all 10,000) and after stopping
//   node bench/live-heap-node.mjs --snapshot  also the growth over the second 5,000 by object type (heap snapshots)
//
// Node's pointers are 8 bytes, Chromium's 4: the browser's figure (`node bench/run.mjs --live-heap`) is about
// 0.6× this one. For comparing changes, not for the target.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kalam-live-heap-'));
const isSnapshot = process.argv.includes('--snapshot');
try {
  await build({
    cwd: root,
    input: fileURLToPath(new URL('./live-heap-node.ts', import.meta.url)),
    platform: 'node',
    logLevel: 'silent',
    resolve: { conditionNames: ['kalamlite-source', 'import', 'node', 'default'] },
    output: { dir, format: 'esm', entryFileNames: 'live-heap-node.mjs' },
  });
  const env = { ...process.env, ...(isSnapshot ? { KALAM_HEAP_SNAPSHOTS: dir } : {}) };
  const run = spawnSync(process.execPath, ['--expose-gc', join(dir, 'live-heap-node.mjs')], { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.status !== 0) throw new Error(`the workload failed (exit ${run.status})`);
  const figures = JSON.parse(run.stdout.trim().split('\n').at(-1));
  console.log(`live-heap in Node ${process.version} (8-byte pointers), ${figures.count.toLocaleString('en-US')} one-row live queries`);
  console.log(`  heap per live query, the second half:   ${figures.perLiveQuerySecondHalf.toLocaleString('en-US')} B`);
  console.log(`  heap per live query, all above baseline: ${figures.perLiveQueryAll.toLocaleString('en-US')} B`);
  console.log(`  after stopping all, above baseline:      ${figures.afterStopAboveBaselineKB.toLocaleString('en-US')} KB`);
  console.log(`  first results ${figures.firstResults}, host subscriptions open ${figures.open}, after stop ${figures.openAfterStop}`);
  if (isSnapshot) {
    const half = byType(join(dir, 'half.heapsnapshot'));
    const all = byType(join(dir, 'all.heapsnapshot'));
    const per = figures.count / 2;
    const rows = [...all].map(([type, [count, size]]) => [type, (count - (half.get(type)?.[0] ?? 0)) / per, (size - (half.get(type)?.[1] ?? 0)) / per]);
    rows.sort((a, b) => b[2] - a[2]);
    console.log('\n  growth per live query over the second half, by object (bytes, count, type {first properties}):');
    for (const [type, count, size] of rows.filter((r) => r[2] >= 4)) console.log(`${size.toFixed(0).padStart(8)} ${count.toFixed(2).padStart(6)}  ${type}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** Self sizes and counts of a heap snapshot's nodes by type, constructor and first property names. */
function byType(file) {
  const snapshot = JSON.parse(readFileSync(file, 'utf8'));
  const { node_fields: nodeFields, node_types: nodeTypes, edge_fields: edgeFields, edge_types: edgeTypes } = snapshot.snapshot.meta;
  const [nodes, edges, strings] = [snapshot.nodes, snapshot.edges, snapshot.strings];
  const n = nodeFields.length;
  const e = edgeFields.length;
  const [typeAt, nameAt, sizeAt, edgeCountAt] = ['type', 'name', 'self_size', 'edge_count'].map((f) => nodeFields.indexOf(f));
  const [edgeTypeAt, edgeNameAt] = ['type', 'name_or_index'].map((f) => edgeFields.indexOf(f));
  const out = new Map();
  let edge = 0;
  for (let i = 0; i < nodes.length; i += n) {
    const type = nodeTypes[0][nodes[i + typeAt]];
    const edgeCount = nodes[i + edgeCountAt];
    let key = type;
    if (type === 'object' || type === 'closure') {
      const names = [];
      for (let k = 0; k < edgeCount && names.length < 8; k++) {
        const at = edge + k * e;
        if (edgeTypes[0][edges[at + edgeTypeAt]] === 'property') names.push(strings[edges[at + edgeNameAt]]);
      }
      key = `${type} ${strings[nodes[i + nameAt]].slice(0, 40)} {${names.filter((x) => x !== '__proto__').join(', ')}}`;
    } else if (type === 'hidden' || type === 'array' || type === 'code') {
      key = `${type} ${strings[nodes[i + nameAt]].slice(0, 40)}`;
    }
    const entry = out.get(key) ?? [0, 0];
    entry[0]++;
    entry[1] += nodes[i + sizeAt];
    out.set(key, entry);
    edge += edgeCount * e;
  }
  return out;
}
