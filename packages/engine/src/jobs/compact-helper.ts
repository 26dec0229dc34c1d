/**
 * The compaction helper worker's side (jobs/compaction-worker.ts says who
 * starts one): it runs the merges the engine hands it (merge-rows.ts) —
 * decoding the inputs' row groups, merging, encoding the outputs with
 * their row pages and index records — so that work, and the garbage it
 * makes, stays out of the thread that answers statements. Over IndexedDB
 * (segments in its `segments` store) it reads the inputs' row groups and
 * writes the outputs' bytes through a connection of its own, after the
 * engine's thread committed each output's `in_progress` entry (`segment`
 * without bytes); otherwise it asks that thread for each input group's
 * bytes (`read`) and hands it each output's bytes to write with the entry.
 * Removing an output on an abort is asked of the engine's thread
 * (`remove`), which commits every manifest change (compact-offload.ts).
 *
 * A helper is the engine's own worker script started again under
 * COMPACTION_WORKER_NAME (@kalamlite/worker's worker.ts then calls
 * execute/compaction-helper.ts, which loads this module); the codec, the
 * encoding, the merge and the index records load on its first merge,
 * through the loaders the engine uses. The messages: compact-wire.ts.
 */
import { KalamError } from '../core/errors';
import { TimeSlice } from '../core/yield';
import { kvSegmentStore } from '../storage/cold/kv-segment-store';
import type { EncodedRowGroup } from '../storage/cold/row-group';
import { groupLocation, missingGroup, segmentKeyOf } from '../storage/cold/types';
import { openIdbStore } from '../storage/idb';
import type { KvStore } from '../storage/kv';
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
  /** Merges running, and those of them cancelled (a cancel that comes after its merge ended is dropped). */
  const running = new Set<number>();
  const cancelled = new Set<number>();
  let next = 0;
  const ask = (message: HelperRequest, transfer: Transferable[] = []) =>
    new Promise<ToHelper>((resolve, reject) => {
      const req = ++next;
      waiting.set(req, { resolve, reject });
      scope.postMessage({ ...message, req } as FromHelper, transfer);
    });
  /** IndexedDB connections by database name, opened on a merge's first need and kept (the store closes itself when another tab upgrades or deletes the database). */
  const databases = new Map<string, Promise<KvStore>>();
  const database = (name: string, durability: 'relaxed' | 'strict') => {
    let open = databases.get(name);
    if (!open) {
      databases.set(name, (open = openIdbStore(name, globalThis.indexedDB, durability)));
      open.catch(() => databases.delete(name));
    }
    return open;
  };
  const handle = ({ data: m }: MessageEvent<ToHelper>) => {
    if (m.type === 'merge') void run(m);
    else if (m.type === 'cancel') {
      if (running.has(m.id)) cancelled.add(m.id);
    }
    else {
      const w = waiting.get(m.req);
      waiting.delete(m.req);
      if (m.error) w?.reject(fromWire(m.error));
      else w?.resolve(m);
    }
  };

  async function run(m: MergeRequest): Promise<void> {
    const { id, t, user, inputs, options } = m;
    running.add(id);
    try {
      const [codec, encode, merge] = await Promise.all([
        loadSegmentCodec(),
        loadSegmentEncode(),
        loadCompactMerge(),
        t.indexes?.length && !segmentHooks.indexRecords ? installIndexHooks() : undefined,
      ]);
      const keyColumn = t.pk >= 0 ? t.columns[t.pk] : undefined;
      const kv = m.idb ? await database(m.idb.name, m.idb.durability) : undefined;
      const segments = kv ? kvSegmentStore(kv) : undefined;
      const slice = new TimeSlice(HELPER_SLICE_MS);
      const io: MergeIo = {
        rowGroupRows: options.rowGroupRows,
        maxSegmentRows: options.maxSegmentRows,
        rowPageRows: options.rowPageRows,
        async readGroup(meta, group) {
          let bytes: Uint8Array | undefined;
          if (segments) {
            [bytes] = await segments.readGroups(segmentKeyOf(meta), [groupLocation(meta, group)]);
            if (!bytes) throw missingGroup(meta, group, t);
          } else {
            const reply = await ask({ type: 'read', id, input: inputs.indexOf(meta), group });
            bytes = reply.type === 'bytes' ? reply.bytes : undefined;
            if (!bytes) throw new KalamError('INTERNAL', `Internal error: no bytes came for row group ${group} of segment ${meta.id}. This is a bug in kalamlite; please report it.`);
          }
          return { data: codec.decodeRowGroup(bytes, keyColumn), release: () => undefined };
        },
        async writeSegment(encoded: EncodedRowGroup[]) {
          // The engine's thread names the segment (its `_seq`) and commits its entry.
          const pending = encode.pendingSegment('', t, user, { level: 1, hot_purged: true });
          const meta = encode.segmentMeta(pending, t, encoded, codec, options.rowPageRows);
          const bytes = encode.segmentBytes(codec, t, meta, encoded);
          const reply = await (kv ? ask({ type: 'segment', id, meta }) : ask({ type: 'segment', id, meta, bytes }, transferable(bytes)));
          const named = reply.type === 'written' ? reply.meta : undefined;
          if (!named) throw new KalamError('INTERNAL', 'Internal error: a compaction output was not acknowledged. This is a bug in kalamlite; please report it.');
          if (kv && segments) {
            // Its bytes, in slices as the engine's thread writes them (a reader of the store waits for one slice at most).
            try {
              await encode.putSegmentBytes({ cold: { store: segments }, commit: (unit) => kv.commit(unit.segments!.put!.flatMap((p) => segments.write!(p.key, p.groups, p.first))) }, named, bytes, () => slice.pause());
            } catch (e) {
              await ask({ type: 'remove', id, segment: named.id }).catch(() => undefined);
              throw e;
            }
          }
          return named;
        },
        async removeSegment(meta) {
          await ask({ type: 'remove', id, segment: meta.id });
        },
      };
      const result = await merge.mergeRows(io, codec, encode, t, user, inputs, {
        cutoffMs: options.cutoffMs,
        collectPurged: options.collectPurged,
        slice,
        isCancelled: () => cancelled.has(id),
      });
      scope.postMessage(result === 'aborted' ? { type: 'aborted', id } : { type: 'done', id, result: { ...result, outputs: [] } });
    } catch (e) {
      scope.postMessage({ type: 'error', id, error: toWire(e) });
    } finally {
      running.delete(id);
      cancelled.delete(id);
    }
  }
  return handle;
}
