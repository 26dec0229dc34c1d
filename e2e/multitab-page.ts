import { inject } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { waitUntilReady } from './demo-page';

/**
 * Helpers for the multi-tab tests: several pages (tabs) of one browser
 * context share one origin, so one engine. Each tab drives the demo's
 * client (`window.kalamliteDemo.client`) directly.
 */

export interface TabRecord {
  /** Ids in the tab's live result, after the last delivery. */
  ids: number;
  deliveries: number;
  /** Whole results after the first: the live query started over (a failover that did not resume from its last `_seq` as changes). */
  restarts: number;
  /** Problems seen by the live listener: a duplicate id in a result, or an id that vanished. */
  violations: string[];
  errors: string[];
}

export async function openTab(context: BrowserContext, query: string, errors: string[]): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  await page.goto(`${inject('demoUrl')}?${query}`);
  await waitUntilReady(page);
  return page;
}

export async function createEventsTable(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const { client } = (window as unknown as { kalamliteDemo: { client: import('@kalamlite/worker').KalamClient } }).kalamliteDemo;
    await client.session({ user: 'demo_admin', role: 'dba' }).execute(
      "CREATE SHARED TABLE IF NOT EXISTS demo.tab_events (id BIGINT PRIMARY KEY, tab TEXT NOT NULL) WITH (ACCESS_LEVEL = 'public')",
    );
  });
}

/**
 * Starts a live query over demo.tab_events in the tab. The listener checks
 * every result: no id twice, and no id that was there before missing
 * (nothing is ever deleted), so a lost or duplicated change shows up.
 */
export async function watchEvents(page: Page): Promise<void> {
  await page.evaluate(async () => {
    type W = Window & { kalamliteDemo: { client: import('@kalamlite/worker').KalamClient }; mt: unknown };
    const w = window as unknown as W;
    const record = { ids: new Set<string>(), deliveries: 0, restarts: 0, violations: [] as string[], errors: [] as string[] };
    w.mt = record;
    const session = w.kalamliteDemo.client.session({ user: 'watcher', role: 'user' });
    await session.live(
      'SELECT id, tab FROM demo.tab_events',
      [],
      (rows, change) => {
        if (change.kind === 'snapshot' && record.deliveries > 0) record.restarts++;
        record.deliveries++;
        const next = new Set<string>();
        for (const row of rows) {
          const id = String(row.id);
          if (next.has(id)) record.violations.push(`duplicate ${id}`);
          next.add(id);
        }
        for (const id of record.ids) if (!next.has(id)) record.violations.push(`vanished ${id}`);
        record.ids = next;
      },
      (error) => record.errors.push(`${error.code}: ${error.message}`),
    );
  });
}

export function readRecord(page: Page): Promise<TabRecord> {
  return page.evaluate(() => {
    const record = (window as unknown as { mt: { ids: Set<string>; deliveries: number; restarts: number; violations: string[]; errors: string[] } }).mt;
    return { ids: record.ids.size, deliveries: record.deliveries, restarts: record.restarts, violations: record.violations.slice(0, 10), errors: record.errors.slice(0, 10) };
  });
}

export function liveIds(page: Page): Promise<number[]> {
  return page.evaluate(() => [...(window as unknown as { mt: { ids: Set<string> } }).mt.ids].map(Number).sort((a, b) => a - b));
}

export async function waitForCount(page: Page, count: number, timeout = 20_000): Promise<void> {
  await page.waitForFunction((n) => (window as unknown as { mt: { ids: Set<string> } }).mt.ids.size === n, count, { timeout, polling: 50 });
}

/**
 * Inserts the given ids from the tab, one statement each, in order. A call
 * failing with LEADER_CHANGED is retried; a retry that hits the primary key
 * means the first attempt had committed. Resolves to the ids acknowledged.
 * `ack` (exposed by the test) is told of each acknowledgement as it
 * happens, so a tab closed mid-stream still reports what it got.
 */
export function writeEvents(page: Page, tab: string, ids: readonly number[], pauseMs = 0): Promise<number[]> {
  return page.evaluate(
    async ({ tab, ids, pauseMs }) => {
      type W = Window & { kalamliteDemo: { client: import('@kalamlite/worker').KalamClient }; mtAck?: (id: number) => void };
      const w = window as unknown as W;
      const session = w.kalamliteDemo.client.session({ user: 'writer', role: 'service' });
      const acked: number[] = [];
      for (const id of ids) {
        for (let attempt = 0; ; attempt++) {
          try {
            await session.execute('INSERT INTO demo.tab_events (id, tab) VALUES ($1, $2)', [id, tab]);
            break;
          } catch (e) {
            const code = (e as { code?: string }).code;
            if (code === 'LEADER_CHANGED' && attempt < 20) continue;
            if (code === 'PRIMARY_KEY_VIOLATION' && attempt > 0) break;
            throw e;
          }
        }
        acked.push(id);
        w.mtAck?.(id);
        if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
      return acked;
    },
    { tab, ids, pauseMs },
  );
}

/** Ids start, start + step, … below end: interleaving tabs write disjoint ids. */
export function stride(start: number, end: number, step: number): number[] {
  const ids: number[] = [];
  for (let id = start; id < end; id += step) ids.push(id);
  return ids;
}

export function connectedClients(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const { client } = (window as unknown as { kalamliteDemo: { client: import('@kalamlite/worker').KalamClient } }).kalamliteDemo;
    const result = await client.session({ user: 'demo_admin', role: 'dba' }).query("SELECT metric_value FROM system.stats WHERE metric_name = 'clients_connected'");
    return Number(result.rows[0]?.metric_value);
  });
}
