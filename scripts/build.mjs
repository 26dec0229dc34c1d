#!/usr/bin/env node
// Builds the three packages' dist/ for publishing (npm test runs it before
// the packaging checks and the stock-app e2e test; the workspace itself —
// demo, Vitest, the other e2e tests — uses the sources through the
// `kalamlite-source` export condition and needs no build).
//
//   node scripts/build.mjs
//
// JavaScript: rolldown (the bundler inside Vite 8), ESM only.
// - @kalamlite/engine: dist/index.js (+ the lazily loaded Arrow codecs as
//   chunks) and dist/cli.js (bin `kalamlite`); dependencies stay imports.
//   Also dist/client.js, not exported: see ENGINE_ENTRIES.
// - @kalamlite/worker: dist/index.js, the page-side client (imports
//   @kalamlite/engine and comlink), and the worker it starts with
//   `new Worker(new URL('./worker.js', import.meta.url))`: dist/worker.js,
//   prebuilt and self-contained (engine, comlink, idb), minified, importing
//   nothing statically — so an app's bundler, whatever its worker format
//   (Vite's default is iife), bundles it as one file — plus files the worker
//   loads by URL (files the bundler copies as they are): dist/worker-sql.js,
//   node-sql-parser's grammar (slimmed), loaded as a database opens;
//   dist/worker-arrow.js, apache-arrow and the engine's Arrow codecs,
//   loaded on first use; and dist/worker-<module>.js, each of the engine's
//   lazily loaded modules (`lazyModule(…, () => import('./x'))`: the OPFS
//   backend, ALTER TABLE, migrations, …), split by rolldown and made
//   bundler-proof by scripts/lazy-chunks.mjs.
// - @kalamlite/react: dist/index.js.
// Declarations: `tsc` (TypeScript 7) per package, emitted beside the
// JavaScript, then relative specifiers given their `.js` so the .d.ts
// files resolve under Node's ESM rules too.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';

import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';
import { parseAst } from 'rolldown/parseAst';
import { LAZY_CHUNK_NAMES, lazyChunksPlugin } from './lazy-chunks.mjs';
import { slimNodeSqlParserPlugin } from './node-sql-parser-slim.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = (name) => join(root, 'packages', name);
const ENGINE = pkg('engine');
const WORKER = pkg('worker');
const REACT = pkg('react-hooks');
/** What browsers the prebuilt worker runs in (OPFS sync access handles: Chrome 108+, Firefox 111+, Safari 16.4+). */
const TARGET = 'es2022';
/** The workspace's own sources, for the prebuilt worker. */
const SOURCE_CONDITIONS = ['kalamlite-source', 'browser', 'import', 'module', 'default'];

