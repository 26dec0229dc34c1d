/**
 * Compaction helpers relayed through a page (compaction-relay.ts), in one
 * process: the engine's factory hands a MessageChannel's end to a "page"
 * that starts a "worker" running serveRelayedHelper, as a SharedWorker's
 * engine does with a client's tab in Chromium.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, useCompactionWorker, type Database, type Session } from '@kalamlite/engine';
import { relayedHelpers, serveRelayedHelper, startRelayedHelper, type RelayedHelperScope } from './compaction-relay';

const root = { user: 'root', role: 'system' } as const;

/** A dedicated worker started by the page: its scope serves a relayed helper; `closed` once it ended itself. */
function fakeHelperWorker(): { worker: Worker; closed: () => boolean } {
  const listeners: ((event: MessageEvent) => void)[] = [];
  let closed = false;
  const scope: RelayedHelperScope = {
    addEventListener: (_type, listener) => void listeners.push(listener),
    removeEventListener: (_type, listener) => void listeners.splice(listeners.indexOf(listener), 1),
    close: () => void (closed = true),
  };
  serveRelayedHelper(scope);
  const worker = {
    postMessage(data: unknown, transfer: Transferable[]) {
      expect(transfer).toEqual([(data as { port: MessagePort }).port]);
      const event = { data } as MessageEvent;
      setTimeout(() => [...listeners].forEach((l) => l(event)));
    },
  } as unknown as Worker;
  return { worker, closed: () => closed };
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
    const started: ReturnType<typeof fakeHelperWorker>[] = [];
    useCompactionWorker(
      relayedHelpers((port) => {
        startRelayedHelper(port, () => {
          const w = fakeHelperWorker();
          started.push(w);
          return w.worker;
        });
        return true;
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
    const w = fakeHelperWorker();
    const helper = relayedHelpers((port) => (startRelayedHelper(port, () => w.worker), true))();
    await new Promise((r) => setTimeout(r, 20)); // the page handed the port over
    expect(w.closed()).toBe(false);
    helper.terminate();
    await expect.poll(() => w.closed()).toBe(true);
  });

  it('fail, as a dead helper, when the page that started them goes away (their end of the channel closes)', async () => {
    let pageEnd: MessagePort | undefined;
    const helper = relayedHelpers((port) => ((pageEnd = port), true))();
    const errors: string[] = [];
    helper.addEventListener('error', (e) => errors.push((e as ErrorEvent).message));
    pageEnd!.close();
    await expect.poll(() => errors).toEqual(['the compaction helper worker ended with the page that started it']);
  });

  it('merge in the engine while the page asked cannot start one, and in a helper again once a page can', async () => {
    // The pages asked in turn: one starts a helper (then goes away, and the helper with it), one cannot, one can.
    const ports: MessagePort[] = [];
    const pages = [true, false, true];
    useCompactionWorker(
      relayedHelpers((port) => {
        const can = pages.shift() ?? true;
        startRelayedHelper(port, () => {
          if (!can) throw new Error('no Worker here');
          const w = fakeHelperWorker();
          const post = w.worker.postMessage.bind(w.worker);
          (w.worker as { postMessage: unknown }).postMessage = (data: { port: MessagePort }, transfer: Transferable[]) => {
            ports.push(data.port);
            post(data, transfer);
          };
          return w.worker;
        });
        return true;
      }),
    );
    db = await openDatabase({ storage: 'memory' });
    const s = db.session(root);
    const offloaded: number[] = [];
    for (let round = 0; round < 3; round++) {
      expect(await compactThreeFlushes(s, `app.t${round}`)).toBe('completed');
      expect((await s.query(`SELECT id, a FROM app.t${round} ORDER BY id`)).rows).toEqual(expected);
      offloaded.push(await stat(s, 'compaction_merges_offloaded'));
      // The page that started the helper goes away: its end of the channel closes.
      for (const port of ports.splice(0)) port.close();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(offloaded[0]).toBeGreaterThan(0);
    expect(offloaded[1]).toBe(offloaded[0]);
    expect(offloaded[2]).toBeGreaterThan(offloaded[1]);
  });

  it('merge in the engine when no page can start one', async () => {
    let asked = 0;
    useCompactionWorker(relayedHelpers(() => (asked++, false)));
    db = await openDatabase({ storage: 'memory' });
    const s = db.session(root);
    expect(await compactThreeFlushes(s)).toBe('completed');
    expect(asked).toBeGreaterThan(0);
    expect(await stat(s, 'compaction_merges_offloaded')).toBe(0);
    expect((await s.query('SELECT id, a FROM app.t ORDER BY id')).rows).toEqual(expected);
  });

  it('merge in the engine when the page cannot start a worker: the port closes and the helper counts as never started', async () => {
    useCompactionWorker(
      relayedHelpers((port) => {
        startRelayedHelper(port, () => {
          throw new Error('no Worker here');
        });
        return true;
      }),
    );
    db = await openDatabase({ storage: 'memory' });
    const s = db.session(root);
    expect(await compactThreeFlushes(s)).toBe('completed');
    expect(await stat(s, 'compaction_merges_offloaded')).toBe(0);
    expect((await s.query('SELECT id, a FROM app.t ORDER BY id')).rows).toEqual(expected);
  });
});
