import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Database, type OpenOptions } from '../api/database';
import { KalamError } from '../core/errors';
import type { Row, Value } from '../core/types';
import { BACKUP_FORMAT_VERSION, BACKUP_MAGIC, BackupReader, BackupWriter, type BackupProgress } from './backup-format';

const SCHEMA = `CREATE NAMESPACE app; CREATE NAMESPACE empty_ns;
  CREATE USER TABLE app.all_types (id BIGINT PRIMARY KEY, b BOOLEAN, s SMALLINT, i INT, f FLOAT, d DOUBLE, dec DECIMAL(10, 2),
    t TEXT NOT NULL DEFAULT 'none', bytes BYTES, j JSON, ts TIMESTAMP DEFAULT NOW(), dt DATETIME, day DATE, tm TIME, u UUID)
    WITH (FLUSH_POLICY = 'rows:100000', DELETED_RETENTION_HOURS = 12);
  CREATE SHARED TABLE app.pub (id INT PRIMARY KEY, v TEXT DEFAULT 'p') WITH (ACCESS_LEVEL = 'public');
  CREATE SHARED TABLE app.secret (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'dba');
  CREATE STREAM TABLE app.events (id TEXT, body TEXT) WITH (TTL_SECONDS = 3600);
  CREATE USER 'alice' ROLE user; CREATE USER 'ops' ROLE dba`;

const USERS = ['alice', 'bob', 'carol'];

/** One row of every kind of value, for user number `u`. */
function typedRow(id: bigint, u: number): Value[] {
  return [
    id, u % 2 === 0, -32768 + u, 2147483647 - u, 1.5, [Number.NEGATIVE_INFINITY, -0, Number.POSITIVE_INFINITY, 1e-300][u % 4], 12.25,
    `ünïcödé 🦀 ${u} \u0000 \u{10FFFF} 中文`, new Uint8Array([0, 255, u, 7]), { nested: { list: [1, 'two', null, true], big: 9007199254740991 }, u },
    1_700_000_000_000 + u, 1_600_000_000_000, '2024-02-29', '23:59:59', '0190a5a8-7f1e-7c1b-9b1e-2f1c4b5d6e7f',
  ];
}

async function fill(db: Database): Promise<void> {
  const root = db.session({ user: 'root', role: 'system' });
  await root.execute(SCHEMA);
  for (const [u, user] of USERS.entries()) {
    const s = db.session({ user, role: 'user', namespace: 'app' });
    await s.execute('INSERT INTO all_types VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)', typedRow(BigInt(u) * 10n, u));
    await s.execute(`INSERT INTO all_types (id, t) VALUES ($1, 'nulls')`, [BigInt(u) * 10n + 1n]);
    await s.execute(`INSERT INTO all_types (id) VALUES ($1)`, [-(2n ** 63n) + BigInt(u)]);
    await s.execute(`INSERT INTO events (id, body) VALUES ('e${u}', 'event of ${user}')`);
  }
  // Deleted and updated rows: only the newest version travels, tombstones do not.
  const alice = db.session({ user: 'alice', namespace: 'app' });
  await alice.execute(`INSERT INTO all_types (id, t) VALUES (99, 'gone')`);
  await alice.execute('DELETE FROM all_types WHERE id = 99');
  await alice.execute(`UPDATE all_types SET t = 'changed' WHERE id = 1`);
  await root.execute(`INSERT INTO app.pub (id, v) VALUES (1, 'one'), (2, NULL); INSERT INTO app.secret (id, v) VALUES (7, 'hidden')`);
}

/** Everything a user can observe of a database: definitions, users and every partition's rows with their _seq. */
async function dump(db: Database): Promise<Record<string, unknown>> {
  const root = db.session({ user: 'root', role: 'system' });
  const q = async (sql: string, user = 'root') => (await db.session({ user, role: 'system' }).query(sql)).rows;
  const out: Record<string, unknown> = {
    namespaces: (await q('SELECT name, table_count FROM system.namespaces ORDER BY name')),
    tables: (await q('SELECT namespace_id, table_name, table_type, version, access_level, ttl_seconds, options FROM system.tables ORDER BY table_name')),
    columns: (await q('SELECT table_name, column_id, column_name, ordinal, data_type, nullable, primary_key, default_value FROM system.columns ORDER BY table_name, ordinal')),
    users: (await q('SELECT user_id, role, email, deleted_at FROM system.users ORDER BY user_id')),
  };
  for (const user of [...USERS, 'root']) {
    out[`all_types/${user}`] = await q('SELECT *, _seq FROM app.all_types ORDER BY id', user);
    out[`events/${user}`] = await q('SELECT *, _seq FROM app.events ORDER BY id', user);
  }
  out.pub = (await root.query('SELECT *, _seq FROM app.pub ORDER BY id')).rows;
  out.secret = (await root.query('SELECT *, _seq FROM app.secret ORDER BY id')).rows;
  return out;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return (e as KalamError).code;
  }
  throw new Error('expected a failure');
}

