import { consumeTopic } from './consume';
import {
  insertChunks,
  insertManyError,
  KalamError,
  loadArrow,
  resolveInsertManyOptions,
  resolveSessionOptions,
  resolveStatementOptions,
  validateParams,
  type InsertManyOptions,
  type InsertManyProgress,
  type ParamValue,
  type Row,
  type SessionOptions,
  type StatementOptions,
  type StatementResult,
  type Value,
} from '@kalamlite/engine';
import type { Executed, KalamHost, LiveChange, LiveEvent, LiveOptions, SessionKey } from './protocol';
import { MAX_SUBSCRIPTIONS } from './host';
import { progressListener } from './backup';
import { contentKey } from './content-key';
import { ClientLiveRegistry } from './live-registry';
import { shareRows } from './share';
import { asKalamError, guarded } from './transfer';
import type { ClientSession, ClientTransaction, KalamClient } from './types';

export interface Connection {
  client: KalamClient;
  /**
   * Fans a batch of live events out to the subscriptions they belong to.
   * A returned promise is the page's acknowledgement: the host sends the
   * next batch once it settles.
   */
  deliver(events: readonly LiveEvent[]): Promise<void> | undefined;
  /**
   * Where live query `id` resumes when it is started again on a new host
   * (failover): the `_seq` of the last complete result delivered, or
   * undefined to start over. Its next result is taken as the resumed one.
   */
  resumeFrom(id: number): bigint | undefined;
}

/**
 * The client side, written once for both transports: a host in a worker
 * (through Comlink) or in-process. Owns the client-side live registry and
 * applies structural sharing per subscription.
 */
