/**
 * Web Locks as kalamlite uses them across tabs. A lock held by a context is
 * released by the browser when that context goes away (tab closed, worker
 * terminated or crashed), so "this lock became free" is how one side learns
 * the other is gone — no heartbeats.
 *
 * - `engine`: held by the one context that has the storage open.
 * - `host:<id>`: held by that context for as long as it serves clients;
 *   clients wait on it (shared) to learn the host is gone.
 * - `client:<id>`: held by each client; the host waits on it to drop the
 *   connections of a closed tab.
 * - `leader`: the election among tabs on the dedicated-worker path.
 * - `connecting`: held (shared) by each client from finding a host until it
 *   is attached (or has failed); a host context takes it (exclusive) to end
 *   itself once no client needs it, so no client is ever half-connected to a
 *   context that ends (see lifetime.ts).
 */
import type { ClientStorage } from '../protocol';

/** The part of `navigator.locks` used here (tests pass an in-memory one). */
export interface Locks {
  request<T>(name: string, options: { mode?: 'exclusive' | 'shared'; signal?: AbortSignal }, callback: () => Promise<T> | T): Promise<T>;
}

export interface LockNames {
  engine: string;
  leader: string;
  connecting: string;
  host(hostId: string): string;
  client(clientId: string): string;
  /** The BroadcastChannel where hosts announce themselves and clients ask for one. */
  channel: string;
  /** The BroadcastChannel carrying one client's connection to one host. */
  connection(hostId: string, clientId: string): string;
}

export function lockNames(storage: ClientStorage, name: string): LockNames {
  const base = `kalamlite:${storage}:${name}`;
  return {
    engine: `${base}:engine`,
    leader: `${base}:leader`,
    connecting: `${base}:connecting`,
    host: (hostId) => `${base}:host:${hostId}`,
    client: (clientId) => `${base}:client:${clientId}`,
    channel: base,
    connection: (hostId, clientId) => `${base}:connection:${hostId}:${clientId}`,
  };
}

/** The browser's lock manager, when this context has one. */
export function browserLocks(): Locks | undefined {
  const locks = (globalThis.navigator as { locks?: Locks } | undefined)?.locks;
  return locks !== undefined && typeof locks.request === 'function' ? locks : undefined;
}

/**
 * Takes lock `name` (waiting for it) and holds it until the returned
 * function is called; resolves once the lock is held.
 */
export function holdLock(locks: Locks, name: string): Promise<() => void> {
  return new Promise((acquired, failed) => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    locks.request(name, { mode: 'exclusive' }, () => {
      acquired(release);
      return held;
    }).catch(failed);
  });
}

/** Runs `run` holding lock `name` in shared mode (waiting for it), and releases it when `run` settles. */
export function withSharedLock<T>(locks: Locks, name: string, run: () => Promise<T>): Promise<T> {
  return locks.request(name, { mode: 'shared' }, run);
}

/**
 * Resolves once lock `name` is free, i.e. once whoever holds it is gone.
 * Waits in shared mode, so many watchers are released together and hold it
 * for no longer than a microtask.
 */
export function whenLockFree(locks: Locks, name: string, signal?: AbortSignal): Promise<void> {
  return locks.request(name, signal === undefined ? { mode: 'shared' } : { mode: 'shared', signal }, () => undefined);
}

/** A random id for a host or a client, unique enough across an origin's tabs. */
export function randomId(): string {
  return globalThis.crypto.randomUUID();
}
