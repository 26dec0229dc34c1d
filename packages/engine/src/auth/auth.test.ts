import { describe, expect, it } from 'vitest';
import { openDatabase } from '../api/database';
import { KalamError } from '../core/errors';
import type { Role } from '../core/types';

async function setup(options: { maxAuditEntries?: number } = {}) {
  const db = await openDatabase({ storage: 'memory', ...options });
  const root = db.session({ user: 'root', role: 'system' });
  await root.execute(`CREATE NAMESPACE app;
    CREATE USER TABLE app.notes (id TEXT PRIMARY KEY, body TEXT);
    CREATE STREAM TABLE app.events (id TEXT, body TEXT) WITH (TTL_SECONDS = 3600);
    CREATE SHARED TABLE app.pub (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'public');
    CREATE SHARED TABLE app.priv (id INT PRIMARY KEY, v TEXT);
    CREATE SHARED TABLE app.restr (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'restricted');
    CREATE SHARED TABLE app.dbaonly (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'dba');
    INSERT INTO app.pub VALUES (1, 'p'); INSERT INTO app.priv VALUES (1, 'q');
    INSERT INTO app.restr VALUES (1, 'r'); INSERT INTO app.dbaonly VALUES (1, 'd');
    CREATE USER 'alice' ROLE user; CREATE USER 'svc' ROLE service; CREATE USER 'ops' ROLE dba; CREATE USER 'root2' ROLE system`);
  return { db, root };
}

const failure = async (p: Promise<unknown>): Promise<KalamError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected a KalamError');
};

describe('SHARED table access levels', () => {
  const cases: [Role, string, boolean, boolean][] = [
    // role, table, can read, can write
    ['user', 'pub', true, false], ['user', 'priv', false, false], ['user', 'restr', false, false], ['user', 'dbaonly', false, false],
    ['service', 'pub', true, true], ['service', 'priv', true, true], ['service', 'restr', true, true], ['service', 'dbaonly', false, false],
    ['dba', 'pub', true, true], ['dba', 'priv', true, true], ['dba', 'dbaonly', true, true],
    ['system', 'dbaonly', true, true],
  ];
  it.each(cases)('role %s on app.%s: read %s, write %s', async (role, table, canRead, canWrite) => {
    const { db } = await setup();
    const s = db.session({ user: 'someone', role });
    const read = s.query(`SELECT v FROM app.${table}`);
    if (canRead) expect((await read).rows).toHaveLength(1);
    else expect((await failure(read)).code).toBe('PERMISSION_DENIED');
    const write = s.execute(`UPDATE app.${table} SET v = 'x' WHERE id = 1`);
    if (canWrite) expect((await write)[0].rowCount).toBe(1);
    else expect((await failure(write)).code).toBe('PERMISSION_DENIED');
  });

  it('denies a private table inside a join and an aggregate just as in a plain read', async () => {
    const { db } = await setup();
    const bob = db.session({ user: 'bob', role: 'user' });
    expect((await failure(bob.query('SELECT COUNT(*) FROM app.priv'))).code).toBe('PERMISSION_DENIED');
    expect((await failure(bob.query('SELECT p.v FROM app.pub p JOIN app.priv q ON p.id = q.id'))).code).toBe('PERMISSION_DENIED');
  });
});

