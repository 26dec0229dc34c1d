/**
 * A fake browser for tests in Node, enough to run createClient() end to end
 * over the worker entry's modes in this thread: `navigator.locks` (fake
 * locks, freed when the context holding them ends, as a browser frees a dead
 * context's locks), and SharedWorker and Worker constructors that run
 * serveSharedWorker / serveLeaderWorker behind MessageChannels.
 *
 * SharedWorker follows the browser's rules that matter here: a constructor
 * joins the running worker of the same (script, name) unless it has called
 * close(); the connect event reaches the worker a task later, and is dropped
 * if the worker has called close() by then. Scripts at URLs listed in
 * `failing` fail to start as the browser reports it: an `error` event
 * (a 404, a syntax error), or nothing at all ('silent').
 */
import { IDBFactory } from 'fake-indexeddb';
import { openDatabase } from '@kalamlite/engine';
import { vi } from 'vitest';
import type { HubOptions } from './hub';
import { fakeLocks } from './fake-locks';
import { serveLeaderWorker, type LeaderWorkerScope } from './leader-worker';
import type { Locks } from './locks';
import { parseWorkerName, type LeaderWorkerMessage, type PageMessage } from './protocol';
import { serveSharedWorker, type SharedWorkerScope } from './shared-worker';

/** One worker context: its locks are freed when it ends. */
interface Context {
  isAlive: boolean;
  /** Set by close(): the browser no longer hands this worker to constructors or connects. */
  isClosing: boolean;
  locks: Locks;
  kill(): void;
}

export interface FakeBrowser {
  /** The page's own lock manager (the same locks every context sees). */
  locks: Locks;
  /** SharedWorkers alive now, and started so far. */
  readonly sharedWorkers: number;
  readonly sharedWorkersStarted: number;
  /** Dedicated workers alive now, and started so far. */
  readonly dedicatedWorkers: number;
  readonly dedicatedWorkersStarted: number;
  /** Connects that reached a closed SharedWorker and were dropped. */
  readonly droppedConnects: number;
  /** Makes the script at `url` fail to start: an `error` event, or no answer at all. */
  fail(url: string, how: 'error' | 'silent'): void;
  /**
   * Drops the next `n` connects to a SharedWorker, as a browser does when it
   * hands the constructor a worker that has just closed.
   */
  dropConnects(n: number): void;
  /** Ends the current SharedWorker at once, as a crash would. */
  crashSharedWorkers(): void;
  /** Puts navigator.locks, SharedWorker and Worker in place (see vi.unstubAllGlobals). */
  install(): void;
}

