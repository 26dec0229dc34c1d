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
 *
 * A commit that times out (STORAGE_TIMEOUT, storage/guarded-store.ts) is
 * "in doubt": the storage may still complete it. Memory must never disagree
 * with disk, so until its outcome is known nothing else is committed — the
 * next writes (each exclusive run, each commit) wait for it, at most
 * storageTimeoutMs after it timed out, then fail with STORAGE_TIMEOUT at
 * once, writing nothing. When it settles: completed, its memory steps (3–5)
 * run then, under the write lock, exactly as they would have on time — no
 * other commit reached the storage in between, so memory follows disk;
 * failed, nothing of it was written and nothing changes. Either way writes
 * work again. Reads go on from memory meanwhile (what was committed before
 * it). After close, a late completion is only on disk: the next open reads it.
 */
import { seqAtMillis } from '../core/ids';
import { deletedSlot, seqSlot, type RowChange, type TableDef } from '../core/schema';
import type { LiveRegistry, CommitGroups } from '../live/registry';
import type { ColdTier } from '../storage/cold/cold-tier';
import { segmentRefOf, type SegmentMeta, type SegmentRef } from '../storage/cold/types';
import { storeOf, type HotChange, type HotTier } from '../storage/hot-tier';
import { KalamError } from '../core/errors';
import { lateOutcome } from '../storage/guarded-store';
import type { KvStore, KvWrite } from '../storage/kv';
import type { StateChange, UnitOfWork } from '../storage/unit-of-work';

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

const hasFile = (t: TableDef) => t.columns.some((c) => c.type === 'FILE');

/** Whether a unit changes rows of (or drops) a table with a FILE column. */
function touchesFiles(unit: UnitOfWork): boolean {
  let last: TableDef | undefined;
  for (const c of unit.rows ?? []) if (c.table !== last && hasFile((last = c.table))) return true;
  return (unit.dropTables ?? []).some(hasFile);
}

/** A commit that timed out: its outcome arrives later (see the header). */
interface InDoubt {
  /** true: the storage completed it after all; false: it failed. Never rejects. */
  readonly outcome: Promise<boolean>;
  /** Set once `outcome` settles. */
  landed: boolean | undefined;
  /** Its memory steps, run if it landed. */
  readonly apply: () => void;
  /** performance.now() after which later writes stop waiting for it. */
  readonly waitUntil: number;
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
  /** Commits that failed with STORAGE_TIMEOUT. */
  timeouts = 0;
  /** Timed-out commits the storage completed later (applied then). */
  lateCommits = 0;
  /**
   * Topic messages of a unit's row changes (execute/topic-log.ts), written
   * in the same storage commit as the rows and applied with them; set once
   * the database has topics.
   */
  router: { route(rows: readonly RowChange[], now: number): StateChange | undefined } | undefined;
  /**
   * FILE columns (execute/files.ts): the file records a unit's row changes
   * add and remove, in the same storage commit; set once the file code is
   * loaded, which `attachFiles` does before the first unit touching a table
   * with a FILE column.
   */
  declare files: { stage(unit: UnitOfWork): Promise<StateChange | undefined>; check(rows: readonly RowChange[]): void } | undefined;
  declare attachFiles: (() => Promise<unknown>) | undefined;
  /** Vector indexes (execute/vector-index.ts): told every committed row change; set once they load. */
  declare vectors: { apply(rows: readonly RowChange[]): void } | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** Timed-out commits whose outcome is not reconciled yet, oldest first; bounded: a commit is only made once these settle (a few concurrent ones at most). */
  private doubts: InDoubt[] = [];
  private isClosed = false;

  constructor(
    private readonly targets: CommitTargets,
    /** How long writes wait for a timed-out commit's outcome (storageTimeoutMs). */
    private readonly storageTimeoutMs: number = 30_000,
  ) {}

  /** Runs `fn` after every earlier exclusive run finished: writes are serialized. */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    // Before a write computes anything, a timed-out commit is reconciled (or the write fails).
    const go = () => (this.doubts.length > 0 ? this.settleDoubts().then(fn) : fn());
    const run = this.chain.then(go, go);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Timed-out commits whose outcome is still unknown. */
  get inDoubt(): number {
    return this.doubts.length;
  }

  /** The engine closed: a late completion is left to the next open. */
  close(): void {
    this.isClosed = true;
  }

  /** Settles once every exclusive run queued so far has finished. */
  async drained(): Promise<void> {
    await this.chain;
  }

  /** Records a `_seq` found in storage at open. */
  observe(seq: bigint): void {
    if (seq > this.committedSeq) this.committedSeq = seq;
  }

