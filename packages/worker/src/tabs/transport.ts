/**
 * Picks how a tab reaches its origin's engine and makes links to it:
 * a SharedWorker where the browser has one, else a leader tab elected with
 * Web Locks whose dedicated worker hosts the engine.
 */
import { KalamError } from '@kalamlite/engine';
import { bundledSharedWorker, bundledWorker } from '../bundled-worker';
import type { ClientStorage } from '../protocol';
import { startWorker, type StartEnv } from '../start';
import { findHost } from './broadcast';
import { connectToOwnWorker, standForElection, type StartLeaderWorker } from './election';
import { browserLocks, lockNames, withSharedLock, type Locks } from './locks';
import type { Transport } from './protocol';
import { isHelloAnswer, workerName, type HelloAnswer, type HelloMessage } from './protocol';
import type { Link, LinkEndpoint } from './link';

export type ResolvedTransport = 'shared-worker' | 'leader' | 'worker';

const TRANSPORTS: readonly Transport[] = ['auto', 'shared-worker', 'leader', 'worker'];

/** The transport asked for, or INVALID_OPTION naming the valid ones. */
export function checkTransport(requested: unknown): Transport {
  if (!(TRANSPORTS as readonly unknown[]).includes(requested)) {
    throw new KalamError('INVALID_OPTION', `Unknown transport '${String(requested)}'; use ${TRANSPORTS.map((t) => `'${t}'`).join(', ')}.`);
  }
  return requested as Transport;
}

export function resolveTransport(requested: Transport = 'auto', storage?: string): ResolvedTransport {
  checkTransport(requested);
  const hasLocks = browserLocks() !== undefined;
  // OPFS sync access handles exist only in dedicated workers: an OPFS database is hosted by a leader tab's worker.
  const hasSharedWorker = typeof globalThis.SharedWorker === 'function' && storage !== 'opfs';
  switch (requested) {
    case 'auto':
      if (hasSharedWorker && hasLocks) return 'shared-worker';
      if (hasLocks && typeof globalThis.BroadcastChannel === 'function') return 'leader';
      return 'worker';
    case 'shared-worker':
      if (!hasSharedWorker || !hasLocks) {
        throw new KalamError(
          'INVALID_OPTION',
          storage === 'opfs'
            ? "storage: 'opfs' needs a dedicated worker (OPFS sync access handles are not available in a SharedWorker): use transport: 'auto' or 'leader'."
            : "This browser has no SharedWorker (or no Web Locks): use transport: 'auto' or 'leader'.",
        );
      }
      return 'shared-worker';
    case 'leader':
      if (!hasLocks || typeof globalThis.BroadcastChannel !== 'function') {
        throw new KalamError('INVALID_OPTION', "This browser has no Web Locks or BroadcastChannel: use transport: 'auto'.");
      }
      return 'leader';
    case 'worker':
      return 'worker';
  }
}

/** How a tab starts the worker hosting its engine: the worker script's URL (undefined: the bundled entry) and the start timeout. */
export interface WorkerStartOptions {
  url: string | undefined;
  timeoutMs: number;
  env?: StartEnv;
}

/** A way to (re)connect to the current host, and what to stop when the client closes. */
export interface TabTransport {
  locks: Locks;
  /**
   * Finds the current host (starting one if needed) and attaches there
   * with `link`, holding the `connecting` lock meanwhile (see lifetime.ts).
   * Fails with WORKER_START_FAILED when the worker cannot start, and with
   * LEADER_CHANGED when the host found went away first (connect again).
   */
  connect(link: (endpoint: LinkEndpoint, hostId: string) => Promise<Link>): Promise<Link>;
  stop(): void;
}

/** Makes a SharedWorker; `url` undefined: the bundled worker entry. Tests pass fakes. */
export type CreateSharedWorker = (url: string | undefined, name: string) => SharedWorker;

// One instance per (script, name) in the origin: every tab joins it, and a
// new one starts once it has ended.
const createSharedWorker: CreateSharedWorker = (url, name) =>
  url === undefined ? bundledSharedWorker(name) : new SharedWorker(url, { type: 'module', name });

/**
 * When to knock again on a SharedWorker that has not answered its hello: the
 * delays before each new SharedWorker object (the last repeats), until the
 * start timeout. See knock().
 */
const KNOCK_DELAYS_MS = [500, 1000, 2000];

