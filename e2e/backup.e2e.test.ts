/**
 * Export and import in a real Chromium, through the worker client: a
 * database with tables of every kind and rows of several users is exported
 * with client.exportDatabase(), imported into a new database over 'idb' and
 * over 'opfs', and read back the same (rows, types, table definitions); the
 * file also goes through a real download and a file input as a `File`; and
 * an import cut off by terminating its worker is rolled back when the
 * database is opened again.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './browser';

let browser: Browser;
let context: BrowserContext;
let page: Page;
let downloads: string;

beforeAll(async () => {
  browser = await launchChromium();
  context = await browser.newContext({ acceptDownloads: true });
  page = await context.newPage();
  await page.goto(inject('crashUrl'));
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
  downloads = await mkdtemp(join(tmpdir(), 'kalamlite-backup-'));
  // Helpers the page keeps: a source database filled with every kind of table, and a dump of what a user reads.
  await page.evaluate(async () => {
    type Client = import('@kalamlite/worker').KalamClient;
    const w = window as unknown as Window & {
      kalamlite: { createClient: typeof import('@kalamlite/worker').createClient };
      backup: Record<string, unknown>;
    };
    const USERS = ['alice', 'bob', 'carol'];
    /** A value as JSON can carry it, its JS type kept: bigints, bytes, -0 and infinities tagged. */
    const plain = (v: unknown): unknown => {
      if (typeof v === 'bigint') return { bigint: v.toString() };
      if (v instanceof Uint8Array) return { bytes: [...v] };
      if (typeof v === 'number' && (Object.is(v, -0) || !Number.isFinite(v))) return { number: Object.is(v, -0) ? '-0' : String(v) };
      if (Array.isArray(v)) return v.map(plain);
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
      return v;
    };
    const dump = async (client: Client) => {
      const q = async (sql: string, user = 'root') => plain((await client.session({ user, role: 'dba' }).query(sql)).rows);
      const out: Record<string, unknown> = {
        namespaces: await q('SELECT name FROM system.namespaces ORDER BY name'),
        tables: await q('SELECT namespace_id, table_name, table_type, version, access_level, ttl_seconds, options FROM system.tables ORDER BY table_name'),
        columns: await q('SELECT table_name, column_id, column_name, ordinal, data_type, nullable, primary_key, default_value FROM system.columns ORDER BY table_name, ordinal'),
        users: await q('SELECT user_id, role, email FROM system.users ORDER BY user_id'),
      };
      if ((out.tables as unknown[]).length === 0) return out;
      for (const user of USERS) {
        out[`typed/${user}`] = await q('SELECT *, _seq FROM app.typed ORDER BY id', user);
        out[`events/${user}`] = await q('SELECT *, _seq FROM app.events ORDER BY _seq', user);
      }
      out.catalog = await q('SELECT *, _seq FROM app.catalog ORDER BY id');
      out.settings = await q('SELECT *, _seq FROM settings ORDER BY k');
      return out;
    };
    const source = await w.kalamlite.createClient({ name: `backup-source-${Date.now()}`, storage: 'idb' });
    const root = source.session({ user: 'root', role: 'system' });
    await root.execute(`CREATE NAMESPACE app;
      CREATE USER TABLE app.typed (id BIGINT PRIMARY KEY, b BOOLEAN, s SMALLINT, i INT, f FLOAT, d DOUBLE, dec DECIMAL(10, 2),
        t TEXT NOT NULL DEFAULT 'none', bytes BYTES, j JSON, ts TIMESTAMP, dt DATETIME, day DATE, tm TIME, u UUID);
      CREATE SHARED TABLE app.catalog (id INT PRIMARY KEY, label TEXT DEFAULT 'x') WITH (ACCESS_LEVEL = 'public');
      CREATE STREAM TABLE app.events (kind TEXT, body JSON) WITH (TTL_SECONDS = 3600);
      CREATE SHARED TABLE settings (k TEXT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'dba');
      CREATE USER 'alice' ROLE user; CREATE USER 'ops' ROLE dba`);
    for (const [n, user] of USERS.entries()) {
      const s = source.session({ user, namespace: 'app' });
      await s.execute('INSERT INTO typed VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)', [
        BigInt(n), n % 2 === 0, -32768 + n, 2147483647 - n, 1.5, [-0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][n], 12.25,
        `ünïcödé 🦀 ${user} \u0000 中文`, new Uint8Array([0, 255, n]), { nested: { list: [1, 'two', null, true] }, n },
        1_700_000_000_000 + n, 1_600_000_000_000, '2024-02-29', '23:59:59', '0190a5a8-7f1e-7c1b-9b1e-2f1c4b5d6e7f',
      ]);
      await s.execute(`INSERT INTO typed (id, t) VALUES ${Array.from({ length: 1500 }, (_, i) => `(${100 + i}, 'row ${i} of ${user}')`).join(', ')}`);
      await s.execute(`INSERT INTO events (kind, body) VALUES ('login', '{"user": "${user}"}')`);
    }
    await root.execute(`INSERT INTO app.catalog (id, label) VALUES (1, 'one'), (2, NULL); INSERT INTO app.catalog (id) VALUES (3);
      INSERT INTO settings (k, v) VALUES ('theme', 'dark')`);
    // Some rows cold, some hot: flushed, then changed.
    await root.execute('STORAGE FLUSH ALL IN app');
    await source.session({ user: 'bob', namespace: 'app' }).execute(`UPDATE typed SET t = 'hot again' WHERE id = 150; DELETE FROM typed WHERE id = 160`);
    w.backup = { dump, source, expected: await dump(source), file: await source.exportDatabase() };
  });
}, 120_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  if (downloads) await rm(downloads, { recursive: true, force: true });
});

