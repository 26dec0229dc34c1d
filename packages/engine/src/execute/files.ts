/**
 * FILE columns: the bytes of each file in a blob store beside the KV store
 * (storage/blob-store.ts), the row holding its FileRef. Loaded on first use
 * (files-loader.ts): by a statement given a Blob parameter, by a commit
 * touching a table with a FILE column, at open when files were ever stored.
 *
 * Life of a file:
 *   1. upload — a Blob parameter is streamed into the store under a new
 *      random id (hashed and counted as it goes, never held whole) and
 *      replaced by its FileRef; it is *pending*: nothing can read it.
 *   2. claim — the commit of a row holding that FileRef in a FILE column
 *      writes the file's record (`['file', id]` → table, partition, size,
 *      mime; `['file_t', table, id]` for DROP TABLE) in the same storage
 *      commit as the row. A FILE value that is new in its row must be a file
 *      uploaded for this very call, claimed once: a FileRef copied from
 *      another row, typed in, or another user's is refused, so no row ever
 *      names a file it does not own.
 *   3. release — after the call, a pending upload no commit claimed is
 *      deleted (a failed statement leaves no file behind).
 *   4. delete — a commit whose row stops holding a FileRef (DELETE, UPDATE
 *      to another file or NULL, STREAM expiry, DROP TABLE) deletes its
 *      record in that commit and its blob right after.
 * A crash between 1 and 2, or between 4's commit and the blob's deletion,
 * leaves a blob without a record: open deletes those.
 *
 * Reading: `readFile` finds the record, and hands the blob out only to a
 * session whose partition of that table the record names (USER and STREAM
 * tables: the file's owner; SHARED tables: any role the access level lets
 * read it).
 */
import { checkRead } from '../auth/permissions';
import type { Catalog } from '../catalog/catalog';
import { KalamError } from '../core/errors';
import { seqMillis } from '../core/ids';
import { deletedSlot, partitionOf, seqSlot, type RowChange, type TableDef } from '../core/schema';
import { Sha256 } from '../core/sha256';
import type { FileRef, ParamValue, Value } from '../core/types';
import { MemoryBlobStore, type BlobStore } from '../storage/blob-store';
import { openIdbBlobStore } from '../storage/idb-blob-store';
import { encodeKey, prefixUpperBound } from '../storage/keys';
import type { KvStore, KvWrite } from '../storage/kv';
import { opfsBlobStore } from '../storage/opfs-blob-store';
import type { StateChange, UnitOfWork } from '../storage/unit-of-work';
import type { JobRecord, RecordedRunner } from '../jobs/job';
import { fileSlots, freeWrites, keyId, MARKER, recordKey, retainKey, tableKey, type FileRecord } from './files-keys';
import { purgeRetainedFiles } from './files-purge';
import { checkReadFileOptions, readAs, type ReadFileHost, type ReadFileOptions } from './files-access';
import type { ResolvedOptions } from './options';
import { loadOpfs } from './opfs-loader';
import type { SessionState } from './session-state';
import type { Transaction } from './transaction';

/** What the file code needs of the engine. */
export interface FilesHost {
  readonly kv: KvStore;
  readonly catalog: Catalog;
  readonly options: ResolvedOptions;
  files: Files | undefined;
  readonly committer: { files: { stage(unit: UnitOfWork): Promise<StateChange | undefined> } | undefined };
  commit(unit: UnitOfWork): Promise<void>;
  /** Runs `fn` while no statement writes. */
  exclusive<T>(fn: () => Promise<T> | T): Promise<T>;
}

const idOf = (v: Value | undefined): string | undefined => {
  const id = typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) ? (v as { id?: unknown }).id : undefined;
  return typeof id === 'string' ? id : undefined;
};

function quota(message: string): KalamError {
  return new KalamError('QUOTA_EXCEEDED', message);
}

