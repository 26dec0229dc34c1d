/**
 * The engine host of an origin: the one context (a SharedWorker, or the
 * leader tab's dedicated worker) that owns the storage of one database and
 * serves every tab's clients. Each connection gets its own KalamHost (its
 * sessions, subscriptions and transactions) over the one shared engine.
 *
 * The engine opens with the first client that attaches, with that client's
 * engine options (createClient's `engine`); they apply until the engine
 * closes. A client that attaches while it is open (or opening) joins it as
 * it is: its own engine options are not applied.
 *
 * With `closeWhenIdle` the hub closes the engine when its last client
 * leaves — that client's close() resolves once it is closed — and opens it
 * anew from storage for the next client. Whether the context itself ends
 * then is for `onIdle` to decide (see lifetime.ts): it ends through
 * `closeIfUnused()`, which refuses while any client is attached or attaching.
 */
import { expose, finalizer, transfer, type Endpoint } from 'comlink';
import { checkDurability, KalamError, openDatabase, type Database, type OpenOptions, type SessionOptions } from '@kalamlite/engine';
import { checkEngineOptions, type EngineOptions } from '../engine-options';
import { checkLimits, createHost } from '../host';
import type { ClientStorage, KalamHost, LiveEvent } from '../protocol';
import { asKalamError, guarded } from '../transfer';
import { holdLock, lockNames, randomId, whenLockFree, type Locks } from './locks';
import { isAckMessage, isHelloMessage, type AttachOptions, type HelloAnswer, type HubConnection, type LiveMessage } from './protocol';
import { checkClientFormat, checkStorageFormat, STORAGE_FORMAT } from './storage-format';
import { applyMigrations, checkClientMigrations } from '../migrations';
import type { HelperRequest } from './compaction-relay';

/** Clients one host serves at once (tabs × clients per tab). */
export const MAX_CLIENTS = 256;

export interface HubOptions {
  name: string;
  storage: ClientStorage;
  locks: Locks;
  /** The storage format of this build (tests pass others). */
  format?: number;
  /** Opens the engine; `openDatabase` unless set (tests pass an IndexedDB factory through it). */
  open?: (options: OpenOptions) => Promise<Database>;
  /** Checks and records the storage format (under '<storage>:<name>'); skipped for memory storage. */
  checkFormat?: (name: string, format: number) => Promise<void>;
  maxClients?: number;
  /**
   * Closes the engine (freeing the storage) when the last client leaves,
   * and opens it again for the next one. Without it the engine stays open
   * until `close()`.
   */
  closeWhenIdle?: boolean;
  /**
   * Called each time the hub is left without clients (none attached or
   * attaching): after the last one leaves (once the engine is closed, with
   * `closeWhenIdle`), after an attach fails, and once the first open has
   * settled. Its context may then end through `closeIfUnused()`.
   */
  onIdle?: () => void;
}

export interface Hub {
  readonly hostId: string;
  /** Settles once this context hosts the database (holds its host lock): clients may attach. The engine opens at the first attach. */
  readonly ready: Promise<void>;
  /** Serves one client connection over `endpoint`; `close` is called when it ends. */
  serve(endpoint: Endpoint & { close?(): void }): void;
  /**
   * Asks the page of an attached client to start a compaction helper on
   * `port`, holding `lock` (tabs/compaction-relay.ts): the name of the lock
   * that client holds while it lives, or undefined when no client is attached.
   */
  spawnHelper(port: MessagePort, lock: string): string | undefined;
  /** Clients attached right now. */
  readonly clientCount: number;
  close(): Promise<void>;
  /**
   * Closes the hub (as `close()`) if no client is attached or attaching,
   * and resolves true once it is closed — or at once false. Attaches that
   * arrive after it began fail with LEADER_CHANGED: connect again.
   */
  closeIfUnused(): Promise<boolean>;
}

interface Connection {
  clientId: string;
  host: KalamHost;
  endpoint: Endpoint & { close?(): void };
  stopWatching: AbortController;
  /** Acknowledges the live batch in flight (the outbox sends one at a time). */
  acknowledge: (() => void) | undefined;
}

