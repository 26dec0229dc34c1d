/**
 * Row pages: a point read that does not fetch a whole row group.
 *
 * A segment written with row pages (types.ts RowPagesMeta) stores each row
 * group's rows a second time, cut every `rowPageRows` rows into pages (each
 * an Arrow IPC stream of one record batch, decoded by the same codec as a
 * group), and one page directory: every page's first key and where its
 * bytes are. A read whose primary-key bounds reach only a few rows of a
 * group that is not cached — `id = $1`, `id IN (…)`, a narrow `BETWEEN`,
 * the rows an index or a vector search resolves — fetches the directory
 * (once; it stays in the row-group cache) and the pages holding those keys
 * (a few KB each), not the group (~190 KB for 2,048 rows of six columns).
 * The pages of one group read together stand in for the group
 * (PageSet): they hold every row of the group the bounds can reach, so the
 * merge, `get` and the filter see the same rows for those keys as from the
 * whole group, and no others match the bounds.
 *
 * Loaded on first use (cold-tier.ts), so worker.js holds only the hook.
 */
import { KalamError } from '../../core/errors';
import type { ColumnDef, TableDef } from '../../core/schema';
import type { Value } from '../../core/types';
import { compareValues } from '../../core/values';
import { RowGroupCache, type Sized } from './cache';
import type { ScanBounds } from './prune';
import { loadSegmentCodec, type SegmentCodec } from './segment-loader';
import { coversColumns, MIN_PAGES_PER_GROUP, pagesOf, segmentKeyOf, type ColumnSelection, type GroupLocation, type RowGroupData, type SegmentMeta, type SegmentStore } from './types';

/** What reading pages uses of the cold tier (cold-tier.ts ColdTier). */
export interface PageHost {
  readonly cache: RowGroupCache;
  readonly store: SegmentStore;
  readonly pages: { read: number; loads: number; directoryLoads: number };
  codec?: SegmentCodec;
  load(meta: SegmentMeta, indexes: readonly number[], t: TableDef, pinned: string[], columns: ColumnSelection): Promise<RowGroupData[]>;
}

/** A read of keys named one by one (= / IN) reads pages, not lazily, when every scan names at most this many in all. */
const MAX_POINTS = 256;
/** A group is read whole when its bounds need, with its pages already cached, more than 1/WHOLE_FRACTION of its pages. */
const WHOLE_FRACTION = MIN_PAGES_PER_GROUP;
/** A group is read whole for its cached pages only while the cache has this many times its stored bytes free (what it takes decoded, roughly). */
const GROUP_ROOM = 2;

/** A segment's page directory as read: per page, its first key, offset and bytes; per group, its first page. */
interface PageDirectory extends Sized {
  readonly first: ArrayLike<Value>;
  readonly offsets: ArrayLike<number>;
  readonly sizes: ArrayLike<number>;
  readonly groupStart: readonly number[];
}

/** Directory loads in flight, so concurrent reads of one segment share one; each removes itself when it settles. */
const inflight = new Map<string, Promise<PageDirectory>>();

const directoryKey = (segmentId: string) => `${segmentId}/dir`;
const pageKey = (segmentId: string, page: number) => `${segmentId}/p${page}`;

/** One scan's primary-key bounds: the fewest values named one by one, and a range. */
function keyBounds(bounds: NonNullable<ScanBounds>, pkKey: string): { points?: readonly Value[]; lower?: Value; upper?: Value } {
  const out: { points?: readonly Value[]; lower?: Value; upper?: Value } = {};
  for (const b of bounds) {
    if (!b.isPk || b.key !== pkKey) continue;
    if (b.op === '=' || b.op === 'in') {
      if (!out.points || b.values.length < out.points.length) out.points = b.values;
    } else if (b.op === '>' || b.op === '>=') {
      if (out.lower === undefined || compareValues(b.values[0], out.lower) > 0) out.lower = b.values[0];
    } else if (out.upper === undefined || compareValues(b.values[0], out.upper) < 0) out.upper = b.values[0];
  }
  return out;
}

/** Whether every scan names its keys one by one, a few in all (the read then prepares pages in full, not lazily). */
export function pointsOnly(scans: readonly ScanBounds[], pkKey: string): boolean {
  let n = 0;
  for (const bounds of scans) {
    const points = bounds ? keyBounds(bounds, pkKey).points : undefined;
    if (!points) return false;
    n += points.length;
  }
  return scans.length > 0 && n <= MAX_POINTS;
}

/** The page (directory index) of group pages [from, to) that would hold `key`: the last whose first key is not above it. */
function pageOf(dir: PageDirectory, from: number, to: number, key: Value): number {
  let a = from + 1;
  let b = to;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (compareValues(dir.first[mid], key) <= 0) a = mid + 1;
    else b = mid;
  }
  return a - 1;
}

