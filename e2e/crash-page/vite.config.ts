import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { sourceResolve } from '../../scripts/source-condition';

// The crash-test page (e2e/crash.e2e.test.ts builds and serves it): the
// worker client over a worker this page owns, so a test can terminate it.
export default defineConfig({
  ...sourceResolve,
  root: fileURLToPath(new URL('.', import.meta.url)),
  logLevel: 'warn',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4000 },
  worker: { format: 'es' },
});
