/**
 * CREATE / ALTER / DROP USER (users for EXECUTE AS USER and system.users;
 * there are no passwords). The user record and its audit entry are one
 * unit of work. Run under the write lock.
 */
import { checkUserAdmin, parseRole } from '../auth/permissions';
import { validateUserId, type UserRecord, type UserRegistry } from '../auth/users';
import { KalamError } from '../core/errors';
import type { StatementResult } from '../core/types';
import type { Statement } from '../sql/ast';
import { auditEntry, type AuditContext } from './audit';
import { okResult as ok } from './results';
import type { SessionState } from './session-state';

export interface UserContext extends AuditContext {
  readonly users: UserRegistry;
}

export type UserStatement = Extract<Statement, { kind: 'createUser' | 'alterUser' | 'dropUser' }>;

export async function executeUserStatement(engine: UserContext, state: SessionState, stmt: UserStatement): Promise<StatementResult> {
  checkUserAdmin(state.role);
  switch (stmt.kind) {
    case 'createUser': {
      const id = validateUserId(stmt.user);
      const role = parseRole(stmt.role);
      if (engine.users.get(id)) {
        if (stmt.ifNotExists) return ok(`User '${id}' already exists`);
        throw new KalamError('USER_EXISTS', `User '${id}' already exists`);
      }
      const now = Date.now();
      await putUser(engine, state, 'CREATE_USER', { user_id: id, role, email: stmt.email ?? null, auth_type: 'internal', created_at: now, updated_at: now, deleted_at: null });
      return ok(`User '${id}' created`);
    }
    case 'alterUser': {
      const u = engine.users.get(stmt.user);
      if (!u) throw new KalamError('USER_NOT_FOUND', `User '${stmt.user}' does not exist`);
      const next = { ...u, updated_at: Date.now() };
      if (stmt.role !== undefined) next.role = parseRole(stmt.role);
      if (stmt.email !== undefined) next.email = stmt.email;
      await putUser(engine, state, 'ALTER_USER', next);
      return ok(`User '${u.user_id}' updated`);
    }
    case 'dropUser': {
      const u = engine.users.get(stmt.user);
      if (!u) {
        if (stmt.ifExists) return ok(`User '${stmt.user}' does not exist`);
        throw new KalamError('USER_NOT_FOUND', `User '${stmt.user}' does not exist`);
      }
      const now = Date.now();
      await putUser(engine, state, 'DROP_USER', { ...u, updated_at: now, deleted_at: now });
      return ok(`User '${u.user_id}' dropped`);
    }
  }
}

function putUser(engine: UserContext, state: SessionState, action: string, record: UserRecord): Promise<void> {
  return engine.commit({
    state: [
      engine.users.put(record),
      auditEntry(engine, { actor: { user: state.user, role: state.role }, action, target: null, subject: record.user_id, outcome: 'allowed', details: `role=${record.role}` }),
    ],
  });
}
