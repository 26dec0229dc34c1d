/**
 * Picks how a tab reaches its origin's engine and makes links to it:
 * a SharedWorker where the browser has one, else a leader tab elected with
 * Web Locks whose dedicated worker hosts the engine.
 */
import { KalamError } from '@kalamlite/engine';
import type { ClientStorage } from '../protocol';
import { connectToHost } from './broadcast';
import { connectToOwnWorker, standForElection, type StartLeaderWorker } from './election';
import { browserLocks, type Locks } from './locks';
import type { Transport } from './protocol';
import { workerName } from './protocol';
import type { LinkEndpoint } from './link';

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

/** A way to (re)connect to the current host, and what to stop when the client closes. */
export interface TabTransport {
  locks: Locks;
  connect(): Promise<LinkEndpoint>;
  stop(): void;
}

export function sharedWorkerTransport(storage: ClientStorage, name: string, locks: Locks): TabTransport {
  return {
    locks,
    async connect() {
      // Vite recognises this exact form and bundles the SharedWorker entry.
      // One instance per (script, name) in the origin: every tab joins it,
      // and a new one starts if it ever dies.
      const worker = new SharedWorker(new URL('./shared-worker.ts', import.meta.url), { type: 'module', name: workerName(storage, name) });
      return worker.port;
    },
    stop() {},
  };
}

export function leaderTransport(storage: ClientStorage, name: string, clientId: string, locks: Locks): TabTransport {
  const start: StartLeaderWorker = (workerName) =>
    // Vite recognises this exact form and bundles the leader worker entry.
    new Worker(new URL('./leader-worker.ts', import.meta.url), { type: 'module', name: workerName });
  const stop = standForElection(storage, name, locks, start);
  return {
    locks,
    connect: () => connectToHost(storage, name, clientId, locks, (hostId) => connectToOwnWorker(storage, name, hostId)),
    stop,
  };
}
