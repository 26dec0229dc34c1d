/**
 * Version skew between tabs. Each build knows the storage format it reads
 * and writes (`STORAGE_FORMAT`); the format a database was last written with
 * is kept in IndexedDB, in a small database of its own (`kalamlite-formats`,
 * one entry per database name), so the engine's stores hold nothing but
 * engine keys. A build older than the stored format refuses to open the
 * storage rather than misread or corrupt it.
 */
import { KalamError } from '@kalamlite/engine';

/**
 * The storage format this build reads and writes. Bump it with every
 * incompatible storage change. 2: hot rows in pages (engine storage/hot-tier.ts);
 * a format-1 database is rewritten into pages when this build opens it.
 */
export const STORAGE_FORMAT = 2;

const FORMATS_DB = 'kalamlite-formats';
const FORMATS_STORE = 'formats';

/**
 * Checks database `name` against `build` and records `build` as its format
 * when the stored one is older or missing. Fails with VERSION_MISMATCH when
 * the storage was written by a newer build.
 */
export async function checkStorageFormat(
  name: string,
  build: number = STORAGE_FORMAT,
  factory: IDBFactory | undefined = globalThis.indexedDB,
  record = true,
): Promise<void> {
  if (factory === undefined) {
    throw new KalamError('STORAGE_ERROR', "IndexedDB is not available here. Use storage: 'memory'.");
  }
  const db = await request(factory.open(FORMATS_DB, 1), (open) => {
    open.onupgradeneeded = () => open.result.createObjectStore(FORMATS_STORE);
  });
  try {
    const tx = db.transaction(FORMATS_STORE, 'readwrite');
    const store = tx.objectStore(FORMATS_STORE);
    const stored: unknown = await request(store.get(name));
    if (typeof stored === 'number' && stored > build) {
      tx.abort();
      throw versionMismatch(`The database "${name}" was written by a newer version of this app (storage format ${stored}; this tab reads format ${build}). Reload this tab to get the new version; close tabs still running the old one.`);
    }
    if (record && stored !== build) store.put(build, name);
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onabort = tx.onerror = () => reject(new KalamError('STORAGE_ERROR', `Recording the storage format of "${name}" failed: ${String(tx.error)}. Reload the page and try again.`));
    });
  } finally {
    db.close();
  }
}

export function versionMismatch(message: string): KalamError {
  return new KalamError('VERSION_MISMATCH', message);
}

/**
 * Compares a client's build with the host's: both must read and write the
 * same storage format, or the older side must reload.
 */
export function checkClientFormat(client: number, host: number): void {
  if (client === host) return;
  throw versionMismatch(
    client < host
      ? `This tab runs an older version of this app (storage format ${client}) than the one hosting the database (format ${host}). Reload this tab.`
      : `Another tab hosting the database runs an older version of this app (storage format ${host}; this tab uses ${client}). Close or reload the other tabs, then reload this one.`,
  );
}

function request<T>(req: IDBRequest<T>, setup?: (req: IDBOpenDBRequest) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    if (setup !== undefined) setup(req as unknown as IDBOpenDBRequest);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new KalamError('STORAGE_ERROR', `IndexedDB failed while checking the storage format: ${String(req.error)}. Reload the page and try again.`));
  });
}
