/**
 * The worker entry, one script for every way kalamlite hosts its engine
 * (so an app that serves it itself serves one file, the `workerUrl`):
 * - in a SharedWorker: the origin's host for one database (tabs/shared-worker.ts);
 * - in a dedicated worker named `kalamlite:<storage>:<name>`: a leader-tab
 *   candidate (tabs/leader-worker.ts);
 * - in a dedicated worker named COMPACTION_WORKER_NAME: a compaction helper
 *   of the engine that started it (@kalamlite/engine startCompactionHelper);
 * - in a dedicated worker named RELAYED_HELPER_NAME: a compaction helper a
 *   page started for its SharedWorker's engine, served on the port the page
 *   hands it (tabs/compaction-relay.ts);
 * - in any other dedicated worker: one engine for one client, served over
 *   Comlink (worker-api.ts).
 */
import { COMPACTION_WORKER_NAME, startCompactionHelper, useCompactionWorker, type HelperScope } from '@kalamlite/engine';
import { expose } from 'comlink';
import { relayedHelpers, RELAYED_HELPER_NAME, serveRelayedHelper, type RelayedHelperScope } from './tabs/compaction-relay';
import { serveLeaderWorker, type LeaderWorkerScope } from './tabs/leader-worker';
import { browserLocks } from './tabs/locks';
import { parseWorkerName } from './tabs/protocol';
import { serveSharedWorker, type SharedWorkerScope } from './tabs/shared-worker';
import { installKalamErrorTransfer } from './transfer';
import { createWorkerApi } from './worker-api';

declare const self: { name?: string; location: { href: string } };

/**
 * Compactions merge in a helper: this same script, started again as a
 * dedicated worker of this one under COMPACTION_WORKER_NAME — where the
 * runtime has dedicated workers inside workers. A SharedWorker in Chromium
 * has none: there a client's page starts the helper (below).
 */
function installCompactionWorker(): void {
  if (typeof Worker === 'undefined') return;
  const url = self.location.href;
  useCompactionWorker(() => new Worker(url, { type: 'module', name: COMPACTION_WORKER_NAME }));
}

if (self.name === COMPACTION_WORKER_NAME) startCompactionHelper(self as unknown as HelperScope);
else if (self.name === RELAYED_HELPER_NAME) serveRelayedHelper(self as unknown as RelayedHelperScope);
else {
  installKalamErrorTransfer();
  installCompactionWorker();
  if ('onconnect' in self) {
    const { hub } = serveSharedWorker(self as unknown as SharedWorkerScope);
    // No Worker here (Chromium): a client's page starts the helper (tabs/compaction-relay.ts).
    const locks = browserLocks();
    if (typeof Worker === 'undefined' && locks !== undefined) useCompactionWorker(relayedHelpers((port, lock) => hub.spawnHelper(port, lock), locks));
  } else if (parseWorkerName(self.name ?? '') !== undefined) serveLeaderWorker(self as unknown as LeaderWorkerScope);
  else expose(createWorkerApi());
}
