/**
 * Never hang at start: a worker that cannot start makes createClient()
 * reject within its start timeout with WORKER_START_FAILED, saying what
 * failed and how to fix it. startWorker() with fake workers, pages and
 * servers; createClient() over a fake browser (tabs/browser.fixture.ts) for
 * each transport.
 */
import 'fake-indexeddb/auto';
import { MessageChannel } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KalamError } from '@kalamlite/engine';
import { createClient } from './client';
import { checkStartTimeout, checkWorkerUrl, DEFAULT_START_TIMEOUT_MS, startWorker, type StartEnv, type StartInfo } from './start';
import { fakeBrowser } from './tabs/browser.fixture';
import { caught } from './testing/channel.fixture';
import type { ClientOptions } from './types';

afterEach(() => {
  vi.unstubAllGlobals();
});

/** A server answering the probe of the worker script. */
function server(status: number, type = 'text/javascript'): StartEnv['fetch'] & { calls: string[] } {
  const calls: string[] = [];
  const fetch = async (url: string) => {
    calls.push(url);
    return { ok: status >= 200 && status < 300, status, headers: { get: (name: string) => (name === 'content-type' ? type : null) }, body: null };
  };
  return Object.assign(fetch, { calls });
}

const URL_AT = 'http://app.test/assets/kalamlite-worker.js';

function info(overrides: Partial<StartInfo> = {}): StartInfo {
  return { kind: 'SharedWorker', url: URL_AT, timeoutMs: 2000, ...overrides };
}

/**
 * Starts a fake worker (an EventTarget) that never answers; `act(worker,
 * page)` then fires what the browser would. Resolves with the KalamError,
 * how long it took, and whether the worker was discarded.
 */
async function startThen(start: Partial<StartInfo>, env: StartEnv, act: (worker: EventTarget, page: EventTarget) => void) {
  const worker = new EventTarget();
  const page = new EventTarget();
  let discarded = false;
  const begun = Date.now();
  const running = startWorker({
    info: info(start),
    create: () => worker,
    watch: (w) => [w],
    answer: () => new Promise<never>(() => undefined),
    discard: () => {
      discarded = true;
    },
    env: { document: page, ...env },
  });
  setTimeout(() => act(worker, page), 5);
  const error = await caught(running);
  return { error, ms: Date.now() - begun, discarded };
}

function violation(directive: string): Event {
  return Object.assign(new Event('securitypolicyviolation'), { effectiveDirective: directive, blockedURI: URL_AT });
}

