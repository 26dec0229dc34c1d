/**
 * One SQLite-WASM database over OPFS (the SAH pool VFS), as the bench's
 * SQLite workers (scale-sqlite.worker.ts, joins-sqlite.worker.ts) open,
 * query and close it: prepared statements kept by text, rows as objects.
 */
import sqlite3InitModule, { type Database, type PreparedStatement, type SAHPoolUtil } from '@sqlite.org/sqlite-wasm';

export class SqliteSession {
  private pool: SAHPoolUtil | undefined;
  private current: Database | undefined;
  private readonly statements = new Map<string, PreparedStatement>();

  /** `directory`: the pool's directory in the origin's OPFS. */
  constructor(private readonly directory: string) {}

  /** Initialises the module and the VFS and opens `name` (`wipe`: the pool's files are emptied first); resolves to SQLite's version. */
  async open(name: string, wipe = false): Promise<string> {
    const sqlite3 = await sqlite3InitModule();
    this.pool = await sqlite3.installOpfsSAHPoolVfs({ directory: this.directory });
    if (wipe) await this.pool.wipeFiles();
    this.current = new this.pool.OpfsSAHPoolDb(`/${name}.sqlite3`);
    return sqlite3.version.libVersion;
  }

  get db(): Database {
    if (!this.current) throw new Error('the SQLite database is not open');
    return this.current;
  }

  /** The statement for `sql`, prepared once. */
  prepared(sql: string): PreparedStatement {
    let stmt = this.statements.get(sql);
    if (!stmt) this.statements.set(sql, (stmt = this.db.prepare(sql)));
    return stmt;
  }

  /** Runs `sql` with `bind` and returns its rows as objects. */
  all(sql: string, bind?: unknown[]): Record<string, unknown>[] {
    const stmt = this.prepared(sql);
    try {
      if (bind) stmt.bind(bind as never);
      const out: Record<string, unknown>[] = [];
      while (stmt.step()) out.push(stmt.get({}));
      return out;
    } finally {
      stmt.reset(true);
    }
  }

  /** Closes the database and releases the pool's access handles, so another worker can take them at once. */
  close(): void {
    for (const stmt of this.statements.values()) stmt.finalize();
    this.statements.clear();
    this.current?.close();
    this.current = undefined;
    this.pool?.pauseVfs();
  }
}
