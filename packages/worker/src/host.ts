import { KalamError, loadArrow, type Database, type Row, type Session, type SessionTransaction, type StatementOptions, type Value } from '@kalamlite/engine';
import { LiveOutbox } from './outbox';
import type { ClientStats, Executed, HostLimits, KalamHost, LiveChange, LiveListener, LiveOptions, SessionKey } from './protocol';
import { backupOptions } from './backup';
import { SessionCache } from './session-cache';
import { asKalamError, guarded } from './transfer';

/** Live subscriptions one client may hold open at once by default: KalamDB's hard cap per connection. */
export const MAX_SUBSCRIPTIONS = 100;

/** Changes queued for a client that has not acknowledged its previous batch, by default. */
export const MAX_PENDING_CHANGES = 1024;

export const DEFAULT_LIMITS: HostLimits = Object.freeze({ maxSubscriptions: MAX_SUBSCRIPTIONS, maxPendingChanges: MAX_PENDING_CHANGES });

/** The engine's `session.live` with change sets and options (older engines call back with rows only). */
type LiveWithChanges = (
  sql: string,
  params: readonly Value[] | undefined,
  onChange: (rows: readonly Row[], change?: LiveChange, seq?: bigint) => void,
  onError?: (error: KalamError) => void,
  options?: LiveOptions,
) => Promise<() => void>;

/** Explicit transactions one client may hold open at once. */
export const MAX_CLIENT_TRANSACTIONS = 16;

/** Calls made with an AbortSignal that one client may have running at once (the engine's maxRunningQueries default). */
export const MAX_CANCELLABLE_CALLS = 1000;

interface OpenTransaction {
  tx: SessionTransaction;
  session: Session;
  key: SessionKey;
}

/**
 * Serves one client over an open engine database: runs its statements under
 * cached sessions, keeps its live subscriptions and sends their changes to
 * `listener` through a bounded outbox, one batch per commit. Statements,
 * sessions and live options are the engine's to judge; the host checks only
 * its own bookkeeping (subscription ids, transaction ids, limits, closed).
 * Every method fails only with a KalamError, so bad input never takes the
 * host down.
 */
