/**
 * Secondary indexes, the engine side, loaded on first use
 * (execute/index-loader.ts): installs the hot-tier indexes as the hot
 * tier's observer (storage/hot-index.ts) and the UNIQUE check every write
 * runs before it commits.
 *
 * UNIQUE: a value tuple (no NULL in it: NULLs never collide, PostgreSQL's
 * rule) may be held by one live row of a partition. A statement's changes
 * are checked against each other, the group's earlier statements (staged),
 * the hot rows (through the hot index: O(log h) a value) and the cold rows
 * whose newest version is cold (the row groups the values' first column
 * may hold, by the manifest's min/max, read as a `col IN (…)` scan would
 * read them). The check runs under the write lock, before the commit, so a
 * violation writes nothing of the statement (or transaction).
 */
import { KalamError } from '../core/errors';
import { deletedSlot, indexColumnNames, type IndexDef, type RowChange, type StoredRow, type TableDef } from '../core/schema';
import type { Value } from '../core/types';
import { compareValues, describeValue, hashKey } from '../core/values';
import type { StagedRows, Tuple } from '../exec/context';
import type { ScanBounds } from '../storage/cold/prune';
import { compareTuples, HotIndexes, spanOf, type HotIndex, type IndexEntry } from '../storage/hot-index';
import { indexPlanning, planIndexScan } from '../plan/index-plan';
import { planHooks, registerIndexPlanner } from '../plan/scan-plan';
import { planIndexJoin } from '../plan/index-join';
import { joinHooks } from '../plan/join-plan';
import type { ColdTier } from '../storage/cold/cold-tier';
import { prepareIndexRead, preparedRows, type IndexedPartition } from './index-cold';
import type { IndexScanRequest } from '../plan/source';
import type { IndexScan } from './table-source';
import type { HotTier } from '../storage/hot-tier';
import type { IndexPrepare, PreparedCold } from './cold-reads';
import type { IndexHost } from './index-types';
import type { PartitionViews } from './partition-views';
import { segmentHooks } from '../jobs/segment-hooks';
import { encodeIndexRecords, recordOf } from '../storage/cold/index-record';

export interface IndexSupportHost extends IndexHost {
  readonly hot: HotTier;
  readonly views: PartitionViews;
  readonly cold: ColdTier;
  readonly coldReader: { preparePartition(table: TableDef, user: string, bounds: ScanBounds): Promise<PreparedCold>; indexPrepare?: IndexPrepare };
  readonly sources: { indexScan?: IndexScan };
}

/** What indexes add to segment writing (jobs/segment-hooks.ts): also all a compaction helper worker installs. */
export function installSegmentHooks(): void {
  segmentHooks.indexRecords = encodeIndexRecords;
  segmentHooks.lacksRecords = (m, t) => !!t.indexes?.some((x) => !recordOf(m, t, x));
}

export function installIndexSupport(engine: IndexSupportHost): void {
  if (engine.uniqueCheck) return;
  const indexes = new HotIndexes();
  engine.hot.observer = indexes;
  engine.uniqueCheck = (changes, staged) => checkUnique(engine, indexes, changes, staged);
  registerIndexPlanner(planIndexScan);
  joinHooks.indexJoin = planIndexJoin;
  planHooks.begin = indexPlanning.begin;
  planHooks.planned = indexPlanning.planned;
  installSegmentHooks();
  engine.coldReader.indexPrepare = async (plan, s, params, pinned) => {
    const p = await prepareIndexRead(engine, indexes, plan, s, params, pinned);
    if (p) indexes.coldReads++;
    return p;
  };
  engine.sources.indexScan = (t, user, req, cold, staged) => {
    const prepared = cold?.partition(t.id, user);
    // Prepared through the index: a SELECT outside a transaction (nothing staged).
    if (prepared && 'indexed' in prepared && !staged) return req.probe ? undefined : preparedRows(prepared as IndexedPartition, req);
    // Not prepared through the index (segments without its record, a read that could not be prepared ahead, a transaction's read): the partition is scanned.
    if (engine.cold.manifest.hasSegments(t.id, user)) return undefined;
    const x = indexes.get(t, user, req.index, engine.hot.partition(t.id, user));
    if (staged && staged.size > 0) return overlaid(t, x, req, staged);
    return x ? rowsOf(indexEntries(x, req)) : [];
  };
}

function* rowsOf(entries: Iterable<IndexEntry>): Generator<StoredRow> {
  for (const e of entries) yield e.r;
}

/** The entries of `req`'s spans in index order (reversed: equal values still in key order, as ORDER BY breaks ties). */
function* indexEntries(x: HotIndex, req: IndexScanRequest): Generator<IndexEntry> {
  const read = x.openRead();
  try {
    const spans = req.reverse ? [...req.spans].reverse() : req.spans;
    for (const s of spans) {
      const { entries } = read;
      const [start, end] = spanOf(entries, x.desc, s.lower, s.upper);
      if (!req.reverse) {
        for (let i = start; i < end; i++) yield entries[i];
        continue;
      }
      for (let i = end - 1; i >= start; ) {
        let j = i;
        while (j > start && compareTuples(entries[j - 1].t, entries[i].t, x.desc) === 0) j--;
        for (let m = j; m <= i; m++) yield entries[m];
        i = j - 1;
      }
    }
  } finally {
    read.release();
  }
}

