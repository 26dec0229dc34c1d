/**
 * What each table scan of a statement can tell the cold tier before it
 * runs: the simple conjuncts of its WHERE (`col op constant`, IN lists,
 * BETWEEN) as templates over the statement's parameters, so a cached plan
 * yields bounds for each execution's values, and the columns the statement
 * may read. Derived once per plan from the AST; anything not understood
 * reads every row group and every column (never fewer than needed).
 */
import type { TableDef } from '../core/schema';
import type { DmlStatement, Expr, FromTable, SelectStmt } from '../sql/ast';
import type { BoundOp, ScanBound, ScanBounds } from '../storage/cold/prune';
import type { DataType, Value } from '../core/types';
import { coerce, valuesEqual } from '../core/values';
import { conjuncts } from './block';

type Operand = { param: number } | { literal: Value };

interface BoundTemplate {
  key: string;
  isPk: boolean;
  op: BoundOp;
  type: DataType;
  column: string;
  operands: Operand[];
}

/** One scan of one table: its bound templates, `null` (read everything) or 'none' (needs no cold rows). */
export interface ScanTemplate {
  tableId: number;
  bounds: BoundTemplate[] | null | 'none';
  /**
   * Ids of the table's columns the statement may read (the primary key,
   * `_seq` and `_deleted` are always read), or 'all': every column the
   * statement names anywhere by a name the table has, whatever qualifier it
   * carries (a superset, never fewer); `*` anywhere, and every write, read
   * all of them.
   */
  columns: ReadonlySet<number> | 'all';
}

/** Column names a statement mentions anywhere, and whether it has a `*`. */
interface Mentions {
  names: Set<string>;
  star: boolean;
}

function mentionsOf(root: unknown): Mentions {
  const out: Mentions = { names: new Set(), star: false };
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object' || node instanceof Uint8Array) return;
    if (Array.isArray(node)) {
      for (const x of node) visit(x);
      return;
    }
    const o = node as { kind?: unknown; name?: unknown };
    if (o.kind === 'column' && typeof o.name === 'string') out.names.add(o.name);
    else if (o.kind === 'star') out.star = true;
    for (const v of Object.values(node)) visit(v);
  };
  visit(root);
  return out;
}

function columnsOf(t: TableDef, m: Mentions): ScanTemplate['columns'] {
  if (m.star) return 'all';
  const ids = new Set<number>();
  for (const c of t.columns) if (m.names.has(c.name)) ids.add(c.id);
  return ids;
}

export type FindTable = (namespace: string | undefined, name: string) => TableDef | undefined;

const FLIP: Record<string, BoundOp> = { '=': '=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

function operand(e: Expr): Operand | undefined {
  if (e.kind === 'param') return { param: e.index };
  if (e.kind === 'literal' && e.value !== null) return { literal: e.value };
  return undefined;
}

function columnOf(t: TableDef, names: ReadonlySet<string>, isOnlyTable: boolean, e: Expr): { key: string; isPk: boolean; type: DataType; column: string } | undefined {
  if (e.kind !== 'column') return undefined;
  if (e.table !== undefined ? !names.has(e.table) : !isOnlyTable) return undefined;
  if (e.name === '_seq') return { key: '_seq', isPk: false, type: 'BIGINT', column: '_seq' };
  const i = t.columns.findIndex((c) => c.name === e.name);
  if (i < 0) return undefined;
  return { key: String(t.columns[i].id), isPk: i === t.pk, type: t.columns[i].type, column: e.name };
}

/** Bound templates of `where` for table `t` known in the statement under `names`. */
function boundsOf(t: TableDef, names: ReadonlySet<string>, isOnlyTable: boolean, where: Expr | undefined): BoundTemplate[] {
  const out: BoundTemplate[] = [];
  for (const c of conjuncts(where)) {
    if (c.kind === 'binary' && FLIP[c.op]) {
      for (const [a, b, op] of [[c.left, c.right, c.op], [c.right, c.left, FLIP[c.op]]] as const) {
        const col = columnOf(t, names, isOnlyTable, a);
        const v = col && operand(b);
        if (col && v) out.push({ ...col, op: op as BoundOp, operands: [v] });
      }
    } else if (c.kind === 'in' && !c.negated) {
      const col = columnOf(t, names, isOnlyTable, c.arg);
      const list = c.list.map(operand);
      if (col && list.length > 0 && list.every((x) => x)) out.push({ ...col, op: 'in', operands: list as Operand[] });
    } else if (c.kind === 'binary' && c.op === 'OR') {
      // `col = a OR col = b …` on one column: as `col IN (a, b, …)`.
      const leaves: Expr[] = [];
      const collect = (e: Expr): void => {
        if (e.kind === 'binary' && e.op === 'OR') {
          collect(e.left);
          collect(e.right);
        } else leaves.push(e);
      };
      collect(c);
      let col: ReturnType<typeof columnOf>;
      const list: Operand[] = [];
      for (const e of leaves) {
        const side = e.kind === 'binary' && e.op === '=' ? ([[e.left, e.right], [e.right, e.left]] as const).find(([a, b]) => columnOf(t, names, isOnlyTable, a) && operand(b)) : undefined;
        const here = side && columnOf(t, names, isOnlyTable, side[0]);
        if (!side || !here || (col && col.key !== here.key)) {
          col = undefined;
          break;
        }
        col = here;
        list.push(operand(side[1])!);
      }
      if (col) out.push({ ...col, op: 'in', operands: list });
    } else if (c.kind === 'between' && !c.negated) {
      const col = columnOf(t, names, isOnlyTable, c.arg);
      const lo = operand(c.low);
      const hi = operand(c.high);
      if (col && lo) out.push({ ...col, op: '>=', operands: [lo] });
      if (col && hi) out.push({ ...col, op: '<=', operands: [hi] });
    }
  }
  return out;
}

/** Every SELECT block anywhere in `node` (subqueries, CTEs, set-operation members, derived tables). */
function visitSelects(node: unknown, visit: (s: SelectStmt) => void): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const x of node) visitSelects(x, visit);
    return;
  }
  if (node instanceof Uint8Array) return;
  const o = node as { kind?: unknown; from?: unknown };
  if (o.kind === 'select' && Array.isArray(o.from)) visit(node as SelectStmt);
  for (const v of Object.values(node)) visitSelects(v, visit);
}

