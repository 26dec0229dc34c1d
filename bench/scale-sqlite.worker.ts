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
import sqlite3InitModule, { type Database, type PreparedStatement, type SAHPoolUtil } from '@sqlite.org/sqlite-wasm';
import type { BenchRow } from './rows';
import { FILTER_LIMIT, type GroupAgg, type ScaleRow } from './scale';

/** The pool's directory in the origin's OPFS (scale-page.ts empties the whole OPFS root between sides). */
const SAH_POOL_DIRECTORY = '.bench-sahpool';

let pool: SAHPoolUtil | undefined;
let db: Database | undefined;
const statements = new Map<string, PreparedStatement>();

function prepared(sql: string): PreparedStatement {
  let stmt = statements.get(sql);
  if (!stmt) statements.set(sql, (stmt = db!.prepare(sql)));
  return stmt;
}

/** Runs a prepared statement with `bind` and returns its rows as objects. */
function all(sql: string, bind?: (string | number)[]): Record<string, unknown>[] {
  const stmt = prepared(sql);
  try {
    if (bind) stmt.bind(bind);
    const out: Record<string, unknown>[] = [];
    while (stmt.step()) out.push(stmt.get({}));
    return out;
  } finally {
    stmt.reset(true);
  }
}

const INSERT = 'INSERT INTO items (id, category, score, title, created_at, user_id) VALUES (?, ?, ?, ?, ?, ?)';

const api = {
  /** Initialises the module and the VFS, opens (with `create`: creates) the database. */
  async open(name: string, create: boolean): Promise<string> {
    const sqlite3 = await sqlite3InitModule();
    pool = await sqlite3.installOpfsSAHPoolVfs({ directory: SAH_POOL_DIRECTORY });
    db = new pool.OpfsSAHPoolDb(`/${name}.sqlite3`);
    if (create) {
      db.exec('CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, category TEXT NOT NULL, score REAL, title TEXT, created_at INTEGER, user_id TEXT)');
    }
    return sqlite3.version.libVersion;
  },
  begin(): void {
    db!.exec('BEGIN');
  },
  insertBatch(rows: ScaleRow[]): number {
    const stmt = prepared(INSERT);
    for (const r of rows) {
      stmt.bind([r.id, r.category, r.score, r.title, r.created_at, r.user_id]);
      stmt.step();
      stmt.reset();
    }
    return rows.length;
  },
  commit(): void {
    db!.exec('COMMIT');
  },
  createIndex(): void {
    db!.exec('CREATE INDEX IF NOT EXISTS items_category_score ON items (category, score)');
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
    const stmt = prepared(INSERT);
    stmt.bind([r.id, r.category, r.score, r.title, r.created_at, r.user_id]);
    stmt.step();
    stmt.reset(true);
  },
  /** Closes the database and releases the pool's access handles, so another worker can take them at once. */
  close(): void {
    for (const stmt of statements.values()) stmt.finalize();
    statements.clear();
    db?.close();
    db = undefined;
    pool?.pauseVfs();
  },
};

export type SqliteWorkerApi = typeof api;

expose(api);
