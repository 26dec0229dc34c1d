/**
 * The merge step of a compaction: a k-way merge, in key order, of a group
 * of segments of one partition (compact-plan.ts chose them), written as
 * new level 1 segments in status `in_progress`, then swapped in and the
 * inputs deleted (mergeAndSwap: steps 1 to 3 of compact.ts); and the
 * job's work around it (compactTableJob, compactPartition: the plan, the
 * moves, one partition after another). Loaded on first use
 * (compact-merge-loader.ts) with the planning (compact-plan.ts), so
 * worker.js holds only the triggers (compact.ts, compact-due.ts).
 *
 * Bounded: each input is read one row group at a time through the cache
 * (ColdTier.readGroup: a cached group is pinned while read; one that is not
 * is decoded outside the cache), and released when passed; output rows are
 * collected one row group at a time and encoded, with a turn of the event
 * loop once a slice of work (COMPACT_SLICE_MS) ran, checked after every row
 * group encoded or loaded and every few hundred merged rows, so writes keep
 * flowing. What is held at once: one
 * row group per input, one output group's rows, and the encoded groups of
 * the output segment being written (at most maxSegmentRows rows: a
 * segment's bytes are written together).
 *
 * Of the versions of one key the newest (`_seq`) is kept, the others are
 * dropped as shadowed; a kept tombstone older than the table's retention is
 * dropped too (every stored version of its key is among the inputs).
 * Output segments are cut at an even size of at most maxSegmentRows rows,
 * each into row groups of rowGroupRows rows as flush cuts them.
 *
 * Each output segment is one unit of work: its bytes and its manifest entry
 * in status `in_progress` in one commit (a file store: bytes put first; a
 * crash in between leaves a file no entry refers to, which open deletes).
 * Recovery removes in_progress entries and their bytes, as for a flush.
 */
import type { TableDef } from '../core/schema';
import { TimeSlice } from '../core/yield';
import { loadSegmentCodec, type SegmentCodec } from '../storage/cold/segment-loader';
import type { SegmentMeta } from '../storage/cold/types';
import { isDue, planInputs, retentionCutoff, type CompactTrigger } from './compact-due';
import { offloadMerge } from './compact-offload';
import { planCompaction } from './compact-plan';
import type { JobRecord } from './job';
import { mergeRows, type MergeIo, type MergeOptions, type MergeResult } from './merge-rows';
import { deleteObsolete, entryChange, loadSegmentEncode, removeEntry, type SegmentJobContext, type SegmentWriter } from './segment-write';

type SegmentEncode = typeof import('./segment-encode');

// Planning loads with the merge (a chunk): worker.js holds only the triggers. A compaction helper worker
// (compact-helper.ts) runs the merge itself.
export { planCompaction, mergeRows };

const q = (t: TableDef) => `${t.namespace}.${t.name}`;

/** What compacting needs: the catalog, the tiers, `_seq` for segment ids, the job queue, the write lock and the one commit path. */
export interface CompactContext extends SegmentJobContext {
  /** Whether live queries read this partition (a compaction then publishes the tombstones it drops). */
  hasLiveReaders?(tableId: number, user: string): boolean;
}

/** What compacting one partition did. */
export interface CompactOutcome {
  rowsRead: number;
  rowsShadowed: number;
  tombstonesPurged: number;
  segmentsMerged: number;
  segmentsWritten: number;
  segmentsMoved: number;
  /** Stopped early: cancelled, or the table or partition changed meanwhile (nothing of the unfinished merge is left). */
  aborted: boolean;
}

export interface CompactPartitionOptions {
  isCancelled?: () => boolean;
  /** The time tombstones are judged against (default: now). */
  now?: number;
  /** Rewrite segments whose tombstones were never counted (STORAGE COMPACT). */
  rewriteUnknown?: boolean;
  /** Tests: stop after step 1 (outputs in_progress) or step 2 (swapped, inputs obsolete) of the first merge, as a crash there would. */
  stopAfter?: 1 | 2;
}

/** Work between turns of the event loop while merging in the engine's thread (ms). */
export const COMPACT_SLICE_MS = 2;

export interface MergeContext extends SegmentWriter {
  readonly seq: { next(): bigint };
  /** The IndexedDB database whose KV store holds the segments, when a compaction helper may open it itself. */
  readonly segmentsIdb?: { readonly name: string; readonly durability: 'relaxed' | 'strict' };
}

