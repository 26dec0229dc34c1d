/**
 * A unit of work: everything one change to durable state consists of, as
 * one value. DML, DDL, ALTER, flush, jobs, user management and the audit
 * log each describe what they change this way; one function
 * (execute/commit.ts) applies every unit the same way:
 *
 *   1. segment bytes it adds are written (before anything refers to them);
 *   2. every KV write — row pages, catalog, manifest, users, audit — is
 *      committed in ONE storage commit;
 *   3. only then memory changes: hot tier, each state change's `apply`,
 *      dropped tables forgotten, the committed `_seq` advanced;
 *   4. plans of the tables it names are invalidated, live queries of
 *      altered/dropped tables re-run or end;
 *   5. row changes (and cold versions it purged) are published to live queries;
 *   6. segment bytes it removes are deleted (after nothing refers to them).
 *
 * A failure before step 3 changes nothing in memory.
 */
import type { RowChange, TableDef } from '../core/schema';
import type { SegmentKey, SegmentRef } from './cold/types';
import type { HotChange } from './hot-tier';
import type { KvWrite } from './kv';

/** A change to a component held in memory (catalog, manifest, users, audit): its writes, and what to do once they are committed. */
export interface StateChange {
  readonly writes: readonly KvWrite[];
  apply(): void;
}

export interface UnitOfWork {
  /** Logical row changes: staged into hot-tier pages, published to live queries, routed to topics. */
  readonly rows?: readonly RowChange[];
  /** The rows are a background job's cleanup (expired STREAM rows, tombstones past retention): not routed to topics. */
  readonly isCleanup?: boolean;
  /** Physical hot-tier changes that change no query result (rows rewritten to a new layout, flushed rows leaving the hot tier): not published. */
  readonly hot?: readonly HotChange[];
  /**
   * Versions removed from the cold tier only (tombstones a compaction
   * dropped: `row` null, `before` the tombstone): published to live queries
   * as removals (and as the point live replay cannot reach back past), never
   * staged into the hot tier.
   */
  readonly purged?: readonly RowChange[];
  /** Catalog, manifest, user and audit changes committed with the rows. */
  readonly state?: readonly StateChange[];
  /** Tables removed whole (DROP TABLE / NAMESPACE): their hot pages and manifest entries are deleted in the commit, their segment bytes after it. */
  readonly dropTables?: readonly TableDef[];
  /** Tables whose definition changed: their plans are invalidated and their live queries re-run. */
  readonly altered?: readonly number[];
  /**
   * Cold segment bytes (a segment's row groups) written before the commit /
   * deleted after it. `first`: the location of `groups[0]` — a segment of
   * an in_progress entry written in slices over several commits (a store
   * inside the KV store only; a file store writes a segment whole).
   */
  readonly segments?: { readonly put?: readonly { key: SegmentKey; groups: readonly Uint8Array[]; first?: number }[]; readonly delete?: readonly SegmentRef[] };
}
