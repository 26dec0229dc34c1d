/**
 * `storage: 'opfs'`: the log store (opfs-log.ts) over the Origin Private
 * File System, through FileSystemSyncAccessHandle. Browsers expose sync
 * access handles only inside dedicated Web Workers, which is where
 * createClient() runs the engine.
 *
 * Where OPFS or sync access handles are missing (the main thread, Node,
 * browsers before Chrome 108 / Firefox 111 / Safari 16.4) opening fails with
 * UNSUPPORTED and says to use 'idb'. We fail rather than silently fall back
 * to IndexedDB: the two keep separate data, so a silent switch would show an
 * empty database the next time OPFS is available (or the other way round).
 *
 * Layout: <OPFS root>/kalamlite/<encoded database name>/log-<generation>.klog,
 * cold segment files in its `segments/` directory, and the files of FILE
 * columns in its `files/` directory.
 */
import { KalamError } from '../core/errors';
import type { KvStore } from './kv';
import { FileSegmentStore } from './cold/file-segment-store';
import type { BlobDirectory } from './opfs-blob-store';
import { LogStore, type LogDirectory, type LogStoreOptions, type SyncFile } from './opfs-log';

/** What a sync access handle looks like to us (lib.dom may lack it where this compiles). */
interface SyncHandleFile {
  createSyncAccessHandle(): Promise<SyncFile>;
}

export function isOpfsSupported(): boolean {
  const g = globalThis as { navigator?: { storage?: { getDirectory?: unknown } }; FileSystemFileHandle?: { prototype: object } };
  return (
    typeof g.navigator?.storage?.getDirectory === 'function' &&
    g.FileSystemFileHandle !== undefined &&
    'createSyncAccessHandle' in g.FileSystemFileHandle.prototype
  );
}

export const OPFS_UNSUPPORTED =
  "storage: 'opfs' needs the Origin Private File System with synchronous access handles, which browsers offer only inside a dedicated Web Worker (Chrome 108+, Firefox 111+, Safari 16.4+). Run the engine in a worker (createClient() does), or use storage: 'idb'.";

export async function openOpfsStore(name: string, options: LogStoreOptions = {}): Promise<KvStore> {
  return LogStore.open(opfsDirectory(await databaseDirectory(name)), options);
}

/** The segment files of an OPFS database: <OPFS root>/kalamlite/<encoded database name>/segments/ (see cold/file-segment-store.ts). */
export async function openOpfsSegmentStore(name: string): Promise<FileSegmentStore> {
  const db = await databaseDirectory(name);
  let dir: FileSystemDirectoryHandle;
  try {
    dir = await db.getDirectoryHandle('segments', { create: true });
  } catch (e) {
    throw directoryError(name, e);
  }
  return new FileSegmentStore(opfsDirectory(dir));
}

/** The files of FILE columns: <OPFS root>/kalamlite/<encoded database name>/files/ (see opfs-blob-store.ts). */
export async function openOpfsFileDirectory(name: string): Promise<BlobDirectory> {
  let dir: FileSystemDirectoryHandle;
  try {
    dir = await (await databaseDirectory(name)).getDirectoryHandle('files', { create: true });
  } catch (e) {
    throw e instanceof KalamError ? e : directoryError(name, e);
  }
  return {
    ...opfsDirectory(dir),
    async file(id) {
      try {
        return await (await dir.getFileHandle(id)).getFile();
      } catch (e) {
        if ((e as { name?: string })?.name === 'NotFoundError') return undefined;
        throw e;
      }
    },
  };
}

async function databaseDirectory(name: string): Promise<FileSystemDirectoryHandle> {
  if (!isOpfsSupported()) throw new KalamError('UNSUPPORTED', OPFS_UNSUPPORTED);
  if (typeof name !== 'string' || name === '') throw new KalamError('INVALID_OPTION', 'An OPFS database needs a non-empty name.');
  try {
    const root = await navigator.storage.getDirectory();
    const base = await root.getDirectoryHandle('kalamlite', { create: true });
    // encodeURIComponent keeps '/' out; '.' and '..' are not valid entry names.
    return await base.getDirectoryHandle(name === '.' || name === '..' ? `%2E${name.slice(1)}` : encodeURIComponent(name), { create: true });
  } catch (e) {
    throw directoryError(name, e);
  }
}

function directoryError(name: string, e: unknown): KalamError {
  const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new KalamError('STORAGE_ERROR', `Could not open the OPFS directory of the database "${name}" (${detail}). Check that this site may store data, or use storage: 'idb'.`);
}

function opfsDirectory(dir: FileSystemDirectoryHandle): LogDirectory {
  return {
    async list() {
      const names: string[] = [];
      for await (const key of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(key);
      return names;
    },
    async open(name) {
      const handle = await dir.getFileHandle(name, { create: true });
      return (handle as unknown as SyncHandleFile).createSyncAccessHandle();
    },
    async remove(name) {
      try {
        await dir.removeEntry(name);
      } catch (e) {
        if ((e as { name?: string })?.name !== 'NotFoundError') throw e;
      }
    },
  };
}
