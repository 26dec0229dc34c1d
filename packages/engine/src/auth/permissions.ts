/**
 * The role capability matrix of KalamDB (reference §2.2, §2.4, §2.5), as
 * data: what each role may do (`ROLE_MATRIX`), who reads and writes a SHARED
 * table at each access level (`SHARED_ACCESS`), and whom each role may
 * impersonate with EXECUTE AS USER (`EXECUTE_AS_TARGETS`). Every check below
 * is a lookup in these tables, and every statement executor asks one of the
 * checks: no executor compares roles itself. Each denial throws
 * PERMISSION_DENIED with KalamDB's wording; callers ask at the point where
 * the access happens (a scan, a write, a DDL statement), so no SQL shape can
 * route around a check.
 */
import type { AccessLevel, TableDef } from '../core/schema';
import { KalamError } from '../core/errors';
import { ROLES, type Role } from '../core/types';

export const ROLE_LABEL: Record<Role, string> = { user: 'User', service: 'Service', dba: 'Dba', system: 'System' };

/** One allowed/denied cell per role, in the order of `ROLES`: user, service, dba, system. */
export type RoleRow = readonly [user: boolean, service: boolean, dba: boolean, system: boolean];

const Y = true;
const N = false;

/**
 * What each role may do (reference §2.4). Rows open to every role are listed
 * too, so the matrix is the whole answer to "may this role run this
 * statement" before the SHARED access level and EXECUTE AS rules below.
 */
export const ROLE_MATRIX = {
  //                                   user service dba  system
  /** SELECT / INSERT / UPDATE / DELETE / subscribe on USER and STREAM tables, in the session's own partition. */
  ownRows:                            [Y,   Y,      Y,   Y],
  /** SHOW NAMESPACES, SHOW TABLES, DESCRIBE TABLE, SHOW STATS FOR TABLE (then the read check), USE. */
  introspect:                         [Y,   Y,      Y,   Y],
  createUserTable:                    [Y,   Y,      Y,   Y],
  createStreamTable:                  [Y,   Y,      Y,   Y],
  createSharedTable:                  [N,   Y,      Y,   Y],
  /** ALTER TABLE … ADD COLUMN on a USER or STREAM table. */
  addColumn:                          [Y,   Y,      Y,   Y],
  /**
   * DROP / RENAME / MODIFY / ALTER COLUMN on a USER or STREAM table. A
   * departure from KalamDB (which lets the user role do it): the schema is
   * shared by every user, so these would change other users' rows.
   */
  changeColumns:                      [N,   Y,      Y,   Y],
  /** Any column change on a SHARED table. */
  alterSharedTable:                   [N,   Y,      Y,   Y],
  /** ALTER TABLE … SET ACCESS LEVEL / SET TBLPROPERTIES (ACCESS_LEVEL = …). */
  setAccessLevel:                     [N,   Y,      Y,   Y],
  dropTable:                          [N,   N,      Y,   Y],
  /**
   * CREATE [OR REPLACE] VIEW. Between KalamDB's dba/system and CREATE USER
   * TABLE's every role: a view reads nothing with its creator's rights (it
   * is expanded under the reader's session), but its name and query are
   * shared by every session, as a SHARED table's definition is.
   */
  createView:                         [N,   Y,      Y,   Y],
  /** DROP VIEW: like CREATE VIEW (a CREATE OR REPLACE changes what a view shows as much as a drop does). */
  dropView:                           [N,   Y,      Y,   Y],
  /** CREATE / DROP NAMESPACE. */
  manageNamespaces:                   [N,   N,      Y,   Y],
  /** CREATE / ALTER / DROP USER. */
  manageUsers:                        [N,   N,      Y,   Y],
  /** STORAGE FLUSH TABLE, STORAGE FLUSH ALL. */
  storageFlush:                       [N,   Y,      Y,   Y],
  /** STORAGE COMPACT TABLE, STORAGE COMPACT ALL. */
  storageCompact:                     [N,   Y,      Y,   Y],
  killJob:                            [N,   N,      Y,   Y],
  /** session.exportDatabase(): every table's rows of every user, the users and the catalog (KalamDB's BACKUP DATABASE). */
  backupDatabase:                     [N,   N,      Y,   Y],
  /** session.importDatabase(): fills an empty database from an export (KalamDB's RESTORE DATABASE). */
  restoreDatabase:                    [N,   N,      Y,   Y],
  /** session.exportUserData(): the session's own USER-table rows and the SHARED rows it may read (KalamDB's EXPORT USER DATA). */
  exportUserData:                     [Y,   Y,      Y,   Y],
  /** Reading (querying, subscribing to) system.* tables. */
  readSystemTables:                   [N,   N,      Y,   Y],
  /** CREATE / DROP / CLEAR / ALTER TOPIC (KalamDB: dba/system). */
  manageTopics:                       [N,   N,      Y,   Y],
  /** CONSUME every message of a topic; other roles get only those of their own USER-table rows and the SHARED tables they may read. */
  consumeAllMessages:                 [N,   Y,      Y,   Y],
  /** KILL LIVE QUERY of another user's live query (everyone may kill their own). */
  killAnyLiveQuery:                   [N,   N,      Y,   Y],
  /** KILL QUERY of another user's running statement (everyone may kill their own). */
  killAnyQuery:                       [N,   N,      Y,   Y],
  /**
   * A CREATE TABLE without a type, in the namespace named after the session's
   * user, makes a USER table (KalamDB's "downgrade" of SHARED); otherwise SHARED.
   */
  ownNamespaceDefaultsToUserTable:    [Y,   Y,      N,   N],
} as const satisfies Record<string, RoleRow>;