function selectScans(root: unknown, find: FindTable, out: ScanTemplate[], m: Mentions): void {
  visitSelects(root, (s) => {
    const tables = s.from.filter((f: FromTable) => !f.subquery);
    for (const f of tables) {
      const t = find(f.table.namespace, f.table.name);
      if (!t) continue; // a CTE name, a system table
      const names = new Set([f.alias ?? f.table.name]);
      out.push({ tableId: t.id, bounds: boundsOf(t, names, s.from.length === 1, s.where), columns: columnsOf(t, m) });
    }
  });
}

/** The scan templates of a DML statement. */
export function scanTemplates(stmt: DmlStatement, find: FindTable): ScanTemplate[] {
  const out: ScanTemplate[] = [];
  const m = mentionsOf(stmt);
  switch (stmt.kind) {
    case 'select':
      selectScans(stmt, find, out, m);
      break;
    case 'update':
    case 'delete': {
      const t = find(stmt.table.namespace, stmt.table.name);
      // A write reads whole rows of its target: it writes them back whole.
      if (t) out.push({ tableId: t.id, bounds: boundsOf(t, new Set([stmt.alias ?? stmt.table.name, stmt.table.name]), true, stmt.where), columns: 'all' });
      selectScans(stmt, find, out, m);
      break;
    }
    case 'insert': {
      const t = find(stmt.table.namespace, stmt.table.name);
      if (t) out.push({ tableId: t.id, bounds: insertBounds(t, stmt), columns: 'all' });
      selectScans(stmt.rows, find, out, m);
      if (stmt.select) selectScans(stmt.select, find, out, m);
      break;
    }
  }
  return out;
}

/** An INSERT reads cold rows only to check primary-key uniqueness: the pks it writes. */
function insertBounds(t: TableDef, stmt: Extract<DmlStatement, { kind: 'insert' }>): BoundTemplate[] | null | 'none' {
  if (t.pk < 0) return 'none';
  if (stmt.select) return null;
  const pkCol = t.columns[t.pk];
  const listed = (stmt.columns ?? t.columns.map((c) => c.name)).indexOf(pkCol.name);
  const base = { key: String(pkCol.id), isPk: true, op: 'in' as const, type: pkCol.type, column: pkCol.name };
  if (listed < 0) {
    const d = pkCol.default;
    if (!d) return 'none'; // NULL pk: the NOT NULL check refuses it
    // Generated ids are new by construction (time-ordered, per-database sequence): no older row holds them.
    if (d.kind === 'function') return d.name === 'SNOWFLAKE_ID' || d.name === 'UUID_V7' || d.name === 'ULID' ? 'none' : null;
    return d.value === null ? 'none' : [{ ...base, operands: [{ literal: d.value }] }];
  }
  const operands: Operand[] = [];
  for (const row of stmt.rows) {
    const e = row[listed];
    if (!e) return null;
    if (e.kind === 'default') return null;
    const v = operand(e);
    if (!v) return null;
    operands.push(v);
  }
  return operands.length ? [{ ...base, operands }] : 'none';
}

/** Bounds for one execution: parameters filled in and coerced; a bound whose value does not fit its column is dropped. */
export function resolveBounds(template: ScanTemplate['bounds'], params: readonly Value[]): ScanBounds | 'none' {
  if (template === null || template === 'none') return template;
  const out: ScanBound[] = [];
  for (const b of template) {
    const values: Value[] = [];
    let ok = true;
    for (const o of b.operands) {
      const raw = 'param' in o ? params[o.param] : o.literal;
      if (raw === null || raw === undefined) { ok = false; break; }
      try {
        const v = coerce(raw, b.type, b.column);
        // A number the column type rounds (0.5 into INT or TIMESTAMP, 0.1 into FLOAT) would make the bound
        // tighter than the comparison (n > 0.5 is not n > 1): such a bound is dropped, not used.
        if (typeof raw === 'number' && (typeof v === 'number' || typeof v === 'bigint') && !valuesEqual(v, raw)) ok = false;
        else values.push(v);
      } catch {
        ok = false;
      }
      if (!ok) break;
    }
    if (ok) out.push({ key: b.key, isPk: b.isPk, op: b.op, values });
  }
  return out;
}
