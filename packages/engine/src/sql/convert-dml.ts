/**
 * node-sql-parser's INSERT, UPDATE and DELETE nodes converted to our typed
 * AST (the expressions and SELECTs inside them by convert.ts).
 */
import type { DeleteStmt, InsertStmt, UpdateStmt } from './ast';
import { expr, exprList, ident, identText, selectStmt, tableName, unsupported } from './convert';

/* node-sql-parser's AST is untyped JSON; we read it structurally. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Node = any;

export function insertStmt(x: Node): InsertStmt {
  const table = tableName((x.table as Node[])[0]);
  if (x.conflict || x.on_duplicate_update) unsupported('ON CONFLICT');
  if (x.returning) unsupported('RETURNING');
  const values = x.values;
  if (values?.type === 'select') {
    const stmt: InsertStmt = { kind: 'insert', table, rows: [], select: selectStmt(values) };
    if (x.columns) stmt.columns = (x.columns as Node[]).map(ident);
    return stmt;
  }
  if (!values || values.type !== 'values') unsupported('This INSERT form');
  const stmt: InsertStmt = {
    kind: 'insert',
    table,
    rows: (values.values as Node[]).map((r) => exprList(r)),
  };
  if (x.columns) stmt.columns = (x.columns as Node[]).map(ident);
  return stmt;
}

export function updateStmt(x: Node): UpdateStmt {
  if ((x.table as Node[]).length > 1 || x.from) unsupported('UPDATE … FROM');
  if (x.returning) unsupported('RETURNING');
  const target = (x.table as Node[])[0];
  const stmt: UpdateStmt = {
    kind: 'update',
    table: tableName(target),
    set: (x.set as Node[]).map((s) => ({ column: ident(s.column), value: expr(s.value) })),
  };
  if (target.as) stmt.alias = identText(target.as).toLowerCase();
  if (x.where) stmt.where = expr(x.where);
  return stmt;
}

export function deleteStmt(x: Node): DeleteStmt {
  const from = (x.from ?? x.table) as Node[];
  if (from.length > 1 || x.using) unsupported('DELETE … USING');
  if (x.returning) unsupported('RETURNING');
  const stmt: DeleteStmt = { kind: 'delete', table: tableName(from[0]) };
  if (from[0].as) stmt.alias = identText(from[0].as).toLowerCase();
  if (x.where) stmt.where = expr(x.where);
  return stmt;
}