/** The pages of group `g` the scans can reach (directory indexes, ascending); undefined: a scan may reach any row. */
function pagesFor(dir: PageDirectory, meta: SegmentMeta, g: number, scans: readonly ScanBounds[], pkKey: string): number[] | undefined {
  const from = dir.groupStart[g];
  const to = dir.groupStart[g + 1];
  const min = meta.groups!.key_min[g];
  const max = meta.groups!.key_max[g];
  const set = new Set<number>();
  for (const bounds of scans) {
    if (!bounds) return undefined;
    const { points, lower, upper } = keyBounds(bounds, pkKey);
    if (points) {
      for (const v of points) if (compareValues(v, min) >= 0 && compareValues(v, max) <= 0) set.add(pageOf(dir, from, to, v));
    } else if (lower !== undefined || upper !== undefined) {
      const a = lower === undefined ? from : pageOf(dir, from, to, lower);
      const b = upper === undefined ? to - 1 : pageOf(dir, from, to, upper);
      for (let p = a; p <= b; p++) set.add(p);
    } else return undefined;
  }
  // The bounds reach none of its rows (the group was selected for another reason): its first page stands in.
  if (set.size === 0) set.add(from);
  return [...set].sort((x, y) => x - y);
}

async function directory(host: PageHost, meta: SegmentMeta, t: TableDef): Promise<PageDirectory> {
  const key = directoryKey(meta.id);
  const hit = host.cache.get<PageDirectory>(key);
  if (hit) return hit;
  const pending = inflight.get(key);
  if (pending) return pending;
  const p = meta.row_pages!;
  const load = Promise.all([host.store.readGroups(segmentKeyOf(meta), [{ index: p.at + p.count, offset: p.dir_offset, bytes: p.dir_bytes }]), loadSegmentCodec()]).then(([[bytes], codec]) => {
    host.codec = codec;
    if (!bytes) throw missing(meta, 'page directory');
    const raw = codec.decodePageDirectory(bytes, t);
    // Each group's first page: groups too short for pages have none (pagesOf, as the writer cut them).
    const groupStart = [0];
    for (const rows of meta.groups!.rows) groupStart.push(groupStart[groupStart.length - 1] + pagesOf(rows, p.rows));
    const dir: PageDirectory = { first: raw.first, offsets: raw.offsets as ArrayLike<number>, sizes: raw.sizes as ArrayLike<number>, groupStart, bytes: 64 + bytes.byteLength * 2 + groupStart.length * 8 };
    host.pages.directoryLoads++;
    host.cache.set(key, meta.id, dir);
    return dir;
  });
  inflight.set(key, load);
  void load.catch(() => undefined).finally(() => inflight.delete(key));
  return load;
}

function missing(meta: SegmentMeta, what: string): KalamError {
  return new KalamError(
    'STORAGE_ERROR',
    `The ${what} of segment ${meta.id} (table id ${meta.table_id}) is listed in the manifest but its data is missing: the storage was changed outside kalamlite`,
  );
}

/**
 * Row groups `indexes` of a segment with row pages, for a read with
 * `scans`: a cached group whole; an uncached one whose bounds reach a few
 * of its pages as those pages (pinned, keys added to `pinned`); any other
 * whole (ColdTier.load).
 */
export async function loadGroups(
  host: PageHost,
  meta: SegmentMeta,
  indexes: readonly number[],
  t: TableDef,
  scans: readonly ScanBounds[],
  pinned: string[],
  columns: ColumnSelection,
): Promise<RowGroupData[]> {
  const pkKey = String(t.columns[t.pk].id);
  const per = meta.row_pages!.rows;
  const usable = (data: RowGroupData) => coversColumns(data, t, columns);
  // Groups worth reading by pages: not cached (or cached without a column the read needs), and long enough that a few of their pages are less than all.
  const uncached = indexes.filter((g) => {
    if (pagesOf(meta.groups!.rows[g], per) === 0) return false;
    const cached = host.cache.peek(RowGroupCache.key(meta.id, g));
    return !cached || !usable(cached);
  });
  const keyBound = scans.length > 0 && scans.every((b) => {
    const k = b && keyBounds(b, pkKey);
    return k && (k.points || k.lower !== undefined || k.upper !== undefined);
  });
  if (uncached.length === 0 || !keyBound) return host.load(meta, indexes, t, pinned, columns);
  const dir = await directory(host, meta, t);
  const paged = new Map<number, number[]>();
  const room = host.cache.capacityBytes - host.cache.stats().bytes;
  for (const g of uncached) {
    const pages = pagesFor(dir, meta, g, scans, pkKey);
    if (!pages) continue;
    // Read whole when the pages it needs are more than a quarter of its pages; or when, with those of it already
    // cached, they are and the cache has room for the group: a group read page by page again and again is then
    // cached whole (later reads of it cost nothing) — but not once the cache is full (a table larger than the
    // cache read at random), where a group read whole for one row would only evict other groups' pages.
    const n = dir.groupStart[g + 1] - dir.groupStart[g];
    if (pages.length * WHOLE_FRACTION > n) continue;
    // Its cached pages are counted only when the cache has room for it, and only until they are enough.
    let promote = false;
    if (room >= GROUP_ROOM * meta.groups!.bytes[g]) {
      let cached = 0;
      for (let p = dir.groupStart[g]; p < dir.groupStart[g + 1] && !promote; p++) {
        if (!pages.includes(p) && host.cache.peek(pageKey(meta.id, p))) promote = (pages.length + ++cached) * WHOLE_FRACTION > n;
      }
    }
    if (!promote) paged.set(g, pages);
  }
  const whole = indexes.filter((g) => !paged.has(g));
  const [groups, pages] = await Promise.all([
    whole.length > 0 ? host.load(meta, whole, t, pinned, columns) : Promise.resolve([]),
    loadPages(host, meta, dir, [...paged.values()].flat(), t, pinned, usable),
  ]);
  const out: RowGroupData[] = [];
  let w = 0;
  for (const g of indexes) {
    const list = paged.get(g);
    if (!list) out.push(groups[w++]);
    else {
      const parts = list.map((p) => pages.get(p)!);
      host.pages.read += parts.length;
      out.push(parts.length === 1 ? parts[0] : new PageSet(parts));
    }
  }
  return out;
}

