/**
 * SQLite-WASM (`@sqlite.org/sqlite-wasm`, a bench-only devDependency) over
 * OPFS through the SAH pool VFS (`installOpfsSAHPoolVfs`), in a dedicated
 * worker of its own, as SQLite recommends. The page (scale-sqlite.ts) calls
 * it through Comlink and times each call there, so its figures include the
 * round trip as the engine's do.
 *
 * Table: `items (id INTEGER PRIMARY KEY, category, score, title,
 * created_at, user_id)` — `id` is the rowid. The load is ONE transaction of
 * prepared inserts (begin(), insertBatch()…, commit()); the
 * `(category, score)` index the filtered query needs is built after it
 * (afterLoad), as the Dexie side builds its compound index. Default pragmas.
 */
import { expose } from 'comlink';
import type { BenchRow } from './rows';
import { FILTER_LIMIT, type GroupAgg, type ScaleRow } from './scale';
import { SqliteSession } from './sqlite-session';

/** The pool's directory in the origin's OPFS (scale-page.ts empties the whole OPFS root between sides). */
const sqlite = new SqliteSession('.bench-sahpool');
const all = (sql: string, bind?: (string | number)[]) => sqlite.all(sql, bind);

const INSERT = 'INSERT INTO items (id, category, score, title, created_at, user_id) VALUES (?, ?, ?, ?, ?, ?)';

const api = {
  /** Initialises the module and the VFS, opens (with `create`: creates) the database. */
  async open(name: string, create: boolean): Promise<string> {
    const version = await sqlite.open(name);
    if (create) {
      sqlite.db.exec('CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, category TEXT NOT NULL, score REAL, title TEXT, created_at INTEGER, user_id TEXT)');
    }
    return version;
  },
  begin(): void {
    sqlite.db.exec('BEGIN');
  },
  insertBatch(rows: ScaleRow[]): number {
    const stmt = sqlite.prepared(INSERT);
    for (const r of rows) {
      stmt.bind([r.id, r.category, r.score, r.title, r.created_at, r.user_id]);
      stmt.step();
      stmt.reset();
    }
    return rows.length;
  },
  commit(): void {
    sqlite.db.exec('COMMIT');
  },
  createIndex(): void {
    sqlite.db.exec('CREATE INDEX IF NOT EXISTS items_category_score ON items (category, score)');
  },
  get(id: number): BenchRow | undefined {
    return all('SELECT * FROM items WHERE id = ?', [id])[0] as unknown as BenchRow | undefined;
  },
  range(from: number, to: number): number[] {
    return all('SELECT * FROM items WHERE id BETWEEN ? AND ?', [from, to]).map((r) => Number(r.id));
  },
  count(): number {
    return Number(all('SELECT COUNT(*) AS n FROM items')[0].n);
  },
  filtered(category: string): number[] {
    return all(`SELECT * FROM items WHERE category = ? ORDER BY score DESC LIMIT ${FILTER_LIMIT}`, [category]).map((r) => Number(r.id));
  },
  groupBy(): GroupAgg[] {
    return all('SELECT category, COUNT(*) AS n, AVG(score) AS avg_score FROM items GROUP BY category ORDER BY category').map((r) => ({
      category: String(r.category),
      n: Number(r.n),
      avg: Number(r.avg_score),
    }));
  },
  insertOne(r: ScaleRow): void {
    const stmt = sqlite.prepared(INSERT);
    stmt.bind([r.id, r.category, r.score, r.title, r.created_at, r.user_id]);
    stmt.step();
    stmt.reset(true);
  },
  /** Closes the database and releases the pool's access handles, so another worker can take them at once. */
  close(): void {
    sqlite.close();
  },
};

export type SqliteWorkerApi = typeof api;

expose(api);
