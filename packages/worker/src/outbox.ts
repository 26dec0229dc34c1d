import type { KalamErrorShape, Row, Value } from '@kalamlite/engine';
import type { ChangeSet, ClientStats, HostLimits, LiveChange, LiveEvent, LiveListener } from './protocol';
import { diffRows } from './row-patch';

/** What is waiting to be sent for one subscription. */
interface Outgoing {
  id: number;
  /** The result the client holds (the base of the next patch); undefined before the first. */
  sent: readonly Row[] | undefined;
  /** The newest result from the engine; the engine's own immutable array, not a copy. */
  latest: readonly Row[] | undefined;
  /**
   * Changes since `sent`, or null when they were collapsed (or unknown):
   * send `latest` whole. `deletedOld[i]` is the engine's row that
   * `deleted[i]` removed (undefined where it did not say): kept here to
   * find its index in `sent`, never sent itself.
   */
  changes: { inserted: Row[]; updated: { row: Row; old: Row }[]; deleted: Value[]; deletedOld: (Row | undefined)[] } | null;
  /** Entries in `changes`; counted against maxPendingChanges. */
  count: number;
  resumed: boolean | undefined;
  hasMore: boolean | undefined;
  isCollapsed: boolean;
  error: KalamErrorShape | undefined;
  /** The engine's committed `_seq` as of `latest` (see LiveEvent.seq). */
  seq: bigint | undefined;
}

/**
 * The host side of one client's live deliveries: a bounded per-client queue.
 * Each engine delivery is recorded against its subscription; once per tick
 * (one commit's notifications run synchronously) everything pending goes to
 * the client as one batch, and the next batch waits until the client
 * acknowledges the previous one (its listener's promise settles). While it
 * waits, changes pile up — at most `maxPendingChanges` of them; past that
 * the subscription holding the most collapses into one fresh result of
 * its query. Memory stays bounded and nothing is lost: the client always
 * ends with the engine's latest result.
 */
export class LiveOutbox {
  // Owner: this outbox; one entry per open subscription (bounded by the
  // host's maxSubscriptions), removed by `remove`/`clear`.
  private readonly subscriptions = new Map<number, Outgoing>();
  // Owner: `flush`; subscriptions with something to send, in arrival order; a subset of `subscriptions`.
  private readonly dirty = new Set<Outgoing>();
  private pending = 0;
  private isAwaitingAck = false;
  private isFlushScheduled = false;
  private readonly counters = { batches: 0, patches: 0, snapshots: 0, collapses: 0, pendingChangesPeak: 0 };

  constructor(
    private readonly listener: LiveListener,
    private readonly limits: HostLimits,
  ) {}

  add(id: number): void {
    this.subscriptions.set(id, {
      id,
      sent: undefined,
      latest: undefined,
      changes: null,
      count: 0,
      resumed: undefined,
      hasMore: undefined,
      isCollapsed: false,
      error: undefined,
      seq: undefined,
    });
  }

  remove(id: number): void {
    const out = this.subscriptions.get(id);
    if (out === undefined) return;
    this.pending -= out.count;
    this.dirty.delete(out);
    this.subscriptions.delete(id);
  }

  clear(): void {
    this.subscriptions.clear();
    this.dirty.clear();
    this.pending = 0;
  }

