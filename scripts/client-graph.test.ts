// What an app page loads for the worker client: `createClient` from
// @kalamlite/worker bundled as an app bundles it (tree-shaken, minified,
// from the workspace sources), and the engine modules that end up in what
// the page loads at once (not behind a dynamic import). The client only
// validates options and values and talks to the worker: the SQL parser,
// the planner, the storage tiers and the jobs belong in the worker.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';
import { afterAll, describe, expect, it } from 'vitest';
import { SOURCE_CONDITION } from './source-condition';

const root = fileURLToPath(new URL('..', import.meta.url));
// Inside the repository, so the app's import resolves to the workspace packages.
const dir = mkdtempSync(join(root, 'node_modules', '.kalamlite-client-graph-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the worker client in an app page', () => {
  it('loads none of the parser, planner, storage tiers or jobs at once, and stays small', async () => {
    const entry = join(dir, 'app.js');
    writeFileSync(entry, "import { createClient } from '@kalamlite/worker';\nglobalThis.open = () => createClient({ name: 'app' });\n");
    const bundle = await rolldown({ input: entry, cwd: root, platform: 'browser', logLevel: 'silent', resolve: { conditionNames: [SOURCE_CONDITION, 'import', 'browser', 'default'] } });
    try {
      const { output } = await bundle.generate({ format: 'es', minify: true });
      const chunks = new Map(output.filter((o) => o.type === 'chunk').map((c) => [c.fileName, c]));
      // The page's initial graph: the entry and what it imports statically.
      const initial = new Set<string>();
      const external: string[] = [];
      const visit = (name: string) => {
        if (initial.has(name)) return;
        const chunk = chunks.get(name);
        if (!chunk) return void external.push(name);
        initial.add(name);
        for (const i of chunk.imports) visit(i);
      };
      visit([...chunks.values()].find((c) => c.isEntry)!.fileName);
      const engineModules = new Set<string>();
      let bytes = 0;
      for (const name of initial) {
        const c = chunks.get(name)!;
        bytes += c.code.length;
        for (const [id, m] of Object.entries(c.modules)) if (m.renderedLength > 0 && id.includes('packages/engine/src/')) engineModules.add(relative(join(root, 'packages/engine/src'), id));
      }
      const forbidden = [...engineModules].filter((m) => /^(sql\/(parse|lexer|convert|cursor|rewrite)|plan\/|jobs\/|live\/|storage\/(cold\/cold-tier|hot-tier|partition-view)|execute\/engine)/.test(m));
      expect(external).toEqual([]);
      expect(forbidden).toEqual([]);
      expect(bytes).toBeLessThan(120_000);
    } finally {
      await bundle.close();
    }
  });
});

// The same, from the packages as published (scripts/build.mjs's library builds, into a folder of
// their own): the page must take from the engine's dist/ only what its `client` entry reaches. Were
// the client's option checks in the chunk that holds openDatabase, the app's bundler would keep that
// chunk's top-level code (its lazy loaders) and the chunks it imports: measured, 16 chunks and 106 KB
// instead of one of 59 KB.
describe('the worker client in an app page, from the published packages', () => {
  it('takes of the engine only what its client entry reaches, in one chunk', async () => {
    // @ts-expect-error: a plain .mjs build script, without types
    const { library, ENGINE, ENGINE_ENTRIES, WORKER } = await import('./build.mjs');
    const modules = join(dir, 'published', 'node_modules', '@kalamlite');
    const engineOut: { fileName: string; imports: string[] }[] = await library(ENGINE, ENGINE_ENTRIES, [], join(modules, 'engine', 'dist'));
    await library(WORKER, ['index'], [], join(modules, 'worker', 'dist'));
    for (const [from, name] of [[ENGINE, 'engine'], [WORKER, 'worker']]) writeFileSync(join(modules, name, 'package.json'), readFileSync(join(from, 'package.json')));
    // What the client entry reaches in the engine's dist/.
    const byName = new Map(engineOut.map((c) => [c.fileName, c]));
    const reached = new Set<string>();
    const reach = (name: string) => {
      if (reached.has(name) || !byName.has(name)) return;
      reached.add(name);
      for (const i of byName.get(name)!.imports) reach(i);
    };
    reach('client.js');
    expect(reached.size).toBeGreaterThan(1);

    const entry = join(dir, 'published', 'app.js');
    writeFileSync(entry, "import { createClient } from '@kalamlite/worker';\nglobalThis.open = () => createClient({ name: 'app' });\n");
    const bundle = await rolldown({ input: entry, cwd: root, platform: 'browser', logLevel: 'silent', resolve: { conditionNames: ['import', 'browser', 'default'] } });
    try {
      const { output } = await bundle.generate({ format: 'es', minify: true });
      const chunks = output.filter((o) => o.type === 'chunk');
      const entryChunk = chunks.find((c) => c.isEntry)!;
      const engineDist = join(modules, 'engine', 'dist') + '/';
      const fromEngine = Object.entries(entryChunk.modules).filter(([id, m]) => m.renderedLength > 0 && id.startsWith(engineDist)).map(([id]) => relative(engineDist, id));
      expect(fromEngine.length).toBeGreaterThan(0);
      expect(fromEngine.filter((m) => !reached.has(m))).toEqual([]);
      // Everything at once is the entry: no chunk it imports statically, and only the Arrow codecs behind an import().
      expect(entryChunk.imports).toEqual([]);
      expect(chunks.length).toBeLessThanOrEqual(2);
      expect(entryChunk.code.length).toBeLessThan(70_000);
    } finally {
      await bundle.close();
    }
  });
});
