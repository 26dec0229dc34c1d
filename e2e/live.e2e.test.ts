import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser';
import { addTodo, openDemo, type DemoPage } from './demo-page';

let browser: Browser;
let demo: DemoPage | undefined;

beforeAll(async () => {
  browser = await launchChromium();
});

afterEach(async () => {
  await demo?.context.close();
  demo = undefined;
});

afterAll(async () => {
  await browser?.close();
});

/**
 * Starts counting animation frames in the page and, on every frame, notes
 * the first frame in which each of two conditions held. rAF callbacks run
 * just before paint, so a condition seen in frame n is on screen in frame n.
 */
async function watchFrames(page: Page, listTitle: string, badgeOpen: string): Promise<void> {
  await page.evaluate(
    ({ listTitle, badgeOpen }) => {
      const seen: { frame: number; list?: number; badge?: number } = { frame: 0 };
      (window as unknown as { __liveFrames: typeof seen }).__liveFrames = seen;
      const tick = () => {
        seen.frame++;
        const titles = [...document.querySelectorAll('[data-testid="todo-item"][data-done="true"] [data-testid="todo-title"]')].map((e) => e.textContent);
        if (seen.list === undefined && titles.includes(listTitle)) seen.list = seen.frame;
        if (seen.badge === undefined && document.querySelector('[data-testid="todo-badge"]')?.getAttribute('data-open') === badgeOpen) seen.badge = seen.frame;
        if (seen.list === undefined || seen.badge === undefined) requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    },
    { listTitle, badgeOpen },
  );
}

async function renderCounts(page: Page): Promise<Record<string, number>> {
  const items = page.getByTestId('todo-item');
  const counts: Record<string, number> = {};
  for (let i = 0; i < (await items.count()); i++) {
    const item = items.nth(i);
    counts[(await item.getByTestId('todo-title').textContent()) ?? ''] = Number(await item.getAttribute('data-renders'));
  }
  return counts;
}

describe('live queries in the demo', () => {
  it('shows a change made in the to-do list in the header badge within the same animation frame', async () => {
    demo = await openDemo(browser);
    const { page } = demo;
    await page.locator('[data-testid="todo-badge"][data-open="0"]').waitFor();
    await addTodo(page, 'Call the plumber');
    await addTodo(page, 'Renew the passport');
    await page.locator('[data-testid="todo-badge"][data-open="2"]').waitFor();

    await watchFrames(page, 'Call the plumber', '1');
    await page.getByTestId('todo-item').filter({ hasText: 'Call the plumber' }).getByTestId('todo-toggle').click();
    await page.waitForFunction(() => {
      const seen = (window as unknown as { __liveFrames: { list?: number; badge?: number } }).__liveFrames;
      return seen.list !== undefined && seen.badge !== undefined;
    });
    const seen = await page.evaluate(() => (window as unknown as { __liveFrames: { list: number; badge: number } }).__liveFrames);
    expect(seen.badge).toBe(seen.list);
    expect(demo.errors).toEqual([]);
  });

  it('re-renders only the memoized row whose data changed', async () => {
    demo = await openDemo(browser);
    const { page } = demo;
    for (const title of ['Buy bread', 'Book flights', 'Fix the bike']) await addTodo(page, title);
    await page.locator('[data-testid="todo-badge"][data-open="3"]').waitFor();
    const before = await renderCounts(page);
    expect(Object.keys(before).sort()).toEqual(['Book flights', 'Buy bread', 'Fix the bike']);

    await page.getByTestId('todo-item').filter({ hasText: 'Book flights' }).getByTestId('todo-toggle').click();
    await page.locator('[data-testid="todo-item"][data-done="true"]').filter({ hasText: 'Book flights' }).waitFor();
    await page.locator('[data-testid="todo-badge"][data-open="2"]').waitFor();
    const after = await renderCounts(page);
    expect(after['Buy bread']).toBe(before['Buy bread']);
    expect(after['Fix the bike']).toBe(before['Fix the bike']);
    expect(after['Book flights']).toBeGreaterThan(before['Book flights']);
    expect(demo.errors).toEqual([]);
  });
});
