/**
 * The packages as an app gets them: a fresh Vite + React app in a temp
 * folder outside the workspace installs @kalamlite/engine, worker and react
 * from `npm pack` tarballs (not workspace links), generates its row types
 * with the engine's `kalamlite types` bin, type-checks against the
 * published .d.ts, builds with Vite's defaults (no vite.config at all: no
 * worker.format, no server.fs.allow), and in Chromium shows live rows, from
 * the build (`vite preview`) and from the dev server (`vite`).
 *
 * Installs are offline (`--prefer-offline`, the npm cache); when vite or
 * react cannot be installed that way, the workspace's copies are linked into
 * the app instead (the test logs which).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = fileURLToPath(new URL('./stock-app/', import.meta.url));
const PACKAGES = ['engine', 'worker', 'react-hooks'];
/** What the app pins from the workspace's own versions (so the npm cache has them). */
const fromWorkspace = (name: string): string => (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

let app: string;
let browser: Browser | undefined;
/** The vite server running (preview, then dev). */
let preview: ChildProcess | undefined;
let url: string;

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_fund: 'false', npm_config_update_notifier: 'false' } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed in ${cwd} (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

beforeAll(async () => {
  // The published files, as npm test's `npm run packages` builds them.
  run(process.execPath, [join(root, 'scripts/build.mjs')], root);
  app = mkdtempSync(join(tmpdir(), 'kalamlite-stock-app-'));
  const tarballs = PACKAGES.map((dir) => {
    const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', app], join(root, 'packages', dir))) as { filename: string }[];
    return packed.filename;
  });
  const [engine, worker, react] = tarballs.map((file) => `file:./${file}`);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify(
      {
        name: 'stock-app',
        private: true,
        type: 'module',
        scripts: { build: 'vite build' },
        dependencies: {
          '@kalamlite/engine': engine,
          '@kalamlite/worker': worker,
          '@kalamlite/react': react,
          react: fromWorkspace('react'),
          'react-dom': fromWorkspace('react-dom'),
        },
        devDependencies: {
          vite: fromWorkspace('vite'),
          '@types/react': fromWorkspace('@types/react'),
          '@types/react-dom': fromWorkspace('@types/react-dom'),
        },
      },
      null,
      2,
    ),
  );
  mkdirSync(join(app, 'src'));
  cpSync(join(fixture, 'index.html'), join(app, 'index.html'));
  cpSync(join(fixture, 'main.tsx'), join(app, 'src/main.tsx'));
  cpSync(join(fixture, 'schema.sql'), join(app, 'schema.sql'));
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', jsx: 'react-jsx', strict: true, noEmit: true, skipLibCheck: false, types: ['vite/client'], lib: ['ES2022', 'DOM'] },
      include: ['src'],
    }),
  );
  try {
    run('npm', ['install', '--prefer-offline', '--no-audit'], app);
  } catch (e) {
    // Not everything is in the npm cache: install the packages alone and link the workspace's vite and react.
    console.warn(`stock app: the offline install of vite/react failed, linking the workspace's copies instead (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const linked = ['react', 'react-dom', 'vite', '@types/react', '@types/react-dom'];
    for (const name of linked) {
      delete manifest.dependencies[name];
      delete manifest.devDependencies[name];
    }
    writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    run('npm', ['install', '--prefer-offline', '--no-audit'], app);
    for (const name of linked) {
      const target = join(app, 'node_modules', name);
      mkdirSync(join(target, '..'), { recursive: true });
      if (!existsSync(target)) symlinkSync(join(root, 'node_modules', name), target, 'dir');
    }
  }
}, 300_000);

afterAll(async () => {
  await browser?.close();
  preview?.kill();
  if (app !== undefined) rmSync(app, { recursive: true, force: true });
});

describe('a stock Vite + React app with the packed packages', () => {
  it('installs the packages from their tarballs, not as links to the workspace', () => {
    for (const name of ['engine', 'worker', 'react']) {
      const dir = join(app, 'node_modules/@kalamlite', name);
      expect(existsSync(join(dir, 'dist/index.js')), `${name} dist/index.js`).toBe(true);
      expect(existsSync(join(dir, 'src')), `${name} ships no sources`).toBe(false);
    }
  });

  it('generates its row types with `npx kalamlite types`, the same as the committed e2e/stock-app/db-types.ts', () => {
    const types = run('npx', ['--no-install', 'kalamlite', 'types', 'schema.sql'], app);
    writeFileSync(join(app, 'src/db-types.ts'), types);
    expect(types).toContain('readonly id: bigint;');
    expect(types).toContain('readonly note: string | null;');
    expect(types).toBe(readFileSync(join(fixture, 'db-types.ts'), 'utf8'));
  });

  it('type-checks against the published declarations (typed hooks, bigint ids, no casts)', () => {
    run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', app], app);
  }, 120_000);

  it('imports in plain Node from the installed packages, and server-renders the hooks as loading', () => {
    const script = `
      import { createElement } from 'react';
      import { renderToString } from 'react-dom/server';
      import { openDatabase } from '@kalamlite/engine';
      import { createClient } from '@kalamlite/worker';
      import { KalamProvider, useLiveQuery, useQuery } from '@kalamlite/react';
      function Rows() {
        const live = useLiveQuery('SELECT * FROM shop.items');
        const once = useQuery('SELECT 1');
        return createElement('p', null, live.status + '/' + once.status + '/' + typeof openDatabase + '/' + typeof createClient);
      }
      process.stdout.write(renderToString(createElement(KalamProvider, { client: null, session: { user: 'alice' } }, createElement(Rows))));
    `;
    expect(run(process.execPath, ['--input-type=module', '-e', script], app)).toBe('<p>loading/loading/function/function</p>');
  });

  it('builds with Vite and no config file, emitting the worker, its SQL grammar and every file it loads on first use', () => {
    expect(existsSync(join(app, 'vite.config.ts'))).toBe(false);
    run(process.execPath, [join(app, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], app);
    const assets = readdirSync(join(app, 'dist/assets'));
    expect(assets.some((f) => /^worker-.*\.js$/.test(f)), assets.join(', ')).toBe(true);
    // worker-sql.js, worker-arrow.js, worker-migrate.js, … (scripts/build.mjs): each copied as an asset beside the
    // worker, or — under Vite's build.assetsInlineLimit (4 kB) — inlined into it as a data: URL.
    const dist = join(root, 'packages/worker/dist');
    const sideFiles = readdirSync(dist).filter((f) => /^worker-.+\.js$/.test(f));
    expect(sideFiles).toEqual(expect.arrayContaining(['worker-sql.js', 'worker-arrow.js', 'worker-migrate.js', 'worker-insert-many.js']));
    const workerAsset = assets.find((f) => /^worker-[\w-]{8}\.js$/.test(f) && readFileSync(join(app, 'dist/assets', f), 'utf8').includes('kalamlite.worker-exports'));
    expect(workerAsset, assets.join(', ')).toBeDefined();
    const workerText = readFileSync(join(app, 'dist/assets', workerAsset!), 'utf8');
    for (const file of sideFiles) {
      const hashed = new RegExp(`^${file.slice(0, -'.js'.length)}-[\\w-]{8}\\.js$`);
      const inlined = workerText.includes(readFileSync(join(dist, file)).toString('base64'));
      expect(inlined || assets.some((f) => hashed.test(f)), `${file}: not among ${assets.join(', ')} nor inlined`).toBe(true);
    }
  }, 180_000);

  it('shows live rows in Chromium from the build (vite preview): each row added by a click appears', async () => {
    await startVite('preview');
    await expectLiveRows();
  }, 90_000);

  it('shows live rows in Chromium from the dev server (vite, no config): each row added by a click appears', async () => {
    preview?.kill();
    await startVite('dev');
    await expectLiveRows();
  }, 90_000);
});

/** Starts `vite preview` (the build) or `vite` (the dev server) in the app; sets `url`. */
async function startVite(mode: 'preview' | 'dev'): Promise<void> {
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  const args = [...(mode === 'preview' ? ['preview'] : []), '--host', '127.0.0.1', '--port', String(port), '--strictPort'];
  const server = spawn(process.execPath, [join(app, 'node_modules/vite/bin/vite.js'), ...args], { cwd: app, stdio: 'pipe' });
  preview = server;
  await new Promise<void>((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(String(port))) resolve();
    });
    server.on('exit', (code) => reject(new Error(`vite ${mode} exited (${code}): ${out}`)));
  });
}

/** Opens the app in a fresh context: status goes ready, and rows added by clicks appear live. */
async function expectLiveRows(): Promise<void> {
  browser ??= await launchChromium();
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(e.message));
  await page.goto(url);
  await page.getByTestId('status').filter({ hasText: 'ready' }).waitFor({ timeout: 30_000 });
  expect(await page.getByTestId('items').locator('li').count()).toBe(0);
  await page.getByTestId('add').click();
  await page.getByTestId('items').locator('li', { hasText: 'item 1' }).waitFor({ timeout: 10_000 });
  await page.getByTestId('add').click();
  await page.getByTestId('items').locator('li', { hasText: 'item 2' }).waitFor({ timeout: 10_000 });
  expect(await page.getByTestId('items').locator('li').allTextContents()).toEqual(['item 1', 'item 2']);
  expect(await page.getByTestId('error').count()).toBe(0);
  expect(problems).toEqual([]);
  await page.close();
}
