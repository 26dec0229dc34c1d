import { transfer } from 'comlink';
import { KalamError, openDatabase, type Database, type Value } from '@kalamlite/engine';
import { createHost, liveMetrics, type LiveStatsSource } from './host';
import type { KalamHost, OpenOptions, WorkerApi } from './protocol';
import { asKalamError } from './transfer';

type Open = (options: { name?: string; storage: 'memory' | 'idb' | 'opfs'; durability?: 'relaxed' | 'strict'; hostMetrics?: () => readonly [string, Value][] }) => Promise<Database>;

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

  return {
    async open(options: OpenOptions, listener) {
      try {
        if (opening !== undefined) throw new KalamError('INVALID_OPTION', 'This worker has already opened a database.');
        if (typeof options !== 'object' || options === null || typeof options.name !== 'string' || options.name === '') {
          throw new KalamError('INVALID_OPTION', 'open() needs a non-empty database `name`.');
        }
        if (options.storage !== 'idb' && options.storage !== 'memory' && options.storage !== 'opfs') {
          throw new KalamError('INVALID_OPTION', `Unknown storage '${String(options.storage)}'; use 'idb', 'opfs' or 'memory'.`);
        }
        if (typeof listener !== 'function') throw new KalamError('INVALID_OPTION', 'open() needs a live-event listener.');
        opening = (async () => {
          // This worker serves one client: its live queue shows in system.stats.
          db = await open({ name: options.name, storage: options.storage, durability: options.durability, hostMetrics: () => (served ? liveMetrics(served.liveStats()) : []) });
          host = served = createHost(db, listener, options.limits ?? {});
        })();
        try {
          await opening;
        } catch (e) {
          opening = undefined;
          throw e;
        }
      } catch (e) {
        throw asKalamError(e);
      }
    },

    // Each method goes through opened() inside its own try, so even a call
    // before open() fails as a KalamError rather than a TypeError.
    async execute(session, sql, params) {
      try {
        return await opened().execute(session, sql, params);
      } catch (e) {
        throw asKalamError(e);
      }
    },
    async query(session, sql, params) {
      try {
        return await opened().query(session, sql, params);
      } catch (e) {
        throw asKalamError(e);
      }
    },
    async queryArrow(session, sql, params) {
      try {
        const executed = await opened().queryArrow(session, sql, params);
        // The bytes' buffer moves to the page: no copy, and it is detached here.
        return transfer(executed, [executed.value.buffer as ArrayBuffer]);
      } catch (e) {
        throw asKalamError(e);
      }
    },
    async live(session, sql, params, id, options) {
      try {
        await opened().live(session, sql, params, id, options);
      } catch (e) {
        throw asKalamError(e);
      }
    },
    async stats() {
      try {
        return await opened().stats();
      } catch (e) {
        throw asKalamError(e);
      }
    },
    async unsubscribe(id) {
      try {
        await opened().unsubscribe(id);
      } catch (e) {
        throw asKalamError(e);
      }
    },
    async begin(session) {
      try {
        return await opened().begin(session);
      } catch (e) {
        throw asKalamError(e);
      }
    },
    async txExecute(tx, sql, params) {
      try {
        return await opened().txExecute(tx, sql, params);
      } catch (e) {
        throw asKalamError(e);
      }
    },
    async txQuery(tx, sql, params) {
      try {
        return await opened().txQuery(tx, sql, params);
      } catch (e) {
        throw asKalamError(e);
      }
    },
    async commit(tx) {
      try {
        await opened().commit(tx);
      } catch (e) {
        throw asKalamError(e);
      }
    },
    async rollback(tx) {
      try {
        await opened().rollback(tx);
      } catch (e) {
        throw asKalamError(e);
      }
    },

    async close() {
      try {
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
      } catch (e) {
        throw asKalamError(e);
      }
    },
  };
}
