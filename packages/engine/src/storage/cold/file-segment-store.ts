/**
 * Segment bytes in files (storage: 'opfs'): one file per segment in the
 * database's `segments` directory, its row groups one after another after a
 * 16-byte header, each read on its own at the offset its manifest entry
 * records. The OPFS KV store is a log replayed at open, so segment bytes
 * must not live in it: open would read the whole database.
 *
 * File `s-<table id>-<user id, URI-encoded>-<segment id>.kseg`:
 *   header 16 bytes: "KSEG", format version u32, row-group count u32, crc32 of the first 12 bytes
 *   then the row groups, group g at 16 + offsets[g] (bytes[g] long)
 *
 * `put` writes a new file and flushes it before the unit of work that
 * refers to it commits; `delete` runs after the commit that stopped
 * referring to it; open deletes files no committed entry refers to (a crash
 * between the two). Files are read through synchronous access handles, and
 * a file may have only one open at a time: handles are kept open in a
 * small LRU (`maxOpenFiles`), closed as it evicts them and at close.
 */
import { KalamError } from '../../core/errors';
import { yieldToBackground } from '../../core/yield';
import { crc32 } from '../crc32';
import { fileError, type LogDirectory, type SyncFile } from '../opfs-log-file';
import type { GroupLocation, SegmentKey, SegmentRef, SegmentStore } from './types';

export const SEGMENT_FILE_HEADER = 16;
/** Bytes a segment write puts into its file between turns of the event loop. */
const WRITE_SLICE_BYTES = 1024 * 1024;
const MAGIC = 0x4745534b; // "KSEG" read as little-endian u32
const FILE_VERSION = 1;
const NAME = /^s-(\d+)-(.*)-([^-]+)\.kseg$/;

export const segmentFileName = (k: SegmentKey) => `s-${k.tableId}-${encodeURIComponent(k.user)}-${k.segmentId}.kseg`;

function parseName(name: string): SegmentKey | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  try {
    return { tableId: Number(m[1]), user: decodeURIComponent(m[2]), segmentId: m[3] };
  } catch {
    return undefined;
  }
}

export interface FileSegmentStoreOptions {
  /**
   * Files kept open (sync access handles) at most. Default 64: more than
   * the segments of a table of a few million rows (~rows / 65,536 after
   * compaction), so point reads spread over its segments do not reopen a
   * file each time (an open is an async round trip, a read of an open file
   * is synchronous).
   */
  maxOpenFiles?: number;
}

/** An open file: its handle and the calls about to use it (never closed while any is). */
interface OpenFile {
  readonly h: SyncFile;
  users: number;
}

export class FileSegmentStore implements SegmentStore {
  /** file name → open file, least recently used first; at most maxOpenFiles not in use. */
  private readonly handles = new Map<string, OpenFile>();
  /** Opens in flight, so calls on one file share one handle; `waiters` of it will use it. */
  private readonly opening = new Map<string, { promise: Promise<OpenFile>; waiters: number }>();
  private readonly maxOpen: number;

  constructor(
    private readonly dir: LogDirectory,
    options: FileSegmentStoreOptions = {},
  ) {
    this.maxOpen = Math.max(1, options.maxOpenFiles ?? 64);
  }

  /** Open handles (tests). */
  get openFiles(): number {
    return this.handles.size;
  }

  async put(key: SegmentKey, groups: readonly Uint8Array[]): Promise<void> {
    await this.withFile(segmentFileName(key), async (h) => {
      try {
        // Sized once up front: every later write lands inside the file (a browser grants space per growth).
        let total = SEGMENT_FILE_HEADER;
        for (const g of groups) total += g.length;
        h.truncate(total);
        const header = new Uint8Array(SEGMENT_FILE_HEADER);
        const view = new DataView(header.buffer);
        view.setUint32(0, MAGIC, true);
        view.setUint32(4, FILE_VERSION, true);
        view.setUint32(8, groups.length, true);
        view.setUint32(12, crc32(header, 0, 12), true);
        h.write(header, { at: 0 });
        let at = SEGMENT_FILE_HEADER;
        let sinceYield = 0;
        for (const g of groups) {
          if (h.write(g, { at }) !== g.length) throw new Error('short write');
          at += g.length;
          // Writes are synchronous: a turn of the event loop every WRITE_SLICE_BYTES, so a compaction's segment of
          // tens of MB does not hold up the statements meanwhile.
          if ((sinceYield += g.length) >= WRITE_SLICE_BYTES) {
            sinceYield = 0;
            await yieldToBackground();
          }
        }
        h.flush();
      } catch (e) {
        throw fileError(`writing segment ${key.segmentId}`, e);
      }
    });
  }

