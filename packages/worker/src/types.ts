import type { ArrowTable, KalamError, Role, Row, SessionOptions, StatementOptions, StatementResult, Value } from '@kalamlite/engine';
import type { Endpoint } from 'comlink';
import type { Transport } from './tabs/protocol';
import type { ClientStats, ClientStorage, HostLimits, LiveChange, LiveOptions } from './protocol';

/** A user's view of the database: the page-side twin of the engine's Session. */
export interface ClientSession {
  readonly user: string;
  readonly role: Role;
  readonly namespace: string | undefined;
  /**
   * One or more `;`-separated statements; params only with a single
   * statement. Aborting `options.signal` cancels the call in the worker:
   * the running statement stops at its next pause point and the call fails
   * with QUERY_CANCELLED (statements of the batch before it stay committed).
   */
  execute(sql: string, params?: readonly Value[], options?: StatementOptions): Promise<StatementResult[]>;
  /** Exactly one statement; its result, with frozen rows. `options.signal` cancels it (QUERY_CANCELLED). */
  query(sql: string, params?: readonly Value[], options?: StatementOptions): Promise<StatementResult>;
  /**
   * Exactly one statement returning rows; its result as an Apache Arrow
   * table, typed as DIALECT.md maps SQL types (BIGINT → Int64, TIMESTAMP →
   * Timestamp(ms), JSON → Utf8 text, BYTES → Binary; see the engine's
   * arrow.ts). Built in the worker and transferred, not copied.
   */
  queryArrow(sql: string, params?: readonly Value[], options?: StatementOptions): Promise<ArrowTable>;
  /**
   * Calls `onChange` with the full current result now and after every
   * commit that changes it, with what changed (`change`). Rows are frozen
   * and shared: an unchanged row is the same object as before, a row of one
   * commit is one object for every live query of this client, and an
   * unchanged result is not delivered again. All of a commit's changes
   * reach the page as one message. If `onChange` returns a promise, the
   * client acknowledges the batch only once it settles; until then changes
   * queue in the worker within `maxPendingChanges`, past which a live
   * query's pending changes collapse into one fresh result
   * (`change.collapsed`). Resolves to a function that stops it.
   */
  live(
    sql: string,
    params: readonly Value[] | undefined,
    onChange: (rows: readonly Row[], change: LiveChange) => unknown,
    onError?: (error: KalamError) => void,
    options?: LiveOptions,
  ): Promise<() => void>;
  /** Opens an explicit transaction; end it with `commit()` or `rollback()` (prefer `transaction()`). */
  begin(): Promise<ClientTransaction>;
  /**
   * Runs `fn` in a transaction, as the engine's `session.transaction()`:
   * commits when it resolves, rolls back and rethrows when it throws. Its
   * writes are invisible to everyone else, live queries included, until commit.
   */
  transaction<T>(fn: (tx: ClientTransaction) => Promise<T> | T): Promise<T>;
}

/** An open explicit transaction: the page-side twin of the engine's SessionTransaction. */
export interface ClientTransaction {
  readonly id: string;
  /** Statements inside the transaction; they see its staged writes. A failing one (a cancelled one too: `options.signal`) rolls it back. */
  execute(sql: string, params?: readonly Value[], options?: StatementOptions): Promise<StatementResult[]>;
  query(sql: string, params?: readonly Value[], options?: StatementOptions): Promise<StatementResult>;
  /** Writes everything staged in one storage commit (fails, writing nothing, on a conflict). */
  commit(): Promise<void>;
  /** Drops everything staged. A no-op when the transaction already rolled back. */
  rollback(): Promise<void>;
}

export interface KalamClient {
  /** A session bound to a user and role (role defaults to 'user'). */
  session(options: SessionOptions): ClientSession;
  /** This client's live-delivery figures (its queue in the worker, batches, collapses). */
  stats(): Promise<ClientStats>;
  /**
   * Stops every live query and releases the engine. A dedicated worker is
   * terminated. The origin's shared engine keeps serving the other clients
   * (of this tab or others); closing its last client closes the engine and
   * resolves once it is closed, so the next client opens the storage anew.
   * Its worker then ends too (a leader tab's worker once no other tab's
   * client uses it): the next client starts a fresh one.
   */
  close(): Promise<void>;
}

export interface ClientOptions {
  /** Database name (the IndexedDB database for 'idb'). */
  name: string;
  /**
   * Where the engine keeps data; 'idb' unless set. 'opfs' keeps it in the
   * Origin Private File System through sync access handles, which exist only
   * in dedicated workers: where they are missing, opening fails with
   * UNSUPPORTED (use 'idb').
   */
  storage?: ClientStorage;
  /**
   * The worker to host the engine, for custom bundling or tests (any Comlink
   * endpoint serving `createWorkerApi()`); by default a module worker
   * running this package's worker entry.
   */
  worker?: Worker | Endpoint;
  /** Per-client bounds: `maxSubscriptions` (default 100), `maxPendingChanges` (default 1024). */
  limits?: Partial<HostLimits>;
  /**
   * How this tab reaches the origin's one engine for this database:
   * 'auto' (default) a SharedWorker where the browser has one, else a
   * leader tab elected with Web Locks whose worker hosts the engine;
   * 'shared-worker' or 'leader' to force one; 'worker' for a dedicated
   * engine of this client's own (only safe when no other tab opens the
   * same database).
   */
  transport?: Transport;
  /**
   * When a write is acknowledged: 'relaxed' (default) once the browser has
   * it — it survives the worker, the tab or the browser crashing and a
   * reload; 'strict' once it is flushed to disk, so it also survives a power
   * loss, at a cost per commit. On the origin's shared engine the strictest
   * any client asked for applies until the engine closes.
   */
  durability?: 'relaxed' | 'strict';
  /**
   * Where the worker script is served, when not where the bundler put it
   * (an app that serves kalamlite's worker entry itself): a URL on the
   * page's origin, relative to the page or absolute. One script serves
   * every transport (SharedWorker, leader worker, dedicated worker).
   */
  workerUrl?: string | URL;
  /**
   * How long a worker this client starts may take to answer its first
   * message, in milliseconds (default 10000): past it, or as soon as the
   * worker reports an error, createClient() rejects with
   * WORKER_START_FAILED saying why. Opening the database is not counted.
   */
  startTimeoutMs?: number;
}
