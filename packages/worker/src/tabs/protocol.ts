/**
 * The contract between a tab's client and the one engine host of its
 * origin (a SharedWorker, or the leader tab's dedicated worker). Every
 * connection is a Comlink endpoint (a MessagePort, or a BroadcastChannel
 * private to that client and host) serving a `HubConnection`; live events
 * travel on the same endpoint as plain `LiveMessage`s, which Comlink ignores.
 */
import type { Migration } from '@kalamlite/engine';
import type { ThrownShape } from '../transfer';
import type { EngineOptions } from '../engine-options';
import type { ClientStorage, HostLimits, KalamHost, LiveEvent } from '../protocol';

/** How a tab reaches the engine; 'auto' picks a SharedWorker where there is one, else a leader tab. */
export type Transport = 'auto' | 'shared-worker' | 'leader' | 'worker';

export interface AttachOptions {
  name: string;
  storage: ClientStorage;
  /** The client's id; the host watches the client's lock under this id. */
  clientId: string;
  /** The storage format this client's build reads and writes. */
  format: number;
  /** Per-client bounds; defaults where left out. */
  limits?: Partial<HostLimits>;
  /** 'strict' makes the shared engine flush every later commit to disk before acknowledging it (until it closes). */
  durability?: 'relaxed' | 'strict';
  /** Schema migrations the shared engine applies before attaching this client (db.migrate: one call at a time). */
  migrations?: readonly Migration[];
  /**
   * The engine's options (createClient's `engine`): those of the client
   * whose attach opens the engine apply until it closes; a later client's
   * are not applied (system.settings shows the ones in effect).
   */
  engine?: EngineOptions;
}

export interface Attached {
  hostId: string;
}

/** One client's view of the host: a KalamHost after `attach`. `close` detaches. */
export interface HubConnection extends KalamHost {
  attach(options: AttachOptions): Promise<Attached>;
}

/** Live events for this connection's subscriptions: one message per commit. */
export interface LiveMessage {
  kalamlite: 'live';
  events: readonly LiveEvent[];
}

/** The page's acknowledgement of the last LiveMessage: the host may send the next. */
export interface AckMessage {
  kalamlite: 'ack';
}

/**
 * A SharedWorker's client asks on its new port whether the worker runs
 * kalamlite (the start timeout waits for the answer); the hub answers with
 * its host id once it holds its host lock, or that it is shutting down
 * (`ending`: connect again, a new SharedWorker starts).
 */
export interface HelloMessage {
  kalamlite: 'hello';
}

export interface HelloAnswer {
  kalamlite: 'hello';
  hostId: string;
  ending?: true;
}

/** Messages on an origin's announce channel (dedicated-worker path). */
export type AnnounceMessage =
  | { type: 'who' }
  | { type: 'host'; hostId: string }
  | { type: 'failed'; hostId: string; error: ThrownShape }
  | { type: 'connect'; hostId: string; clientId: string };

/** The first message on a new connection channel: the host is listening. */
export interface ConnectionReady {
  kalamlite: 'ready';
}

/**
 * What the leader's dedicated worker tells its own page: `leading` as soon
 * as it holds the leader lock (before it announces itself to any tab), then
 * whether the storage opened.
 */
export type LeaderWorkerMessage =
  /** The worker's script runs (the page's start timeout waits for it). */
  | { type: 'started' }
  | { type: 'leading'; hostId: string }
  | { type: 'ready'; hostId: string }
  | { type: 'failed'; hostId: string; error: ThrownShape };

/**
 * A page asks its own leader worker to serve one client over the
 * MessagePort sent with this message, if the worker is host `hostId`. The
 * worker answers on that port: ConnectionReady, or ConnectionElsewhere.
 */
export interface ConnectRequest {
  type: 'connect';
  hostId: string;
}

/**
 * What a page tells its leader worker besides connections: `release` when
 * no client of the page is left (the worker may end once no other tab's
 * client needs it either), `retain` when the page has a client again.
 */
export type PageMessage = ConnectRequest | { type: 'release' } | { type: 'retain' };

/** The answer on a connection's port from a worker that is not the host asked for. */
export interface ConnectionElsewhere {
  kalamlite: 'elsewhere';
}

export function isAckMessage(data: unknown): data is AckMessage {
  return typeof data === 'object' && data !== null && (data as { kalamlite?: unknown }).kalamlite === 'ack';
}

export function isHelloMessage(data: unknown): data is HelloMessage {
  return typeof data === 'object' && data !== null && (data as { kalamlite?: unknown }).kalamlite === 'hello' && !('hostId' in data);
}

export function isHelloAnswer(data: unknown): data is HelloAnswer {
  return typeof data === 'object' && data !== null && (data as { kalamlite?: unknown }).kalamlite === 'hello' && typeof (data as { hostId?: unknown }).hostId === 'string';
}

export function isLiveMessage(data: unknown): data is LiveMessage {
  return typeof data === 'object' && data !== null && (data as { kalamlite?: unknown }).kalamlite === 'live';
}

/** Worker names carry what the worker serves: `kalamlite:<storage>:<name>`. */
export function workerName(storage: ClientStorage, name: string): string {
  return `kalamlite:${storage}:${name}`;
}

export function parseWorkerName(workerName: string): { storage: ClientStorage; name: string } | undefined {
  const match = /^kalamlite:(idb|memory|opfs):(.+)$/s.exec(workerName);
  return match === null ? undefined : { storage: match[1] as ClientStorage, name: match[2] };
}
