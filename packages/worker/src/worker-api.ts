import { transfer } from 'comlink';
import { KalamError, openDatabase, resolveOptions, type Database, type OpenOptions as EngineOptions } from '@kalamlite/engine';
import { checkEngineOptions } from './engine-options';
import { checkLimits, createHost, liveMetrics, type LiveStatsSource } from './host';
import type { KalamHost, OpenOptions, WorkerApi } from './protocol';
import { guarded } from './transfer';
import { applyMigrations, checkClientMigrations } from './migrations';

type Open = (options: EngineOptions) => Promise<Database>;

/**
 * The object a worker exposes: one engine database and the host serving
 * its one client. Kept apart from the worker entry so tests can expose it
 * over a MessageChannel in Node.
 */
export function createWorkerApi(open: Open = openDatabase): WorkerApi {
  let db: Database | undefined;
  let host: KalamHost | undefined;
  let served: LiveStatsSource | undefined;
  let opening: Promise<void> | undefined;

  function opened(): KalamHost {
    if (host === undefined) {
      throw new KalamError('CLOSED', 'The database is not open; call createClient() and wait for it before running statements.');
    }
    return host;
  }

  // One wrapper for every method: even a call before open() fails as a
  // KalamError (CLOSED) rather than a TypeError.
  return guarded<WorkerApi>({
    async ping() {
      return true;
    },

    async open(options: OpenOptions, listener) {
      if (opening !== undefined) throw new KalamError('INVALID_OPTION', 'This worker has already opened a database.');
      if (typeof listener !== 'function') throw new KalamError('INVALID_OPTION', 'open() needs a live-event listener.');
      // `limits` are this worker's own; every other option is the engine's,
      // judged by the engine (resolveOptions) before anything is opened.
      if (typeof options !== 'object' || options === null) resolveOptions(options); // throws: options must be an object
      const { limits, migrations, engine, ...own } = options;
      const engineOptions = { ...checkEngineOptions(engine), ...own };
      resolveOptions(engineOptions);
      const bounds = checkLimits(limits);
      checkClientMigrations(migrations);
      opening = (async () => {
        // This worker serves one client: its live queue shows in system.stats.
        const opened = await open({ ...engineOptions, hostMetrics: () => (served ? liveMetrics(served.liveStats()) : []) });
        try {
          await applyMigrations(opened, migrations);
        } catch (e) {
          await opened.close().catch(() => undefined);
          throw e;
        }
        db = opened;
        host = served = createHost(db, listener, bounds);
      })();
      try {
        await opening;
      } catch (e) {
        opening = undefined;
        throw e;
      }
    },

    execute: (session, sql, params, call) => opened().execute(session, sql, params, call),
    query: (session, sql, params, call) => opened().query(session, sql, params, call),
    async queryArrow(session, sql, params, call) {
      const executed = await opened().queryArrow(session, sql, params, call);
      // The bytes' buffer moves to the page: no copy, and it is detached here.
      return transfer(executed, [executed.value.buffer as ArrayBuffer]);
    },
    insertMany: (session, table, rows, offset, call) => opened().insertMany(session, table, rows, offset, call),
    live: (session, sql, params, id, options) => opened().live(session, sql, params, id, options),
    stats: () => opened().stats(),
    exportDatabase: (onProgress) => opened().exportDatabase(onProgress),
    importDatabase: (file, onProgress) => opened().importDatabase(file, onProgress),
    exportUserData: (session, onProgress) => opened().exportUserData(session, onProgress),
    readFile: (session, ref, options) => opened().readFile(session, ref, options),
    unsubscribe: (id) => opened().unsubscribe(id),
    begin: (session) => opened().begin(session),
    txExecute: (tx, sql, params, call) => opened().txExecute(tx, sql, params, call),
    txQuery: (tx, sql, params, call) => opened().txQuery(tx, sql, params, call),
    cancel: (call) => opened().cancel(call),
    commit: (tx) => opened().commit(tx),
    rollback: (tx) => opened().rollback(tx),

    async close() {
      const closing = host;
      const database = db;
      host = undefined;
      served = undefined;
      db = undefined;
      let failure: unknown;
      try {
        await closing?.close();
      } catch (e) {
        failure = e;
      }
      await database?.close();
      if (failure !== undefined) throw failure;
    },
  });
}
