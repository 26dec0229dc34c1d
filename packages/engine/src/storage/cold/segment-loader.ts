/**
 * The segment codec (Arrow IPC), loaded on first use — a flush, or a read
 * of a partition that has segments: see lazy-module.ts. Nothing else may
 * import './segment' except as types.
 */
import { lazyModule } from '../../core/lazy-module';
import { coerce, compareValues, freezeJson, hashKey } from '../../core/values';
import type { SegmentValues, segmentCodec } from './segment';

export type SegmentCodec = ReturnType<typeof segmentCodec>;

/** The engine's value functions the codec works with (it imports none of the engine itself). */
export const SEGMENT_VALUES: SegmentValues = { coerce, compareValues, freezeJson, hashKey };

/** encodeSegment, decodeSegment, residentSegment. */
export const loadSegmentCodec: () => Promise<SegmentCodec> = lazyModule('the cold segment codec', async () => (await import('./segment')).segmentCodec(SEGMENT_VALUES));
