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
 * A helper lives as long as the page that started it. The engine learns
 * of its end from Web Locks, which the browser frees when their holder
 * ends: until the helper runs, from the lock of the client whose page was
 * asked (the page may close before its worker starts); then from a lock of
 * the helper's own (named in the request), which it takes and says so on
 * the port. Either way the engine hears `gone` at once: a merge the helper
 * had not answered runs in the engine's thread, one it had fails, and the
 * next starts a helper through another page. A MessagePort's `close` event does not come
 * in Chromium when the other end's worker dies; without the locks the
 * engine would wait HELPER_SILENCE_MS (60 s) for a silent helper
 * (e2e/compaction-helper.e2e.test.ts closes the page mid-compaction).
 */
import { startCompactionHelper, type CompactionWorker, type HelperScope } from '@kalamlite/engine';
import { holdLock, randomId, whenLockFree, type Locks } from './locks';

/** The name of a helper a page starts for its SharedWorker's engine (the worker script checks it). */
export const RELAYED_HELPER_NAME = 'kalamlite-compaction-relayed';

/** SharedWorker → page, on the client's connection: start a helper, give it `port` (moved with the message) and `lock`. */
export interface HelperRequest {
  kalamlite: 'helper';
  port: MessagePort;
  /** The Web Lock the helper holds while it lives. */
  lock: string;
}

/** Page → the helper it started: hold `lock`, and serve merges on `port` (moved with the message). */
export interface HelperPort {
  kalamlite: 'helper-port';
  port: MessagePort;
  lock: string;
}

/** Helper → engine, on the port: it holds its lock (the engine may wait for it now). Page → engine: it could not start one. */
type RelayNotice = { kalamlite: 'helper-holding' } | { kalamlite: 'helper-failed' };

/** Engine → helper, on the port: the engine is done with it (its idle time ran out, or it closed): end. */
export interface EndHelper {
  kalamlite: 'end-helper';
}

const END: EndHelper = { kalamlite: 'end-helper' };

const isMessage = (data: unknown, kind: string): boolean => typeof data === 'object' && data !== null && (data as { kalamlite?: unknown }).kalamlite === kind;
export const isHelperRequest = (data: unknown): data is HelperRequest =>
  isMessage(data, 'helper') && (data as { port?: unknown }).port instanceof MessagePort && typeof (data as { lock?: unknown }).lock === 'string';

type Listener = (event: MessageEvent | ErrorEvent | Event) => void;

/**
 * The engine's side, in the SharedWorker: a factory of helpers, each a
 * MessageChannel whose other end `spawn` hands to a page with the name of
 * the lock the helper will hold. `spawn` answers with the lock the page's
 * client holds while it lives (undefined: no page to ask, and this merge
 * runs in the engine's thread).
 */
export function relayedHelpers(spawn: (port: MessagePort, lock: string) => string | undefined, locks: Locks): () => CompactionWorker {
  return () => {
    const { port1: port, port2 } = new MessageChannel();
    const lock = `kalamlite-compaction-helper:${randomId()}`;
    const pageLock = spawn(port2, lock);
    if (pageLock === undefined) {
      port.close();
      throw new Error('no page to start a compaction helper');
    }
    const listeners = new Map<string, Listener[]>();
    const fire = (type: string, event: MessageEvent | ErrorEvent | Event) => {
      for (const listener of listeners.get(type) ?? []) listener(event);
    };
    const watching = new AbortController();
    // Ends the channel; a helper that starts after all (its page's client closed, not the page) reads `end-helper` first.
    const end = () => {
      watching.abort();
      try {
        port.postMessage(END);
      } finally {
        port.close();
      }
    };
    const failed = (message: string) => fire('error', { type: 'error', message } as unknown as ErrorEvent);
    const gone = () => {
      fire('gone', { type: 'gone' } as Event);
      end();
    };
    const watch = (name: string, signal: AbortSignal) =>
      whenLockFree(locks, name, signal).then(
        gone,
        () => undefined, // no longer watched
      );
    // Until the helper holds its own lock: its page's (closed before the worker ran, the helper never will).
    const pageWatch = new AbortController();
    watching.signal.addEventListener('abort', () => pageWatch.abort());
    void watch(pageLock, pageWatch.signal);
    port.addEventListener('message', (event) => {
      const data = (event as MessageEvent).data as RelayNotice | undefined;
      if (isMessage(data, 'helper-holding')) {
        pageWatch.abort();
        // Freed when the helper's worker ends: with its tab, or (after terminate) by itself.
        void watch(lock, watching.signal);
      } else if (isMessage(data, 'helper-failed')) {
        failed('the page asked could not start a compaction helper worker');
        end();
      } else fire('message', event);
    });
    port.addEventListener('messageerror', (event) => fire('messageerror', event));
    port.start();
    return {
      postMessage: (message, transfer) => port.postMessage(message, transfer ?? []),
      addEventListener(type, listener) {
        listeners.set(type, [...(listeners.get(type) ?? []), listener]);
      },
      terminate() {
        listeners.clear();
        end();
      },
    };
  };
}

/**
 * A page's side: starts a helper for its SharedWorker's engine and hands it
 * the request's port and lock. `start` makes the dedicated worker (the
 * client's worker script, named RELAYED_HELPER_NAME); where that fails, the
 * page says so on the port, and the engine takes it for a helper that never
 * started (that merge runs in its thread).
 */
export function startRelayedHelper(request: HelperRequest, start: () => Worker): void {
  const { port, lock } = request;
  try {
    start().postMessage({ kalamlite: 'helper-port', port, lock } satisfies HelperPort, [port]);
  } catch {
    port.postMessage({ kalamlite: 'helper-failed' } satisfies RelayNotice);
    port.close();
  }
}

/** The part of a dedicated worker's global scope a relayed helper uses. */
export interface RelayedHelperScope {
  navigator: { locks: Locks };
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  close(): void;
}

/** The helper's side, in the worker a page started: serves merges on the port its page hands it. */
export function serveRelayedHelper(scope: RelayedHelperScope): void {
  const first = (event: MessageEvent) => {
    const { port, lock } = (event.data ?? {}) as Partial<HelperPort>;
    if (!isMessage(event.data, 'helper-port') || !(port instanceof MessagePort) || typeof lock !== 'string') return;
    scope.removeEventListener('message', first);
    const helperScope: HelperScope = {
      postMessage: (message, transfer) => port.postMessage(message, transfer ?? []),
      addEventListener: (type, listener) => port.addEventListener(type, listener as (event: MessageEvent) => void),
    };
    // Held until this worker ends: the engine learns of its end from the lock. Merges are served once it is held, so
    // the engine hears that before anything else from this helper.
    void holdLock(scope.navigator.locks, lock).then(() => {
      port.postMessage({ kalamlite: 'helper-holding' } satisfies RelayNotice);
      startCompactionHelper(helperScope);
      port.start();
    });
    port.addEventListener('message', (e) => {
      if (!isMessage(e.data, 'end-helper')) return;
      port.close();
      scope.close();
    });
  };
  scope.addEventListener('message', first);
}
