import { afterAll, beforeAll, expect, inject, it } from 'vitest';
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

// Every iteration starts a FLUSH TABLE among its writes, so kills land before, during and after flushes.
it(`keeps every batch whole, once, and every acknowledged write across ${ITERATIONS} kills and reloads with flushes in progress on 'idb'`, async () => {
  const figures = await crashLoop(browser, inject('crashUrl'), 'idb', 37, true);
  console.log('idb crash loop with flushes', figures);
  expect(figures.acknowledged).toBeGreaterThan(ITERATIONS);
  expect(figures.cutOff).toBeGreaterThan(ITERATIONS);
  expect(figures.segments).toBeGreaterThan(0); // flushes did complete between kills
}, 240_000);