export function connectClient(host: KalamHost, release: () => Promise<void>, limits: { maxSubscriptions?: number } = {}): Connection {
  const registry = new ClientLiveRegistry();
  const maxListeners = limits.maxSubscriptions ?? MAX_SUBSCRIPTIONS;
  // Identical live queries of one session (same SQL, parameters and no
  // options) share one subscription: the host maintains and sends it once,
  // the registry hands every listener the same rows. Owner: this client; an
  // entry goes when its subscription's last listener stops, when it fails,
  // or when the client closes. Bounded by the open subscriptions.
  const shared = new Map<string, { id: number; ready: Promise<void> }>();
  let nextId = 1;
  /** Ids of calls made with an AbortSignal (KalamHost's `call`). */
  let nextCall = 1;
  let isClosed = false;

  /**
   * Sends a call, with an id when `options` has a signal: aborting the
   * signal sends `cancel(id)` over the same channel. The options are the
   * engine's to judge, here where they are given (an AbortSignal cannot
   * cross to the worker).
   */
  async function cancellable<T>(options: unknown, send: (call: number | undefined) => Promise<T>): Promise<T> {
    const { signal } = resolveStatementOptions(options);
    if (signal === undefined) return send(undefined);
    if (signal.aborted) throw new KalamError('QUERY_CANCELLED', 'The statement was cancelled before it started: its AbortSignal was aborted');
    const call = nextCall++;
    const onAbort = () => {
      host.cancel(call).catch(() => undefined); // a call that ended meanwhile is not cancelled; its outcome stands
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await send(call);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  function ensureOpen(): void {
    if (isClosed) throw new KalamError('CLOSED', 'This client is closed; create a new client to run statements.');
  }

  function session(options: SessionOptions): ClientSession {
    // The engine's own check, so a bad session fails here rather than at its first statement.
    resolveSessionOptions(options);
    // Replaced (never mutated) when a `USE` switches the namespace.
    let key = sessionKey(options);
    function follow<T>(executed: Executed<T>): T {
      if (executed.namespace !== undefined) key = { ...key, namespace: executed.namespace };
      return executed.value;
    }

    async function begin(): Promise<{ tx: ClientTransaction; isOpen: () => boolean }> {
      ensureOpen();
      const id = await host.begin(key);
      // 'open' until this client commits or rolls it back; the host ends it on close.
      let state: 'open' | 'committed' | 'rolled_back' = 'open';
      const ended = () =>
        new KalamError('TRANSACTION_ERROR', `Transaction ${id} is already ${state === 'committed' ? 'committed' : 'rolled back'}: start a new transaction`);
      const tx: ClientTransaction = {
        id,
        ...guarded<Omit<ClientTransaction, 'id'>>({
          async execute(sql, params, options) {
            ensureOpen();
            if (state !== 'open') throw ended();
            const sent = sendableWithFiles(params);
            return follow(await cancellable(options, (call) => host.txExecute(id, sql, sent, call))).map(withFrozenRows);
          },
          async query<T extends object = Row>(sql: string, params?: readonly ParamValue[], options?: StatementOptions) {
            ensureOpen();
            if (state !== 'open') throw ended();
            const sent = sendableWithFiles(params);
            return withFrozenRows(follow(await cancellable(options, (call) => host.txQuery(id, sql, sent, call)))) as StatementResult<T>;
          },
          async commit() {
            ensureOpen();
            if (state !== 'open') throw ended();
            state = 'rolled_back'; // unless the commit succeeds
            await host.commit(id);
            state = 'committed';
          },
          async rollback() {
            if (state === 'rolled_back') return;
            if (state === 'committed') throw ended();
            state = 'rolled_back';
            if (!isClosed) await host.rollback(id);
          },
        }),
      };
      return { tx, isOpen: () => state === 'open' };
    }

    return {
      user: key.user,
      role: key.role,
      get namespace() {
        return key.namespace;
      },

      ...guarded<Pick<ClientSession, 'execute' | 'query' | 'queryArrow' | 'live' | 'begin' | 'exportUserData' | 'readFile' | 'fileUrl'>>({
        async execute(sql, params, options) {
          ensureOpen();
          params = sendableWithFiles(params);
          return follow(await cancellable(options, (call) => host.execute(key, sql, params, call))).map(withFrozenRows);
        },

        async query<T extends object = Row>(sql: string, params?: readonly ParamValue[], options?: StatementOptions) {
          ensureOpen();
          params = sendableWithFiles(params);
          // The rows are what the statement returns: T is the caller's word for them.
          return withFrozenRows(follow(await cancellable(options, (call) => host.query(key, sql, params, call)))) as StatementResult<T>;
        },

        async queryArrow(sql, params, options) {
          ensureOpen();
          params = sendable(params);
          // Arrow loads on first use (see the engine's lazy-module.ts), here while the query runs;
          // a failed load is reported once the query's own outcome is known.
          const arrow = loadArrow();
          arrow.catch(() => undefined);
          const bytes = follow(await cancellable(options, (call) => host.queryArrow(key, sql, params, call)));
          return (await arrow).decodeArrow(bytes);
        },

        async live<T extends object = Row>(
          sql: string,
          params: readonly Value[] | undefined,
          typedOnChange: (rows: readonly T[], change: LiveChange<T>) => unknown,
          onError?: (error: KalamError) => void,
          options?: LiveOptions,
        ) {
          // The rows are what the query returns: T is the caller's word for them.
          const onChange = typedOnChange as unknown as (rows: readonly Row[], change: LiveChange) => unknown;
          ensureOpen();
          // The callbacks stay on this page (the engine never sees them), so they are checked here.
          if (typeof onChange !== 'function') throw new KalamError('INVALID_OPTION', 'live() needs an onChange callback.');
          if (registry.listenerCount >= maxListeners) {
            throw new KalamError(
              'SUBSCRIPTION_LIMIT_EXCEEDED',
              `Maximum subscriptions reached: this client may hold ${maxListeners} live queries at once. Stop unused live queries before starting more, or raise maxSubscriptions.`,
            );
          }
          params = sendable(params);
          const shareKey = sharingKey(key, sql, params, options);
          const open = shareKey === undefined ? undefined : shared.get(shareKey);
          if (open !== undefined) {
            await open.ready;
            ensureOpen();
            const leave = registry.join(open.id, onChange, onError);
            if (leave !== undefined) return stopper(open.id, shareKey, leave);
            // It failed or stopped meanwhile: start a subscription of its own.
          }
          // The id is chosen here and registered before the host starts, so
          // the first result can never arrive for an unknown id.
          const id = nextId++;
          const leave = registry.add(id, onChange, onError);
          const started = host.live(key, sql, params, id, options);
          const entry = { id, ready: started };
          entry.ready.catch(() => undefined);
          if (shareKey !== undefined) shared.set(shareKey, entry);
          try {
            await started;
          } catch (e) {
            registry.remove(id);
            if (shareKey !== undefined && shared.get(shareKey) === entry) shared.delete(shareKey);
            throw e;
          }
          return stopper(id, shareKey, leave);
        },

        async begin() {
          return (await begin()).tx;
        },

        async exportUserData(options) {
          ensureOpen();
          return host.exportUserData(key, progressListener(options, 'exportUserData()'));
        },

        async readFile(ref, options) {
          ensureOpen();
          return host.readFile(key, ref, options);
        },

        async fileUrl(ref, options) {
          ensureOpen();
          return URL.createObjectURL(await host.readFile(key, ref, options));
        },
      }),

      consume(topic, options, handler) {
        ensureOpen();
        return consumeTopic(this, topic, options, handler);
      },

      // Not guarded: an error thrown by the caller's input or onProgress is rethrown as it is; every other failure is a KalamError.
      async insertMany(table: string, rows: Iterable<object> | AsyncIterable<object>, options?: InsertManyOptions): Promise<InsertManyProgress> {
        ensureOpen();
        const resolved = resolveInsertManyOptions(options);
        const { signal, onProgress } = resolved;
        const stopIfAborted = () => {
          if (signal?.aborted) throw new KalamError('QUERY_CANCELLED', 'The statement was cancelled: its AbortSignal was aborted');
        };
        let committed = resolved.offset;
        let chunks = 0;
        try {
          // Read on this page one chunk at a time: the next is read once the one before has committed in the worker.
          for await (const chunk of insertChunks(rows, resolved, committed, undefined, stopIfAborted)) {
            ensureOpen();
            await cancellable({ signal }, (call) => host.insertMany(key, table, chunk, committed, call)).catch(rethrowKalamError);
            committed += chunk.length;
            chunks++;
            onProgress?.({ rowsCommitted: committed, chunks });
          }
          // Nothing to write: the engine still judges the table (as the engine's own insertMany does).
          if (chunks === 0) await host.insertMany(key, table, [], committed).catch(rethrowKalamError);
          return { rowsCommitted: committed, chunks };
        } catch (e) {
          if (!(e instanceof KalamError)) throw e; // the input's or onProgress's own error
          throw insertManyError(e, committed);
        }
      },

      async transaction(fn) {
        if (typeof fn !== 'function') {
          throw new KalamError('INVALID_PARAMETER', 'transaction() needs a callback: session.transaction(async (tx) => { … })');
        }
        let opened;
        try {
          opened = await begin();
        } catch (e) {
          throw asKalamError(e);
        }
        let result;
        try {
          result = await fn(opened.tx);
        } catch (e) {
          await opened.tx.rollback().catch(() => undefined);
          throw e; // the callback's own error, unchanged
        }
        // Commits unless the callback ended it; if a statement failed inside,
        // the host has rolled it back and the commit reports that.
        if (opened.isOpen()) await opened.tx.commit();
        return result;
      },
    };
  }

  /** The stop function of one live() call: the subscription ends with its last listener. */
  function stopper(id: number, shareKey: string | undefined, leave: () => boolean): () => void {
    let isStopped = false;
    return () => {
      if (isStopped) return;
      isStopped = true;
      if (leave()) return;
      if (shareKey !== undefined && shared.get(shareKey)?.id === id) shared.delete(shareKey);
      if (!registry.remove(id) || isClosed) return;
      host.unsubscribe(id).catch(reportLater);
    };
  }

  function deliver(events: readonly LiveEvent[]): Promise<void> | undefined {
    return registry.deliver(events);
  }

  const client: KalamClient = {
    session,
    consume(topic, options, handler) {
      const { session: as, ...rest } = options ?? ({} as typeof options);
      return session(as ?? { user: 'outbox', role: 'service' }).consume(topic, rest as typeof options, handler);
    },
    fileUrl(ref, as) {
      return session(as).fileUrl(ref);
    },
    ...guarded<Omit<KalamClient, 'session' | 'consume' | 'fileUrl'>>({
      async stats() {
        ensureOpen();
        return host.stats();
      },
      async exportDatabase(options) {
        ensureOpen();
        return host.exportDatabase(progressListener(options, 'exportDatabase()'));
      },
      async importDatabase(file, options) {
        ensureOpen();
        return host.importDatabase(file, progressListener(options, 'importDatabase()'));
      },
      async close() {
        if (isClosed) return;
        isClosed = true;
        registry.clear();
        shared.clear();
        await release();
      },
    }),
  };

  return { client, deliver, resumeFrom: (id) => registry.resumeFrom(id) };
}

/**
 * The session as it travels to the host. Only shaped here (role 'user'
 * unless given): the engine judges the user, role and namespace when the
 * session first runs a statement.
 */
function sessionKey(options: SessionOptions): SessionKey {
  const { user, role = 'user', namespace } = (options ?? {}) as Partial<SessionOptions>;
  return namespace === undefined ? { user: user as string, role } : { user: user as string, role, namespace };
}

/**
 * When live() calls may share one subscription: the same session (user,
 * role, namespace), SQL text and parameters, and no options (lastRows,
 * batchSize and from shape what each caller receives); parameters compare
 * by content (content-key.ts). Undefined: not shared.
 */
function sharingKey(key: SessionKey, sql: unknown, params: readonly Value[] | undefined, options: object | undefined): string | undefined {
  if (typeof sql !== 'string') return undefined;
  try {
    if (options !== undefined && options !== null && Object.values(options).some((v) => v !== undefined)) return undefined;
    // By content (over the engine's bounded, acyclic copy: sendable), whatever the session's parts are: the engine judges them when the subscription starts.
    return contentKey([key.user, key.role, key.namespace ?? null, sql, (params ?? []) as Value] as Value);
  } catch {
    return undefined;
  }
}

/**
 * Parameters as they are sent: the engine's own check and frozen copy, made
 * here where the caller's values are read, so a Proxy, a throwing getter, a
 * cycle or a huge sparse array fails with the engine's INVALID_PARAMETER
 * (not inside structured clone, not in the live-sharing key), and what
 * crosses is plain data.
 */
function sendable(params: readonly Value[] | undefined): readonly Value[] | undefined {
  return params === undefined || params === null ? params : validateParams(params);
}

/** As sendable, but a Blob (a file for a FILE column) goes to the worker as it is, where it is streamed to storage. */
function sendableWithFiles(params: readonly ParamValue[] | undefined): readonly ParamValue[] | undefined {
  let hasBlob = false;
  try {
    // A hostile or huge sparse array is validateParams' to report.
    hasBlob = Array.isArray(params) && params.length <= 1e6 && params.some((p) => p instanceof Blob);
  } catch {
    // reported by sendable
  }
  if (!hasBlob) return sendable(params as readonly Value[] | undefined);
  params = [...params!];
  const checked: ParamValue[] = [...validateParams(params.map((p) => (p instanceof Blob ? null : p)))];
  params.forEach((p, i) => p instanceof Blob && (checked[i] = p));
  return checked;
}

function withFrozenRows(result: StatementResult): StatementResult {
  const rows = shareRows(undefined, result.rows);
  return rows === result.rows ? result : { ...result, rows };
}

function rethrowKalamError(e: unknown): never {
  throw asKalamError(e);
}

function reportLater(e: unknown): void {
  queueMicrotask(() => {
    throw e;
  });
}