/**
 * Merges `inputs` (segments of partition `user` of `t`) into new level 1
 * segments written in status in_progress; 'aborted' (nothing left behind)
 * when cancelled. In the compaction helper worker when the engine has one
 * and the table's values cross threads as they are (compact-offload.ts),
 * else here.
 */
export async function mergeSegments(ctx: MergeContext, codec: SegmentCodec, t: TableDef, user: string, inputs: readonly SegmentMeta[], o: MergeOptions): Promise<MergeResult | 'aborted'> {
  const encode = await loadSegmentEncode();
  const rowPageRows = codec.pageRowsFor(t, ctx.cold.options.rowPageRows);
  const offloaded = await offloadMerge(
    {
      cold: ctx.cold,
      seq: ctx.seq,
      commit: (unit) => ctx.commit(unit),
      writeOutput: (meta, bytes) => writeOutput(ctx, encode, meta, bytes, () => o.slice.pause()),
      idb: ctx.segmentsIdb,
      removeOutput: (meta) => removeOutput(ctx, meta),
    },
    t,
    user,
    inputs,
    rowPageRows,
    o,
  );
  if (offloaded !== undefined) return offloaded;
  return mergeRows(inlineIo(ctx, codec, encode, t, user, rowPageRows, o), codec, encode, t, user, inputs, o);
}

/** A merge's reads and writes in the engine's thread: inputs through the cache (ColdTier.readGroup), outputs encoded and written here. */
function inlineIo(ctx: MergeContext, codec: SegmentCodec, encode: SegmentEncode, t: TableDef, user: string, rowPageRows: number, o: MergeOptions): MergeIo {
  const { rowGroupRows, maxSegmentRows } = ctx.cold.options;
  return {
    rowGroupRows,
    maxSegmentRows,
    rowPageRows,
    readGroup: (meta, g) => ctx.cold.readGroup(meta, g, t),
    async writeSegment(encoded) {
      // Not a flush output: no hot rows to purge after it (recovery must not look for any).
      const pending = encode.pendingSegment(`S${ctx.seq.next()}`, t, user, { level: 1, hot_purged: true });
      const meta = encode.segmentMeta(pending, t, encoded, codec, rowPageRows);
      return writeOutput(ctx, encode, meta, encode.segmentBytes(codec, t, meta, encoded), () => o.slice.pause());
    },
    removeSegment: (meta) => removeOutput(ctx, meta),
  };
}

/** Writes an output segment built from its bytes: the entry first (in_progress: read by no one; open removes it and whatever bytes a crash left), then its bytes; on a failure, removes what it wrote. */
export async function writeOutput(ctx: SegmentWriter, encode: SegmentEncode, meta: SegmentMeta, bytes: readonly Uint8Array[] | undefined, pause: () => Promise<void>): Promise<SegmentMeta> {
  await ctx.commit({ state: [entryChange(ctx.cold, meta)] });
  ctx.cold.compaction.outputs.add(meta.id);
  // A compaction helper writes these bytes itself.
  if (!bytes) return meta;
  try {
    await encode.putSegmentBytes(ctx, meta, bytes, pause);
  } catch (e) {
    // Not an output yet: removed here (now if storage lets it, else at the next open).
    await removeOutput(ctx, meta).catch(() => undefined);
    throw e;
  }
  return meta;
}

/**
 * Steps 1 to 3 of a compaction for the merges compact.ts planned: each
 * group merged into level 1 outputs, swapped in (one commit, under the
 * write lock, abandoned when `unchanged` says the partition changed), and
 * its inputs deleted once no execution reads them. Adds to `outcome`;
 * `expected` follows the partition's segment ids as they change.
 */
