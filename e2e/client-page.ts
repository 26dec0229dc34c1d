/**
 * A Chromium page on the e2e test page (`inject('crashUrl')`: the worker
 * client on `window.kalamlite`, `#status` 'ready' once it loaded), opened
 * before a file's tests and closed after them.
 */
import { afterAll, beforeAll, inject } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser';

export function clientPage(): { readonly page: Page } {
  let browser: Browser | undefined;
  let page: Page | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    await page.goto(inject('crashUrl'));
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  });
  afterAll(async () => {
    await browser?.close();
  });
  return {
    get page(): Page {
      if (!page) throw new Error('the page opens in beforeAll: use it inside a test');
      return page;
    },
  };
}
