import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './browser';
import {
  connectedClients,
  createEventsTable,
  liveIds,
  openTab,
  readRecord,
  stride,
  waitForCount,
  watchEvents,
  writeEvents,
} from './multitab-page';

/** How long a tab may be cut off from the database when the leader's worker crashes. */
const TAKEOVER_BUDGET_MS = 5000;

let browser: Browser;
let context: BrowserContext | undefined;
let errors: string[] = [];
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

/** Opens `count` tabs of the demo on a fresh database, each watching demo.tab_events. */
async function openTabs(count: number, transport: 'shared-worker' | 'leader'): Promise<Page[]> {
  context = await browser.newContext();
  errors = [];
  const query = `db=multitab-${transport}-${++databases}&transport=${transport}`;
  const pages: Page[] = [];
  for (let i = 0; i < count; i++) pages.push(await openTab(context, query, errors));
  await createEventsTable(pages[0]);
  for (const page of pages) await watchEvents(page);
  return pages;
}

async function expectConsistent(pages: readonly Page[], acked: ReadonlySet<number>, attempted: ReadonlySet<number>): Promise<void> {
  // Every acknowledged write reaches the live query (one commit's latency
  // after its acknowledgement), and nothing that was never written does.
  await pages[0].waitForFunction(
    (ids) => ids.every((id) => (window as unknown as { mt: { ids: Set<string> } }).mt.ids.has(String(id))),
    [...acked],
    { timeout: 20_000, polling: 50 },
  );
  const expected = await liveIds(pages[0]);
  for (const id of acked) expect(expected).toContain(id);
  for (const id of expected) expect(attempted.has(id)).toBe(true);
  for (const page of pages) {
    await waitForCount(page, expected.length);
    expect(await liveIds(page)).toEqual(expected);
    const record = await readRecord(page);
    expect(record.violations).toEqual([]);
    expect(record.errors).toEqual([]);
    // After a failover every live query resumed from its last `_seq`: what it missed came as changes, never a fresh result.
    expect(record.restarts).toBe(0);
  }
}

describe.each(['shared-worker', 'leader'] as const)('three tabs over the %s transport', (transport) => {
  it('show each other’s writes live, and agree after 1,000 interleaved writes', async () => {
    const pages = await openTabs(3, transport);
    await writeEvents(pages[1], 'tab1', [1]);
    for (const page of pages) await waitForCount(page, 1);
    expect(await connectedClients(pages[2])).toBe(3);

    const written = await Promise.all(pages.map((page, i) => writeEvents(page, `tab${i}`, stride(2 + i, 1001, 3))));
    const acked = new Set([1, ...written.flat()]);
    expect(acked.size).toBe(1000);
    await expectConsistent(pages, acked, acked);
    const count = await pages[2].evaluate(async () => {
      const { client } = (window as unknown as { kalamliteDemo: { client: import('@kalamlite/worker').KalamClient } }).kalamliteDemo;
      return (await client.session({ user: 'x' }).query('SELECT COUNT(*) AS n FROM demo.tab_events')).rows[0].n;
    });
    expect(Number(count)).toBe(1000);
    await expect(pages[0].getByTestId('tabs-count').textContent()).resolves.toBe('3 tabs');
    expect(errors).toEqual([]);
  });

  it('keep working when a tab closes mid-stream, losing and duplicating nothing', async () => {
    const pages = await openTabs(3, transport);
    const acked = new Set<number>();
    await pages[0].exposeFunction('mtAck', (id: number) => acked.add(id));
    const attempted = new Set(stride(1, 601, 1));
    // Tab 0 hosts the engine on the leader path (it opened first).
    const closing = writeEvents(pages[0], 'tab0', stride(1, 601, 3), 2).catch(() => []);
    const surviving = [writeEvents(pages[1], 'tab1', stride(2, 601, 3), 2), writeEvents(pages[2], 'tab2', stride(3, 601, 3), 2)];
    await pages[1].waitForFunction(() => (window as unknown as { mt: { ids: Set<string> } }).mt.ids.size >= 150, undefined, { polling: 20 });
    await pages[0].close();
    await closing;
    for (const ids of await Promise.all(surviving)) for (const id of ids) acked.add(id);
    await expectConsistent(pages.slice(1), acked, attempted);
    await expect.poll(() => connectedClients(pages[1]), { timeout: 5000 }).toBe(2);
    expect(errors).toEqual([]);
  });
});