  /** One statement's FILE values checked before it joins a group commit (Files.check): its own failure, not the group's. */
  vet(rows: readonly RowChange[]): Promise<void> | undefined {
    if (!touchesFiles({ rows })) return undefined; // no await for a statement without files
    return (async () => {
      if (!this.files && this.attachFiles) await this.attachFiles();
      this.files?.check(rows);
    })();
  }

  /** Applies one unit of work (see storage/unit-of-work.ts). A unit that changes nothing commits nothing. */
  async commit(unit: UnitOfWork): Promise<void> {
    if (this.doubts.length > 0) await this.settleDoubts();
    const routed = this.router && unit.rows && unit.rows.length > 0 && !unit.isCleanup ? this.router.route(unit.rows, Date.now()) : undefined;
    if (routed) unit = { ...unit, state: [...(unit.state ?? []), routed] };
    if (!this.files && this.attachFiles && touchesFiles(unit)) await this.attachFiles();
    const filed = await this.files?.stage(unit);
    if (filed) unit = { ...unit, state: [...(unit.state ?? []), filed] };
    const { kv, hot, cold } = this.targets;
    const store = cold.store;
    const dropped = unit.dropTables ?? [];
    const droppedSegments: SegmentMeta[] = [];
    for (const t of dropped) for (const list of cold.manifest.partitions(t.id).values()) droppedSegments.push(...list);
    const removedBytes = [...(unit.segments?.delete ?? []), ...droppedSegments.map(segmentRefOf)];

    const writes: KvWrite[] = [];
    for (const p of unit.segments?.put ?? []) {
      if (store.write) for (const w of store.write(p.key, p.groups, p.first)) writes.push(w);
      else if (p.first) throw new KalamError('INTERNAL', `Internal error: a slice of segment ${p.key.segmentId} was written to a file segment store, which writes a segment whole. This is a bug in kalamlite; please report it.`);
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

    try {
      await kv.commit(writes);
    } catch (e) {
      const late = lateOutcome(e);
      if (late) this.enterDoubt(late, () => this.applyCommitted(unit, staged.apply, dropped, removedBytes, true));
      throw e;
    }
    this.applyCommitted(unit, staged.apply, dropped, removedBytes, false);
    if (!store.remove && removedBytes.length > 0) await store.delete!(removedBytes); // nothing refers to them any more
  }

  /** Steps 3–5 of a committed unit (and, for a late one, step 6 too). No await until live publication. */
  private applyCommitted(unit: UnitOfWork, applyStaged: () => void, dropped: readonly TableDef[], removedBytes: readonly SegmentRef[], isLate: boolean): void {
    const { hot, cold, plans, live } = this.targets;
    this.commits++;
    applyStaged();
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
    if (published && published.length > 0) {
      this.vectors?.apply(published);
      this.publish(published);
    }
    // Late: nothing waits for this; bytes a deletion misses stay unreferenced.
    if (isLate && !cold.store.remove && removedBytes.length > 0) cold.store.delete!(removedBytes).catch(() => undefined);
  }

  private enterDoubt(outcome: Promise<boolean>, apply: () => void): void {
    this.timeouts++;
    const doubt: InDoubt = { outcome, landed: undefined, apply, waitUntil: performance.now() + this.storageTimeoutMs };
    this.doubts.push(doubt);
    void outcome.then((landed) => {
      doubt.landed = landed;
      // Reconciled under the write lock: no write is computing its changes meanwhile.
      this.exclusive(() => undefined).catch(() => undefined);
    });
  }

  /**
   * Waits for the timed-out commits' outcomes (until the last one's wait
   * ends) and reconciles those that settled: a completed one's memory steps
   * run now. Throws STORAGE_TIMEOUT, writing nothing, while one is still
   * unknown.
   */
  private async settleDoubts(): Promise<void> {
    const pending = this.doubts.filter((d) => d.landed === undefined);
    if (pending.length > 0) {
      const wait = Math.max(...pending.map((d) => d.waitUntil)) - performance.now();
      if (wait > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          Promise.all(pending.map((d) => d.outcome)),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, wait);
            (timer as { unref?: () => void }).unref?.();
          }),
        ]);
        clearTimeout(timer);
      }
    }
    // Oldest first; another waiter may have reconciled some meanwhile.
    while (this.doubts.length > 0 && this.doubts[0].landed !== undefined) {
      const d = this.doubts.shift()!;
      if (d.landed && !this.isClosed) {
        this.lateCommits++;
        d.apply();
      }
    }
    if (this.doubts.length > 0) {
      throw new KalamError(
        'STORAGE_TIMEOUT',
        `An earlier write timed out and the storage has still not completed or failed it, so this write was not saved (nothing of it was written): memory must not get ahead of what is on disk. Writes resume once the storage answers; reads go on meanwhile. If the storage stays silent, close and reopen the database.`,
      );
    }
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
