import { defineConfig } from 'vitest/config';

// Unit and integration tests: beside the code, in Node; scripts/ holds the
// test of the dependency rules (.dependency-cruiser.cjs).
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.{ts,tsx}', 'scripts/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
