#!/usr/bin/env node
// `npm run fuzz`: the SQL fuzz suite (packages/engine/src/api/fuzz.test.ts) with many more cases than `npm test`
// runs. FUZZ_RUNS cases per kind (grammar-based, mutation-based; default 20,000) and FUZZ_SEED (default: from the
// clock, printed, so that a failure can be replayed with FUZZ_SEED=<seed>). Prints each kind's outcome counts.
import { spawnSync } from 'node:child_process';

const runs = process.env.FUZZ_RUNS ?? '20000';
const seed = process.env.FUZZ_SEED ?? String(Date.now() % 2_147_483_647);
console.log(`[fuzz] ${runs} cases per kind, FUZZ_SEED=${seed}`);
const result = spawnSync('npx', ['vitest', 'run', 'packages/engine/src/api/fuzz.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, FUZZ_RUNS: runs, FUZZ_SEED: seed },
  shell: process.platform === 'win32',
});
if (result.status !== 0) console.log(`[fuzz] failed; replay with FUZZ_SEED=${seed} FUZZ_RUNS=${runs} npm run fuzz`);
process.exit(result.status ?? 1);