for (const storage of ['idb', 'opfs'] as const) {
  it(`imports the export into a new database over '${storage}': the same rows, types and definitions, and again after a reopen`, async () => {
    const outcome = await page.evaluate(async (storage) => {
      type Client = import('@kalamlite/worker').KalamClient;
      const w = window as unknown as Window & {
        kalamlite: { createClient: typeof import('@kalamlite/worker').createClient };
        backup: { dump(c: Client): Promise<Record<string, unknown>>; expected: Record<string, unknown>; file: Blob };
      };
      const name = `backup-${storage}-${Date.now()}`;
      const target = await w.kalamlite.createClient({ name, storage });
      const progress: { rows: number; tables: number }[] = [];
      const result = await target.importDatabase(w.backup.file, { onProgress: (p) => progress.push(p) });
      const restored = await w.backup.dump(target);
      await target.close();
      const reopened = await w.kalamlite.createClient({ name, storage });
      const again = await reopened.session({ user: 'bob', namespace: 'app' }).query('SELECT id, t, j, bytes FROM typed WHERE id = 1');
      const afterReopen = await w.backup.dump(reopened);
      await reopened.close();
      const row = again.rows[0];
      return {
        result, restored, afterReopen, last: progress[progress.length - 1], fileSize: w.backup.file.size,
        types: [typeof row.id, row.bytes instanceof Uint8Array, Object.isFrozen(row.j), row.t],
      };
    }, storage);
    const expected = await page.evaluate(() => (window as unknown as { backup: { expected: unknown } }).backup.expected);
    expect(outcome.result).toEqual({ kind: 'database', namespaces: 1, tables: 4, rows: 3 * 1501 - 1 + 3 + 3 + 1, users: 2 });
    expect(outcome.last).toEqual({ rows: outcome.result.rows, tables: 4 });
    expect(outcome.restored).toEqual(expected);
    expect(outcome.afterReopen).toEqual(expected);
    expect(outcome.types).toEqual(['bigint', true, true, 'ünïcödé 🦀 bob \u0000 中文']);
    expect(outcome.fileSize).toBeGreaterThan(1000);
  }, 120_000);
}

it('a file goes through a real download and back in through a file input, as a File', async () => {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.evaluate(() => {
      const file = (window as unknown as { backup: { file: Blob } }).backup.file;
      const a = document.createElement('a');
      a.href = URL.createObjectURL(file);
      a.download = 'kalamlite-export.kalam';
      document.body.append(a);
      a.click();
      a.remove();
    }),
  ]);
  expect(download.suggestedFilename()).toBe('kalamlite-export.kalam');
  const path = join(downloads, download.suggestedFilename());
  await download.saveAs(path);
  await page.evaluate(() => {
    const input = document.createElement('input');
    input.type = 'file';
    input.id = 'import-file';
    document.body.append(input);
  });
  await page.setInputFiles('#import-file', path);
  const outcome = await page.evaluate(async () => {
    type Client = import('@kalamlite/worker').KalamClient;
    const w = window as unknown as Window & {
      kalamlite: { createClient: typeof import('@kalamlite/worker').createClient };
      backup: { dump(c: Client): Promise<Record<string, unknown>>; expected: Record<string, unknown>; file: Blob };
    };
    const file = (document.getElementById('import-file') as HTMLInputElement).files![0];
    const target = await w.kalamlite.createClient({ name: `backup-file-${Date.now()}`, storage: 'idb' });
    const result = await target.importDatabase(file);
    const restored = await w.backup.dump(target);
    await target.close();
    return { isFile: file instanceof File, name: file.name, size: file.size, expectedSize: w.backup.file.size, result, same: JSON.stringify(restored) === JSON.stringify(w.backup.expected) };
  });
  expect(outcome).toMatchObject({ isFile: true, name: 'kalamlite-export.kalam', result: { kind: 'database', tables: 4 }, same: true });
  expect(outcome.size).toBe(outcome.expectedSize);
}, 120_000);

