/**
 * createClient({ migrations }) in a real browser, over the origin's shared
 * engine (transport 'auto': a SharedWorker in Chromium; and a leader tab's
 * worker): two tabs starting at once with the same migrations run them
 * once and both start with them applied; a changed or failing migration is
 * refused without touching the database; after every client closed, the
 * next engine reads the applied versions back from IndexedDB.
 */
import { afterAll, afterEach, beforeAll, expect, inject, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './browser';

let browser: Browser;
let context: BrowserContext | undefined;
let databases = 0;

beforeAll(async () => {
  browser = await launchChromium();
});

afterEach(async () => {
  await context?.close();
  context = undefined;
});

afterAll(async () => {
  await browser?.close();
});

async function openPage(): Promise<Page> {
  context ??= await browser.newContext();
  const page = await context.newPage();
  await page.goto(inject('crashUrl'));
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  return page;
}

interface Migration {
  version: number;
  sql: string;
}

const V1: Migration = { version: 1, sql: "CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id BIGINT PRIMARY KEY, label TEXT) WITH (ACCESS_LEVEL = 'public')" };
const V2: Migration = { version: 2, sql: "ALTER TABLE app.items ADD COLUMN done BOOLEAN DEFAULT false; INSERT INTO app.items (id, label) VALUES (1, 'seed')" };

type Outcome = { ok: true; versions: number[]; rows: unknown[] } | { ok: false; code: string; message: string };

/** Opens a client with `migrations` on the page (kept as `window.clients[slot]`), and reads what it sees at once. */
function open(page: Page, name: string, slot: string, transport: string, migrations: Migration[]): Promise<Outcome> {
  return page.evaluate(
    async ({ name, slot, transport, migrations }) => {
      type W = Window & {
        kalamlite: { createClient: typeof import('@kalamlite/worker').createClient };
        clients?: Record<string, import('@kalamlite/worker').KalamClient>;
      };
      const w = window as unknown as W;
      try {
        const client = await w.kalamlite.createClient({ name, storage: 'idb', transport: transport as 'auto', migrations });
        (w.clients ??= {})[slot] = client;
        const admin = client.session({ user: 'root', role: 'dba' });
        const versions = (await admin.query('SELECT version FROM system.migrations ORDER BY version')).rows.map((r) => Number(r.version));
        const rows = (await admin.query('SELECT id, label, done FROM app.items ORDER BY id')).rows.map((r) => ({ ...r, id: Number(r.id) }));
        return { ok: true as const, versions, rows };
      } catch (e) {
        const error = e as { code: string; message: string };
        return { ok: false as const, code: error.code, message: error.message };
      }
    },
    { name, slot, transport, migrations },
  );
}

function closeClient(page: Page, slot: string): Promise<void> {
  return page.evaluate(async (slot) => {
    await (window as unknown as { clients: Record<string, import('@kalamlite/worker').KalamClient> }).clients[slot].close();
  }, slot);
}

it.each(['auto', 'leader'])('two tabs starting at once with the same migrations (transport %s) apply them once; bad lists are refused; the versions persist', async (transport) => {
  const name = `migrations-${transport}-${++databases}`;
  const [a, b] = [await openPage(), await openPage()];
  const applied = { ok: true, versions: [1, 2], rows: [{ id: 1, label: 'seed', done: false }] };
  // Started together: one tab's engine runs them, the other waits and finds them applied (the seed INSERT would fail twice).
  const both = await Promise.all([open(a, name, 'a', transport, [V1, V2]), open(b, name, 'b', transport, [V1, V2])]);
  expect(both).toEqual([applied, applied]);

  const changed = await open(b, name, 'changed', transport, [{ version: 1, sql: `${V1.sql}; CREATE TABLE app.more (id INT PRIMARY KEY)` }, V2]);
  expect(changed).toMatchObject({ ok: false, code: 'MIGRATION_MISMATCH' });
  const failing = await open(b, name, 'failing', transport, [V1, V2, { version: 3, sql: "CREATE TABLE app.extra (id INT PRIMARY KEY); INSERT INTO app.items (id, label) VALUES (1, 'again')" }]);
  expect(failing).toMatchObject({ ok: false, code: 'MIGRATION_FAILED' });
  expect((failing as { message: string }).message).toContain('Migration 3 failed at statement 2 of 2');

  await closeClient(a, 'a');
  await closeClient(b, 'b');
  // The next engine reads them from IndexedDB: nothing runs again, migration 3 left nothing behind.
  expect(await open(a, name, 'again', transport, [V1, V2])).toEqual(applied);
  const tables = await a.evaluate(async () => {
    const client = (window as unknown as { clients: Record<string, import('@kalamlite/worker').KalamClient> }).clients.again;
    return (await client.session({ user: 'root', role: 'dba' }).query("SELECT table_name FROM system.tables WHERE namespace_id = 'app'")).rows.map((r) => r.table_name);
  });
  expect(tables).toEqual(['items']);
});
