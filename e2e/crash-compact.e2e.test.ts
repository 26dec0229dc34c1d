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

// Every iteration starts a FLUSH TABLE and a STORAGE COMPACT TABLE among its writes, so kills land before,
// during and after compactions (merging the segments earlier flushes wrote): a version a compaction wrote and
// whose inputs were also left in the manifest would show as a batch with too many rows, a dropped one as a
// lost or partial batch.
describe.each([
  ['idb', 53],
  ['opfs', 59],
] as const)('with compactions in progress on %s', (storage, seed) => {
  it(`keeps every batch whole, once, and every acknowledged write across ${ITERATIONS} kills and reloads`, async () => {
    const figures = await crashLoop(browser, inject('crashUrl'), storage, seed, 'compact');
    console.log(`${storage} crash loop with compactions`, figures);
    expect(figures.acknowledged).toBeGreaterThanOrEqual(ITERATIONS / 2);
    expect(figures.cutOff).toBeGreaterThanOrEqual(ITERATIONS / 2);
    expect(figures.compacted).toBeGreaterThan(0); // compactions did complete between kills
  }, 300_000);
});