for (const storage of ['idb', 'opfs'] as const) {
  it(`an import cut off by terminating its worker over '${storage}' is rolled back at the next open, and runs again`, async () => {
    const outcome = await page.evaluate(async (storage) => {
      type Client = import('@kalamlite/worker').KalamClient;
      const w = window as unknown as Window & {
        kalamlite: { createClient: typeof import('@kalamlite/worker').createClient; openWorkerClient(storage: 'idb' | 'opfs', name: string): Promise<Client> };
        crash: { kill(): number[] };
        backup: { big?: Blob };
      };
      // A file of many records (30,000 rows, ~30 MB), so the import is still running when the kill lands.
      if (!w.backup.big) {
        const source = await w.kalamlite.createClient({ name: `backup-big-${Date.now()}`, storage: 'idb' });
        await source.session({ user: 'root', role: 'dba' }).execute('CREATE NAMESPACE big; CREATE USER TABLE big.rows (id INT PRIMARY KEY, body TEXT)');
        const pad = 'x'.repeat(1000); // large rows: each commit writes ~1 MB, flushes run, so the import takes a while
        for (const user of ['u1', 'u2', 'u3']) {
          for (let b = 0; b < 5; b++) {
            const values = Array.from({ length: 2000 }, (_, i) => `(${b * 2000 + i}, $1)`);
            await source.session({ user }).execute(`INSERT INTO big.rows (id, body) VALUES ${values.join(', ')}`, [`${user} ${pad}`]);
          }
        }
        w.backup.big = await source.exportDatabase();
        await source.close();
      }
      const file = w.backup.big;
      const name = `backup-cut-${storage}-${Date.now()}`;
      const target = await w.kalamlite.openWorkerClient(storage, name);
      let cutAt = -1;
      let isSettled = false;
      // The worker is terminated at the first progress report (some rows are in): the import never settles.
      await new Promise<void>((resolve) => {
        target.importDatabase(file, {
          onProgress: (p) => {
            if (cutAt >= 0 || p.rows === 0) return;
            cutAt = p.rows;
            w.crash.kill();
            resolve();
          },
        }).then(() => { isSettled = true; resolve(); }, () => { isSettled = true; resolve(); });
      });
      const reopened = await w.kalamlite.openWorkerClient(storage, name);
      const root = reopened.session({ user: 'root', role: 'dba' });
      const step = async <T>(what: string, fn: () => Promise<T>): Promise<T | string> => {
        try {
          return await fn();
        } catch (e) {
          return `${what} failed: ${e instanceof Error ? e.message : String(e)}`;
        }
      };
      const tablesAfterCut = await step('system.tables', async () => (await root.query('SELECT table_name FROM system.tables')).rows);
      const namespacesAfterCut = await step('system.namespaces', async () => (await root.query('SELECT name FROM system.namespaces')).rows);
      const jobs = await step('system.jobs', async () => (await root.query("SELECT job_type, status, rows_affected, message FROM system.jobs")).rows);
      const result = await step('import', () => reopened.importDatabase(file));
      const count = await step('count', async () => Number((await reopened.session({ user: 'u2' }).query('SELECT COUNT(*) AS n FROM big.rows')).rows[0].n));
      w.crash.kill();
      return { cutAt, isSettled, tablesAfterCut, namespacesAfterCut, jobs, result, count };
    }, storage);
    expect(outcome.isSettled).toBe(false);
    expect(outcome.cutAt).toBeGreaterThan(0);
    expect(outcome.cutAt).toBeLessThan(30_000);
    expect([outcome.tablesAfterCut, outcome.namespacesAfterCut]).toEqual([[], [{ name: 'default' }]]);
    expect(outcome.jobs).toMatchObject([{ status: 'completed', rows_affected: 1 }]);
    expect(outcome.result).toMatchObject({ tables: 1, rows: 30_000 });
    expect(outcome.count).toBe(10_000);
  }, 120_000);
}