/** Whether index tuple `t` lies in span `s`. */
function inSpan(t: readonly Value[], s: IndexScanRequest['spans'][number], desc: readonly boolean[]): boolean {
  if (s.lower) {
    const c = compareTuples(t, s.lower.tuple, desc, s.lower.tuple.length);
    if (c < 0 || (c === 0 && !s.lower.inclusive)) return false;
  }
  if (s.upper) {
    const c = compareTuples(t, s.upper.tuple, desc, s.upper.tuple.length);
    if (c > 0 || (c === 0 && !s.upper.inclusive)) return false;
  }
  return true;
}

/**
 * The read of `req` over the committed hot rows with `staged` (a
 * transaction's or a group's earlier statements' versions, by key hash;
 * null: removed) laid over them, as the scan's partition view lays them:
 * a staged key's committed entry is skipped, its staged version (when live
 * and in a span) is merged in at its place in the read's order. Costs
 * O(s log s) for s staged rows of the partition, besides the read.
 */
function* overlaid(t: TableDef, x: HotIndex | undefined, req: IndexScanRequest, staged: ReadonlyMap<string, Tuple | null>): Generator<StoredRow> {
  const slots = req.index.columns.map((c) => t.columns.findIndex((col) => col.id === c.id));
  const desc = req.index.columns.map((c) => c.desc);
  const del = deletedSlot(t);
  const keySlot = t.pk >= 0 ? t.pk : t.columns.length;
  const sign = req.reverse ? -1 : 1;
  const order = (a: IndexEntry, b: IndexEntry) => sign * compareTuples(a.t, b.t, desc) || compareValues(a.k, b.k);
  const extra: IndexEntry[] = [];
  for (const row of staged.values()) {
    if (row === null || row[del] === true) continue;
    const tuple = slots.map((s) => row[s]);
    if (req.spans.some((s) => inSpan(tuple, s, desc))) extra.push({ t: tuple, k: row[keySlot], r: row as StoredRow });
  }
  extra.sort(order);
  let at = 0;
  if (x) {
    for (const e of indexEntries(x, req)) {
      if (staged.has(hashKey(e.k))) continue;
      while (at < extra.length && order(extra[at], e) < 0) yield extra[at++].r;
      yield e.r;
    }
  }
  while (at < extra.length) yield extra[at++].r;
}

/** Engine parts the index code reads, per installed engine. */
export function hotIndexesOf(engine: { readonly hot: HotTier }): HotIndexes | undefined {
  const o = engine.hot.observer;
  return o instanceof HotIndexes ? o : undefined;
}

const q = (t: TableDef) => `${t.namespace}.${t.name}`;
const tupleHash = (row: StoredRow, slots: readonly number[]): string | undefined => {
  let h = '';
  for (const s of slots) {
    const v = row[s];
    if (v === null) return undefined; // NULLs never collide
    h += hashKey(v) + '\u0001';
  }
  return h;
};

function violation(t: TableDef, index: IndexDef, slots: readonly number[], row: StoredRow): KalamError {
  const names = indexColumnNames(t, index).map((n) => n.replace(/ DESC$/, ''));
  const values = slots.map((s) => describeValue(row[s]));
  const what = names.length === 1 ? `value ${values[0]} already exists in column '${names[0]}'` : `values (${values.join(', ')}) already exist in columns (${names.join(', ')})`;
  return new KalamError('UNIQUE_VIOLATION', `Unique violation: ${what} of table '${q(t)}' (unique index ${t.namespace}.${index.name}). Nothing of the statement was written: change the existing row, or write another value`);
}

function checkUnique(engine: IndexSupportHost, indexes: HotIndexes, changes: readonly RowChange[], staged?: StagedRows): Promise<void> | undefined {
  // Partitions with a UNIQUE index among the changes, with their changes.
  let parts: Map<string, { table: TableDef; user: string; changes: RowChange[] }> | undefined;
  for (const c of changes) {
    if (!c.table.indexes?.some((x) => x.unique)) continue;
    parts ??= new Map();
    const slot = `${c.table.id}\u0001${c.user}`;
    let p = parts.get(slot);
    if (!p) parts.set(slot, (p = { table: c.table, user: c.user, changes: [] }));
    p.changes.push(c);
  }
  if (!parts) return undefined;
  const list = [...parts.values()];
  // Hot and staged first (synchronous); the cold tier only where the partition has segments.
  const cold: (() => Promise<void>)[] = [];
  for (const p of list) {
    for (const index of p.table.indexes!) if (index.unique) {
      const pending = checkPartition(engine, indexes, p.table, p.user, index, p.changes, staged);
      if (pending) cold.push(pending);
    }
  }
  if (cold.length === 0) return undefined;
  return (async () => {
    for (const run of cold) await run();
  })();
}

