/**
 * Closing a client of the origin's shared engine (transport 'auto': a
 * SharedWorker in Chromium; and a leader tab's worker) in a real browser:
 * close() finishes, the engine closes with the last client, and a new client
 * with the same name gets a fresh engine that reads what was written from
 * storage. Closing one tab's client leaves the other tabs' clients working
 * on the same engine.
 */
import { afterAll, afterEach, beforeAll, expect, inject, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './browser';

/** How long close() may take before the test calls it stuck (it takes milliseconds). */
const CLOSE_BOUND_MS = 5000;

let browser: Browser;
let context: BrowserContext | undefined;
let databases = 0;

beforeAll(async () => {
  browser = await launchChromium();
});

afterEach(async () => {
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await browser?.close();
});

async function openPage(): Promise<Page> {
  context ??= await browser.newContext();
  const page = await context.newPage();
  await page.goto(inject('crashUrl'));
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  return page;
}

interface Opened {
  transport: string;
  rows: number;
}

type Transport = 'auto' | 'leader';

/** Opens a client as `name` on the page (kept as `window.clients[slot]`), makes sure the table exists and counts its rows. */
function open(page: Page, name: string, slot: string, transport: Transport = 'auto'): Promise<Opened> {
  return page.evaluate(
    async ({ name, slot, transport }) => {
      type W = Window & {
        kalamlite: { createClient: typeof import('@kalamlite/worker').createClient };
        clients?: Record<string, import('@kalamlite/worker').KalamClient>;
      };
      const w = window as unknown as W;
      const client = await w.kalamlite.createClient({ name, storage: 'idb', transport });
      (w.clients ??= {})[slot] = client;
      const admin = client.session({ user: 'root', role: 'dba' });
      await admin.execute('CREATE NAMESPACE IF NOT EXISTS app');
      await admin.execute("CREATE SHARED TABLE IF NOT EXISTS app.items (id BIGINT PRIMARY KEY, label TEXT) WITH (ACCESS_LEVEL = 'public')");
      const rows = await admin.query('SELECT COUNT(*) AS n FROM app.items');
      const kind = (client as unknown as { transport?: { kind: string } }).transport?.kind ?? 'worker';
      return { transport: kind, rows: Number(rows.rows[0].n) };
    },
    { name, slot, transport },
  );
}

/** `commits` in system.stats: counted by the running engine since it opened, so a fresh engine's count starts again. */
function commits(page: Page, slot: string): Promise<number> {
  return page.evaluate(async (slot) => {
    const client = (window as unknown as { clients: Record<string, import('@kalamlite/worker').KalamClient> }).clients[slot];
    const stats = await client.session({ user: 'root', role: 'dba' }).query("SELECT metric_value FROM system.stats WHERE metric_name = 'commits'");
    return Number(stats.rows[0].metric_value);
  }, slot);
}

/** Writes as the bench does: multi-row INSERTs, single INSERTs and lookups by key. */
function write(page: Page, slot: string, from: number): Promise<void> {
  return page.evaluate(
    async ({ slot, from }) => {
      const client = (window as unknown as { clients: Record<string, import('@kalamlite/worker').KalamClient> }).clients[slot];
      const session = client.session({ user: 'root', role: 'dba' });
      const values: string[] = [];
      for (let i = from; i < from + 100; i++) values.push(`(${i}, 'row ${i}')`);
      await session.execute(`INSERT INTO app.items (id, label) VALUES ${values.join(', ')}`);
      for (let i = from + 100; i < from + 110; i++) await session.execute('INSERT INTO app.items (id, label) VALUES ($1, $2)', [i, `row ${i}`]);
      for (let i = from; i < from + 110; i += 11) await session.query('SELECT label FROM app.items WHERE id = $1', [i]);
    },
    { slot, from },
  );
}

/** FLUSH TABLE, then waits for its job in system.jobs (the statement only starts it): the table's rows move to the cold tier. */
function flush(page: Page, slot: string): Promise<string> {
  return page.evaluate(async (slot) => {
    const client = (window as unknown as { clients: Record<string, import('@kalamlite/worker').KalamClient> }).clients[slot];
    const session = client.session({ user: 'root', role: 'dba' });
    const [{ message }] = await session.execute('FLUSH TABLE app.items');
    const job = /Job ID: (\S+)/.exec(message)?.[1];
    for (;;) {
      const { rows } = await session.query('SELECT status FROM system.jobs WHERE job_id = $1', [job ?? '']);
      const status = String(rows[0]?.status);
      if (status !== 'queued' && status !== 'running') return status;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }, slot);
}

/** Closes the client in `slot`: 'closed', 'pending' when still not finished after the bound, or the error. */
async function close(page: Page, slot: string): Promise<string> {
  const { outcome, ms } = await page.evaluate(
    async ({ slot, bound }) => {
      const clients = (window as unknown as { clients: Record<string, import('@kalamlite/worker').KalamClient> }).clients;
      const client = clients[slot];
      delete clients[slot];
      const started = performance.now();
      const outcome = await Promise.race([
        client.close().then(
          () => 'closed',
          (e: unknown) => `failed: ${e instanceof Error ? e.message : String(e)}`,
        ),
        new Promise<string>((resolve) => setTimeout(() => resolve('pending'), bound)),
      ]);
      return { outcome, ms: performance.now() - started };
    },
    { slot, bound: CLOSE_BOUND_MS },
  );
  console.log(`close() of ${slot}: ${outcome} in ${ms.toFixed(1)} ms`);
  return outcome;
}

function count(page: Page, slot: string): Promise<number> {
  return page.evaluate(async (slot) => {
    const client = (window as unknown as { clients: Record<string, import('@kalamlite/worker').KalamClient> }).clients[slot];
    const result = await client.session({ user: 'reader' }).query('SELECT COUNT(*) AS n FROM app.items');
    return Number(result.rows[0].n);
  }, slot);
}

it.each([
  ['auto', 'shared-worker'],
  ['leader', 'leader'],
] as const)('finishes close() after writes and a flush (transport %s), and a new client with the same name opens the storage afresh and reads them', async (transport, kind) => {
  const page = await openPage();
  const name = `close-reopen-${++databases}`;
  const first = await open(page, name, 'a', transport);
  expect(first.transport).toBe(kind);
  await write(page, 'a', 0);
  expect(await flush(page, 'a')).toBe('completed');
  await write(page, 'a', 1000);
  const written = await commits(page, 'a');
  expect(written).toBeGreaterThanOrEqual(22);
  expect(await close(page, 'a')).toBe('closed');

  const second = await open(page, name, 'b', transport);
  expect(second.rows).toBe(220);
  // A fresh engine: it has counted none of the first client's commits.
  const reopened = await commits(page, 'b');
  expect(reopened).toBeLessThan(written);
  expect(await close(page, 'b')).toBe('closed');

  // A client that only opened and read closes too, and the next open is fresh again.
  const third = await open(page, name, 'c', transport);
  expect(third.rows).toBe(220);
  expect(await commits(page, 'c')).toBe(reopened);
  expect(await close(page, 'c')).toBe('closed');
});

it("closes one tab's client without closing the engine under another tab's client", async () => {
  const name = `close-reopen-${++databases}`;
  const pageA = await openPage();
  const pageB = await openPage();
  await open(pageA, name, 'a');
  await open(pageB, name, 'b');
  await write(pageA, 'a', 0);
  expect(await close(pageA, 'a')).toBe('closed');

  // Tab B's client still works on the engine it shares, and sees tab A's writes.
  await write(pageB, 'b', 5000);
  expect(await count(pageB, 'b')).toBe(220);
  // A new client in tab A joins the running engine: no fresh open.
  const running = await commits(pageB, 'b');
  const again = await open(pageA, name, 'a');
  expect(again.rows).toBe(220);
  expect(await commits(pageA, 'a')).toBeGreaterThanOrEqual(running);
  expect(await close(pageA, 'a')).toBe('closed');
  expect(await close(pageB, 'b')).toBe('closed');
});

it('opens a client created in another tab while the last client closes, on the old engine or a fresh one', async () => {
  const name = `close-reopen-${++databases}`;
  const pageA = await openPage();
  const pageB = await openPage();
  await open(pageA, name, 'a');
  await write(pageA, 'a', 0);
  for (let round = 0; round < 5; round++) {
    const [closed, opened] = await Promise.all([close(pageA, 'a'), open(pageB, name, 'b')]);
    expect(closed).toBe('closed');
    expect(opened.rows).toBe(110);
    // And back the other way.
    const [closedB, openedA] = await Promise.all([close(pageB, 'b'), open(pageA, name, 'a')]);
    expect(closedB).toBe('closed');
    expect(openedA.rows).toBe(110);
  }
  expect(await close(pageA, 'a')).toBe('closed');
});
