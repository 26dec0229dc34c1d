/**
 * The Arrow codecs for query results (`queryArrow`, and the IPC bytes it
 * travels in), loaded on first use: see lazy-module.ts. Nothing else may
 * import './arrow' except as types.
 */
import { KalamError } from '../core/errors';
import { lazyModule } from '../core/lazy-module';
import type { StatementResult } from '../core/types';
import type { ArrowTable } from './arrow';

export { SQL_TYPE_KEY } from './arrow-types';

export interface ArrowCodecs {
  /** A query result as an Arrow table (INVALID_SQL for a result that is not rows). */
  resultToArrow(result: StatementResult): ArrowTable;
  /** The table as Arrow IPC stream bytes. */
  encodeArrow(table: ArrowTable): Uint8Array;
  /** A table from Arrow IPC bytes (stream or file format). */
  decodeArrow(bytes: Uint8Array): ArrowTable;
}

/** resultToArrow, encodeArrow, decodeArrow. */
export const loadArrow: () => Promise<ArrowCodecs> = lazyModule('the Arrow codecs', async () => {
  const { resultToArrow, encodeArrow, decodeArrow } = await import('./arrow');
  return {
    resultToArrow(result) {
      if (result.kind !== 'rows') {
        throw new KalamError('INVALID_SQL', `queryArrow() needs a statement that returns rows (SELECT, SHOW, DESCRIBE); this one returned '${result.message}': use execute() for it`);
      }
      return resultToArrow(result);
    },
    encodeArrow,
    decodeArrow,
  };
});
