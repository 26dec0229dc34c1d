/**
 * The segment codec (Arrow IPC), loaded on first use — a flush, or a read
 * of a partition that has segments: see lazy-module.ts. Nothing else may
 * import './segment' except as types.
 */
import { lazyModule } from '../../core/lazy-module';

export type SegmentCodec = typeof import('./segment');

/** encodeSegment, decodeSegment, residentSegment. */
export const loadSegmentCodec: () => Promise<SegmentCodec> = lazyModule('the cold segment codec', () => import('./segment'));
