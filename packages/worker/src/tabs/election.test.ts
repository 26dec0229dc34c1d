import { describe, expect, it, vi } from 'vitest';
import { openDatabase } from '@kalamlite/engine';
import { installKalamErrorTransfer } from '../transfer';
import { connectToHost, serveOverBroadcast } from './broadcast';
import { connectToOwnWorker, isLeading, standForElection } from './election';
import { fakeLocks } from './fake-locks';
import { createHub, type Hub } from './hub';
import { linkTo, type LinkEndpoint } from './link';
import { holdLock, lockNames, type Locks } from './locks';
import { serveOwnPage } from './own-page';
import type { ConnectRequest, LeaderWorkerMessage } from './protocol';

installKalamErrorTransfer();

let databases = 0;

/**
 * A page's leader worker, in-process: what the page posts to it goes to the
 * worker side's handler for its own page (serving on `hub()`); `tell` is the
 * worker telling its page.
 */
function fakeWorker(hub: () => Hub | undefined) {
  const answer = serveOwnPage(hub);
  const worker = {
    onmessage: null as ((event: MessageEvent<LeaderWorkerMessage>) => void) | null,
    requests: 0,
    isTerminated: false,
    postMessage(data: ConnectRequest, transfer: MessagePort[]) {
      worker.requests++;
      setTimeout(() => answer({ data, ports: transfer } as unknown as MessageEvent<ConnectRequest>));
    },
    terminate() {
      worker.isTerminated = true;
    },
    tell(message: LeaderWorkerMessage) {
      worker.onmessage?.({ data: message } as MessageEvent<LeaderWorkerMessage>);
    },
  };
  // As the real worker does once its script runs.
  setTimeout(() => worker.tell({ type: 'started' }));
  return worker;
}

type FakeWorker = ReturnType<typeof fakeWorker>;

/** A memory database hosted for every tab (as a leading worker does), and a page standing for election with `worker`. */
function setUp(locks: Locks, ownHub: (hub: Hub) => Hub | undefined = (hub) => hub) {
  const name = `election-${++databases}`;
  const hub = createHub({ name, storage: 'memory', locks, format: 1, open: (o) => openDatabase({ ...o, storage: 'memory' }) });
  const stopServing = serveOverBroadcast(hub, 'memory', name);
  const workers: FakeWorker[] = [];
  const start = () => {
    const worker = fakeWorker(() => ownHub(hub));
    workers.push(worker);
    return worker as unknown as Worker;
  };
  const stand = () => standForElection('memory', name, locks, start);
  /** A client of the page: connects as the leader transport does, and checks the connection answers. */
  async function connect(clientId: string): Promise<{ endpoint: LinkEndpoint; close: () => Promise<void> }> {
    const releaseClient = await holdLock(locks, lockNames('memory', name).client(clientId));
    const endpoint = await connectToHost('memory', name, clientId, locks, (hostId) => connectToOwnWorker('memory', name, hostId));
    const link = await linkTo(endpoint, { name, storage: 'memory', clientId, format: 1 }, locks, lockNames('memory', name), () => undefined);
    const { value } = await link.host.query({ user: 'u', role: 'dba' }, 'SELECT 1 AS x');
    expect(value.rows).toEqual([{ x: 1 }]);
    return {
      endpoint,
      close: async () => {
        await link.close();
        releaseClient();
      },
    };
  }
  return {
    name,
    hub,
    workers,
    stand,
    connect,
    async tearDown() {
      stopServing();
      await hub.close();
    },
  };
}

