/**
 * SQLite-WASM (bench-only devDependency) for the join bench: OPFS SAH pool
 * VFS, a dedicated worker of its own, called from joins-page.ts through
 * Comlink (so its figures include a round trip, as the engine's do).
 * Every table has its INTEGER PRIMARY KEY (the rowid) and no other index —
 * the same as the engine, which has no secondary index either.
 */
import { expose } from 'comlink';
import sqlite3InitModule, { type Database, type PreparedStatement, type SAHPoolUtil } from '@sqlite.org/sqlite-wasm';
import { COLUMNS, columnDefs, TABLES, type Cell, type Table } from './joins';

const SAH_POOL_DIRECTORY = '.bench-joins-sahpool';

let pool: SAHPoolUtil | undefined;
let db: Database | undefined;
const statements = new Map<string, PreparedStatement>();

function prepared(sql: string): PreparedStatement {
  let stmt = statements.get(sql);
  if (!stmt) statements.set(sql, (stmt = db!.prepare(sql)));
  return stmt;
}

/** SQLite numbers its parameters ?1, ?2 …; the shared SQL says $1, $2 … (both mean the same here). */
const sqliteText = (sql: string) => sql.replace(/\$(\d+)/g, '?$1');

const api = {
  async open(name: string): Promise<string> {
    const sqlite3 = await sqlite3InitModule();
    pool = await sqlite3.installOpfsSAHPoolVfs({ directory: SAH_POOL_DIRECTORY });
    await pool.wipeFiles();
    db = new pool.OpfsSAHPoolDb(`/${name}.sqlite3`);
    for (const table of TABLES) db.exec(`CREATE TABLE ${table} (${columnDefs(table)})`);
    return sqlite3.version.libVersion;
  },
  load(table: Table, rows: Cell[][]): void {
    const cols = COLUMNS[table];
    db!.exec('BEGIN');
    const stmt = prepared(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
    for (const row of rows) {
      stmt.bind(row);
      stmt.step();
      stmt.reset();
    }
    db!.exec('COMMIT');
    db!.exec(`ANALYZE ${table}`);
  },
  query(sql: string, params: Cell[]): Record<string, unknown>[] {
    const stmt = prepared(sqliteText(sql));
    try {
      stmt.bind(params);
      const out: Record<string, unknown>[] = [];
      while (stmt.step()) out.push(stmt.get({}));
      return out;
    } finally {
      stmt.reset(true);
    }
  },
  close(): void {
    for (const stmt of statements.values()) stmt.finalize();
    statements.clear();
    db?.close();
    db = undefined;
    pool?.pauseVfs();
  },
};

export type JoinsSqliteApi = typeof api;

expose(api);
