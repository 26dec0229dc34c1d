/**
 * The Arrow codecs for query results (`queryArrow`, and the IPC bytes it
 * travels in), loaded on first use: see lazy-module.ts. Nothing else may
 * import './arrow' except as types.
 */
import { lazyModule } from '../core/lazy-module';

export { SQL_TYPE_KEY } from './arrow-types';

export type ArrowCodecs = typeof import('./arrow');

/** resultToArrow, encodeArrow, decodeArrow. */
export const loadArrow: () => Promise<ArrowCodecs> = lazyModule('the Arrow codecs', () => import('./arrow'));