/** Pages by directory index: cached ones pinned, the others fetched in one read, decoded, cached and pinned. */
async function loadPages(
  host: PageHost,
  meta: SegmentMeta,
  dir: PageDirectory,
  wanted: readonly number[],
  t: TableDef,
  pinned: string[],
  usable: (data: RowGroupData) => boolean,
): Promise<Map<number, RowGroupData>> {
  const out = new Map<number, RowGroupData>();
  const fetch: number[] = [];
  for (const p of wanted) {
    const key = pageKey(meta.id, p);
    const hit = host.cache.getIf(key, true, usable);
    if (hit) {
      out.set(p, hit);
      pinned.push(key);
    } else fetch.push(p);
  }
  if (fetch.length === 0) return out;
  const at = meta.row_pages!.at;
  const locations: GroupLocation[] = fetch.map((p) => ({ index: at + p, offset: dir.offsets[p], bytes: dir.sizes[p] }));
  const [bytes, codec] = await Promise.all([host.store.readGroups(segmentKeyOf(meta), locations), loadSegmentCodec()]);
  const { decodeRowGroup } = codec;
  host.codec = codec;
  const keyColumn = t.columns[t.pk];
  fetch.forEach((p, i) => {
    const b = bytes[i];
    if (!b) throw missing(meta, `row page ${p}`);
    const key = pageKey(meta.id, p);
    // Another read may have loaded it meanwhile: share that one.
    const shared = host.cache.peek(key);
    const data = shared && usable(shared) ? shared : decodeRowGroup(b, keyColumn);
    if (shared === data) host.cache.get(key, true);
    else {
      host.pages.loads++;
      host.cache.set(key, meta.id, data, true);
    }
    pinned.push(key);
    out.set(p, data);
  });
  return out;
}

/** Consecutive or scattered pages of one group read as one group: their rows in key order. */
export class PageSet implements RowGroupData {
  readonly rows: number;
  readonly keys: Value[] = [];
  readonly seqs: BigInt64Array;
  readonly deleted: Uint8Array;
  /** Where each page's rows start. */
  private readonly starts: number[] = [];

  constructor(private readonly parts: readonly RowGroupData[]) {
    let n = 0;
    for (const p of parts) {
      this.starts.push(n);
      n += p.rows;
    }
    this.rows = n;
    this.seqs = new BigInt64Array(n);
    this.deleted = new Uint8Array(n);
    parts.forEach((p, k) => {
      const at = this.starts[k];
      for (let i = 0; i < p.rows; i++) {
        this.keys.push(p.keys[i]);
        this.seqs[at + i] = p.seqs[i];
      }
      this.deleted.set(p.deleted.subarray(0, p.rows), at);
    });
  }

  /** Its pages are in the cache and counted there; this holds only its keys and row flags. */
  get bytes(): number {
    return 64 + this.rows * 17;
  }

  column(c: ColumnDef): ArrayLike<Value> {
    const out = new Array<Value>(this.rows);
    this.parts.forEach((p, k) => {
      const values = p.column(c);
      const at = this.starts[k];
      for (let i = 0; i < p.rows; i++) out[at + i] = values[i];
    });
    return out;
  }

  reader(c: ColumnDef): (i: number) => Value {
    const readers = this.parts.map((p) => p.reader(c));
    const starts = this.starts;
    return (i) => {
      let k = starts.length - 1;
      while (starts[k] > i) k--;
      return readers[k](i - starts[k]);
    };
  }
}