export function createHost(db: Database, listener: LiveListener, limits: Partial<HostLimits> = {}): KalamHost & LiveStatsSource {
  const bounds = checkLimits(limits);
  const sessions = new SessionCache(db);
  // Owner: this host; at most bounds.maxSubscriptions entries, removed on
  // unsubscribe and close. `null` marks a subscription still starting.
  const subscriptions = new Map<number, (() => void) | null>();
  const outbox = new LiveOutbox(listener, bounds);
  // Owner: this host; at most MAX_CLIENT_TRANSACTIONS entries, removed on
  // commit, rollback and close (close rolls them back).
  const transactions = new Map<string, OpenTransaction>();
  // Owner: this host; one AbortController per running call the client gave
  // an id (it has an AbortSignal), removed when the call settles; at most
  // MAX_CANCELLABLE_CALLS entries.
  const cancellable = new Map<number, AbortController>();
  let isClosed = false;

  /**
   * Runs `statement` with the signal of call `call` (none when the client
   * gave no id): `cancel(call)` aborts it while it runs.
   */
  function withCall<T>(call: number | undefined, statement: (options: StatementOptions | undefined) => Promise<T>): Promise<T> {
    if (call === undefined || call === null) return statement(undefined);
    if (!Number.isSafeInteger(call)) throw new KalamError('INVALID_PARAMETER', `A call id must be an integer, got ${String(call)}.`);
    if (cancellable.has(call)) throw new KalamError('INVALID_PARAMETER', `Call id ${call} is already in use.`);
    if (cancellable.size >= MAX_CANCELLABLE_CALLS) {
      throw new KalamError('LIMIT_EXCEEDED', `Too many calls with an AbortSignal running on this client: the limit is ${MAX_CANCELLABLE_CALLS}. Wait for some to finish first.`);
    }
    const controller = new AbortController();
    cancellable.set(call, controller);
    let running: Promise<T>;
    try {
      running = statement({ signal: controller.signal });
    } catch (e) {
      cancellable.delete(call);
      throw e;
    }
    return running.finally(() => cancellable.delete(call));
  }

  /** Runs a statement and reports a namespace switch (`USE`) back to the client. */
  async function run<T>(key: SessionKey, statement: (session: Session) => Promise<T>): Promise<Executed<T>> {
    const session = sessionFor(key);
    const before = session.namespace;
    const value = await statement(session);
    if (session.namespace === before) return { value };
    // The cached session no longer matches its key.
    sessions.drop(key, session);
    return { value, namespace: session.namespace };
  }

  function transactionFor(id: string): OpenTransaction {
    if (isClosed) throw new KalamError('CLOSED', 'This client is closed; create a new client to run statements.');
    const open = typeof id === 'string' ? transactions.get(id) : undefined;
    if (open === undefined) {
      throw new KalamError('TRANSACTION_ERROR', `Unknown transaction '${String(id)}': it was already committed or rolled back; start a new one.`);
    }
    return open;
  }

  /** Runs a statement inside a transaction, reporting a namespace switch like `run`. */
  async function runIn<T>(id: string, statement: (tx: SessionTransaction) => Promise<T>): Promise<Executed<T>> {
    const open = transactionFor(id);
    const before = open.session.namespace;
    const value = await statement(open.tx);
    if (open.session.namespace === before) return { value };
    sessions.drop(open.key, open.session);
    open.key = { ...open.key, namespace: open.session.namespace };
    return { value, namespace: open.session.namespace };
  }

  function sessionFor(key: SessionKey): Session {
    if (isClosed) throw new KalamError('CLOSED', 'This client is closed; create a new client to run statements.');
    return sessions.get(key);
  }

  const methods = guarded<KalamHost>({
    execute: (key, sql, params, call) => run(key, (session) => withCall(call, (options) => session.execute(sql, params, options))),

    query: (key, sql, params, call) => run(key, (session) => withCall(call, (options) => session.query(sql, params, options))),

    insertMany: (key, table, rows, offset, call) =>
      run(key, async (session) => {
        if (!Array.isArray(rows)) throw new KalamError('INVALID_PARAMETER', 'insertMany() sends its rows as arrays of row objects.');
        // The page cut this chunk: it is written whole (one commit) or not at all, never cut again.
        const whole = { chunkRows: Math.max(1, rows.length), chunkBytes: Number.MAX_SAFE_INTEGER, offset };
        await withCall(call, (options) => session.insertMany(table, rows, { ...whole, signal: options?.signal }));
      }),

    queryArrow: (key, sql, params, call) =>
      run(key, async (session) => {
        const table = await withCall(call, (options) => session.queryArrow(sql, params, options));
        // Loaded on first use (by queryArrow itself, so this resolves at once): see the engine's lazy-module.ts.
        return (await loadArrow()).encodeArrow(table);
      }),

    async live(key, sql, params, id, options) {
      const session = sessionFor(key);
      if (!Number.isSafeInteger(id)) {
        throw new KalamError('INVALID_PARAMETER', `Subscription id must be an integer, got ${String(id)}.`);
      }
      if (subscriptions.has(id)) {
        throw new KalamError('INVALID_PARAMETER', `Subscription id ${id} is already in use.`);
      }
      if (subscriptions.size >= bounds.maxSubscriptions) {
        throw new KalamError(
          'SUBSCRIPTION_LIMIT_EXCEEDED',
          `Maximum subscriptions reached: this client may hold ${bounds.maxSubscriptions} live queries at once. Stop unused live queries before starting more, or raise maxSubscriptions.`,
        );
      }
      subscriptions.set(id, null);
      outbox.add(id);
      let stop: () => void;
      try {
        const live = session.live as LiveWithChanges;
        // One function per live query serves as both callbacks (the engine passes
        // onChange an array of rows, onError an error): each is held as long as
        // the query is open, and every function object costs each live query.
        const deliver = (rowsOrError: readonly Row[] | KalamError, change?: LiveChange, seq?: bigint) => {
          if (Array.isArray(rowsOrError)) outbox.push(id, rowsOrError, change, seq);
          else outbox.error(id, shapeOf(asKalamError(rowsOrError)));
        };
        // The engine judges the SQL, parameters and options.
        stop = await live(sql, params, deliver, deliver, options);
      } catch (e) {
        subscriptions.delete(id);
        outbox.remove(id);
        throw e;
      }
      if (subscriptions.get(id) === null) subscriptions.set(id, stop);
      else stop(); // unsubscribed (or closed) while starting
    },

    async begin(key) {
      const session = sessionFor(key);
      if (transactions.size >= MAX_CLIENT_TRANSACTIONS) {
        throw new KalamError(
          'TRANSACTION_ERROR',
          `Too many open transactions on this client: the limit is ${MAX_CLIENT_TRANSACTIONS}. Commit or roll back open transactions first.`,
        );
      }
      const tx = await session.begin();
      transactions.set(tx.id, { tx, session, key });
      return tx.id;
    },

    txExecute: (id, sql, params, call) => runIn(id, (tx) => withCall(call, (options) => tx.execute(sql, params, options))),

    txQuery: (id, sql, params, call) => runIn(id, (tx) => withCall(call, (options) => tx.query(sql, params, options))),

    async cancel(call) {
      cancellable.get(call)?.abort();
    },

    async commit(id) {
      const open = transactionFor(id);
      transactions.delete(id);
      await open.tx.commit();
    },

    async rollback(id) {
      const open = transactionFor(id);
      transactions.delete(id);
      await open.tx.rollback();
    },

    async unsubscribe(id) {
      const stop = subscriptions.get(id);
      subscriptions.delete(id);
      outbox.remove(id);
      stop?.();
    },

    async stats() {
      return outbox.stats();
    },

    async exportDatabase(onProgress) {
      if (isClosed) throw new KalamError('CLOSED', 'This client is closed; create a new client to export.');
      return backupOptions(onProgress, (options) => db.exportDatabase(options));
    },

    async importDatabase(file, onProgress) {
      if (isClosed) throw new KalamError('CLOSED', 'This client is closed; create a new client to import.');
      return backupOptions(onProgress, (options) => db.importDatabase(file, options));
    },

    async exportUserData(key, onProgress) {
      const session = sessionFor(key);
      return backupOptions(onProgress, (options) => session.exportUserData(options));
    },

    readFile: async (key, ref, options) => sessionFor(key).readFile(ref, options),

    async close() {
      isClosed = true;
      const stops = [...subscriptions.values()];
      const open = [...transactions.values()];
      subscriptions.clear();
      transactions.clear();
      for (const controller of cancellable.values()) controller.abort();
      cancellable.clear();
      outbox.clear();
      sessions.clear();
      const failures: unknown[] = [];
      for (const { tx } of open) {
        try {
          await tx.rollback();
        } catch (e) {
          failures.push(e);
        }
      }
      for (const stop of stops) {
        try {
          stop?.();
        } catch (e) {
          failures.push(e);
        }
      }
      if (failures.length > 0) throw failures[0];
    },
  });

  return { ...methods, liveStats: () => outbox.stats() };
}

