/**
 * Segment bytes in the KV `segments` store (IndexedDB or memory), keyed
 * (table id, user id, segment id). Its writes join the commit of the unit
 * of work that adds or removes the segment (storage/unit-of-work.ts).
 */
import { encodeKey } from '../keys';
import type { KvStore } from '../kv';
import type { SegmentKey, SegmentStore } from './types';

const keyOf = (k: SegmentKey) => encodeKey([k.tableId, k.user, k.segmentId]);

export function kvSegmentStore(kv: KvStore): SegmentStore {
  return {
    write: (key, bytes) => (bytes === undefined ? { store: 'segments', key: keyOf(key) } : { store: 'segments', key: keyOf(key), value: bytes }),
    async get(key) {
      const v = await kv.get('segments', keyOf(key));
      return v === undefined ? undefined : (v as Uint8Array);
    },
  };
}
