/**
 * The one commit path. Every change to durable state is a UnitOfWork
 * (storage/unit-of-work.ts) applied here — the only code that calls
 * `KvStore.commit` outside storage tests — in the order that module states:
 * segment bytes first, one KV commit, then memory, then invalidation, then
 * live publication, then segment bytes no longer referred to.
 *
 * Writes are serialized by `exclusive` (the write lock): a unit with row or
 * hot-tier changes must be committed while holding it, because the hot
 * tier stages page writes from its current memory and applies them after
 * the commit.
 */
import { seqAtMillis } from '../core/ids';
import { deletedSlot, seqSlot, type RowChange, type TableDef } from '../core/schema';
import type { LiveRegistry, CommitGroups } from '../live/registry';
import type { ColdTier } from '../storage/cold/cold-tier';
import { segmentRefOf, type SegmentMeta } from '../storage/cold/types';
import { storeOf, type HotChange, type HotTier } from '../storage/hot-tier';
import type { KvStore, KvWrite } from '../storage/kv';
import type { UnitOfWork } from '../storage/unit-of-work';

/** What a commit changes besides storage. */
export interface CommitTargets {
  readonly kv: KvStore;
  readonly hot: HotTier;
  readonly cold: ColdTier;
  readonly plans: { invalidateTables(tableIds: readonly number[]): void };
  readonly live: LiveRegistry;
}

/** Row changes as the hot tier stages them. */
function* hotChanges(rows: readonly RowChange[] | undefined, hot: readonly HotChange[] | undefined): Generator<HotChange> {
  if (rows) for (const c of rows) yield { tableId: c.table.id, user: c.user, pkHash: c.pkHash, key: c.pk, row: c.row, store: storeOf(c.table), deletedSlot: deletedSlot(c.table) };
  if (hot) yield* hot;
}

export class Committer {
  /**
   * The newest `_seq` committed (at open: the newest stored). A live
   * delivery reflects every commit up to it, so a client that reconnects
   * passes it back as `from` to resume.
   */
  committedSeq = 0n;
  /** Storage commits made. */
  commits = 0;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly targets: CommitTargets) {}

  /** Runs `fn` after every earlier exclusive run finished: writes are serialized. */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Settles once every exclusive run queued so far has finished. */
  async drained(): Promise<void> {
    await this.chain;
  }

  /** Records a `_seq` found in storage at open. */
  observe(seq: bigint): void {
    if (seq > this.committedSeq) this.committedSeq = seq;
  }

  /** Applies one unit of work (see storage/unit-of-work.ts). A unit that changes nothing commits nothing. */
  async commit(unit: UnitOfWork): Promise<void> {
    const { kv, hot, cold, plans, live } = this.targets;
    const store = cold.store;
    const dropped = unit.dropTables ?? [];
    const droppedSegments: SegmentMeta[] = [];
    for (const t of dropped) for (const list of cold.manifest.partitions(t.id).values()) droppedSegments.push(...list);
    const removedBytes = [...(unit.segments?.delete ?? []), ...droppedSegments.map(segmentRefOf)];

    const writes: KvWrite[] = [];
    for (const p of unit.segments?.put ?? []) {
      if (store.write) for (const w of store.write(p.key, p.groups)) writes.push(w);
      else await store.put!(p.key, p.groups); // durable before the commit that refers to it
    }
    for (const s of unit.state ?? []) for (const w of s.writes) writes.push(w);
    for (const t of dropped) for (const w of hot.deleteWrites(t.id, storeOf(t))) writes.push(w);
    for (const m of droppedSegments) writes.push(cold.manifest.deleteWrite(m));
    const staged = hot.stage(hotChanges(unit.rows, unit.hot));
    for (const w of staged.writes) writes.push(w);
    if (store.remove) for (const ref of removedBytes) for (const w of store.remove(ref)) writes.push(w);
    if (writes.length === 0) {
      // Only bytes to delete, outside the KV store (an unfinished segment's files): nothing to commit first.
      if (!store.remove && removedBytes.length > 0) await store.delete!(removedBytes);
      return;
    }

    await kv.commit(writes);
    this.commits++;

    // Committed: memory follows, with no await until live publication.
    staged.apply();
    for (const s of unit.state ?? []) s.apply();
    for (const t of dropped) {
      hot.dropTable(t.id);
      const gone = cold.manifest.dropTable(t.id);
      if (gone.length > 0) cold.cache.forget(new Set(gone.map((m) => m.id)));
    }
    const invalidated = [...(unit.altered ?? []), ...dropped.map((t) => t.id)];
    if (invalidated.length > 0) plans.invalidateTables(invalidated);
    for (const id of unit.altered ?? []) live.tableAltered(id); // every live query on it re-runs (and re-plans)
    if (dropped.length > 0) live.dropTables(dropped as TableDef[]);
    const published = unit.purged && unit.purged.length > 0 ? [...(unit.rows ?? []), ...unit.purged] : unit.rows;
    if (published && published.length > 0) this.publish(published);

    if (!store.remove && removedBytes.length > 0) await store.delete!(removedBytes); // nothing refers to them any more
  }

  private publish(rows: readonly RowChange[]): void {
    const groups: CommitGroups = new Map();
    for (const c of rows) {
      if (c.row !== null) this.observe(c.row[seqSlot(c.table)] as bigint);
      let byUser = groups.get(c.table.id);
      if (!byUser) groups.set(c.table.id, (byUser = new Map()));
      let list = byUser.get(c.user);
      if (!list) byUser.set(c.user, (list = []));
      list.push(c);
    }
    const now = Date.now();
    this.targets.live.publish(groups, now, seqAtMillis(now + 1));
  }
}
