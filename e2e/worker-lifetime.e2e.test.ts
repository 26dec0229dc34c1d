/**
 * Workers end with their databases, in Chromium: after the last client of a
 * database closes, its SharedWorker (transport 'auto') or its leader tab's
 * worker (transport 'leader') ends — unless another tab's client still uses
 * it — and the next client starts a fresh one. Workers are counted with the
 * DevTools protocol (Target.getTargets: 'shared_worker' and 'worker'
 * targets of the test's browser context).
 */
import { afterAll, afterEach, beforeAll, expect, inject, it } from 'vitest';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { launchChromium } from './browser';

let browser: Browser;
let cdp: CDPSession;
let context: BrowserContext | undefined;
let databases = 0;

beforeAll(async () => {
  browser = await launchChromium();
  cdp = await browser.newBrowserCDPSession();
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

interface Workers {
  shared: number;
  dedicated: number;
}

/** The workers alive in `page`'s browser context. */
async function workers(page: Page): Promise<Workers> {
  const own = await page.context().newCDPSession(page);
  const { targetInfo } = await own.send('Target.getTargetInfo');
  await own.detach();
  const { targetInfos } = await cdp.send('Target.getTargets');
  const ours = targetInfos.filter((t) => t.browserContextId === targetInfo.browserContextId);
  return { shared: ours.filter((t) => t.type === 'shared_worker').length, dedicated: ours.filter((t) => t.type === 'worker').length };
}

/** Waits (a few seconds at most) for the workers to settle at `expected`; returns what it saw last. */
async function settled(page: Page, expected: Workers): Promise<Workers> {
  let seen = await workers(page);
  for (let i = 0; i < 100 && (seen.shared !== expected.shared || seen.dedicated !== expected.dedicated); i++) {
    await page.waitForTimeout(50);
    seen = await workers(page);
  }
  return seen;
}

type Transport = 'auto' | 'leader';

/** Opens a client as `name` in the page (kept as `window.clients[slot]`), with a table, and writes a row. */
function open(page: Page, name: string, slot: string, transport: Transport): Promise<string> {
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
      await admin.execute("CREATE SHARED TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, label TEXT) WITH (ACCESS_LEVEL = 'public')");
      await admin.execute('INSERT INTO items (id, label) VALUES (ULID(), $1)', [slot]);
      return (client as unknown as { transport?: { kind: string } }).transport?.kind ?? 'worker';
    },
    { name, slot, transport },
  );
}

function close(page: Page, slot: string): Promise<void> {
  return page.evaluate(async (slot) => {
    const clients = (window as unknown as { clients: Record<string, import('@kalamlite/worker').KalamClient> }).clients;
    const client = clients[slot];
    delete clients[slot];
    await client.close();
  }, slot);
}

function count(page: Page, slot: string): Promise<number> {
  return page.evaluate(async (slot) => {
    const client = (window as unknown as { clients: Record<string, import('@kalamlite/worker').KalamClient> }).clients[slot];
    const { rows } = await client.session({ user: 'reader' }).query('SELECT COUNT(*) AS n FROM items');
    return Number(rows[0].n);
  }, slot);
}

function failovers(page: Page, slot: string): Promise<number> {
  return page.evaluate((slot) => {
    const client = (window as unknown as { clients: Record<string, { transport?: { failovers: number } }> }).clients[slot];
    return client.transport?.failovers ?? 0;
  }, slot);
}

const NONE: Workers = { shared: 0, dedicated: 0 };