export function fakeBrowser(options: { shared?: boolean } = {}): FakeBrowser {
  const base = fakeLocks();
  // One storage for every engine of this browser, as IndexedDB is.
  const indexedDB = new IDBFactory();
  const hubOptions: Partial<HubOptions> = { open: (o) => openDatabase({ ...o, storage: 'idb', indexedDB }) };
  const running = new Map<string, Context & { scope: SharedWorkerScope }>();
  const failing = new Map<string, 'error' | 'silent'>();
  const counts = { shared: 0, sharedStarted: 0, dedicated: 0, dedicatedStarted: 0, dropped: 0, toDrop: 0 };
  const contexts = new Set<Context>();

  function context(onEnd: () => void): Context {
    let kill: () => void = () => undefined;
    const killed = new Promise<void>((resolve) => (kill = resolve));
    const ctx: Context = {
      isAlive: true,
      isClosing: false,
      // A lock held by this context is released when it ends.
      locks: {
        request(name, lockOptions, callback) {
          return base.request(name, lockOptions, () => Promise.race([Promise.resolve().then(callback), killed.then(() => undefined as never)]));
        },
      },
      kill() {
        if (!ctx.isAlive) return;
        ctx.isAlive = false;
        ctx.isClosing = true;
        contexts.delete(ctx);
        onEnd();
        kill();
      },
    };
    contexts.add(ctx);
    return ctx;
  }

  function urlOf(url: unknown): string {
    return String(url);
  }

  class FakeSharedWorker extends EventTarget {
    readonly port: MessagePort;
    constructor(url: string | URL, workerOptions: { name: string }) {
      super();
      const key = `${urlOf(url)}|${workerOptions.name}`;
      let ctx = running.get(key);
      const failure = failing.get(urlOf(url));
      if (ctx === undefined || ctx.isClosing) {
        counts.sharedStarted++;
        counts.shared++;
        const started = context(() => counts.shared--);
        const scope: SharedWorkerScope = {
          name: workerOptions.name,
          navigator: { locks: started.locks },
          onconnect: null,
          close() {
            started.kill();
            return Promise.resolve();
          },
        };
        ctx = Object.assign(started, { scope });
        running.set(key, ctx);
        const target = ctx;
        if (failure === undefined) serveSharedWorker(scope, hubOptions);
        else if (failure === 'error') setTimeout(() => target.kill());
      }
      const { port1, port2 } = new MessageChannel();
      this.port = port2;
      const target = ctx;
      if (failure === 'error') {
        setTimeout(() => this.dispatchEvent(new Event('error')));
        return;
      }
      const isDropped = counts.toDrop > 0;
      if (isDropped) counts.toDrop--;
      setTimeout(() => {
        if (target.isClosing || isDropped) {
          counts.dropped++;
          return; // the browser drops a connect to a worker that has closed
        }
        target.scope.onconnect?.({ ports: [port1] } as unknown as MessageEvent);
      });
    }
  }

  class FakeWorker extends EventTarget {
    onmessage: ((event: MessageEvent<LeaderWorkerMessage>) => void) | null = null;
    readonly #ctx: Context;
    readonly #scope: LeaderWorkerScope;
    constructor(url: string | URL, workerOptions: { name?: string } = {}) {
      super();
      counts.dedicatedStarted++;
      counts.dedicated++;
      const ctx = context(() => counts.dedicated--);
      this.#ctx = ctx;
      this.#scope = {
        name: workerOptions.name ?? '',
        navigator: { locks: ctx.locks },
        onmessage: null,
        postMessage: (message: LeaderWorkerMessage) => {
          setTimeout(() => {
            if (ctx.isAlive) this.onmessage?.({ data: message } as MessageEvent<LeaderWorkerMessage>);
          });
        },
        close() {
          ctx.kill();
          return Promise.resolve();
        },
      };
      const failure = failing.get(urlOf(url));
      setTimeout(() => {
        if (failure === 'error') {
          ctx.kill();
          this.dispatchEvent(new Event('error'));
        } else if (failure === undefined && parseWorkerName(this.#scope.name) !== undefined) {
          serveLeaderWorker(this.#scope, hubOptions);
        }
        // Unnamed (a client's own engine): not served here; tests of that transport pass `worker`.
      });
    }
    postMessage(message: PageMessage, transfer: Transferable[] = []): void {
      setTimeout(() => {
        if (this.#ctx.isAlive) this.#scope.onmessage?.({ data: message, ports: transfer } as unknown as MessageEvent<PageMessage>);
      });
    }
    terminate(): void {
      this.#ctx.kill();
    }
  }

  return {
    locks: base,
    get sharedWorkers() {
      return counts.shared;
    },
    get sharedWorkersStarted() {
      return counts.sharedStarted;
    },
    get dedicatedWorkers() {
      return counts.dedicated;
    },
    get dedicatedWorkersStarted() {
      return counts.dedicatedStarted;
    },
    get droppedConnects() {
      return counts.dropped;
    },
    fail(url, how) {
      failing.set(url, how);
    },
    dropConnects(n) {
      counts.toDrop = n;
    },
    crashSharedWorkers() {
      for (const ctx of running.values()) ctx.kill();
    },
    install() {
      vi.stubGlobal('navigator', { locks: base });
      if (options.shared !== false) vi.stubGlobal('SharedWorker', FakeSharedWorker);
      vi.stubGlobal('Worker', FakeWorker);
    },
  };
}
