import { beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';

let db: Database;
let admin: Session;

beforeEach(async () => {
  db = await openDatabase({ storage: 'memory' });
  admin = db.session({ user: 'root', role: 'dba' });
  await admin.execute('CREATE NAMESPACE app');
});

async function failure(p: Promise<unknown>): Promise<KalamError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected the statement to fail');
}

const tables = async () => (await admin.query('SHOW TABLES IN app')).rows.map((r) => r.table_name);

describe('CREATE TABLE option validation (worded as KalamDB words it)', () => {
  const cases: [string, string, string][] = [
    ['TTL on a USER table', "CREATE USER TABLE app.t (id INT PRIMARY KEY) WITH (TTL_SECONDS = 60)", 'TTL_SECONDS is only supported for STREAM tables'],
    ['TTL on a SHARED table', "CREATE TABLE app.t (id INT PRIMARY KEY) WITH (TYPE = 'SHARED', TTL_SECONDS = 60)", 'TTL_SECONDS is only supported for STREAM tables'],
    ['ACCESS_LEVEL on a USER table', "CREATE USER TABLE app.t (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'public')", 'ACCESS_LEVEL is only supported for SHARED tables'],
    ['ACCESS_LEVEL on a STREAM table', "CREATE STREAM TABLE app.t (v INT) WITH (TTL_SECONDS = 5, ACCESS_LEVEL = 'public')", 'ACCESS_LEVEL is only supported for SHARED tables'],
    ['USE_USER_STORAGE on a SHARED table', "CREATE SHARED TABLE app.t (id INT PRIMARY KEY) WITH (USE_USER_STORAGE = TRUE)", 'USE_USER_STORAGE is only supported for USER tables'],
    ['an unknown option', "CREATE USER TABLE app.t (id INT PRIMARY KEY) WITH (COLOUR = 'blue')", "Unknown table option 'COLOUR'"],
    ['a STREAM table without TTL', 'CREATE STREAM TABLE app.t (v INT)', "STREAM tables must specify 'TTL_SECONDS'"],
    ['conflicting prefix and TYPE', "CREATE USER TABLE app.t (id INT PRIMARY KEY) WITH (TYPE = 'SHARED')", 'Conflicting table type definitions: CREATE User TABLE vs TYPE option Shared'],
    ['conflicting STREAM prefix and TYPE', "CREATE STREAM TABLE app.t (v INT) WITH (TYPE = 'user', TTL_SECONDS = 5)", 'Conflicting table type definitions: CREATE Stream TABLE vs TYPE option User'],
  ];
  for (const [what, sql, message] of cases) {
    it(`refuses ${what}`, async () => {
      const e = await failure(admin.execute(sql));
      expect(e.code).toBe('INVALID_OPTION');
      expect(e.message).toBe(message);
      expect(await tables()).toEqual([]);
    });
  }

  it('refuses a TTL that is not a positive integer', async () => {
    for (const ttl of ['0', '-5', '1.5', "'soon'"]) {
      const e = await failure(admin.execute(`CREATE STREAM TABLE app.t (v INT) WITH (TTL_SECONDS = ${ttl})`));
      expect([ttl, e.code]).toEqual([ttl, 'INVALID_OPTION']);
    }
  });

  it('refuses an unknown TYPE and an unknown ACCESS_LEVEL', async () => {
    expect((await failure(admin.execute("CREATE TABLE app.t (id INT PRIMARY KEY) WITH (TYPE = 'TEMP')"))).code).toBe('INVALID_OPTION');
    expect((await failure(admin.execute("CREATE SHARED TABLE app.t (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'world')"))).code).toBe('INVALID_OPTION');
  });

  it('reads option names and TYPE values case-insensitively', async () => {
    await admin.execute("CREATE TABLE app.a (id INT PRIMARY KEY) WITH (type = 'user')");
    await admin.execute("CREATE TABLE app.b (v INT) with (Type = 'Stream', ttl_seconds = 30)");
    await admin.execute("CREATE TABLE app.c (id INT PRIMARY KEY) WITH (access_level = 'PUBLIC')");
    const r = await admin.query("SELECT table_name, table_type, ttl_seconds, access_level FROM system.tables WHERE namespace_id = 'app' ORDER BY table_name");
    expect(r.rows).toEqual([
      { table_name: 'a', table_type: 'USER', ttl_seconds: null, access_level: null },
      { table_name: 'b', table_type: 'STREAM', ttl_seconds: 30, access_level: null },
      { table_name: 'c', table_type: 'SHARED', ttl_seconds: null, access_level: 'public' },
    ]);
  });
});

