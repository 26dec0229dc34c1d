import { DEFAULTS, KalamError, ROLES, type Database, type Row, type Session, type SessionTransaction, type Value } from '@kalamlite/engine';
import type { Executed, KalamHost, LiveEvent, LiveListener, SessionKey } from './protocol';
import { SessionCache } from './session-cache';
import { asKalamError } from './transfer';

/** Live subscriptions one client may hold open at once (the engine's own default limit). */
export const MAX_SUBSCRIPTIONS: number = DEFAULTS.maxLiveQueries;

/** Explicit transactions one client may hold open at once. */
export const MAX_CLIENT_TRANSACTIONS = 16;

interface OpenTransaction {
  tx: SessionTransaction;
  session: Session;
  key: SessionKey;
}

/**
 * Serves one client over an open engine database: runs its statements under
 * cached sessions, keeps its live subscriptions and sends their results to
 * `listener`, batched per tick. Every method validates its input and fails
 * only with a KalamError, so bad input never takes the host down.
 */
export function createHost(db: Database, listener: LiveListener): KalamHost {
  const sessions = new SessionCache(db);
  // Owner: this host; at most MAX_SUBSCRIPTIONS entries, removed on
  // unsubscribe and close. `null` marks a subscription still starting.
  const subscriptions = new Map<number, (() => void) | null>();
  // Owner: `flush`; at most one event per open subscription.
  const pending = new Map<number, LiveEvent>();
  // Owner: this host; at most MAX_CLIENT_TRANSACTIONS entries, removed on
  // commit, rollback and close (close rolls them back).
  const transactions = new Map<string, OpenTransaction>();
  let isFlushScheduled = false;
  let isClosed = false;

  function flush(): void {
    isFlushScheduled = false;
    if (pending.size === 0) return;
    const events = [...pending.values()];
    pending.clear();
    void listener(events);
  }

  function emit(event: LiveEvent): void {
    if (!subscriptions.has(event.id)) return;
    // A newer result supersedes an undelivered one: results are whole.
    pending.delete(event.id);
    pending.set(event.id, event);
    if (!isFlushScheduled) {
      isFlushScheduled = true;
      queueMicrotask(flush);
    }
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
    checkSessionKey(key);
    return sessions.get(key);
  }

  return {
    async execute(key, sql, params) {
      try {
        checkStatement(sql, params);
        return await run(key, (session) => session.execute(sql, params));
      } catch (e) {
        throw asKalamError(e);
      }
    },

    async query(key, sql, params) {
      try {
        checkStatement(sql, params);
        return await run(key, (session) => session.query(sql, params));
      } catch (e) {
        throw asKalamError(e);
      }
    },

    async live(key, sql, params, id) {
      try {
        checkStatement(sql, params);
        const session = sessionFor(key);
        if (!Number.isSafeInteger(id)) {
          throw new KalamError('INVALID_PARAMETER', `Subscription id must be an integer, got ${String(id)}.`);
        }
        if (subscriptions.has(id)) {
          throw new KalamError('INVALID_PARAMETER', `Subscription id ${id} is already in use.`);
        }
        if (subscriptions.size >= MAX_SUBSCRIPTIONS) {
          throw new KalamError(
            'RESULT_TOO_LARGE',
            `Too many live queries on this client: the limit is ${MAX_SUBSCRIPTIONS}. Stop unused live queries before starting more.`,
          );
        }
        subscriptions.set(id, null);
        let stop: () => void;
        try {
          stop = await session.live(
            sql,
            params,
            (rows: readonly Row[]) => emit({ kind: 'rows', id, rows }),
            (error: KalamError) => emit({ kind: 'error', id, error: shapeOf(asKalamError(error)) }),
          );
        } catch (e) {
          subscriptions.delete(id);
          pending.delete(id);
          throw e;
        }
        if (subscriptions.get(id) === null) subscriptions.set(id, stop);
        else stop(); // unsubscribed (or closed) while starting
      } catch (e) {
        throw asKalamError(e);
      }
    },

    async begin(key) {
      try {
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
      } catch (e) {
        throw asKalamError(e);
      }
    },

    async txExecute(id, sql, params) {
      try {
        checkStatement(sql, params);
        return await runIn(id, (tx) => tx.execute(sql, params));
      } catch (e) {
        throw asKalamError(e);
      }
    },

    async txQuery(id, sql, params) {
      try {
        checkStatement(sql, params);
        return await runIn(id, (tx) => tx.query(sql, params));
      } catch (e) {
        throw asKalamError(e);
      }
    },

    async commit(id) {
      try {
        const open = transactionFor(id);
        transactions.delete(id);
        await open.tx.commit();
      } catch (e) {
        throw asKalamError(e);
      }
    },

    async rollback(id) {
      try {
        const open = transactionFor(id);
        transactions.delete(id);
        await open.tx.rollback();
      } catch (e) {
        throw asKalamError(e);
      }
    },

    async unsubscribe(id) {
      const stop = subscriptions.get(id);
      subscriptions.delete(id);
      pending.delete(id);
      if (stop) {
        try {
          stop();
        } catch (e) {
          throw asKalamError(e);
        }
      }
    },

    async close() {
      isClosed = true;
      const stops = [...subscriptions.values()];
      const open = [...transactions.values()];
      subscriptions.clear();
      transactions.clear();
      pending.clear();
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
      if (failures.length > 0) throw asKalamError(failures[0]);
    },
  };
}

function shapeOf(error: KalamError) {
  return error.position === undefined
    ? { code: error.code, message: error.message }
    : { code: error.code, message: error.message, position: error.position };
}

function checkSessionKey(key: SessionKey): void {
  if (typeof key !== 'object' || key === null || typeof key.user !== 'string' || key.user === '') {
    throw new KalamError('INVALID_PARAMETER', 'A session needs a non-empty string `user`.');
  }
  if (!(ROLES as readonly string[]).includes(key.role)) {
    throw new KalamError('INVALID_PARAMETER', `Unknown role '${String(key.role)}'; use one of user, service, dba, system.`);
  }
  if (key.namespace !== undefined && typeof key.namespace !== 'string') {
    throw new KalamError('INVALID_PARAMETER', 'A session `namespace` must be a string when given.');
  }
}

function checkStatement(sql: string, params: readonly Value[] | undefined): void {
  if (typeof sql !== 'string') {
    throw new KalamError('INVALID_SQL', `SQL must be a string, got ${sql === null ? 'null' : typeof sql}.`);
  }
  if (params !== undefined && !Array.isArray(params)) {
    throw new KalamError('INVALID_PARAMETER', 'Parameters must be an array of values when given.');
  }
}
