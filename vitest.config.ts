import { defineConfig } from 'vitest/config';
import { sourceResolve } from './scripts/source-condition';

// Unit and integration tests: beside the code, in Node; scripts/ holds the
// test of the dependency rules (.dependency-cruiser.cjs).
export default defineConfig({
  // The packages from source (their kalamlite-source export condition).
  ...sourceResolve,
  test: {
    include: ['packages/*/src/**/*.test.{ts,tsx}', 'scripts/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    // expect.poll waits for background work (a FLUSH job, a live delivery): 1 s, its default, is too short on a loaded 2-core CI machine.
    expect: { poll: { timeout: 15_000 } },
  },
});