describe('CREATE TABLE structure', () => {
  it('USER and SHARED tables need a primary key; STREAM tables do not', async () => {
    expect(await failure(admin.execute('CREATE USER TABLE app.t (v INT)'))).toMatchObject({ code: 'INVALID_SQL', message: 'User tables require a PRIMARY KEY column' });
    expect(await failure(admin.execute('CREATE SHARED TABLE app.t (v INT)'))).toMatchObject({ code: 'INVALID_SQL', message: 'Shared tables require a PRIMARY KEY column' });
    await admin.execute('CREATE STREAM TABLE app.s (v INT) WITH (TTL_SECONDS = 10)');
    expect(await tables()).toEqual(['s']);
  });

  it('refuses duplicate column names regardless of case, quoting the name as written', async () => {
    const e = await failure(admin.execute('CREATE USER TABLE app.t (id INT PRIMARY KEY, name TEXT, Name TEXT)'));
    expect(e.code).toBe('DUPLICATE_COLUMN');
    expect(e.message).toBe("Duplicate column name 'Name'. Column names are case-insensitive.");
    expect(await tables()).toEqual([]);
  });

  it('refuses composite primary keys', async () => {
    expect(await failure(admin.execute('CREATE USER TABLE app.t (a INT, b INT, PRIMARY KEY (a, b))'))).toMatchObject({
      code: 'UNSUPPORTED',
      message: 'Composite PRIMARY KEYs are not supported yet',
    });
  });

  it('refuses reserved system column names and SQL keywords as names', async () => {
    for (const col of ['_seq', '_deleted', '_id']) {
      const e = await failure(admin.execute(`CREATE USER TABLE app.t (id INT PRIMARY KEY, ${col} TEXT)`));
      expect([col, e.code]).toEqual([col, 'INVALID_NAME']);
    }
    for (const word of ['select', 'order', 'at', 'json', 'window']) {
      const e = await failure(admin.execute(`CREATE USER TABLE app.t (id INT PRIMARY KEY, ${word} TEXT)`));
      expect([word, e.code]).toEqual([word, 'INVALID_NAME']);
    }
    expect((await failure(admin.execute('CREATE USER TABLE app.at (id INT PRIMARY KEY)'))).code).toBe('INVALID_NAME');
  });

  it('a column name the engine accepts can be used in every statement', async () => {
    await admin.execute('CREATE SHARED TABLE app.t (id INT PRIMARY KEY, type TEXT, status TEXT, value INT, data TEXT, name TEXT, count INT, date DATE, time TEXT)');
    await admin.execute("INSERT INTO app.t (id, type, status, value, data, name, count, date, time) VALUES (1, 'a', 'b', 2, 'd', 'n', 3, '2024-01-01', 't')");
    await admin.execute("UPDATE app.t SET type = 'z', status = 'y', value = value + 1, count = count + 1 WHERE type = 'a' AND status = 'b'");
    expect((await admin.query('SELECT type, status, value, count FROM app.t WHERE value > 0 ORDER BY value')).rows).toEqual([
      { type: 'z', status: 'y', value: 3, count: 4 },
    ]);
  });

  it('TABLE_EXISTS unless IF NOT EXISTS', async () => {
    await admin.execute('CREATE USER TABLE app.t (id INT PRIMARY KEY)');
    expect(await failure(admin.execute('CREATE USER TABLE app.T (id INT PRIMARY KEY)'))).toMatchObject({ code: 'TABLE_EXISTS', message: 'Table app.t already exists' });
    expect((await admin.query('CREATE USER TABLE IF NOT EXISTS app.t (id INT PRIMARY KEY)')).kind).toBe('ok');
  });

  it('needs the namespace to exist', async () => {
    expect(await failure(admin.execute('CREATE USER TABLE nope.t (id INT PRIMARY KEY)'))).toMatchObject({
      code: 'NAMESPACE_NOT_FOUND',
      message: "Namespace 'nope' does not exist. Create it first with CREATE NAMESPACE nope",
    });
  });

  it('a user may create USER tables but not SHARED ones', async () => {
    const alice = db.session({ user: 'alice' });
    await alice.execute('CREATE USER TABLE app.mine (id INT PRIMARY KEY)');
    expect(await failure(alice.execute('CREATE SHARED TABLE app.ours (id INT PRIMARY KEY)'))).toMatchObject({
      code: 'PERMISSION_DENIED',
      message: 'Insufficient privileges to create Shared tables',
    });
    expect(await tables()).toEqual(['mine']);
  });
});

