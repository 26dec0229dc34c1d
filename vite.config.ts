import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { sourceResolve } from './scripts/source-condition';

// The demo app (demo/index.html + demo/src). `vite build` and `vite preview`
// run from the repository root. Workspace packages are TypeScript sources
// reached through node_modules symlinks and their `kalamlite-source` export
// condition, so Vite transforms and bundles them like the demo's own code,
// including the worker entry.
export default defineConfig({
  ...sourceResolve,
  root: fileURLToPath(new URL('./demo', import.meta.url)),
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
  worker: {
    format: 'es',
  },
  preview: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
  },
});
