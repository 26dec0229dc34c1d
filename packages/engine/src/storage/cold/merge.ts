/**
 * Reading a partition across tiers: staged (an open transaction or group
 * commit) shadows hot, hot shadows cold, a newer segment shadows an older
 * one. Every key yields at most its newest version; whether that version is
 * shown (tombstones, expiry) is the caller's `visible`.
 */
import type { StoredRow } from '../../core/schema';
import type { DecodedSegment } from './types';

type Layer = ReadonlyMap<string, StoredRow | null>;

/** Rows of hot then cold (newest segment first), each key once: its newest version, if visible. */
export function* mergedRows(
  hot: ReadonlyMap<string, StoredRow> | undefined,
  staged: Layer | undefined,
  segments: readonly DecodedSegment[],
  visible: (row: StoredRow) => boolean,
): Generator<StoredRow> {
  if (hot) for (const [k, row] of hot) if (!staged?.has(k) && visible(row)) yield row;
  if (staged) for (const row of staged.values()) if (row && visible(row)) yield row;
  for (let s = 0; s < segments.length; s++) {
    const seg = segments[s];
    const keys = seg.index;
    for (const [k, row] of keys) {
      if (hot?.has(k) || staged?.has(k)) continue;
      let isShadowed = false;
      for (let n = 0; n < s && !isShadowed; n++) isShadowed = segments[n].index.has(k);
      if (!isShadowed && visible(row)) yield row;
    }
  }
}

/** The newest version of one key across tiers (undefined: none, or hard-deleted in `staged`). */
export function newestVersion(
  hot: ReadonlyMap<string, StoredRow> | undefined,
  staged: Layer | undefined,
  segments: readonly DecodedSegment[],
  key: string,
): StoredRow | undefined {
  if (staged?.has(key)) return staged.get(key) ?? undefined;
  const h = hot?.get(key);
  if (h) return h;
  for (const seg of segments) {
    const row = seg.index.get(key);
    if (row) return row;
  }
  return undefined;
}
