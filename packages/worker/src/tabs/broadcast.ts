/**
 * The leader path's wiring. BroadcastChannel cannot transfer MessagePorts,
 * so each client gets a BroadcastChannel of its own with the host (named for
 * both of them, so only those two objects exist), found through the
 * origin's announce channel:
 *
 *   client → announce: who            host → announce: host <hostId> (also on becoming ready)
 *   client opens connection channel, then → announce: connect <hostId> <clientId>
 *   host opens the same channel, serves the client on it, → ready
 *
 * From then on the connection channel carries Comlink calls and live events
 * exactly as a MessagePort would. The host's own page skips the channel:
 * its clients reach its worker over MessagePorts (see election.ts).
 */
import { KalamError } from '@kalamlite/engine';
import type { ClientStorage } from '../protocol';
import { deserializeThrown, serializeThrown } from '../transfer';
import type { Hub } from './hub';
import { lockNames, whenLockFree, type Locks } from './locks';
import type { AnnounceMessage } from './protocol';

/** Connection channels one host keeps open (one per attached or attaching client). */
const MAX_CHANNELS = 512;

/** Answers clients on the announce channel and serves each over its own channel. Returns a stop function. */
export function serveOverBroadcast(hub: Hub, storage: ClientStorage, name: string): () => void {
  const names = lockNames(storage, name);
  const announce = new BroadcastChannel(names.channel);
  // Owner: this function; one entry per connection channel, removed when
  // the hub closes it; at most MAX_CHANNELS.
  const channels = new Map<string, BroadcastChannel>();
  let state: AnnounceMessage | undefined;
  let isStopped = false;
  hub.ready.then(
    () => {
      state = { type: 'host', hostId: hub.hostId };
      if (!isStopped) announce.postMessage(state);
    },
    (e: unknown) => {
      state = { type: 'failed', hostId: hub.hostId, error: serializeThrown(e) };
      if (!isStopped) announce.postMessage(state);
    },
  );
  announce.onmessage = (event: MessageEvent<AnnounceMessage>) => {
    const message = event.data;
    if (message?.type === 'who' && state !== undefined) {
      announce.postMessage(state);
    } else if (message?.type === 'connect' && message.hostId === hub.hostId && typeof message.clientId === 'string') {
      if (channels.has(message.clientId) || channels.size >= MAX_CHANNELS) return;
      const channel = new BroadcastChannel(names.connection(hub.hostId, message.clientId));
      channels.set(message.clientId, channel);
      const close = channel.close.bind(channel);
      hub.serve(Object.assign(channel, {
        close() {
          channels.delete(message.clientId);
          close();
        },
      }));
      channel.postMessage({ kalamlite: 'ready' });
    }
  };
  return () => {
    isStopped = true;
    announce.close();
    for (const channel of channels.values()) channel.close();
    channels.clear();
  };
}

/**
 * Finds the origin's host and opens a connection to it; resolves once the
 * host listens on it. Waits (for as long as it takes, or until `signal`
 * aborts) while no tab hosts the database yet; fails when the host reports
 * it could not open it. When the host is this page's own worker, `own` gives
 * a MessagePort to it, used in place of a BroadcastChannel (see election.ts).
 */
export async function connectToHost(
  storage: ClientStorage,
  name: string,
  clientId: string,
  locks: Locks,
  own: (hostId: string) => MessagePort | undefined = () => undefined,
  signal?: AbortSignal,
): Promise<BroadcastChannel | MessagePort> {
  return (await findHost(storage, name, clientId, locks, own, signal)).endpoint;
}

/** connectToHost(), with the id of the host found. */
export async function findHost(
  storage: ClientStorage,
  name: string,
  clientId: string,
  locks: Locks,
  own: (hostId: string) => MessagePort | undefined = () => undefined,
  signal?: AbortSignal,
): Promise<{ endpoint: BroadcastChannel | MessagePort; hostId: string }> {
  const names = lockNames(storage, name);
  for (;;) {
    const hostId = await discoverHost(names.channel, signal);
    const port = own(hostId);
    if (port !== undefined) {
      const answer = await whenListening(port, locks, names.host(hostId), () => undefined, signal);
      if (answer === 'ready') return { endpoint: port, hostId };
      port.close();
      if (answer === 'aborted') throw searchAborted();
      if (answer === 'gone') continue; // that host went away meanwhile: find the next one
    }
    const channel = new BroadcastChannel(names.connection(hostId, clientId));
    const answer = await whenListening(
      channel,
      locks,
      names.host(hostId),
      () => {
        const announce = new BroadcastChannel(names.channel);
        const connect: AnnounceMessage = { type: 'connect', hostId, clientId };
        announce.postMessage(connect);
        announce.close();
      },
      signal,
    );
    if (answer === 'ready') return { endpoint: channel, hostId };
    channel.close(); // that host went away meanwhile: find the next one
    if (answer === 'aborted') throw searchAborted();
  }
}

function searchAborted(): KalamError {
  return new KalamError('CLOSED', 'The search for the database host was abandoned.');
}

/**
 * Waits for the host's first message on a new connection: `ready` (it
 * serves the connection), `elsewhere` (a worker that is not that host), or
 * `gone` when the host's lock frees first. `ask` asks the host to listen.
 */
async function whenListening(
  endpoint: BroadcastChannel | MessagePort,
  locks: Locks,
  hostLock: string,
  ask: () => void,
  signal?: AbortSignal,
): Promise<'ready' | 'elsewhere' | 'gone' | 'aborted'> {
  const hostGone = new AbortController();
  let onAbort = () => undefined as void;
  const answer = await new Promise<'ready' | 'elsewhere' | 'gone' | 'aborted'>((resolve) => {
    endpoint.onmessage = (event: MessageEvent) => {
      const kind = (event.data as { kalamlite?: unknown } | null)?.kalamlite;
      if (kind === 'ready' || kind === 'elsewhere') resolve(kind);
    };
    whenLockFree(locks, hostLock, hostGone.signal).then(() => resolve('gone'), () => undefined);
    onAbort = () => resolve('aborted');
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) resolve('aborted');
    ask();
  });
  signal?.removeEventListener('abort', onAbort);
  hostGone.abort();
  endpoint.onmessage = null;
  return answer;
}

function discoverHost(channelName: string, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(searchAborted());
      return;
    }
    const announce = new BroadcastChannel(channelName);
    const onAbort = () => {
      announce.close();
      reject(searchAborted());
    };
    signal?.addEventListener('abort', onAbort);
    const settle = () => {
      signal?.removeEventListener('abort', onAbort);
      announce.close();
    };
    announce.onmessage = (event: MessageEvent<AnnounceMessage>) => {
      const message = event.data;
      if (message?.type === 'host') {
        settle();
        resolve(message.hostId);
      } else if (message?.type === 'failed') {
        settle();
        const error = deserializeThrown(message.error);
        reject(error instanceof KalamError ? error : new KalamError('INTERNAL', String(error)));
      }
    };
    const who: AnnounceMessage = { type: 'who' };
    announce.postMessage(who);
  });
}
