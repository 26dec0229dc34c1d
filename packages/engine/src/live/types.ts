/**
 * The live-query contract: what a subscriber receives and the options it
 * may pass. Every delivery carries the whole current result (an immutable
 * array of frozen rows, shared with other subscribers) and what changed.
 */
import type { KalamError } from '../core/errors';
import type { Row, Value } from '../core/types';

/** `T` types the rows (`session.live<Todo>(…)`); Row unless given. */
export type LiveChange<T = Row> =
  /**
   * The whole result, with nothing to compare against: the first delivery,
   * each batch of a batched initial load (`hasMore` on all but the last), a
   * re-run of a query that is not maintained, a re-plan after ALTER TABLE.
   * `resumed: false` answers a `from` that lies beyond tombstone retention.
   */
  | { kind: 'snapshot'; resumed?: boolean; hasMore?: boolean }
  /**
   * What changed since the previous delivery. `deleted` holds primary keys
   * (`_seq` for a table without one). `deletedRows`, present when `deleted`
   * is not empty (except after a `from` resume, whose earlier rows this
   * engine never delivered), pairs each of them, in order, with the row of
   * the previous delivery it removed: the same object, not a copy. After a
   * `from` resume, `inserted` holds every row written after that `_seq`
   * (apply as upserts).
   */
  | { kind: 'changes'; inserted: T[]; updated: { row: T; old: T }[]; deleted: Value[]; deletedRows?: DeletedRow<T>[] };

/** A row a change removed from the result: its primary key (as in `deleted`) and the row last delivered for it. */
export interface DeletedRow<T = Row> {
  key: Value;
  old: T;
}

/**
 * `seq`: every commit up to this `_seq` is reflected in `rows`; pass it as
 * `from` to resume after reconnecting (nothing missed, nothing twice).
 */
export type LiveChangeCallback = (rows: readonly Row[], change: LiveChange, seq: bigint) => void;

export interface LiveOptions {
  /** The first result holds only the N newest rows (by `_seq`) of the query's result; 0: no history. */
  lastRows?: number;
  /** The first result arrives in deliveries of N more rows each; the last is complete. */
  batchSize?: number;
  /** Resume: replay what changed after this `_seq` instead of a first snapshot. */
  from?: bigint;
}

/** Who subscribed: a session's identity and, for system.live, the client (tab) it belongs to. */
export interface LiveOwner {
  user: string;
  /** A number per session, for the per-session limit. */
  session: number;
  /** SessionOptions.client, if given. */
  client?: string;
}

export type LiveErrorCallback = (e: KalamError) => void;
