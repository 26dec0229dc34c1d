#!/usr/bin/env node
// npm run mutate [-- module …]: mutation testing (Stryker with its Vitest
// runner) of the modules in scripts/mutate-modules.mjs, one Stryker run per
// module with only that module's own test files. Prints the score of each
// and fails if any is below the threshold. Reports: reports/mutation/<module>.{html,json}.
// Not part of `npm test` (it takes minutes).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MUTATION_MODULES, MUTATION_THRESHOLD } from './mutate-modules.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const asked = process.argv.slice(2);
for (const name of asked) {
  if (!MUTATION_MODULES[name]) {
    console.error(`[mutate] unknown module '${name}': use ${Object.keys(MUTATION_MODULES).join(', ')}`);
    process.exit(2);
  }
}
const names = asked.length > 0 ? asked : Object.keys(MUTATION_MODULES);
const stryker = join(root, 'node_modules/@stryker-mutator/core/bin/stryker.js');

/** Stryker's mutation score: killed and timed-out mutants over every mutant the tests could have killed. */
function score(report) {
  const counts = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, Ignored: 0, CompileError: 0, RuntimeError: 0 };
  for (const file of Object.values(report.files)) for (const m of file.mutants) counts[m.status] = (counts[m.status] ?? 0) + 1;
  const detected = counts.Killed + counts.Timeout;
  const valid = detected + counts.Survived + counts.NoCoverage;
  return { ...counts, score: valid === 0 ? 100 : (100 * detected) / valid };
}

const results = [];
const started = Date.now();
for (const name of names) {
  const { mutate, tests } = MUTATION_MODULES[name];
  console.log(`\n[mutate] ${name}: ${mutate} against ${tests.join(', ')}`);
  const reportFile = join(root, `reports/mutation/${name}.json`);
  rmSync(reportFile, { force: true });
  const t0 = Date.now();
  const run = spawnSync(process.execPath, [stryker, 'run', 'scripts/stryker.config.mjs'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, MUTATE_MODULE: name },
  });
  const seconds = (Date.now() - t0) / 1000;
  if (!existsSync(reportFile)) {
    results.push({ name, mutate, error: `Stryker exited with ${run.status ?? run.signal} before writing a report`, seconds });
    continue;
  }
  results.push({ name, mutate, seconds, ...score(JSON.parse(readFileSync(reportFile, 'utf8'))) });
}

console.log(`\n[mutate] mutation scores (threshold ${MUTATION_THRESHOLD} %), ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
let failed = false;
for (const r of results) {
  if (r.error) {
    failed = true;
    console.log(`  ${r.name.padEnd(12)} ${r.mutate.padEnd(42)} ERROR: ${r.error}`);
    continue;
  }
  const ok = r.score >= MUTATION_THRESHOLD;
  failed ||= !ok;
  console.log(
    `  ${r.name.padEnd(12)} ${r.mutate.padEnd(42)} ${r.score.toFixed(2).padStart(6)} %  ` +
      `killed ${r.Killed}, timeout ${r.Timeout}, survived ${r.Survived}, no coverage ${r.NoCoverage}, ignored ${r.Ignored}  (${r.seconds.toFixed(0)} s)${ok ? '' : '  BELOW THRESHOLD'}`,
  );
}
process.exit(failed ? 1 : 0);