describe('namespaces', () => {
  it('refuses every reserved namespace name', async () => {
    for (const name of ['system', 'sys', 'root', 'kalamdb', 'kalam', 'main', 'default', 'sql', 'admin', 'internal', 'information_schema', 'pg_catalog', 'datafusion']) {
      const e = await failure(admin.execute(`CREATE NAMESPACE ${name}`));
      expect([name, e.code]).toEqual([name, 'INVALID_NAME']);
    }
    expect((await failure(admin.execute('CREATE NAMESPACE System'))).code).toBe('INVALID_NAME');
  });

  it('cannot create tables in the system namespace', async () => {
    expect((await failure(admin.execute('CREATE SHARED TABLE system.mine (id INT PRIMARY KEY)'))).code).toBe('PERMISSION_DENIED');
  });

  it('needs the dba or system role', async () => {
    const alice = db.session({ user: 'alice', role: 'service' });
    expect(await failure(alice.execute('CREATE NAMESPACE other'))).toMatchObject({
      code: 'PERMISSION_DENIED',
      message: 'Admin privileges (DBA or System role) required for namespace operations',
    });
  });

  it('DROP NAMESPACE [IF EXISTS] removes its tables', async () => {
    await admin.execute('CREATE USER TABLE app.t (id INT PRIMARY KEY)');
    expect((await admin.query('DROP NAMESPACE IF EXISTS gone')).message).toBe("Namespace 'gone' does not exist");
    await admin.execute('DROP NAMESPACE app CASCADE');
    expect((await failure(admin.query('SELECT id FROM app.t'))).code).toBe('NAMESPACE_NOT_FOUND');
    expect((await admin.query('SHOW NAMESPACES')).rows.map((r) => r.namespace_id)).toEqual(['default']);
  });
});

describe('identifiers are case-insensitive', () => {
  it('finds namespaces, tables and columns whatever the case they are written in', async () => {
    await admin.execute('CREATE NAMESPACE Shop; CREATE SHARED TABLE SHOP.Orders (ID INT PRIMARY KEY, Total DOUBLE)');
    await admin.execute('INSERT INTO shop.ORDERS (id, TOTAL) VALUES (1, 9.5)');
    expect((await admin.query('SELECT ID, total FROM Shop.orders WHERE Id = 1')).rows).toEqual([{ id: 1, total: 9.5 }]);
    expect((await admin.query('DESCRIBE TABLE SHOP.ORDERS')).rows.map((r) => r.column_name)).toEqual(['id', 'total', '_seq', '_deleted']);
    await admin.execute('USE SHOP');
    expect((await admin.query('SELECT COUNT(*) AS n FROM Orders')).rows).toEqual([{ n: 1 }]);
  });
});
