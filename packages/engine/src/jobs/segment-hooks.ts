/**
 * What secondary indexes add to segment writing (execute/index-support.ts
 * installs them): a segment's index records as segment-encode.ts writes
 * them, and whether a segment lacks one (compact-due.ts rewrites those).
 */
import type { TableDef } from '../core/schema';
import type { EncodedRowGroup } from '../storage/cold/row-group';
import type { SegmentCodec } from '../storage/cold/segment-loader';
import type { IndexRecordMeta, SegmentMeta } from '../storage/cold/types';

/** Writes a segment's index records (installed with secondary indexes: execute/index-support.ts). */
export const segmentHooks: {
  indexRecords?: (t: TableDef, encoded: readonly EncodedRowGroup[], codec: SegmentCodec, offset: number) => { pages: EncodedRowGroup[]; records: IndexRecordMeta[] };
  /** Whether a segment lacks the record of one of `t`'s indexes as defined now (compactions rewrite those). */
  lacksRecords?: (m: SegmentMeta, t: TableDef) => boolean;
} = {};
