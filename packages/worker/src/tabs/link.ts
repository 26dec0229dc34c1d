/**
 * A client's attachment to one host over one endpoint: the Comlink remote,
 * the live events arriving beside it, and a promise that settles when that
 * host is gone (its lock freed: tab closed, worker terminated or crashed).
 */
import { releaseProxy, wrap, type Endpoint } from 'comlink';
import { KalamError } from '@kalamlite/engine';
import type { KalamHost, LiveEvent } from '../protocol';
import { whenLockFree, type LockNames, type Locks } from './locks';
import { isLiveMessage, type AckMessage, type AttachOptions, type HubConnection } from './protocol';
import { isHelperRequest, startRelayedHelper, type HelperRequest } from './compaction-relay';

export interface Link {
  readonly host: KalamHost;
  readonly hostId: string;
  /** Resolves when the host is gone; never rejects. */
  readonly gone: Promise<void>;
  /** Detaches from the host (ending this client's subscriptions and transactions there) and frees the endpoint. */
  close(): Promise<void>;
}

const ACK: AckMessage = { kalamlite: 'ack' };

export type LinkEndpoint = Endpoint & { close?(): void; start?(): void };

/**
 * Attaches to the host behind `endpoint`. With `expectedHostId` (the host
 * found), the attach fails with LEADER_CHANGED if that host goes away before
 * it answers (connect again), instead of waiting for an answer that never comes.
 */
export async function linkTo(
  endpoint: LinkEndpoint,
  attach: AttachOptions,
  locks: Locks,
  names: LockNames,
  deliver: (events: readonly LiveEvent[]) => Promise<void> | undefined,
  expectedHostId?: string,
  /** Starts a compaction helper the host asks for (compaction-relay.ts). */
  spawnHelper?: (request: HelperRequest) => void,
): Promise<Link> {
  const onMessage = (event: Event) => {
    const data: unknown = (event as MessageEvent).data;
    if (isHelperRequest(data)) {
      if (spawnHelper) spawnHelper(data);
      else startRelayedHelper(data, () => { throw new Error('this client starts no helper'); });
      return;
    }
    if (!isLiveMessage(data)) return;
    const acknowledge = () => {
      try {
        endpoint.postMessage(ACK);
      } catch {
        // The link closed meanwhile: nobody waits for this acknowledgement.
      }
    };
    const consumed = deliver(data.events);
    if (consumed === undefined) acknowledge();
    else consumed.then(acknowledge, acknowledge);
  };
  endpoint.addEventListener('message', onMessage);
  endpoint.start?.();
  const remote = wrap<HubConnection>(endpoint);
  const free = () => {
    endpoint.removeEventListener('message', onMessage);
    remote[releaseProxy]();
    endpoint.close?.();
  };
  let hostId: string;
  const watching = new AbortController();
  try {
    const attached = remote.attach(attach);
    if (expectedHostId === undefined) {
      ({ hostId } = await attached);
    } else {
      const gone = whenLockFree(locks, names.host(expectedHostId), watching.signal).then(
        () => {
          throw new KalamError('LEADER_CHANGED', 'The database host went away while this client attached: connect again.');
        },
        () => new Promise<never>(() => undefined), // attached first
      );
      ({ hostId } = await Promise.race([attached, gone]));
    }
  } catch (e) {
    free();
    throw e;
  } finally {
    watching.abort();
  }
  const stopWatching = new AbortController();
  const gone = whenLockFree(locks, names.host(hostId), stopWatching.signal).catch(() => undefined);
  let isGone = false;
  void gone.then(() => (isGone = true));
  return {
    host: remote,
    hostId,
    gone,
    async close() {
      try {
        // A host that is gone has nothing left to detach from.
        if (!isGone) await Promise.race([remote.close(), gone]);
      } finally {
        stopWatching.abort();
        free();
      }
    },
  };
}
