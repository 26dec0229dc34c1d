/**
 * The OPFS KvStore's core: an append-only log of committed batches in one
 * file, replayed at open into an in-memory index, over an abstract directory
 * of synchronously accessed files (OPFS sync access handles in a worker; an
 * in-memory fake in tests).
 *
 * File `log-<generation>.klog`:
 *   header  16 bytes: "KLOG", format version u32, generation u32, crc32 of the first 12 bytes
 *   record  [payload length u32][crc32(payload) u32][payload]   (all little endian)
 *   payload [write count varint] then per write
 *           [flags u8: store index | 0x80 for a delete][key length varint][key]
 *           and for a put [value length varint][value (value-codec.ts)]
 *
 * Invariants:
 * - One commit = one record, written with one write(); with strict
 *   durability flush()ed before the commit resolves, with relaxed (the
 *   default) flushed within RELAXED_FLUSH_MS and at close. The index (what get/scan see)
 *   changes only after it. A batch is all there or not there: replay stops
 *   at the first record whose length or checksum is wrong (a torn tail of a
 *   crash) and truncates the file there.
 * - The index maps each live key to where its value's bytes are in the
 *   current file; values are decoded on read, never kept in memory.
 * - Compaction writes every live entry into `log-<generation+1>.klog` with
 *   the header left zero, flushes, then writes the header and flushes again:
 *   a file with a valid header is complete. At open the valid file with the
 *   highest generation is the database; every other log file is deleted.
 * - Sync access handles are exclusive: a second open of the same database
 *   (another tab's worker) fails with STORAGE_ERROR.
 */
import { KalamError } from '../core/errors';
import type { KvRange, KvStore, KvWrite, StoreName } from './kv';
import { STORE_NAMES } from './kv';
import { crc32 } from './crc32';
import { isQuotaError, quotaExceeded } from './quota';
import { ByteReader, ByteWriter, encodeValue } from './value-codec';
import {
  DELETE_FLAG, FILE_NAME, HEADER_BYTES, MAX_RECORD_BYTES, READ_WINDOW, RECORD_HEADER_BYTES, WindowReader, damaged, fileError, keyString,
  logFileName, openFile, readHeader, search, writeHeader, writeVarint5, type LogDirectory, type SyncFile,
} from './opfs-log-file';

export { logFileName, type LogDirectory, type SyncFile };
import { assertKey, assertStoreName, closedError, validateWrites } from './writes';

export interface LogStoreOptions {
  /** Compact once the file is at least this big… Default 4 MiB. */
  compactMinBytes?: number;
  /** …and at least this many times the bytes of live entries. Default 2. */
  compactRatio?: number;
  /**
   * 'relaxed' (default): a commit is written to the file (the operating
   * system has it, so it survives the worker, tab or browser crashing) and
   * flushed to the disk within RELAXED_FLUSH_MS — IndexedDB's default
   * durability in Chromium. 'strict': flushed before the commit resolves,
   * so it also survives a power loss, at a cost per commit.
   */
  durability?: Durability;
}

export type Durability = 'relaxed' | 'strict';

/** In relaxed durability, how long after a commit the file is flushed at the latest. */
export const RELAXED_FLUSH_MS = 1000;

interface Entry {
  /** The key as given (read-only once stored). */
  key: Uint8Array;
  /** Where the value's encoded bytes start in the current file, and how many. */
  offset: number;
  length: number;
}

interface StoreIndex {
  /** latin1 string of the key bytes → entry; string order of these keys is byte order. Bounded by the data stored. */
  entries: Map<string, Entry>;
  /** The keys in order, rebuilt lazily after a key is added or removed. */
  sorted: string[] | undefined;
  /** Bumped on every change, so a running scan knows to re-find its place. */
  version: number;
}

/** Statistics for tests and system.stats. */
export interface LogStats {
  generation: number;
  fileBytes: number;
  liveBytes: number;
  compactions: number;
  truncatedBytes: number;
}

