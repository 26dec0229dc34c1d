import { defineConfig } from 'vitest/config';

// The Vitest config of a mutation run (scripts/stryker.config.mjs): the test
// files of the one module under test, named in MUTATE_TESTS.
const tests: string[] = JSON.parse(process.env.MUTATE_TESTS ?? '[]');
if (tests.length === 0) throw new Error('MUTATE_TESTS names no test file: run npm run mutate');

export default defineConfig({
  test: {
    include: tests,
    environment: 'node',
    // Property tests that read it run a fraction of their cases once per mutant (see storage/keys.test.ts).
    env: { PROPERTY_RUNS_SCALE: '0.1' },
    testTimeout: 20_000,
  },
});
