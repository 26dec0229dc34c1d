/**
 * Every cell of the role matrix through the public API: for each action a
 * statement (or a few), run by a session of each role against a fresh
 * database, asserting it runs or is refused with PERMISSION_DENIED and
 * KalamDB's wording. Expectations come from role-matrix.fixture.ts, an
 * independent copy of the reference, not from auth/permissions.ts.
 */
import { describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { AccessLevel } from '../core/schema';
import type { Role, Row } from '../core/types';
import { cells, EXPECTED_ROLES, EXPECTED_SHARED, EXPECTED_TARGETS, ROLE_ORDER } from './role-matrix.fixture';

async function setup(): Promise<{ db: Database; root: Session }> {
  const db = await openDatabase({ storage: 'memory' });
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

/** The outcome of a statement: undefined when it ran, else its error (always a KalamError). */
async function outcome(p: Promise<unknown>): Promise<KalamError | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
}

/** Runs each statement as `actor` and asserts it ran (allowed) or was refused with exactly `message`. */
async function expectRole(s: Session, allowed: boolean, message: string, ...statements: string[]): Promise<void> {
  for (const sql of statements) {
    const e = await outcome(s.execute(sql));
    if (allowed) expect([sql, e?.code, e?.message]).toEqual([sql, undefined, undefined]);
    else expect([sql, e?.code, e?.message]).toEqual([sql, 'PERMISSION_DENIED', message]);
  }
}

const LEVEL_TABLE: Record<AccessLevel, string> = { public: 'pub', private: 'priv', restricted: 'restr', dba: 'dbaonly' };

interface ActionCase {
  /** The role-matrix action. */
  action: string;
  /** Runs the action as a session of `role` against a fresh database; asserts the outcome. */
  check(role: Role, allowed: boolean, env: { db: Database; root: Session; actor: Session }): Promise<void>;
}

const ACTIONS: ActionCase[] = [
  {
    action: 'ownRows',
    async check(_role, allowed, { actor }) {
      await expectRole(actor, allowed, '',
        `INSERT INTO app.notes VALUES ('n1', 'mine')`, `UPDATE app.notes SET body = 'x' WHERE id = 'n1'`,
        `SELECT * FROM app.notes`, `DELETE FROM app.notes WHERE id = 'n1'`,
        `INSERT INTO app.events (id, body) VALUES ('e1', 'hi')`, `SELECT * FROM app.events`);
      const stop = await actor.live('SELECT id FROM app.notes', [], () => undefined);
      stop();
    },
  },
  {
    action: 'introspect',
    async check(_role, allowed, { actor }) {
      await expectRole(actor, allowed, '', 'SHOW NAMESPACES', 'SHOW TABLES IN app', 'DESCRIBE TABLE app.notes', 'SHOW STATS FOR TABLE app.notes', 'USE app');
    },
  },
  {
    action: 'createUserTable',
    async check(_role, allowed, { actor }) {
      await expectRole(actor, allowed, 'Insufficient privileges to create User tables', 'CREATE USER TABLE app.mine (id INT PRIMARY KEY)');
    },
  },
  {
    action: 'createStreamTable',
    async check(_role, allowed, { actor }) {
      await expectRole(actor, allowed, 'Insufficient privileges to create Stream tables', 'CREATE STREAM TABLE app.ticks (id INT) WITH (TTL_SECONDS = 60)');
    },
  },
  {
    action: 'createSharedTable',
    async check(_role, allowed, { actor }) {
      await expectRole(actor, allowed, 'Insufficient privileges to create Shared tables',
        'CREATE SHARED TABLE app.board (id INT PRIMARY KEY)', "CREATE TABLE app.plain (id INT PRIMARY KEY) WITH (TYPE = 'SHARED')");
    },
  },
  {
    action: 'addColumn',
    async check(_role, allowed, { actor }) {
      await expectRole(actor, allowed, "Insufficient privileges to alter table 'app.notes'", 'ALTER TABLE app.notes ADD COLUMN extra INT', 'ALTER TABLE app.events ADD COLUMN extra INT');
    },
  },
  {
    action: 'changeColumns',
    async check(_role, allowed, { actor }) {
      const tail = ": the user role may only ADD COLUMN; DROP, RENAME, MODIFY and ALTER COLUMN change every user's rows and need the service, dba or system role";
      await expectRole(actor, allowed, `Insufficient privileges to alter table 'app.notes'${tail}`, 'ALTER TABLE app.notes RENAME COLUMN body TO text');
      await expectRole(actor, allowed, `Insufficient privileges to alter table 'app.events'${tail}`, 'ALTER TABLE app.events DROP COLUMN body');
    },
  },
  {
    action: 'alterSharedTable',
    async check(_role, allowed, { actor }) {
      await expectRole(actor, allowed, 'Insufficient privileges to alter Shared tables', 'ALTER TABLE app.pub ADD COLUMN extra INT', 'ALTER TABLE app.pub RENAME COLUMN v TO w');
    },
  },
  {
    action: 'setAccessLevel',
    async check(_role, allowed, { actor }) {
      await expectRole(actor, allowed, 'Only service, dba, or system users can modify table access levels',
        'ALTER TABLE app.priv SET ACCESS LEVEL public', "ALTER TABLE app.restr SET TBLPROPERTIES (ACCESS_LEVEL = 'PUBLIC')");
    },
  },
  {
    action: 'dropTable',
    async check(_role, allowed, { actor }) {
      await expectRole(actor, allowed, 'Insufficient privileges to drop this table', 'DROP TABLE app.notes', 'DROP TABLE IF EXISTS app.pub');
    },
  },
  {
    action: 'createView',
    async check(_role, allowed, { actor }) {
      await expectRole(actor, allowed, 'Insufficient privileges to create views: CREATE VIEW needs the service, dba or system role',
        'CREATE VIEW app.mine AS SELECT id FROM app.notes', 'CREATE OR REPLACE VIEW app.board_view AS SELECT id, v FROM app.pub');
    },
  },
  {
    action: 'dropView',
    async check(_role, allowed, { root, actor }) {
      await root.execute('CREATE VIEW app.pub_view AS SELECT v FROM app.pub');
      await expectRole(actor, allowed, 'Insufficient privileges to drop views: DROP VIEW needs the service, dba or system role',
        'DROP VIEW app.pub_view', 'DROP VIEW IF EXISTS app.gone');
    },
  },
  {
    action: 'manageNamespaces',
    async check(_role, allowed, { actor }) {
      await expectRole(actor, allowed, 'Admin privileges (DBA or System role) required for namespace operations', 'CREATE NAMESPACE other', 'DROP NAMESPACE app');
    },
  },
  {
    action: 'manageUsers',
    async check(_role, allowed, { actor }) {
      await expectRole(actor, allowed, 'Admin privileges (DBA or System role) required for user management',
        "CREATE USER 'newbie' ROLE user", "ALTER USER 'alice' SET ROLE service", "DROP USER 'alice'");
    },
  },
  {
    action: 'storageFlush',
    async check(_role, allowed, { actor }) {
      await actor.execute(`INSERT INTO app.notes VALUES ('n1', 'mine')`);
      await expectRole(actor, allowed, 'Insufficient privileges: STORAGE FLUSH needs the service, dba or system role', 'STORAGE FLUSH TABLE app.notes', 'STORAGE FLUSH ALL IN app');
    },
  },
  {
    action: 'storageCompact',
    async check(_role, allowed, { actor }) {
      await expectRole(actor, allowed, 'Insufficient privileges: STORAGE COMPACT needs the service, dba or system role', 'STORAGE COMPACT TABLE app.notes', 'STORAGE COMPACT ALL IN app');
    },
  },
  {
    action: 'killJob',
    async check(_role, allowed, { actor }) {
      // Allowed: the statement gets as far as looking the job up.
      const e = await outcome(actor.execute(`KILL JOB 'FL00000001'`));
      if (allowed) expect(e?.code).toBe('JOB_NOT_FOUND');
      else expect([e?.code, e?.message]).toEqual(['PERMISSION_DENIED', 'Admin privileges (DBA or System role) required to kill jobs']);
    },
  },
  {
    action: 'backupDatabase',
    async check(_role, allowed, { actor }) {
      const e = await outcome(actor.exportDatabase());
      if (allowed) expect(e).toBeUndefined();
      else expect([e?.code, e?.message]).toEqual(['PERMISSION_DENIED', 'Admin privileges (DBA or System role) required to export the database']);
    },
  },
  {
    action: 'restoreDatabase',
    async check(_role, allowed, { db, actor }) {
      // Allowed: the import gets as far as finding the database not empty.
      const e = await outcome(actor.importDatabase(await db.exportDatabase()));
      if (allowed) expect(e?.code).toBe('IMPORT_NOT_EMPTY');
      else expect([e?.code, e?.message]).toEqual(['PERMISSION_DENIED', 'Admin privileges (DBA or System role) required to import a database']);
    },
  },
  {
    action: 'exportUserData',
    async check(_role, allowed, { actor }) {
      await actor.execute(`INSERT INTO app.notes VALUES ('n1', 'mine')`);
      const e = await outcome(actor.exportUserData());
      expect(e === undefined).toBe(allowed);
    },
  },
  {
    action: 'readSystemTables',
    async check(_role, allowed, { actor }) {
      const message = (t: string) => `Access denied to system table 'system.${t}': it is readable by the DBA and System roles only`;
      for (const t of ['users', 'tables', 'live', 'jobs', 'audit_log']) await expectRole(actor, allowed, message(t), `SELECT * FROM system.${t}`);
      await expectRole(actor, allowed, message('namespaces'), 'SELECT n.namespace_id FROM app.pub p JOIN system.namespaces n ON 1 = 1');
      const live = await outcome(actor.live('SELECT * FROM system.tables', [], () => undefined).then((stop) => stop()));
      if (allowed) expect(live).toBeUndefined();
      else expect([live?.code, live?.message]).toEqual(['PERMISSION_DENIED', message('tables')]);
    },
  },
  {
    action: 'manageTopics',
    async check(_role, allowed, { root, actor }) {
      await root.execute('CREATE TOPIC existing');
      await expectRole(actor, allowed, 'Admin privileges (DBA or System role) required for topic operations (CREATE, DROP, CLEAR, ALTER TOPIC)',
        'CREATE TOPIC t PARTITIONS 2', 'ALTER TOPIC existing ADD SOURCE app.notes ON INSERT', 'CLEAR TOPIC existing', 'DROP TOPIC existing');
    },
  },
  {
    action: 'consumeAllMessages',
    async check(_role, allowed, { root, db, actor }) {
      await root.execute('CREATE TOPIC notes; ALTER TOPIC notes ADD SOURCE app.notes ON INSERT');
      await db.session({ user: 'someone', role: 'user' }).execute(`INSERT INTO app.notes VALUES ('n1', 'theirs')`);
      // Everyone may consume; only these roles see another user's USER-table rows.
      const keys = (await actor.query('CONSUME FROM notes')).rows.map((r) => r.key);
      expect(keys).toEqual(allowed ? ['n1'] : []);
    },
  },
  {
    action: 'killAnyLiveQuery',
    async check(role, allowed, { db, actor }) {
      const errors: string[] = [];
      const theirs = await db.session({ user: 'alice', role: 'user' }).live('SELECT id FROM app.notes', [], () => undefined, (e) => errors.push(e.code));
      const e = await outcome(actor.execute(`KILL LIVE QUERY '${theirs.liveId}'`));
      if (allowed) expect([e, errors]).toEqual([undefined, ['LIVE_QUERY_KILLED']]);
      else expect([e?.code, errors]).toEqual(['LIVE_QUERY_NOT_FOUND', []]);
      theirs();
      // Everyone may end their own.
      const own: string[] = [];
      const mine = await actor.live('SELECT id FROM app.notes', [], () => undefined, (x) => own.push(x.code));
      expect([role, await outcome(actor.execute(`KILL LIVE QUERY '${mine.liveId}'`)), own]).toEqual([role, undefined, ['LIVE_QUERY_KILLED']]);
    },
  },
  {
    action: 'killAnyQuery',
    async check(role, allowed, { db, root, actor }) {
      await root.execute(`INSERT INTO app.pub (id, v) VALUES ${Array.from({ length: 200 }, (_, i) => `(${i + 10}, 'x')`).join(', ')}`);
      const long = 'SELECT COUNT(*) AS n FROM app.pub x, app.pub y, app.pub z';
      const running = async (sql: string) => {
        for (let i = 0; i < 500; i++) {
          const { rows } = await root.query('SELECT query_id FROM system.queries WHERE sql = $1', [sql]);
          if (rows.length > 0) return String(rows[0].query_id);
          await new Promise((r) => setTimeout(r, 5));
        }
        throw new Error(`${sql} never showed in system.queries`);
      };
      // Another user's statement: cancelled by the kill, or (refused) ended by its own signal.
      const stop = new AbortController();
      const theirs = outcome(db.session({ user: 'alice', role: 'user' }).query(long, [], { signal: stop.signal }));
      const id = await running(long);
      const e = await outcome(actor.execute(`KILL QUERY '${id}'`));
      if (!allowed) {
        expect(e?.code).toBe('QUERY_NOT_FOUND');
        stop.abort();
      } else expect(e).toBeUndefined();
      expect((await theirs)?.code).toBe('QUERY_CANCELLED');
      // Everyone may cancel their own.
      const mineSql = `${long} WHERE x.id >= 0`;
      const mine = outcome(actor.query(mineSql));
      expect([role, await outcome(actor.execute(`KILL QUERY '${await running(mineSql)}'`)), (await mine)?.code]).toEqual([role, undefined, 'QUERY_CANCELLED']);
    },
  },
  {
    action: 'ownNamespaceDefaultsToUserTable',
    async check(role, allowed, { root, actor }) {
      await root.execute('CREATE NAMESPACE actor');
      const e = await outcome(actor.execute('CREATE TABLE actor.mine (id INT PRIMARY KEY)'));
      if (!allowed && role === 'user') {
        // Not a USER table, so a SHARED one, which the user role may not create.
        expect([e?.code, e?.message]).toEqual(['PERMISSION_DENIED', 'Insufficient privileges to create Shared tables']);
        return;
      }
      expect(e).toBeUndefined();
      const rows = (await root.query(`SELECT table_type FROM system.tables WHERE namespace_id = 'actor'`)).rows;
      expect(rows).toEqual([{ table_type: allowed ? 'USER' : 'SHARED' }]);
      // Elsewhere it is SHARED for every role.
      const elsewhere = await outcome(actor.execute('CREATE TABLE app.other (id INT PRIMARY KEY)'));
      if (role === 'user') expect(elsewhere?.message).toBe('Insufficient privileges to create Shared tables');
      else expect((await root.query(`SELECT table_type FROM system.tables WHERE table_name = 'other'`)).rows).toEqual([{ table_type: 'SHARED' }]);
    },
  },
];

describe('the role matrix through statements', () => {
  it('covers every action of the matrix', () => {
    expect(ACTIONS.map((a) => a.action).sort()).toEqual(Object.keys(EXPECTED_ROLES).sort());
  });

  const rows = ACTIONS.flatMap((a) => cells(EXPECTED_ROLES[a.action]).map(([role, allowed]) => [a.action, role, allowed, a] as const));
  it.each(rows)('%s by a %s session: allowed %s', async (_action, role, allowed, a) => {
    const { db, root } = await setup();
    const actor = db.session({ user: 'actor', role });
    await a.check(role, allowed, { db, root, actor });
    await db.close();
  });
});

describe('SHARED tables through statements: each access level × role × operation', () => {
  const rows = (Object.keys(EXPECTED_SHARED) as AccessLevel[]).flatMap((level) => ROLE_ORDER.map((role) => [level, role] as const));
  it.each(rows)('level %s, role %s', async (level, role) => {
    const { db, root } = await setup();
    const s = db.session({ user: 'actor', role });
    const t = `app.${LEVEL_TABLE[level]}`;
    const canRead = EXPECTED_SHARED[level].read.includes(role);
    const canWrite = EXPECTED_SHARED[level].write.includes(role);
    const readDenied = `Insufficient privileges to read shared table '${t}' (access level ${level})`;
    const writeDenied = `Insufficient privileges to write shared table '${t}' (access level ${level})`;

    // SELECT and a live query: the read check alone.
    const read = await outcome(s.query(`SELECT v FROM ${t}`));
    expect(read === undefined ? undefined : [read.code, read.message]).toEqual(canRead ? undefined : ['PERMISSION_DENIED', readDenied]);
    let delivered: readonly Row[] | undefined;
    const live = await outcome(s.live(`SELECT id, v FROM ${t}`, [], (r) => { delivered = r; }).then((stop) => stop()));
    expect(live === undefined ? delivered : [live.code, live.message]).toEqual(canRead ? [{ id: 1, v: expect.any(String) }] : ['PERMISSION_DENIED', readDenied]);

    // INSERT reads nothing: the write check alone decides, whatever the read check would say.
    const insert = await outcome(s.execute(`INSERT INTO ${t} (id, v) VALUES (2, 'new')`));
    expect(insert === undefined ? undefined : [insert.code, insert.message]).toEqual(canWrite ? undefined : ['PERMISSION_DENIED', writeDenied]);
    // UPDATE and DELETE both read and write: refused as writes.
    const update = await outcome(s.execute(`UPDATE ${t} SET v = 'x' WHERE id = 1`));
    expect(update === undefined ? undefined : [update.code, update.message]).toEqual(canWrite ? undefined : ['PERMISSION_DENIED', writeDenied]);
    const del = await outcome(s.execute(`DELETE FROM ${t} WHERE id = 1`));
    expect(del === undefined ? undefined : [del.code, del.message]).toEqual(canWrite ? undefined : ['PERMISSION_DENIED', writeDenied]);

    // What the table holds afterwards says the same: every write landed, or none did.
    const after = (await root.query(`SELECT id, v FROM ${t} ORDER BY id`)).rows;
    expect(after).toEqual(canWrite ? [{ id: 2, v: 'new' }] : [{ id: 1, v: expect.any(String) }]);
    await db.close();
  });
});

describe('EXECUTE AS USER through statements: actor role × target role', () => {
  const TARGET: Record<Role, string> = { user: 'alice', service: 'svc', dba: 'ops', system: 'root2' };
  const LABEL: Record<Role, string> = { user: 'User', service: 'Service', dba: 'Dba', system: 'System' };
  const rows = ROLE_ORDER.flatMap((actor) => ROLE_ORDER.map((target) => [actor, target, EXPECTED_TARGETS[actor].includes(target)] as const));

  it.each(rows)('a %s session targeting another user with role %s: allowed %s', async (actorRole, targetRole, allowed) => {
    const { db, root } = await setup();
    const actor = db.session({ user: 'actor', role: actorRole });
    const target = TARGET[targetRole];
    const e = await outcome(actor.execute(`EXECUTE AS USER '${target}' (INSERT INTO app.notes (id, body) VALUES ('as', 'by actor'))`));
    const mine = (await db.session({ user: target, role: targetRole }).query('SELECT id, body FROM app.notes')).rows;
    if (allowed) {
      expect([e, mine]).toEqual([undefined, [{ id: 'as', body: 'by actor' }]]);
    } else {
      expect([e?.code, e?.message, mine]).toEqual([
        'PERMISSION_DENIED',
        `EXECUTE AS USER is not authorized: actor 'actor' with role ${LABEL[actorRole]} cannot target '${target}' with role ${LABEL[targetRole]}`,
        [],
      ]);
    }
    const audit = (await root.query(`SELECT actor_user_id, subject_user_id, outcome FROM system.audit_log WHERE action = 'EXECUTE_AS_USER'`)).rows;
    expect(audit).toEqual([{ actor_user_id: 'actor', subject_user_id: target, outcome: allowed ? 'allowed' : 'denied' }]);
    await db.close();
  });

  it.each(ROLE_ORDER)('a %s session may target itself', async (role) => {
    const { db } = await setup();
    const self = db.session({ user: 'actor', role });
    await self.execute(`EXECUTE AS USER 'actor' (INSERT INTO app.notes (id, body) VALUES ('me', 'self'))`);
    expect((await self.query('SELECT id FROM app.notes')).rows).toEqual([{ id: 'me' }]);
    await db.close();
  });

  it('a service may target another service (reference: "service targets service and user")', async () => {
    const { db, root } = await setup();
    await root.execute(`CREATE USER 'svc2' ROLE service`);
    await db.session({ user: 'svc', role: 'service' }).execute(`EXECUTE AS USER 'svc2' (INSERT INTO app.events (id, body) VALUES ('e', 'x'))`);
    expect((await db.session({ user: 'svc2', role: 'service' }).query('SELECT id FROM app.events')).rows).toEqual([{ id: 'e' }]);
    await db.close();
  });

  it('an unknown user id is targeted as the user role', async () => {
    const { db } = await setup();
    await db.session({ user: 'svc', role: 'service' }).execute(`EXECUTE AS USER 'nobody' (INSERT INTO app.notes (id) VALUES ('n'))`);
    const e = await outcome(db.session({ user: 'bob', role: 'user' }).execute(`EXECUTE AS USER 'nobody' (SELECT * FROM app.notes)`));
    expect(e?.message).toBe("EXECUTE AS USER is not authorized: actor 'bob' with role User cannot target 'nobody' with role User");
    await db.close();
  });

  it.each(Object.keys(LEVEL_TABLE) as AccessLevel[])('is refused on a SHARED table of level %s, even to the system role, and audited', async (level) => {
    const { db, root } = await setup();
    const t = `app.${LEVEL_TABLE[level]}`;
    const e = await outcome(root.execute(`EXECUTE AS USER 'root2' (SELECT * FROM ${t})`));
    expect([e?.code, e?.message]).toEqual([
      'PERMISSION_DENIED',
      `EXECUTE AS USER is not allowed on SHARED tables (table '${t}'). AS USER impersonation is only supported for USER and STREAM tables.`,
    ]);
    const audit = (await root.query(`SELECT target, outcome, details FROM system.audit_log WHERE action = 'EXECUTE_AS_USER'`)).rows;
    expect(audit).toEqual([{ target: t, outcome: 'denied', details: 'shared_table' }]);
    await db.close();
  });

  const kinds: [string, (t: string) => string][] = [
    ['SELECT', (t) => `SELECT * FROM ${t}`],
    ['INSERT', (t) => `INSERT INTO ${t} (id, v) VALUES (9, 'x')`],
    ['UPDATE', (t) => `UPDATE ${t} SET v = 'y' WHERE id = 1`],
    ['DELETE', (t) => `DELETE FROM ${t} WHERE id = 1`],
    ['INSERT … SELECT reading it into a USER table', (t) => `INSERT INTO app.notes (id, body) SELECT 'n', v FROM ${t}`],
  ];
  it.each(kinds)('refuses %s on a SHARED table as such for every access level, before the target\'s access is judged', async (_kind, sql) => {
    const { db, root } = await setup();
    for (const level of Object.keys(LEVEL_TABLE) as AccessLevel[]) {
      const t = `app.${LEVEL_TABLE[level]}`;
      for (const [actor, target] of [[root, 'alice'], [db.session({ user: 'ops', role: 'dba' }), 'svc']] as const) {
        const e = await outcome(actor.execute(`EXECUTE AS USER '${target}' (${sql(t)})`));
        expect([level, e?.code, e?.message]).toEqual([
          level,
          'PERMISSION_DENIED',
          `EXECUTE AS USER is not allowed on SHARED tables (table '${t}'). AS USER impersonation is only supported for USER and STREAM tables.`,
        ]);
      }
    }
    expect((await root.query('SELECT v FROM app.pub')).rows).toEqual([{ v: 'p' }]); // nothing written
    await db.close();
  });
});
