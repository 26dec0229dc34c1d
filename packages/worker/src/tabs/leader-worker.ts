/**
 * A tab's dedicated worker on the leader path. Every tab with a client runs
 * one; each stands for election on the origin's `leader` lock, and the one
 * holding it hosts the engine for every tab: other tabs reach it over
 * BroadcastChannels, its own page over MessagePorts (one hop, as to any
 * dedicated worker). The lock is held by the worker itself, so when it dies
 * — its tab closed, it was terminated or it crashed — the browser frees the
 * lock and the next tab's worker, already loaded, takes over at once.
 */
import { installKalamErrorTransfer, serializeThrown } from '../transfer';
import { serveOverBroadcast } from './broadcast';
import { createHub, type Hub } from './hub';
import { lockNames, type Locks } from './locks';
import { serveOwnPage } from './own-page';
import { parseWorkerName, type ConnectRequest, type LeaderWorkerMessage } from './protocol';

declare const self: {
  name: string;
  navigator: { locks: Locks };
  postMessage(message: LeaderWorkerMessage): void;
  onmessage: ((event: MessageEvent<ConnectRequest>) => void) | null;
};

installKalamErrorTransfer();
const target = parseWorkerName(self.name);
if (target === undefined) throw new Error(`kalamlite: unexpected worker name '${self.name}'.`);
const { name, storage } = target;

/** Set once this worker leads; it leads for as long as it lives. */
let hub: Hub | undefined;

// This page's own clients: each sends a MessagePort of its own to be served on.
self.onmessage = serveOwnPage(() => hub);

void self.navigator.locks.request(lockNames(storage, name).leader, { mode: 'exclusive' }, async () => {
  // A leading worker outlives its own tab's clients (it serves the other tabs): the engine closes while no client is attached.
  const leading = createHub({ name, storage, locks: self.navigator.locks, closeWhenIdle: true });
  hub = leading;
  // Before any tab hears of this host: the page then knows its own worker when it finds it announced.
  self.postMessage({ type: 'leading', hostId: leading.hostId });
  serveOverBroadcast(leading, storage, name);
  try {
    await leading.ready;
    self.postMessage({ type: 'ready', hostId: leading.hostId });
  } catch (e) {
    // Stays the leader, answering every client with why it cannot open.
    self.postMessage({ type: 'failed', hostId: leading.hostId, error: serializeThrown(e) });
  }
  // Leads for as long as this worker lives.
  await new Promise<never>(() => undefined);
});
