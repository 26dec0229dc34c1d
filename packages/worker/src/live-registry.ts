import { freezeJson, KalamError, type Row, type Value } from '@kalamlite/engine';
import { rowKey } from './content-key';
import type { ChangeSet, DeletedRow, LiveChange, LiveEvent } from './protocol';
import { applyPatch } from './row-patch';
import { shareRows } from './share';

export type LiveCallback = (rows: readonly Row[], change: LiveChange) => unknown;
export type LiveErrorCallback = (error: KalamError) => void;

interface Listener {
  onChange: LiveCallback;
  onError: LiveErrorCallback | undefined;
}

interface Subscription {
  /** Every live() call sharing this subscription (identical query, parameters and session); at least one. */
  listeners: Listener[];
  /** The client's copy of the result: the base the next patch applies to. */
  rows: readonly Row[] | undefined;
  /** The `_seq` `rows` reflects every commit up to (see LiveEvent.seq); undefined until a complete result. */
  seq: bigint | undefined;
  /** Started again on a new host: its next result is the resumed one (or a fresh snapshot, flagged resumed: false). */
  isResuming: boolean;
  /** It reported an error (the host ended it): no new listener joins it. */
  isFailed: boolean;
}

const EMPTY: readonly Row[] = Object.freeze([]);
/** What a listener joining an open subscription is told with the current result. */
const JOINED: LiveChange = Object.freeze({ kind: 'snapshot' as const });

/**
 * The client-side live registry: applies each batch of events (one message
 * per commit) to its copy of every subscription's result and calls the
 * listeners. A patch keeps every untouched row object; rows that arrive in
 * one message are one object for every subscription that shows them (the
 * structured clone of one message preserves sharing).
 */
export class ClientLiveRegistry {
  // Owner: the client; one entry per open live query, removed when it is
  // stopped or the client closes (the host bounds how many may be open).
  private readonly subscriptions = new Map<number, Subscription>();

  /** Opens subscription `id` with its first listener; returns the listener's leave function (see join). */
  add(id: number, onChange: LiveCallback, onError: LiveErrorCallback | undefined): () => boolean {
    this.subscriptions.set(id, { listeners: [], rows: undefined, seq: undefined, isResuming: false, isFailed: false });
    return this.join(id, onChange, onError)!;
  }

  /**
   * Adds a listener to open subscription `id` (an identical live query of
   * the same session). It is handed the current result at once, if there is
   * one, then every later change. Returns a function that removes it and
   * says whether listeners remain; undefined if `id` is not open.
   */
  join(id: number, onChange: LiveCallback, onError: LiveErrorCallback | undefined): (() => boolean) | undefined {
    const subscription = this.subscriptions.get(id);
    if (subscription === undefined || subscription.isFailed) return undefined;
    const listener: Listener = { onChange, onError };
    subscription.listeners.push(listener);
    if (subscription.rows !== undefined) call(onChange, subscription.rows, JOINED);
    return () => {
      const i = subscription.listeners.indexOf(listener);
      if (i >= 0) subscription.listeners.splice(i, 1);
      return subscription.listeners.length > 0;
    };
  }

  /** Listeners across open subscriptions (each live() call counts once). */
  get listenerCount(): number {
    let n = 0;
    for (const s of this.subscriptions.values()) n += s.listeners.length;
    return n;
  }

  /**
   * Where subscription `id` resumes on a new host: the `_seq` of the last
   * complete result it holds, or undefined (nothing complete yet: start
   * over). Its next result is then taken as the resumed one.
   */
  resumeFrom(id: number): bigint | undefined {
    const subscription = this.subscriptions.get(id);
    if (subscription === undefined) return undefined;
    subscription.isResuming = true;
    return subscription.rows === undefined ? undefined : subscription.seq;
  }

  /** Forgets `id`; false if it was not open. */
  remove(id: number): boolean {
    return this.subscriptions.delete(id);
  }

  clear(): void {
    this.subscriptions.clear();
  }

  get size(): number {
    return this.subscriptions.size;
  }

