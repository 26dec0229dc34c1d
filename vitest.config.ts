import { defineConfig } from 'vitest/config';

// Unit and integration tests: beside the code, in Node.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.{ts,tsx}'],
    environment: 'node',
    testTimeout: 20_000,
  },
});