describe('users', () => {
  it('creates, alters and soft-deletes users in system.users', async () => {
    const { db, root } = await setup();
    await root.execute(`ALTER USER 'alice' SET ROLE developer; ALTER USER 'alice' SET EMAIL 'a@example.com'`);
    await root.execute(`DROP USER 'root2'`);
    const rows = (await root.query(`SELECT user_id, role, email, deleted_at IS NOT NULL AS dropped FROM system.users ORDER BY user_id`)).rows;
    expect(rows).toEqual([
      { user_id: 'alice', role: 'service', email: 'a@example.com', dropped: false },
      { user_id: 'ops', role: 'dba', email: null, dropped: false },
      { user_id: 'root2', role: 'system', email: null, dropped: true },
      { user_id: 'svc', role: 'service', email: null, dropped: false },
    ]);
    expect((await failure(root.execute(`CREATE USER 'alice' ROLE user`))).code).toBe('USER_EXISTS');
    expect((await root.execute(`CREATE USER IF NOT EXISTS 'alice' ROLE user`))[0].message).toMatch(/already exists/);
    expect((await failure(db.session({ user: 'x', role: 'service' }).execute(`CREATE USER 'y' ROLE user`))).code).toBe('PERMISSION_DENIED');
  });

  it('refuses passwords with a message that says how sessions name users', async () => {
    const { root } = await setup();
    const e = await failure(root.execute(`CREATE USER 'z' WITH PASSWORD 'secret123' ROLE user`));
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toMatch(/db\.session/);
  });

  it('refuses an unknown role', async () => {
    const { root } = await setup();
    expect((await failure(root.execute(`CREATE USER 'z' ROLE superuser`))).message).toMatch(/Unknown role 'superuser'/);
  });
});

describe('EXECUTE AS USER', () => {
  it('lets a service write into a user partition, and the user sees the row', async () => {
    const { db } = await setup();
    const svc = db.session({ user: 'svc', role: 'service' });
    await svc.execute(`EXECUTE AS USER 'alice' (INSERT INTO app.notes (id, body) VALUES ('n1', 'from service'))`);
    expect((await db.session({ user: 'alice' }).query('SELECT body FROM app.notes')).rows).toEqual([{ body: 'from service' }]);
    expect((await svc.query('SELECT body FROM app.notes')).rows).toEqual([]);
    const read = await svc.query(`EXECUTE AS USER 'alice' (SELECT id FROM app.notes)`);
    expect(read.rows).toEqual([{ id: 'n1' }]);
  });

  it('refuses a user impersonating another user, with KalamDB wording, and audits it', async () => {
    const { db, root } = await setup();
    const bob = db.session({ user: 'bob', role: 'user' });
    const e = await failure(bob.execute(`EXECUTE AS USER 'alice' (SELECT * FROM app.notes)`));
    expect(e.code).toBe('PERMISSION_DENIED');
    expect(e.message).toBe("EXECUTE AS USER is not authorized: actor 'bob' with role User cannot target 'alice' with role User");
    const audit = (await root.query(`SELECT actor_user_id, subject_user_id, action, outcome, details FROM system.audit_log WHERE action = 'EXECUTE_AS_USER'`)).rows;
    expect(audit).toEqual([{ actor_user_id: 'bob', subject_user_id: 'alice', action: 'EXECUTE_AS_USER', outcome: 'denied', details: 'role_not_allowed' }]);
  });

  it('follows the role hierarchy: service cannot target a dba, dba cannot target system, system can target anyone', async () => {
    const { db } = await setup();
    const svc = db.session({ user: 'svc', role: 'service' });
    expect((await failure(svc.execute(`EXECUTE AS USER 'ops' (SELECT * FROM app.notes)`))).code).toBe('PERMISSION_DENIED');
    const ops = db.session({ user: 'ops', role: 'dba' });
    expect((await failure(ops.execute(`EXECUTE AS USER 'root2' (SELECT * FROM app.notes)`))).code).toBe('PERMISSION_DENIED');
    await ops.execute(`EXECUTE AS USER 'svc' (SELECT * FROM app.notes)`);
    const sys = db.session({ user: 'root', role: 'system' });
    await sys.execute(`EXECUTE AS USER 'root2' (SELECT * FROM app.notes)`);
  });

  it('refuses SHARED tables with KalamDB wording', async () => {
    const { db } = await setup();
    const e = await failure(db.session({ user: 'ops', role: 'dba' }).execute(`EXECUTE AS USER 'alice' (SELECT * FROM app.pub)`));
    expect(e.message).toBe(
      "EXECUTE AS USER is not allowed on SHARED tables (table 'app.pub'). AS USER impersonation is only supported for USER and STREAM tables.",
    );
  });

  it('audits allowed attempts with actor, subject and target table', async () => {
    const { db, root } = await setup();
    await db.session({ user: 'svc', role: 'service' }).execute(`EXECUTE AS USER 'alice' (SELECT * FROM app.events)`);
    const rows = (await root.query(`SELECT actor_user_id, subject_user_id, target, outcome FROM system.audit_log WHERE action = 'EXECUTE_AS_USER'`)).rows;
    expect(rows).toEqual([{ actor_user_id: 'svc', subject_user_id: 'alice', target: 'app.events', outcome: 'allowed' }]);
  });

  it('keeps the audit log within its bound, dropping the oldest entries', async () => {
    const { db, root } = await setup({ maxAuditEntries: 5 });
    const bob = db.session({ user: 'bob', role: 'user' });
    for (let i = 0; i < 8; i++) await failure(bob.execute(`EXECUTE AS USER 'u${i}' (SELECT * FROM app.notes)`));
    const rows = (await root.query(`SELECT subject_user_id FROM system.audit_log ORDER BY audit_id`)).rows;
    expect(rows.map((r) => r.subject_user_id)).toEqual(['u3', 'u4', 'u5', 'u6', 'u7']);
    const stats = Object.fromEntries((await root.query(`SELECT metric_name, metric_value FROM system.stats WHERE metric_name LIKE 'audit%'`)).rows.map((r) => [r.metric_name, r.metric_value]));
    expect(stats).toEqual({ audit_log_entries: '5', audit_log_max: '5' });
  });
});

