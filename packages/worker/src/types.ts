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
