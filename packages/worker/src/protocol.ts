import type { KalamErrorShape, Role, Row, StatementResult, Value } from '@kalamlite/engine';

/**
 * The contract between a client and the engine host behind it. The worker
 * exposes a `WorkerApi` over Comlink; `createLocalClient` talks to a
 * `KalamHost` in-process. Both are driven by the same client code.
 */

/** Who runs a statement: sessions are identified by value, not by object. */
export interface SessionKey {
  user: string;
  role: Role;
  namespace?: string;
}

/** Storage a worker-hosted engine can open. */
export type ClientStorage = 'idb' | 'memory';

/**
 * One live-query event. Subscription ids are chosen by the client, so an
 * event can never arrive for an id the client does not know yet.
 */
export type LiveEvent =
  | { kind: 'rows'; id: number; rows: readonly Row[] }
  | { kind: 'error'; id: number; error: KalamErrorShape };

/**
 * Receives the events of all of a client's subscriptions. Events produced
 * in the same tick (one commit) arrive as one batch, at most one per
 * subscription: a later result replaces an earlier undelivered one.
 */
export type LiveListener = (events: readonly LiveEvent[]) => unknown;

/**
 * What a statement returns across the boundary. `namespace` is set when the
 * statements switched the session's namespace (`USE`); the client then runs
 * that session's later statements in it.
 */
export interface Executed<T> {
  value: T;
  namespace?: string;
}

export interface KalamHost {
  execute(session: SessionKey, sql: string, params?: readonly Value[]): Promise<Executed<StatementResult[]>>;
  query(session: SessionKey, sql: string, params?: readonly Value[]): Promise<Executed<StatementResult>>;
  /** Starts subscription `id`; its first result is delivered as an event. */
  live(session: SessionKey, sql: string, params: readonly Value[] | undefined, id: number): Promise<void>;
  unsubscribe(id: number): Promise<void>;
  /**
   * Opens an explicit transaction for `session` and returns its id. The host
   * keeps it until `commit` or `rollback` (or `close`, which rolls back
   * every transaction still open); a client may hold a bounded number.
   */
  begin(session: SessionKey): Promise<string>;
  /** Runs statements inside transaction `tx`; a failing statement rolls it back. */
  txExecute(tx: string, sql: string, params?: readonly Value[]): Promise<Executed<StatementResult[]>>;
  txQuery(tx: string, sql: string, params?: readonly Value[]): Promise<Executed<StatementResult>>;
  /** Commits transaction `tx` (one storage commit) and forgets it, whether it succeeded or not. */
  commit(tx: string): Promise<void>;
  /** Rolls back transaction `tx` and forgets it. */
  rollback(tx: string): Promise<void>;
  /** Stops every subscription and rolls back every open transaction. */
  close(): Promise<void>;
}

export interface OpenOptions {
  name: string;
  storage: ClientStorage;
}

/** What the worker exposes: a host plus the engine's lifetime. */
export interface WorkerApi extends KalamHost {
  /** Opens the engine; `listener` (a Comlink proxy) receives every live event. */
  open(options: OpenOptions, listener: LiveListener): Promise<void>;
  /** Stops every subscription and closes the engine. */
  close(): Promise<void>;
}
