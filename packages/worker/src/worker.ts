/**
 * The worker entry, one script for every way kalamlite hosts its engine
 * (so an app that serves it itself serves one file, the `workerUrl`):
 * - in a SharedWorker: the origin's host for one database (tabs/shared-worker.ts);
 * - in a dedicated worker named `kalamlite:<storage>:<name>`: a leader-tab
 *   candidate (tabs/leader-worker.ts);
 * - in any other dedicated worker: one engine for one client, served over
 *   Comlink (worker-api.ts).
 */
import { expose } from 'comlink';
import { serveLeaderWorker, type LeaderWorkerScope } from './tabs/leader-worker';
import { parseWorkerName } from './tabs/protocol';
import { serveSharedWorker, type SharedWorkerScope } from './tabs/shared-worker';
import { installKalamErrorTransfer } from './transfer';
import { createWorkerApi } from './worker-api';

declare const self: { name?: string };

installKalamErrorTransfer();
if ('onconnect' in self) serveSharedWorker(self as unknown as SharedWorkerScope);
else if (parseWorkerName(self.name ?? '') !== undefined) serveLeaderWorker(self as unknown as LeaderWorkerScope);
else expose(createWorkerApi());
