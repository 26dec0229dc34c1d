/**
 * The compaction helper worker's side (jobs/compaction-worker.ts says who
 * starts one): it runs the merges the engine hands it (merge-rows.ts) —
 * decoding the inputs' row groups, merging, encoding the outputs with
 * their row pages and index records — so that work, and the garbage it
 * makes, stays out of the thread that answers statements. It touches no
 * storage: it asks the engine's thread for each input row group's bytes
 * (`read`) and hands it each output segment's entry and bytes (`segment`),
 * which that thread commits and writes (compact-offload.ts); removing an
 * output on an abort is asked for the same way (`remove`).
 *
 * A helper is the engine's own worker script started again under
 * COMPACTION_WORKER_NAME (@kalamlite/worker's worker.ts then calls
 * execute/compaction-helper.ts, which loads this module); the codec, the
 * encoding, the merge and the index records load on its first merge,
 * through the loaders the engine uses. The messages: compact-wire.ts.
 */
import { KalamError } from '../core/errors';
import { TimeSlice } from '../core/yield';
import type { EncodedRowGroup } from '../storage/cold/row-group';
import { fromWire, toWire, transferable, type FromHelper, type HelperScope, type MergeRequest, type ToHelper } from './compact-wire';
import { loadSegmentCodec } from '../storage/cold/segment-loader';
import { loadCompactMerge } from './compact-merge-loader';
import type { MergeIo } from './merge-rows';
import { segmentHooks } from './segment-hooks';
import { loadSegmentEncode } from './segment-write';

/** Work between turns of the helper's own event loop (so a cancel is seen). */
const HELPER_SLICE_MS = 50;

/** A request of the helper's, before its `req` is given. */
type HelperRequest = FromHelper extends infer M ? (M extends { req: number } ? Omit<M, 'req'> : never) : never;

/** Serves merges to the engine that started this worker (its global scope is `scope`); returns what handles each message. */
export function serveCompactions(scope: HelperScope, installIndexHooks: () => Promise<void>): (event: MessageEvent<ToHelper>) => void {
  const waiting = new Map<number, { resolve(m: ToHelper): void; reject(e: Error): void }>();
  const cancelled = new Set<number>();
  let next = 0;
  const ask = (message: HelperRequest, transfer: Transferable[] = []) =>
    new Promise<ToHelper>((resolve, reject) => {
      const req = ++next;
      waiting.set(req, { resolve, reject });
      scope.postMessage({ ...message, req } as FromHelper, transfer);
    });
  const handle = ({ data: m }: MessageEvent<ToHelper>) => {
    if (m.type === 'merge') void run(m);
    else if (m.type === 'cancel') cancelled.add(m.id);
    else {
      const w = waiting.get(m.req);
      waiting.delete(m.req);
      if (m.error) w?.reject(fromWire(m.error));
      else w?.resolve(m);
    }
  };

  async function run(m: MergeRequest): Promise<void> {
    const { id, t, user, inputs, options } = m;
    try {
      const [codec, encode, merge] = await Promise.all([
        loadSegmentCodec(),
        loadSegmentEncode(),
        loadCompactMerge(),
        t.indexes?.length && !segmentHooks.indexRecords ? installIndexHooks() : undefined,
      ]);
      const keyColumn = t.pk >= 0 ? t.columns[t.pk] : undefined;
      const io: MergeIo = {
        rowGroupRows: options.rowGroupRows,
        maxSegmentRows: options.maxSegmentRows,
        rowPageRows: options.rowPageRows,
        async readGroup(meta, group) {
          const reply = await ask({ type: 'read', id, input: inputs.indexOf(meta), group });
          const bytes = reply.type === 'bytes' ? reply.bytes : undefined;
          if (!bytes) throw new KalamError('INTERNAL', `Internal error: no bytes came for row group ${group} of segment ${meta.id}. This is a bug in kalamlite; please report it.`);
          return { data: codec.decodeRowGroup(bytes, keyColumn), release: () => undefined };
        },
        async writeSegment(encoded: EncodedRowGroup[]) {
          // The engine's thread names the segment (its `_seq`) as it writes it.
          const pending = encode.pendingSegment('', t, user, { level: 1, hot_purged: true });
          const meta = encode.segmentMeta(pending, t, encoded, codec, options.rowPageRows);
          const bytes = encode.segmentBytes(codec, t, meta, encoded);
          const reply = await ask({ type: 'segment', id, meta, bytes }, transferable(bytes));
          if (reply.type !== 'written' || !reply.meta) throw new KalamError('INTERNAL', 'Internal error: a compaction output was not acknowledged. This is a bug in kalamlite; please report it.');
          return reply.meta;
        },
        async removeSegment(meta) {
          await ask({ type: 'remove', id, segment: meta.id });
        },
      };
      const result = await merge.mergeRows(io, codec, encode, t, user, inputs, {
        cutoffMs: options.cutoffMs,
        collectPurged: options.collectPurged,
        slice: new TimeSlice(HELPER_SLICE_MS),
        isCancelled: () => cancelled.has(id),
      });
      scope.postMessage(result === 'aborted' ? { type: 'aborted', id } : { type: 'done', id, result: { ...result, outputs: [] } });
    } catch (e) {
      scope.postMessage({ type: 'error', id, error: toWire(e) });
    } finally {
      cancelled.delete(id);
    }
  }
  return handle;
}
