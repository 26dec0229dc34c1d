import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser';
import { addNote, addTodo, openDemo, runSql, switchUser, todoTitles, waitUntilReady, type DemoPage } from './demo-page';

const screenshotDir = fileURLToPath(new URL('./screenshots/', import.meta.url));

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

describe('the demo', () => {
  it('opens its database and shows the header, both lists and the console without console errors', async () => {
    demo = await openDemo(browser);
    const { page } = demo;
    await expect(page.getByTestId('app-header').textContent()).resolves.toContain('kalamlite demo');
    await page.getByTestId('todo-empty').waitFor();
    await page.getByTestId('note-empty').waitFor();
    await page.getByTestId('sql-console').waitFor();
    expect(demo.errors).toEqual([]);
  });

  it('shows an added to-do, keeps it across a reload, and toggles and deletes it', async () => {
    demo = await openDemo(browser);
    const { page } = demo;
    await addTodo(page, 'Buy oat milk');
    await addTodo(page, 'Water the plants');
    expect(await todoTitles(page)).toEqual(['Water the plants', 'Buy oat milk']);

    await page.reload();
    await waitUntilReady(page);
    await page.getByTestId('todo-list').waitFor();
    expect(await todoTitles(page)).toEqual(['Water the plants', 'Buy oat milk']);

    const milk = page.getByTestId('todo-item').filter({ hasText: 'Buy oat milk' });
    await milk.getByTestId('todo-toggle').click();
    await page.locator('[data-testid="todo-item"][data-done="true"]').filter({ hasText: 'Buy oat milk' }).waitFor();
    await expect(page.getByTestId('todo-summary').textContent()).resolves.toBe('1 open · 1 done');

    await milk.getByTestId('todo-delete').click();
    await milk.waitFor({ state: 'detached' });
    expect(await todoTitles(page)).toEqual(['Water the plants']);
    expect(demo.errors).toEqual([]);
  });

  it("shows each user only their own to-dos, and remembers the chosen user across a reload", async () => {
    demo = await openDemo(browser);
    const { page } = demo;
    await switchUser(page, 'alice');
    await addTodo(page, 'Alice: write the report');

    await switchUser(page, 'bob');
    await page.getByTestId('todo-empty').waitFor();
    expect(await todoTitles(page)).toEqual([]);
    await addTodo(page, 'Bob: fix the bike');
    expect(await todoTitles(page)).toEqual(['Bob: fix the bike']);

    await switchUser(page, 'alice');
    await page.getByTestId('todo-list').waitFor();
    expect(await todoTitles(page)).toEqual(['Alice: write the report']);

    await switchUser(page, 'bob');
    await page.reload();
    await waitUntilReady(page);
    expect(await page.getByTestId('app-ready').getAttribute('data-user')).toBe('bob');
    await page.getByTestId('todo-list').waitFor();
    expect(await todoTitles(page)).toEqual(['Bob: fix the bike']);
    expect(demo.errors).toEqual([]);
  });

  it('shows a shared note to every user', async () => {
    demo = await openDemo(browser);
    const { page } = demo;
    await switchUser(page, 'alice');
    await addNote(page, 'Standup moved to 10:30');
    await addTodo(page, 'Prepare slides');

    for (const user of ['bob', 'carol']) {
      await switchUser(page, user);
      await page.getByTestId('note-body').filter({ hasText: 'Standup moved to 10:30' }).waitFor();
      expect(await page.getByTestId('note-item').count()).toBe(1);
      await page.getByTestId('todo-empty').waitFor();
    }
    await addNote(page, 'Carol: cake in the kitchen');

    await switchUser(page, 'alice');
    await page.getByTestId('todo-list').waitFor();
    await addTodo(page, 'Book the meeting room');
    await page.getByTestId('todo-item').filter({ hasText: 'Prepare slides' }).getByTestId('todo-toggle').click();
    await page.locator('[data-testid="todo-item"][data-done="true"]').waitFor();
    await runSql(page, 'SELECT title, done FROM demo.todos ORDER BY title');
    await page.getByTestId('sql-result').waitFor();
    await mkdir(screenshotDir, { recursive: true });
    await page.screenshot({ path: `${screenshotDir}demo.png`, fullPage: true });
    expect(demo.errors).toEqual([]);
  });
});
