/**
 * The export file (`db.exportDatabase()`, `session.exportUserData()`): one
 * binary file, read and written in bounded pieces.
 *
 *   magic   "KALAMLITE-EXPORT\n" (17 ASCII bytes)
 *   version u32 little-endian (BACKUP_FORMAT_VERSION)
 *   records, each: u32 payload length, u32 CRC-32 of the payload, payload
 *
 * A payload is one value in the engine's storage value codec
 * (storage/value-codec.ts: bigints, bytes, -0, ±Infinity, any unicode text
 * and nested JSON round-trip exactly). Records, in order: one `header`, the
 * `namespace`, `user` and `table` records, then `rows` records (up to
 * ROWS_PER_RECORD rows of one table partition each), then one `end` record
 * with the totals. A file without its `end` record is truncated.
 *
 * Format 2 (written when a table has a FILE column; format 1 otherwise, so
 * older builds still read exports without files) adds `file` records: the
 * bytes of each file a `rows` record names, in pieces of FILE_PIECE_BYTES,
 * just before that `rows` record — the first piece carries the FileRef,
 * the next ones its id and offset. Format 1 files are still read.
 *
 * Writing: each record becomes its own bytes, gathered into Blob pieces of
 * about BLOB_PIECE_BYTES, so no record list or string of the whole database
 * is ever built. Reading: the Blob is read in slices of READ_SLICE_BYTES
 * (more only for a larger record, at most MAX_RECORD_BYTES).
 */
import type { UserRecord } from '../auth/users';
import type { NamespaceDef } from '../catalog/catalog';
import { KalamError } from '../core/errors';
import type { StoredRow, TableDef } from '../core/schema';
import type { FileRef } from '../core/types';
import { crc32 } from '../storage/crc32';
import { ByteReader, ByteWriter, encodeValue } from '../storage/value-codec';

export const BACKUP_MAGIC = 'KALAMLITE-EXPORT\n';
/** The format this build writes, and the newest it reads. */
export const BACKUP_FORMAT_VERSION = 2;
/** Bytes of a file per `file` record. */
export const FILE_PIECE_BYTES = 1 << 20;
/** Rows per `rows` record (fewer when the record reaches RECORD_TARGET_BYTES first). */
export const ROWS_PER_RECORD = 1024;
/** A `rows` record is closed once its payload passes this many bytes. */
export const RECORD_TARGET_BYTES = 1 << 20;
/** The largest record a reader accepts (one row may be large; a damaged length must not allocate gigabytes). */
export const MAX_RECORD_BYTES = 256 << 20;
const BLOB_PIECE_BYTES = 8 << 20;
const READ_SLICE_BYTES = 1 << 20;

const MAGIC_BYTES = new TextEncoder().encode(BACKUP_MAGIC);
const PREAMBLE_BYTES = MAGIC_BYTES.length + 4;

/** What a file holds: a whole database, or one user's data (exportUserData). */
export type BackupKind = 'database' | 'user';

export type BackupRecord =
  | { t: 'header'; kind: BackupKind; createdAt: number; user?: string }
  | { t: 'namespace'; def: NamespaceDef }
  | { t: 'user'; record: UserRecord }
  | { t: 'table'; def: TableDef }
  /** Rows of one partition of table `table` (the table record's id in the file); each a stored row without tombstones. */
  | { t: 'rows'; table: number; user: string; rows: StoredRow[] }
  /** A piece of a file the next `rows` record names: the first (`at` 0) carries its FileRef, the others its id. */
  | { t: 'file'; ref?: FileRef; id?: string; at: number; bytes: Uint8Array }
  | { t: 'end'; tables: number; rows: number };

/** Progress of an export or import: rows and tables done so far. */
export interface BackupProgress {
  rows: number;
  tables: number;
}

export interface BackupOptions {
  /** Called (never awaited) after each chunk of rows and each table: rows and tables done so far. */
  onProgress?: (progress: BackupProgress) => void;
}

export function invalidFile(detail: string): KalamError {
  return new KalamError('IMPORT_INVALID_FILE', `The file is not a kalamlite export that can be read: ${detail}. Nothing was imported. Use a file made by exportDatabase() or exportUserData(), whole and unchanged.`);
}

/** Writes records into Blob pieces. */
export class BackupWriter {
  private readonly w = new ByteWriter();
  private readonly pieces: Blob[] = [];
  private parts: Uint8Array[] = [];
  private partBytes = 0;

  /** `version`: 1 unless the file holds `file` records. */
  constructor(version = 1) {
    const head = new Uint8Array(PREAMBLE_BYTES);
    head.set(MAGIC_BYTES);
    new DataView(head.buffer).setUint32(MAGIC_BYTES.length, version, true);
    this.push(head);
  }

  /** Appends one record; returns its payload size. */
  write(record: BackupRecord): number {
    const w = this.w;
    w.reset();
    w.ensure(8);
    w.length = 8;
    encodeValue(w, record);
    const size = w.length - 8;
    w.u32At(0, size);
    w.u32At(4, crc32(w.bytes, 8, w.length));
    this.push(w.bytes.slice(0, w.length));
    return size;
  }

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.partBytes += bytes.length;
    if (this.partBytes >= BLOB_PIECE_BYTES) this.seal();
  }

  private seal(): void {
    if (this.parts.length === 0) return;
    this.pieces.push(new Blob(this.parts as BlobPart[]));
    this.parts = [];
    this.partBytes = 0;
  }

  finish(): Blob {
    this.seal();
    return new Blob(this.pieces, { type: 'application/octet-stream' });
  }
}