describe('startWorker', () => {
  it('reports a script the server does not have (404) with its URL and the fix', async () => {
    const fetch = server(404, 'text/plain');
    const { error, discarded } = await startThen({}, { fetch }, (w) => w.dispatchEvent(new Event('error')));
    expect(error.code).toBe('WORKER_START_FAILED');
    expect(error.message).toContain(`the worker script at ${URL_AT} could not be loaded (HTTP 404)`);
    expect(error.message).toContain('workerUrl');
    expect(fetch.calls).toEqual([URL_AT]);
    expect(discarded).toBe(true);
  });

  it('reports a 403 the same way (a dev server refusing files outside its allow list)', async () => {
    const { error } = await startThen({}, { fetch: server(403, 'text/html') }, (w) => w.dispatchEvent(new Event('error')));
    expect(error.message).toContain('(HTTP 403)');
  });

  it('reports a page served where the script should be', async () => {
    const { error } = await startThen({}, { fetch: server(200, 'text/html') }, (w) => w.dispatchEvent(new Event('error')));
    expect(error.code).toBe('WORKER_START_FAILED');
    expect(error.message).toContain("is served as 'text/html', not JavaScript");
  });

  it('reports a script that loads but fails to run (a syntax error, a failed import)', async () => {
    const { error } = await startThen({}, { fetch: server(200, 'application/javascript; charset=utf-8') }, (w) => w.dispatchEvent(new Event('error')));
    expect(error.message).toContain('loads but failed to run: a syntax error');
  });

  it('reports a Content-Security-Policy violation on the page as such, with the directive to allow it', async () => {
    const fetch = server(200);
    const { error } = await startThen({ kind: 'Worker' }, { fetch }, (w, page) => {
      page.dispatchEvent(violation('worker-src'));
      w.dispatchEvent(new Event('error'));
    });
    expect(error.code).toBe('WORKER_START_FAILED');
    expect(error.message).toMatch(/^Could not start the database worker: the page's Content-Security-Policy blocked the worker script http:\/\/app\.test\/assets\/kalamlite-worker\.js \(directive worker-src\)/);
    expect(error.message).toContain("worker-src 'self'");
    expect(error.message).toContain('blob:');
    expect(fetch.calls).toEqual([]);
  });

  it('ignores violations of other directives', async () => {
    const { error } = await startThen({}, { fetch: server(404) }, (w, page) => {
      page.dispatchEvent(violation('img-src'));
      w.dispatchEvent(new Event('error'));
    });
    expect(error.message).toContain('(HTTP 404)');
  });

  it('reports a script it cannot ask the server about', async () => {
    const fetch = async () => {
      throw new TypeError('Failed to fetch');
    };
    const { error } = await startThen({}, { fetch }, (w) => w.dispatchEvent(new Event('error')));
    expect(error.message).toContain('could not be fetched (Failed to fetch)');
  });

  it('without a URL (the bundled entry), says where to look and how to serve the worker', async () => {
    const fetch = server(404);
    const { error } = await startThen({ url: undefined }, { fetch }, (w) => w.dispatchEvent(new Event('error')));
    expect(error.code).toBe('WORKER_START_FAILED');
    expect(error.message).toContain('failed to load or to run');
    expect(error.message).toContain('server.fs.allow');
    expect(error.message).toContain('workerUrl');
    expect(fetch.calls).toEqual([]);
  });

  it('reports a message that cannot be read (messageerror)', async () => {
    const { error } = await startThen({}, { fetch: server(200) }, (w) => w.dispatchEvent(new Event('messageerror')));
    expect(error.message).toContain('messageerror');
    expect(error.message).toContain('same kalamlite build');
  });

  it('fails a worker that never answers once its start timeout has passed', async () => {
    const { error, ms, discarded } = await startThen({ timeoutMs: 100 }, { fetch: server(200) }, () => undefined);
    expect(error.code).toBe('WORKER_START_FAILED');
    expect(error.message).toContain('did not answer within 100 ms');
    expect(error.message).toContain('startTimeoutMs');
    expect(ms).toBeGreaterThanOrEqual(95);
    expect(ms).toBeLessThan(2000);
    expect(discarded).toBe(true);
  });

  it('fails a worker whose constructor throws, saying why', async () => {
    const security = Object.assign(new Error("Failed to construct 'SharedWorker': Access to the script at 'x' is denied by the document's Content Security Policy."), { name: 'SecurityError' });
    let error = await caught(startWorker({ info: info(), create: () => { throw security; }, watch: () => [], answer: async () => 1, discard: () => undefined, env: {} }));
    expect(error.code).toBe('WORKER_START_FAILED');
    expect(error.message).toContain('the browser refused to start it from');
    expect(error.message).toContain("worker-src 'self'");

    error = await caught(startWorker({ info: info(), create: () => { throw new ReferenceError('SharedWorker is not defined'); }, watch: () => [], answer: async () => 1, discard: () => undefined, env: {} }));
    expect(error.message).toContain('this environment has no SharedWorker');
    expect(error.message).toContain('createLocalClient');
  });

  it('resolves with the first answer, and stops watching then', async () => {
    const worker = new EventTarget();
    const page = new EventTarget();
    const fetch = server(404);
    // The start deadline is a timer: fake timers run it (or show it was cleared) without waiting.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const started = await startWorker({ info: info({ timeoutMs: 50 }), create: () => worker, watch: (w) => [w], answer: async () => 'hello', discard: () => undefined, env: { document: page, fetch } });
      expect(started).toEqual({ worker, answer: 'hello' });
      expect(vi.getTimerCount()).toBe(0); // the deadline is cleared
      // A runtime error of the running worker, or the old deadline, is no start failure.
      worker.dispatchEvent(new Event('error'));
      await vi.advanceTimersByTimeAsync(80);
      expect(fetch.calls).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('leaves out the error events it is told are no start failure (an exception in a running SharedWorker)', async () => {
    const worker = new EventTarget();
    let answer: (value: string) => void = () => undefined;
    const running = startWorker({
      info: info(),
      create: () => worker,
      watch: (w) => [w],
      isStartError: (event) => !('message' in event),
      answer: () => new Promise<string>((resolve) => (answer = resolve)),
      discard: () => undefined,
      env: { fetch: server(404) },
    });
    worker.dispatchEvent(Object.assign(new Event('error'), { message: 'Uncaught TypeError: x is not a function' }));
    answer('hello');
    expect((await running).answer).toBe('hello');
  });

  it('gives up quietly when the start is abandoned', async () => {
    const abandon = new AbortController();
    const fetch = server(404);
    const running = startWorker({ info: info(), create: () => new EventTarget(), watch: (w) => [w], answer: () => new Promise<never>(() => undefined), discard: () => undefined, signal: abandon.signal, env: { fetch } });
    abandon.abort();
    expect((await caught(running)).code).toBe('CLOSED');
    expect(fetch.calls).toEqual([]);
  });
});

describe('the start options', () => {
  it('startTimeoutMs: milliseconds above 0, 10 s by default', () => {
    expect(checkStartTimeout(undefined)).toBe(DEFAULT_START_TIMEOUT_MS);
    expect(DEFAULT_START_TIMEOUT_MS).toBe(10_000);
    expect(checkStartTimeout(250)).toBe(250);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '1000', null]) {
      expect(() => checkStartTimeout(bad)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining('startTimeoutMs must be a number of milliseconds') }));
    }
  });

  it('workerUrl: a string or URL, http(s) or blob:', () => {
    expect(checkWorkerUrl(undefined)).toBeUndefined();
    expect(checkWorkerUrl('/w.js')).toBe('/w.js');
    expect(checkWorkerUrl(new URL('https://app.test/w.js'))).toBe('https://app.test/w.js');
    for (const bad of ['', '  ', 5, {}, 'data:text/javascript,1', 'ftp://app.test/w.js', 'http://[broken']) {
      expect(() => checkWorkerUrl(bad)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining('workerUrl') }));
    }
  });

  it("workerUrl: resolved against the page, and on the page's origin", () => {
    vi.stubGlobal('location', { href: 'https://app.test/app/index.html', origin: 'https://app.test' });
    expect(checkWorkerUrl('w.js')).toBe('https://app.test/app/w.js');
    expect(checkWorkerUrl('/assets/w.js')).toBe('https://app.test/assets/w.js');
    expect(() => checkWorkerUrl('https://cdn.test/w.js')).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining("must be on this page's origin (https://app.test)") }));
  });

  it('createClient refuses both worker and workerUrl, and a bad startTimeoutMs, before starting anything', async () => {
    const { port1 } = new MessageChannel();
    const both = await caught(createClient({ name: 'x', storage: 'memory', worker: nodeEndpoint(port1), workerUrl: '/w.js' }));
    port1.close();
    expect(both.code).toBe('INVALID_OPTION');
    expect(both.message).toContain('not both');
    expect((await caught(createClient({ name: 'x', storage: 'memory', startTimeoutMs: 0 }))).code).toBe('INVALID_OPTION');
  });
});

