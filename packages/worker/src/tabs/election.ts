/**
 * The leader path, page side: every tab with a client starts one dedicated
 * worker that stands for election on the origin's `leader` lock (see
 * leader-worker.ts); the winner hosts the engine. Several clients of one
 * page share the worker, and when it leads they talk to it over
 * MessagePorts of their own rather than through a BroadcastChannel.
 */
import type { ClientStorage } from '../protocol';
import { lockNames, whenLockFree, type Locks } from './locks';
import { workerName, type ConnectRequest, type LeaderWorkerMessage } from './protocol';

export type StartLeaderWorker = (name: string) => Worker;

interface Candidacy {
  /** Clients of this page using the candidacy; it ends with the last one unless its worker leads. */
  users: number;
  worker: Worker;
  /** The id the worker hosts under, once it holds the leader lock (before it announces itself). */
  hostId: string | undefined;
  /** Whether the worker leads and has settled opening the engine: it hosts the engine. */
  isLeading: boolean;
}

// Owner: this module; one entry per (storage, database) a client of this
// page uses, removed when its last client closes — or, while its worker
// leads (it serves the other tabs until the page ends), when that worker's
// host goes away with no client left here.
const candidacies = new Map<string, Candidacy>();

/**
 * Makes this tab a candidate for hosting `name` until the returned function
 * is called (once per call).
 */
export function standForElection(storage: ClientStorage, name: string, locks: Locks, start: StartLeaderWorker): () => void {
  const key = workerName(storage, name);
  let candidacy = candidacies.get(key);
  if (candidacy === undefined) {
    const created: Candidacy = { users: 0, worker: start(key), hostId: undefined, isLeading: false };
    candidacy = created;
    candidacies.set(key, created);
    // When the leading worker dies (terminated, crashed), this tab stands again with a new one.
    const follow = (worker: Worker) => {
      worker.onmessage = (event: MessageEvent<LeaderWorkerMessage>) => {
        const message = event.data;
        if (created.worker !== worker) return;
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
          created.worker = start(key);
          follow(created.worker);
        });
      };
    };
    follow(created.worker);
  }
  candidacy.users++;
  let isStopped = false;
  return () => {
    if (isStopped) return;
    isStopped = true;
    const c = candidacies.get(key);
    if (c === undefined || --c.users > 0) return;
    // A leading worker keeps serving the other tabs until the page ends; this page's next client reuses it.
    if (c.isLeading) return;
    candidacies.delete(key);
    c.worker.terminate();
  };
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
  if (candidacy === undefined || candidacy.hostId !== hostId) return undefined;
  const { port1, port2 } = new MessageChannel();
  const request: ConnectRequest = { type: 'connect', hostId };
  candidacy.worker.postMessage(request, [port2]);
  return port1;
}