export class LogStore implements KvStore {
  readonly kind = 'opfs' as const;
  private readonly indexes = new Map<StoreName, StoreIndex>();
  private readonly writer = new ByteWriter();
  private reader: WindowReader;
  /** End of the last complete record: where the next commit appends. */
  private end: number;
  /** Bytes of records attributable to live entries (an estimate used to decide on compaction). */
  private liveBytes = 0;
  private compactions = 0;
  private compacting: Promise<void> | undefined;
  /** File size at which the next compaction is tried (raised after a failed one). */
  private nextCompactAt: number;
  private closedBy: KalamError | undefined;
  private readonly compactMinBytes: number;
  private readonly compactRatio: number;
  private durability: Durability;
  /** The pending relaxed flush, if any. */
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(
    private readonly dir: LogDirectory,
    private file: SyncFile,
    private generation: number,
    readonly truncatedBytes: number,
    options: LogStoreOptions,
  ) {
    for (const s of STORE_NAMES) this.indexes.set(s, { entries: new Map(), sorted: undefined, version: 0 });
    this.reader = new WindowReader(file);
    this.end = HEADER_BYTES;
    this.compactMinBytes = options.compactMinBytes ?? 4 * 1024 * 1024;
    this.compactRatio = options.compactRatio ?? 2;
    this.nextCompactAt = this.compactMinBytes;
    this.durability = options.durability ?? 'relaxed';
  }

  setDurability(durability: Durability): void {
    this.durability = durability;
    if (durability === 'strict') this.flushPending();
  }

