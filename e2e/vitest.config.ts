import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// End-to-end tests: the built demo, served by `vite preview`, driven in a
// real Chromium. global-setup.ts builds and serves it once for all files.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['e2e/**/*.e2e.test.ts'],
    environment: 'node',
    globalSetup: ['e2e/global-setup.ts', 'e2e/crash-page/setup.ts'],
    testTimeout: 45_000,
    hookTimeout: 60_000,
    // Each file launches its own Chromium; a few at once is plenty.
    maxWorkers: 3,
  },
});
