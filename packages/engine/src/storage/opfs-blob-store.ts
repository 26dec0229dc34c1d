/**
 * Blobs of FILE columns as OPFS files (storage: 'opfs'): one file per blob,
 * named by its id, in the database's `files/` directory, written through a
 * sync access handle piece by piece as the stream delivers it and flushed
 * before the commit that refers to it. A read hands out the browser's own
 * File (its bytes stay on disk until the page reads them).
 */
import type { LogDirectory } from './opfs-log-file';
import type { BlobStore } from './blob-store';
import { isQuotaError, quotaExceeded } from './quota';
import { KalamError } from '../core/errors';

/** The files directory: a sync-handle directory, and the File of an entry where the platform has one (OPFS; the Node test directory reads the bytes). */
export interface BlobDirectory extends LogDirectory {
  file?(name: string): Promise<Blob | undefined>;
}

function writeError(e: unknown): KalamError {
  if (e instanceof KalamError) return e;
  if (isQuotaError(e)) return quotaExceeded('storing a file');
  const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new KalamError('STORAGE_ERROR', `OPFS failed while storing a file (${detail}). Nothing refers to the file until its row is committed; retry.`);
}

export function opfsBlobStore(dir: BlobDirectory): BlobStore {
  return {
    async write(id, chunks) {
      let file;
      try {
        file = await dir.open(id);
        file.truncate(0);
        let at = 0;
        for await (const c of chunks) at += file.write(c, { at });
        file.flush();
      } catch (e) {
        throw writeError(e);
      } finally {
        file?.close();
      }
    },
    async read(id) {
      if (dir.file) return dir.file(id);
      if (!(await dir.list()).includes(id)) return undefined;
      const file = await dir.open(id);
      try {
        const bytes = new Uint8Array(file.getSize());
        file.read(bytes, { at: 0 });
        return new Blob([bytes]);
      } finally {
        file.close();
      }
    },
    async delete(ids) {
      for (const id of ids) await dir.remove(id);
    },
    list: () => dir.list(),
  };
}
