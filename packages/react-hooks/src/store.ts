import { KalamError, shareRows, type ClientSession, type LiveChange, type LiveOptions, type Row, type Value } from '@kalamlite/worker';

export type QueryStatus = 'loading' | 'ready' | 'error';

/**
 * What a hook returns. The same object until something changes. `T` types
 * the rows (`useLiveQuery<Todo>(…)`); Row unless given.
 */
export interface QuerySnapshot<T = Row> {
  readonly rows: readonly T[];
  /**
   * What the latest delivery changed (live queries): `snapshot` for a whole
   * result, or the rows inserted, updated (with old values) and deleted
   * (primary keys). Undefined until the first result, and for one-shot queries.
   */
  readonly changes: LiveChange<T> | undefined;
  readonly error: KalamError | undefined;
  readonly status: QueryStatus;
}

/**
 * The external store behind one hook for its lifetime (one session, SQL and
 * parameter value). `subscribe`/`getSnapshot` are what useSyncExternalStore
 * wants; the subscription to the client starts with the first listener and
 * stops with the last.
 */
export interface QueryStore {
  subscribe(listener: () => void): () => void;
  getSnapshot(): QuerySnapshot;
  /** Runs the query again (one-shot stores); a live store is always current. */
  refetch(): Promise<void>;
  /** Settles once the store has a first result or error (for Suspense). */
  whenSettled(): Promise<void>;
}

const EMPTY_ROWS: readonly Row[] = Object.freeze([]);
const LOADING: QuerySnapshot = Object.freeze({ rows: EMPTY_ROWS, changes: undefined, error: undefined, status: 'loading' });

/**
 * The store of a hook whose provider has no client yet (a server render, or
 * createClient() still opening): loading until the provider has one, which
 * gives the hook a new store. Its first result never comes.
 */
export const NO_CLIENT_STORE: QueryStore = Object.freeze({
  subscribe: () => () => undefined,
  getSnapshot: () => LOADING,
  refetch: async () => undefined,
  whenSettled: () => new Promise<void>(() => undefined),
});

/** The listener set, snapshot and change notification both stores share. */
function createSnapshotCell() {
  let snapshot: QuerySnapshot = LOADING;
  // Owner: the store; one entry per mounted hook using it (normally one).
  const listeners = new Set<() => void>();
  let settled: { promise: Promise<void>; resolve: () => void } | undefined;
  return {
    listeners,
    get: () => snapshot,
    set(next: QuerySnapshot) {
      if (next.rows === snapshot.rows && next.changes === snapshot.changes && next.error === snapshot.error && next.status === snapshot.status) return;
      snapshot = Object.freeze(next);
      if (snapshot.status !== 'loading') settled?.resolve();
      for (const listener of [...listeners]) listener();
    },
    whenSettled(): Promise<void> {
      if (snapshot.status !== 'loading') return Promise.resolve();
      if (settled === undefined) {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => (resolve = r));
        settled = { promise, resolve };
      }
      return settled.promise;
    },
    /** Rows shared with the current ones, so a re-run that changed nothing keeps identity. */
    ready(rows: readonly Row[]): QuerySnapshot {
      return { rows: shareRows(snapshot.rows, rows), changes: undefined, error: undefined, status: 'ready' };
    },
    /** A live delivery: the client already shares unchanged rows with the previous result. */
    live(rows: readonly Row[], changes: LiveChange): QuerySnapshot {
      return { rows, changes, error: undefined, status: 'ready' };
    },
    failed(e: unknown): QuerySnapshot {
      return { rows: snapshot.rows, changes: snapshot.changes, error: asError(e), status: 'error' };
    },
  };
}

/** A live query kept current by the client. */
export function createLiveStore(
  session: ClientSession,
  sql: string,
  params: readonly Value[] | undefined,
  options?: LiveOptions,
): QueryStore {
  const cell = createSnapshotCell();
  // Each start gets a generation; callbacks of a stopped start are ignored.
  let generation = 0;
  let stop: (() => void) | undefined;

  function start(): void {
    const current = ++generation;
    session
      .live(
        sql,
        params,
        (rows, change) => {
          if (current === generation) cell.set(cell.live(rows, change));
        },
        (error) => {
          if (current === generation) cell.set(cell.failed(error));
        },
        options,
      )
      .then(
        (stopLive) => {
          if (current === generation) stop = stopLive;
          else stopLive();
        },
        (error: unknown) => {
          if (current === generation) cell.set(cell.failed(error));
        },
      );
  }

  function halt(): void {
    generation++;
    stop?.();
    stop = undefined;
  }

  return {
    subscribe(listener) {
      cell.listeners.add(listener);
      if (cell.listeners.size === 1) start();
      return () => {
        if (cell.listeners.delete(listener) && cell.listeners.size === 0) halt();
      };
    },
    getSnapshot: cell.get,
    async refetch() {
      if (cell.listeners.size === 0) return;
      halt();
      start();
    },
    whenSettled: cell.whenSettled,
  };
}

/** A one-shot query, run when first watched and again on refetch(). */
export function createQueryStore(session: ClientSession, sql: string, params: readonly Value[] | undefined): QueryStore {
  const cell = createSnapshotCell();
  let generation = 0;
  let hasRun = false;

  async function run(): Promise<void> {
    hasRun = true;
    const current = ++generation;
    try {
      const result = await session.query(sql, params);
      if (current === generation) cell.set(cell.ready(result.rows));
    } catch (e) {
      if (current === generation) cell.set(cell.failed(e));
    }
  }

  return {
    subscribe(listener) {
      cell.listeners.add(listener);
      if (!hasRun) void run();
      return () => {
        cell.listeners.delete(listener);
      };
    },
    getSnapshot: cell.get,
    refetch: run,
    whenSettled: cell.whenSettled,
  };
}

function asError(e: unknown): KalamError {
  if (e instanceof KalamError) return e;
  return new KalamError('INTERNAL', `Internal error: ${e instanceof Error ? e.message : String(e)}.`);
}
