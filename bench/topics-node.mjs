#!/usr/bin/env node
// The topics workload in Node (topics-node.ts): what routing row changes into topics costs a write, CONSUME from a
// long log, and opening a database whose topic holds 100,000 messages. Bundles the workload with rolldown (the
// workspace's sources, through the `kalamlite-source` condition) into a temporary directory and runs it.
//
//   node bench/topics-node.mjs
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kalam-topics-'));
try {
  await build({
    cwd: root,
    input: fileURLToPath(new URL('./topics-node.ts', import.meta.url)),
    platform: 'node',
    logLevel: 'silent',
    resolve: { conditionNames: ['kalamlite-source', 'import', 'node', 'default'] },
    output: { dir, format: 'esm', entryFileNames: 'topics-node.mjs' },
  });
  const run = spawnSync(process.execPath, [join(dir, 'topics-node.mjs')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.status !== 0) throw new Error(`the workload failed (exit ${run.status})`);
  const f = JSON.parse(run.stdout.trim().split('\n').at(-1));
  const fmt = (n, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  console.log(`topics in Node ${process.version}, memory storage (engine CPU only)`);
  console.log('                                  no source   1 source   3 sources (3 topics, 1 WHERE)');
  console.log(`  single-row INSERT, µs each     ${fmt(f.none.singleUs, 1).padStart(9)} ${fmt(f.one.singleUs, 1).padStart(10)} ${fmt(f.three.singleUs, 1).padStart(11)}`);
  console.log(`  1,000-row INSERT, rows/s       ${fmt(f.none.bulkRowsPerS).padStart(9)} ${fmt(f.one.bulkRowsPerS).padStart(10)} ${fmt(f.three.bulkRowsPerS).padStart(11)}`);
  console.log(`  CONSUME LIMIT 100 from a group in a 100,000-message topic, p50: ${fmt(f.consumeMs, 2)} ms`);
  console.log(`  open with 100,000 retained messages: ${fmt(f.openMs)} ms (the same database without the topic: ${fmt(f.openNoTopicMs)} ms)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