/** Whether the tab hosts the engine now (its worker leads). */
function isHost(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { kalamliteDemo: { client: { transport: { isHost: boolean } } } }).kalamliteDemo.client.transport.isHost);
}

describe('the leader path', () => {
  it('survives a crash of the leader’s worker: another tab takes over within seconds and every tab keeps its live queries', async () => {
    const pages = await openTabs(3, 'leader');
    expect(await Promise.all(pages.map(isHost))).toEqual([true, false, false]);
    // The one worker entry serves every transport: the leader candidate is the worker named for its database.
    const names = await Promise.all(pages[0].workers().map((worker) => worker.evaluate(() => (self as unknown as { name: string }).name)));
    const leaderWorker = pages[0].workers().find((_, i) => names[i].startsWith('kalamlite:'));
    expect(leaderWorker).toBeDefined();

    const attempted = new Set(stride(1, 601, 1));
    const writing = pages.map((page, i) => writeEvents(page, `tab${i}`, stride(1 + i, 601, 3), 2));
    await pages[1].waitForFunction(() => (window as unknown as { mt: { ids: Set<string> } }).mt.ids.size >= 150, undefined, { polling: 20 });
    // Tab 2 probes the database back to back; the longest gap between two
    // answers is how long it could not be reached.
    await pages[2].evaluate(() => {
      const w = window as unknown as { kalamliteDemo: { client: import('@kalamlite/worker').KalamClient }; probe: { maxGap: number; answers: number; stop: boolean } };
      const probe = { maxGap: 0, answers: 0, stop: false };
      w.probe = probe;
      const session = w.kalamliteDemo.client.session({ user: 'x' });
      void (async () => {
        let last = performance.now();
        while (!probe.stop) {
          try {
            await session.query('SELECT 1 AS one');
            const now = performance.now();
            probe.maxGap = Math.max(probe.maxGap, now - last);
            probe.answers++;
            last = now;
          } catch (e) {
            if ((e as { code?: string }).code !== 'LEADER_CHANGED') throw e;
          }
        }
      })();
    });
    await leaderWorker!.evaluate(() => (self as unknown as { close(): void }).close());
    // Tab 1 stood next in line: its worker hosts the engine, and answers tab 2, within a second.
    await expect.poll(() => isHost(pages[1]), { timeout: 5000, interval: 20 }).toBe(true);
    const answered = await pages[2].evaluate(() => (window as unknown as { probe: { answers: number } }).probe.answers);
    await pages[2].waitForFunction((n) => (window as unknown as { probe: { answers: number } }).probe.answers > n + 10, answered);
    const outage = await pages[2].evaluate(() => {
      const { probe } = window as unknown as { probe: { maxGap: number; stop: boolean } };
      probe.stop = true;
      return probe.maxGap;
    });
    console.log('leader worker crash: longest outage seen by another tab (ms)', Math.round(outage));
    // About 0.5 s on an idle machine (the new leader boots a worker and opens
    // the engine). CI runs the browser tests side by side on two shared
    // cores, where one run measured 2.02 s; the bound asserts the takeover
    // is bounded, not how fast it is.
    expect(outage).toBeLessThan(TAKEOVER_BUDGET_MS);
    expect(await Promise.all(pages.map(isHost))).toEqual([false, true, false]);

    const acked = new Set((await Promise.all(writing)).flat());
    await expectConsistent(pages, acked, attempted);
    expect(acked.size).toBe(600);
    expect(errors).toEqual([]);
  });
});
