import type { KalamError, Role, Row, SessionOptions, StatementResult, Value } from '@kalamlite/engine';
import type { Endpoint } from 'comlink';
import type { ClientStorage } from './protocol';

/** A user's view of the database: the page-side twin of the engine's Session. */
export interface ClientSession {
  readonly user: string;
  readonly role: Role;
  readonly namespace: string | undefined;
  /** One or more `;`-separated statements; params only with a single statement. */
  execute(sql: string, params?: readonly Value[]): Promise<StatementResult[]>;
  /** Exactly one statement; its result, with frozen rows. */
  query(sql: string, params?: readonly Value[]): Promise<StatementResult>;
  /**
   * Calls `onRows` with the full current result now and after every commit
   * that changes it. Rows are frozen and structurally shared with the
   * previous result: an unchanged row is the same object, and an unchanged
   * result is not delivered again. Resolves to a function that stops it.
   */
  live(
    sql: string,
    params: readonly Value[] | undefined,
    onRows: (rows: readonly Row[]) => void,
    onError?: (error: KalamError) => void,
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
  /** Statements inside the transaction; they see its staged writes. A failing one rolls it back. */
  execute(sql: string, params?: readonly Value[]): Promise<StatementResult[]>;
  query(sql: string, params?: readonly Value[]): Promise<StatementResult>;
  /** Writes everything staged in one storage commit (fails, writing nothing, on a conflict). */
  commit(): Promise<void>;
  /** Drops everything staged. A no-op when the transaction already rolled back. */
  rollback(): Promise<void>;
}

export interface KalamClient {
  /** A session bound to a user and role (role defaults to 'user'). */
  session(options: SessionOptions): ClientSession;
  /** Stops every live query and releases the engine (terminates the worker). */
  close(): Promise<void>;
}

export interface ClientOptions {
  /** Database name (the IndexedDB database for 'idb'). */
  name: string;
  /** Where the engine keeps data; 'idb' unless set. */
  storage?: ClientStorage;
  /**
   * The worker to host the engine, for custom bundling or tests (any Comlink
   * endpoint serving `createWorkerApi()`); by default a module worker
   * running this package's worker entry.
   */
  worker?: Worker | Endpoint;
}
