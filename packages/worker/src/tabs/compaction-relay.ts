/**
 * Compaction helpers for an engine in a SharedWorker. Chromium gives a
 * SharedWorker no `Worker`, so it cannot start the helper its compactions
 * merge in (@kalamlite/engine's useCompactionWorker); a page can. The
 * SharedWorker makes a MessageChannel and sends one end to one of its
 * clients' pages with a HelperRequest; that page starts the worker script
 * as a dedicated worker named RELAYED_HELPER_NAME and hands it the port
 * (HelperPort); the helper serves merges on it (startCompactionHelper), as
 * a helper started by the engine's own worker does on its global scope.
 *
 * A helper lives as long as the page that started it: when that tab
 * closes, its end of the channel goes with it, the port's `close` event
 * tells the engine (its merge fails, the next starts a helper through
 * another page), and should that event not come, the engine takes a helper
 * silent for HELPER_SILENCE_MS during a merge for dead.
 */
import { startCompactionHelper, type CompactionWorker, type HelperScope } from '@kalamlite/engine';

/** The name of a helper a page starts for its SharedWorker's engine (the worker script checks it). */
export const RELAYED_HELPER_NAME = 'kalamlite-compaction-relayed';

/** SharedWorker → page, on the client's connection: start a helper and give it `port` (moved with the message). */
export interface HelperRequest {
  kalamlite: 'helper';
  port: MessagePort;
}

/** Page → the helper it started: serve merges on `port` (moved with the message). */
export interface HelperPort {
  kalamlite: 'helper-port';
  port: MessagePort;
}

/** Engine → helper, on the port: the engine is done with it (its idle time ran out, or it closed): end. */
export interface EndHelper {
  kalamlite: 'end-helper';
}

const END: EndHelper = { kalamlite: 'end-helper' };

const isMessage = (data: unknown, kind: string): boolean => typeof data === 'object' && data !== null && (data as { kalamlite?: unknown }).kalamlite === kind;
export const isHelperRequest = (data: unknown): data is HelperRequest => isMessage(data, 'helper') && (data as { port?: unknown }).port instanceof MessagePort;

type Listener = (event: MessageEvent | ErrorEvent | Event) => void;

/**
 * The engine's side, in the SharedWorker: a factory of helpers, each a
 * MessageChannel whose other end `spawn` hands to a page (false: no page
 * to ask, and this merge runs in the engine's thread).
 */
export function relayedHelpers(spawn: (port: MessagePort) => boolean): () => CompactionWorker {
  return () => {
    const { port1: port, port2 } = new MessageChannel();
    if (!spawn(port2)) {
      port.close();
      throw new Error('no page to start a compaction helper');
    }
    const listeners = new Map<string, Listener[]>();
    const fire = (type: string, event: MessageEvent | ErrorEvent | Event) => {
      for (const listener of listeners.get(type) ?? []) listener(event);
    };
    port.addEventListener('message', (event) => fire('message', event));
    port.addEventListener('messageerror', (event) => fire('messageerror', event));
    // The page that started the helper went away, and the helper with it.
    port.addEventListener('close', () => fire('error', { type: 'error', message: 'the compaction helper worker ended with the page that started it' } as unknown as ErrorEvent));
    port.start();
    return {
      postMessage: (message, transfer) => port.postMessage(message, transfer ?? []),
      addEventListener(type, listener) {
        listeners.set(type, [...(listeners.get(type) ?? []), listener]);
      },
      terminate() {
        listeners.clear();
        try {
          port.postMessage(END);
        } finally {
          port.close();
        }
      },
    };
  };
}

/**
 * A page's side: starts a helper for its SharedWorker's engine and hands it
 * `port`. `start` makes the dedicated worker (the client's worker script,
 * named RELAYED_HELPER_NAME); where that fails, the port closes, which the
 * engine takes for a helper that never started (its merges stay in its thread).
 */
export function startRelayedHelper(port: MessagePort, start: () => Worker): void {
  try {
    start().postMessage({ kalamlite: 'helper-port', port } satisfies HelperPort, [port]);
  } catch {
    port.close();
  }
}

/** The part of a dedicated worker's global scope a relayed helper uses. */
export interface RelayedHelperScope {
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  close(): void;
}

/** The helper's side, in the worker a page started: serves merges on the port its page hands it. */
export function serveRelayedHelper(scope: RelayedHelperScope): void {
  const first = (event: MessageEvent) => {
    const port = (event.data as Partial<HelperPort> | undefined)?.port;
    if (!isMessage(event.data, 'helper-port') || !(port instanceof MessagePort)) return;
    scope.removeEventListener('message', first);
    port.addEventListener('message', (e) => {
      if (!isMessage(e.data, 'end-helper')) return;
      port.close();
      scope.close();
    });
    const helperScope: HelperScope = {
      postMessage: (message, transfer) => port.postMessage(message, transfer ?? []),
      addEventListener: (type, listener) => port.addEventListener(type, listener as (event: MessageEvent) => void),
    };
    startCompactionHelper(helperScope);
    port.start();
  };
  scope.addEventListener('message', first);
}
