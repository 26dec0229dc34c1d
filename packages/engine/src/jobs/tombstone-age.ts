/** Whether a segment holds tombstones past retention (retention and compaction triggers; compact-plan.ts). */
import { seqMillis } from '../core/ids';
import type { SegmentMeta } from '../storage/cold/types';

/** Whether a segment holds a tombstone written before `cutoffMs` (unknown counts: `unknown`). */
export function hasExpiredTombstones(m: SegmentMeta, cutoffMs: number, unknown: boolean): boolean {
  if (m.tombstones === undefined || m.tombstone_min_seq === undefined) return unknown;
  return m.tombstones > 0 && m.tombstone_min_seq !== null && seqMillis(m.tombstone_min_seq) < cutoffMs;
}