function shapeOf(error: KalamError) {
  return error.position === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, position: error.position };
}

/** Synchronous access to a host's live figures, for `system.stats` (the engine's hostMetrics). */
export interface LiveStatsSource {
  liveStats(): ClientStats;
}

/** A client's live figures as `system.stats` rows. */
export function liveMetrics(stats: ClientStats): [string, number][] {
  return [
    ['client_live_queries', stats.subscriptions],
    ['client_live_queries_max', stats.maxSubscriptions],
    ['client_pending_changes', stats.pendingChanges],
    ['client_pending_changes_max', stats.maxPendingChanges],
    ['client_pending_changes_peak', stats.pendingChangesPeak],
    ['client_live_collapses', stats.collapses],
    ['client_live_batches', stats.batches],
  ];
}

/**
 * The client's `limits` (the worker's own options) with defaults filled in,
 * or INVALID_OPTION naming what is allowed. Called before anything is sent
 * or opened (createClient, the worker's open) and by every host.
 */
export function checkLimits(limits: Partial<HostLimits> | undefined = {}): HostLimits {
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) {
    throw new KalamError('INVALID_OPTION', 'Client limits must be an object: { maxSubscriptions?, maxPendingChanges? }.');
  }
  const names = Object.keys(DEFAULT_LIMITS);
  for (const name of Object.keys(limits)) {
    if (limits[name as keyof HostLimits] !== undefined && !names.includes(name)) {
      throw new KalamError('INVALID_OPTION', `Unknown limit '${name}'. Valid limits: ${names.join(', ')}.`);
    }
  }
  const bounds = { ...DEFAULT_LIMITS };
  for (const name of ['maxSubscriptions', 'maxPendingChanges'] as const) {
    const value = limits[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new KalamError('INVALID_OPTION', `${name} must be a positive integer, got ${String(value)}.`);
    }
    bounds[name] = value;
  }
  return bounds;
}
