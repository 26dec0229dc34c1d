/**
 * Direct unit tests of the role matrix and of every check derived from it:
 * each cell against the independent copy in role-matrix.fixture.ts, and
 * each denial's code and KalamDB wording. role-matrix.test.ts asks the same
 * cells through statements.
 */
import { describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import type { AccessLevel, TableDef } from '../core/schema';
import type { Role } from '../core/types';
import {
  accessLevelOf,
  can,
  canImpersonate,
  canImpersonateOn,
  canKillLiveQuery,
  canKillQuery,
  canReadShared,
  canWriteShared,
  checkAlterTable,
  checkBackupDatabase,
  checkCreateTable,
  checkCreateView,
  checkExportUserData,
  checkDropTable,
  checkDropView,
  checkIntrospect,
  checkKillJob,
  checkNamespaceAdmin,
  checkRead,
  checkRestoreDatabase,
  checkSetAccessLevel,
  checkStorageCompact,
  checkStorageFlush,
  checkSystemRead,
  checkUserAdmin,
  checkWrite,
  DEFAULT_ACCESS_LEVEL,
  defaultTableType,
  EXECUTE_AS_TABLE_TYPES,
  impersonationDenied,
  impersonationTableDenied,
  isAccessLevel,
  parseRole,
  ROLE_LABEL,
  ROLE_MATRIX,
  rolesFor,
  SHARED_ACCESS,
  type Action,
} from './permissions';
import { cells, EXPECTED_ROLES, EXPECTED_SHARED, EXPECTED_TARGETS, ROLE_ORDER } from './role-matrix.fixture';

const LEVELS: AccessLevel[] = ['public', 'private', 'restricted', 'dba'];

function table(type: TableDef['type'], accessLevel?: AccessLevel, name = 't'): TableDef {
  const t: TableDef = { id: 1, namespace: 'app', name, type, columns: [], pk: 0, options: {}, version: 1, createdAt: 0 };
  if (accessLevel) t.accessLevel = accessLevel;
  return t;
}

/** The error `fn` throws (a KalamError), or undefined when it does not throw. */
function thrown(fn: () => void): KalamError | undefined {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  return undefined;
}

/** Asserts `fn` passes when `allowed`, else throws PERMISSION_DENIED with exactly `message`. */
function expectCheck(fn: () => void, allowed: boolean, message: string): void {
  const e = thrown(fn);
  if (allowed) expect(e).toBeUndefined();
  else expect([e?.code, e?.message]).toEqual(['PERMISSION_DENIED', message]);
}

describe('ROLE_MATRIX', () => {
  it('has exactly the actions the reference lists, no more', () => {
    expect(Object.keys(ROLE_MATRIX).sort()).toEqual(Object.keys(EXPECTED_ROLES).sort());
  });

  const rows = Object.entries(EXPECTED_ROLES).flatMap(([action, roles]) => cells(roles).map(([role, allowed]) => [action, role, allowed] as const));
  it.each(rows)('%s by %s: allowed %s', (action, role, allowed) => {
    expect(can(role, action as Action)).toBe(allowed);
    expect(ROLE_MATRIX[action as Action][ROLE_ORDER.indexOf(role)]).toBe(allowed);
  });

  it('rolesFor lists the allowed roles in role order', () => {
    for (const [action, roles] of Object.entries(EXPECTED_ROLES)) expect(rolesFor(action as Action)).toEqual(roles);
  });

  it('labels roles as KalamDB prints them', () => {
    expect(ROLE_LABEL).toEqual({ user: 'User', service: 'Service', dba: 'Dba', system: 'System' });
  });
});

describe('SHARED access levels', () => {
  it('has exactly the four levels, private by default', () => {
    expect(Object.keys(SHARED_ACCESS)).toEqual(LEVELS);
    expect(DEFAULT_ACCESS_LEVEL).toBe('private');
    expect(accessLevelOf(table('SHARED'))).toBe('private');
    expect(accessLevelOf(table('SHARED', 'dba'))).toBe('dba');
    for (const l of LEVELS) expect(isAccessLevel(l)).toBe(true);
    for (const l of ['PUBLIC', 'admin', 'constructor', 'toString', '']) expect(isAccessLevel(l)).toBe(false);
  });

  const rows = LEVELS.flatMap((level) => ROLE_ORDER.map((role) => [level, role] as const));
  it.each(rows)('level %s, role %s: canReadShared and canWriteShared, each on its own', (level, role) => {
    const canRead = EXPECTED_SHARED[level].read.includes(role);
    const canWrite = EXPECTED_SHARED[level].write.includes(role);
    expect(canReadShared(role, level)).toBe(canRead);
    expect(canWriteShared(role, level)).toBe(canWrite);
    const t = table('SHARED', level, 'sh');
    expectCheck(() => checkRead(role, t), canRead, `Insufficient privileges to read shared table 'app.sh' (access level ${level})`);
    expectCheck(() => checkWrite(role, t), canWrite, `Insufficient privileges to write shared table 'app.sh' (access level ${level})`);
  });

  it('the dba level is not the service level for writes: a service may not write it, a dba may', () => {
    expect(canWriteShared('service', 'dba')).toBe(false);
    expect(canWriteShared('service', 'restricted')).toBe(true);
    expect(canWriteShared('dba', 'dba')).toBe(true);
    expect(canWriteShared('user', 'public')).toBe(false);
  });

  it('every role that may write a level may also read it (so the planner may check the write first)', () => {
    for (const level of LEVELS) for (const role of ROLE_ORDER) if (canWriteShared(role, level)) expect(canReadShared(role, level)).toBe(true);
  });

  it('a SHARED table without a level is checked as private', () => {
    const t = table('SHARED', undefined, 'plain');
    expectCheck(() => checkRead('user', t), false, "Insufficient privileges to read shared table 'app.plain' (access level private)");
    expectCheck(() => checkWrite('user', t), false, "Insufficient privileges to write shared table 'app.plain' (access level private)");
    expectCheck(() => checkRead('service', t), true, '');
    expectCheck(() => checkWrite('service', t), true, '');
  });

  it('USER and STREAM tables are read and written by every role (each in its own partition)', () => {
    for (const role of ROLE_ORDER) {
      for (const type of ['USER', 'STREAM'] as const) {
        expect(thrown(() => checkRead(role, table(type)))).toBeUndefined();
        expect(thrown(() => checkWrite(role, table(type)))).toBeUndefined();
      }
    }
  });
});

describe('statement checks', () => {
  const each = (roles: readonly Role[], run: (role: Role, allowed: boolean) => void) => {
    for (const [role, allowed] of cells(roles)) run(role, allowed);
  };

  it('CREATE TABLE per table type', () => {
    each(EXPECTED_ROLES.createSharedTable, (r, ok) => expectCheck(() => checkCreateTable(r, 'SHARED'), ok, 'Insufficient privileges to create Shared tables'));
    each(EXPECTED_ROLES.createUserTable, (r, ok) => expectCheck(() => checkCreateTable(r, 'USER'), ok, ''));
    each(EXPECTED_ROLES.createStreamTable, (r, ok) => expectCheck(() => checkCreateTable(r, 'STREAM'), ok, ''));
  });

  it('ALTER TABLE: SHARED tables, ADD COLUMN and other column changes on USER/STREAM tables', () => {
    for (const addColumn of [false, true]) {
      each(EXPECTED_ROLES.alterSharedTable, (r, ok) => expectCheck(() => checkAlterTable(r, table('SHARED'), addColumn), ok, 'Insufficient privileges to alter Shared tables'));
    }
    for (const type of ['USER', 'STREAM'] as const) {
      each(EXPECTED_ROLES.addColumn, (r, ok) => expectCheck(() => checkAlterTable(r, table(type, undefined, 'notes'), true), ok, ''));
      each(EXPECTED_ROLES.changeColumns, (r, ok) =>
        expectCheck(
          () => checkAlterTable(r, table(type, undefined, 'notes')),
          ok,
          "Insufficient privileges to alter table 'app.notes': the user role may only ADD COLUMN; DROP, RENAME, MODIFY and ALTER COLUMN change every user's rows and need the service, dba or system role",
        ));
    }
  });

  it('SET ACCESS LEVEL, DROP TABLE, CREATE VIEW, DROP VIEW, namespaces, users, STORAGE FLUSH, STORAGE COMPACT, KILL JOB, export and import, introspection, system tables', () => {
    each(EXPECTED_ROLES.setAccessLevel, (r, ok) => expectCheck(() => checkSetAccessLevel(r), ok, 'Only service, dba, or system users can modify table access levels'));
    each(EXPECTED_ROLES.dropTable, (r, ok) => expectCheck(() => checkDropTable(r), ok, 'Insufficient privileges to drop this table'));
    each(EXPECTED_ROLES.createView, (r, ok) => expectCheck(() => checkCreateView(r), ok, 'Insufficient privileges to create views: CREATE VIEW needs the service, dba or system role'));
    each(EXPECTED_ROLES.dropView, (r, ok) => expectCheck(() => checkDropView(r), ok, 'Insufficient privileges to drop views: DROP VIEW needs the service, dba or system role'));
    each(EXPECTED_ROLES.manageNamespaces, (r, ok) => expectCheck(() => checkNamespaceAdmin(r), ok, 'Admin privileges (DBA or System role) required for namespace operations'));
    each(EXPECTED_ROLES.manageUsers, (r, ok) => expectCheck(() => checkUserAdmin(r), ok, 'Admin privileges (DBA or System role) required for user management'));
    each(EXPECTED_ROLES.storageFlush, (r, ok) => expectCheck(() => checkStorageFlush(r), ok, 'Insufficient privileges: STORAGE FLUSH needs the service, dba or system role'));
    each(EXPECTED_ROLES.storageCompact, (r, ok) => expectCheck(() => checkStorageCompact(r), ok, 'Insufficient privileges: STORAGE COMPACT needs the service, dba or system role'));
    each(EXPECTED_ROLES.killJob, (r, ok) => expectCheck(() => checkKillJob(r), ok, 'Admin privileges (DBA or System role) required to kill jobs'));
    each(EXPECTED_ROLES.introspect, (r, ok) => expectCheck(() => checkIntrospect(r), ok, ''));
    each(EXPECTED_ROLES.backupDatabase, (r, ok) => expectCheck(() => checkBackupDatabase(r), ok, 'Admin privileges (DBA or System role) required to export the database'));
    each(EXPECTED_ROLES.restoreDatabase, (r, ok) => expectCheck(() => checkRestoreDatabase(r), ok, 'Admin privileges (DBA or System role) required to import a database'));
    each(EXPECTED_ROLES.exportUserData, (r, ok) => expectCheck(() => checkExportUserData(r), ok, ''));
    each(EXPECTED_ROLES.readSystemTables, (r, ok) =>
      expectCheck(() => checkSystemRead(r, 'users'), ok, "Access denied to system table 'system.users': it is readable by the DBA and System roles only"));
  });

  it('KILL LIVE QUERY: everyone their own, dba and system anyone’s', () => {
    each(EXPECTED_ROLES.killAnyLiveQuery, (role, ok) => {
      expect(canKillLiveQuery({ user: 'me', role }, 'me')).toBe(true);
      expect(canKillLiveQuery({ user: 'me', role }, 'someone')).toBe(ok);
    });
  });

  it('KILL QUERY: everyone their own statements, dba and system anyone’s', () => {
    each(EXPECTED_ROLES.killAnyQuery, (role, ok) => {
      expect(canKillQuery({ user: 'me', role }, 'me')).toBe(true);
      expect(canKillQuery({ user: 'me', role }, 'someone')).toBe(ok);
    });
  });

  it('a CREATE TABLE without a type is a USER table only for a user or service in the namespace named after itself', () => {
    each(EXPECTED_ROLES.ownNamespaceDefaultsToUserTable, (role, ok) => {
      expect(defaultTableType(role, 'carol', 'carol')).toBe(ok ? 'USER' : 'SHARED');
      expect(defaultTableType(role, 'Carol', 'carol')).toBe(ok ? 'USER' : 'SHARED');
      expect(defaultTableType(role, 'carol', 'app')).toBe('SHARED');
    });
  });
});

describe('EXECUTE AS USER', () => {
  const rows = ROLE_ORDER.flatMap((actor) => ROLE_ORDER.map((target) => [actor, target, EXPECTED_TARGETS[actor].includes(target)] as const));
  it.each(rows)('%s targeting another user with role %s: allowed %s', (actor, target, allowed) => {
    expect(canImpersonate({ user: 'actor', role: actor }, { user: 'target', role: target })).toBe(allowed);
  });

  it.each(ROLE_ORDER)('%s may always target itself', (role) => {
    expect(canImpersonate({ user: 'me', role }, { user: 'me', role })).toBe(true);
  });

  it('names the cases the reference spells out', () => {
    expect(canImpersonate({ user: 'svc1', role: 'service' }, { user: 'svc2', role: 'service' })).toBe(true); // service targets service and user
    expect(canImpersonate({ user: 'bob', role: 'user' }, { user: 'bob', role: 'user' })).toBe(true); // self only
    expect(canImpersonate({ user: 'bob', role: 'user' }, { user: 'alice', role: 'user' })).toBe(false);
    expect(canImpersonate({ user: 'ops', role: 'dba' }, { user: 'root', role: 'system' })).toBe(false);
    expect(canImpersonate({ user: 'ops', role: 'dba' }, { user: 'ops2', role: 'dba' })).toBe(true);
    expect(canImpersonate({ user: 'svc', role: 'service' }, { user: 'ops', role: 'dba' })).toBe(false);
  });

  it('denies with KalamDB wording', () => {
    const e = impersonationDenied({ user: 'svc', role: 'service' }, { user: 'ops', role: 'dba' });
    expect([e.code, e.message]).toEqual(['PERMISSION_DENIED', "EXECUTE AS USER is not authorized: actor 'svc' with role Service cannot target 'ops' with role Dba"]);
  });

  it('runs on USER and STREAM tables, never on SHARED ones', () => {
    expect(EXECUTE_AS_TABLE_TYPES).toEqual({ USER: true, STREAM: true, SHARED: false });
    expect(canImpersonateOn(table('USER'))).toBe(true);
    expect(canImpersonateOn(table('STREAM'))).toBe(true);
    expect(canImpersonateOn(table('SHARED', 'public'))).toBe(false);
    const e = impersonationTableDenied(table('SHARED', 'public', 'pub'));
    expect([e.code, e.message]).toEqual([
      'PERMISSION_DENIED',
      "EXECUTE AS USER is not allowed on SHARED tables (table 'app.pub'). AS USER impersonation is only supported for USER and STREAM tables.",
    ]);
  });
});

describe('parseRole', () => {
  it('reads every role and KalamDB alias, in any case', () => {
    const expected: Record<string, Role> = {
      user: 'user', viewer: 'user', readonly: 'user',
      service: 'service', developer: 'service', analyst: 'service',
      dba: 'dba', admin: 'dba', system: 'system',
    };
    for (const [raw, role] of Object.entries(expected)) {
      expect(parseRole(raw)).toBe(role);
      expect(parseRole(raw.toUpperCase())).toBe(role);
    }
  });

  it.each(['superuser', 'root', '', 'constructor', 'toString', '__proto__', 'hasOwnProperty'])('refuses %j', (raw) => {
    const e = thrown(() => parseRole(raw));
    expect([e?.code, e?.message]).toEqual(['INVALID_SQL', `Unknown role '${raw}': use user, service, dba or system`]);
  });
});
