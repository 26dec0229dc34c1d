/**
 * Compaction helpers relayed through a page (compaction-relay.ts), in one
 * process: the engine's factory hands a MessageChannel's end and a lock name
 * to a "page" that starts a "worker" running serveRelayedHelper, as a
 * SharedWorker's engine does with a client's tab in Chromium. The worker
 * holds its lock through an in-memory lock manager until it is killed (its
 * tab closed) or closes itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, useCompactionWorker, type Database, type Session } from '@kalamlite/engine';
import { relayedHelpers, serveRelayedHelper, startRelayedHelper, type RelayedHelperScope } from './compaction-relay';
import { fakeLocks } from './fake-locks';
import { holdLock, type Locks } from './locks';

const root = { user: 'root', role: 'system' } as const;

/** A dedicated worker a page started: its scope serves a relayed helper. `kill()` ends it as its tab's closing would (its locks freed). */
function fakeHelperWorker(locks: Locks): { worker: Worker; closed: () => boolean; kill: () => void } {
  const listeners: ((event: MessageEvent) => void)[] = [];
  let closed = false;
  let kill!: () => void;
  const killed = new Promise<void>((resolve) => (kill = resolve));
  const scope: RelayedHelperScope = {
    // A lock this worker holds is freed when it ends.
    navigator: { locks: { request: (name, options, callback) => locks.request(name, options, () => Promise.race([callback(), killed])) as never } },
    addEventListener: (_type, listener) => void listeners.push(listener),
    removeEventListener: (_type, listener) => void listeners.splice(listeners.indexOf(listener), 1),
    close: () => {
      closed = true;
      kill();
    },
  };
  serveRelayedHelper(scope);
  const worker = {
    postMessage(data: unknown, transfer: Transferable[]) {
      expect(transfer).toEqual([(data as { port: MessagePort }).port]);
      const event = { data } as MessageEvent;
      setTimeout(() => [...listeners].forEach((l) => l(event)));
    },
  } as unknown as Worker;
  return { worker, closed: () => closed, kill };
}

/** A page's client lock, held until `close()` (its tab closing). */
async function openPage(locks: Locks, name = `page-${Math.random()}`): Promise<{ name: string; close: () => void }> {
  return { name, close: await holdLock(locks, name) };
}

/** Helpers `page` starts, each worker made by `start` (which throws where the page cannot start one). */
function startedBy(page: { name: string }, locks: Locks, start: () => Worker) {
  return relayedHelpers((port, lock) => {
    startRelayedHelper({ kalamlite: 'helper', port, lock }, start);
    return page.name;
  }, locks);
}