const isBare = (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0') && !/^[A-Za-z]:[\\/]/.test(id);

function step(message) {
  console.log(`[build] ${message}`);
}

/** One rolldown build; returns its output chunks. */
async function bundle(input, output, options = {}) {
  const build = await rolldown({ input, platform: 'browser', transform: { target: TARGET }, logLevel: 'warn', ...options });
  try {
    const { output: chunks } = await build.write({ format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js', ...output });
    return chunks.filter((c) => c.type === 'chunk');
  } finally {
    await build.close();
  }
}

/** A package's library build: its entries, every bare import left to the app's bundler (into `outDir`, its dist/ by default). */
function library(dir, entries, plugins = [], outDir = join(dir, 'dist')) {
  const input = Object.fromEntries(entries.map((e) => [e, join(dir, 'src', `${e}.ts`)]));
  return bundle(input, { dir: outDir }, { external: isBare, plugins });
}

/**
 * The engine's entries: index (the package), cli (its bin) and client, not
 * exported, which gathers what @kalamlite/worker's page-side client imports
 * (src/client.ts) so that those modules land in chunks that import nothing
 * of the database: an app's page then takes only them
 * (scripts/client-graph.test.ts).
 */
const ENGINE_ENTRIES = ['index', 'cli', 'client'];

/** Replaces `from` with `to` in the module at `file` (exactly `count` times), or fails the build. */
function replaceIn(file, from, to, count, then = (code) => code) {
  return {
    name: `kalamlite:replace:${relative(root, file)}`,
    transform(code, id) {
      if (resolve(id) !== file) return null;
      const found = code.split(from).length - 1;
      if (found !== count) throw new Error(`${relative(root, file)}: expected ${count} × ${from}, found ${found}`);
      return { code: then(code.split(from).join(to)) };
    },
  };
}

/** The lazily loaded Arrow codecs: api/arrow.ts (queryArrow) and storage/cold/segment.ts (with row-group.ts, the cold tier). */
const ARROW_LAZY = [join(ENGINE, 'src/api/arrow.ts'), join(ENGINE, 'src/storage/cold/segment.ts')];
/** The engine modules worker-arrow.js may hold: the codecs and their Arrow type tables. */
const ARROW_ALLOWED = new Set([
  ...ARROW_LAZY,
  join(ENGINE, 'src/storage/cold/row-group.ts'),
  join(ENGINE, 'src/storage/cold/arrow-types.ts'),
  join(ENGINE, 'src/storage/cold/ipc-batch.ts'),
  join(ENGINE, 'src/api/arrow-types.ts'),
]);
/**
 * core/values.ts, which the segment codec calls (coerce, compareValues,
 * freezeJson), is not copied into worker-arrow.js: its JSON seal (a
 * WeakSet) and KalamError must be the worker's own, so the worker hands its
 * module over on this global before it loads the file, and worker-arrow.js
 * reads it from there.
 */
const CORE_VALUES = join(ENGINE, 'src/core/values.ts');
const VALUES_GLOBAL = "globalThis[Symbol.for('kalamlite.core-values')]";
/** The names of core/values.ts the codecs import (rolldown fails the build on one missing here). */
const VALUES_USED = ['coerce', 'compareValues', 'freezeJson'];
/** How the prebuilt worker loads worker-arrow.js: by URL, so a bundler copies the file rather than splitting code. */
const LOAD_WORKER_ARROW = `(${VALUES_GLOBAL} = __kalamliteCoreValues, import(/* @vite-ignore */ new URL('./worker-arrow.js', import.meta.url).href))`;
/** How the prebuilt worker loads worker-sql.js (as the engine opens: sql/parser-loader.ts). */
const LOAD_WORKER_SQL = "import(/* @vite-ignore */ new URL('./worker-sql.js', import.meta.url).href)";
/** Prepends the import LOAD_WORKER_ARROW hands over. */
const withCoreValues = (relativePath) => (code) => `import * as __kalamliteCoreValues from ${JSON.stringify(relativePath)};\n${code}`;

async function buildWorkerBundles() {
  const dist = join(WORKER, 'dist');
  const sourceResolve = { conditionNames: SOURCE_CONDITIONS };
  // The worker: every import bundled, both Arrow loaders pointed at worker-arrow.js, every other
  // `import()` of the engine's own modules a lazily loaded chunk beside it (scripts/lazy-chunks.mjs).
  const lazy = lazyChunksPlugin();
  const [worker, ...chunks] = await bundle(
    { worker: join(WORKER, 'src/worker.ts') },
    // Every module worker.js imports statically stays in it ($initial): rolldown would otherwise put modules it shares with a chunk in a common chunk of their own.
    { dir: dist, minify: true, chunkFileNames: LAZY_CHUNK_NAMES, codeSplitting: { groups: [{ name: 'worker', tags: ['$initial'] }] } },
    {
      resolve: sourceResolve,
      plugins: [
        replaceIn(join(ENGINE, 'src/sql/parser-loader.ts'), "import('node-sql-parser/build/postgresql.js')", LOAD_WORKER_SQL, 1),
        replaceIn(join(ENGINE, 'src/api/arrow-loader.ts'), "import('./arrow')", LOAD_WORKER_ARROW, 1, withCoreValues('../core/values')),
        replaceIn(join(ENGINE, 'src/storage/cold/segment-loader.ts'), "() => import('./segment')", `() => ${LOAD_WORKER_ARROW}`, 1, withCoreValues('../../core/values')),
        lazy,
      ],
    },
  );
  const sideFiles = ['worker-sql.js', 'worker-arrow.js'];
  if (worker.fileName !== 'worker.js' || chunks.some((c) => !c.isDynamicEntry || !lazy.files.has(c.fileName) || sideFiles.includes(c.fileName))) {
    throw new Error(`the worker bundle must be worker.js and its lazily loaded chunks, got ${[worker, ...chunks].map((c) => c.fileName).join(', ')}`);
  }
  for (const chunk of [worker, ...chunks]) {
    const leaked = chunk.moduleIds.filter((id) => id.includes('apache-arrow') || id.includes('node-sql-parser') || ARROW_LAZY.includes(resolve(id)));
    if (leaked.length > 0) throw new Error(`${chunk.fileName} holds what worker-arrow.js or worker-sql.js should: ${leaked.join(', ')}`);
  }
  // Each chunk's size is watched (npm run packages): a new one needs its entry in .size-limit.json.
  const limits = JSON.parse(readFileSync(join(root, '.size-limit.json'), 'utf8'));
  const limited = new Set(limits.flatMap((l) => [l.path].flat()).map((p) => resolve(root, p)));
  const unlimited = chunks.filter((c) => !limited.has(join(dist, c.fileName)));
  if (unlimited.length > 0) throw new Error(`no size limit for ${unlimited.map((c) => c.fileName).join(', ')}: add an entry to .size-limit.json`);
  // worker-sql.js: node-sql-parser's PostgreSQL grammar, slimmed to what the engine calls (it imports nothing).
  const [sqlParser, ...sqlMore] = await bundle(
    { 'worker-sql': 'node-sql-parser/build/postgresql.js' },
    { dir: dist, minify: true, codeSplitting: false },
    { cwd: ENGINE, resolve: sourceResolve, plugins: [slimNodeSqlParserPlugin(parseAst)] },
  );
  if (sqlMore.length > 0 || sqlParser.moduleIds.some((id) => resolve(id).startsWith(join(ENGINE, 'src')))) throw new Error('worker-sql.js must be node-sql-parser alone, in one file');
  // worker-arrow.js: the codecs and apache-arrow; core/values.ts is the worker's (VALUES_GLOBAL).
  const entry = '\0kalamlite-worker-arrow';
  const valuesStandIn = '\0kalamlite-core-values';
  const [arrow, ...more] = await bundle(
    { 'worker-arrow': entry },
    { dir: dist, minify: true, codeSplitting: false },
    {
      resolve: sourceResolve,
      plugins: [
        {
          name: 'kalamlite:worker-arrow-entry',
          async resolveId(id, importer) {
            if (id === entry || id === valuesStandIn) return id;
            if (importer === undefined || !id.startsWith('.')) return null;
            const resolved = await this.resolve(id, importer, { skipSelf: true });
            return resolved !== null && resolve(resolved.id) === CORE_VALUES ? valuesStandIn : null;
          },
          load(id) {
            if (id === entry) {
              return `export { resultToArrow, encodeArrow, decodeArrow } from ${JSON.stringify(ARROW_LAZY[0])};\nexport * from ${JSON.stringify(ARROW_LAZY[1])};\n`;
            }
            if (id === valuesStandIn) {
              return (
                `const values = ${VALUES_GLOBAL};\n` +
                `if (values === undefined) throw new Error('worker-arrow.js is loaded by the kalamlite worker, which hands it the engine\\'s values module first');\n` +
                VALUES_USED.map((name) => `export const ${name} = values.${name};`).join('\n')
              );
            }
            return null;
          },
        },
      ],
    },
  );
  if (more.length > 0) throw new Error('worker-arrow.js split into several files: it must be one');
  const engineModules = arrow.moduleIds.filter((id) => resolve(id).startsWith(join(ENGINE, 'src')));
  const stray = engineModules.filter((id) => !ARROW_ALLOWED.has(resolve(id)));
  if (stray.length > 0) throw new Error(`worker-arrow.js must hold no engine module but the Arrow codecs (it is loaded beside the worker, not sharing its modules): ${stray.join(', ')}`);
}

/** Declarations for one package: tsc, then `.js` on relative specifiers. */
function declarations(dir) {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`tsc failed for ${relative(root, dir)}`);
  const dist = join(dir, 'dist');
  for (const file of walk(dist).filter((f) => f.endsWith('.d.ts'))) {
    const text = readFileSync(file, 'utf8');
    const fixed = text.replace(/((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]*)\2/g, (match, lead, quote, spec) => {
      if (/\.js$/.test(spec)) return match;
      const base = resolve(dirname(file), spec);
      if (existsSync(`${base}.d.ts`)) return `${lead}${quote}${spec}.js${quote}`;
      if (existsSync(join(base, 'index.d.ts'))) return `${lead}${quote}${spec}/index.js${quote}`;
      throw new Error(`${relative(root, file)}: cannot resolve ${spec}`);
    });
    if (fixed !== text) writeFileSync(file, fixed);
  }
}

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

async function main() {
  const started = Date.now();
  for (const dir of [ENGINE, WORKER, REACT]) rmSync(join(dir, 'dist'), { recursive: true, force: true });

  step('@kalamlite/engine');
  await library(ENGINE, ENGINE_ENTRIES);
  declarations(ENGINE);
  const cli = join(ENGINE, 'dist/cli.js');
  const cliText = readFileSync(cli, 'utf8');
  if (!cliText.startsWith('#!')) writeFileSync(cli, `#!/usr/bin/env node\n${cliText}`);

  step('@kalamlite/worker');
  // The client names the prebuilt worker beside it (src/bundled-worker.ts names the source entry).
  await library(WORKER, ['index'], [replaceIn(join(WORKER, 'src/bundled-worker.ts'), "new URL('./worker.ts', import.meta.url)", "new URL('./worker.js', import.meta.url)", 2)]);
  await buildWorkerBundles();
  declarations(WORKER);

  step('@kalamlite/react');
  await library(REACT, ['index']);
  declarations(REACT);

  step(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// Exported for tests that build a part; run as a script, builds everything.
export { buildWorkerBundles, declarations, library, ENGINE, ENGINE_ENTRIES, WORKER };
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`[build] error: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}
