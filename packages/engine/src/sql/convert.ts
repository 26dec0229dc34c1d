/**
 * Converts node-sql-parser's PostgreSQL AST into our typed AST (ast.ts).
 * Anything we do not support yet is refused here with a clear
 * UNSUPPORTED error rather than misread later.
 */
import { KalamError } from '../errors';
import type { BinaryOp, DeleteStmt, Expr, FromTable, InsertStmt, OrderItem, SelectItem, SelectStmt, TableName, UpdateStmt } from './ast';
import { dataTypeOf } from './ddl';
import { numberLiteral } from './lexer';
import { DISTINCT_AGGREGATE_PREFIX } from './rewrite';

/* node-sql-parser's AST is untyped JSON; we read it structurally. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Node = any;

const unsupported = (what: string): never => {
  throw new KalamError('UNSUPPORTED', `${what} is not supported yet`);
};

function identText(x: Node): string {
  if (typeof x === 'string') return x;
  if (x && typeof x === 'object') {
    if ('expr' in x) return identText(x.expr);
    if ('value' in x) return String(x.value);
  }
  throw new KalamError('PARSE_ERROR', 'Expected an identifier');
}

const ident = (x: Node): string => identText(x).toLowerCase();

function tableName(t: Node): TableName {
  if (t.expr) unsupported('A subquery in FROM');
  const name = ident(t.table);
  return t.db ? { namespace: ident(t.db), name } : { name };
}

const COMPARISONS: Record<string, BinaryOp> = {
  '=': '=', '!=': '<>', '<>': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=',
  AND: 'AND', OR: 'OR', '+': '+', '-': '-', '*': '*', '/': '/', '%': '%', '||': '||',
};

function exprList(x: Node): Expr[] {
  if (x && x.type === 'expr_list') return (x.value as Node[]).map(expr);
  if (Array.isArray(x)) return x.map(expr);
  return [expr(x)];
}

export function expr(x: Node): Expr {
  if (x === null || x === undefined) throw new KalamError('PARSE_ERROR', 'Missing expression');
  if (x.ast) unsupported('A subquery');
  switch (x.type) {
    case 'number':
      return { kind: 'literal', value: typeof x.value === 'number' ? x.value : numberLiteral(String(x.value)) };
    case 'bigint':
      return { kind: 'literal', value: numberLiteral(String(x.value)) };
    case 'single_quote_string':
    case 'string':
    case 'natural_string':
    case 'full_hex_string':
      return { kind: 'literal', value: String(x.value) };
    case 'bool':
      return { kind: 'literal', value: !!x.value };
    case 'null':
      return { kind: 'literal', value: null };
    case 'var':
      if (x.prefix === '$' && typeof x.name === 'number') {
        if (x.name < 1) throw new KalamError('INVALID_PARAMETER', 'Parameters are numbered from $1');
        return { kind: 'param', index: x.name - 1 };
      }
      return unsupported(`Variable '${x.prefix ?? ''}${x.name}'`);
    case 'column_ref': {
      if (x.column === '*') return x.table ? { kind: 'star', table: ident(x.table) } : { kind: 'star' };
      const name = ident(x.column);
      const table = x.table ? ident(x.table) : undefined;
      if (!table && name === 'default' && x.column?.expr?.type === 'default') return { kind: 'default' };
      if (!table && (name === 'current_user' || name === 'current_timestamp')) {
        return { kind: 'call', name: name.toUpperCase(), args: [], distinct: false, star: false };
      }
      return table ? { kind: 'column', table, name } : { kind: 'column', name };
    }
    case 'double_quote_string':
      return { kind: 'column', name: String(x.value).toLowerCase() };
    case 'unary_expr': {
      const op = String(x.operator).toUpperCase();
      if (op === 'NOT' || op === '!') return { kind: 'unary', op: 'NOT', arg: expr(x.expr) };
      if (op === '-' || op === '+') return { kind: 'unary', op, arg: expr(x.expr) };
      return unsupported(`Operator ${op}`);
    }
    case 'binary_expr':
      return binary(x);
    case 'expr_list': {
      const list = x.value as Node[];
      if (list.length === 1) return expr(list[0]);
      return unsupported('A row value');
    }
    case 'function': {
      const name = (x.name?.name as Node[] | undefined)?.map((p) => identText(p)).join('.').toUpperCase() ?? '';
      const args = x.args ? exprList(x.args) : [];
      if (name === 'NOT' && args.length === 1) return { kind: 'unary', op: 'NOT', arg: args[0] };
      if (x.over) unsupported('Window functions');
      if (name.startsWith(DISTINCT_AGGREGATE_PREFIX)) {
        const call: Expr = { kind: 'call', name: name.slice(DISTINCT_AGGREGATE_PREFIX.length), args, distinct: true, star: false };
        if (x.filter) call.filter = expr(x.filter.where);
        return call;
      }
      if (x.filter) unsupported(`FILTER on ${name.toLowerCase()}()`);
      return { kind: 'call', name, args, distinct: false, star: false };
    }
    case 'aggr_func': {
      if (x.over) unsupported('Window functions');
      const name = String(x.name).toUpperCase();
      const a = x.args?.expr;
      const star = !!a && a.type === 'star';
      const distinct = String(x.args?.distinct ?? '').toUpperCase() === 'DISTINCT';
      const call: Expr = { kind: 'call', name, args: star || !a ? [] : [expr(a)], distinct, star };
      if (x.filter) call.filter = expr(x.filter.where);
      return call;
    }
    case 'case': {
      const whens: { when: Expr; then: Expr }[] = [];
      let otherwise: Expr | undefined;
      for (const arm of x.args as Node[]) {
        if (arm.type === 'when') whens.push({ when: expr(arm.cond), then: expr(arm.result) });
        else otherwise = expr(arm.result);
      }
      const node: Expr = { kind: 'case', whens };
      if (x.expr) node.operand = expr(x.expr);
      if (otherwise) node.else = otherwise;
      return node;
    }
    case 'cast': {
      if (x.tail) unsupported('An operator after a ::cast here (write CAST(x AS type) instead)');
      const target = (x.target as Node[])[0];
      return { kind: 'cast', arg: expr(x.expr), type: dataTypeOf(String(target.dataType).split(/\s/)[0]) };
    }
    case 'date': case 'time': case 'timestamp': case 'datetime': // DATE '2024-01-01'
      return { kind: 'cast', arg: { kind: 'literal', value: String(x.value) }, type: dataTypeOf(String(x.type)) };
    case 'interval':
      return unsupported('INTERVAL');
    default:
      return unsupported(`Expression '${x.type}'`);
  }
}

function binary(x: Node): Expr {
  const op = String(x.operator).toUpperCase();
  const left = expr(x.left);
  switch (op) {
    case 'LIKE': case 'NOT LIKE': case 'ILIKE': case 'NOT ILIKE': {
      const like: Expr = { kind: 'like', arg: left, pattern: expr(x.right), negated: op.startsWith('NOT'), caseInsensitive: op.endsWith('ILIKE') };
      if (x.right?.escape) like.escape = expr(x.right.escape.value);
      return like;
    }
    case 'IN': case 'NOT IN':
      if (x.right?.ast || x.right?.type !== 'expr_list') unsupported('IN with a subquery');
      return { kind: 'in', arg: left, list: exprList(x.right), negated: op === 'NOT IN' };
    case 'BETWEEN': case 'NOT BETWEEN': {
      const [low, high] = exprList(x.right);
      return { kind: 'between', arg: left, low, high, negated: op === 'NOT BETWEEN' };
    }
    case 'IS': case 'IS NOT': {
      const negated = op === 'IS NOT';
      if (x.right?.type === 'null') return { kind: 'isNull', arg: left, negated };
      if (x.right?.type === 'bool') {
        // x IS TRUE: true only when x = true (never NULL)
        const isTrue: Expr = { kind: 'call', name: 'COALESCE', args: [{ kind: 'binary', op: '=', left, right: expr(x.right) }, { kind: 'literal', value: false }], distinct: false, star: false };
        return negated ? { kind: 'unary', op: 'NOT', arg: isTrue } : isTrue;
      }
      return unsupported(`IS ${x.right?.type}`);
    }
    default: {
      const mapped = COMPARISONS[op];
      if (!mapped) return unsupported(`Operator ${op}`);
      return { kind: 'binary', op: mapped, left, right: expr(x.right) };
    }
  }
}

function selectItems(columns: Node): SelectItem[] {
  if (columns === '*') return [{ expr: { kind: 'star' } }];
  return (columns as Node[]).map((c) => {
    const item: SelectItem = { expr: expr(c.expr) };
    if (c.as) item.alias = identText(c.as).toLowerCase();
    return item;
  });
}

function fromItems(from: Node[] | null): FromTable[] {
  if (!from) return [];
  return from.map((f, i) => {
    let join: FromTable['join'] = 'first';
    if (i > 0) {
      const j = String(f.join ?? 'CROSS JOIN').toUpperCase();
      if (j === 'INNER JOIN' || j === 'JOIN') join = 'inner';
      else if (j === 'LEFT JOIN' || j === 'LEFT OUTER JOIN') join = 'left';
      else if (j === 'CROSS JOIN') join = 'cross';
      else unsupported(j);
      if (f.using) unsupported('JOIN … USING');
    }
    const item: FromTable = { table: tableName(f), join };
    if (f.as) item.alias = identText(f.as).toLowerCase();
    if (f.on) item.on = expr(f.on);
    return item;
  });
}

function orderBy(list: Node[] | null): OrderItem[] {
  if (!list) return [];
  return list.map((o) => {
    const descending = String(o.type ?? 'ASC').toUpperCase() === 'DESC';
    const nulls = String(o.nulls ?? '').toUpperCase();
    const nullsFirst = nulls.includes('FIRST') ? true : nulls.includes('LAST') ? false : descending;
    return { expr: expr(o.expr), descending, nullsFirst };
  });
}

function distinctKind(d: Node): string {
  const kind = String(d?.type ?? '').toUpperCase();
  if (kind !== '' && kind !== 'DISTINCT' && kind !== 'ALL') unsupported(`SELECT ${kind}`);
  return kind;
}

export function selectStmt(x: Node): SelectStmt {
  if (x.with) unsupported('WITH (common table expressions)');
  if (x._next || x.set_op) unsupported('UNION / INTERSECT / EXCEPT');
  if (x.into && x.into.position) unsupported('SELECT … INTO');
  if (x.window) unsupported('WINDOW');
  const stmt: SelectStmt = {
    kind: 'select',
    distinct: distinctKind(x.distinct) === 'DISTINCT',
    items: selectItems(x.columns),
    from: fromItems(x.from),
    groupBy: x.groupby ? (Array.isArray(x.groupby) ? x.groupby : x.groupby.columns ?? []).map(expr) : [],
    orderBy: orderBy(x.orderby),
  };
  if (x.where) stmt.where = expr(x.where);
  if (x.having) stmt.having = expr(x.having);
  const lim = x.limit;
  if (lim && Array.isArray(lim.value) && lim.value.length > 0) {
    const isAll = (v: Node) => v?.type === 'origin' && String(v.value).toUpperCase() === 'ALL'; // LIMIT ALL: no limit
    if (lim.seperator === 'offset' && lim.value.length === 1) stmt.offset = expr(lim.value[0]);
    else {
      if (!isAll(lim.value[0])) stmt.limit = expr(lim.value[0]);
      if (lim.value.length > 1) stmt.offset = expr(lim.value[1]);
    }
  }
  return stmt;
}

export function insertStmt(x: Node): InsertStmt {
  const table = tableName((x.table as Node[])[0]);
  if (x.conflict || x.on_duplicate_update) unsupported('ON CONFLICT');
  if (x.returning) unsupported('RETURNING');
  const values = x.values;
  if (!values || values.type !== 'values') unsupported('INSERT … SELECT');
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
