/**
 * SQLite-WASM (bench-only devDependency) for the join bench: OPFS SAH pool
 * VFS, a dedicated worker of its own, called from joins-page.ts through
 * Comlink (so its figures include a round trip, as the engine's do).
 * Every table has its INTEGER PRIMARY KEY (the rowid) and no other index —
 * the same as the engine, which has no secondary index either.
 */
import { expose } from 'comlink';
import { COLUMNS, columnDefs, TABLES, type Cell, type Table } from './joins';
import { SqliteSession } from './sqlite-session';

const sqlite = new SqliteSession('.bench-joins-sahpool');

/** SQLite numbers its parameters ?1, ?2 …; the shared SQL says $1, $2 … (both mean the same here). */
const sqliteText = (sql: string) => sql.replace(/\$(\d+)/g, '?$1');

const api = {
  async open(name: string): Promise<string> {
    const version = await sqlite.open(name, true);
    for (const table of TABLES) sqlite.db.exec(`CREATE TABLE ${table} (${columnDefs(table)})`);
    return version;
  },
  load(table: Table, rows: Cell[][]): void {
    const cols = COLUMNS[table];
    sqlite.db.exec('BEGIN');
    const stmt = sqlite.prepared(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
    for (const row of rows) {
      stmt.bind(row);
      stmt.step();
      stmt.reset();
    }
    sqlite.db.exec('COMMIT');
    sqlite.db.exec(`ANALYZE ${table}`);
  },
  query(sql: string, params: Cell[]): Record<string, unknown>[] {
    return sqlite.all(sqliteText(sql), params);
  },
  close(): void {
    sqlite.close();
  },
};

export type JoinsSqliteApi = typeof api;

expose(api);
