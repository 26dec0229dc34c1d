/**
 * The worker entry, one script for every way kalamlite hosts its engine
 * (so an app that serves it itself serves one file, the `workerUrl`):
 * - in a SharedWorker: the origin's host for one database (tabs/shared-worker.ts);
 * - in a dedicated worker named `kalamlite:<storage>:<name>`: a leader-tab
 *   candidate (tabs/leader-worker.ts);
 * - in a dedicated worker named COMPACTION_WORKER_NAME: a compaction helper
 *   of the engine that started it (@kalamlite/engine startCompactionHelper);
 * - in any other dedicated worker: one engine for one client, served over
 *   Comlink (worker-api.ts).
 */
import { COMPACTION_WORKER_NAME, startCompactionHelper, useCompactionWorker, type HelperScope } from '@kalamlite/engine';
import { expose } from 'comlink';
import { serveLeaderWorker, type LeaderWorkerScope } from './tabs/leader-worker';
import { parseWorkerName } from './tabs/protocol';
import { serveSharedWorker, type SharedWorkerScope } from './tabs/shared-worker';
import { installKalamErrorTransfer } from './transfer';
import { createWorkerApi } from './worker-api';

declare const self: { name?: string; location: { href: string } };

/**
 * Compactions merge in a helper: this same script, started again as a
 * dedicated worker of this one under COMPACTION_WORKER_NAME — where the
 * runtime has dedicated workers inside workers (not in a SharedWorker in
 * Chromium: there merges stay in the engine's thread).
 */
function installCompactionWorker(): void {
  if (typeof Worker === 'undefined') return;
  const url = self.location.href;
  useCompactionWorker(() => new Worker(url, { type: 'module', name: COMPACTION_WORKER_NAME }));
}

if (self.name === COMPACTION_WORKER_NAME) startCompactionHelper(self as unknown as HelperScope);
else {
  installKalamErrorTransfer();
  installCompactionWorker();
  if ('onconnect' in self) serveSharedWorker(self as unknown as SharedWorkerScope);
  else if (parseWorkerName(self.name ?? '') !== undefined) serveLeaderWorker(self as unknown as LeaderWorkerScope);
  else expose(createWorkerApi());
}