export type Action = keyof typeof ROLE_MATRIX;

/**
 * SHARED tables: who reads (SELECT, subscribe, any read inside another
 * statement) and who writes (INSERT / UPDATE / DELETE) at each access level
 * (reference §2.2). Every level's writers can also read it.
 */
export const SHARED_ACCESS: Record<AccessLevel, { read: RoleRow; write: RoleRow }> = {
  //                   user service dba  system           user service dba  system
  public:     { read: [Y,   Y,      Y,   Y], write: [N,   Y,      Y,   Y] },
  private:    { read: [N,   Y,      Y,   Y], write: [N,   Y,      Y,   Y] },
  restricted: { read: [N,   Y,      Y,   Y], write: [N,   Y,      Y,   Y] },
  dba:        { read: [N,   N,      Y,   Y], write: [N,   N,      Y,   Y] },
};

/** A SHARED table without an access level is private (KalamDB's default). */
export const DEFAULT_ACCESS_LEVEL: AccessLevel = 'private';

/** Is `level` (lower case) one of the access levels of `SHARED_ACCESS`? */
export function isAccessLevel(level: string): level is AccessLevel {
  return Object.hasOwn(SHARED_ACCESS, level);
}

/**
 * EXECUTE AS USER: the roles each actor role may target (reference §2.4,
 * "EXECUTE AS USER target roles"). Anyone may target themselves.
 */
export const EXECUTE_AS_TARGETS: Record<Role, RoleRow> = {
  //        target: user service dba  system
  // Stryker disable next-line ArrayDeclaration: an empty row reads undefined, not true, for every target: the same as all N
  user:           [N,   N,      N,   N], // self only
  service:        [Y,   Y,      N,   N],
  dba:            [Y,   Y,      Y,   N],
  system:         [Y,   Y,      Y,   Y],
};

/** EXECUTE AS USER runs on USER and STREAM tables only; a SHARED table's own access level applies directly (§2.2). */
export const EXECUTE_AS_TABLE_TYPES: Record<TableDef['type'], boolean> = { USER: Y, STREAM: Y, SHARED: N };

const cell = (row: RoleRow, role: Role): boolean => row[ROLES.indexOf(role)] === true;

/** Does the matrix let `role` do `action`? */
export function can(role: Role, action: Action): boolean {
  return cell(ROLE_MATRIX[action], role);
}

/** The roles that may do `action`, in matrix order. */
export function rolesFor(action: Action): Role[] {
  return ROLES.filter((r) => can(r, action));
}

const deny = (message: string): never => {
  throw new KalamError('PERMISSION_DENIED', message);
};

const qualifiedName = (t: TableDef) => `${t.namespace}.${t.name}`;
export const accessLevelOf = (t: TableDef): AccessLevel => t.accessLevel ?? DEFAULT_ACCESS_LEVEL;

export function canReadShared(role: Role, level: AccessLevel): boolean {
  return cell(SHARED_ACCESS[level].read, role);
}