it.each([
  ['auto', 'shared-worker', 'shared'],
  ['leader', 'leader', 'dedicated'],
] as const)('ends the worker of each database its last client closes: open and close 3 databases in one page (transport %s)', async (transport, kind, type) => {
  const page = await openPage();
  const names = [1, 2, 3].map(() => `lifetime-${++databases}`);
  for (const [i, name] of names.entries()) expect(await open(page, name, `c${i}`, transport)).toBe(kind);
  const open3 = await workers(page);
  console.log(`transport ${transport}: workers with 3 databases open: ${JSON.stringify(open3)}`);
  expect(open3[type]).toBe(3);

  for (const i of [0, 1, 2]) await close(page, `c${i}`);
  const after = await settled(page, NONE);
  console.log(`transport ${transport}: workers after closing the 3 databases: ${JSON.stringify(after)}`);
  expect(after).toEqual(NONE);

  // One at a time: open, close; none is left either.
  for (const name of names) {
    await open(page, name, 'again', transport);
    await close(page, 'again');
  }
  expect(await settled(page, NONE)).toEqual(NONE);

  // The next client starts a fresh worker, which reads what the others wrote.
  await open(page, names[0], 'last', transport);
  expect(await count(page, 'last')).toBe(3);
  const one = await workers(page);
  expect(one[type]).toBe(1);
  await close(page, 'last');
  expect(await settled(page, NONE)).toEqual(NONE);
});

it("keeps a leader tab's worker while another tab's client uses it, without a failover, and ends it after that client closes", async () => {
  const pageA = await openPage();
  const pageB = await openPage();
  const name = `lifetime-${++databases}`;
  await open(pageA, name, 'a', 'leader');
  await open(pageB, name, 'b', 'leader');
  // Tab A's worker leads; tab B's waits as a candidate.
  expect((await workers(pageA)).dedicated).toBe(2);

  await close(pageA, 'a');
  await pageA.waitForTimeout(300);
  expect((await workers(pageA)).dedicated).toBe(2);
  expect(await count(pageB, 'b')).toBe(2);
  expect(await failovers(pageB, 'b')).toBe(0);

  await close(pageB, 'b');
  expect(await settled(pageA, NONE)).toEqual(NONE);
});

it.each(['auto', 'leader'] as const)(
  'never hangs a client created in another tab while the last client closes: it keeps the worker or starts a fresh one (transport %s)',
  async (transport) => {
    const pageA = await openPage();
    const pageB = await openPage();
    const name = `lifetime-${++databases}`;
    await open(pageA, name, 'a', transport);
    const bounded = <T>(promise: Promise<T>, what: string) =>
      Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} did not finish within 15 s`)), 15_000))]);
    for (let round = 0; round < 6; round++) {
      await bounded(Promise.all([close(pageA, 'a'), open(pageB, name, 'b', transport)]), `round ${round}`);
      await bounded(Promise.all([close(pageB, 'b'), open(pageA, name, 'a', transport)]), `round ${round}, back`);
    }
    expect(await count(pageA, 'a')).toBe(13);
    await close(pageA, 'a');
    expect(await settled(pageA, NONE)).toEqual(NONE);
  },
);

it('closes a client with a live query and an open transaction: the transaction rolls back, the worker ends', async () => {
  const page = await openPage();
  const name = `lifetime-${++databases}`;
  await open(page, name, 'a', 'auto');
  const outcome = await page.evaluate(async () => {
    const client = (window as unknown as { clients: Record<string, import('@kalamlite/worker').KalamClient> }).clients.a;
    const deliveries: number[] = [];
    await client.session({ user: 'reader' }).live('SELECT id FROM items', [], (rows) => {
      deliveries.push(rows.length);
    });
    const tx = await client.session({ user: 'root', role: 'dba' }).begin();
    await tx.execute("INSERT INTO items (id, label) VALUES ('staged', 'never committed')");
    await client.close();
    const commit = await tx.commit().then(
      () => 'committed',
      (e: { code?: string }) => e.code,
    );
    return { deliveries, commit };
  });
  expect(outcome).toEqual({ deliveries: [1], commit: 'CLOSED' });
  expect(await settled(page, NONE)).toEqual(NONE);
  await open(page, name, 'b', 'auto');
  expect(await count(page, 'b')).toBe(2);
  await close(page, 'b');
});
