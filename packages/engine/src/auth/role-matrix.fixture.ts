/**
 * What the role matrix must say, written out independently of
 * auth/permissions.ts (from KalamDB's reference §2.2, §2.4, §2.5, and the
 * engine's documented departures), so the tests compare the module against
 * this copy rather than against itself.
 */
import type { AccessLevel } from '../core/schema';
import type { Role } from '../core/types';

export const ROLE_ORDER: readonly Role[] = ['user', 'service', 'dba', 'system'];

/** Roles allowed per action. */
export const EXPECTED_ROLES: Record<string, readonly Role[]> = {
  ownRows: ['user', 'service', 'dba', 'system'],
  introspect: ['user', 'service', 'dba', 'system'],
  createUserTable: ['user', 'service', 'dba', 'system'],
  createStreamTable: ['user', 'service', 'dba', 'system'],
  createSharedTable: ['service', 'dba', 'system'],
  addColumn: ['user', 'service', 'dba', 'system'],
  changeColumns: ['service', 'dba', 'system'],
  alterSharedTable: ['service', 'dba', 'system'],
  setAccessLevel: ['service', 'dba', 'system'],
  dropTable: ['dba', 'system'],
  // A departure from KalamDB (views: dba/system): the service role, which defines SHARED tables, may define views too.
  createView: ['service', 'dba', 'system'],
  dropView: ['service', 'dba', 'system'],
  manageNamespaces: ['dba', 'system'],
  manageUsers: ['dba', 'system'],
  storageFlush: ['service', 'dba', 'system'],
  storageCompact: ['service', 'dba', 'system'],
  killJob: ['dba', 'system'],
  backupDatabase: ['dba', 'system'],
  restoreDatabase: ['dba', 'system'],
  exportUserData: ['user', 'service', 'dba', 'system'],
  readSystemTables: ['dba', 'system'],
  manageTopics: ['dba', 'system'],
  consumeAllMessages: ['service', 'dba', 'system'],
  killAnyLiveQuery: ['dba', 'system'],
  killAnyQuery: ['dba', 'system'],
  ownNamespaceDefaultsToUserTable: ['user', 'service'],
};

/** SHARED tables: roles that read and roles that write, per access level (reference §2.2). */
export const EXPECTED_SHARED: Record<AccessLevel, { read: readonly Role[]; write: readonly Role[] }> = {
  public: { read: ['user', 'service', 'dba', 'system'], write: ['service', 'dba', 'system'] },
  private: { read: ['service', 'dba', 'system'], write: ['service', 'dba', 'system'] },
  restricted: { read: ['service', 'dba', 'system'], write: ['service', 'dba', 'system'] },
  dba: { read: ['dba', 'system'], write: ['dba', 'system'] },
};

/** EXECUTE AS USER: target roles per actor role, for a target that is another user (reference §2.4). */
export const EXPECTED_TARGETS: Record<Role, readonly Role[]> = {
  user: [],
  service: ['user', 'service'],
  dba: ['user', 'service', 'dba'],
  system: ['user', 'service', 'dba', 'system'],
};

/** Every (role, allowed) pair of one row, in role order. */
export const cells = (allowed: readonly Role[]): [Role, boolean][] => ROLE_ORDER.map((r) => [r, allowed.includes(r)]);