  /**
   * Applies a batch and calls the listeners. Returns a promise when a
   * listener returned one: the batch counts as consumed (acknowledged to
   * the host) only when all of those settle.
   */
  deliver(events: readonly LiveEvent[]): Promise<void> | undefined {
    let waits: unknown[] | undefined;
    for (const event of events) {
      const subscription = this.subscriptions.get(event.id);
      if (subscription === undefined) continue; // stopped meanwhile
      let returned: unknown;
      switch (event.kind) {
        case 'snapshot': {
          // A partial result (more batches follow) cannot be resumed from.
          subscription.seq = event.hasMore ? undefined : event.seq;
          const isResuming = subscription.isResuming;
          subscription.isResuming = false;
          const prev = subscription.rows;
          const rows = shareRows(prev, event.rows);
          if (rows === prev) break; // nothing changed
          subscription.rows = rows;
          let change: LiveChange;
          if (isResuming && event.resumed === true && event.changes !== undefined && prev !== undefined) {
            change = resumedChanges(prev, event.rows, rows, event.changes);
          } else if (isResuming && event.changes === undefined && event.resumed === undefined) {
            // Started over without `from` (nothing complete was held, or lastRows): a fresh result.
            change = snapshotChange({ ...event, resumed: false }, EMPTY);
          } else {
            change = snapshotChange(event, prev ?? EMPTY);
          }
          returned = callAll(subscription, rows, change);
          break;
        }
        case 'patch': {
          const prev = subscription.rows ?? EMPTY;
          const olds = oldRows(prev, event.changes.deleted.length, event.deletedAt);
          const added = reuseRows(prev, event.removed, event.rows);
          const rows = applyPatch(prev, { ...event, rows: added.rows });
          if (rows === undefined) {
            report(subscription, new KalamError('INTERNAL', 'Internal error: a live change did not fit the result this client holds. This is a bug in kalamlite; please report it, and restart the live query.'));
            break;
          }
          subscription.rows = Object.freeze(rows);
          if (event.seq !== undefined) subscription.seq = event.seq;
          returned = callAll(subscription, subscription.rows, changesOf(event.changes, added.substitutes, olds));
          break;
        }
        case 'error':
          report(subscription, KalamError.from(event.error));
          break;
        default: {
          const never: never = event;
          reportLater(new KalamError('INTERNAL', `Unknown live event ${JSON.stringify(never)}.`));
        }
      }
      if (isThenable(returned)) (waits ??= []).push(returned);
    }
    if (waits === undefined) return undefined;
    return Promise.allSettled(waits).then(() => undefined);
  }
}

/**
 * The changes a resumed subscription replayed (every row written after its
 * `from`, as upserts, and the keys that left the result), as listeners see
 * them: rows are the objects the result holds, and rows the client already
 * held unchanged (written again without a visible change) are left out, so
 * nothing the client saw before arrives twice.
 */
function resumedChanges(prev: readonly Row[], received: readonly Row[], shared: readonly Row[], changes: ChangeSet): LiveChange {
  const held = new Set<Row>(prev);
  const substitutes = new Map<Row, Row>();
  for (let i = 0; i < received.length; i++) substitutes.set(received[i], shared[i]);
  let heldContent: Set<string> | undefined;
  const isNew = (row: Row) => {
    const own = substitutes.get(row);
    if (own !== undefined) return !held.has(own);
    // Not one of the received objects (an in-process engine may build change rows apart): compare content.
    heldContent ??= new Set(prev.map(rowKey));
    return !heldContent.has(rowKey(row));
  };
  return changesOf(
    {
      inserted: changes.inserted.filter(isNew),
      updated: changes.updated.filter((u) => isNew(u.row)),
      deleted: changes.deleted,
    },
    substitutes,
  );
}

function snapshotChange(event: Extract<LiveEvent, { kind: 'snapshot' }>, prev: readonly Row[]): LiveChange {
  if (event.changes !== undefined) return changesOf(event.changes, undefined, oldRows(prev, event.changes.deleted.length, event.deletedAt));
  const change: { kind: 'snapshot'; resumed?: boolean; hasMore?: boolean; collapsed?: boolean } = { kind: 'snapshot' };
  if (event.resumed !== undefined) change.resumed = event.resumed;
  if (event.hasMore) change.hasMore = true;
  if (event.collapsed) change.collapsed = true;
  return Object.freeze(change);
}

