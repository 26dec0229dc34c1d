/**
 * The SharedWorker mode of the worker entry (../worker.ts): one SharedWorker
 * per origin and database, hosting the engine for every tab; each tab's
 * client connects through its own port. The engine is closed when the last
 * client leaves, and the worker ends itself then (see lifetime.ts) — the
 * browser would keep it as long as any page that once connected lives — so
 * the next client starts a fresh one.
 */
import { createHub, type Hub, type HubOptions } from './hub';
import { endWhenUnused, type HostLifetime } from './lifetime';
import { lockNames, type Locks } from './locks';
import { parseWorkerName } from './protocol';

/** The part of a SharedWorkerGlobalScope used here (tests pass a fake). */
export interface SharedWorkerScope {
  name: string;
  navigator: { locks: Locks };
  onconnect: ((event: MessageEvent) => void) | null;
  /** Ends the worker. A fake returns a promise that settles once it counts as gone. */
  close(): void | Promise<void>;
}

export function serveSharedWorker(scope: SharedWorkerScope, hubOptions: Partial<HubOptions> = {}): { hub: Hub; lifetime: HostLifetime } {
  const target = parseWorkerName(scope.name);
  if (target === undefined) throw new Error(`kalamlite: unexpected SharedWorker name '${scope.name}'.`);
  const locks = scope.navigator.locks;
  let lifetime: HostLifetime | undefined;
  const hub = createHub({
    name: target.name,
    storage: target.storage,
    locks,
    closeWhenIdle: true,
    onIdle: () => lifetime?.check(),
    ...hubOptions,
  });
  lifetime = endWhenUnused(hub, locks, lockNames(target.storage, target.name), async () => {
    // Resolves, in a browser, never: the worker is gone first.
    await (scope.close() ?? new Promise<never>(() => undefined));
  });
  scope.onconnect = (event: MessageEvent) => {
    hub.serve(event.ports[0]);
  };
  return { hub, lifetime };
}
