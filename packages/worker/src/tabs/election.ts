/**
 * The leader path, page side: every tab with a client starts one dedicated
 * worker that stands for election on the origin's `leader` lock (see
 * leader-worker.ts); the winner hosts the engine. Several clients of one
 * page share the worker.
 */
import type { ClientStorage } from '../protocol';
import { lockNames, whenLockFree, type Locks } from './locks';
import { workerName, type LeaderWorkerMessage } from './protocol';

export type StartLeaderWorker = (name: string) => Worker;

interface Candidacy {
  /** Clients of this page using the candidacy; it ends with the last one. */
  users: number;
  worker: Worker;
  /** Whether the worker leads: it hosts the engine. */
  isLeading: boolean;
}

// Owner: this module; one entry per (storage, database) a client of this
// page uses, removed when its last client closes.
const candidacies = new Map<string, Candidacy>();

/**
 * Makes this tab a candidate for hosting `name` until the returned function
 * is called (once per call).
 */
export function standForElection(storage: ClientStorage, name: string, locks: Locks, start: StartLeaderWorker): () => void {
  const key = workerName(storage, name);
  let candidacy = candidacies.get(key);
  if (candidacy === undefined) {
    const created: Candidacy = { users: 0, worker: start(key), isLeading: false };
    candidacy = created;
    candidacies.set(key, created);
    // When the leading worker dies (terminated, crashed), this tab stands again with a new one.
    const follow = (worker: Worker) => {
      worker.onmessage = (event: MessageEvent<LeaderWorkerMessage>) => {
        if (event.data?.type !== 'ready' && event.data?.type !== 'failed') return;
        created.isLeading = true;
        void whenLockFree(locks, lockNames(storage, name).host(event.data.hostId)).then(() => {
          if (created.worker !== worker) return;
          created.isLeading = false;
          worker.terminate();
          if (candidacies.get(key) !== created) return;
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
    // A leading worker keeps serving the other tabs; it ends with the page.
    candidacies.delete(key);
    if (!c.isLeading) c.worker.terminate();
  };
}

/** Whether this tab's worker hosts `name` right now. */
export function isLeading(storage: ClientStorage, name: string): boolean {
  return candidacies.get(workerName(storage, name))?.isLeading ?? false;
}
