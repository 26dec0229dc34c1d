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

// Every iteration starts a FLUSH TABLE among its writes, so kills land before, during and after flushes;
// a row flushed and also left hot would show as a batch with too many rows.
describe.each([
  ['idb', 37],
  ['opfs', 41],
] as const)('with flushes in progress on %s', (storage, seed) => {
  it(`keeps every batch whole, once, and every acknowledged write across ${ITERATIONS} kills and reloads`, async () => {
    const figures = await crashLoop(browser, inject('crashUrl'), storage, seed, 'flush');
    console.log(`${storage} crash loop with flushes`, figures);
    expect(figures.acknowledged).toBeGreaterThanOrEqual(ITERATIONS / 2);
    expect(figures.cutOff).toBeGreaterThanOrEqual(ITERATIONS / 2);
    expect(figures.segments).toBeGreaterThan(0); // flushes did complete between kills
  }, 300_000);
});