const notFound = () =>
  new KalamError('FILE_NOT_FOUND', 'No such file: its row was deleted, never committed, or belongs to another user. Read the FileRef again from a row you can SELECT.');

/** A FILE value that is not an upload of this call. */
function notAnUpload(column: string): KalamError {
  return new KalamError(
    'INVALID_PARAMETER',
    `Column '${column}' is FILE: a new value must be a file (a Blob or File) passed as a parameter of this statement, stored in one row only. A FileRef copied from another row or typed in is refused: read the file (readFile) and pass it again.`,
  );
}

export class Files {
  /** Committed files and their bytes (system.stats). */
  count = 0;
  bytes = 0;
  /** Uploads written but not committed; each lives only during the call that made it (at most one per parameter of the calls running). */
  private readonly pending = new Map<string, { ref: FileRef; isClaimed: boolean }>();
  private pendingBytes = 0;
  /** Blobs whose deletion after a commit failed (left for the next open's sweep). */
  deleteFailures = 0;
  orphansSwept = 0;
  /** Committed files whose row is a tombstone (kept until the retention job purges them). */
  retained = 0;
  private hasMarker: boolean;

  constructor(
    private readonly host: FilesHost,
    readonly store: BlobStore,
    hasMarker: boolean,
  ) {
    this.hasMarker = hasMarker;
  }

  metrics(): [string, Value][] {
    return [
      ['files', this.count],
      ['file_bytes', this.bytes],
      ['files_retained', this.retained],
      ['files_pending', this.pending.size],
      ['file_pending_bytes', this.pendingBytes],
      ['file_orphans_swept', this.orphansSwept],
      ['file_delete_failures', this.deleteFailures],
    ];
  }

  /** Totals from the records; then every blob no record names (cut off by a crash) is deleted. */
  async load(): Promise<void> {
    const prefix = encodeKey(['file']);
    const known = new Set<string>();
    await this.host.kv.scan('system', { lower: prefix, upper: prefixUpperBound(prefix) }, (key, value) => {
      const r = value as FileRecord;
      this.count++;
      this.bytes += r.size;
      if (r.d !== undefined) this.retained++;
      known.add(keyId(key));
    });
    const orphans = (await this.store.list()).filter((id) => !known.has(id));
    if (orphans.length > 0) {
      await this.store.delete(orphans);
      this.orphansSwept += orphans.length;
    }
  }

