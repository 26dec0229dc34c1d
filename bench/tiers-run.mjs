// The tiers phase of bench/run.mjs: runs window.runTiers in the bench page,
// prints its table and writes bench/results-tiers.json. Resolves to whether
// every check passed (targets are reported, not enforced: a missed target is
// a finding, a failed check is a wrong answer).
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { formatTiersTable, tiersTargets } from './tiers-table.mjs';

const resultsFile = fileURLToPath(new URL('./results-tiers.json', import.meta.url));

/** Mirrors TIERS_QUICK in tiers.ts (run.mjs cannot import TypeScript). */
const TIERS_QUICK = { bulkRows: 2_000, largeRows: 10_000, singleInserts: 50, lookups: 100, queryIterations: 5, groupIterations: 2, coldOpens: 2, warmup: 3, queryWarmup: 1 };

/** `profile` says where the browser keeps its storage (recorded in the results and printed). */
export async function runTiersPhase(page, { quick, timeoutMs, profile }) {
  console.log('[run] tiers: engine/idb and engine/opfs beside raw IndexedDB and Dexie');
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the tiers bench did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  const results = await Promise.race([page.evaluate((config) => window.runTiers(config), quick ? TIERS_QUICK : {}), timeout]).finally(() =>
    clearTimeout(timer),
  );
  results.profile = profile;
  results.targets = tiersTargets(results);
  await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n${formatTiersTable(results)}\n`);
  console.log(`[run] wrote ${resultsFile}`);
  return results.checks.every((check) => check.ok);
}
