import { inject } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/** How long the demo may take to open its database and create its tables. */
export const READY_TIMEOUT_MS = 20_000;

export interface DemoPage {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen so far, in order. */
  errors: string[];
}

/**
 * Opens the demo in a fresh browser context (so a fresh IndexedDB) and waits
 * until it is ready. Console errors and page errors are collected, not
 * thrown, so a test can assert on them.
 */
export async function openDemo(browser: Browser): Promise<DemoPage> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`page: ${error.message}`));
  await page.goto(inject('demoUrl'));
  await waitUntilReady(page);
  return { context, page, errors };
}

export async function waitUntilReady(page: Page): Promise<void> {
  await page.getByTestId('app-ready').waitFor({ timeout: READY_TIMEOUT_MS });
}

export async function switchUser(page: Page, user: string): Promise<void> {
  await page.getByTestId(`user-${user}`).click();
  await page.locator(`[data-testid="app-ready"][data-user="${user}"]`).waitFor();
}

export async function addTodo(page: Page, title: string): Promise<void> {
  await page.getByTestId('todo-input').fill(title);
  await page.getByTestId('todo-add').click();
  await page.getByTestId('todo-title').filter({ hasText: title }).waitFor();
}

export async function addNote(page: Page, body: string): Promise<void> {
  await page.getByTestId('note-input').fill(body);
  await page.getByTestId('note-add').click();
  await page.getByTestId('note-body').filter({ hasText: body }).waitFor();
}

/** The titles of the to-dos shown right now, once the list has settled. */
export async function todoTitles(page: Page): Promise<string[]> {
  await page.locator('[data-testid="todo-list"], [data-testid="todo-empty"]').first().waitFor();
  return page.getByTestId('todo-title').allTextContents();
}

export async function runSql(page: Page, sql: string): Promise<void> {
  await page.getByTestId('sql-input').fill(sql);
  await page.getByTestId('sql-run').click();
  await page.locator('[data-testid="sql-output"], [data-testid="sql-error"]').first().waitFor();
}