describe('createClient when the worker cannot start', () => {
  const MISSING = 'http://app.test/missing-worker.js';

  /** createClient's outcome and how long it took. */
  async function attempt(options: Partial<ClientOptions>): Promise<{ error: KalamError; ms: number }> {
    const begun = Date.now();
    const error = await caught(createClient({ name: 'start', storage: 'memory', ...options }));
    return { error, ms: Date.now() - begun };
  }

  it.each(['shared-worker', 'leader', 'worker'] as const)('rejects with WORKER_START_FAILED when the script fails to load (transport %s), then starts normally', async (transport) => {
    const browser = fakeBrowser();
    browser.install();
    vi.stubGlobal('fetch', server(404, 'text/html'));
    browser.fail(MISSING, 'error');
    const { error, ms } = await attempt({ transport, workerUrl: MISSING });
    expect(error.code).toBe('WORKER_START_FAILED');
    expect(error.message).toContain(`${MISSING} could not be loaded (HTTP 404)`);
    expect(ms).toBeLessThan(3000);
    if (transport === 'worker') return; // the fake browser does not serve a client's own engine
    // Nothing is left stuck: the next client starts its worker.
    const client = await createClient({ name: 'start', storage: 'memory', transport });
    await client.close();
  });

  it.each(['shared-worker', 'leader', 'worker'] as const)('rejects with WORKER_START_FAILED once startTimeoutMs has passed when the worker never answers (transport %s)', async (transport) => {
    const browser = fakeBrowser();
    browser.install();
    vi.stubGlobal('fetch', server(200));
    browser.fail(MISSING, 'silent');
    const { error, ms } = await attempt({ transport, workerUrl: MISSING, startTimeoutMs: 150 });
    expect(error.code).toBe('WORKER_START_FAILED');
    expect(error.message).toContain('did not answer within 150 ms');
    expect(ms).toBeGreaterThanOrEqual(140);
    expect(ms).toBeLessThan(3000);
  });

  it('rejects with WORKER_START_FAILED when the SharedWorker constructor throws', async () => {
    fakeBrowser().install();
    vi.stubGlobal(
      'SharedWorker',
      class {
        constructor() {
          throw Object.assign(new Error('The operation is insecure.'), { name: 'SecurityError' });
        }
      },
    );
    const { error } = await attempt({ transport: 'shared-worker' });
    expect(error.code).toBe('WORKER_START_FAILED');
    expect(error.message).toContain('the browser refused to start it (The operation is insecure.)');
  });

  it('rejects with WORKER_START_FAILED where there is no Worker at all (Node), rather than hanging', async () => {
    const { error } = await attempt({});
    expect(error.code).toBe('WORKER_START_FAILED');
    expect(error.message).toContain('this environment has no Worker');
  });

  it('rejects with WORKER_START_FAILED when a given worker never answers', async () => {
    const { port1, port2 } = new MessageChannel();
    try {
      const { error } = await attempt({ worker: nodeEndpoint(port1), startTimeoutMs: 100 });
      expect(error.code).toBe('WORKER_START_FAILED');
      expect(error.message).toContain('did not answer within 100 ms');
    } finally {
      port1.close();
      port2.close();
    }
  });
});
