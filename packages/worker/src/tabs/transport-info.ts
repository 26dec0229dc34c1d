import type { KalamClient } from '../types';
import type { ResolvedTransport } from './transport';

/** How a client reaches its engine, for status displays and tests. */
export interface ClientTransportInfo {
  readonly kind: ResolvedTransport | 'local';
  /** True while this tab hosts the engine (leader path: its worker is the leader; a dedicated or local engine always). */
  readonly isHost: boolean;
  /** How many times the engine's host was replaced under this client. */
  readonly failovers: number;
}

const DEDICATED: ClientTransportInfo = Object.freeze({ kind: 'worker', isHost: true, failovers: 0 });

/** The transport of a client made by createClient (a dedicated worker unless it joined the origin's engine). */
export function transportOf(client: KalamClient): ClientTransportInfo {
  return (client as { transport?: ClientTransportInfo }).transport ?? DEDICATED;
}
