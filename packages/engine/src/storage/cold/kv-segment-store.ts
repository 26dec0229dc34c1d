/**
 * Segment bytes in the KV `segments` store (IndexedDB or memory), keyed
 * (table id, user id, segment id). Each call is one KV commit.
 */
import { encodeKey } from '../keys';
import type { KvStore } from '../kv';
import type { SegmentKey, SegmentStore } from './types';

const keyOf = (k: SegmentKey) => encodeKey([k.tableId, k.user, k.segmentId]);

export function kvSegmentStore(kv: KvStore): SegmentStore {
  return {
    put: (key, bytes) => kv.commit([{ store: 'segments', key: keyOf(key), value: bytes }]),
    async get(key) {
      const v = await kv.get('segments', keyOf(key));
      return v === undefined ? undefined : (v as Uint8Array);
    },
    async delete(keys) {
      if (keys.length > 0) await kv.commit(keys.map((k) => ({ store: 'segments' as const, key: keyOf(k) })));
    },
  };
}
