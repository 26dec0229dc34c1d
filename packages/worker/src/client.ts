import { proxy, releaseProxy, wrap, type Endpoint } from 'comlink';
import { KalamError, resolveOptions, type Database, type Migration } from '@kalamlite/engine';
import { bundledWorker } from './bundled-worker';
import { connectClient, type Connection } from './connect';
import { checkEngineOptions, type EngineOptions } from './engine-options';
import { checkLimits, createHost } from './host';
import type { ClientStorage, HostLimits, LiveEvent, WorkerApi } from './protocol';
import { asKalamError, installKalamErrorTransfer } from './transfer';
import { createTabClient } from './tabs/tab-client';
import { checkTransport, resolveTransport, type WorkerStartOptions } from './tabs/transport';
import { checkStartTimeout, checkWorkerUrl, startWorker } from './start';
import { checkClientMigrations } from './migrations';
import type { ClientOptions, KalamClient } from './types';

/**
 * Joins the origin's one engine for this database — through a SharedWorker
 * where the browser has one, else a leader tab's worker (see
 * `options.transport`) — or, with `transport: 'worker'` or a given
 * `worker`, starts a dedicated engine for this client alone. Resolves once
 * the database is open; fails with a KalamError otherwise — a bad option
 * with INVALID_OPTION naming what is allowed, before any worker starts.
 */
export async function createClient(options: ClientOptions): Promise<KalamClient> {
  installKalamErrorTransfer();
  // Checked before a transport is picked (it depends on the storage) and anything is sent.
  const { name, storage, durability, limits, start, migrations, engine } = checkClientOptions(options);
  if (options.worker === undefined) {
    const transport = resolveTransport(options.transport, storage);
    if (transport !== 'worker') return createTabClient({ name, storage, durability, limits, start, migrations, engine }, transport);
  }
  const given = options.worker;
  const { worker, answer: remote } = await startWorker({
    info: { kind: 'Worker', url: given === undefined ? start.url : undefined, timeoutMs: start.timeoutMs },
    create: (): Worker | Endpoint => given ?? createWorker(start.url),
    // Only a real Worker tells its events apart (an adapter such as Comlink's Node one calls every listener for messages).
    watch: (w) => (typeof Worker === 'function' && w instanceof Worker ? [w] : []),
    // The first answer proves the worker runs kalamlite; opening the database may take longer, and is not bounded here.
    answer: async (w) => {
      const api = wrap<WorkerApi>(w);
      await api.ping();
      return api;
    },
    discard: (w) => {
      if (w !== given && 'terminate' in w && typeof w.terminate === 'function') w.terminate();
    },
  });
  const terminate = () => {
    remote[releaseProxy]();
    if ('terminate' in worker && typeof worker.terminate === 'function') worker.terminate();
  };
  const connection: Connection = connectClient(
    remote,
    async () => {
      try {
        await remote.close();
      } finally {
        terminate();
      }
    },
    limits,
  );
  // One proxied listener (one MessagePort) carries every subscription's events.
  const listener = proxy((events: readonly LiveEvent[]) => connection.deliver(events));
  try {
    await remote.open({ name, storage, limits, durability, engine, ...(migrations && { migrations }) }, listener);
  } catch (e) {
    terminate();
    throw asKalamError(e);
  }
  return connection.client;
}

/** A dedicated worker running the worker entry: the bundled one, or the script at `url`. */
function createWorker(url: string | undefined): Worker {
  return url === undefined ? bundledWorker() : new Worker(url, { type: 'module' });
}

/**
 * The same client, in-process over an engine database: no worker, same
 * sessions, live queries and structural sharing. `close()` stops this
 * client's live queries; the database stays open for whoever opened it.
 */
export function createLocalClient(db: Database, limits: Partial<HostLimits> = {}): KalamClient {
  let deliver: (events: readonly LiveEvent[]) => unknown = () => undefined;
  const host = createHost(db, (events) => deliver(events), limits);
  const connection = connectClient(host, () => host.close(), limits);
  deliver = connection.deliver;
  return connection.client;
}

/** createClient()'s options: the worker's own, then the engine's (name, storage, durability, engine). */
const CLIENT_OPTIONS: Record<keyof ClientOptions, true> = {
  name: true,
  storage: true,
  durability: true,
  engine: true,
  limits: true,
  transport: true,
  worker: true,
  workerUrl: true,
  startTimeoutMs: true,
  migrations: true,
};

/**
 * createClient()'s options, checked on the page: its own option names and
 * `limits` here, the engine's options (name, storage, durability, and those
 * in `engine`) by the engine's resolveOptions. Each failure is an INVALID_OPTION naming what is
 * allowed.
 */
function checkClientOptions(options: ClientOptions): {
  name: string;
  storage: ClientStorage;
  durability: 'relaxed' | 'strict';
  limits: HostLimits;
  start: WorkerStartOptions;
  migrations: readonly Migration[] | undefined;
  engine: EngineOptions;
} {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new KalamError('INVALID_OPTION', "createClient() needs an options object, for example { name: 'app', storage: 'idb' }.");
  }
  const valid = Object.keys(CLIENT_OPTIONS);
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined && !valid.includes(key)) {
      throw new KalamError('INVALID_OPTION', `Unknown option '${key}'. Valid createClient() options: ${valid.join(', ')}.`);
    }
  }
  const { name, storage, durability } = resolveOptions({ name: options.name, storage: options.storage ?? 'idb', durability: options.durability });
  const engine = checkEngineOptions(options.engine);
  if (typeof storage !== 'string') {
    // The engine also takes a KvStore object, which cannot cross to a worker.
    throw new KalamError(
      'INVALID_OPTION',
      "createClient() takes storage 'idb', 'opfs' or 'memory'. For a KvStore, open it in this context: createLocalClient(await openDatabase({ storage: kv })).",
    );
  }
  if (options.transport !== undefined) checkTransport(options.transport);
  const url = checkWorkerUrl(options.workerUrl);
  if (url !== undefined && options.worker !== undefined) {
    throw new KalamError('INVALID_OPTION', 'Give createClient() either worker (a worker you started) or workerUrl (the script kalamlite starts), not both.');
  }
  return { name, storage, durability, engine, limits: checkLimits(options.limits), start: { url, timeoutMs: checkStartTimeout(options.startTimeoutMs) }, migrations: checkClientMigrations(options.migrations) };
}