export function createHub(options: HubOptions): Hub {
  const format = options.format ?? STORAGE_FORMAT;
  const names = lockNames(options.storage, options.name);
  const hostId = randomId();
  const maxClients = options.maxClients ?? MAX_CLIENTS;
  // Owner: this hub; at most `maxClients` entries, removed when a client
  // closes, its tab goes away (its lock frees) or the hub closes.
  const connections = new Map<string, Connection>();
  /** The engine, opening or open; undefined while closed for want of clients. */
  let engine: Promise<Database> | undefined;
  /** The engine's last close for want of clients: the next open waits for it. Never rejects. */
  let idle: Promise<void> = Promise.resolve();
  /** Attaches in progress: they count as clients, so the engine is not closed (nor the hub ended) under them. */
  let attaching = 0;
  let releaseHost: (() => void) | undefined;
  let releaseEngine: (() => void) | undefined;
  let isClosed = false;

  async function openEngine(engineOptions: EngineOptions): Promise<Database> {
    try {
      // Exactly one context opens the storage: a host still closing (or a
      // crashed one, until the browser frees its lock) is waited for.
      // An older build refuses before waiting for the storage: a newer build may hold it for as long as its tabs live.
      if (options.storage !== 'memory' && options.checkFormat === undefined) {
        await checkStorageFormat(`${options.storage}:${options.name}`, format, undefined, false);
      }
      releaseEngine = await holdLock(options.locks, names.engine);
      if (options.storage !== 'memory') await (options.checkFormat ?? checkStorageFormat)(`${options.storage}:${options.name}`, format);
      const open = options.open ?? openDatabase;
      return await open({
        ...engineOptions,
        name: options.name,
        storage: options.storage,
        hostMetrics: () => [
          ['clients_connected', connections.size],
          ['clients_max', maxClients],
        ],
      });
    } catch (e) {
      // The storage is free for a build that can open it; this host stays to report why.
      releaseEngine?.();
      releaseEngine = undefined;
      throw asKalamError(e);
    }
  }

  /**
   * The open engine; when it is not open (the first client, or the first
   * after it closed for want of clients) it opens — after the last close has
   * finished — with `engineOptions`, the attaching client's.
   */
  function openedEngine(engineOptions: EngineOptions): Promise<Database> {
    engine ??= idle.then(() => openEngine(engineOptions));
    return engine;
  }

  // Held while this context lives, even if opening fails (clients then
  // get the failure rather than waiting for a replacement).
  const hosting = holdLock(options.locks, names.host(hostId)).then((release) => {
    releaseHost = release;
  });
  const ready = hosting;
  ready.catch(() => undefined); // reported to each client that attaches
  void ready.then(notifyIdle, notifyIdle);

  /** Tells `onIdle` when no client is attached or attaching. */
  function notifyIdle(): void {
    if (!isClosed && connections.size === 0 && attaching === 0) options.onIdle?.();
  }

  /**
   * With `closeWhenIdle`, closes the engine once no client is attached or
   * attaching, and frees the storage; resolves once it is closed.
   */
  function closeIfIdle(): Promise<void> {
    if (!options.closeWhenIdle || isClosed || connections.size > 0 || attaching > 0 || engine === undefined) return idle;
    const closing = engine;
    engine = undefined;
    const closed = (async () => {
      try {
        const db = await closing.catch(() => undefined);
        await db?.close();
      } finally {
        releaseEngine?.();
        releaseEngine = undefined;
      }
    })();
    idle = closed.catch(() => undefined);
    return closed;
  }

  /**
   * Ends one client's attachment (its subscriptions and transactions).
   * `closeEndpoint: false` when the client asked: it waits for the answer on
   * that endpoint, and releases it afterwards (see `finalizer` below).
   */
  async function detach(connection: Connection, closeEndpoint = true): Promise<void> {
    if (connections.get(connection.clientId) !== connection) return;
    connections.delete(connection.clientId);
    connection.stopWatching.abort();
    connection.acknowledge?.();
    try {
      await connection.host.close();
    } finally {
      if (closeEndpoint) connection.endpoint.close?.();
    }
  }

  /** A client leaves (it closed, or its tab went away); the last one closes the engine (see closeIfIdle). */
  async function leave(connection: Connection, closeEndpoint: boolean): Promise<void> {
    try {
      await detach(connection, closeEndpoint);
    } finally {
      try {
        await closeIfIdle();
      } finally {
        notifyIdle();
      }
    }
  }

  function hostEnding(): KalamError {
    return new KalamError('LEADER_CHANGED', 'The database host was shutting down as this client attached: connect again (another host takes over).');
  }

  function serve(endpoint: Endpoint & { close?(): void }): void {
    let connection: Connection | undefined;
    function attached(): KalamHost {
      if (connection === undefined) throw new KalamError('CLOSED', 'This client is not attached to the database; call createClient() again.');
      return connection.host;
    }
    // A SharedWorker's client asks first whether this context runs (see transport.ts): answered once it hosts.
    endpoint.addEventListener('message', (event) => {
      if (!isHelloMessage((event as MessageEvent).data)) return;
      void hosting.then(() => {
        const answer: HelloAnswer = isClosed ? { kalamlite: 'hello', hostId, ending: true } : { kalamlite: 'hello', hostId };
        endpoint.postMessage(answer);
      }, () => undefined);
    });
    const api = guarded<HubConnection>({
      async attach(attach: AttachOptions) {
        // From here until it is attached or has failed, this client counts: the engine stays open and the hub does not end.
        attaching++;
        let isAttached = false;
        try {
          await ready;
          checkAttach(attach, options.name, options.storage);
          checkClientFormat(attach.format, format);
          if (isClosed) throw hostEnding();
          const db = await openedEngine(checkEngineOptions(attach.engine));
          if (isClosed) throw hostEnding();
          // The engine runs one migrate() at a time: a client arriving meanwhile waits, then finds them applied.
          await applyMigrations(db, attach.migrations);
          if (isClosed) throw hostEnding();
          if (connection !== undefined) throw new KalamError('INVALID_OPTION', 'This connection is already attached.');
          // The strictest durability any client asked for applies to the shared engine.
          if (attach.durability === 'strict') db.setDurability('strict');
          if (connections.has(attach.clientId)) throw new KalamError('INVALID_OPTION', `Client id ${attach.clientId} is already attached.`);
          if (connections.size >= maxClients) {
            throw new KalamError('RESULT_TOO_LARGE', `Too many clients on this database: the limit is ${maxClients}. Close unused tabs or clients.`);
          }
          // One message per batch; the next waits for the page's acknowledgement.
          const post = (events: readonly LiveEvent[]) =>
            new Promise<void>((resolve) => {
              current.acknowledge = resolve;
              const message: LiveMessage = { kalamlite: 'live', events };
              endpoint.postMessage(message);
            });
          const current: Connection = {
            clientId: attach.clientId,
            host: createHost(forClient(db, attach.clientId), post, attach.limits ?? {}),
            endpoint,
            stopWatching: new AbortController(),
            acknowledge: undefined,
          };
          endpoint.addEventListener('message', (event) => {
            if (!isAckMessage((event as MessageEvent).data)) return;
            const acknowledge = current.acknowledge;
            current.acknowledge = undefined;
            acknowledge?.();
          });
          connection = current;
          connections.set(attach.clientId, current);
          // The client holds its lock for its lifetime: when it frees, the tab is gone.
          whenLockFree(options.locks, names.client(attach.clientId), current.stopWatching.signal).then(
            () => leave(current, true).catch(() => undefined),
            () => undefined, // aborted: detached already
          );
          isAttached = true;
          return { hostId };
        } finally {
          attaching--;
          // Clients that left while this one waited for the engine may have left it unused.
          if (!isAttached) void closeIfIdle().catch(() => undefined).finally(notifyIdle);
        }
      },
      execute: (session, sql, params, call) => attached().execute(session, sql, params, call),
      query: (session, sql, params, call) => attached().query(session, sql, params, call),
      async queryArrow(session, sql, params, call) {
        const executed = await attached().queryArrow(session, sql, params, call);
        // Moved, not copied, over a MessagePort (a BroadcastChannel clones it).
        return transfer(executed, [executed.value.buffer as ArrayBuffer]);
      },
      insertMany: (session, table, rows, offset, call) => attached().insertMany(session, table, rows, offset, call),
      live: (session, sql, params, id, liveOptions) => attached().live(session, sql, params, id, liveOptions),
      unsubscribe: (id) => attached().unsubscribe(id),
      stats: () => attached().stats(),
      exportDatabase: (onProgress) => attached().exportDatabase(onProgress),
      importDatabase: (file, onProgress) => attached().importDatabase(file, onProgress),
      exportUserData: (session, onProgress) => attached().exportUserData(session, onProgress),
      readFile: (session, ref, options) => attached().readFile(session, ref, options),
      begin: (session) => attached().begin(session),
      txExecute: (tx, sql, params, call) => attached().txExecute(tx, sql, params, call),
      txQuery: (tx, sql, params, call) => attached().txQuery(tx, sql, params, call),
      cancel: (call) => attached().cancel(call),
      commit: (tx) => attached().commit(tx),
      rollback: (tx) => attached().rollback(tx),
      // Answers once this client is detached (and, if it was the last, the engine closed).
      async close() {
        if (connection !== undefined) await leave(connection, false);
      },
    });
    expose(
      Object.assign(api, {
        // The client released the endpoint: Comlink has sent its last answer on it.
        [finalizer]() {
          if (connection !== undefined) void leave(connection, false).catch(() => undefined);
          endpoint.close?.();
        },
      }),
      endpoint,
    );
  }

  let closed: Promise<void> | undefined;
  async function close(): Promise<void> {
    isClosed = true;
    const open = [...connections.values()];
    for (const connection of open) await detach(connection).catch(() => undefined);
    try {
      const db = await engine?.catch(() => undefined);
      engine = undefined;
      await db?.close();
      await idle;
    } finally {
      releaseEngine?.();
      releaseEngine = undefined;
      await hosting.catch(() => undefined);
      releaseHost?.();
      releaseHost = undefined;
    }
  }

  function spawnHelper(port: MessagePort, lock: string): string | undefined {
    // The client attached last: its page is the likeliest to stay.
    const connection = [...connections.values()].at(-1);
    if (connection === undefined) return undefined;
    const request: HelperRequest = { kalamlite: 'helper', port, lock };
    try {
      connection.endpoint.postMessage(request, [port]);
      return names.client(connection.clientId);
    } catch {
      return undefined; // an endpoint that cannot carry a port (a BroadcastChannel, on the leader path)
    }
  }

  return {
    hostId,
    ready,
    serve,
    spawnHelper,
    get clientCount() {
      return connections.size;
    },
    close() {
      closed ??= close();
      return closed;
    },
    async closeIfUnused() {
      if (closed === undefined && (connections.size > 0 || attaching > 0)) return false;
      closed ??= close();
      await closed;
      return true;
    },
  };
}