export async function mergeAndSwap(
  engine: CompactContext,
  t: TableDef,
  user: string,
  merges: readonly (readonly SegmentMeta[])[],
  options: CompactPartitionOptions & { cutoffMs: number },
  outcome: CompactOutcome,
  expected: Set<string>,
  unchanged: () => boolean,
): Promise<CompactOutcome> {
  const { cold } = engine;
  const codec = await loadSegmentCodec();
  const slice = new TimeSlice(COMPACT_SLICE_MS, true);
  const { cutoffMs } = options;
  for (const inputs of merges) {
    if (options.isCancelled?.()) return { ...outcome, aborted: true };
    const merged = await mergeSegments(engine, codec, t, user, inputs, {
      cutoffMs,
      slice,
      isCancelled: options.isCancelled,
      collectPurged: engine.hasLiveReaders?.(t.id, user) ?? false,
    });
    if (merged === 'aborted') return { ...outcome, aborted: true };
    if (options.stopAfter === 1) return outcome;
    let generation: number | undefined;
    try {
      generation = await swap(engine, t, user, inputs, merged, unchanged);
    } catch (e) {
      // Not swapped (the commit failed): the outputs go now if storage lets them, else at the next open.
      for (const m of merged.outputs) await removeOutput(engine, m).catch(() => undefined);
      throw e;
    }
    if (generation === undefined) {
      for (const m of merged.outputs) await removeOutput(engine, m);
      return { ...outcome, aborted: true };
    }
    for (const m of inputs) expected.delete(m.id);
    for (const m of merged.outputs) expected.add(m.id);
    outcome.rowsRead += merged.rowsRead;
    outcome.rowsShadowed += merged.rowsShadowed;
    outcome.tombstonesPurged += merged.tombstonesPurged;
    outcome.segmentsMerged += inputs.length;
    outcome.segmentsWritten += merged.outputs.length;
    if (options.stopAfter === 2) return outcome;
    // 3. Executions prepared before the swap may still load the inputs' row groups: let them finish first.
    await cold.drain(generation);
    await deleteObsolete(engine, inputs);
  }
  cold.compaction.runs++;
  return outcome;
}

/**
 * Step 2, under the write lock: the outputs committed, the inputs obsolete,
 * in one commit; resolves with the manifest generation after it, or
 * undefined when the compaction must be abandoned (nothing committed).
 */
async function swap(engine: CompactContext, t: TableDef, user: string, inputs: readonly SegmentMeta[], merged: MergeResult, unchanged: () => boolean): Promise<number | undefined> {
  const { cold } = engine;
  return engine.exclusive(async () => {
    if (!unchanged()) return undefined;
    const outputs = merged.outputs.map((m): SegmentMeta => ({ ...m, status: 'committed' }));
    const obsolete = inputs.map((m): SegmentMeta => ({ ...m, status: 'obsolete' }));
    // Dropped tombstones leave the results of queries that name _deleted: live queries are told, except
    // for keys whose current version is hot (newer). Not all kept: those readers re-run instead.
    const hot = engine.hot.partition(t.id, user);
    const purged = (merged.complete ? merged.purged : merged.newestPurged ? [merged.newestPurged] : []).filter((c) => !hot?.get(c.pkHash));
    const rerun = merged.tombstonesPurged > 0 && !merged.complete && (engine.hasLiveReaders?.(t.id, user) ?? false);
    await engine.commit({
      state: [{
        writes: [...outputs.map((m) => cold.manifest.entryWrite(m)), ...obsolete.map((m) => cold.manifest.entryWrite(m))],
        apply: () => {
          for (const m of inputs) cold.manifest.remove(m);
          for (const m of outputs) cold.manifest.add(m);
          cold.manifest.obsolete.push(...obsolete);
          for (const m of outputs) cold.compaction.outputs.delete(m.id);
          cold.cache.forget(new Set(inputs.map((m) => m.id)));
          const k = cold.compaction;
          k.segmentsMerged += inputs.length;
          k.segmentsWritten += outputs.length;
          k.rowsRead += merged.rowsRead;
          k.rowsShadowed += merged.rowsShadowed;
          k.tombstonesPurged += merged.tombstonesPurged;
        },
      }],
      purged,
      altered: rerun ? [t.id] : undefined,
    });
    return cold.manifest.generation;
  });
}

/** Removes an output that was never swapped in (its bytes, then its entry). */
export async function removeOutput(engine: SegmentWriter, m: SegmentMeta): Promise<void> {
  await removeEntry(engine, m);
  engine.cold.compaction.outputs.delete(m.id);
}

const emptyOutcome = (): CompactOutcome => ({ rowsRead: 0, rowsShadowed: 0, tombstonesPurged: 0, segmentsMerged: 0, segmentsWritten: 0, segmentsMoved: 0, aborted: false });

