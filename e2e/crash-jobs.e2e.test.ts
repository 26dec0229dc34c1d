import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser';
import { crashLoop, ITERATIONS } from './crash-page/loop';

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

// 'flush': every iteration starts a FLUSH TABLE among its writes, so kills land before, during and after flushes;
// a row flushed and also left hot would show as a batch with too many rows.
// 'compact': a FLUSH TABLE and a STORAGE COMPACT TABLE, so kills also land before, during and after compactions
// (merging the segments earlier flushes wrote): a version a compaction wrote whose inputs were also left in the
// manifest would show as a batch with too many rows, a dropped one as a lost or partial batch.
describe.each([
  ['flush', 'idb', 37],
  ['flush', 'opfs', 41],
  ['compact', 'idb', 53],
  ['compact', 'opfs', 59],
] as const)('with %s jobs in progress on %s', (jobs, storage, seed) => {
  it(`keeps every batch whole, once, and every acknowledged write across ${ITERATIONS} kills and reloads`, async () => {
    const figures = await crashLoop(browser, inject('crashUrl'), storage, seed, jobs);
    console.log(`${storage} crash loop with ${jobs} jobs`, figures);
    expect(figures.acknowledged).toBeGreaterThanOrEqual(ITERATIONS / 2);
    expect(figures.cutOff).toBeGreaterThanOrEqual(ITERATIONS / 2);
    if (jobs === 'flush') expect(figures.segments).toBeGreaterThan(0); // flushes did complete between kills
    else expect(figures.compacted).toBeGreaterThan(0); // compactions did complete between kills
  }, 300_000);
});