const bytesOf = async (blob: Blob) => new Uint8Array(await blob.arrayBuffer());

describe('exportDatabase / importDatabase', () => {
  const targets: [string, () => OpenOptions][] = [
    ['memory', () => ({ storage: 'memory' })],
    ['idb', () => ({ storage: 'idb', name: 'restored', indexedDB: new IDBFactory() })],
  ];

  it.each(targets)('round-trips every type, every user, every table kind, hot and cold, into a fresh %s database', async (_name, target) => {
    const source = await openDatabase({ storage: 'memory', rowGroupRows: 4 });
    await fill(source);
    // Many cold rows in small row groups: the export reads them a key window at a time.
    const bob = source.session({ user: 'bob', namespace: 'app' });
    await bob.execute(`INSERT INTO all_types (id, t) VALUES ${Array.from({ length: 300 }, (_, i) => `(${1000 + i}, 'cold ${i}')`).join(', ')}`);
    await source.session({ user: 'root', role: 'system' }).execute('STORAGE FLUSH ALL IN app');
    await bob.execute(`UPDATE all_types SET t = 'hot again' WHERE id = 1100; DELETE FROM all_types WHERE id = 1200`);
    const before = await dump(source);
    expect((before['all_types/bob'] as Row[]).length).toBe(3 + 300 - 1);

    const blob = await source.exportDatabase();
    expect(blob).toBeInstanceOf(Blob);
    const restored = await openDatabase(target());
    const result = await restored.importDatabase(blob);
    expect(result).toEqual({ kind: 'database', namespaces: 2, tables: 4, rows: 3 * 3 + 299 + 3 + 2 + 1, users: 2 });
    expect(await dump(restored)).toEqual(before);
    // Values come back as the engine hands them out: bigint, bytes, -0, infinities, frozen JSON.
    const [row] = (await restored.session({ user: 'bob' }).query('SELECT * FROM app.all_types WHERE id = 10')).rows;
    expect(typeof row.id).toBe('bigint');
    expect(Object.is(row.d, -0)).toBe(true);
    expect(row.bytes).toEqual(new Uint8Array([0, 255, 1, 7]));
    expect(Object.isFrozen(row.j)).toBe(true);
    // The restored database takes new writes after the imported _seq, and a second export is the same file but its time stamp.
    await restored.session({ user: 'bob' }).execute(`INSERT INTO app.all_types (id) VALUES (5000)`);
    const [fresh] = (await restored.session({ user: 'bob' }).query('SELECT _seq FROM app.all_types WHERE id = 5000')).rows;
    const seqs = (before['all_types/bob'] as Row[]).map((r) => r._seq as bigint);
    expect(seqs.every((s) => (fresh._seq as bigint) > s)).toBe(true);
    await source.close();
    await restored.close();
  });

  it('a restored idb database survives a reopen', async () => {
    const source = await openDatabase({ storage: 'memory' });
    await fill(source);
    const before = await dump(source);
    const indexedDB = new IDBFactory();
    const restored = await openDatabase({ storage: 'idb', name: 'r', indexedDB });
    await restored.importDatabase(await source.exportDatabase());
    await restored.close();
    const reopened = await openDatabase({ storage: 'idb', name: 'r', indexedDB });
    expect(await dump(reopened)).toEqual(before);
    await reopened.close();
    await source.close();
  });

  it('reports progress in rows and tables, rising to the totals, for both directions', async () => {
    const source = await openDatabase({ storage: 'memory' });
    await fill(source);
    await source.session({ user: 'dave', namespace: 'app' }).execute(`INSERT INTO all_types (id) VALUES ${Array.from({ length: 2500 }, (_, i) => `(${i})`).join(', ')}`);
    const out: BackupProgress[] = [];
    const blob = await source.exportDatabase({ onProgress: (p) => out.push(p) });
    const inn: BackupProgress[] = [];
    const result = await (await openDatabase({ storage: 'memory' })).importDatabase(blob, { onProgress: (p) => inn.push(p) });
    for (const list of [out, inn]) {
      expect(list.length).toBeGreaterThan(3); // 2,500 rows of one partition make three records
      for (let i = 1; i < list.length; i++) {
        expect(list[i].rows).toBeGreaterThanOrEqual(list[i - 1].rows);
        expect(list[i].tables).toBeGreaterThanOrEqual(list[i - 1].tables);
      }
      expect(list[list.length - 1]).toEqual({ rows: result.rows, tables: 4 });
    }
    // A progress callback that throws does not stop the export.
    await expect(source.exportDatabase({ onProgress: () => { throw new Error('ui bug'); } })).resolves.toBeInstanceOf(Blob);
    expect(await codeOf(source.exportDatabase({ onProgress: 'no' as never }))).toBe('INVALID_OPTION');
    expect(await codeOf(source.exportDatabase({ what: 1 } as never))).toBe('INVALID_OPTION');
    await source.close();
  });

  it('refuses a database that is not empty, writing nothing', async () => {
    const source = await openDatabase({ storage: 'memory' });
    await fill(source);
    const blob = await source.exportDatabase();
    const target = await openDatabase({ storage: 'memory' });
    await target.session({ user: 'root', role: 'system' }).execute('CREATE SHARED TABLE keep (id INT PRIMARY KEY)');
    expect(await codeOf(target.importDatabase(blob))).toBe('IMPORT_NOT_EMPTY');
    expect((await target.session({ user: 'root', role: 'system' }).query('SELECT table_name FROM system.tables')).rows).toEqual([{ table_name: 'keep' }]);
    // Twice into the same database: the second import refuses.
    const fresh = await openDatabase({ storage: 'memory' });
    await fresh.importDatabase(blob);
    expect(await codeOf(fresh.importDatabase(blob))).toBe('IMPORT_NOT_EMPTY');
    await source.close();
  });

  describe('files it cannot read: a clear error, nothing left behind', () => {
    async function exported(): Promise<Uint8Array> {
      const source = await openDatabase({ storage: 'memory' });
      await fill(source);
      const bytes = await bytesOf(await source.exportDatabase());
      await source.close();
      return bytes;
    }

    async function expectRefused(bytes: Uint8Array | Blob, code: string): Promise<void> {
      const db = await openDatabase({ storage: 'memory' });
      expect(await codeOf(db.importDatabase(bytes instanceof Blob ? bytes : new Blob([bytes as BlobPart])))).toBe(code);
      // Whatever was created before the failure is gone: the database is empty and takes a good import.
      const root = db.session({ user: 'root', role: 'system' });
      expect((await root.query('SELECT table_name FROM system.tables')).rows).toEqual([]);
      expect((await root.query('SELECT name FROM system.namespaces')).rows).toEqual([{ name: 'default' }]);
      await db.close();
    }

    it('an empty file, a foreign file and a non-Blob', async () => {
      await expectRefused(new Uint8Array(0), 'IMPORT_INVALID_FILE');
      await expectRefused(new TextEncoder().encode('id,title\n1,hello\n'.repeat(10)), 'IMPORT_INVALID_FILE');
      const db = await openDatabase({ storage: 'memory' });
      expect(await codeOf(db.importDatabase('backup.bin' as never))).toBe('INVALID_PARAMETER');
    });

    it('a newer format version', async () => {
      const bytes = await exported();
      new DataView(bytes.buffer).setUint32(BACKUP_MAGIC.length, BACKUP_FORMAT_VERSION + 1, true);
      await expectRefused(bytes, 'IMPORT_VERSION_UNSUPPORTED');
    });

    it('a file truncated anywhere', async () => {
      const bytes = await exported();
      for (const cut of [5, BACKUP_MAGIC.length + 4, BACKUP_MAGIC.length + 6, Math.floor(bytes.length / 2), bytes.length - 30, bytes.length - 1]) {
        await expectRefused(bytes.slice(0, cut), 'IMPORT_INVALID_FILE');
      }
    });

    it('a damaged byte in any record (checksums), and bytes after the end', async () => {
      const bytes = await exported();
      for (const at of [BACKUP_MAGIC.length + 12, Math.floor(bytes.length / 3), Math.floor(bytes.length / 2), bytes.length - 20]) {
        const copy = bytes.slice();
        copy[at] ^= 0x5a;
        await expectRefused(copy, 'IMPORT_INVALID_FILE');
      }
      await expectRefused(new Uint8Array([...bytes, 1, 2, 3]), 'IMPORT_INVALID_FILE');
    });

    it('well-formed records that do not describe a database: a row that does not fit its table, repeated keys, wrong totals', async () => {
      const table = { id: 1, namespace: 'app', name: 't', type: 'USER', columns: [{ id: 1, name: 'id', type: 'INT', notNull: true, primaryKey: true }], pk: 0, options: {}, version: 1, createdAt: 0 };
      const file = (rows: unknown[][], end = { tables: 1, rows: rows.length }) => {
        const w = new BackupWriter();
        w.write({ t: 'header', kind: 'database', createdAt: 0 });
        w.write({ t: 'namespace', def: { name: 'app', createdAt: 0 } });
        w.write({ t: 'table', def: table as never });
        w.write({ t: 'rows', table: 1, user: 'u', rows: rows as never });
        w.write({ t: 'end', ...end });
        return w.finish();
      };
      await expectRefused(file([['text', 1n, false]]), 'IMPORT_INVALID_FILE');
      await expectRefused(file([[1, 1n, false, 'extra']]), 'IMPORT_INVALID_FILE');
      await expectRefused(file([[1, 1n, false], [1, 2n, false]]), 'IMPORT_INVALID_FILE');
      await expectRefused(file([[2, 1n, false], [1, 2n, false]]), 'IMPORT_INVALID_FILE');
      await expectRefused(file([[1, 1n, false]], { tables: 1, rows: 5 }), 'IMPORT_INVALID_FILE');
      const db = await openDatabase({ storage: 'memory' });
      expect(await db.importDatabase(file([[1, 1n, false], [2, 2n, false]]))).toMatchObject({ tables: 1, rows: 2 });
      expect((await db.session({ user: 'u' }).query('SELECT id FROM app.t ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 2 }]);
    });
  });

  it('reads the file in slices: records are found across slice boundaries and large rows survive', async () => {
    const source = await openDatabase({ storage: 'memory' });
    await source.session({ user: 'root', role: 'system' }).execute('CREATE SHARED TABLE big (id INT PRIMARY KEY, b BYTES)');
    const big = new Uint8Array(1.5 * 1024 * 1024).map((_, i) => i % 251); // more than one read slice (1 MiB)
    await source.session({ user: 'root', role: 'system' }).execute('INSERT INTO big VALUES (1, $1), (2, $2)', [big, new Uint8Array([1])]);
    const blob = await source.exportDatabase();
    const reader = await BackupReader.open(blob);
    const kinds: string[] = [];
    for (let r = await reader.next(); r; r = await reader.next()) kinds.push(r.t);
    expect(kinds).toEqual(['header', 'namespace', 'table', 'rows', 'rows', 'end']);
    const restored = await openDatabase({ storage: 'memory' });
    await restored.importDatabase(blob);
    const rows = (await restored.session({ user: 'root', role: 'system' }).query('SELECT id, b FROM big ORDER BY id')).rows;
    const back = rows[0].b as Uint8Array;
    expect([rows.length, back.length, back.every((v, i) => v === big[i]), rows[1]]).toEqual([2, big.length, true, { id: 2, b: new Uint8Array([1]) }]);
  });
});

describe('session.exportUserData', () => {
  it("holds the session's own USER rows and the SHARED rows its role reads, and moves them to a new database", async () => {
    const source = await openDatabase({ storage: 'memory' });
    await fill(source);
    const alice = source.session({ user: 'alice', role: 'user', namespace: 'app' });
    const blob = await alice.exportUserData();
    const device = await openDatabase({ storage: 'memory' });
    expect(await device.importDatabase(blob)).toEqual({ kind: 'user', user: 'alice', namespaces: 1, tables: 2, rows: 2 + 1 + 2, users: 1 });
    const root = device.session({ user: 'root', role: 'system' });
    expect((await root.query('SELECT table_name FROM system.tables ORDER BY table_name')).rows).toEqual([{ table_name: 'all_types' }, { table_name: 'pub' }]);
    const mine = async (db: Database) => (await db.session({ user: 'alice', namespace: 'app' }).query('SELECT *, _seq FROM all_types ORDER BY id')).rows;
    expect(await mine(device)).toEqual(await mine(source));
    expect((await device.session({ user: 'bob', namespace: 'app' }).query('SELECT * FROM all_types')).rows).toEqual([]);
    expect((await root.query('SELECT user_id, role FROM system.users')).rows).toEqual([{ user_id: 'alice', role: 'user' }]);
    // A dba session's export also holds the dba-level SHARED table.
    const ops = await source.session({ user: 'ops', role: 'dba' }).exportUserData();
    const third = await openDatabase({ storage: 'memory' });
    expect(await third.importDatabase(ops)).toMatchObject({ kind: 'user', user: 'ops', tables: 3 });
  });
});
