/**
 * The engine's side of a merge run in the compaction helper worker
 * (compact-helper.ts; the factory: compaction-worker.ts). The helper
 * decodes, merges and encodes; this thread answers its requests: reads an
 * input row group's bytes from the segment store, and writes each output
 * segment as a merge here does — its `in_progress` entry, then its bytes
 * (compact-merge.ts writeOutput), named here by `_seq` — and removes one on
 * an abort. The swap and everything after it stay in compact-merge.ts.
 *
 * One helper per global scope, shared by the databases open in it, one
 * merge at a time (a compaction job runs its merges one after another),
 * terminated after HELPER_IDLE_MS without work. A merge stays here when no
 * factory is installed, when a value of the table does not cross threads
 * unchanged (DECIMAL and INTERVAL are classes), after the helper failed
 * to start, or when the helper failed it before asking or writing anything
 * (its serving code or the database would not open there: this merge then
 * runs here). A helper that dies during a merge fails that merge: the outputs
 * it wrote are removed, the job fails as any storage failure does, and the
 * next merge starts a new helper.
 */
import { KalamError } from '../core/errors';
import type { RowChange, TableDef } from '../core/schema';
import { groupLocation, missingGroup, segmentKeyOf, type SegmentMeta } from '../storage/cold/types';
import { fromWire, toWire, type FromHelper, type MergeRequest, type ToHelper } from './compact-wire';
import { compactionWorkers, type CompactionWorker } from './compaction-worker';
import type { MergeOptions, MergeResult } from './merge-rows';
import type { SegmentWriter } from './segment-write';

/** A helper with no merge for this long is terminated (its heap freed); the next merge starts one. */
export const HELPER_IDLE_MS = 10_000;
/** A helper silent this long during a merge, while it waits for nothing from this thread, is taken for dead. */
export const HELPER_SILENCE_MS = 60_000;
/** How often a merge in the helper checks whether its job was cancelled (KILL JOB, close()). */
const CANCEL_CHECK_MS = 50;

/** What the engine's thread does for a merge in the helper. */
export interface OffloadHost extends SegmentWriter {
  readonly seq: { next(): bigint };
  /** Writes an output segment (entry, then bytes; only the entry when the helper writes the bytes). */
  writeOutput(meta: SegmentMeta, bytes: readonly Uint8Array[] | undefined): Promise<SegmentMeta>;
  /** The IndexedDB database holding the segments, when the helper can open it itself (storage 'idb', the segments in its KV store, the global indexedDB). */
  readonly idb?: MergeRequest['idb'];
  /** Removes an output written by writeOutput. */
  removeOutput(meta: SegmentMeta): Promise<void>;
}

/** Whether every value of `t` crosses threads by structured clone unchanged. */
const offloadable = (t: TableDef) => t.columns.every((c) => c.type !== 'DECIMAL' && c.type !== 'INTERVAL');

class Helper {
  readonly worker: CompactionWorker;
  private turn: Promise<unknown> = Promise.resolve();
  private idle: ReturnType<typeof setTimeout> | undefined;
  private current: ((m: FromHelper) => void) | undefined;
  private failure: ((e: Error) => void) | undefined;
  dead = false;
  /** Its host went away with it (a `gone` event), rather than it failing. */
  gone = false;
  /** Whether it ever answered (a helper that fails before that never started: merges stay here). */
  started = false;
  private nextId = 0;

  constructor(readonly create: () => CompactionWorker) {
    this.worker = create();
    this.worker.addEventListener('message', (e) => {
      this.started = true;
      startedBy.add(create);
      this.current?.((e as MessageEvent<FromHelper>).data);
    });
    const die = (e: Event) => {
      this.dead = true;
      const message = (e as ErrorEvent).message || 'the compaction helper worker failed';
      this.failure?.(new KalamError('INTERNAL', `Internal error: ${message}. This is a bug in kalamlite; please report it.`));
    };
    this.worker.addEventListener('error', die);
    this.worker.addEventListener('messageerror', die);
    this.worker.addEventListener('gone', () => {
      this.dead = true;
      this.gone = true;
      this.failure?.(new KalamError('CLOSED', 'The page that ran this compaction\'s helper closed during the merge: the compaction runs again at the next flush or STORAGE COMPACT.'));
    });
  }