/**
 * The database as one client sees it: its sessions carry the client's id,
 * so `system.live` can say which tab owns each subscription.
 */
function forClient(db: Database, clientId: string): Database {
  return {
    session(options: SessionOptions) {
      return db.session({ ...options, client: clientId });
    },
    migrate: (migrations) => db.migrate(migrations),
    setDurability: (durability) => db.setDurability(durability),
    exportDatabase: (options) => db.exportDatabase(options),
    importDatabase: (file, options) => db.importDatabase(file, options),
    close: () => db.close(),
  };
}

function checkAttach(attach: AttachOptions, name: string, storage: ClientStorage): void {
  if (typeof attach !== 'object' || attach === null || typeof attach.clientId !== 'string' || attach.clientId === '') {
    throw new KalamError('INVALID_OPTION', 'attach() needs a client id.');
  }
  if (attach.name !== name || attach.storage !== storage) {
    throw new KalamError('INVALID_OPTION', `This host serves ${storage} database "${name}", not ${String(attach.storage)} database "${String(attach.name)}".`);
  }
  if (typeof attach.format !== 'number') throw new KalamError('INVALID_OPTION', 'attach() needs the client build\'s storage format.');
  if (attach.durability !== undefined) checkDurability(attach.durability);
  checkClientMigrations(attach.migrations);
  checkLimits(attach.limits);
}
