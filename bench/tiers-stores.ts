/**
 * How the comparison sides store the bench rows: one record per row, keyed
 * by `id`, with a [category, score] index from version 2 on. Shared by the
 * tiers worker (which loads and queries) and the page (which times cold opens).
 */
import { Dexie, type Table } from 'dexie';
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { BenchRow } from './rows';

export interface StoredRow extends BenchRow {
  created_at: number;
}

interface Schema extends DBSchema {
  items: { key: number; value: StoredRow; indexes: { category_score: [string, number] } };
}

export type IdbItems = IDBPDatabase<Schema>;

/** Opens (creating or upgrading to `version`) the raw-IndexedDB side's database. */
export function openIdbItems(name: string, version: 1 | 2): Promise<IdbItems> {
  return openDB<Schema>(name, version, {
    upgrade(db, oldVersion, _newVersion, tx) {
      if (oldVersion < 1) db.createObjectStore('items', { keyPath: 'id' });
      if (version >= 2 && oldVersion < 2) tx.objectStore('items').createIndex('category_score', ['category', 'score']);
    },
  });
}

/** The Dexie side's database; `withIndex` declares version 2 with the compound index. */
export class DexieItems extends Dexie {
  items!: Table<StoredRow, number>;
  constructor(name: string, withIndex: boolean) {
    super(name);
    this.version(1).stores({ items: 'id' });
    if (withIndex) this.version(2).stores({ items: 'id, [category+score]' });
  }
}
