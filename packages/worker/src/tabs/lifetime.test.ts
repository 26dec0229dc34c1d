/**
 * Workers end with their databases: createClient() end to end over a fake
 * browser (browser.fixture.ts) — its SharedWorker and leader worker run the
 * worker entry's modes in this thread — counting the workers alive.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Row } from '@kalamlite/engine';
import { createClient } from '../client';
import type { KalamClient } from '../types';
import { findHost } from './broadcast';
import { fakeBrowser, type FakeBrowser } from './browser.fixture';
import { linkTo } from './link';
import { holdLock, lockNames, withSharedLock } from './locks';
import { STORAGE_FORMAT } from './storage-format';
import { transportOf } from './transport-info';

afterEach(() => {
  vi.unstubAllGlobals();
});

let databases = 0;
const nextName = () => `life-${++databases}`;

/** Waits until `check()` holds; fails after `ms`. */
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`still false after ${ms} ms: ${check.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** `promise`, or a failure naming `what` if it has not settled within `ms` (a hang). */
async function within<T>(promise: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function admin(client: KalamClient) {
  return client.session({ user: 'admin', role: 'dba' });
}

async function count(client: KalamClient): Promise<number> {
  const { rows } = await admin(client).query('SELECT COUNT(*) AS n FROM t');
  return Number(rows[0].n);
}

async function withTable(client: KalamClient): Promise<void> {
  await admin(client).execute("CREATE SHARED TABLE IF NOT EXISTS t (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL = 'public')");
}

/** Workers alive of the kind the transport uses. */
function alive(browser: FakeBrowser, kind: 'shared-worker' | 'leader'): number {
  return kind === 'shared-worker' ? browser.sharedWorkers : browser.dedicatedWorkers;
}

function started(browser: FakeBrowser, kind: 'shared-worker' | 'leader'): number {
  return kind === 'shared-worker' ? browser.sharedWorkersStarted : browser.dedicatedWorkersStarted;
}

describe.each(['shared-worker', 'leader'] as const)('a %s ends with its database', (kind) => {
  function install(): FakeBrowser {
    const browser = fakeBrowser({ shared: kind === 'shared-worker' });
    browser.install();
    return browser;
  }

  it('when the last client closes: a page that opens and closes three databases keeps no worker', async () => {
    const browser = install();
    for (let i = 0; i < 3; i++) {
      const client = await createClient({ name: nextName(), storage: 'memory' });
      expect(transportOf(client).kind).toBe(kind);
      await withTable(client);
      await client.close();
    }
    await until(() => alive(browser, kind) === 0);
    expect(started(browser, kind)).toBe(3);
  });

  it('only with the last of several clients, and the next client starts a fresh one that reads what was written', async () => {
    const browser = install();
    const name = nextName();
    const a = await createClient({ name, storage: 'memory' });
    const b = await createClient({ name, storage: 'memory' });
    await withTable(a);
    await admin(a).execute('INSERT INTO t (id) VALUES (1), (2)');
    await a.close();
    // A round trip of the other client after the close: the worker has handled the close, and serves on.
    expect(await count(b)).toBe(2);
    expect(alive(browser, kind)).toBe(1);
    await b.close();
    await until(() => alive(browser, kind) === 0);

    const c = await createClient({ name, storage: 'memory' });
    expect(await count(c)).toBe(2);
    expect(started(browser, kind)).toBe(2);
    await c.close();
    await until(() => alive(browser, kind) === 0);
  });

  it('rolls back an open transaction and stops the live queries of the last client when it closes', async () => {
    const browser = install();
    const name = nextName();
    const a = await createClient({ name, storage: 'memory' });
    await withTable(a);
    const seen: (readonly Row[])[] = [];
    await a.session({ user: 'bob' }).live('SELECT id FROM t', [], (rows) => {
      seen.push(rows);
    });
    await until(() => seen.length === 1);
    const tx = await admin(a).begin();
    await tx.execute('INSERT INTO t (id) VALUES (7)');
    await within(a.close(), 'close() with a live query and an open transaction');
    await until(() => alive(browser, kind) === 0);
    await expect(tx.commit()).rejects.toMatchObject({ code: 'CLOSED' });

    const b = await createClient({ name, storage: 'memory' });
    expect(await count(b)).toBe(0);
    // A live query of the new client sees the insert: the closed client's live query, stopped, saw nothing of it.
    let latest: readonly Row[] = [];
    await b.session({ user: 'bob' }).live('SELECT id FROM t', [], (rows) => {
      latest = rows;
    });
    await admin(b).execute('INSERT INTO t (id) VALUES (8)');
    await until(() => latest.length === 1);
    expect(seen).toHaveLength(1);
    await b.close();
  });

  it('never hangs a client created while the last one closes: it keeps the worker or starts a fresh one', async () => {
    const browser = install();
    const name = nextName();
    let client = await createClient({ name, storage: 'memory' });
    await withTable(client);
    await admin(client).execute('INSERT INTO t (id) VALUES (1)');
    for (let round = 0; round < 25; round++) {
      const closing = client;
      // The new client starts before, with, or just after the close.
      const delay = round % 5;
      const [, next] = await within(
        Promise.all([
          closing.close(),
          (async () => {
            if (delay > 0) await sleep(delay - 1);
            return createClient({ name, storage: 'memory' });
          })(),
        ]),
        `round ${round}`,
      );
      client = next;
      expect(await within(count(client), `round ${round}: a statement`)).toBe(1);
    }
    await client.close();
    await until(() => alive(browser, kind) === 0);
    expect(browser.droppedConnects).toBe(0);
  });
});

describe('a SharedWorker', () => {
  it('is knocked on again when the browser drops a connect, and answers well within the start timeout', async () => {
    const browser = fakeBrowser();
    browser.install();
    browser.dropConnects(2);
    const begun = Date.now();
    const client = await createClient({ name: nextName(), storage: 'memory' });
    // Knocks at 0.5 s and 1.5 s; the start timeout is 10 s.
    expect(Date.now() - begun).toBeLessThan(5000);
    expect(browser.droppedConnects).toBe(2);
    expect(browser.sharedWorkersStarted).toBe(1);
    await withTable(client);
    await client.close();
    await until(() => browser.sharedWorkers === 0);
  });

  it('that crashes is replaced by a fresh one for its clients', async () => {
    const browser = fakeBrowser();
    browser.install();
    const client = await createClient({ name: nextName(), storage: 'memory' });
    await withTable(client);
    await admin(client).execute('INSERT INTO t (id) VALUES (1)');
    browser.crashSharedWorkers();
    await until(() => transportOf(client).failovers === 1);
    expect(await within(count(client), 'a statement after the crash')).toBe(1);
    expect(browser.sharedWorkersStarted).toBe(2);
    await client.close();
    await until(() => browser.sharedWorkers === 0);
  });
});

describe("a leader tab's worker", () => {
  it("outlives its page's last client while another tab's client uses it, and ends after that client leaves", async () => {
    const browser = fakeBrowser({ shared: false });
    browser.install();
    const name = nextName();
    const own = await createClient({ name, storage: 'memory' });
    expect(transportOf(own).isHost).toBe(true);
    await withTable(own);

    // Another tab's client: no worker of its own here, it reaches the leader over a BroadcastChannel.
    const names = lockNames('memory', name);
    const releaseClient = await holdLock(browser.locks, names.client('other-tab'));
    const link = await withSharedLock(browser.locks, names.connecting, async () => {
      const found = await findHost('memory', name, 'other-tab', browser.locks);
      return linkTo(found.endpoint, { name, storage: 'memory', clientId: 'other-tab', format: STORAGE_FORMAT }, browser.locks, names, () => undefined, found.hostId);
    });

    await own.close();
    // A round trip of the other tab's client after the close: the leader has handled it, and serves on.
    const { value } = await link.host.query({ user: 'u', role: 'dba' }, 'SELECT COUNT(*) AS n FROM t');
    expect(value.rows).toEqual([{ n: 0 }]);
    expect(browser.dedicatedWorkers).toBe(1);

    await link.close();
    releaseClient();
    await until(() => browser.dedicatedWorkers === 0);
  });

  it("is reused by the page's next client when it comes before the worker ended", async () => {
    const browser = fakeBrowser({ shared: false });
    browser.install();
    const name = nextName();
    const a = await createClient({ name, storage: 'memory' });
    await withTable(a);
    await a.close();
    const b = await createClient({ name, storage: 'memory' });
    expect(await count(b)).toBe(0);
    await b.close();
    await until(() => browser.dedicatedWorkers === 0);
    expect(browser.dedicatedWorkersStarted).toBeLessThanOrEqual(2);
  });
});
