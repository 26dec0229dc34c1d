#!/usr/bin/env node
// Aggregates over cold rows in Node (aggregates-node.ts): GROUP BY category with COUNT(*) and AVG(score),
// and COUNT(*), with the columnar fold over cold row groups on and off, the row-group cache emptied
// before each run ("cold") or not ("cached"). Bundles the workload with rolldown (the workspace's
// sources, through the `kalamlite-source` condition) and runs it:
//
//   node bench/aggregates-node.mjs                200,000 rows, 7 rounds
//   node bench/aggregates-node.mjs --rows=N --rounds=R
//
// Figures are Node's, on memory storage: for comparing changes, not the browser target.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'kalam-aggregates-'));
const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
try {
  await build({
    cwd: root,
    input: fileURLToPath(new URL('./aggregates-node.ts', import.meta.url)),
    platform: 'node',
    logLevel: 'silent',
    resolve: { conditionNames: ['kalamlite-source', 'import', 'node', 'default'] },
    output: { dir, format: 'esm', entryFileNames: 'aggregates-node.mjs' },
  });
  const env = { ...process.env, ...(arg('rows') ? { KALAM_AGG_ROWS: arg('rows') } : {}), ...(arg('rounds') ? { KALAM_AGG_ROUNDS: arg('rounds') } : {}) };
  const run = spawnSync(process.execPath, ['--max-old-space-size=4096', join(dir, 'aggregates-node.mjs')], { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (run.status !== 0) throw new Error(`the workload failed (exit ${run.status})`);
  const f = JSON.parse(run.stdout.trim().split('\n').at(-1));
  const ms = (x) => (x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`);
  console.log(`aggregates in Node ${process.version}, ${f.rows.toLocaleString('en-US')} cold rows (${f.segments} segments, ${f.rowGroups} row groups; loaded in ${ms(f.loadMs)}), ${f.rounds} rounds, memory storage`);
  for (const q of ['group by', 'count']) {
    for (const cache of ['cold', 'cached']) {
      const c = f.figures[`${q} ${cache} columnar`];
      const r = f.figures[`${q} ${cache} rows`];
      const l = (mode) => f.loads[`${q} ${cache} ${mode}`];
      console.log(`  ${q.padEnd(8)} ${cache.padEnd(6)}: columnar p50 ${ms(c.p50)} (${ms(c.min)}–${ms(c.max)}), rows p50 ${ms(r.p50)} (${ms(r.min)}–${ms(r.max)}): ${(r.p50 / c.p50).toFixed(1)}×; row groups loaded (last run) ${l('columnar')} / ${l('rows')}`);
    }
  }
  console.log(`  row groups folded from columns (row_groups_aggregated_columnar): ${f.rowGroupsAggregatedColumnar.toLocaleString('en-US')}; answers equal: ${f.same}`);
  if (!f.same) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
