/**
 * Never hang at start, in Chromium: when the worker cannot start — its
 * script 404s, is a page rather than JavaScript, has a syntax error, never
 * answers, a Content-Security-Policy forbids workers, the constructor throws
 * — createClient() rejects within a few seconds with WORKER_START_FAILED
 * saying what failed and how to fix it, on every transport; and a page can
 * serve the worker script itself (`workerUrl`).
 *
 * The built crash-harness page (e2e/crash-page, built by its global setup)
 * is served here by a small server of the test's own, which adds broken
 * worker scripts and a copy of the page under a CSP forbidding workers.
 */
import { createServer, type Server } from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser';

const dist = fileURLToPath(new URL('./crash-page/dist/', import.meta.url));

/** What createClient() may take at most to report a worker that failed at once (the diagnosis asks the server once). */
const PROMPT_MS = 6000;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.css': 'text/css', '.wasm': 'application/wasm' };

const BROKEN: Record<string, { type: string; body: string }> = {
  '/broken/syntax.js': { type: 'text/javascript', body: 'export const = ;\n' },
  '/broken/page.js': { type: 'text/html', body: '<!doctype html><title>app</title><p>the app shell</p>' },
  '/broken/silent.js': { type: 'text/javascript', body: '// loads, and never answers\n' },
};

let server: Server;
let origin: string;
let browser: Browser;
let workerAsset: string;

