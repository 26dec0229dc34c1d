/**
 * What a maintained subscription keeps: its result window and everything
 * the window's maintenance reads (its WindowEnv), in one object — one per
 * subscription, so every field here is paid ten thousand times by ten
 * thousand live queries — and the reads of its partition that only a
 * maintained result makes (the lastRows floor, a `from` replay).
 */
import type { ExecContext } from '../exec/context';
import type { StoredRow } from '../core/schema';
import type { Row, Value } from '../core/types';
import { seqMillis } from '../core/ids';
import { outputValue } from '../core/values';
import type { MaintainedQuery } from './analyze';
import type { LiveOutput } from './output';
import type { LiveChange } from './types';
import { LiveWindow, type RowCache, type WindowEnv } from './window';

/** A partition as live maintenance reads it: [pk hash, newest row] in key order (storage/partition-view.ts). */
export type Partition = Iterable<[string, StoredRow]>;

export class MaintainedResult extends LiveWindow implements WindowEnv {
  /** Rows must have `_seq >= minSeq` (lastRows); undefined: no floor. */
  minSeq: bigint | undefined = undefined;
  /** The output rows of the read or commit in progress (see Subscription.dropCache). */
  cache: RowCache | undefined = undefined;

  constructor(
    readonly query: MaintainedQuery,
    readonly ctx: ExecContext,
    /** This subscription's projection shape (see MaintainedQuery.shape). */
    readonly shape: string,
    /** Only STREAM rows expire: other results keep no closure for it. */
    readonly isHidden: ((row: StoredRow) => boolean) | undefined,
    /** Rows of the window before the result (OFFSET); the result is entries [offset, cap). */
    readonly offset: number,
    cap: number,
  ) {
    super(cap);
  }

  /** The partition read: '' for a SHARED table, else the subscriber's. */
  get partitionUser(): string {
    return this.query.table.type === 'SHARED' ? '' : this.ctx.user;
  }

  /** The `_seq` from which rows count for `lastRows`: the N-th newest matching row's. */
  lastRowsFloor(p: Partition | undefined, n: number): bigint | undefined {
    const seqAt = this.query.seqSlot;
    if (n === 0) {
      let max = 0n;
      for (const [, row] of p ?? []) if ((row[seqAt] as bigint) > max) max = row[seqAt] as bigint;
      return max + 1n;
    }
    // Bounded: the n largest `_seq` of matching rows, ascending.
    const top: bigint[] = [];
    for (const [, row] of p ?? []) {
      if (!LiveWindow.matches(this, row)) continue;
      const s = row[seqAt] as bigint;
      if (top.length === n && s <= top[0]) continue;
      let i = 0;
      while (i < top.length && top[i] < s) i++;
      top.splice(i, 0, s);
      if (top.length > n) top.shift();
    }
    return top.length === n ? top[0] : undefined;
  }

  /** The changes after `from`: rows of the result written since (as upserts), identities written since that left it. */
  replay(p: Partition | undefined, out: LiveOutput, from: bigint): LiveChange {
    const seqAt = this.query.seqSlot;
    const inResult = new Set<string>();
    const inserted: Row[] = [];
    for (const e of out.entries) {
      inResult.add(e.key);
      if ((e.row[seqAt] as bigint) > from) inserted.push(e.out);
    }
    const deleted: Value[] = [];
    for (const [key, row] of p ?? []) {
      if ((row[seqAt] as bigint) > from && !inResult.has(key)) deleted.push(outputValue(row[this.query.keySlot]));
    }
    return { kind: 'changes', inserted, updated: [], deleted };
  }

  /**
   * When the earliest row of a STREAM window expires (ms since the epoch:
   * the first `now` at which `isExpired` holds for it); undefined when no
   * row of the window can expire.
   */
  earliestExpiry(): number | undefined {
    const ttl = this.query.table.ttlSeconds;
    if (this.isHidden === undefined || !ttl) return undefined;
    const seqAt = this.query.seqSlot;
    let min: bigint | undefined;
    for (const e of this.entries) {
      const s = e.row[seqAt] as bigint;
      if (min === undefined || s < min) min = s;
    }
    return min === undefined ? undefined : seqMillis(min) + ttl * 1000 + 1;
  }

  /** Drops the rows of the window that expired by `ctx.now`; returns whether any did. */
  dropExpired(): boolean {
    if (this.isHidden === undefined) return false;
    const gone: string[] = [];
    for (const e of this.entries) if (this.isHidden(e.row)) gone.push(e.key);
    for (const key of gone) this.apply(this, key, null);
    return gone.length > 0;
  }

  /** Tells it apart from a re-run query's state (Subscription's Mode). */
  get kind(): 'maintained' {
    return 'maintained';
  }
}