async function idle(s: Session): Promise<void> {
  for (;;) {
    const { rows } = await s.query("SELECT COUNT(*) AS n FROM system.jobs WHERE status IN ('new', 'queued', 'running', 'retrying')");
    if (Number(rows[0].n) === 0) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

const stat = async (s: Session, metric: string) => Number((await s.query('SELECT metric_value FROM system.stats WHERE metric_name = $1', [metric])).rows[0]?.metric_value);

/** Three overlapping flushes of `table` (rows 0..299, updated and deleted), then STORAGE COMPACT TABLE: its job's status. */
async function compactThreeFlushes(s: Session, table = 'app.t'): Promise<string> {
  await s.execute(`CREATE NAMESPACE IF NOT EXISTS app; CREATE SHARED TABLE IF NOT EXISTS ${table} (id INT PRIMARY KEY, a INT)`);
  await s.execute(`INSERT INTO ${table} (id, a) VALUES ${Array.from({ length: 300 }, (_, i) => `(${i}, ${i})`).join(', ')}`);
  await s.execute(`STORAGE FLUSH TABLE ${table}`);
  await idle(s);
  await s.execute(`UPDATE ${table} SET a = a + 1000 WHERE id % 3 = 0`);
  await s.execute(`STORAGE FLUSH TABLE ${table}`);
  await idle(s);
  await s.execute(`DELETE FROM ${table} WHERE id % 5 = 0`);
  await s.execute(`STORAGE FLUSH TABLE ${table}`);
  await idle(s);
  const [{ message }] = await s.execute(`STORAGE COMPACT TABLE ${table}`);
  await idle(s);
  const { rows } = await s.query('SELECT status FROM system.jobs WHERE job_id = $1', [message.split('Job ID: ')[1]]);
  return String(rows[0].status);
}

const expected = Array.from({ length: 300 }, (_, i) => i)
  .filter((i) => i % 5 !== 0)
  .map((i) => ({ id: i, a: i % 3 === 0 ? i + 1000 : i }));

describe('compaction helpers a page starts for a SharedWorker engine', () => {
  let db: Database | undefined;
  afterEach(async () => {
    useCompactionWorker(undefined);
    await db?.close();
    db = undefined;
  });

  it('merge over the port the page hands the helper', async () => {
    const locks = fakeLocks();
    const page = await openPage(locks);
    const started: ReturnType<typeof fakeHelperWorker>[] = [];
    useCompactionWorker(
      startedBy(page, locks, () => {
        const w = fakeHelperWorker(locks);
        started.push(w);
        return w.worker;
      }),
    );
    db = await openDatabase({ storage: 'memory' });
    const s = db.session(root);
    expect(await compactThreeFlushes(s)).toBe('completed');
    expect(await stat(s, 'compaction_merges_offloaded')).toBeGreaterThan(0);
    expect(started).toHaveLength(1);
    expect((await s.query('SELECT id, a FROM app.t ORDER BY id')).rows).toEqual(expected);
  });

  it('end: the helper closes its worker when the engine terminates it (its idle time ran out)', async () => {
    const locks = fakeLocks();
    const page = await openPage(locks);
    const w = fakeHelperWorker(locks);
    const helper = startedBy(page, locks, () => w.worker)();
    await new Promise((r) => setTimeout(r, 20)); // the page handed the port over
    expect(w.closed()).toBe(false);
    helper.terminate();
    await expect.poll(() => w.closed()).toBe(true);
  });

  it('are gone as soon as the page that started them goes away (the lock their worker held is freed)', async () => {
    const locks = fakeLocks();
    const page = await openPage(locks);
    const w = fakeHelperWorker(locks);
    const helper = startedBy(page, locks, () => w.worker)();
    const events: string[] = [];
    for (const type of ['error', 'gone'] as const) helper.addEventListener(type, (e) => events.push(e.type));
    await new Promise((r) => setTimeout(r, 20)); // it holds its lock and said so
    expect(events).toEqual([]);
    w.kill();
    await expect.poll(() => events).toEqual(['gone']);
  });

  it('are gone when the page asked goes away before their worker runs', async () => {
    const locks = fakeLocks();
    const page = await openPage(locks);
    const helper = relayedHelpers(() => page.name, locks)(); // the page got the request, and closes before starting the worker
    const events: string[] = [];
    for (const type of ['error', 'gone'] as const) helper.addEventListener(type, (e) => events.push(e.type));
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual([]);
    page.close();
    await expect.poll(() => events).toEqual(['gone']);
    helper.terminate();
  });

  it('end a helper that starts after all, once its page\'s client was taken for gone', async () => {
    const locks = fakeLocks();
    const page = await openPage(locks);
    const w = fakeHelperWorker(locks);
    let startLate!: () => void;
    const helper = relayedHelpers((port, lock) => {
      startLate = () => startRelayedHelper({ kalamlite: 'helper', port, lock }, () => w.worker);
      return page.name;
    }, locks)();
    const events: string[] = [];
    helper.addEventListener('gone', (e) => events.push(e.type));
    page.close(); // the client closes (its lock frees) before the page started the worker
    await expect.poll(() => events).toEqual(['gone']);
    startLate();
    await expect.poll(() => w.closed()).toBe(true);
  });

  it('do not count as dead when the engine ended them itself', async () => {
    const locks = fakeLocks();
    const page = await openPage(locks);
    const w = fakeHelperWorker(locks);
    const helper = startedBy(page, locks, () => w.worker)();
    const events: unknown[] = [];
    for (const type of ['error', 'gone'] as const) helper.addEventListener(type, (e) => events.push(e));
    await new Promise((r) => setTimeout(r, 20));
    helper.terminate();
    await expect.poll(() => w.closed()).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual([]);
  });

  it('merge in the engine while the page asked cannot start one, and in a helper again once a page can', async () => {
    // The pages asked in turn: one starts a helper (then goes away, and the helper with it), one cannot, one can.
    const locks = fakeLocks();
    const page = await openPage(locks);
    const workers: ReturnType<typeof fakeHelperWorker>[] = [];
    const pages = [true, false, true];
    useCompactionWorker(
      startedBy(page, locks, () => {
        if (!(pages.shift() ?? true)) throw new Error('no Worker here');
        const w = fakeHelperWorker(locks);
        workers.push(w);
        return w.worker;
      }),
    );
    db = await openDatabase({ storage: 'memory' });
    const s = db.session(root);
    const offloaded: number[] = [];
    for (let round = 0; round < 3; round++) {
      expect(await compactThreeFlushes(s, `app.t${round}`)).toBe('completed');
      expect((await s.query(`SELECT id, a FROM app.t${round} ORDER BY id`)).rows).toEqual(expected);
      offloaded.push(await stat(s, 'compaction_merges_offloaded'));
      // The page that started the helper goes away, and its worker with it.
      for (const w of workers.splice(0)) w.kill();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(offloaded[0]).toBeGreaterThan(0);
    expect(offloaded[1]).toBe(offloaded[0]);
    expect(offloaded[2]).toBeGreaterThan(offloaded[1]);
  });

  it('merge in the engine when the first page asked goes away before its helper runs, and in a helper through the next page after', async () => {
    const locks = fakeLocks();
    const first = await openPage(locks, 'first page');
    const second = await openPage(locks, 'second page');
    let asked = 0;
    useCompactionWorker(
      relayedHelpers((port, lock) => {
        if (asked++ === 0) {
          setTimeout(() => first.close()); // closes with the request unanswered
          return first.name;
        }
        startRelayedHelper({ kalamlite: 'helper', port, lock }, () => fakeHelperWorker(locks).worker);
        return second.name;
      }, locks),
    );
    db = await openDatabase({ storage: 'memory' });
    const s = db.session(root);
    expect(await compactThreeFlushes(s, 'app.a')).toBe('completed');
    expect(await stat(s, 'compaction_merges_offloaded')).toBe(0);
    expect(await compactThreeFlushes(s, 'app.b')).toBe('completed');
    expect(await stat(s, 'compaction_merges_offloaded')).toBeGreaterThan(0);
    for (const table of ['app.a', 'app.b']) expect((await s.query(`SELECT id, a FROM ${table} ORDER BY id`)).rows).toEqual(expected);
    second.close();
  });

  it('merge in the engine when no page can start one', async () => {
    let asked = 0;
    useCompactionWorker(relayedHelpers(() => void asked++, fakeLocks()));
    db = await openDatabase({ storage: 'memory' });
    const s = db.session(root);
    expect(await compactThreeFlushes(s)).toBe('completed');
    expect(asked).toBeGreaterThan(0);
    expect(await stat(s, 'compaction_merges_offloaded')).toBe(0);
    expect((await s.query('SELECT id, a FROM app.t ORDER BY id')).rows).toEqual(expected);
  });

  it('merge in the engine when the page cannot start a worker: it says so, and the helper counts as never started', async () => {
    const locks = fakeLocks();
    const page = await openPage(locks);
    useCompactionWorker(
      startedBy(page, locks, () => {
        throw new Error('no Worker here');
      }),
    );
    db = await openDatabase({ storage: 'memory' });
    const s = db.session(root);
    expect(await compactThreeFlushes(s)).toBe('completed');
    expect(await stat(s, 'compaction_merges_offloaded')).toBe(0);
    expect((await s.query('SELECT id, a FROM app.t ORDER BY id')).rows).toEqual(expected);
  });
});