  /** Records an engine delivery. `change` (and `seq`) are undefined from an engine that does not report them. */
  push(id: number, rows: readonly Row[], change: LiveChange | undefined, seq?: bigint): void {
    const out = this.subscriptions.get(id);
    if (out === undefined) return;
    // A first delivery that is a change set resumed a `from`: the client
    // holds its own copy of the result (from an earlier host), so the
    // changes go with the whole result, marked resumed.
    // Stryker disable next-line ConditionalExpression: `latest` is set whenever `sent` is, so `sent === undefined` adds nothing once `latest === undefined` holds
    const isResume = change?.kind === 'changes' && out.sent === undefined && out.latest === undefined;
    if (isResume) out.resumed = true;
    // Changes can be queued only on top of a result the client holds:
    // either changes are already queued (sent → latest) or nothing is.
    const canRecord = change?.kind === 'changes' && (isResume || (out.sent !== undefined && (out.changes !== null || out.latest === out.sent)));
    out.latest = rows;
    out.seq = seq;
    if (canRecord) {
      this.record(out, change);
    } else {
      this.dropChanges(out);
      if (change?.kind === 'snapshot') {
        if (change.resumed !== undefined) out.resumed = change.resumed;
        out.hasMore = change.hasMore;
      }
    }
    this.markDirty(out);
  }

  error(id: number, error: KalamErrorShape): void {
    const out = this.subscriptions.get(id);
    if (out === undefined) return;
    out.error = error;
    this.markDirty(out);
  }

  stats(): ClientStats {
    return {
      subscriptions: this.subscriptions.size,
      maxSubscriptions: this.limits.maxSubscriptions,
      pendingChanges: this.pending,
      maxPendingChanges: this.limits.maxPendingChanges,
      pendingSubscriptions: this.dirty.size,
      isAwaitingAck: this.isAwaitingAck,
      ...this.counters,
    };
  }

  private record(out: Outgoing, change: ChangeSet & { deletedRows?: readonly { key: Value; old: Row | undefined }[] }): void {
    const size = change.inserted.length + change.updated.length + change.deleted.length;
    // Make room: collapse the subscriptions holding the most changes, this one included.
    while (this.pending + size > this.limits.maxPendingChanges) {
      const largest = this.largestPending(out, size);
      this.collapse(largest);
      if (largest === out) return;
    }
    out.changes ??= { inserted: [], updated: [], deleted: [], deletedOld: [] };
    for (const row of change.inserted) out.changes.inserted.push(row);
    for (const entry of change.updated) out.changes.updated.push(entry);
    for (let i = 0; i < change.deleted.length; i++) {
      out.changes.deleted.push(change.deleted[i]);
      out.changes.deletedOld.push(change.deletedRows?.[i]?.old);
    }
    out.count += size;
    this.pending += size;
    // Stryker disable next-line EqualityOperator: on equality both branches leave the same peak
    if (this.pending > this.counters.pendingChangesPeak) this.counters.pendingChangesPeak = this.pending;
  }

  /** The subscription that would hold the most changes if `candidate` took `size` more. */
  private largestPending(candidate: Outgoing, size: number): Outgoing {
    let largest = candidate;
    let most = candidate.count + size;
    for (const out of this.dirty) {
      // The candidate itself never counts more than `most` (its count plus `size`).
      if (out.count > most) {
        largest = out;
        most = out.count;
      }
    }
    return largest;
  }

  /** A collapsed subscription records no more changes until it is drained (`push` finds its `changes` null). */
  private collapse(out: Outgoing): void {
    this.counters.collapses++;
    this.dropChanges(out);
    out.isCollapsed = true;
  }

  private dropChanges(out: Outgoing): void {
    this.pending -= out.count;
    out.count = 0;
    out.changes = null;
  }

  private markDirty(out: Outgoing): void {
    this.dirty.add(out);
    if (this.isFlushScheduled || this.isAwaitingAck) return;
    // Stryker disable next-line BooleanLiteral: saves microtasks only — a second flush of the same tick finds nothing dirty and sends nothing
    this.isFlushScheduled = true;
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.isFlushScheduled = false;
    // Called from the microtask `markDirty` schedules (never while a batch awaits its
    // acknowledgement) or once the acknowledgement came.
    const events: LiveEvent[] = [];
    for (const out of this.dirty) this.drain(out, events);
    this.dirty.clear();
    this.pending = 0;
    if (events.length === 0) return;
    this.counters.batches++;
    this.isAwaitingAck = true;
    let acknowledged: Promise<unknown>;
    try {
      acknowledged = Promise.resolve(this.listener(events));
    } catch (e) {
      acknowledged = Promise.reject(e);
    }
    // A failed delivery (the page went away) counts as acknowledged: the
    // queue must not stall on it; whoever closes the client clears it.
    const next = () => {
      this.isAwaitingAck = false;
      this.flush(); // sends what piled up meanwhile, if anything
    };
    acknowledged.then(next, next);
  }

