/**
 * A client that shares its origin's one engine with every other tab:
 * it holds a lock of its own for its lifetime (so the host notices when the
 * tab goes away), and reaches the current host through a failover host that
 * moves to the next host when one goes away.
 */
import { KalamError } from '@kalamlite/engine';
import { connectClient } from '../connect';
import type { ClientStorage, HostLimits, LiveEvent } from '../protocol';
import { asKalamError } from '../transfer';
import type { KalamClient } from '../types';
import { isLeading } from './election';
import { createFailoverHost } from './failover-host';
import { linkTo } from './link';
import { browserLocks, holdLock, lockNames, randomId } from './locks';
import type { AttachOptions } from './protocol';
import { STORAGE_FORMAT } from './storage-format';
import type { ClientTransportInfo } from './transport-info';
import { leaderTransport, sharedWorkerTransport, type ResolvedTransport } from './transport';

/** `options` as createClient checked them (the engine's resolveOptions, the worker's limits). */
export async function createTabClient(options: { name: string; storage: ClientStorage; limits?: Partial<HostLimits>; durability?: 'relaxed' | 'strict' }, kind: 'shared-worker' | 'leader'): Promise<KalamClient & { transport: ClientTransportInfo }> {
  const { name, storage } = options;
  const locks = browserLocks();
  if (locks === undefined) throw new KalamError('INVALID_OPTION', "This browser has no Web Locks: use transport: 'worker'.");

  const clientId = randomId();
  const names = lockNames(storage, name);
  const releaseClient = await holdLock(locks, names.client(clientId));
  const transport = kind === 'shared-worker' ? sharedWorkerTransport(storage, name, locks) : leaderTransport(storage, name, clientId, locks);
  let deliver: (events: readonly LiveEvent[]) => Promise<void> | undefined = () => undefined;
  let resumeFrom: (id: number) => bigint | undefined = () => undefined;
  const attach: AttachOptions = { name, storage, clientId, format: STORAGE_FORMAT };
  if (options.limits !== undefined) attach.limits = options.limits;
  if (options.durability !== undefined) attach.durability = options.durability;
  const failover = createFailoverHost(
    async () => linkTo(await transport.connect(), attach, locks, names, (events) => deliver(events)),
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
