/**
 * Blobs of FILE columns in IndexedDB (storage: 'idb'): a database of their
 * own, "<name>-files", beside the KV store's. Store `files` names each blob
 * (written first, so a blob cut off by a crash is still listed and swept);
 * store `chunks` holds its bytes in records of 256 KiB, keyed [id, n], each
 * written in a transaction of its own as the stream delivers it (a
 * transaction cannot stay open across the stream's reads).
 */
import { KalamError } from '../core/errors';
import { pieces, type BlobStore } from './blob-store';
import { isQuotaError, quotaExceeded } from './quota';

export const IDB_CHUNK_BYTES = 256 * 1024;

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

function storageError(action: string, e: unknown): KalamError {
  if (isQuotaError(e)) return quotaExceeded(action);
  const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new KalamError('STORAGE_ERROR', `IndexedDB failed while ${action} (${detail}). Nothing refers to a file until its row is committed; retry.`);
}

export async function openIdbBlobStore(name: string, factory: IDBFactory): Promise<BlobStore> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const r = factory.open(`${name}-files`, 1);
    r.onupgradeneeded = () => {
      r.result.createObjectStore('files');
      r.result.createObjectStore('chunks');
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(storageError(`opening the file store "${name}-files"`, r.error));
    r.onblocked = () => reject(new KalamError('STORAGE_ERROR', `The file store "${name}-files" is held open by an older version of this app in another tab: close it and retry.`));
  });
  const range = (id: string) => IDBKeyRange.bound([id, 0], [id, Infinity]);
  return {
    async write(id, chunks) {
      try {
        let tx = db.transaction('files', 'readwrite');
        tx.objectStore('files').put(0, id);
        await done(tx);
        let n = 0;
        for await (const piece of pieces(chunks, IDB_CHUNK_BYTES)) {
          tx = db.transaction('chunks', 'readwrite');
          tx.objectStore('chunks').put(piece, [id, n++]);
          await done(tx);
        }
      } catch (e) {
        throw e instanceof KalamError ? e : storageError(`storing a file`, e);
      }
    },
    async read(id) {
      const tx = db.transaction(['files', 'chunks'], 'readonly');
      const [known, parts] = await Promise.all([request(tx.objectStore('files').get(id)), request(tx.objectStore('chunks').getAll(range(id)))]);
      return known === undefined ? undefined : new Blob(parts as BlobPart[]);
    },
    async delete(ids) {
      if (ids.length === 0) return;
      const tx = db.transaction(['files', 'chunks'], 'readwrite');
      for (const id of ids) {
        tx.objectStore('chunks').delete(range(id));
        tx.objectStore('files').delete(id);
      }
      await done(tx);
    },
    async list() {
      return (await request(db.transaction('files', 'readonly').objectStore('files').getAllKeys())) as string[];
    },
    async close() {
      db.close();
    },
  };
}
