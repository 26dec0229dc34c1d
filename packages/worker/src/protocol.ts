import type { BackupProgress, CheckedRow, FileRef, ImportResult, ReadFileOptions, ParamValue, KalamErrorShape, Migration, Role, Row, StatementResult, Value } from '@kalamlite/engine';
import type { EngineOptions } from './engine-options';

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

/** Storage a worker-hosted engine can open ('opfs': OPFS sync access handles, available in the worker; see the engine's storage/opfs.ts). */
export type ClientStorage = 'idb' | 'memory' | 'opfs';

/** Options of a live query, as the engine's `session.live()` takes them (KalamDB's `last_rows`, `batch_size`, `from`). */
export interface LiveOptions {
  /** The first result holds only the N newest rows (by `_seq`); 0: no history. */
  lastRows?: number;
  /** The first result arrives in deliveries of N more rows each. */
  batchSize?: number;
  /** Resume: replay what changed after this `_seq` instead of a first snapshot. */
  from?: bigint;
}

/** What changed in a subscription's result, as the engine reports it. `deleted` holds primary keys. */
export interface ChangeSet<T = Row> {
  inserted: readonly T[];
  updated: readonly { row: T; old: T }[];
  deleted: readonly Value[];
}

/**
 * A row a change removed: its primary key (as in `deleted`) and the row
 * object this client held for it; `old` is undefined when the client never
 * held that row (inserted and deleted between two deliveries) or cannot know
 * it (the replay of a `from` resume).
 */
export interface DeletedRow<T = Row> {
  key: Value;
  old: T | undefined;
}

/**
 * What a live callback is told besides the rows: a whole result
 * (`snapshot`: the first one, a batch of the initial load with `hasMore`, a
 * re-run, a re-plan, `resumed: false` when a `from` lay beyond retention,
 * `collapsed` when the client fell behind and its pending changes were
 * replaced by this fresh result) or the changes since the previous delivery.
 */
export type LiveChange<T = Row> =
  | { kind: 'snapshot'; resumed?: boolean; hasMore?: boolean; collapsed?: boolean }
  | ({ kind: 'changes' } & ChangeSet<T> & {
      /** Present when `deleted` is not empty: each deleted key, in order, with the row it removed (see DeletedRow). */
      deletedRows?: readonly DeletedRow<T>[];
    });

/**
 * One live-query event. Subscription ids are chosen by the client, so an
 * event can never arrive for an id the client does not know yet. Events of
 * one subscription apply in order to the rows the client holds for it.
 *
 * - `snapshot`: the whole result. `changes` is set when the engine reported
 *   what changed but the whole result was cheaper to send, or (with
 *   `resumed: true`) for a first result that resumed from a `from` (the
 *   changes replayed since it); absent for a first result, a re-run, or a
 *   collapse (`collapsed`).
 * - `patch`: the new result as an edit of the previous one: drop the rows
 *   at `removed` (ascending indices into the previous result), then place
 *   `rows[k]` at index `added[k]` (ascending indices into the new result,
 *   `length` long); every other row keeps its object and relative order.
 *   `changes` is what the engine reported (several commits concatenated).
 */
export type LiveEvent =
  | {
      kind: 'snapshot';
      id: number;
      rows: readonly Row[];
      changes?: ChangeSet;
      /** Per key of `changes.deleted`: the index of its row in the result the client held before this event, or -1 (see DeletedRow). */
      deletedAt?: readonly number[];
      resumed?: boolean;
      hasMore?: boolean;
      collapsed?: boolean;
      /** Every commit up to this `_seq` is reflected in `rows`: the `from` to resume with (after failover). */
      seq?: bigint;
    }
  | {
      kind: 'patch';
      id: number;
      length: number;
      removed: readonly number[];
      added: readonly number[];
      rows: readonly Row[];
      changes: ChangeSet;
      /** As for `snapshot`. */
      deletedAt?: readonly number[];
      /** As for `snapshot`. */
      seq?: bigint;
    }
  | { kind: 'error'; id: number; error: KalamErrorShape };

/**
 * Receives the events of all of a client's subscriptions: one call (one
 * message) carries every change of a commit, for every subscription. The
 * host sends the next batch only once the returned promise settles (the
 * page's acknowledgement); meanwhile changes queue up within the client's
 * `maxPendingChanges`.
 */
export type LiveListener = (events: readonly LiveEvent[]) => unknown;

/** Per-client bounds, each a named setting with a default (see host.ts). */
export interface HostLimits {
  /** Live queries one client may hold open at once (SUBSCRIPTION_LIMIT_EXCEEDED beyond). */
  maxSubscriptions: number;
  /** Changes queued for a client that has not acknowledged its previous batch; beyond it a subscription's pending changes collapse into one fresh result. */
  maxPendingChanges: number;
}

/** One client's live-delivery figures, from the host that serves it. */
export interface ClientStats {
  subscriptions: number;
  maxSubscriptions: number;
  /** Changes waiting for the client (not counting subscriptions marked for a fresh result). */
  pendingChanges: number;
  maxPendingChanges: number;
  /** Subscriptions with something waiting to be sent. */
  pendingSubscriptions: number;
  /** Whether a batch is out and not yet acknowledged. */
  isAwaitingAck: boolean;
  /** Batches (messages) sent so far. */
  batches: number;
  /** Subscription events sent as patches, and as whole results. */
  patches: number;
  snapshots: number;
  /** Times pending changes of a subscription were collapsed into a fresh result. */
  collapses: number;
  /** The most changes ever pending at once (never above maxPendingChanges). */
  pendingChangesPeak: number;
}

