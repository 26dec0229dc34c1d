/**
 * The SharedWorker entry: one per origin and database, hosting the engine
 * for every tab; each tab's client connects through its own port. The
 * worker lives as long as any page that once connected, so the engine is
 * closed when the last client leaves and opened anew for the next one.
 */
import { installKalamErrorTransfer } from '../transfer';
import { createHub } from './hub';
import type { Locks } from './locks';
import { parseWorkerName } from './protocol';

declare const self: { name: string; navigator: { locks: Locks }; onconnect: ((event: MessageEvent) => void) | null };

installKalamErrorTransfer();
const target = parseWorkerName(self.name);
if (target === undefined) throw new Error(`kalamlite: unexpected SharedWorker name '${self.name}'.`);
const hub = createHub({ name: target.name, storage: target.storage, locks: self.navigator.locks, closeWhenIdle: true });
self.onconnect = (event: MessageEvent) => {
  hub.serve(event.ports[0]);
};
