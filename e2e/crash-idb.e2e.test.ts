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

it(`keeps every batch whole and every acknowledged write across ${ITERATIONS} worker kills and page reloads on 'idb'`, async () => {
  const figures = await crashLoop(browser, inject('crashUrl'), 'idb', 11);
  console.log('idb crash loop', figures);
  // The loop must have both acknowledged and cut off writes, or it proved nothing.
  expect(figures.acknowledged).toBeGreaterThanOrEqual(ITERATIONS / 2);
  expect(figures.cutOff).toBeGreaterThanOrEqual(ITERATIONS / 2);
  expect(figures.kills).toBeGreaterThan(0);
  expect(figures.reloads).toBeGreaterThan(0);
}, 300_000);