/**
 * What a statement returns across the boundary. `namespace` is set when the
 * statements switched the session's namespace (`USE`); the client then runs
 * that session's later statements in it.
 */
export interface Executed<T> {
  value: T;
  namespace?: string;
}

/**
 * Statements take an optional `call`: an id the client chooses for a call
 * made with an AbortSignal (an AbortSignal cannot cross a MessagePort).
 * While the call runs, `cancel(call)` stops it: the statement ends at its
 * next pause point with QUERY_CANCELLED.
 */
export interface KalamHost {
  execute(session: SessionKey, sql: string, params?: readonly ParamValue[], call?: number): Promise<Executed<StatementResult[]>>;
  query(session: SessionKey, sql: string, params?: readonly ParamValue[], call?: number): Promise<Executed<StatementResult>>;
  /** One statement returning rows, as Arrow IPC stream bytes; the worker transfers (never copies) their buffer. */
  queryArrow(session: SessionKey, sql: string, params?: readonly Value[], call?: number): Promise<Executed<Uint8Array>>;
  /**
   * One chunk of a bulk load (`session.insertMany`, cut on the page): the
   * rows, checked, written as one INSERT and one commit, or nothing of them.
   * `offset` is the rows of the load committed before them (row numbers in
   * errors count from it).
   */
  insertMany(session: SessionKey, table: string, rows: readonly CheckedRow[], offset: number, call?: number): Promise<Executed<void>>;
  /** Cancels running call `call` (its caller's AbortSignal was aborted); a call that already ended, or an unknown id, is ignored. */
  cancel(call: number): Promise<void>;
  /** Starts subscription `id`; its first result is delivered as an event. */
  live(session: SessionKey, sql: string, params: readonly Value[] | undefined, id: number, options?: LiveOptions): Promise<void>;
  unsubscribe(id: number): Promise<void>;
  /** This client's live-delivery figures. */
  stats(): Promise<ClientStats>;
  /**
   * Opens an explicit transaction for `session` and returns its id. The host
   * keeps it until `commit` or `rollback` (or `close`, which rolls back
   * every transaction still open); a client may hold a bounded number.
   */
  begin(session: SessionKey): Promise<string>;
  /** Runs statements inside transaction `tx`; a failing statement rolls it back. */
  txExecute(tx: string, sql: string, params?: readonly ParamValue[], call?: number): Promise<Executed<StatementResult[]>>;
  txQuery(tx: string, sql: string, params?: readonly ParamValue[], call?: number): Promise<Executed<StatementResult>>;
  /** Commits transaction `tx` (one storage commit) and forgets it, whether it succeeded or not. */
  commit(tx: string): Promise<void>;
  /** Rolls back transaction `tx` and forgets it. */
  rollback(tx: string): Promise<void>;
  /**
   * The whole database as an export file (the engine's db.exportDatabase()).
   * `onProgress` (a Comlink proxy when the host is in a worker) is called,
   * never awaited, after each chunk; the host releases it when done.
   */
  exportDatabase(onProgress?: ProgressListener): Promise<Blob>;
  /** Fills the (empty) database from an export file (the engine's db.importDatabase()). */
  importDatabase(file: Blob, onProgress?: ProgressListener): Promise<ImportResult>;
  /** `session`'s own data as an export file (the engine's session.exportUserData()). */
  exportUserData(session: SessionKey, onProgress?: ProgressListener): Promise<Blob>;
  /** The file a FileRef names, if `session` may read it (the engine's session.readFile()). */
  readFile(session: SessionKey, ref: FileRef, options?: ReadFileOptions): Promise<Blob>;
  /** Stops every subscription and rolls back every open transaction. */
  close(): Promise<void>;
}

/** Receives an export's or import's progress: rows and tables done so far. */
export type ProgressListener = (progress: BackupProgress) => unknown;

/**
 * What the worker's open() takes: `limits` are the worker's own (host.ts
 * checkLimits), everything else is passed to the engine's openDatabase,
 * whose resolveOptions judges it before anything opens.
 */
export interface OpenOptions {
  name: string;
  storage: ClientStorage;
  /** Per-client bounds; defaults where left out. */
  limits?: Partial<HostLimits>;
  /** When writes are acknowledged; 'relaxed' where left out. */
  durability?: 'relaxed' | 'strict';
  /** Schema migrations applied once the database is open (db.migrate); open() fails with the engine's error otherwise. */
  migrations?: readonly Migration[];
  /** The engine's other options (createClient's `engine`, see engine-options.ts). */
  engine?: EngineOptions;
}

/** What the worker exposes: a host plus the engine's lifetime. */
export interface WorkerApi extends KalamHost {
  /** Answers at once: the worker runs (createClient's start timeout waits for this). */
  ping(): Promise<true>;
  /** Opens the engine; `listener` (a Comlink proxy) receives every live event. */
  open(options: OpenOptions, listener: LiveListener): Promise<void>;
  /** Stops every subscription and closes the engine. */
  close(): Promise<void>;
}
