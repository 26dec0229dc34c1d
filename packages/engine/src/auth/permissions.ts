/**
 * The role capability matrix of KalamDB (reference §2.2, §2.4, §2.5).
 * Every check throws PERMISSION_DENIED with KalamDB's wording; callers ask
 * at the point where the access happens (a scan, a write, a DDL statement),
 * so no SQL shape can route around a check.
 */
import type { AccessLevel, TableDef } from '../core/schema';
import { KalamError } from '../core/errors';
import type { Role } from '../core/types';

export const ROLE_LABEL: Record<Role, string> = { user: 'User', service: 'Service', dba: 'Dba', system: 'System' };

const RANK: Record<Role, number> = { user: 0, service: 1, dba: 2, system: 3 };

export const isAdmin = (r: Role) => r === 'dba' || r === 'system';
const atLeastService = (r: Role) => RANK[r] >= RANK.service;

const deny = (message: string): never => {
  throw new KalamError('PERMISSION_DENIED', message);
};

const qualifiedName = (t: TableDef) => `${t.namespace}.${t.name}`;

export function canReadShared(role: Role, level: AccessLevel): boolean {
  switch (level) {
    case 'public': return true;
    case 'private': case 'restricted': return atLeastService(role);
    case 'dba': return isAdmin(role);
  }
}

export function canWriteShared(role: Role, level: AccessLevel): boolean {
  return level === 'dba' ? isAdmin(role) : atLeastService(role);
}

/** Reading rows of a table (SELECT, subscribe, any read inside another statement). */
export function checkRead(role: Role, t: TableDef): void {
  if (t.type !== 'SHARED') return; // USER/STREAM: every role reads its own partition
  const level = t.accessLevel ?? 'private';
  if (!canReadShared(role, level)) {
    deny(`Insufficient privileges to read shared table '${qualifiedName(t)}' (access level ${level})`);
  }
}

/** Writing rows (INSERT/UPDATE/DELETE). */
export function checkWrite(role: Role, t: TableDef): void {
  if (t.type !== 'SHARED') return;
  const level = t.accessLevel ?? 'private';
  if (!canWriteShared(role, level)) {
    deny(`Insufficient privileges to write shared table '${qualifiedName(t)}' (access level ${level})`);
  }
}

export function checkCreateTable(role: Role, type: TableDef['type']): void {
  if (type === 'SHARED' && !atLeastService(role)) deny('Insufficient privileges to create Shared tables');
}

export function checkAlterTable(role: Role, t: TableDef): void {
  if (t.type === 'SHARED' && !atLeastService(role)) deny('Insufficient privileges to alter Shared tables');
}

export function checkDropTable(role: Role): void {
  if (!isAdmin(role)) deny('Insufficient privileges to drop this table');
}

export function checkNamespaceAdmin(role: Role): void {
  if (!isAdmin(role)) deny('Admin privileges (DBA or System role) required for namespace operations');
}

export function checkUserAdmin(role: Role): void {
  if (!isAdmin(role)) deny('Admin privileges (DBA or System role) required for user management');
}

export function checkSystemRead(role: Role, table: string): void {
  if (!isAdmin(role)) deny(`Access denied to system table 'system.${table}': it is readable by the DBA and System roles only`);
}

/** EXECUTE AS USER: which target roles an actor may impersonate (reference §2.4, §2.5). */
export function canImpersonate(actor: { user: string; role: Role }, target: { user: string; role: Role }): boolean {
  if (actor.user === target.user) return true;
  switch (actor.role) {
    case 'user': return false;
    case 'service': return target.role === 'service' || target.role === 'user';
    case 'dba': return target.role !== 'system';
    case 'system': return true;
  }
}

export function impersonationDenied(actor: { user: string; role: Role }, target: { user: string; role: Role }): KalamError {
  return new KalamError(
    'PERMISSION_DENIED',
    `EXECUTE AS USER is not authorized: actor '${actor.user}' with role ${ROLE_LABEL[actor.role]} cannot target '${target.user}' with role ${ROLE_LABEL[target.role]}`,
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
  const role = aliases[r];
  if (!role) throw new KalamError('INVALID_SQL', `Unknown role '${raw}': use user, service, dba or system`);
  return role;
}
