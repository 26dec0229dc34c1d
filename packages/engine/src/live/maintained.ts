/**
 * What a maintained subscription keeps: its result window and everything
 * the window's maintenance reads (its WindowEnv), in one object — one per
 * subscription, so every field here is paid ten thousand times by ten
 * thousand live queries.
 */
import type { ExecContext } from '../exec/context';
import type { StoredRow } from '../core/schema';
import type { MaintainedQuery } from './analyze';
import { LiveWindow, type RowCache, type WindowEnv } from './window';

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

  /** Tells it apart from a re-run query's state (Subscription's Mode). */
  get kind(): 'maintained' {
    return 'maintained';
  }
}
