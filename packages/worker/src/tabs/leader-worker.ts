/**
 * The leader mode of the worker entry (../worker.ts): a tab's dedicated
 * worker on the leader path. Every tab with a client runs one; each stands
 * for election on the origin's `leader` lock, and the one holding it hosts
 * the engine for every tab: other tabs reach it over BroadcastChannels, its
 * own page over MessagePorts (one hop, as to any dedicated worker). The lock
 * is held by the worker itself, so when it dies — its tab closed, it was
 * terminated or it crashed — the browser frees the lock and the next tab's
 * worker, already loaded, takes over at once.
 *
 * A leading worker outlives its own page's clients while other tabs' clients
 * use it; once its page has released it (no client left there) and no client
 * is attached or attaching, it ends itself (see lifetime.ts), and the next
 * tab that needs the database elects a new leader.
 */
import { serializeThrown } from '../transfer';
import { serveOverBroadcast } from './broadcast';
import { createHub, type Hub, type HubOptions } from './hub';
import { endWhenUnused, type HostLifetime } from './lifetime';
import { lockNames, type Locks } from './locks';
import { serveOwnPage } from './own-page';
import { parseWorkerName, type ConnectRequest, type LeaderWorkerMessage, type PageMessage } from './protocol';

/** The part of a DedicatedWorkerGlobalScope used here (tests pass a fake). */
export interface LeaderWorkerScope {
  name: string;
  navigator: { locks: Locks };
  postMessage(message: LeaderWorkerMessage): void;
  onmessage: ((event: MessageEvent<PageMessage>) => void) | null;
  /** Ends the worker. A fake returns a promise that settles once it counts as gone. */
  close(): void | Promise<void>;
}

export function serveLeaderWorker(scope: LeaderWorkerScope, hubOptions: Partial<HubOptions> = {}): { hub(): Hub | undefined } {
  const target = parseWorkerName(scope.name);
  if (target === undefined) throw new Error(`kalamlite: unexpected worker name '${scope.name}'.`);
  const { name, storage } = target;
  const locks = scope.navigator.locks;
  const names = lockNames(storage, name);

  /** Set once this worker leads; it leads for as long as it lives. */
  let hub: Hub | undefined;
  let lifetime: HostLifetime | undefined;
  let isNeededByPage = true;
  let markGone: () => void = () => undefined;
  /** Settles once the worker counts as gone (in a browser, never: it is gone first). */
  const gone = new Promise<void>((resolve) => (markGone = resolve));

  // This page's own clients: each sends a MessagePort of its own to be served on.
  const serveConnection = serveOwnPage(() => hub);
  scope.onmessage = (event: MessageEvent<PageMessage>) => {
    const type = event.data?.type;
    if (type === 'release' || type === 'retain') {
      isNeededByPage = type === 'retain';
      lifetime?.setNeededByPage(isNeededByPage);
      return;
    }
    serveConnection(event as MessageEvent<ConnectRequest>);
  };
  // The script runs: the page's start timeout ends here.
  scope.postMessage({ type: 'started' });

  void locks.request(names.leader, { mode: 'exclusive' }, async () => {
    // A leading worker outlives its own tab's clients (it serves the other tabs): the engine closes while no client is attached.
    const leading = createHub({ name, storage, locks, closeWhenIdle: true, onIdle: () => lifetime?.check(), ...hubOptions });
    hub = leading;
    lifetime = endWhenUnused(
      leading,
      locks,
      names,
      async () => {
        stopServing();
        const closed = scope.close();
        if (closed !== undefined) void closed.then(markGone);
        await gone;
      },
      isNeededByPage,
    );
    // Before any tab hears of this host: the page then knows its own worker when it finds it announced.
    scope.postMessage({ type: 'leading', hostId: leading.hostId });
    const stopServing = serveOverBroadcast(leading, storage, name);
    try {
      await leading.ready;
      scope.postMessage({ type: 'ready', hostId: leading.hostId });
    } catch (e) {
      // Stays the leader, answering every client with why it cannot open.
      scope.postMessage({ type: 'failed', hostId: leading.hostId, error: serializeThrown(e) });
    }
    // Leads for as long as this worker lives.
    await gone;
  });
  return { hub: () => hub };
}
