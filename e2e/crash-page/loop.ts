/**
 * The crash loop the crash-*.e2e tests run, for one storage: ITERATIONS
 * times (open in a fresh worker, check, start batches of writes, then
 * terminate the worker or reload the page at a random moment). After every
 * reopen:
 * - atomic: each batch (a multi-row INSERT, or BEGIN … INSERT; INSERT;
 *   UPDATE … COMMIT) is all there — every row, every row touched by its
 *   UPDATE — or not there at all;
 * - durable: every batch acknowledged before the kill is there.
 */
import { expect } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { CrashHarness, CrashJobs } from './main';

export const ITERATIONS = 50;

type WithHarness = { crash: CrashHarness };

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
}

function random(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

export interface CrashFigures {
  kills: number;
  reloads: number;
  started: number;
  acknowledged: number;
  cutOff: number;
  present: number;
  /** Cold segments listed in system.manifest at the end (flush and compaction runs only). */
  segments: number;
  /** Of those, segments a compaction wrote (level 1 or more). */
  compacted: number;
}

export async function crashLoop(browser: Browser, url: string, storage: 'idb' | 'opfs', seed: number, jobs: CrashJobs = 'none'): Promise<CrashFigures> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(url);
  await ready(page);
  const name = `crash-${storage}${jobs === 'none' ? '' : `-${jobs}`}`;
  const next = random(seed);
  const acknowledged = new Set<number>();
  let nextBatch = 1;
  let kills = 0;
  let reloads = 0;
  let cutOff = 0; // batches started but not acknowledged before a kill
  const open = () => page.evaluate(([s, n]) => (window as unknown as WithHarness).crash.open(s, n), [storage, name] as const);
  for (let i = 0; i <= ITERATIONS; i++) {
    const counts = await open();
    // Atomic: a batch present is present whole, its UPDATE included.
    for (const c of counts) {
      expect(c.rows, `iteration ${i}: batch ${c.batch} has ${c.rows} of ${c.size} rows`).toBe(c.size);
      if (c.touched !== 0) expect(c.touched, `iteration ${i}: batch ${c.batch} is half updated`).toBe(c.size);
    }
    expect(errors, `iteration ${i}: errors in the page`).toEqual([]);
    // Durable: nothing acknowledged is missing.
    const present = new Set(counts.map((c) => c.batch));
    expect([...acknowledged].filter((b) => !present.has(b)), `iteration ${i}: acknowledged batches lost`).toEqual([]);
    if (i === ITERATIONS) {
      const { segments, compacted } = await page.evaluate(() => (window as unknown as WithHarness).crash.segments());
      await context.close();
      expect(errors).toEqual([]);
      return { kills, reloads, started: nextBatch - 1, acknowledged: acknowledged.size, cutOff, present: present.size, segments, compacted };
    }
    const first = nextBatch;
    const count = 8 + Math.floor(next() * 16);
    nextBatch += count;
    await page.evaluate(([f, n, s, j]) => (window as unknown as WithHarness).crash.start(f, n, s, j), [first, count, Math.floor(next() * 1e9), jobs] as const);
    // The kill lands at a random moment: mostly after this burst's first acknowledgement (so every
    // iteration has acknowledged writes to lose), sometimes before anything was acknowledged.
    if (next() < 0.8) {
      await page.waitForFunction((n) => (window as unknown as WithHarness).crash.acked().length > n, 0, { polling: 5 });
    }
    // With jobs, every other iteration (at random) has a longer window: a flush (and a compaction) must be able
    // to finish (over OPFS they take a few hundred ms in a fresh worker, more on a loaded machine), so kills land
    // before, during and after them, while the short windows still cut batches off.
    await page.waitForTimeout(Math.floor(next() * (jobs !== 'none' && next() < 0.5 ? 600 : 60)));
    let done: number[];
    if (next() < 0.25) {
      done = await page.evaluate(() => (window as unknown as WithHarness).crash.acked());
      await page.reload();
      await ready(page);
      reloads++;
    } else {
      done = await page.evaluate(() => (window as unknown as WithHarness).crash.kill());
      kills++;
    }
    for (const b of done) acknowledged.add(b);
    cutOff += count - done.length;
  }
  throw new Error('unreachable');
}
