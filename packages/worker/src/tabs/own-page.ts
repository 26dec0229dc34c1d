/**
 * The leading worker's side of its own page's connections (see
 * election.ts): each client of the page sends a MessagePort of its own, and
 * the worker serves it there if it is the host the client found announced.
 */
import type { Hub } from './hub';
import type { ConnectionElsewhere, ConnectionReady, ConnectRequest } from './protocol';

const READY: ConnectionReady = { kalamlite: 'ready' };
const ELSEWHERE: ConnectionElsewhere = { kalamlite: 'elsewhere' };

/** A `message` handler for the worker's own page; `hub` is the hub it leads with, if it leads. */
export function serveOwnPage(hub: () => Hub | undefined): (event: MessageEvent<ConnectRequest>) => void {
  return (event) => {
    if (event.data?.type !== 'connect') return;
    const port = event.ports?.[0];
    if (port === undefined) return;
    const leading = hub();
    if (leading === undefined || event.data.hostId !== leading.hostId) {
      // The page closes the connection (closing it here could drop the answer).
      port.postMessage(ELSEWHERE);
      return;
    }
    leading.serve(port);
    port.postMessage(READY);
  };
}