export function canWriteShared(role: Role, level: AccessLevel): boolean {
  return cell(SHARED_ACCESS[level].write, role);
}

/** Reading rows of a table (SELECT, subscribe, any read inside another statement). */
export function checkRead(role: Role, t: TableDef): void {
  if (t.type !== 'SHARED') {
    // Stryker disable next-line ConditionalExpression,StringLiteral: every role may do this (ROLE_MATRIX's row is all Y), so the denial is unreachable until the matrix changes
    if (!can(role, 'ownRows')) deny(`Insufficient privileges to read table '${qualifiedName(t)}'`);
    return;
  }
  const level = accessLevelOf(t);
  if (!canReadShared(role, level)) {
    deny(`Insufficient privileges to read shared table '${qualifiedName(t)}' (access level ${level})`);
  }
}

/** Writing rows (INSERT/UPDATE/DELETE). */
export function checkWrite(role: Role, t: TableDef): void {
  if (t.type !== 'SHARED') {
    // Stryker disable next-line ConditionalExpression,StringLiteral: every role may do this (ROLE_MATRIX's row is all Y), so the denial is unreachable until the matrix changes
    if (!can(role, 'ownRows')) deny(`Insufficient privileges to write table '${qualifiedName(t)}'`);
    return;
  }
  const level = accessLevelOf(t);
  if (!canWriteShared(role, level)) {
    deny(`Insufficient privileges to write shared table '${qualifiedName(t)}' (access level ${level})`);
  }
}

// Stryker disable next-line StringLiteral: USER and STREAM tables may be created by every role, so only the SHARED label reaches a message
const TYPE_LABEL: Record<TableDef['type'], string> = { USER: 'User', SHARED: 'Shared', STREAM: 'Stream' };
const CREATE_ACTION: Record<TableDef['type'], Action> = { USER: 'createUserTable', SHARED: 'createSharedTable', STREAM: 'createStreamTable' };

export function checkCreateTable(role: Role, type: TableDef['type']): void {
  if (!can(role, CREATE_ACTION[type])) deny(`Insufficient privileges to create ${TYPE_LABEL[type]} tables`);
}

/** The type of a CREATE TABLE that names none (KalamDB: SHARED, or USER in the creator's own namespace). */
export function defaultTableType(role: Role, user: string, namespace: string): 'USER' | 'SHARED' {
  return can(role, 'ownNamespaceDefaultsToUserTable') && namespace === user.toLowerCase() ? 'USER' : 'SHARED';
}

/** ALTER TABLE's column operations; `addColumn` is whether the operation is ADD COLUMN. */
export function checkAlterTable(role: Role, t: TableDef, addColumn = false): void {
  if (t.type === 'SHARED') {
    if (!can(role, 'alterSharedTable')) deny('Insufficient privileges to alter Shared tables');
    return;
  }
  if (addColumn) {
    // Stryker disable next-line ConditionalExpression,StringLiteral: every role may do this (ROLE_MATRIX's row is all Y), so the denial is unreachable until the matrix changes
    if (!can(role, 'addColumn')) deny(`Insufficient privileges to alter table '${qualifiedName(t)}'`);
    return;
  }
  // A USER/STREAM table has one schema for every user: a user-role session may add a column, but
  // not drop, rename, retype or constrain one, which would change (or break reading) other users' rows.
  if (!can(role, 'changeColumns')) {
    deny(
      `Insufficient privileges to alter table '${qualifiedName(t)}': the user role may only ADD COLUMN; DROP, RENAME, MODIFY and ALTER COLUMN change every user's rows and need the service, dba or system role`,
    );
  }
}

export function checkBackupDatabase(role: Role): void {
  if (!can(role, 'backupDatabase')) deny('Admin privileges (DBA or System role) required to export the database');
}

export function checkRestoreDatabase(role: Role): void {
  if (!can(role, 'restoreDatabase')) deny('Admin privileges (DBA or System role) required to import a database');
}

export function checkExportUserData(role: Role): void {
  // Stryker disable next-line ConditionalExpression,StringLiteral: every role may do this (ROLE_MATRIX's row is all Y), so the denial is unreachable until the matrix changes
  if (!can(role, 'exportUserData')) deny('Insufficient privileges to export user data');
}

export function checkSetAccessLevel(role: Role): void {
  if (!can(role, 'setAccessLevel')) deny('Only service, dba, or system users can modify table access levels');
}

