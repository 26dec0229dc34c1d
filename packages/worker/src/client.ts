import { proxy, releaseProxy, wrap } from 'comlink';
import type { Database } from '@kalamlite/engine';
import { connectClient, type Connection } from './connect';
import { createHost } from './host';
import type { HostLimits, LiveEvent, WorkerApi } from './protocol';
import { asKalamError, installKalamErrorTransfer } from './transfer';
import { createTabClient } from './tabs/tab-client';
import { resolveTransport } from './tabs/transport';
import type { ClientOptions, KalamClient } from './types';

/**
 * Joins the origin's one engine for this database — through a SharedWorker
 * where the browser has one, else a leader tab's worker (see
 * `options.transport`) — or, with `transport: 'worker'` or a given
 * `worker`, starts a dedicated engine for this client alone. Resolves once
 * the database is open; fails with a KalamError otherwise.
 */
export async function createClient(options: ClientOptions): Promise<KalamClient> {
  installKalamErrorTransfer();
  if (options.worker === undefined) {
    const transport = resolveTransport(options.transport, options.storage);
    if (transport !== 'worker') return createTabClient(options, transport);
  }
  // Vite recognises this exact form and bundles the worker entry.
  const worker = options.worker ?? new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  const remote = wrap<WorkerApi>(worker);
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
    options.limits,
  );
  // One proxied listener (one MessagePort) carries every subscription's events.
  const listener = proxy((events: readonly LiveEvent[]) => connection.deliver(events));
  try {
    await remote.open({ name: options.name, storage: options.storage ?? 'idb', limits: options.limits, durability: options.durability }, listener);
  } catch (e) {
    terminate();
    throw asKalamError(e);
  }
  return connection.client;
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

