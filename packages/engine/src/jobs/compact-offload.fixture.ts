/** A compaction helper served in this process over a MessageChannel (compact-offload*.test.ts). */
import { startCompactionHelper } from '../execute/compaction-helper';
import type { FromHelper, HelperScope } from './compact-wire';
import type { CompactionWorker } from './compaction-worker';

/** The helpers started, for a test's cleanup to terminate. */
export const helpers: CompactionWorker[] = [];

export interface Tap {
  /** Sees each message from the helper before the engine does; false drops it (and every later one: the helper "died"). */
  fromHelper?: (m: FromHelper, worker: InProcess) => boolean | void;
}

export type InProcess = CompactionWorker & { fail(message: string): void };

/** A helper served in this process; `tap` sees what it sends. */
export function inProcessHelper(tap: Tap = {}): InProcess {
  const { port1, port2 } = new MessageChannel();
  const listeners: Record<string, ((e: Event) => void)[]> = { message: [], error: [], messageerror: [] };
  let dead = false;
  const scope: HelperScope = {
    postMessage: (m, transfer) => port2.postMessage(m, transfer ?? []),
    addEventListener: (_type, listener) => port2.addEventListener('message', listener as (e: Event) => void),
  };
  port2.start();
  startCompactionHelper(scope);
  const worker: InProcess = {
    postMessage: (m, transfer) => {
      if (!dead) port1.postMessage(m, transfer ?? []);
    },
    addEventListener: (type, listener) => listeners[type].push(listener as (e: Event) => void),
    terminate: () => {
      dead = true;
      port1.close();
      port2.close();
    },
    fail(message) {
      dead = true;
      for (const l of listeners.error) l(Object.assign(new Event('error'), { message }));
    },
  };
  port1.addEventListener('message', (e) => {
    if (dead) return;
    if (tap.fromHelper?.((e as MessageEvent<FromHelper>).data, worker) === false) return;
    for (const l of listeners.message) l(e);
  });
  port1.start();
  helpers.push(worker);
  return worker;
}

