/**
 * The hot tier: every table's rows in memory, partitioned by user, each
 * partition the newest version of each row by primary-key hash and in
 * primary-key order (see Partition).
 * It is loaded from the KV store at open and changed only after a commit
 * succeeded, so it always equals what is durable.
 *
 * A stored row is a frozen array: the table's columns in declaration order,
 * then `_seq` (bigint), then `_deleted` (boolean). Tombstones stay (soft
 * delete) so a WHERE that names `_deleted` can see them.
 *
 * Durable layout: pages. A partition's rows are stored in pages of up to
 * PAGE_ROWS rows, one KV record per page under the key (table id, user id,
 * page number); the value is `{ rows }`. A new key goes into the partition's
 * open page (the newest one with room; keys of small commits into small
 * pages of SMALL_PAGE_ROWS), an existing key stays in its page,
 * and a commit rewrites each page it touches — from memory, since the hot
 * tier holds every row — or deletes it when it emptied. Measured in
 * Chromium against one record per row (bench/hot-layout.mjs): pages of 64
 * made a 10,000-row bulk insert 30–45× and loading every row 5–7× faster,
 * with single-row inserts no slower, because IndexedDB's cost is per record.
 *
 * Databases written with one record per row (storage format 1) are
 * rewritten into pages, in one commit, the first time they are opened.
 */
import { rowBytes, type StoredRow, type TableDef } from '../core/schema';
import type { Value } from '../core/types';
import { hashKey } from '../core/values';
import { Partition } from './hot-partition';
import { decodeKey, encodeKey, prefixUpperBound } from './keys';
import type { KvStore, KvWrite, StoreName } from './kv';


/** Rows per durable page, at most. */
export const PAGE_ROWS = 64;
/**
 * Rows per page for keys that arrive a few at a time: a commit adding fewer
 * than this many new keys to a partition puts them in a small page, so a
 * single-row insert rewrites at most this many rows instead of up to
 * PAGE_ROWS (measured in Chromium through the worker: single-row insert on
 * OPFS 0.68 ms with 64-row pages, 0.36 ms with one row per record).
 */
export const SMALL_PAGE_ROWS = 8;

export { Partition };

/** The stored value of one page. */
export interface PageRecord {
  rows: StoredRow[];
}

export interface TableRows {
  /** user id ('' for SHARED tables) → partition; shrunk when a partition empties. */
  partitions: Map<string, Partition>;
  /** Live rows (not tombstones) across partitions. */
  liveRows: number;
  tombstones: number;
  /** Rough bytes of every row held, across partitions. */
  bytes: number;
}

/** One row change to stage: `row === null` removes the key from the hot tier. */
export interface HotChange {
  tableId: number;
  user: string;
  pkHash: string;
  /** The row identity `pkHash` hashes: the primary key, or `_seq` without one (the partition's key order). */
  key: Value;
  row: StoredRow | null;
  store: StoreName;
  /** Index of `_deleted` in the row. */
  deletedSlot: number;
  /** Index of `_deleted` in the version it replaces, when that has another layout (ALTER TABLE rewriting rows). */
  beforeDeletedSlot?: number;
}

/** Changes turned into page writes; `apply` puts them into memory once the writes are committed. */
export interface StagedChanges {
  writes: KvWrite[];
  apply(): void;
}

/** Told of every row version the hot tier sets or removes, as it happens (secondary indexes keep current by it: storage/hot-index.ts). */
export interface HotObserver {
  put(tableId: number, user: string, pkHash: string, key: Value, before: StoredRow | undefined, after: StoredRow | null): void;
  partitionEmptied(tableId: number, user: string): void;
  /** The table is gone, or its rows were rewritten to another layout. */
  forget(tableId: number): void;
  /** Entries held (system.stats). */
  readonly entries: number;
  readonly coldReads?: number;
}

export class HotTier {
  /** table id → rows; an entry per existing table, removed by DROP TABLE. */
  private readonly tables = new Map<number, TableRows>();
  private heldBytes = 0;
  /** Set once secondary indexes are loaded (execute/index-support.ts). */
  observer?: HotObserver;

  table(tableId: number): TableRows {
    let t = this.tables.get(tableId);
    if (!t) {
      t = { partitions: new Map(), liveRows: 0, tombstones: 0, bytes: 0 };
      this.tables.set(tableId, t);
    }
    return t;
  }

  partition(tableId: number, user: string): Partition | undefined {
    return this.tables.get(tableId)?.partitions.get(user);
  }

  dropTable(tableId: number): void {
    const t = this.tables.get(tableId);
    if (t) this.heldBytes -= t.bytes;
    this.tables.delete(tableId);
    this.observer?.forget(tableId);
  }

  /** Rough bytes of every hot row of every table (the hot tier's budget counts these). */
  get bytes(): number {
    return this.heldBytes;
  }

