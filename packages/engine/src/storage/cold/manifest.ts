/**
 * The manifest: every segment of every table partition, persisted one entry
 * per segment in the `system` store under ('manifest', table id, user id,
 * segment id) and held in memory (it is metadata proportional to the data,
 * not a cache: it shrinks when a table is dropped).
 *
 * Only `committed` segments are read. `generation` moves whenever the set
 * of committed segments changes, so an execution prepared against an older
 * set knows to prepare again. `obsolete` entries are segments a compaction
 * replaced, kept only until their bytes are deleted.
 */
import { encodeKey, prefixUpperBound } from '../keys';
import type { KvStore, KvWrite } from '../kv';
import { levelOf, type SegmentMeta } from './types';

export const manifestKey = (tableId: number, user: string, segmentId: string) => encodeKey(['manifest', tableId, user, segmentId]);

export class Manifest {
  /** table id → user id → committed segments, oldest first (by max_seq). Bounded by the data; shrunk by DROP TABLE. */
  private readonly tables = new Map<number, Map<string, SegmentMeta[]>>();
  /** Entries found in status in_progress at load: recovery removes them. */
  readonly pending: SegmentMeta[] = [];
  /**
   * Segments a compaction replaced whose bytes are not deleted yet (found at
   * load, or replaced since): bounded by the inputs of compactions in
   * flight, emptied as their bytes are deleted (and at open).
   */
  readonly obsolete: SegmentMeta[] = [];
  private gen = 0;
  private count = 0;

  static async load(kv: KvStore): Promise<Manifest> {
    const m = new Manifest();
    const lower = encodeKey(['manifest']);
    await kv.scan('system', { lower, upper: prefixUpperBound(lower) }, (_k, v) => {
      const meta = v as SegmentMeta;
      if (meta.status === 'committed') m.add(meta);
      else if (meta.status === 'obsolete') m.obsolete.push(meta);
      else m.pending.push(meta);
    });
    return m;
  }

  get generation(): number {
    return this.gen;
  }

  /** Committed segments across all tables. */
  get size(): number {
    return this.count;
  }

  /** Committed segments of one partition, oldest first; empty when there are none. */
  segments(tableId: number, user: string): readonly SegmentMeta[] {
    return this.tables.get(tableId)?.get(user) ?? EMPTY;
  }

  /** Every partition of a table that has segments. */
  partitions(tableId: number): ReadonlyMap<string, readonly SegmentMeta[]> {
    return this.tables.get(tableId) ?? EMPTY_MAP;
  }

  hasSegments(tableId: number, user: string): boolean {
    return this.segments(tableId, user).length > 0;
  }

  all(): SegmentMeta[] {
    const out: SegmentMeta[] = [];
    for (const users of this.tables.values()) for (const list of users.values()) out.push(...list);
    return out;
  }

  entryWrite(meta: SegmentMeta): KvWrite {
    return { store: 'system', key: manifestKey(meta.table_id, meta.user_id, meta.id), value: meta };
  }

  deleteWrite(meta: SegmentMeta): KvWrite {
    return { store: 'system', key: manifestKey(meta.table_id, meta.user_id, meta.id) };
  }

  /**
   * Applies a committed entry (after its commit succeeded). Replaces an
   * entry with the same id; `isNewSet` false for a change that leaves the
   * set of segments and their contents as they were (hot_purged).
   */
  add(meta: SegmentMeta, isNewSet = true): void {
    let users = this.tables.get(meta.table_id);
    if (!users) this.tables.set(meta.table_id, (users = new Map()));
    let list = users.get(meta.user_id);
    if (!list) users.set(meta.user_id, (list = []));
    const at = list.findIndex((s) => s.id === meta.id);
    if (at >= 0) list[at] = meta;
    else {
      list.push(meta);
      list.sort((a, b) => (a.max_seq < b.max_seq ? -1 : a.max_seq > b.max_seq ? 1 : 0));
      this.count++;
    }
    if (isNewSet) this.gen++;
  }

  /** Forgets one committed entry (its removal was committed). */
  remove(meta: SegmentMeta): void {
    const list = this.tables.get(meta.table_id)?.get(meta.user_id);
    const at = list?.findIndex((s) => s.id === meta.id) ?? -1;
    if (at < 0) return;
    list!.splice(at, 1);
    if (list!.length === 0) this.tables.get(meta.table_id)!.delete(meta.user_id);
    this.count--;
    this.gen++;
  }

  /** Committed segments per level, across all tables. */
  levelCounts(): [number, number] {
    const out: [number, number] = [0, 0];
    for (const users of this.tables.values()) for (const list of users.values()) for (const m of list) out[levelOf(m)]++;
    return out;
  }

  /** Forgets a table's segments (after DROP TABLE committed); returns them. */
  dropTable(tableId: number): SegmentMeta[] {
    const users = this.tables.get(tableId);
    if (!users) return [];
    const out: SegmentMeta[] = [];
    for (const list of users.values()) out.push(...list);
    this.tables.delete(tableId);
    this.count -= out.length;
    this.gen++;
    return out;
  }
}

const EMPTY: readonly SegmentMeta[] = Object.freeze([]);
const EMPTY_MAP: ReadonlyMap<string, readonly SegmentMeta[]> = new Map();
