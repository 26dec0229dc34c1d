/**
 * CREATE [OR REPLACE] VIEW and DROP VIEW. A view is a name and a query in
 * the catalog; it is checked here by planning its query for the creator
 * (every table must exist and be readable by them, no cycle through other
 * views), and expanded wherever it is read under the reader's session
 * (plan/view-expand.ts). Run under the write lock, committed through the
 * one commit path.
 */
import { checkCreateView, checkDropView } from '../auth/permissions';
import type { Catalog, ViewDef } from '../catalog/catalog';
import { KalamError } from '../core/errors';
import type { StatementResult } from '../core/types';
import type { SelectPlan } from '../plan/select';
import type { CreateViewStmt, Statement } from '../sql/ast';
import { validateColumnName, validateName } from '../sql/names';
import type { UnitOfWork } from '../storage/unit-of-work';
import { okResult as ok } from './results';
import type { SessionState } from './session-state';

export interface ViewDdlContext {
  readonly catalog: Catalog;
  readonly planner: { planView(state: SessionState, view: ViewDef, pending?: boolean): SelectPlan };
  commit(unit: UnitOfWork): Promise<void>;
}

export type ViewStatement = Extract<Statement, { kind: 'createView' | 'dropView' }>;

export async function executeViewStatement(engine: ViewDdlContext, state: SessionState, stmt: ViewStatement): Promise<StatementResult> {
  return stmt.kind === 'createView' ? createView(engine, state, stmt) : dropView(engine, state, stmt);
}

async function createView(engine: ViewDdlContext, state: SessionState, stmt: CreateViewStmt): Promise<StatementResult> {
  const { catalog } = engine;
  checkCreateView(state.role);
  const ns = (stmt.view.namespace ?? state.namespace).toLowerCase();
  if (ns === 'system') throw new KalamError('PERMISSION_DENIED', "Cannot create views in the reserved namespace 'system'");
  catalog.requireNamespace(ns);
  const name = validateName(stmt.view.name, 'view');
  if (catalog.findTable(ns, name)) {
    if (stmt.ifNotExists) return ok(`Table ${ns}.${name} already exists`);
    throw new KalamError('TABLE_EXISTS', `Table ${ns}.${name} already exists: a view and a table cannot share a name, so choose another name for the view`);
  }
  const existing = catalog.findView(ns, name);
  if (existing && !stmt.orReplace) {
    if (stmt.ifNotExists) return ok(`View ${ns}.${name} already exists`);
    throw new KalamError('TABLE_EXISTS', `View ${ns}.${name} already exists: use CREATE OR REPLACE VIEW to change its query`);
  }
  const columns = stmt.columns?.map((c) => validateColumnName(c));
  const now = Date.now();
  const def: ViewDef = { namespace: ns, name, query: stmt.query, createdAt: existing?.createdAt ?? now, updatedAt: now };
  if (columns) def.columns = columns;
  const plan = engine.planner.planView(state, def, true);
  if (columns && columns.length > plan.columns.length) {
    throw new KalamError('INVALID_SQL', `View ${ns}.${name} names ${columns.length} columns but its query returns ${plan.columns.length}: name at most as many as the SELECT returns`);
  }
  const seen = new Set<string>();
  for (const [i, c] of plan.columns.entries()) {
    const out = columns?.[i] ?? c.name;
    if (seen.has(out)) {
      throw new KalamError(
        'DUPLICATE_COLUMN',
        `View ${ns}.${name} would have two columns named '${out}': give them different names with AS in the SELECT, or with a column list (CREATE VIEW v (a, b) AS …)`,
      );
    }
    seen.add(out);
  }
  await engine.commit({ state: [catalog.createViewWrites(def)] });
  return ok(existing ? `View ${ns}.${name} replaced` : `View ${ns}.${name} created`);
}

async function dropView(engine: ViewDdlContext, state: SessionState, stmt: Extract<ViewStatement, { kind: 'dropView' }>): Promise<StatementResult> {
  const { catalog } = engine;
  checkDropView(state.role);
  const ns = (stmt.view.namespace ?? state.namespace).toLowerCase();
  const name = stmt.view.name.toLowerCase();
  if (catalog.findTable(ns, name)) throw new KalamError('INVALID_SQL', `'${ns}.${name}' is a table, not a view: remove it with DROP TABLE`);
  const view = catalog.findView(ns, name);
  if (!view) {
    if (stmt.ifExists) return ok(`View '${ns}.${name}' does not exist`);
    catalog.requireNamespace(ns);
    throw new KalamError('TABLE_NOT_FOUND', `View '${ns}.${name}' does not exist. Check the name with SHOW TABLES`);
  }
  await engine.commit({ state: [catalog.dropViewWrites(view)] });
  return ok(`View '${ns}.${name}' dropped`);
}