  /**
   * The page writes of a batch of changes, computed without changing
   * anything: commit `writes`, then call `apply`. Writes are serialized by
   * the engine, so nothing changes the hot tier between the two.
   */
  stage(changes: Iterable<HotChange>): StagedChanges {
    // Per partition, the last change per key wins (a batch may change a key twice).
    const groups = new Map<TableRows, Map<string, { first: HotChange; overlay: Map<string, StoredRow | null>; keys: Map<string, Value> }>>();
    for (const c of changes) {
      const t = this.table(c.tableId);
      let byUser = groups.get(t);
      if (!byUser) groups.set(t, (byUser = new Map()));
      let g = byUser.get(c.user);
      if (!g) byUser.set(c.user, (g = { first: c, overlay: new Map(), keys: new Map() }));
      g.overlay.set(c.pkHash, c.row);
      g.keys.set(c.pkHash, c.key);
    }
    const writes: KvWrite[] = [];
    const applies: (() => void)[] = [];
    for (const [t, byUser] of groups) {
      for (const [user, { first, overlay, keys }] of byUser) {
        const p = t.partitions.get(user);
        let newKeys = 0;
        for (const [hash, row] of overlay) if (row !== null && p?.pageOf.get(hash) === undefined) newKeys++;
        const isSmall = newKeys < SMALL_PAGE_ROWS;
        const capacity = isSmall ? SMALL_PAGE_ROWS : PAGE_ROWS;
        let open = p ? (isSmall ? p.openSmall : p.open) : -1;
        let openSize = p && open >= 0 ? (p.pages.get(open)?.size ?? 0) : 0;
        let nextPage = p ? p.nextPage : 0;
        const touched = new Set<number>();
        const added = new Map<number, string[]>();
        const placed: { hash: string; page: number }[] = [];
        for (const [hash, row] of overlay) {
          const page = p?.pageOf.get(hash);
          if (page !== undefined) {
            touched.add(page);
          } else if (row !== null) {
            if (open < 0 || openSize >= capacity) {
              open = nextPage++;
              openSize = 0;
            }
            openSize++;
            touched.add(open);
            let list = added.get(open);
            if (!list) added.set(open, (list = []));
            list.push(hash);
            placed.push({ hash, page: open });
          }
        }
        for (const page of touched) {
          const rows: StoredRow[] = [];
          const members = p?.pages.get(page);
          if (members) {
            for (const hash of members) {
              const row = overlay.has(hash) ? overlay.get(hash)! : p!.get(hash);
              if (row) rows.push(row);
            }
          }
          for (const hash of added.get(page) ?? []) rows.push(overlay.get(hash)!);
          const key = pageKey(first.tableId, user, page);
          writes.push(rows.length > 0 ? { store: first.store, key, value: { rows } satisfies PageRecord } : { store: first.store, key });
        }
        const finalOpen = open;
        const finalNext = nextPage;
        applies.push(() => {
          for (const [hash, row] of overlay) this.put(first.tableId, user, hash, keys.get(hash)!, row, first.deletedSlot, first.beforeDeletedSlot ?? first.deletedSlot);
          const q = t.partitions.get(user);
          if (!q) return; // every row of the partition was removed
          q.settle();
          for (const { hash, page } of placed) if (q.has(hash)) place(q, hash, page);
          for (const [hash, row] of overlay) if (row === null) unplace(q, hash);
          if (isSmall) q.openSmall = finalOpen;
          else q.open = finalOpen;
          q.nextPage = finalNext;
        });
      }
    }
    return {
      writes,
      apply: () => {
        for (const a of applies) a();
      },
    };
  }

  /** Deletes of every stored page of a table (DROP TABLE). */
  deleteWrites(tableId: number, store: StoreName): KvWrite[] {
    const writes: KvWrite[] = [];
    for (const [user, p] of this.tables.get(tableId)?.partitions ?? []) {
      for (const page of p.pages.keys()) writes.push({ store, key: pageKey(tableId, user, page) });
    }
    return writes;
  }

  /** Number of stored pages across every table (system.stats). */
  pageCount(): number {
    let n = 0;
    for (const t of this.tables.values()) for (const p of t.partitions.values()) n += p.pages.size;
    return n;
  }

