/**
 * The leader path, page side: every tab with a client starts one dedicated
 * worker that stands for election on the origin's `leader` lock (see
 * leader-worker.ts); the winner hosts the engine. Several clients of one
 * page share the worker, and when it leads they talk to it over
 * MessagePorts of their own rather than through a BroadcastChannel.
 */
import type { ClientStorage } from '../protocol';
import { DEFAULT_START_TIMEOUT_MS, startWorker, type StartEnv } from '../start';
import { lockNames, whenLockFree, type Locks } from './locks';
import { workerName, type ConnectRequest, type LeaderWorkerMessage, type PageMessage } from './protocol';

export type StartLeaderWorker = (name: string) => Worker;

/** How this page's worker is started: its script's URL when not the bundled entry (for messages), and the start timeout. */
export interface LeaderStartOptions {
  url?: string;
  timeoutMs?: number;
  env?: StartEnv;
}

interface Candidacy {
  /** Clients of this page using the candidacy; it ends with the last one unless its worker leads. */
  users: number;
  /** The current worker; undefined once it could not start. */
  worker: Worker | undefined;
  /** The id the worker hosts under, once it holds the leader lock (before it announces itself). */
  hostId: string | undefined;
  /** Whether the worker leads and has settled opening the engine: it hosts the engine. */
  isLeading: boolean;
  /** Whether the page told its leading worker it has no client left (it ends once no other tab needs it). */
  isReleased: boolean;
  /** Resolves once the current worker runs; rejects with WORKER_START_FAILED when it cannot start (the candidacy is then over). */
  started: Promise<void>;
  /** Gives up the current worker's start. */
  abandon: AbortController;
}

/** A page's standing for election, for one client: calling it ends this client's use of the candidacy (once per call). */
export interface Candidate {
  (): void;
  /** Rejects with WORKER_START_FAILED once this page's worker cannot start: this page cannot host the database. */
  readonly started: Promise<void>;
}

// Owner: this module; one entry per (storage, database) a client of this
// page uses, removed when its last client closes — or, while its worker
// leads (it serves the other tabs until none needs it), when that worker's
// host goes away (it ended itself, was terminated or crashed) with no client
// left here — and when its worker cannot start.
const candidacies = new Map<string, Candidacy>();

/**
 * Makes this tab a candidate for hosting `name` until the returned
 * function is called (once per call).
 */
export function standForElection(storage: ClientStorage, name: string, locks: Locks, start: StartLeaderWorker, options: LeaderStartOptions = {}): Candidate {
  const key = workerName(storage, name);
  let candidacy = candidacies.get(key);
  if (candidacy === undefined) {
    const created: Candidacy = {
      users: 0,
      worker: undefined,
      hostId: undefined,
      isLeading: false,
      isReleased: false,
      started: Promise.resolve(),
      abandon: new AbortController(),
    };
    candidacy = created;
    candidacies.set(key, created);

    /** Starts a worker for the candidacy, watching its start (see start.ts). */
    const launch = () => {
      created.hostId = undefined;
      created.isLeading = false;
      created.isReleased = false;
      created.abandon = new AbortController();
      let ran: () => void = () => undefined;
      const running = new Promise<void>((resolve) => (ran = resolve));
      const started = startWorker<Worker, void>({
        info: { kind: 'Worker', url: options.url, timeoutMs: options.timeoutMs ?? DEFAULT_START_TIMEOUT_MS },
        create: () => start(key),
        watch: (worker) => (typeof (worker as Partial<EventTarget>).addEventListener === 'function' ? [worker] : []),
        answer: (worker) => {
          created.worker = worker;
          follow(worker, ran);
          return running;
        },
        discard: (worker) => worker.terminate(),
        signal: created.abandon.signal,
        env: options.env,
      }).then(() => undefined);
      created.started = started;
      started.catch(() => {
        if (created.started !== started) return;
        // This page cannot host the database: the candidacy is over, and the next client of the page stands anew.
        created.worker = undefined;
        if (candidacies.get(key) === created) candidacies.delete(key);
      });
    };

    // When the leading worker is gone (it ended itself, was terminated or crashed), this tab stands again with a new one if a client here needs it.
    const follow = (worker: Worker, ran: () => void) => {
      worker.onmessage = (event: MessageEvent<LeaderWorkerMessage>) => {
        const message = event.data;
        if (created.worker !== worker) return;
        if (message?.type === 'started') {
          ran();
          return;
        }
        if (message?.type === 'leading') {
          created.hostId = message.hostId;
          return;
        }
        if (message?.type !== 'ready' && message?.type !== 'failed') return;
        created.hostId = message.hostId;
        created.isLeading = true;
        void whenLockFree(locks, lockNames(storage, name).host(message.hostId)).then(() => {
          if (created.worker !== worker) return;
          created.isLeading = false;
          created.hostId = undefined;
          worker.terminate();
          if (candidacies.get(key) !== created) return;
          if (created.users === 0) {
            // Kept only while it served: no client here needs a candidate.
            candidacies.delete(key);
            return;
          }
          launch();
        });
      };
    };
    launch();
  } else if (candidacy.isReleased) {
    // The page has a client again: its leading worker stays (unless it has ended already; then a new one starts).
    candidacy.isReleased = false;
    post(candidacy, { type: 'retain' });
  }
  const mine = candidacy;
  mine.users++;
  let isStopped = false;
  const stop = () => {
    if (isStopped) return;
    isStopped = true;
    if (--mine.users > 0 || candidacies.get(key) !== mine) return;
    if (mine.isLeading) {
      // A leading worker keeps serving the other tabs' clients, and ends itself once none is left; this page's next client reuses it meanwhile.
      mine.isReleased = true;
      post(mine, { type: 'release' });
      return;
    }
    candidacies.delete(key);
    mine.abandon.abort();
    mine.worker?.terminate();
  };
  return Object.defineProperty(stop, 'started', { get: () => mine.started }) as Candidate;
}

function post(candidacy: Candidacy, message: PageMessage): void {
  candidacy.worker?.postMessage(message);
}

/** Whether this tab's worker hosts `name` right now. */
export function isLeading(storage: ClientStorage, name: string): boolean {
  return candidacies.get(workerName(storage, name))?.isLeading ?? false;
}

/**
 * A connection to host `hostId` when it is this page's own worker: a
 * MessagePort to that worker (one hop, like any dedicated worker's) in place
 * of a BroadcastChannel, whose messages travel through the browser. The
 * worker answers on it as a BroadcastChannel's host does (ready), or that it
 * is not that host. Undefined when another tab's worker hosts it.
 */
export function connectToOwnWorker(storage: ClientStorage, name: string, hostId: string): MessagePort | undefined {
  const candidacy = candidacies.get(workerName(storage, name));
  if (candidacy?.worker === undefined || candidacy.hostId !== hostId) return undefined;
  const { port1, port2 } = new MessageChannel();
  const request: ConnectRequest = { type: 'connect', hostId };
  candidacy.worker.postMessage(request, [port2]);
  return port1;
}