  /** Streams `blob` into the store as a pending upload; its FileRef. */
  async upload(blob: Blob): Promise<FileRef> {
    const id = crypto.randomUUID().replaceAll('-', '');
    const ref = { id, name: typeof File !== 'undefined' && blob instanceof File ? blob.name : 'blob', size: blob.size, mime: blob.type || 'application/octet-stream', sha256: '' };
    async function* read(): AsyncGenerator<Uint8Array> {
      const reader = blob.stream().getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          yield value;
        }
      } finally {
        reader.releaseLock();
      }
    }
    ref.sha256 = await this.write(ref, read(), () => new KalamError('INVALID_PARAMETER', 'The file changed while it was being stored: pass it again'));
    return Object.freeze(ref);
  }

  /**
   * A file of an import (execute/restore.ts): written under its own id as a
   * pending upload, its size and SHA-256 checked against `ref` as it goes
   * (IMPORT_INVALID_FILE otherwise); released by the caller as after an upload.
   */
  async adopt(ref: FileRef, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const damaged = () => new KalamError('IMPORT_INVALID_FILE', `The file is not a kalamlite export that can be read: the bytes of file '${ref.name}' do not match its size and SHA-256. Nothing was imported. Use a file made by exportDatabase() or exportUserData(), whole and unchanged.`);
    if (this.pending.has(ref.id) || (await this.host.kv.get('system', recordKey(ref.id))) !== undefined) throw damaged();
    if ((await this.write({ ...ref }, chunks, damaged)) !== ref.sha256) {
      await this.release([ref.id], false);
      throw damaged();
    }
  }

  /** Streams `chunks` into the store as the pending upload `ref` (exactly ref.size bytes, else `changed()`); their SHA-256. */
  private async write(ref: FileRef, chunks: AsyncIterable<Uint8Array>, changed: () => KalamError): Promise<string> {
    const o = this.host.options;
    const { id, size: expected } = ref;
    if (expected > o.maxFileBytes) {
      throw quota(`The file is ${expected} bytes, over the ${o.maxFileBytes}-byte limit for one file (maxFileBytes). Store a smaller file, or open the database with a larger maxFileBytes.`);
    }
    if (this.bytes + this.pendingBytes + expected > o.maxFilesBytes) {
      throw quota(
        `Storing this ${expected}-byte file would take the stored files past ${o.maxFilesBytes} bytes (maxFilesBytes; ${this.bytes} stored, ${this.pendingBytes} being uploaded${this.retained > 0 ? `; ${this.retained} file(s) of deleted rows are kept until the retention job purges them after DELETED_RETENTION_HOURS` : ''}). Delete rows holding files you no longer need, or open the database with a larger maxFilesBytes.`,
      );
    }
    if (!this.hasMarker) {
      // Committed before the first blob is written: an open that finds it sweeps the blobs a crash left.
      await this.host.commit({ state: [{ writes: [{ store: 'system', key: MARKER, value: 1 }], apply: () => void (this.hasMarker = true) }] });
    }
    const hash = new Sha256();
    let size = 0;
    this.pending.set(id, { ref, isClaimed: false });
    this.pendingBytes += expected;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for await (const value of chunks) {
        size += value.length;
        if (size > expected) throw changed();
        hash.update(value);
        yield value;
      }
    }
    try {
      await this.store.write(id, counted());
      if (size !== expected) throw changed();
    } catch (e) {
      this.pending.delete(id);
      this.pendingBytes -= expected;
      await this.store.delete([id]).catch(() => undefined);
      throw e;
    }
    return hash.hex();
  }

  /**
   * Uploads of an explicit transaction's statements, held until it ends:
   * its commit claims them, then (committed or not) they are released as
   * after a call — kept when the commit's outcome is unknown
   * (STORAGE_TIMEOUT). Bounded: at most maxTransactionRows per transaction
   * (each file needs a row), dropped with the transaction.
   */
  private readonly held = new WeakMap<Transaction, string[]>();

  /** TRANSACTION_ERROR, before uploading, when `tx` is not open or would hold more than maxTransactionRows files with `more`. */
  assertRoom(tx: Transaction, more: number): void {
    tx.assertOpen();
    const max = this.host.options.maxTransactionRows;
    if ((this.held.get(tx)?.length ?? 0) + more > max) {
      throw new KalamError('TRANSACTION_ERROR', `A transaction may store at most ${max} files (maxTransactionRows, as rows): commit it, and store the next files in another transaction`);
    }
  }

  hold(tx: Transaction, ids: string[]): void {
    if (tx.state !== 'open') {
      void this.release(ids, false); // ended while uploading: nothing can claim them
      tx.assertOpen();
    }
    let list = this.held.get(tx);
    if (!list) {
      this.held.set(tx, (list = []));
      tx.onEnd = () => {
        const ended = this.held.get(tx) ?? [];
        this.held.delete(tx);
        void this.release(ended, tx.isInDoubt);
      };
    }
    list.push(...ids);
  }

  /** After the call that uploaded them: uploads no commit claimed are deleted (`keep`: a commit timed out, so whether it claimed them is unknown — open sweeps them if not). */
  async release(ids: readonly string[], keep: boolean): Promise<void> {
    const dead: string[] = [];
    for (const id of ids) {
      const p = this.pending.get(id);
      if (!p) continue;
      this.pending.delete(id);
      this.pendingBytes -= p.ref.size;
      if (!p.isClaimed && !keep) dead.push(id);
    }
    if (dead.length > 0) await this.deleteBlobs(dead);
  }

  private async deleteBlobs(ids: readonly string[]): Promise<void> {
    try {
      await this.store.delete(ids);
    } catch {
      this.deleteFailures += ids.length; // no record names them: the next open deletes them
    }
  }

  /**
   * A statement's own half of stage()'s check, run as it joins a group
   * commit (execute/group-commit.ts): INVALID_PARAMETER when a FILE value
   * new in its rows is not an unclaimed upload of this call, so that one
   * statement's bad FILE value fails that statement alone, not the other
   * statements committed with it.
   */
  check(rows: readonly RowChange[]): void {
    const seen = new Set<string>();
    for (const c of rows) {
      const slots = fileSlots(c.table);
      if (slots.length === 0) continue;
      const del = deletedSlot(c.table);
      const now = c.row && c.row[del] !== true ? c.row : undefined;
      const was = c.before && c.before[del] !== true ? c.before : undefined;
      for (const i of slots) {
        const v = now?.[i] ?? null;
        if (v === null) continue;
        const id = idOf(v);
        if (id !== undefined && id === idOf(was?.[i])) continue;
        const p = id !== undefined ? this.pending.get(id) : undefined;
        if (!p || !sameRef(p.ref, v) || p.isClaimed || seen.has(id!)) throw notAnUpload(c.table.columns[i].name);
        seen.add(id!);
      }
    }
  }

  /**
   * The commit hook (Committer.files): the records a unit's row changes
   * add and remove, in its storage commit. Throws, committing nothing,
   * when a FILE value new in its row is not an upload of this call.
   */
  async stage(unit: UnitOfWork): Promise<StateChange | undefined> {
    const claims: { id: string; record: FileRecord }[] = [];
    const freed: { id: string; tableId: number; size: number; at?: number }[] = [];
    const retains: { id: string; record: FileRecord }[] = [];
    const claimed = new Map<string, FileRecord>();
    for (const c of unit.rows ?? []) {
      const slots = fileSlots(c.table);
      if (slots.length === 0) continue;
      const del = deletedSlot(c.table);
      const tombstone = c.row && c.row[del] === true ? c.row : undefined;
      const now = c.row && !tombstone ? c.row : undefined;
      const was = c.before && c.before[del] !== true ? c.before : undefined;
      for (const i of slots) {
        const v = now?.[i] ?? null;
        const id = idOf(v);
        const oldId = idOf(was?.[i]);
        if (id !== undefined ? id === oldId : v === null && oldId === undefined) continue;
        if (v !== null) {
          const p = id !== undefined ? this.pending.get(id) : undefined;
          const column = c.table.columns[i].name;
          if (!p || !sameRef(p.ref, v) || p.isClaimed || claimed.has(id!)) throw notAnUpload(column);
          const record: FileRecord = { t: c.table.id, u: c.user, c: c.table.columns[i].id, size: p.ref.size, mime: p.ref.mime, name: p.ref.name };
          claimed.set(id!, record);
          claims.push({ id: id!, record });
        }
        if (oldId === undefined) continue;
        if (tombstone && idOf(tombstone[i]) === oldId) {
          // A soft delete: the tombstone keeps its file until the retention job purges it.
          const record = claimed.get(oldId) ?? ((await this.host.kv.get('system', recordKey(oldId))) as FileRecord | undefined);
          if (record && record.d === undefined) retains.push({ id: oldId, record: { ...record, d: seqMillis(tombstone[seqSlot(c.table)] as bigint) } });
          continue;
        }
        freed.push({ id: oldId, tableId: c.table.id, size: Number((was![i] as { size?: unknown }).size) || 0 });
      }
    }
    for (const t of unit.dropTables ?? []) {
      if (fileSlots(t).length === 0) continue;
      const prefix = encodeKey(['file_t', t.id]);
      const ids: string[] = [];
      await this.host.kv.scan('system', { lower: prefix, upper: prefixUpperBound(prefix) }, (key) => void ids.push(keyId(key)));
      for (const id of ids) {
        const r = (await this.host.kv.get('system', recordKey(id))) as FileRecord | undefined;
        freed.push({ id, tableId: t.id, size: r?.size ?? 0, at: r?.d });
      }
    }
    if (claims.length === 0 && freed.length === 0 && retains.length === 0) return undefined;
    const writes: KvWrite[] = [];
    for (const { id, record } of claims) writes.push({ store: 'system', key: recordKey(id), value: record }, { store: 'system', key: tableKey(record.t, id), value: 1 });
    for (const { id, record } of retains) writes.push({ store: 'system', key: recordKey(id), value: record }, { store: 'system', key: retainKey(record.t, record.d!, id), value: 1 });
    for (const f of freed) writes.push(...freeWrites(f.id, f.tableId, f.at));
    return {
      writes,
      apply: () => {
        for (const { id, record } of claims) {
          const p = this.pending.get(id);
          if (p) p.isClaimed = true;
          this.count++;
          this.bytes += record.size;
        }
        this.retained += retains.length;
        this.forget(freed);
      },
    };
  }

  /**
   * ALTER TABLE … DROP COLUMN of FILE column `columnId`: the deletion of its
   * files, for the ALTER's commit (rows hot or cold, tombstones' included).
   * A record from before column ids were kept belongs to it when it is the
   * table's only FILE column; otherwise it stays until the table is dropped.
   */
  async dropColumn(t: TableDef, columnId: number): Promise<StateChange | undefined> {
    const isOnly = fileSlots(t).length === 1;
    const prefix = encodeKey(['file_t', t.id]);
    const ids: string[] = [];
    await this.host.kv.scan('system', { lower: prefix, upper: prefixUpperBound(prefix) }, (key) => void ids.push(keyId(key)));
    const freed: { id: string; tableId: number; size: number; at?: number }[] = [];
    for (const id of ids) {
      const r = (await this.host.kv.get('system', recordKey(id))) as FileRecord | undefined;
      if (r && (r.c === columnId || (r.c === undefined && isOnly))) freed.push({ id, tableId: t.id, size: r.size, at: r.d });
    }
    if (freed.length === 0) return undefined;
    return { writes: freed.flatMap((f) => freeWrites(f.id, f.tableId, f.at)), apply: () => this.forget(freed) };
  }

  /** Committed: the records of `freed` are gone; their blobs are deleted now. */
  private forget(freed: readonly { id: string; size: number; at?: number }[]): void {
    for (const f of freed) {
      this.count--;
      this.bytes -= f.size;
      if (f.at !== undefined) this.retained--;
    }
    if (freed.length > 0) void this.deleteBlobs(freed.map((f) => f.id));
  }

  /** The retention job's part: see files-purge.ts. */
  purgeRetained(now: number, batchSize: number, run: RecordedRunner): Promise<JobRecord[]> {
    return purgeRetainedFiles(this.host, now, batchSize, run, (freed) => ({ writes: freed.flatMap((f) => freeWrites(f.id, f.tableId, f.at)), apply: () => this.forget(freed) }));
  }

  /** The file `ref` names, for a session that may read the row holding it; FILE_NOT_FOUND otherwise. */
  async read(state: SessionState, ref: unknown, checkTable?: (t: TableDef) => void): Promise<Blob> {
    const id = idOf(ref as Value);
    if (id === undefined) throw new KalamError('INVALID_PARAMETER', 'readFile() takes a FileRef: the object a FILE column holds ({ id, name, size, mime, sha256 })');
    const r = (await this.host.kv.get('system', recordKey(id))) as FileRecord | undefined;
    const t = r && this.host.catalog.tableById(r.t);
    if (!r || !t || partitionOf(t, state.user) !== r.u) throw notFound();
    checkTable?.(t);
    checkRead(state.role, t);
    const blob = await this.store.read(id);
    if (!blob) throw notFound();
    return blob.type === r.mime ? blob : blob.slice(0, blob.size, r.mime);
  }
}

