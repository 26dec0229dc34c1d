/**
 * Segment bytes in the KV `segments` store (IndexedDB, memory): one record
 * per row group under (table id, user id, segment id, group number), so a
 * read fetches only the groups it needs; format 1 segments are one record
 * under (table id, user id, segment id). Its writes join the commit of the
 * unit of work that adds or removes the segment (storage/unit-of-work.ts).
 */
import { decodeKey, encodeKey, prefixUpperBound } from '../keys';
import type { KvStore, KvWrite } from '../kv';
import type { GroupLocation, SegmentKey, SegmentRef, SegmentStore } from './types';

const blobKey = (k: SegmentKey) => encodeKey([k.tableId, k.user, k.segmentId]);
const groupKey = (k: SegmentKey, group: number) => encodeKey([k.tableId, k.user, k.segmentId, group]);

export function kvSegmentStore(kv: KvStore): SegmentStore {
  return {
    write(key, groups, first = 0) {
      return groups.map((bytes, i): KvWrite => ({ store: 'segments', key: groupKey(key, first + i), value: bytes }));
    },
    remove(ref: SegmentRef) {
      // Every record of the segment (its key is a prefix of its groups' keys) in one request where the store takes ranges.
      if (kv.rangeDeletes) return [{ store: 'segments', key: blobKey(ref), upper: prefixUpperBound(blobKey(ref)) }];
      if (ref.format === 1) return [{ store: 'segments', key: blobKey(ref) }];
      const out: KvWrite[] = [];
      for (let i = 0; i < ref.groups; i++) out.push({ store: 'segments', key: groupKey(ref, i) });
      return out;
    },
    async readGroups(key, groups: readonly GroupLocation[]) {
      const out = new Array<Uint8Array | undefined>(groups.length);
      // Runs of consecutive groups are read with one scan (one transaction); lone groups together (getMany: one transaction).
      const jobs: Promise<void>[] = [];
      const lone: number[] = [];
      for (let i = 0; i < groups.length; ) {
        let j = i + 1;
        while (j < groups.length && groups[j].index === groups[j - 1].index + 1) j++;
        const first = i;
        const last = j - 1;
        if (first === last) lone.push(first);
        else {
          const lower = groupKey(key, groups[first].index);
          const upper = groupKey(key, groups[last].index + 1);
          const base = groups[first].index;
          jobs.push(kv.scan('segments', { lower, upper }, (k, v) => {
            out[first + Number(decodeKey(k)[3]) - base] = v as Uint8Array;
          }));
        }
        i = j;
      }
      if (lone.length > 0) {
        const keys = lone.map((i) => groupKey(key, groups[i].index));
        const many = kv.getMany && keys.length > 1 ? kv.getMany('segments', keys) : Promise.all(keys.map((k) => kv.get('segments', k)));
        jobs.push(many.then((values) => lone.forEach((i, k) => { out[i] = values[k] as Uint8Array | undefined; })));
      }
      await Promise.all(jobs);
      return out;
    },
    async get(key) {
      const v = await kv.get('segments', blobKey(key));
      return v === undefined ? undefined : (v as Uint8Array);
    },
  };
}