/**
 * The change set as listeners see it: frozen, with rows replaced by the
 * objects the result holds, and, when keys were deleted, `deletedRows`
 * pairing each with the row object the client held (`olds`, by position).
 */
function changesOf(changes: ChangeSet, substitutes: Map<Row, Row> | undefined, olds?: readonly (Row | undefined)[]): LiveChange {
  const row = (r: Row): Row => substitutes?.get(r) ?? freezeRow(r);
  const change: { kind: 'changes'; inserted: Row[]; updated: { row: Row; old: Row }[]; deleted: Value[]; deletedRows?: readonly DeletedRow[] } = {
    kind: 'changes' as const,
    inserted: Object.freeze(changes.inserted.map(row)) as Row[],
    updated: Object.freeze(changes.updated.map((u) => Object.freeze({ row: row(u.row), old: freezeRow(u.old) }))) as { row: Row; old: Row }[],
    deleted: Object.freeze(changes.deleted.slice()) as Value[],
  };
  if (changes.deleted.length > 0) change.deletedRows = Object.freeze(changes.deleted.map((key, i) => Object.freeze({ key, old: olds?.[i] })));
  return Object.freeze(change);
}

/** The rows the client held for `count` deleted keys, by their indices in `prev` (see LiveEvent.deletedAt); undefined where unknown. */
function oldRows(prev: readonly Row[], count: number, at: readonly number[] | undefined): (Row | undefined)[] | undefined {
  if (count === 0 || at === undefined) return undefined;
  const out = new Array<Row | undefined>(count);
  for (let i = 0; i < count; i++) out[i] = at[i] !== undefined && at[i] >= 0 ? prev[at[i]] : undefined;
  return out;
}

/**
 * Frozen added rows, where an added row equals a removed one by content
 * (an update that left the visible columns as they were) the removed
 * object is kept, so identity still means "unchanged". Only the few rows
 * a patch touches are compared.
 */
function reuseRows(prev: readonly Row[], removed: readonly number[], rows: readonly Row[]): { rows: Row[]; substitutes: Map<Row, Row> | undefined } {
  if (removed.length === 0 || rows.length === 0) return { rows: rows.map(freezeRow), substitutes: undefined };
  const byContent = new Map<string, Row[]>();
  for (let k = removed.length - 1; k >= 0; k--) {
    const old = prev[removed[k]];
    if (old === undefined) continue;
    const key = rowKey(old);
    const list = byContent.get(key);
    if (list === undefined) byContent.set(key, [old]);
    else list.push(old);
  }
  let substitutes: Map<Row, Row> | undefined;
  const out = rows.map((row) => {
    const reused = byContent.get(rowKey(row))?.pop();
    if (reused === undefined) return freezeRow(row);
    (substitutes ??= new Map()).set(row, reused);
    return reused;
  });
  return { rows: out, substitutes };
}

function freezeRow(row: Row): Row {
  if (Object.isFrozen(row)) return row;
  for (const k in row) freezeJson(row[k]); // JSON values arrive as copies: deep-frozen, as the engine hands them out
  return Object.freeze(row);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

function report(subscription: Subscription, error: KalamError): void {
  subscription.isFailed = true;
  for (const { onError } of subscription.listeners.slice()) {
    if (onError) {
      try {
        onError(error);
      } catch (e) {
        reportLater(e);
      }
    } else {
      reportLater(error);
    }
  }
}

/** Calls every listener with the same rows and change objects; the promises some return, if any, as one. */
function callAll(subscription: Subscription, rows: readonly Row[], change: LiveChange): unknown {
  const { listeners } = subscription;
  if (listeners.length === 1) return call(listeners[0].onChange, rows, change);
  let waits: unknown[] | undefined;
  for (const { onChange } of listeners.slice()) {
    const returned = call(onChange, rows, change);
    if (isThenable(returned)) (waits ??= []).push(returned);
  }
  return waits === undefined ? undefined : Promise.allSettled(waits);
}

/** Calls an application callback; if it throws, the error surfaces without stopping the fan-out. */
function call(callback: LiveCallback, rows: readonly Row[], change: LiveChange): unknown {
  try {
    return callback(rows, change);
  } catch (e) {
    reportLater(e);
    return undefined;
  }
}

function reportLater(e: unknown): void {
  queueMicrotask(() => {
    throw e;
  });
}