const RECORD_TYPES = new Set(['header', 'namespace', 'user', 'table', 'rows', 'file', 'end']);

/** Reads records back from a Blob, a slice at a time; every failure is IMPORT_INVALID_FILE or IMPORT_VERSION_UNSUPPORTED. */
export class BackupReader {
  /** Bytes read from the Blob and not yet consumed: buffer[at, buffer.length). */
  private buffer = new Uint8Array(0);
  private at = 0;
  /** Offset in the Blob of the byte after `buffer`. */
  private offset = 0;
  private isEnded = false;

  private constructor(private readonly blob: Blob) {}

  static async open(blob: Blob): Promise<BackupReader> {
    if (typeof Blob === 'undefined' || !(blob instanceof Blob)) {
      throw new KalamError('INVALID_PARAMETER', 'importDatabase() takes the Blob (or File) exportDatabase() returned');
    }
    const r = new BackupReader(blob);
    if (!(await r.fill(PREAMBLE_BYTES))) throw invalidFile(blob.size === 0 ? 'it is empty' : 'it is too short to be an export');
    for (let i = 0; i < MAGIC_BYTES.length; i++) {
      if (r.buffer[r.at + i] !== MAGIC_BYTES[i]) throw invalidFile('it does not start with the export header');
    }
    const version = new DataView(r.buffer.buffer, r.buffer.byteOffset + r.at + MAGIC_BYTES.length, 4).getUint32(0, true);
    r.at += PREAMBLE_BYTES;
    if (version === 0) throw invalidFile('its format version is 0');
    if (version > BACKUP_FORMAT_VERSION) {
      throw new KalamError(
        'IMPORT_VERSION_UNSUPPORTED',
        `The file is an export in format ${version}, newer than this kalamlite reads (format ${BACKUP_FORMAT_VERSION}). Nothing was imported. Upgrade kalamlite to import it.`,
      );
    }
    return r;
  }

  /** Makes at least `n` unconsumed bytes available; false when the Blob ends first. */
  private async fill(n: number): Promise<boolean> {
    while (this.buffer.length - this.at < n) {
      if (this.offset >= this.blob.size) return false;
      const want = Math.max(READ_SLICE_BYTES, n - (this.buffer.length - this.at));
      const end = Math.min(this.blob.size, this.offset + want);
      let slice: Uint8Array;
      try {
        slice = new Uint8Array(await this.blob.slice(this.offset, end).arrayBuffer());
      } catch (e) {
        throw new KalamError('IMPORT_INVALID_FILE', `The file could not be read (${e instanceof Error ? e.message : String(e)}). Nothing more was imported; choose the file again.`);
      }
      this.offset = end;
      const rest = this.buffer.subarray(this.at);
      const next = new Uint8Array(rest.length + slice.length);
      next.set(rest);
      next.set(slice, rest.length);
      this.buffer = next;
      this.at = 0;
    }
    return true;
  }

  /** The next record; undefined after the `end` record (trailing bytes are refused). */
  async next(): Promise<BackupRecord | undefined> {
    if (this.isEnded) return undefined;
    if (!(await this.fill(8))) throw invalidFile('it is truncated (it ends before its last record)');
    const view = new DataView(this.buffer.buffer, this.buffer.byteOffset + this.at, 8);
    const size = view.getUint32(0, true);
    const crc = view.getUint32(4, true);
    if (size === 0 || size > MAX_RECORD_BYTES) throw invalidFile(`a record length (${size} bytes) is damaged`);
    if (!(await this.fill(8 + size))) throw invalidFile('it is truncated (its last record is cut off)');
    const start = this.at + 8;
    const end = start + size;
    if (crc32(this.buffer, start, end) !== crc) throw invalidFile('a record is damaged (its checksum does not match)');
    let value: unknown;
    try {
      const reader = new ByteReader(this.buffer, start, end);
      value = reader.value();
      if (reader.pos !== end) throw new Error('trailing bytes');
    } catch {
      throw invalidFile('a record does not decode');
    }
    this.at = end;
    const record = value as BackupRecord;
    if (typeof record !== 'object' || record === null || !RECORD_TYPES.has((record as { t?: unknown }).t as string)) {
      throw invalidFile('a record is of an unknown kind');
    }
    if (record.t === 'end') {
      this.isEnded = true;
      if (this.buffer.length > this.at || this.offset < this.blob.size) throw invalidFile('it has bytes after its last record');
    }
    return record;
  }
}

/** exportDatabase()/importDatabase() options, read once: INVALID_OPTION for anything but `{ onProgress?: function }`. */
export function checkBackupOptions(options: unknown, call: string): BackupOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) throw new KalamError('INVALID_OPTION', `${call} options must be an object, for example { onProgress: (p) => … }`);
  const { onProgress, ...rest } = options as BackupOptions & Record<string, unknown>;
  const unknown = Object.keys(rest).filter((k) => rest[k] !== undefined);
  if (unknown.length > 0) throw new KalamError('INVALID_OPTION', `Unknown ${call} option '${unknown[0]}'. Valid options: onProgress`);
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new KalamError('INVALID_OPTION', `${call} option onProgress must be a function ({ rows, tables }) => void`);
  return onProgress === undefined ? {} : { onProgress };
}
