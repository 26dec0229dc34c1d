/**
 * The import-in-progress marker (import-recovery.ts): its key and record.
 * Kept apart so that opening a database checks for it without loading the
 * export/import code, which is loaded on first use (lazy-executors.ts).
 */
import { encodeKey } from '../storage/keys';
import type { KvStore, KvWrite } from '../storage/kv';

/** The marker's key in the `system` store (no other record's key is `['import', …]`). */
export const IMPORT_MARKER_KEY = encodeKey(['import']);

/** What an unfinished import created: enough to drop it again. */
export interface ImportMarker {
  startedAt: number;
  kind: 'database' | 'user';
  /** Namespaces the import created (never `default`). */
  namespaces: string[];
  /** Ids of the tables the import created. */
  tables: number[];
}

export const markerWrite = (marker: ImportMarker): KvWrite => ({ store: 'system', key: IMPORT_MARKER_KEY, value: marker });
export const clearMarkerWrite = (): KvWrite => ({ store: 'system', key: IMPORT_MARKER_KEY });

/** Whether an import was cut off before it finished (its marker is still stored). */
export async function hasImportMarker(kv: KvStore): Promise<boolean> {
  return (await kv.get('system', IMPORT_MARKER_KEY)) !== undefined;
}