export function sharedWorkerTransport(storage: ClientStorage, name: string, locks: Locks, start: WorkerStartOptions, create = createSharedWorker): TabTransport {
  const names = lockNames(storage, name);
  const workerNameOf = workerName(storage, name);
  return {
    locks,
    connect(link) {
      return withSharedLock(locks, names.connecting, async () => {
        const knocking = new AbortController();
        const { answer } = await startWorker({
          info: { kind: 'SharedWorker', url: start.url, timeoutMs: start.timeoutMs },
          create: () => create(start.url, workerNameOf),
          // `error` reaches the SharedWorker object, `messageerror` its port.
          watch: (worker) => [worker, worker.port],
          // A script that cannot load or run is a plain Event; an ErrorEvent is an exception in a running
          // worker (one that other tabs share, say), which says nothing about this start.
          isStartError: (event) => !('message' in event),
          answer: (worker) => knock(worker, () => create(start.url, workerNameOf), knocking.signal),
          discard: () => knocking.abort(),
          env: start.env,
        });
        if (answer.hello.ending === true) {
          // Reached a worker that was ending: the next one is fresh.
          answer.port.close();
          throw new KalamError('LEADER_CHANGED', 'The database SharedWorker was ending as this client connected: connect again.');
        }
        return link(answer.port, answer.hello.hostId);
      });
    },
    stop() {},
  };
}

/**
 * Says hello on the SharedWorker's port, and knocks again on a new
 * SharedWorker object (it joins the running worker of that name, or starts
 * a fresh one) while nothing answers: under the `connecting` lock a worker
 * cannot end while a client connects, but a browser may still hand the
 * constructor the worker that has just closed (its close and the release of
 * its locks reach the browser separately), and a connect to it is dropped,
 * never answered. Resolves with the first port answered; the others close.
 * Stops (closing every port) when `signal` aborts.
 */
function knock(first: SharedWorker, again: () => SharedWorker, signal: AbortSignal): Promise<{ port: MessagePort; hello: HelloAnswer }> {
  return new Promise((resolve) => {
    const ports: MessagePort[] = [];
    let knocks = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let isSettled = false;
    const settle = (answered?: { port: MessagePort; hello: HelloAnswer }) => {
      isSettled = true;
      clearTimeout(timer);
      for (const port of ports) if (port !== answered?.port) port.close();
      if (answered !== undefined) resolve(answered);
    };
    const ask = (port: MessagePort) => {
      ports.push(port);
      void hello(port).then((answer) => {
        if (!isSettled) settle({ port, hello: answer });
      });
    };
    const later = () => {
      timer = setTimeout(() => {
        try {
          ask(again().port);
        } catch {
          // The first constructor worked; a failing knock changes nothing: the start timeout decides.
        }
        later();
      }, KNOCK_DELAYS_MS[Math.min(knocks++, KNOCK_DELAYS_MS.length - 1)]);
    };
    signal.addEventListener('abort', () => settle());
    ask(first.port);
    later();
  });
}

/** Asks a SharedWorker's port whether it runs kalamlite; resolves with the hub's answer (see HelloMessage). */
function hello(port: MessagePort): Promise<HelloAnswer> {
  return new Promise((resolve) => {
    const onMessage = (event: MessageEvent) => {
      if (!isHelloAnswer(event.data)) return;
      port.removeEventListener('message', onMessage);
      resolve(event.data);
    };
    port.addEventListener('message', onMessage);
    port.start();
    const message: HelloMessage = { kalamlite: 'hello' };
    port.postMessage(message);
  });
}

// Its name makes the worker entry a leader candidate.
const createLeaderWorker = (url: string | undefined) => (workerName: string) =>
  url === undefined ? bundledWorker({ name: workerName }) : new Worker(url, { type: 'module', name: workerName });

export function leaderTransport(storage: ClientStorage, name: string, clientId: string, locks: Locks, start: WorkerStartOptions, create: StartLeaderWorker = createLeaderWorker(start.url)): TabTransport {
  const names = lockNames(storage, name);
  const candidate = standForElection(storage, name, locks, create, { url: start.url, timeoutMs: start.timeoutMs, env: start.env });
  return {
    locks,
    connect(link) {
      return withSharedLock(locks, names.connecting, async () => {
        const searching = new AbortController();
        // This page's worker failing to start ends the search: this page could never host the database.
        const cannotStart = candidate.started.then(() => new Promise<never>(() => undefined));
        try {
          const found = await Promise.race([
            findHost(storage, name, clientId, locks, (hostId) => connectToOwnWorker(storage, name, hostId), searching.signal),
            cannotStart,
          ]);
          return await link(found.endpoint, found.hostId);
        } finally {
          searching.abort();
        }
      });
    },
    stop: () => candidate(),
  };
}
