import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { sourceResolve } from '../scripts/source-condition';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Builds the bench page. The preview server sends COOP/COEP headers so the
 * page is cross-origin isolated: Chromium then gives performance.now() a
 * 5 µs resolution instead of 100 µs, which matters for sub-millisecond figures.
 */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * The scale phase (`run.mjs --scale`, which sets KALAM_BENCH_BUILD=scale and
 * builds the packages first) measures cold starts as an app ships them:
 * scale.html alone, built from the packages' published dist/ rather than
 * their sources, and minified. Built from the sources beside the other
 * pages, the worker came out as dozens of chunks it imports statically, one
 * round of fetches per level (80 ms of a cold start in Chromium), which no
 * app that installs the packages gets: their dist/worker.js imports nothing.
 */
const scaleBuild = process.env.KALAM_BENCH_BUILD === 'scale';

const pages = {
  main: `${root}index.html`,
  scale: `${root}scale.html`,
  liveHeap: `${root}live-heap.html`,
  joins: `${root}joins.html`,
  indexes: `${root}indexes.html`,
  vectors: `${root}vectors.html`,
};

export default defineConfig({
  ...(scaleBuild ? {} : sourceResolve),
  root,
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // Readable function names in `run.mjs --profile` output.
    minify: scaleBuild,
    // index.html: the bench and tiers phases; scale.html: the scale phase (scale-page.ts), a page of its own so
    // that its cold starts load only what one side needs; live-heap.html: the live-heap phase (live-heap-page.ts);
    // joins.html: the join phase (joins-page.ts); indexes.html: the indexes phase (indexes-page.ts); vectors.html: the
    // vectors phase (vectors-page.ts).
    rolldownOptions: {
      input: scaleBuild ? { scale: pages.scale } : pages,
    },
  },
  worker: { format: 'es' },
  server: { headers: isolation },
  preview: { headers: isolation },
});