function sameRef(a: FileRef, v: Value): boolean {
  const b = v as unknown as Record<string, unknown>;
  return typeof b === 'object' && b !== null && b.id === a.id && b.name === a.name && b.size === a.size && b.mime === a.mime && b.sha256 === a.sha256 && Object.keys(b).length === 5;
}

/** Opens the blob store the options call for. */
async function openBlobStore(o: ResolvedOptions): Promise<BlobStore> {
  if (o.blobStore) {
    // Checked here, where it is first used (the check stays out of the worker's entry file).
    if (!['write', 'read', 'delete', 'list'].every((m) => typeof (o.blobStore as unknown as Record<string, unknown>)[m] === 'function')) {
      throw new KalamError('INVALID_OPTION', 'blobStore must be an object with write(), read(), delete() and list() (see BlobStore)');
    }
    return o.blobStore;
  }
  switch (o.storage) {
    case 'memory': return new MemoryBlobStore();
    case 'idb': return openIdbBlobStore(o.name, o.indexedDB ?? globalThis.indexedDB);
    case 'opfs': return opfsBlobStore(await (await loadOpfs()).openOpfsFileDirectory(o.name));
    default:
      throw new KalamError('UNSUPPORTED', 'FILE columns need somewhere to keep the files: with a KvStore as storage, open the database with a blobStore option too.');
  }
}

