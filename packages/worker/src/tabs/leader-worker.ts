/**
 * A tab's dedicated worker on the leader path. Every tab with a client runs
 * one; each stands for election on the origin's `leader` lock, and the one
 * holding it hosts the engine for every tab, which reach it over
 * BroadcastChannels. The lock is held by the worker itself, so when it dies
 * — its tab closed, it was terminated or it crashed — the browser frees the
 * lock and the next tab's worker, already loaded, takes over at once.
 */
import { installKalamErrorTransfer, serializeThrown } from '../transfer';
import { serveOverBroadcast } from './broadcast';
import { createHub } from './hub';
import { lockNames, type Locks } from './locks';
import { parseWorkerName, type LeaderWorkerMessage } from './protocol';

declare const self: { name: string; navigator: { locks: Locks }; postMessage(message: LeaderWorkerMessage): void };

installKalamErrorTransfer();
const target = parseWorkerName(self.name);
if (target === undefined) throw new Error(`kalamlite: unexpected worker name '${self.name}'.`);
const { name, storage } = target;

void self.navigator.locks.request(lockNames(storage, name).leader, { mode: 'exclusive' }, async () => {
  // A leading worker outlives its own tab's clients (it serves the other tabs): the engine closes while no client is attached.
  const hub = createHub({ name, storage, locks: self.navigator.locks, closeWhenIdle: true });
  serveOverBroadcast(hub, storage, name);
  try {
    await hub.ready;
    self.postMessage({ type: 'ready', hostId: hub.hostId });
  } catch (e) {
    // Stays the leader, answering every client with why it cannot open.
    self.postMessage({ type: 'failed', hostId: hub.hostId, error: serializeThrown(e) });
  }
  // Leads for as long as this worker lives.
  await new Promise<never>(() => undefined);
});
