import { KalamError, type Row, type Value } from '@kalamlite/engine';
import { rowKey } from './content-key';
import type { ChangeSet, LiveChange, LiveEvent } from './protocol';
import { applyPatch } from './row-patch';
import { shareRows } from './share';

export type LiveCallback = (rows: readonly Row[], change: LiveChange) => unknown;
export type LiveErrorCallback = (error: KalamError) => void;

interface Subscription {
  onChange: LiveCallback;
  onError: LiveErrorCallback | undefined;
  /** The client's copy of the result: the base the next patch applies to. */
  rows: readonly Row[] | undefined;
}

const EMPTY: readonly Row[] = Object.freeze([]);

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

  add(id: number, onChange: LiveCallback, onError: LiveErrorCallback | undefined): void {
    this.subscriptions.set(id, { onChange, onError, rows: undefined });
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
          const rows = shareRows(subscription.rows, event.rows);
          if (rows === subscription.rows) break; // nothing changed
          subscription.rows = rows;
          returned = call(subscription.onChange, rows, snapshotChange(event));
          break;
        }
        case 'patch': {
          const prev = subscription.rows ?? EMPTY;
          const added = reuseRows(prev, event.removed, event.rows);
          const rows = applyPatch(prev, { ...event, rows: added.rows });
          if (rows === undefined) {
            report(subscription, new KalamError('INTERNAL', 'Internal error: a live change did not fit the result this client holds. This is a bug in kalamlite; please report it, and restart the live query.'));
            break;
          }
          subscription.rows = Object.freeze(rows);
          returned = call(subscription.onChange, subscription.rows, changesOf(event.changes, added.substitutes));
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

function snapshotChange(event: Extract<LiveEvent, { kind: 'snapshot' }>): LiveChange {
  if (event.changes !== undefined) return changesOf(event.changes, undefined);
  const change: { kind: 'snapshot'; resumed?: boolean; hasMore?: boolean; collapsed?: boolean } = { kind: 'snapshot' };
  if (event.resumed !== undefined) change.resumed = event.resumed;
  if (event.hasMore) change.hasMore = true;
  if (event.collapsed) change.collapsed = true;
  return Object.freeze(change);
}

/** The change set as listeners see it: frozen, with rows replaced by the objects the result holds. */
function changesOf(changes: ChangeSet, substitutes: Map<Row, Row> | undefined): LiveChange {
  const row = (r: Row): Row => substitutes?.get(r) ?? freezeRow(r);
  return Object.freeze({
    kind: 'changes' as const,
    inserted: Object.freeze(changes.inserted.map(row)) as Row[],
    updated: Object.freeze(changes.updated.map((u) => Object.freeze({ row: row(u.row), old: freezeRow(u.old) }))) as { row: Row; old: Row }[],
    deleted: Object.freeze(changes.deleted.slice()) as Value[],
  });
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
  return Object.isFrozen(row) ? row : Object.freeze(row);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

function report(subscription: Subscription, error: KalamError): void {
  if (subscription.onError) {
    try {
      subscription.onError(error);
    } catch (e) {
      reportLater(e);
    }
  } else {
    reportLater(error);
  }
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
