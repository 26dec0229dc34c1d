/**
 * The Dexie side of the scale bench, in the page (where an app uses Dexie,
 * and where its cold start — open + first get — happens): one record per
 * row keyed by `id`; `bulkPut` per batch; the `[category+score]` index the
 * filtered query needs is added after the load (a version upgrade, reported
 * apart), so the bulk figure pays for the primary store only — as in the
 * tiers phase. COUNT is `count()`, GROUP BY is `toArray()` + a JS loop.
 */
import { Dexie, type Table } from 'dexie';
import { FILTER_LIMIT, groupInJs, type AfterLoad, type ScaleRow, type ScaleStore } from './scale';

class ScaleDexie extends Dexie {
  items!: Table<ScaleRow, number>;
  constructor(name: string, withIndex: boolean) {
    super(name);
    this.version(1).stores({ items: 'id' });
    if (withIndex) this.version(2).stores({ items: 'id, [category+score]' });
  }
}

export function dexieStore(name: string): ScaleStore {
  let db: ScaleDexie | undefined;
  const items = () => db!.items;
  return {
    async open(create) {
      // A new database starts at version 1 (no index); an existing one is opened with the index.
      db = new ScaleDexie(name, !create);
      if (create) await db.open();
    },
    get: (id) => items().get(id), // the first call opens the database
    async insertBatch(rows) {
      await items().bulkPut(rows);
      return rows.length;
    },
    async afterLoad(): Promise<AfterLoad> {
      const started = performance.now();
      db!.close();
      db = new ScaleDexie(name, true);
      await db.open();
      return { what: 'index', ms: performance.now() - started, detail: 'version upgrade adding [category+score]' };
    },
    async range(from, to) {
      return (await items().where('id').between(from, to, true, true).toArray()).map((r) => r.id);
    },
    count: () => items().count(),
    async filtered(category) {
      const rows = await items().where('[category+score]').between([category, Dexie.minKey], [category, Dexie.maxKey]).reverse().limit(FILTER_LIMIT).toArray();
      return rows.map((r) => r.id);
    },
    async groupBy() {
      return groupInJs(await items().toArray());
    },
    async insertOne(row) {
      await items().put(row);
    },
    async close() {
      db?.close();
      db = undefined;
    },
  };
}