  /** Turns what is pending for `out` into at most two events (a result, then an error). */
  private drain(out: Outgoing, events: LiveEvent[]): void {
    const latest = out.latest;
    // Stryker disable next-line ConditionalExpression: `latest` is undefined only before the first result, when `sent` is undefined too
    if (latest !== undefined && latest !== out.sent) {
      const patch = this.patchEvent(out, latest);
      if (patch !== undefined) {
        events.push(patch);
        this.counters.patches++;
      } else {
        const event: Extract<LiveEvent, { kind: 'snapshot' }> = { kind: 'snapshot', id: out.id, rows: latest };
        if (out.changes !== null) {
          event.changes = wireChanges(out.changes);
          const at = deletedAt(out.changes.deletedOld, out.sent);
          if (at !== undefined) event.deletedAt = at;
        }
        if (out.resumed !== undefined) event.resumed = out.resumed;
        if (out.hasMore) event.hasMore = true;
        if (out.isCollapsed) event.collapsed = true;
        if (out.seq !== undefined) event.seq = out.seq;
        events.push(event);
        this.counters.snapshots++;
      }
      out.sent = latest;
    }
    if (out.error !== undefined) events.push({ kind: 'error', id: out.id, error: out.error });
    out.changes = null;
    out.count = 0;
    out.resumed = undefined;
    out.hasMore = undefined;
    out.isCollapsed = false;
    out.error = undefined;
  }

  /** `latest` as a patch of what the client holds, when the changes are known and the patch is smaller than the result. */
  private patchEvent(out: Outgoing, latest: readonly Row[]): Extract<LiveEvent, { kind: 'patch' }> | undefined {
    if (out.changes === null || out.sent === undefined) return undefined;
    const patch = diffRows(out.sent, latest);
    if (patch === undefined || patch.added.length + patch.removed.length >= latest.length) return undefined;
    const event: Extract<LiveEvent, { kind: 'patch' }> = { kind: 'patch', id: out.id, length: patch.length, removed: patch.removed, added: patch.added, rows: patch.rows, changes: wireChanges(out.changes) };
    const at = deletedAt(out.changes.deletedOld, out.sent, patch.removed);
    if (at !== undefined) event.deletedAt = at;
    if (out.seq !== undefined) event.seq = out.seq;
    return event;
  }
}

/** The changes as they go to the client (the engine's old rows stay here). */
function wireChanges(changes: NonNullable<Outgoing['changes']>): ChangeSet {
  return { inserted: changes.inserted, updated: changes.updated, deleted: changes.deleted };
}

/**
 * Where each deleted row is in the result the client holds (`sent`, the
 * engine's objects it was last sent), or -1; undefined when nothing was
 * deleted or the engine named no old row. A patch names the only indices
 * a deleted row can be at (`removed`): only those are looked at.
 */
function deletedAt(old: readonly (Row | undefined)[], sent: readonly Row[] | undefined, removed?: readonly number[]): number[] | undefined {
  if (old.length === 0 || sent === undefined || old.every((r) => r === undefined)) return undefined;
  // Lives for this call: row object → index in `sent`.
  const index = new Map<Row, number>();
  if (removed !== undefined) for (const i of removed) index.set(sent[i], i);
  else for (let i = 0; i < sent.length; i++) index.set(sent[i], i);
  return old.map((r) => (r === undefined ? -1 : index.get(r) ?? -1));
}