/** An attach in progress, per engine (lives until it settles). */
const attaching = new WeakMap<FilesHost, Promise<Files>>();

/** The engine's files, set up once: the blob store opened, totals read, orphans swept, the commit hook installed. */
export function attachFiles(host: FilesHost): Promise<Files> {
  if (host.files) return Promise.resolve(host.files);
  let pending = attaching.get(host);
  if (!pending) {
    pending = (async () => {
      const files = new Files(host, await openBlobStore(host.options), (await host.kv.get('system', MARKER)) !== undefined);
      await files.load();
      host.files = files;
      host.committer.files = files;
      return files;
    })().finally(() => attaching.delete(host));
    attaching.set(host, pending);
  }
  return pending;
}

/**
 * Runs `run` with every Blob of `params` uploaded and replaced by its
 * FileRef; afterwards the uploads no commit claimed are deleted. Inside an
 * explicit transaction (`tx`), its commit comes later: the uploads are held
 * until the transaction ends (Files.hold).
 */
export async function withUploads<T>(host: FilesHost, params: readonly ParamValue[], run: (params: readonly Value[]) => Promise<T>, tx?: Transaction): Promise<T> {
  const files = await attachFiles(host);
  const ids: string[] = [];
  let keep = false;
  let given: ParamValue[];
  try {
    given = Array.from(params);
  } catch {
    throw new KalamError('INVALID_PARAMETER', 'Parameters could not be read: pass a plain array of values');
  }
  try {
    const out: Value[] = [];
    for (const p of given) {
      if (p instanceof Blob) {
        if (tx) files.assertRoom(tx, ids.length + 1);
        const ref = await files.upload(p);
        ids.push(ref.id);
        out.push(ref as unknown as Value);
      } else out.push(p);
    }
    if (tx) files.hold(tx, ids.splice(0)); // the transaction's from here: released when it ends
    return await run(out);
  } catch (e) {
    keep = e instanceof KalamError && e.code === 'STORAGE_TIMEOUT';
    throw e;
  } finally {
    await files.release(ids, keep);
  }
}

/** session.readFile (`options.asUser`: files-access.ts). */
export async function readFile(host: ReadFileHost & FilesHost, state: SessionState, ref: unknown, options?: ReadFileOptions): Promise<Blob> {
  host.assertOpen();
  const asUser = checkReadFileOptions(options);
  const files = await attachFiles(host);
  return asUser === undefined ? files.read(state, ref) : readAs(host, files, state, ref, asUser);
}