  /** Flushes the file now if a relaxed commit is waiting for it. */
  private flushPending(): void {
    if (this.flushTimer === undefined) return;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.closedBy !== undefined) return;
    try {
      this.file.flush();
    } catch {
      // The data is with the operating system already; the next commit or close flushes again.
    }
  }

  /** Opens (or creates) the log in `dir`, replaying it and dropping any torn tail. */
  static async open(dir: LogDirectory, options: LogStoreOptions = {}): Promise<LogStore> {
    const generations = (await dir.list())
      .map((name) => FILE_NAME.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ name: m[0], generation: Number(m[1]) }))
      .sort((a, b) => b.generation - a.generation);
    let current: { file: SyncFile; generation: number; name: string } | undefined;
    for (const candidate of generations) {
      const file = await openFile(dir, candidate.name);
      let generation: number | undefined;
      try {
        generation = readHeader(file);
      } catch (e) {
        file.close();
        throw e;
      }
      if (generation === candidate.generation) {
        current = { file, generation, name: candidate.name };
        break;
      }
      file.close(); // an unfinished compaction (or a file that never got its header): not the database
    }
    for (const other of generations) if (other.name !== current?.name) await dir.remove(other.name);
    if (!current) {
      const name = logFileName(1);
      const file = await openFile(dir, name);
      try {
        file.truncate(0);
        writeHeader(file, 1);
      } catch (e) {
        file.close();
        throw fileError('creating the database file', e);
      }
      current = { file, generation: 1, name };
    }
    const store = new LogStore(dir, current.file, current.generation, 0, options);
    const truncated = store.replay();
    (store as { truncatedBytes: number }).truncatedBytes = truncated;
    return store;
  }

  stats(): LogStats {
    return {
      generation: this.generation,
      fileBytes: this.end,
      liveBytes: this.liveBytes,
      compactions: this.compactions,
      truncatedBytes: this.truncatedBytes,
    };
  }

  /** Applies every complete record; truncates the file after the last one. Returns the bytes dropped. */
  private replay(): number {
    const size = this.file.getSize();
    let at = HEADER_BYTES;
    const head = new Uint8Array(RECORD_HEADER_BYTES);
    const headView = new DataView(head.buffer);
    let payload = new Uint8Array(READ_WINDOW);
    while (at + RECORD_HEADER_BYTES <= size) {
      if (this.file.read(head, { at }) !== RECORD_HEADER_BYTES) break;
      const length = headView.getUint32(0, true);
      const checksum = headView.getUint32(4, true);
      if (length === 0 || length > MAX_RECORD_BYTES || at + RECORD_HEADER_BYTES + length > size) break;
      if (payload.length < length) payload = new Uint8Array(length);
      if (this.file.read(payload.subarray(0, length), { at: at + RECORD_HEADER_BYTES }) !== length) break;
      if (crc32(payload, 0, length) !== checksum) break;
      try {
        this.applyRecord(payload, length, at + RECORD_HEADER_BYTES);
      } catch {
        break; // a record that checksums but does not parse: treat as the torn end
      }
      at += RECORD_HEADER_BYTES + length;
    }
    this.end = at;
    if (size > at) {
      try {
        this.file.truncate(at);
        this.file.flush();
      } catch (e) {
        throw fileError('dropping the unfinished end of the database file', e);
      }
    }
    return size - at;
  }

  /** Parses one record's payload (at file offset `base`) into the index. Applies nothing unless all of it parses. */
  private applyRecord(payload: Uint8Array, length: number, base: number): void {
    const r = new ByteReader(payload, 0, length);
    const count = r.varint();
    const parsed: { store: StoreName; key: Uint8Array; offset: number; length: number; isDelete: boolean }[] = [];
    for (let i = 0; i < count; i++) {
      const flags = r.u8();
      const store = STORE_NAMES[flags & 0x7f];
      if (store === undefined) throw damaged();
      const key = r.take(r.varint()).slice();
      if ((flags & DELETE_FLAG) !== 0) {
        parsed.push({ store, key, offset: 0, length: 0, isDelete: true });
        continue;
      }
      const valueLength = r.varint();
      const offset = r.pos;
      r.take(valueLength);
      parsed.push({ store, key, offset: base + offset, length: valueLength, isDelete: false });
    }
    if (r.pos !== length) throw damaged();
    for (const p of parsed) this.applyEntry(p.store, p.key, p.isDelete ? undefined : { key: p.key, offset: p.offset, length: p.length });
  }

  private applyEntry(store: StoreName, key: Uint8Array, entry: Entry | undefined): void {
    const index = this.indexes.get(store)!;
    const k = keyString(key);
    const before = index.entries.get(k);
    if (before) this.liveBytes -= before.length + before.key.length + 4;
    if (entry === undefined) {
      if (!before) return;
      index.entries.delete(k);
      index.sorted = undefined;
    } else {
      if (!before) index.sorted = undefined;
      index.entries.set(k, entry);
      this.liveBytes += entry.length + entry.key.length + 4;
    }
    index.version++;
  }

  private assertOpen(): void {
    if (this.closedBy !== undefined) throw this.closedBy;
  }

  private readValue(entry: Entry): unknown {
    const bytes = this.reader.read(entry.offset, entry.length);
    const r = new ByteReader(bytes);
    return r.value();
  }

  async get(store: StoreName, key: Uint8Array): Promise<unknown | undefined> {
    this.assertOpen();
    assertStoreName(store);
    assertKey(key);
    const entry = this.indexes.get(store)!.entries.get(keyString(key));
    return entry === undefined ? undefined : this.readValue(entry);
  }

  async scan(store: StoreName, range: KvRange, visit: (key: Uint8Array, value: unknown) => void): Promise<void> {
    this.assertOpen();
    assertStoreName(store);
    const index = this.indexes.get(store)!;
    const lower = keyString(range.lower);
    const upper = keyString(range.upper);
    if (!(lower < upper)) return;
    let sorted = (index.sorted ??= [...index.entries.keys()].sort());
    let version = index.version;
    let i = search(sorted, lower, false);
    while (i < sorted.length) {
      const k = sorted[i];
      if (k >= upper) return;
      const entry = index.entries.get(k)!;
      visit(entry.key, this.readValue(entry));
      if (this.closedBy !== undefined) return;
      if (index.version !== version) {
        version = index.version;
        sorted = index.sorted ??= [...index.entries.keys()].sort();
        i = search(sorted, k, true);
      } else {
        i++;
      }
    }
  }

  async commit(writes: readonly KvWrite[]): Promise<void> {
    this.assertOpen();
    validateWrites(writes);
    if (writes.length === 0) return;
    // Encode the whole batch first: a value that cannot be stored refuses the batch before any byte is written.
    const w = this.writer;
    w.reset();
    w.ensure(RECORD_HEADER_BYTES);
    w.length = RECORD_HEADER_BYTES;
    w.varint(writes.length);
    const valueAt = new Array<number>(writes.length);
    const valueLength = new Array<number>(writes.length);
    for (let i = 0; i < writes.length; i++) {
      const { store, key, value } = writes[i];
      const isDelete = value === undefined;
      w.u8(STORE_NAMES.indexOf(store) | (isDelete ? DELETE_FLAG : 0));
      w.varint(key.length);
      w.raw(key);
      if (isDelete) continue;
      // The value's length goes before it; reserve a 5-byte varint slot, then fix it up.
      const lengthAt = w.length;
      w.ensure(5);
      w.length += 5;
      const start = w.length;
      encodeValue(w, value);
      const n = w.length - start;
      writeVarint5(w.bytes, lengthAt, n);
      valueAt[i] = start;
      valueLength[i] = n;
    }
    const payloadLength = w.length - RECORD_HEADER_BYTES;
    if (payloadLength > MAX_RECORD_BYTES) {
      throw new KalamError('STORAGE_ERROR', `One commit of ${payloadLength} bytes is larger than the OPFS log allows (${MAX_RECORD_BYTES}). Nothing of it was saved; write in smaller batches.`);
    }
    w.u32At(0, payloadLength);
    w.u32At(4, crc32(w.bytes, RECORD_HEADER_BYTES, w.length));
    const at = this.end;
    const record = w.bytes.subarray(0, w.length);
    try {
      const written = this.file.write(record, { at });
      if (written !== record.length) throw Object.assign(new Error(`short write (${written} of ${record.length} bytes)`), { name: 'ShortWrite' });
      if (this.durability === 'strict') this.file.flush();
      else this.flushTimer ??= setTimeout(() => this.flushPending(), RELAXED_FLUSH_MS);
    } catch (e) {
      this.rollBackTail(at);
      throw isQuotaError(e) ? quotaExceeded('writing to the OPFS database') : fileError('writing to the OPFS database', e);
    }
    this.end = at + record.length;
    for (let i = 0; i < writes.length; i++) {
      const { store, key, value } = writes[i];
      this.applyEntry(store, key.slice(), value === undefined ? undefined : { key: key.slice(), offset: at + valueAt[i], length: valueLength[i] });
    }
    this.reader.invalidate();
    if (this.end >= this.nextCompactAt && this.end >= this.liveBytes * this.compactRatio) await this.compact();
  }

  /** After a failed append: cut the file back to its last complete record, or stop (a reopen replays and cuts it). */
  private rollBackTail(at: number): void {
    try {
      this.file.truncate(at);
      this.file.flush();
    } catch {
      this.closedBy = new KalamError('STORAGE_ERROR', 'The OPFS database file could not be restored after a failed write. Reload the page: reopening recovers every committed write.');
    }
    this.reader.invalidate();
  }

  /**
   * Rewrites the live entries into a new generation and switches to it.
   * Commits may run while the new file is being opened; the copy and the
   * switch happen in one synchronous step after that.
   */
  compact(): Promise<void> {
    this.compacting ??= this.compactNow().finally(() => {
      this.compacting = undefined;
    });
    return this.compacting;
  }

  private async compactNow(): Promise<void> {
    this.assertOpen();
    const generation = this.generation + 1;
    const name = logFileName(generation);
    let next: SyncFile;
    try {
      next = await openFile(this.dir, name);
    } catch {
      this.nextCompactAt = this.end + this.compactMinBytes;
      return; // compaction is an optimisation; the current file stays the database
    }
    if (this.closedBy !== undefined) {
      next.close();
      await this.dir.remove(name);
      return;
    }
    let moved: Map<StoreName, Map<string, Entry>>;
    let end: number;
    try {
      ({ moved, end } = this.copyLiveEntries(next));
      writeHeader(next, generation);
    } catch {
      next.close();
      await this.dir.remove(name).catch(() => undefined);
      this.nextCompactAt = this.end + this.compactMinBytes;
      return;
    }
    // The new file is complete and durable: switch to it.
    const old = this.file;
    const oldName = logFileName(this.generation);
    this.file = next;
    this.generation = generation;
    this.end = end;
    this.reader = new WindowReader(next);
    for (const [store, entries] of moved) {
      const index = this.indexes.get(store)!;
      for (const [k, e] of entries) index.entries.set(k, e);
      index.version++;
    }
    this.compactions++;
    this.nextCompactAt = Math.max(this.compactMinBytes, end * this.compactRatio);
    old.close();
    await this.dir.remove(oldName);
  }

  /** Writes every live entry into `next` as records of at most READ_WINDOW * 16 bytes; returns the new offsets. */
  private copyLiveEntries(next: SyncFile): { moved: Map<StoreName, Map<string, Entry>>; end: number } {
    next.truncate(0);
    next.write(new Uint8Array(HEADER_BYTES), { at: 0 }); // zero header: incomplete until the real one is written
    const moved = new Map<StoreName, Map<string, Entry>>();
    const w = new ByteWriter();
    let at = HEADER_BYTES;
    let pending: { store: StoreName; k: string; key: Uint8Array; valueAt: number; length: number }[] = [];
    const flushRecord = () => {
      if (pending.length === 0) return;
      // Payload = [count][writes…]; the count was reserved as 5 bytes at the start.
      const payloadLength = w.length - RECORD_HEADER_BYTES;
      writeVarint5(w.bytes, RECORD_HEADER_BYTES, pending.length);
      w.u32At(0, payloadLength);
      w.u32At(4, crc32(w.bytes, RECORD_HEADER_BYTES, w.length));
      const record = w.bytes.subarray(0, w.length);
      if (next.write(record, { at }) !== record.length) throw new Error('short write');
      for (const p of pending) {
        let entries = moved.get(p.store);
        if (!entries) moved.set(p.store, (entries = new Map()));
        entries.set(p.k, { key: p.key, offset: at + p.valueAt, length: p.length });
      }
      at += record.length;
      pending = [];
    };
    const start = () => {
      w.reset();
      w.ensure(RECORD_HEADER_BYTES + 5);
      w.length = RECORD_HEADER_BYTES + 5;
    };
    start();
    for (const store of STORE_NAMES) {
      const index = this.indexes.get(store)!;
      for (const [k, entry] of index.entries) {
        const value = this.reader.read(entry.offset, entry.length);
        w.u8(STORE_NAMES.indexOf(store));
        w.varint(entry.key.length);
        w.raw(entry.key);
        w.varint(entry.length);
        const valueAt = w.length;
        w.raw(value);
        pending.push({ store, k, key: entry.key, valueAt, length: entry.length });
        if (w.length >= READ_WINDOW * 16) {
          flushRecord();
          start();
        }
      }
    }
    flushRecord();
    next.truncate(at);
    next.flush();
    return { moved, end: at };
  }

  async close(): Promise<void> {
    if (this.compacting) await this.compacting.catch(() => undefined);
    this.flushPending();
    if (this.closedBy?.code === 'CLOSED') return;
    this.closedBy = closedError();
    this.file.close();
    for (const index of this.indexes.values()) index.entries.clear();
  }
}

