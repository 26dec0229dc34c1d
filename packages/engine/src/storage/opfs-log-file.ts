/**
 * The OPFS log's file format and file access: header, record framing
 * constants, a windowed reader, and the mapping of file errors to
 * KalamErrors. The store built on it is opfs-log.ts.
 */
import { KalamError } from '../core/errors';
import { crc32 } from './crc32';
import { isQuotaError, quotaExceeded } from './quota';

/** The synchronous file API of a FileSystemSyncAccessHandle, as this store uses it. */
export interface SyncFile {
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  getSize(): number;
  close(): void;
}

/** A directory of files opened for exclusive synchronous access. */
export interface LogDirectory {
  list(): Promise<string[]>;
  /** Opens the file, creating it if missing; fails while another handle to it is open. */
  open(name: string): Promise<SyncFile>;
  remove(name: string): Promise<void>;
}

export const MAGIC = 0x474f4c4b; // "KLOG" read as little-endian u32
export const FORMAT_VERSION = 1;
export const HEADER_BYTES = 16;
export const RECORD_HEADER_BYTES = 8;
export const DELETE_FLAG = 0x80;
/** Bytes read at a time while replaying or scanning. */
export const READ_WINDOW = 256 * 1024;
/** Largest single commit record (the length field is a u32). */
export const MAX_RECORD_BYTES = 0x7fff_0000;

export const FILE_NAME = /^log-(\d{1,10})\.klog$/;
export const logFileName = (generation: number) => `log-${String(generation).padStart(8, '0')}.klog`;

export function keyString(key: Uint8Array): string {
  let s = '';
  for (let i = 0; i < key.length; i += 4096) s += String.fromCharCode.apply(null, key.subarray(i, i + 4096) as unknown as number[]);
  return s;
}

/** First index whose key is >= key (or > key when `isAfter`). */
export function search(keys: readonly string[], key: string, isAfter: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid];
    if (k < key || (isAfter && k === key)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function writeHeader(file: SyncFile, generation: number): void {
  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, generation, true);
  view.setUint32(12, crc32(header, 0, 12), true);
  file.write(header, { at: 0 });
  file.flush();
}

/** The generation a file's header names, or undefined if the header is not a complete kalamlite header. */
export function readHeader(file: SyncFile): number | undefined {
  if (file.getSize() < HEADER_BYTES) return undefined;
  const header = new Uint8Array(HEADER_BYTES);
  if (file.read(header, { at: 0 }) !== HEADER_BYTES) return undefined;
  const view = new DataView(header.buffer);
  if (view.getUint32(0, true) !== MAGIC || view.getUint32(12, true) !== crc32(header, 0, 12)) return undefined;
  if (view.getUint32(4, true) !== FORMAT_VERSION) {
    throw new KalamError('STORAGE_ERROR', 'This OPFS database was written by a newer version of kalamlite. Reload the page to get the newest version.');
  }
  return view.getUint32(8, true);
}

/** Reads a file through a window, so many small reads in file order cost few real reads. */
export class WindowReader {
  private buffer = new Uint8Array(READ_WINDOW);
  private start = 0;
  private end = 0;

  constructor(private readonly file: SyncFile) {}

  invalidate(): void {
    this.end = this.start;
  }

  /** `length` bytes at `offset`; the view is valid until the next call. */
  read(offset: number, length: number): Uint8Array {
    if (offset >= this.start && offset + length <= this.end) {
      return this.buffer.subarray(offset - this.start, offset - this.start + length);
    }
    if (length > this.buffer.length) this.buffer = new Uint8Array(length);
    // Reading backwards through the file (keys written in descending order): end the window at this value.
    const isBackwards = offset < this.start && this.end > this.start;
    const at = isBackwards ? Math.max(0, offset + length - this.buffer.length) : offset;
    const n = this.file.read(this.buffer, { at });
    this.start = at;
    this.end = at + n;
    if (at + n < offset + length) throw damaged();
    return this.buffer.subarray(offset - at, offset - at + length);
  }
}

export function damaged(): KalamError {
  return new KalamError('STORAGE_ERROR', 'The OPFS database file is shorter than its index says: it was changed outside kalamlite. Reload the page; if it persists, delete the database.');
}

/** A varint padded to exactly 5 bytes (so it can be written after the bytes it counts). */
export function writeVarint5(bytes: Uint8Array, at: number, v: number): void {
  for (let i = 0; i < 4; i++) {
    bytes[at + i] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  bytes[at + 4] = v & 0x7f;
}

export async function openFile(dir: LogDirectory, name: string): Promise<SyncFile> {
  try {
    return await dir.open(name);
  } catch (e) {
    const errorName = (e as { name?: string })?.name;
    if (errorName === 'NoModificationAllowedError' || errorName === 'InvalidStateError') {
      throw new KalamError(
        'STORAGE_ERROR',
        'The OPFS database is open in another tab or worker (its file is locked). Close the other tabs of this site, or share one engine between tabs, then try again.',
      );
    }
    throw fileError(`opening the database file ${name}`, e);
  }
}

export function fileError(action: string, e: unknown): KalamError {
  if (e instanceof KalamError) return e;
  if (isQuotaError(e)) return quotaExceeded(action);
  const name = (e as { name?: string })?.name ?? '';
  const detail = e instanceof Error ? e.message : String(e);
  return new KalamError('STORAGE_ERROR', `OPFS failed while ${action}${name ? ` (${name}: ${detail})` : ` (${detail})`}; nothing of this write was saved. Retry; if it keeps failing, reload the page.`);
}
