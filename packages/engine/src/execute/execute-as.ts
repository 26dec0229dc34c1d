/**
 * EXECUTE AS USER: runs one DML statement as another user's subject under
 * the role hierarchy; refused on SHARED tables; every attempt, allowed or
 * denied, written to system.audit_log.
 */
import { canImpersonate, canImpersonateOn, impersonationDenied, impersonationTableDenied } from '../auth/permissions';
import type { UserRegistry } from '../auth/users';
import type { Catalog } from '../catalog/catalog';
import { KalamError, toKalamError } from '../core/errors';
import type { StatementResult, Value } from '../core/types';
import type { Statement } from '../sql/ast';
import { recordAudit, type AuditContext } from './audit';
import type { StatementPlanner } from './planner';
import type { SessionState } from './session-state';

export interface ExecuteAsContext extends AuditContext {
  readonly catalog: Catalog;
  readonly users: UserRegistry;
  readonly planner: StatementPlanner;
}

/** Checks and audits the impersonation; `run` runs the inner statement as the target. */
export async function executeAs(
  engine: ExecuteAsContext,
  state: SessionState,
  stmt: Extract<Statement, { kind: 'executeAs' }>,
  params: readonly Value[],
  run: (as: SessionState, sql: string, params: readonly Value[]) => Promise<StatementResult>,
): Promise<StatementResult> {
  const actor = { user: state.user, role: state.role };
  const target = { user: stmt.user, role: engine.users.roleOf(stmt.user) };
  const record = (outcome: 'allowed' | 'denied', table: string | null, details: string | null) =>
    recordAudit(engine, { actor, action: 'EXECUTE_AS_USER', target: table, subject: stmt.user, outcome, details });
  const refuseShared = async (tableIds: readonly number[]) => {
    for (const id of tableIds) {
      const t = engine.catalog.tableById(id);
      if (t && !canImpersonateOn(t)) {
        await record('denied', `${t.namespace}.${t.name}`, 'shared_table');
        throw impersonationTableDenied(t);
      }
    }
  };
  if (!canImpersonate(actor, target)) {
    await record('denied', null, 'role_not_allowed');
    throw impersonationDenied(actor, target);
  }
  const as: SessionState = { user: target.user, role: target.role, namespace: state.namespace };
  // A SHARED table is refused as such for every statement kind, before the
  // target's access to it is judged (its tables are found by planning without
  // access checks); what does not plan fails below with its own error.
  let tableIds: readonly number[] | undefined;
  try {
    tableIds = engine.planner.tablesOf(as, stmt.sql, params);
  } catch {
    tableIds = undefined;
  }
  if (tableIds !== undefined) await refuseShared(tableIds);
  let planned;
  try {
    planned = engine.planner.plan(as, stmt.sql, params);
  } catch (e) {
    await record('denied', null, `invalid_statement: ${toKalamError(e).message}`);
    throw e;
  }
  if ('stmt' in planned) {
    await record('denied', null, 'not_dml');
    throw new KalamError('INVALID_SQL', 'EXECUTE AS USER wraps one SELECT, INSERT, UPDATE or DELETE statement');
  }
  await refuseShared(planned.plan.tableIds);
  const first = planned.plan.tableIds.map((id) => engine.catalog.tableById(id)).find((t) => t);
  await record('allowed', first ? `${first.namespace}.${first.name}` : null, null);
  return run(as, stmt.sql, params);
}