beforeAll(async () => {
  workerAsset = `/assets/${(await readdir(join(dist, 'assets'))).find((f) => /^worker-.*\.js$/.test(f))}`;
  server = createServer((request, response) => {
    void (async () => {
      const path = new URL(request.url ?? '/', 'http://x').pathname;
      const broken = BROKEN[path];
      if (broken !== undefined) {
        response.writeHead(200, { 'content-type': broken.type });
        response.end(broken.body);
        return;
      }
      // The page under a policy that allows its own scripts but no worker.
      const csp = path.startsWith('/csp/');
      const file = path === '/' || csp ? 'index.html' : normalize(path).replace(/^([/\\])+/, '');
      try {
        const body = await readFile(join(dist, file));
        const headers: Record<string, string> = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' };
        if (csp) headers['content-security-policy'] = "default-src 'self'; worker-src 'none'";
        response.writeHead(200, headers);
        response.end(body);
      } catch {
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('not found');
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

async function openPage(path = '/'): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${origin}${path}`);
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  return page;
}

interface Outcome {
  outcome: 'opened' | 'failed' | 'pending';
  code?: string;
  message?: string;
  ms: number;
}

let databases = 0;

/** createClient() with `options` in the page: opened (then closed again), failed with a code and message, or still pending after 30 s. */
function attempt(page: Page, options: Record<string, unknown>): Promise<Outcome> {
  return page.evaluate(
    async ({ options, name }) => {
      const { createClient } = (window as unknown as { kalamlite: { createClient: typeof import('@kalamlite/worker').createClient } }).kalamlite;
      const started = performance.now();
      const outcome = await Promise.race([
        createClient({ name, storage: 'idb', ...options }).then(
          async (client) => {
            await client.session({ user: 'u' }).query('SELECT 1 AS x');
            await client.close();
            return { outcome: 'opened' as const };
          },
          (e: { code?: string; message?: string }) => ({ outcome: 'failed' as const, code: e.code, message: e.message }),
        ),
        new Promise<{ outcome: 'pending' }>((resolve) => setTimeout(() => resolve({ outcome: 'pending' }), 30_000)),
      ]);
      return { ...outcome, ms: performance.now() - started };
    },
    { options, name: `start-${++databases}` },
  );
}

const TRANSPORTS = ['auto', 'leader', 'worker'] as const;

describe.each(TRANSPORTS)('transport %s', (transport) => {
  it('rejects promptly with WORKER_START_FAILED when the worker script 404s, naming the URL and the fix; the next client starts', async () => {
    const page = await openPage();
    const failed = await attempt(page, { transport, workerUrl: '/missing-worker.js' });
    console.log(`${transport}, 404: ${JSON.stringify(failed)}`);
    expect(failed).toMatchObject({ outcome: 'failed', code: 'WORKER_START_FAILED' });
    expect(failed.message).toContain(`the worker script at ${origin}/missing-worker.js could not be loaded (HTTP 404)`);
    expect(failed.message).toContain('workerUrl');
    expect(failed.ms).toBeLessThan(PROMPT_MS);
    // Nothing was left half-started: the bundled worker starts for the next client.
    expect(await attempt(page, { transport })).toMatchObject({ outcome: 'opened' });
    await page.context().close();
  });

  it('rejects promptly with WORKER_START_FAILED when the worker script has a syntax error', async () => {
    const page = await openPage();
    const failed = await attempt(page, { transport, workerUrl: '/broken/syntax.js' });
    console.log(`${transport}, syntax error: ${JSON.stringify(failed)}`);
    expect(failed).toMatchObject({ outcome: 'failed', code: 'WORKER_START_FAILED' });
    expect(failed.message).toContain('loads but failed to run: a syntax error');
    expect(failed.ms).toBeLessThan(PROMPT_MS);
    await page.context().close();
  });

  it('rejects promptly with WORKER_START_FAILED when a page is served where the worker script should be', async () => {
    const page = await openPage();
    const failed = await attempt(page, { transport, workerUrl: '/broken/page.js' });
    expect(failed).toMatchObject({ outcome: 'failed', code: 'WORKER_START_FAILED' });
    expect(failed.message).toContain("is served as 'text/html', not JavaScript");
    expect(failed.ms).toBeLessThan(PROMPT_MS);
    await page.context().close();
  });

  it('rejects with WORKER_START_FAILED after startTimeoutMs when the worker script never answers', async () => {
    const page = await openPage();
    const failed = await attempt(page, { transport, workerUrl: '/broken/silent.js', startTimeoutMs: 1500 });
    console.log(`${transport}, silent: ${JSON.stringify(failed)}`);
    expect(failed).toMatchObject({ outcome: 'failed', code: 'WORKER_START_FAILED' });
    expect(failed.message).toContain('did not answer within 1500 ms');
    expect(failed.ms).toBeGreaterThanOrEqual(1400);
    expect(failed.ms).toBeLessThan(1500 + PROMPT_MS);
    await page.context().close();
  });

  it("rejects promptly with WORKER_START_FAILED when the page's Content-Security-Policy forbids workers, saying what to allow", async () => {
    const page = await openPage('/csp/');
    const failed = await attempt(page, { transport });
    console.log(`${transport}, CSP: ${JSON.stringify(failed)}`);
    expect(failed).toMatchObject({ outcome: 'failed', code: 'WORKER_START_FAILED' });
    expect(failed.message).toContain(`Content-Security-Policy blocked the worker script ${origin}/`);
    expect(failed.message).toContain("worker-src 'self'");
    expect(failed.ms).toBeLessThan(PROMPT_MS);
    await page.context().close();
  });

  it('opens with the worker script served where the page says (workerUrl)', async () => {
    const page = await openPage();
    expect(await attempt(page, { transport, workerUrl: workerAsset })).toMatchObject({ outcome: 'opened' });
    expect(await attempt(page, { transport, workerUrl: `${origin}${workerAsset}` })).toMatchObject({ outcome: 'opened' });
    await page.context().close();
  });
});

it('rejects with WORKER_START_FAILED when the browser refuses the SharedWorker (its constructor throws)', async () => {
  const page = await openPage();
  await page.evaluate(() => {
    (window as unknown as { SharedWorker: unknown }).SharedWorker = class {
      constructor() {
        throw new DOMException('The user denied storage access for this origin.', 'SecurityError');
      }
    };
  });
  const failed = await attempt(page, { transport: 'shared-worker' });
  expect(failed).toMatchObject({ outcome: 'failed', code: 'WORKER_START_FAILED' });
  expect(failed.message).toContain('the browser refused to start it (The user denied storage access for this origin.)');
  expect(failed.ms).toBeLessThan(PROMPT_MS);
  await page.context().close();
});