  /** Runs one merge, after the merges queued before it. */
  run<T>(work: (post: (m: ToHelper, transfer?: Transferable[]) => void, id: number, on: (listener: (m: FromHelper) => void, fail: (e: Error) => void) => void) => Promise<T>): Promise<T> {
    const id = ++this.nextId;
    const done = this.turn.then(async () => {
      if (this.idle) clearTimeout(this.idle);
      try {
        return await work(
          (m, transfer) => this.worker.postMessage(m, transfer ?? []),
          id,
          (listener, fail) => {
            this.current = listener;
            this.failure = fail;
          },
        );
      } finally {
        this.current = undefined;
        this.failure = undefined;
        if (!this.dead) {
          this.idle = setTimeout(() => this.close(), HELPER_IDLE_MS);
          (this.idle as { unref?: () => void }).unref?.();
        }
      }
    });
    this.turn = done.catch(() => undefined);
    return done;
  }

  close(): void {
    this.dead = true;
    if (helper === this) helper = undefined;
    this.worker.terminate();
  }
}

let helper: Helper | undefined;
/** A factory whose helper never started: merges stay in the engine's thread. */
let failedFactory: (() => CompactionWorker) | undefined;
/**
 * Factories that started a helper once: a later helper of theirs that never
 * starts (a page that was closing when asked to start it: tabs/compaction-relay.ts in
 * @kalamlite/worker) leaves that merge in the engine's thread, not every merge after it.
 */
const startedBy = new WeakSet<() => CompactionWorker>();

/** Merges stay in the engine's thread from now on when `create` never started a helper (its script does not load). */
function giveUp(create: (() => CompactionWorker) | undefined): void {
  if (create && !startedBy.has(create)) failedFactory = create;
}

function helperFor(): Helper | undefined {
  const create = compactionWorkers.create;
  if (!create || create === failedFactory) return undefined;
  if (helper && (helper.dead || helper.create !== create)) {
    // Dead, or another factory was installed since: the next merge starts a new one.
    if (!helper.dead) helper.close();
    helper = undefined;
  }
  try {
    return (helper ??= new Helper(create));
  } catch {
    giveUp(create);
    return undefined;
  }
}

/**
 * Runs the merge of `inputs` in the helper: the result as mergeSegments
 * gives it (outputs named and written here), or undefined when the merge
 * must run in this thread instead.
 */
