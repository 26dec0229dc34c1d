// The prebuilt worker's lazily loaded chunks (scripts/lazy-chunks.mjs): a
// small project bundled as scripts/build.mjs bundles the worker, run in
// Node from its output folder as a worker runs from an app's assets.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { rolldown } from 'rolldown';
// @ts-expect-error: a plain .mjs build helper, without types
import { LAZY_CHUNK_NAMES, lazyChunksPlugin } from './lazy-chunks.mjs';

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** Bundles `files` (name → source; the entry is worker.js) with the plugin into a temp folder; the folder. */
async function build(files: Record<string, string>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'kalamlite-lazy-chunks-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const bundle = await rolldown({ input: { worker: join(dir, 'worker.js') }, logLevel: 'silent', plugins: [lazyChunksPlugin()] });
  try {
    await bundle.write({ dir: join(dir, 'dist'), format: 'es', minify: true, chunkFileNames: LAZY_CHUNK_NAMES, codeSplitting: { groups: [{ name: 'worker', tags: ['$initial'] }] } });
  } finally {
    await bundle.close();
  }
  return join(dir, 'dist');
}

/** Runs dist/worker.js in a fresh Node; what it leaves in globalThis.result (awaited). */
function run(dist: string): unknown {
  const script = `await import(${JSON.stringify(pathToFileURL(join(dist, 'worker.js')).href)}); process.stdout.write(JSON.stringify(await globalThis.result));`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout);
}

const SHARED = `
  export class Failure extends Error {}
  export const seal = new WeakSet();
  export function label(x) { return 'seen ' + x; }
`;

describe('lazily loaded chunks of the worker', () => {
  it('load beside worker.js by URL, sharing its modules (one class, one WeakSet), and worker.js exports nothing', async () => {
    const dist = await build({
      'shared.js': SHARED,
      'worker.js': `
        import { Failure, seal, label } from './shared.js';
        const token = {};
        seal.add(token);
        globalThis.token = token;
        globalThis.result = import('./lazy.js').then((m) => m.check(Failure)).then((checked) => [label('entry'), ...checked]);
      `,
      'lazy.js': `
        import { Failure, seal, label } from './shared.js';
        export function check(EntryFailure) { return [label('chunk'), EntryFailure === Failure, seal.has(globalThis.token)]; }
      `,
    });
    expect(readdirSync(dist).sort()).toEqual(['worker-lazy.js', 'worker.js']);
    const entry = readFileSync(join(dist, 'worker.js'), 'utf8');
    expect(entry).not.toMatch(/\bexport\s*\{/);
    expect(entry).toContain('new URL(`./worker-lazy.js`,import.meta.url)');
    expect(readFileSync(join(dist, 'worker-lazy.js'), 'utf8')).not.toMatch(/\bimport\s*[{*]|from\s*["'`]/);
    expect(run(dist)).toEqual(['seen entry', 'seen chunk', true, true]);
  });

  it('refuse a chunk reading a variable worker.js assigns later (it would see only its value at load)', async () => {
    const files = {
      'state.js': 'export let count = 0;\nexport function bump() { count++; }\n',
      'worker.js': "import { bump } from './state.js';\nbump();\nglobalThis.result = import('./lazy.js').then((m) => m.read());\n",
      'lazy.js': "import { count } from './state.js';\nexport const read = () => count;\n",
    };
    await expect(build(files)).rejects.toThrow(/a lazily loaded chunk imports '\w+', a variable assigned after it is declared/);
  });

  it('refuse a chunk that imports another chunk, or modules two chunks share that worker.js does not hold', async () => {
    const nested = {
      'worker.js': "globalThis.result = import('./a.js').then((m) => m.a());\n",
      'a.js': "export const a = () => import('./b.js').then((m) => m.b);\n",
      'b.js': 'export const b = 2;\n',
    };
    await expect(build(nested)).rejects.toThrow(/may not load another/);
    const sharedByTwo = {
      'worker.js': "globalThis.result = Promise.all([import('./a.js'), import('./b.js')]).then(([a, b]) => [a.a(), b.b()]);\n",
      'both.js': "export function twice(x) { return [x, x].join(' and ') + ' from a module of their own'; }\n",
      'a.js': "import { twice } from './both.js';\nexport const a = () => twice('a');\n",
      'b.js': "import { twice } from './both.js';\nexport const b = () => twice('b');\n",
    };
    await expect(build(sharedByTwo)).rejects.toThrow(/two lazily loaded chunks share and worker\.js does not|may import only from worker\.js/);
  });
});