describe('SHOW STATS FOR TABLE', () => {
  it('counts only the caller’s own rows of a USER table', async () => {
    const { db } = await setup();
    await db.session({ user: 'alice' }).execute(`INSERT INTO app.notes VALUES ('a1', 'x'), ('a2', 'y')`);
    const bob = db.session({ user: 'bob' });
    await bob.execute(`INSERT INTO app.notes VALUES ('b1', 'z')`);
    const r = (await bob.query('SHOW STATS FOR TABLE app.notes')).rows[0];
    expect(r).toMatchObject({ table_name: 'notes', namespace: 'app', schema_version: 1, logical_rows: 1 });
  });

  it('needs read access for a SHARED table', async () => {
    const { db } = await setup();
    expect((await failure(db.session({ user: 'bob' }).query('SHOW STATS FOR TABLE app.priv'))).code).toBe('PERMISSION_DENIED');
  });
});

describe('system tables', () => {
  it.each(['users', 'audit_log', 'settings', 'stats', 'tables', 'columns', 'namespaces'])('system.%s is refused to the user and service roles', async (name) => {
    const { db, root } = await setup();
    for (const role of ['user', 'service'] as const) {
      expect((await failure(db.session({ user: 'x', role }).query(`SELECT * FROM system.${name}`))).code).toBe('PERMISSION_DENIED');
    }
    await root.query(`SELECT * FROM system.${name}`);
  });
});

describe('default table type', () => {
  it('makes a plain CREATE TABLE a SHARED table', async () => {
    const { root } = await setup();
    await root.execute('CREATE TABLE app.plain (id INT PRIMARY KEY)');
    expect((await root.query(`SELECT table_type FROM system.tables WHERE table_name = 'plain'`)).rows).toEqual([{ table_type: 'SHARED' }]);
  });

  it('makes it a USER table when a user creates it in the namespace named after itself', async () => {
    const { db, root } = await setup();
    await root.execute('CREATE NAMESPACE carol');
    await db.session({ user: 'carol', role: 'user' }).execute('CREATE TABLE carol.mine (id INT PRIMARY KEY)');
    expect((await root.query(`SELECT table_type FROM system.tables WHERE table_name = 'mine'`)).rows).toEqual([{ table_type: 'USER' }]);
    const e = await failure(db.session({ user: 'carol', role: 'user' }).execute('CREATE TABLE app.other (id INT PRIMARY KEY)'));
    expect(e.message).toBe('Insufficient privileges to create Shared tables');
  });
});