export async function offloadMerge(host: OffloadHost, t: TableDef, user: string, inputs: readonly SegmentMeta[], rowPageRows: number, o: MergeOptions): Promise<MergeResult | 'aborted' | undefined> {
  if (!offloadable(t) || inputs.some((m) => !m.groups)) return undefined;
  const h = helperFor();
  if (!h) return undefined;
  const request: MergeRequest = {
    type: 'merge',
    id: 0,
    t,
    user,
    inputs,
    options: { rowGroupRows: host.cold.options.rowGroupRows, maxSegmentRows: host.cold.options.maxSegmentRows, rowPageRows, cutoffMs: o.cutoffMs, collectPurged: o.collectPurged },
    idb: host.idb,
  };
  const outputs: SegmentMeta[] = [];
  let answered = false;
  /** Requests the helper made of this thread (reads, outputs, removals). */
  let requests = 0;
  try {
    const result = await h.run((post, id, on) =>
      new Promise<MergeResult | 'aborted'>((resolve, reject) => {
        let cancelSent = false;
        const checkCancel = () => {
          if (!cancelSent && o.isCancelled?.()) {
            cancelSent = true;
            post({ type: 'cancel', id });
          }
        };
        // Requests are answered in the order they came, one at a time (the helper asks one at a time anyway).
        let chain: Promise<void> = Promise.resolve();
        const serve = (m: Extract<FromHelper, { req: number }>) => {
          serving++;
          chain = chain.then(async () => {
            checkCancel();
            try {
              if (m.type === 'read') {
                const meta = inputs[m.input];
                const g = meta?.groups;
                if (!g || m.group < 0 || m.group >= g.rows.length) throw new KalamError('INTERNAL', `Internal error: the compaction helper asked for a row group that does not exist. This is a bug in kalamlite; please report it.`);
                const [bytes] = await host.cold.store.readGroups(segmentKeyOf(meta), [groupLocation(meta, m.group)]);
                if (!bytes) throw missingGroup(meta, m.group, t);
                host.cold.compaction.groupLoads++;
                // Copied, not moved: a store may hand out the very bytes it keeps (the memory store does).
                post({ type: 'bytes', id, req: m.req, bytes });
              } else if (m.type === 'segment') {
                const meta = await host.writeOutput({ ...m.meta, id: `S${host.seq.next()}` }, m.bytes);
                outputs.push(meta);
                post({ type: 'written', id, req: m.req, meta });
              } else {
                const meta = outputs.find((x) => x.id === m.segment);
                if (meta) {
                  await host.removeOutput(meta);
                  outputs.splice(outputs.indexOf(meta), 1);
                }
                post({ type: 'written', id, req: m.req });
              }
            } catch (e) {
              post({ type: m.type === 'read' ? 'bytes' : 'written', id, req: m.req, error: toWire(e) });
            } finally {
              serving--;
              heard = Date.now();
            }
          });
        };
        let heard = Date.now();
        let serving = 0;
        // KILL JOB and close() reach the helper within a tick; a helper silent too long is taken for dead.
        const watchdog = setInterval(() => {
          checkCancel();
          if (serving > 0 || Date.now() - heard < HELPER_SILENCE_MS) return;
          h.close();
          fail(new KalamError('INTERNAL', `Internal error: the compaction helper worker stopped answering for ${HELPER_SILENCE_MS / 1000} s during a merge. This is a bug in kalamlite; please report it.`));
        }, CANCEL_CHECK_MS);
        (watchdog as { unref?: () => void }).unref?.();
        const finish = <T>(settle: (v: T) => void) => (v: T) => {
          clearInterval(watchdog);
          settle(v);
        };
        const ok = finish(resolve);
        const fail = finish(reject);
        on((m) => {
          if (m.id !== id) return;
          heard = Date.now();
          answered = true;
          if (m.type === 'read' || m.type === 'segment' || m.type === 'remove') {
            requests++;
            serve(m);
          }
          else if (m.type === 'aborted') void chain.then(() => ok('aborted'));
          else if (m.type === 'error') void chain.then(() => fail(fromWire(m.error)));
          else void chain.then(() => ok(m.result));
        }, fail);
        post({ ...request, id });
      }),
    );
    if (result === 'aborted') return result;
    host.cold.compaction.offloaded++;
    // The helper's copies of the table become this thread's own.
    const own = (c: RowChange): RowChange => ({ ...c, table: t });
    return { ...result, outputs, purged: result.purged.map(own), newestPurged: result.newestPurged && own(result.newestPurged) };
  } catch (e) {
    if (!answered && h.dead && !h.started) {
      // The helper never started: this merge runs here, and every later one if it failed to and its factory never started one (its script does not load).
      if (!h.gone) giveUp(compactionWorkers.create);
      return undefined;
    }
    // It failed before writing anything (its serving code or the database would not load there): this merge runs here.
    if (requests === 0 && outputs.length === 0 && !o.isCancelled?.()) return undefined;
    // Whatever it wrote goes now if storage lets it, else at the next open.
    for (const m of outputs) await host.removeOutput(m).catch(() => undefined);
    throw e;
  }
}