/** Compacts one partition as planned now (compact-plan.ts). */
export async function compactPartition(engine: CompactContext, t: TableDef, user: string, options: CompactPartitionOptions = {}): Promise<CompactOutcome> {
  const { cold } = engine;
  const outcome = emptyOutcome();
  const now = options.now ?? Date.now();
  const inputs = planInputs(engine, t, user, now, options.rewriteUnknown ?? false);
  const plan = inputs && planCompaction(...inputs);
  if (!plan || plan.merges.length + plan.moves.length === 0) return outcome;
  /** The partition's segment ids as this compaction expects them; any other change abandons it. */
  const expected = new Set(cold.manifest.segments(t.id, user).map((m) => m.id));
  const unchanged = () => {
    if (engine.catalog.tableById(t.id) !== t || options.isCancelled?.()) return false;
    const current = cold.manifest.segments(t.id, user);
    return current.length === expected.size && current.every((m) => expected.has(m.id));
  };
  if (plan.moves.length > 0) {
    const moved = await engine.exclusive(async () => {
      if (!unchanged()) return false;
      const metas = plan.moves.map((m): SegmentMeta => ({ ...m, level: 1 }));
      await engine.commit({
        state: [{ writes: metas.map((m) => cold.manifest.entryWrite(m)), apply: () => metas.forEach((m) => cold.manifest.add(m, false)) }],
      });
      return true;
    });
    if (!moved) return { ...outcome, aborted: true };
    outcome.segmentsMoved += plan.moves.length;
    cold.compaction.segmentsMoved += plan.moves.length;
  }
  if (plan.merges.length === 0) {
    cold.compaction.runs++;
    return outcome;
  }
  return mergeAndSwap(engine, t, user, plan.merges, { ...options, now, cutoffMs: retentionCutoff(t, now) }, outcome, expected, unchanged);
}

/** The work of one compact job: each partition the trigger makes due, one after another. */
export async function compactTableJob(engine: CompactContext, tableId: number, trigger: CompactTrigger, record: JobRecord, isKilled: () => boolean, at?: number): Promise<void> {
  const t = engine.catalog.tableById(tableId);
  if (!t) {
    record.status = 'skipped';
    record.message = 'Skipped: the table was dropped before the compaction started';
    record.finished_at = Date.now();
    return;
  }
  // KILL JOB, or close(): a long merge is abandoned rather than finished first.
  const isCancelled = () => isKilled() || engine.jobs.stopped;
  // Obsolete segments whose deletion failed earlier (a storage error) go first.
  const stale = engine.cold.manifest.obsolete.filter((m) => m.table_id === tableId);
  if (stale.length > 0) {
    await engine.cold.drain(engine.cold.manifest.generation);
    await deleteObsolete(engine, stale);
  }
  const total = emptyOutcome();
  let partitions = 0;
  for (const user of [...engine.cold.manifest.partitions(t.id).keys()]) {
    if (isCancelled() || engine.catalog.tableById(tableId) !== t) break;
    const now = at ?? Date.now();
    if (!isDue(engine, t, user, trigger, now)) continue;
    const done = await compactPartition(engine, t, user, { isCancelled, now, rewriteUnknown: trigger === 'manual' });
    for (const k of ['rowsRead', 'rowsShadowed', 'tombstonesPurged', 'segmentsMerged', 'segmentsWritten', 'segmentsMoved'] as const) total[k] += done[k];
    if (done.segmentsMerged + done.segmentsMoved > 0) partitions++;
    if (done.aborted) {
      total.aborted = true;
      break;
    }
  }
  record.rows_affected = total.rowsRead;
  const what =
    `${total.segmentsMerged} segment(s) of ${q(t)} merged into ${total.segmentsWritten} (${total.rowsRead} row(s) read, ` +
    `${total.rowsShadowed} shadowed version(s) and ${total.tombstonesPurged} expired tombstone(s) dropped), ` +
    `${total.segmentsMoved} segment(s) moved to level 1, in ${partitions} partition(s)`;
  if (isKilled()) record.message = `Cancelled by KILL JOB after compacting ${what}`;
  else if (engine.jobs.stopped && total.aborted) {
    record.status = 'cancelled';
    record.message = `Cancelled: the database closed during the compaction (${what})`;
    record.finished_at = Date.now();
  }
  else if (total.aborted) record.message = `Stopped early: table ${q(t)} was dropped or altered, or its segments changed (${what})`;
  else record.message = `Compacted ${what}`;
}