  async readGroups(key: SegmentKey, groups: readonly GroupLocation[]): Promise<(Uint8Array | undefined)[]> {
    return this.withFile(segmentFileName(key), (h) => {
      try {
        const size = h.getSize();
        return groups.map((g) => {
          const at = SEGMENT_FILE_HEADER + g.offset;
          if (at + g.bytes > size) return undefined;
          const out = new Uint8Array(g.bytes);
          return h.read(out, { at }) === g.bytes ? out : undefined;
        });
      } catch (e) {
        throw fileError(`reading segment ${key.segmentId}`, e);
      }
    });
  }

  /** Format 1 segments never lived in files. */
  async get(): Promise<Uint8Array | undefined> {
    return undefined;
  }

  async delete(refs: readonly SegmentRef[]): Promise<void> {
    for (const ref of refs) {
      const name = segmentFileName(ref);
      await this.opening.get(name)?.promise.catch(() => undefined);
      this.closeFile(name);
      try {
        await this.dir.remove(name);
      } catch (e) {
        throw fileError(`deleting segment ${ref.segmentId}`, e);
      }
    }
  }

  async list(): Promise<SegmentKey[]> {
    const out: SegmentKey[] = [];
    for (const name of await this.dir.list()) {
      const k = parseName(name);
      if (k) out.push(k);
    }
    return out;
  }

  close(): void {
    for (const name of [...this.handles.keys()]) this.closeFile(name);
  }

  /** Runs `fn` with the file's handle (synchronous access), which no other call closes meanwhile. */
  private async withFile<T>(name: string, fn: (h: SyncFile) => T | Promise<T>): Promise<T> {
    const file = await this.acquire(name);
    try {
      return await fn(file.h);
    } finally {
      file.users--;
      this.trim();
    }
  }

  /** The open file, counted as in use from now (also while its open is in flight). */
  private acquire(name: string): Promise<OpenFile> {
    const open = this.handles.get(name);
    if (open) {
      this.handles.delete(name);
      this.handles.set(name, open);
      open.users++;
      return Promise.resolve(open);
    }
    let pending = this.opening.get(name);
    if (!pending) {
      const record = { promise: undefined as unknown as Promise<OpenFile>, waiters: 0 };
      record.promise = this.dir.open(name).then(
        (h) => {
          this.opening.delete(name);
          const file: OpenFile = { h, users: record.waiters };
          this.handles.set(name, file);
          this.trim();
          return file;
        },
        (e: unknown) => {
          this.opening.delete(name);
          const errorName = (e as { name?: string })?.name;
          if (errorName === 'NoModificationAllowedError' || errorName === 'InvalidStateError') {
            throw new KalamError('STORAGE_ERROR', 'A segment file of the OPFS database is open in another tab or worker. Close the other tabs of this site, then try again.');
          }
          throw fileError(`opening segment file ${name}`, e);
        },
      );
      this.opening.set(name, record);
      pending = record;
    }
    pending.waiters++;
    return pending.promise;
  }

  /** Closes the least recently used files not in use while more than maxOpenFiles are open. */
  private trim(): void {
    if (this.handles.size <= this.maxOpen) return;
    for (const [name, file] of this.handles) {
      if (this.handles.size <= this.maxOpen) break;
      if (file.users === 0) this.closeFile(name);
    }
  }

  private closeFile(name: string): void {
    const file = this.handles.get(name);
    if (!file) return;
    this.handles.delete(name);
    try {
      file.h.close();
    } catch {
      // already closed
    }
  }
}

export function fileSegmentStore(dir: LogDirectory, options?: FileSegmentStoreOptions): FileSegmentStore {
  return new FileSegmentStore(dir, options);
}
