/**
 * A client that shares its origin's one engine with every other tab:
 * it holds a lock of its own for its lifetime (so the host notices when the
 * tab goes away), and reaches the current host through a failover host that
 * moves to the next host when one goes away.
 */
import { KalamError, type Migration } from '@kalamlite/engine';
import { connectClient } from '../connect';
import type { EngineOptions } from '../engine-options';
import type { ClientStorage, HostLimits, LiveEvent } from '../protocol';
import { asKalamError } from '../transfer';
import type { KalamClient } from '../types';
import { bundledWorker } from '../bundled-worker';
import { RELAYED_HELPER_NAME, startRelayedHelper, type HelperRequest } from './compaction-relay';
import { isLeading } from './election';
import { createFailoverHost } from './failover-host';
import { linkTo, type Link } from './link';
import { browserLocks, holdLock, lockNames, randomId } from './locks';
import type { AttachOptions } from './protocol';
import { STORAGE_FORMAT } from './storage-format';
import type { ClientTransportInfo } from './transport-info';
import { leaderTransport, sharedWorkerTransport, type WorkerStartOptions } from './transport';

/** Times one client may find its host gone (or ending) while it attaches before it gives up; each try starts afresh. */
const MAX_CONNECT_ATTEMPTS = 10;

/** `options` as createClient checked them (the engine's resolveOptions, the worker's limits, the worker's start). */
export async function createTabClient(
  options: { name: string; storage: ClientStorage; limits?: Partial<HostLimits>; durability?: 'relaxed' | 'strict'; engine?: EngineOptions; start: WorkerStartOptions; migrations?: readonly Migration[] },
  kind: 'shared-worker' | 'leader',
): Promise<KalamClient & { transport: ClientTransportInfo }> {
  const { name, storage } = options;
  const locks = browserLocks();
  if (locks === undefined) throw new KalamError('INVALID_OPTION', "This browser has no Web Locks: use transport: 'worker'.");

  const clientId = randomId();
  const names = lockNames(storage, name);
  const releaseClient = await holdLock(locks, names.client(clientId));
  const transport = kind === 'shared-worker' ? sharedWorkerTransport(storage, name, locks, options.start) : leaderTransport(storage, name, clientId, locks, options.start);
  let deliver: (events: readonly LiveEvent[]) => Promise<void> | undefined = () => undefined;
  let resumeFrom: (id: number) => bigint | undefined = () => undefined;
  const attach: AttachOptions = { name, storage, clientId, format: STORAGE_FORMAT };
  if (options.limits !== undefined) attach.limits = options.limits;
  if (options.durability !== undefined) attach.durability = options.durability;
  // Sent with every attach, a failover's too: the next host finds them applied (or finishes them).
  if (options.migrations !== undefined) attach.migrations = options.migrations;
  if (options.engine !== undefined && Object.keys(options.engine).length > 0) attach.engine = options.engine;
  // A SharedWorker's engine cannot start its compaction helper (no Worker there): this page starts it.
  const spawnHelper = (request: HelperRequest) =>
    startRelayedHelper(request, () => (options.start.url === undefined ? bundledWorker({ name: RELAYED_HELPER_NAME }) : new Worker(options.start.url, { type: 'module', name: RELAYED_HELPER_NAME })));
  const connect = async (): Promise<Link> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await transport.connect((endpoint, hostId) => linkTo(endpoint, attach, locks, names, (events) => deliver(events), hostId, spawnHelper));
      } catch (e) {
        // The host found went away (or was ending) before this client was attached: nothing ran there, so connect again.
        const error = asKalamError(e);
        if (error.code !== 'LEADER_CHANGED' || attempt >= MAX_CONNECT_ATTEMPTS) throw error;
      }
    }
  };
  const failover = createFailoverHost(
    connect,
    (events) => deliver(events),
    (id) => resumeFrom(id),
  );
  const connection = connectClient(
    failover.host,
    async () => {
      try {
        await failover.host.close();
      } finally {
        transport.stop();
        releaseClient();
      }
    },
    options.limits,
  );
  deliver = connection.deliver;
  resumeFrom = connection.resumeFrom;
  try {
    await failover.ready;
  } catch (e) {
    await connection.client.close().catch(() => undefined);
    throw asKalamError(e);
  }
  const info: ClientTransportInfo = {
    kind,
    get isHost() {
      return kind === 'leader' && isLeading(storage, name);
    },
    get failovers() {
      return failover.failovers;
    },
  };
  return Object.assign(connection.client, { transport: info });
}