function checkPartition(
  engine: IndexSupportHost,
  indexes: HotIndexes,
  t: TableDef,
  user: string,
  index: IndexDef,
  changes: readonly RowChange[],
  staged: StagedRows | undefined,
): (() => Promise<void>) | undefined {
  const slots = index.columns.map((c) => t.columns.findIndex((col) => col.id === c.id));
  const deleted = deletedSlot(t);
  const changed = new Set<string>();
  for (const c of changes) changed.add(c.pkHash);
  // The tuples this statement writes: two of its own rows may not share one.
  const wanted = new Map<string, RowChange>();
  for (const c of changes) {
    if (c.row === null || c.row[deleted] === true) continue;
    const h = tupleHash(c.row, slots);
    if (h === undefined) continue;
    const other = wanted.get(h);
    if (other && other.pkHash !== c.pkHash) throw violation(t, index, slots, c.row);
    wanted.set(h, c);
  }
  if (wanted.size === 0) return undefined;
  // The group's earlier statements: their versions are the newest of their keys.
  const stagedPart = staged?.partition(t.id, user);
  const isShadowed = (pkHash: string) => changed.has(pkHash) || (stagedPart?.has(pkHash) ?? false);
  if (stagedPart) {
    for (const [pkHash, row] of stagedPart) {
      if (changed.has(pkHash) || row === null || row[deleted] === true) continue;
      const h = tupleHash(row, slots);
      if (h !== undefined && wanted.has(h)) throw violation(t, index, slots, row);
    }
  }
  // Hot rows, through the partition's index.
  const partition = engine.hot.partition(t.id, user);
  const hot = indexes.get(t, user, index, partition);
  if (hot) {
    const read = hot.openRead();
    try {
      for (const c of wanted.values()) {
        const tuple = hot.tupleOf(c.row!);
        const [start, end] = spanOf(read.entries, hot.desc, { tuple, inclusive: true }, { tuple, inclusive: true });
        for (let i = start; i < end; i++) {
          if (!isShadowed(hashKey(read.entries[i].k))) throw violation(t, index, slots, c.row!);
        }
      }
    } finally {
      read.release();
    }
  }
  if (!engine.cold.manifest.hasSegments(t.id, user)) return undefined;
  // Cold rows whose newest version is cold: the row groups the first column's values may be in.
  return async () => {
    const first = new Map<string, Value>();
    for (const c of wanted.values()) first.set(hashKey(c.row![slots[0]]), c.row![slots[0]]);
    const bounds: ScanBounds = [{ key: String(index.columns[0].id), isPk: false, op: 'in', values: [...first.values()] }];
    const prepared = await engine.coldReader.preparePartition(t, user, bounds);
    try {
      const view = engine.views.view(t, user, prepared.reads);
      for (const [pkHash, row] of view.entries()) {
        if (row[deleted] === true || isShadowed(pkHash) || partition?.has(pkHash)) continue;
        const h = tupleHash(row, slots);
        if (h !== undefined && wanted.has(h)) throw violation(t, index, slots, row);
      }
    } finally {
      prepared.release();
    }
  };
}

/**
 * CREATE UNIQUE INDEX over rows already there: every partition (each
 * user's, for a USER table) is read whole, hot and cold, and a value tuple
 * two live rows share fails the statement (nothing is created). Holds one
 * hash per live row of the partition being read.
 */
export async function verifyUniqueData(engine: IndexSupportHost, t: TableDef, index: IndexDef): Promise<void> {
  const slots = index.columns.map((c) => t.columns.findIndex((col) => col.id === c.id));
  const deleted = deletedSlot(t);
  const users = new Set<string>([...engine.hot.table(t.id).partitions.keys(), ...engine.cold.manifest.partitions(t.id).keys()]);
  for (const user of users) {
    const prepared = await engine.coldReader.preparePartition(t, user, null);
    try {
      const seen = new Set<string>();
      for (const [, row] of engine.views.view(t, user, prepared.reads).entries()) {
        if (row[deleted] === true) continue;
        const h = tupleHash(row, slots);
        if (h === undefined) continue;
        if (seen.has(h)) {
          const names = indexColumnNames(t, index).map((n) => n.replace(/ DESC$/, '')).join(', ');
          const values = slots.map((s) => describeValue(row[s])).join(', ');
          throw new KalamError('UNIQUE_VIOLATION', `Cannot create unique index ${t.namespace}.${index.name}: more than one row of table '${q(t)}' holds (${names}) = (${values}). Make the values distinct first, or create a non-unique index`);
        }
        seen.add(h);
      }
    } finally {
      prepared.release();
    }
  }
}
