// Stryker configuration for one module of scripts/mutate-modules.mjs, named by
// MUTATE_MODULE; scripts/mutate.mjs runs it once per module. Not part of `npm test`.
import { MUTATION_MODULES, MUTATION_THRESHOLD } from './mutate-modules.mjs';

const name = process.env.MUTATE_MODULE;
const module = MUTATION_MODULES[name];
if (!module) {
  throw new Error(`MUTATE_MODULE must name one of: ${Object.keys(MUTATION_MODULES).join(', ')} (got ${JSON.stringify(name)}); run npm run mutate`);
}
// The Vitest config below reads it: only this module's own test files run.
process.env.MUTATE_TESTS = JSON.stringify(module.tests);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'scripts/mutate.vitest.config.ts', related: false },
  mutate: [module.mutate],
  coverageAnalysis: 'perTest',
  // The sandbox needs the packages and the scripts, not the demo, benchmarks or browser tests.
  ignorePatterns: ['/bench', '/demo', '/e2e', '/docs', '/reports', '/test-results', '*.tsbuildinfo'],
  // Stryker rewrites `extends`/`references` of the tsconfig it copies into its sandbox
  // through TypeScript's JS API, which TypeScript 7 (the native compiler) no longer has
  // (ts.parseConfigFileTextToJson). Our tsconfig.json has neither, so there is nothing to
  // rewrite: point Stryker at a file that does not exist and the step is skipped.
  tsconfigFile: 'scripts/no-tsconfig-rewrite.json',
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
  reporters: ['clear-text', 'progress-append-only', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  thresholds: { high: 95, low: MUTATION_THRESHOLD, break: MUTATION_THRESHOLD },
  // A mutant that makes a loop endless is cut off at 1.5 × its tests' usual time plus this.
  timeoutMS: 5_000,
  concurrency: 2,
};
