/**
 * Where compaction merges may run: a factory of compaction helper workers,
 * installed by whoever can start one — @kalamlite/worker's worker script
 * starts itself again under COMPACTION_WORKER_NAME, or, in a SharedWorker
 * in Chromium (no dedicated workers inside it), has a client's page start
 * one and talks to it over a MessageChannel (its tabs/compaction-relay.ts);
 * where none is installed (Node), merges run in the engine's thread. The helper's side:
 * execute/compaction-helper.ts (its start) and compact-helper.ts; the
 * engine's: compact-offload.ts; the messages: compact-wire.ts.
 */

/** The name a compaction helper worker is started with (the worker script checks it). */
export const COMPACTION_WORKER_NAME = 'kalamlite-compaction';

/**
 * What the engine needs of a helper: a dedicated Worker's messaging, error
 * event and terminate; and, from a helper another context hosts (a page, for
 * a SharedWorker's engine), a `gone` event when that host went away with it:
 * a merge it had not answered then runs in the engine's thread, and the
 * factory is not given up on as one whose script does not load.
 */
export interface CompactionWorker {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message' | 'error' | 'messageerror' | 'gone', listener: (event: MessageEvent | ErrorEvent | Event) => void): void;
  terminate(): void;
}

export const compactionWorkers: { create?: () => CompactionWorker } = {};

/**
 * Installs (or, with undefined, removes) the factory of compaction helper
 * workers for every database opened in this global scope: each merge of a
 * compaction then decodes, merges and encodes in the helper, and the
 * engine's thread only reads and writes the bytes and commits.
 */
export function useCompactionWorker(create: (() => CompactionWorker) | undefined): void {
  compactionWorkers.create = create;
}