export function checkDropTable(role: Role): void {
  if (!can(role, 'dropTable')) deny('Insufficient privileges to drop this table');
}

export function checkCreateView(role: Role): void {
  if (!can(role, 'createView')) deny('Insufficient privileges to create views: CREATE VIEW needs the service, dba or system role');
}

export function checkDropView(role: Role): void {
  if (!can(role, 'dropView')) deny('Insufficient privileges to drop views: DROP VIEW needs the service, dba or system role');
}

export function checkNamespaceAdmin(role: Role): void {
  if (!can(role, 'manageNamespaces')) deny('Admin privileges (DBA or System role) required for namespace operations');
}

export function checkUserAdmin(role: Role): void {
  if (!can(role, 'manageUsers')) deny('Admin privileges (DBA or System role) required for user management');
}

export function checkStorageFlush(role: Role): void {
  if (!can(role, 'storageFlush')) deny('Insufficient privileges: STORAGE FLUSH needs the service, dba or system role');
}

export function checkStorageCompact(role: Role): void {
  if (!can(role, 'storageCompact')) deny('Insufficient privileges: STORAGE COMPACT needs the service, dba or system role');
}

export function checkKillJob(role: Role): void {
  if (!can(role, 'killJob')) deny('Admin privileges (DBA or System role) required to kill jobs');
}

// Stryker disable next-line BlockStatement: every role may do this (ROLE_MATRIX's row is all Y), so the denial is unreachable until the matrix changes
export function checkIntrospect(role: Role): void {
  // Stryker disable next-line ConditionalExpression,StringLiteral: every role may do this (ROLE_MATRIX's row is all Y), so the denial is unreachable until the matrix changes
  if (!can(role, 'introspect')) deny('Insufficient privileges to read the catalog');
}

export function checkSystemRead(role: Role, table: string): void {
  if (!can(role, 'readSystemTables')) deny(`Access denied to system table 'system.${table}': it is readable by the DBA and System roles only`);
}

/** KILL LIVE QUERY: anyone may end their own live query; the matrix says who may end anyone's. */
export function canKillLiveQuery(by: { user: string; role: Role }, owner: string): boolean {
  return owner === by.user || can(by.role, 'killAnyLiveQuery');
}

/** KILL QUERY: anyone may cancel their own running statement; the matrix says who may cancel anyone's. */
export function canKillQuery(by: { user: string; role: Role }, owner: string): boolean {
  return owner === by.user || can(by.role, 'killAnyQuery');
}

/** EXECUTE AS USER: which target roles an actor may impersonate (reference §2.4, §2.5). */
export function canImpersonate(actor: { user: string; role: Role }, target: { user: string; role: Role }): boolean {
  return actor.user === target.user || cell(EXECUTE_AS_TARGETS[actor.role], target.role);
}

export function impersonationDenied(actor: { user: string; role: Role }, target: { user: string; role: Role }): KalamError {
  return new KalamError(
    'PERMISSION_DENIED',
    `EXECUTE AS USER is not authorized: actor '${actor.user}' with role ${ROLE_LABEL[actor.role]} cannot target '${target.user}' with role ${ROLE_LABEL[target.role]}`,
  );
}

/** May EXECUTE AS USER run a statement on this table? (Not on SHARED tables.) */
export function canImpersonateOn(t: TableDef): boolean {
  return EXECUTE_AS_TABLE_TYPES[t.type];
}

export function impersonationTableDenied(t: TableDef): KalamError {
  return new KalamError(
    'PERMISSION_DENIED',
    `EXECUTE AS USER is not allowed on SHARED tables (table '${qualifiedName(t)}'). AS USER impersonation is only supported for USER and STREAM tables.`,
  );
}

/** Role names and KalamDB's aliases, as CREATE/ALTER USER accept them. */
export function parseRole(raw: string): Role {
  const r = raw.toLowerCase();
  const aliases: Record<string, Role> = {
    user: 'user', viewer: 'user', readonly: 'user',
    service: 'service', developer: 'service', analyst: 'service',
    dba: 'dba', admin: 'dba',
    system: 'system',
  };
  const role = Object.hasOwn(aliases, r) ? aliases[r] : undefined;
  if (!role) throw new KalamError('INVALID_SQL', `Unknown role '${raw}': use user, service, dba or system`);
  return role;
}