  /** Sets (or with `row === null` removes) the version in memory; pages are the caller's (see stage). */
  private put(tableId: number, user: string, pkHash: string, key: Value, row: StoredRow | null, deletedSlot: number, beforeDeletedSlot = deletedSlot): void {
    const t = this.table(tableId);
    let p = t.partitions.get(user);
    const before = p?.get(pkHash);
    if (this.observer) {
      if (deletedSlot === beforeDeletedSlot) this.observer.put(tableId, user, pkHash, key, before, row);
      else this.observer.forget(tableId);
    }
    if (before) {
      if (before[beforeDeletedSlot] === true) t.tombstones--;
      else t.liveRows--;
      const b = rowBytes(before);
      p!.bytes -= b;
      t.bytes -= b;
      this.heldBytes -= b;
    }
    if (row === null) {
      if (p && before) {
        p.delete(pkHash);
        p.noteRemove(key);
        if (p.size === 0) {
          t.partitions.delete(user);
          this.observer?.partitionEmptied(tableId, user);
        }
      }
      return;
    }
    if (!p) {
      p = new Partition();
      t.partitions.set(user, p);
    }
    p.set(pkHash, row);
    p.noteSet(key, row, before === undefined);
    const b = rowBytes(row);
    p.bytes += b;
    t.bytes += b;
    this.heldBytes += b;
    if (row[deletedSlot] === true) t.tombstones++;
    else t.liveRows++;
  }

  /**
   * Loads one table's rows from storage. Calls `onRow` with each so the
   * caller can name its key (the primary key, or `_seq`) and observe `_seq`. Rows stored one per
   * record (storage format 1) must move into pages: resolves with that
   * move (the old records' deletes and the page writes, as one change for
   * the caller to commit), or undefined when there is none.
   */
  async load(
    kv: KvStore,
    store: StoreName,
    tableId: number,
    onRow: (user: string, row: StoredRow) => Value,
    deletedSlot: number,
    /** Puts a row read back into the engine's forms before it is frozen (a DECIMAL revived from its stored form). */
    revive?: (row: Value[]) => void,
  ): Promise<(StagedChanges & { rows: number }) | undefined> {
    const lower = encodeKey([tableId]);
    const legacy: { key: Uint8Array; user: string; hash: string; pk: Value }[] = [];
    await kv.scan(store, { lower, upper: prefixUpperBound(lower) }, (key, value) => {
      const parts = decodeKey(key);
      const user = String(parts[1]);
      if (Array.isArray(value)) {
        // one record per row: the key's third part is the primary key
        revive?.(value as Value[]);
        const row = Object.freeze(value as Value[]);
        const pk = onRow(user, row);
        const hash = hashKey(pk);
        this.put(tableId, user, hash, pk, row, deletedSlot);
        legacy.push({ key: key.slice(), user, hash, pk });
        return;
      }
      const page = Number(parts[2]);
      for (const stored of (value as PageRecord).rows) {
        revive?.(stored as Value[]);
        const row = Object.freeze(stored as Value[]);
        const pk = onRow(user, row);
        const hash = hashKey(pk);
        this.put(tableId, user, hash, pk, row, deletedSlot);
        place(this.partition(tableId, user)!, hash, page);
      }
    });
    for (const p of this.table(tableId).partitions.values()) {
      p.settle(); // one sort per partition
      let last = -1;
      for (const page of p.pages.keys()) if (page > last) last = page;
      p.nextPage = last + 1;
      // New keys start new pages after a reopen (whether a page was small is not stored): at most one part-filled page per kind and open.
      p.open = -1;
      p.openSmall = -1;
    }
    if (legacy.length === 0) return undefined;
    // Deletes first: a page key may equal an old row key (a numeric primary key), and the put must win.
    const staged = this.stage(
      legacy.map(({ user, hash, pk }) => ({ tableId, user, pkHash: hash, key: pk, row: this.partition(tableId, user)!.get(hash)!, store, deletedSlot })),
    );
    // The rows are in memory but in no page yet, so stage() placed each in a new page.
    return { writes: [...legacy.map(({ key }) => ({ store, key })), ...staged.writes], apply: staged.apply, rows: legacy.length };
  }
}

function place(p: Partition, hash: string, page: number): void {
  p.pageOf.set(hash, page);
  let members = p.pages.get(page);
  if (!members) p.pages.set(page, (members = new Set()));
  members.add(hash);
}

function unplace(p: Partition, hash: string): void {
  const page = p.pageOf.get(hash);
  if (page === undefined) return;
  p.pageOf.delete(hash);
  const members = p.pages.get(page)!;
  members.delete(hash);
  if (members.size === 0) {
    p.pages.delete(page);
    if (p.open === page) p.open = -1;
    if (p.openSmall === page) p.openSmall = -1;
  }
}

/** The store a table's hot pages live in. */
export const storeOf = (t: Pick<TableDef, 'type'>): StoreName => (t.type === 'USER' ? 'user' : t.type === 'SHARED' ? 'shared' : 'stream');

/** The storage key of a page: (table id, user id, page number). */
export function pageKey(tableId: number, user: string, page: number): Uint8Array {
  return encodeKey([tableId, user, page]);
}

/** The storage key of a row in storage format 1 (one record per row): (table id, user id, primary key). Tests only. */
export function legacyRowKey(tableId: number, user: string, pk: Value): Uint8Array {
  return encodeKey([tableId, user, pk as string | number | bigint | boolean | Uint8Array | null]);
}
