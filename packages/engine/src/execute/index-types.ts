/** The engine hooks secondary indexes install into (execute/index-loader.ts, index-support.ts). */
import type { Catalog } from '../catalog/catalog';
import type { RowChange } from '../core/schema';
import type { StagedRows } from '../exec/context';

/**
 * Checks a statement's (or a transaction's) row changes against the
 * UNIQUE indexes of their tables, seen over `staged` (a group's earlier
 * statements): UNIQUE_VIOLATION when one would repeat a value. Undefined
 * when no table changed has a UNIQUE index (nothing to wait for).
 */
export type UniqueCheck = (changes: readonly RowChange[], staged?: StagedRows) => Promise<void> | undefined;

/** What installing indexes needs of the engine (the Engine satisfies it). */
export interface IndexHost {
  readonly catalog: Catalog;
  uniqueCheck?: UniqueCheck;
}
