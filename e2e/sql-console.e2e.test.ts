import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from './browser';
import { addTodo, openDemo, runSql, todoTitles, type DemoPage } from './demo-page';

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

describe('the SQL console', () => {
  it('shows a readable error with its code for bad SQL, and runs the next good query', async () => {
    demo = await openDemo(browser);
    const { page } = demo;
    await addTodo(page, 'Read the manual');

    await runSql(page, 'SELECT title FROM demo.todos WHERE');
    const error = page.getByTestId('sql-error');
    await error.waitFor();
    expect(await page.getByTestId('sql-error-code').textContent()).toBe('PARSE_ERROR');
    expect((await error.textContent())?.length ?? 0).toBeGreaterThan('PARSE_ERROR'.length + 10);

    await runSql(page, 'SELECT * FROM demo.no_such_table');
    await page.getByTestId('sql-error-code').filter({ hasText: 'TABLE_NOT_FOUND' }).waitFor();

    await runSql(page, 'SELECT title, done FROM demo.todos');
    await page.getByTestId('sql-result').waitFor();
    expect(await page.getByTestId('sql-error').count()).toBe(0);
    expect(await page.getByTestId('sql-row').allTextContents()).toEqual(['Read the manualfalse']);

    // The rest of the app kept working too.
    await addTodo(page, 'Write the summary');
    expect(await todoTitles(page)).toEqual(['Write the summary', 'Read the manual']);
    expect(demo.errors).toEqual([]);
  });

  it('runs a write as the current user, and the live to-do list shows it', async () => {
    demo = await openDemo(browser);
    const { page } = demo;
    await runSql(page, "INSERT INTO demo.todos (title) VALUES ('from the console')");
    await page.getByTestId('sql-message').waitFor();
    await page.getByTestId('todo-title').filter({ hasText: 'from the console' }).waitFor();
    expect(await todoTitles(page)).toEqual(['from the console']);
  });

  it('loads the code of index statements on first use in the browser: CREATE INDEX by a user is refused with PERMISSION_DENIED, not VERSION_MISMATCH', async () => {
    demo = await openDemo(browser);
    const { page } = demo;
    // worker-parse-index.js (the parser), worker-index-ddl.js and worker-index-support.js load before the permission check.
    await runSql(page, 'CREATE INDEX by_title ON demo.todos (title)');
    await page.getByTestId('sql-error-code').filter({ hasText: 'PERMISSION_DENIED' }).waitFor();
    await runSql(page, 'SELECT title FROM demo.todos');
    await page.getByTestId('sql-result').waitFor();
    expect(demo.errors).toEqual([]);
  });
});