describe('the leader path, page side', () => {
  it('connects a client whose own page hosts the database over a MessagePort to its worker, not a BroadcastChannel', async () => {
    const locks = fakeLocks();
    const page = setUp(locks);
    const stop = page.stand();
    await page.hub.ready;
    page.workers[0].tell({ type: 'leading', hostId: page.hub.hostId });
    page.workers[0].tell({ type: 'ready', hostId: page.hub.hostId });
    const a = await page.connect('a');
    const b = await page.connect('b');
    expect(a.endpoint).toBeInstanceOf(MessagePort);
    expect(b.endpoint).toBeInstanceOf(MessagePort);
    expect(page.workers[0].requests).toBe(2);
    expect(page.hub.clientCount).toBe(2);
    await a.close();
    await b.close();
    expect(page.hub.clientCount).toBe(0);
    stop();
    await page.tearDown();
  });

  it('connects over the host’s BroadcastChannel when another tab hosts the database', async () => {
    const locks = fakeLocks();
    const page = setUp(locks);
    const stop = page.stand(); // this page's worker waits in line: it never says it leads
    const a = await page.connect('a');
    expect(a.endpoint).toBeInstanceOf(BroadcastChannel);
    expect(page.workers[0].requests).toBe(0);
    expect(page.hub.clientCount).toBe(1);
    await a.close();
    stop();
    await page.tearDown();
  });

  it('falls back to the BroadcastChannel when its worker answers that it is not the host found', async () => {
    const locks = fakeLocks();
    const page = setUp(locks, () => undefined); // the worker does not lead (any more)
    const stop = page.stand();
    await page.hub.ready;
    page.workers[0].tell({ type: 'leading', hostId: page.hub.hostId });
    const a = await page.connect('a');
    expect(page.workers[0].requests).toBe(1);
    expect(a.endpoint).toBeInstanceOf(BroadcastChannel);
    await a.close();
    stop();
    await page.tearDown();
  });

  it('keeps its leading worker when its last client closes, and the next client of the page uses it again', async () => {
    const locks = fakeLocks();
    const page = setUp(locks);
    const stopFirst = page.stand();
    await page.hub.ready;
    page.workers[0].tell({ type: 'leading', hostId: page.hub.hostId });
    page.workers[0].tell({ type: 'ready', hostId: page.hub.hostId });
    const a = await page.connect('a');
    await a.close();
    stopFirst();
    expect(page.workers[0].isTerminated).toBe(false);
    expect(isLeading('memory', page.name)).toBe(true);

    const stopSecond = page.stand();
    expect(page.workers).toHaveLength(1);
    const b = await page.connect('b');
    expect(b.endpoint).toBeInstanceOf(MessagePort);
    await b.close();
    stopSecond();
    await page.tearDown();
  });

  it('ends a candidacy whose worker does not lead with its last client', async () => {
    const locks = fakeLocks();
    const page = setUp(locks);
    const stopFirst = page.stand();
    const stopSecond = page.stand();
    stopFirst();
    stopFirst(); // once per call
    expect(page.workers[0].isTerminated).toBe(false);
    stopSecond();
    expect(page.workers[0].isTerminated).toBe(true);
    page.stand();
    expect(page.workers).toHaveLength(2);
    await page.tearDown();
  });

  it('stands again with a new worker when its leading worker dies, unless no client of the page is left', async () => {
    const locks = fakeLocks();
    const name = `election-${++databases}`;
    const workers: FakeWorker[] = [];
    const start = () => {
      const worker = fakeWorker(() => undefined);
      workers.push(worker);
      return worker as unknown as Worker;
    };
    /** The worker leads as `hostId` while it holds the host lock; returns what frees it (the worker dying). */
    async function lead(worker: FakeWorker, hostId: string): Promise<() => void> {
      const release = await holdLock(locks, lockNames('memory', name).host(hostId));
      worker.tell({ type: 'leading', hostId });
      worker.tell({ type: 'ready', hostId });
      return release;
    }
    // The page learns the leader is gone when the host lock frees; it stops counting it as leading, ends it and decides on a successor in that one step.
    const leaderGone = () => vi.waitFor(() => expect(isLeading('memory', name)).toBe(false), { timeout: 5_000 });

    const stop = standForElection('memory', name, locks, start);
    const die = await lead(workers[0], 'h1');
    die();
    await leaderGone();
    expect(workers[0].isTerminated).toBe(true);
    expect(workers).toHaveLength(2); // a client here still needs a host

    const dieAgain = await lead(workers[1], 'h2');
    stop(); // the leading worker stays while it leads
    expect(workers[1].isTerminated).toBe(false);
    expect(isLeading('memory', name)).toBe(true);
    dieAgain();
    await leaderGone();
    expect(workers[1].isTerminated).toBe(true);
    expect(workers).toHaveLength(2); // nobody here needs a new one
    standForElection('memory', name, locks, start);
    expect(workers).toHaveLength(3);
  });
});
