/**
 * Converts node-sql-parser's PostgreSQL AST into our typed AST (ast.ts).
 * Anything we do not support yet is refused here with a clear
 * UNSUPPORTED error rather than misread later.
 */
import { KalamError } from '../core/errors';
import type { BinaryOp, CommonTableExpr, Expr, OrderItem, SelectItem, SelectStmt, SetOperator, TableName } from './ast';
import { fromItems, type FromConverter } from './convert-from';
import { keywordFormCall } from './convert-functions';
import { dataTypeOf } from './parse-column';
import { numberLiteral } from './lexer';
import { limitExceeded, setOperationArms, SQL_LIMIT_DEFAULTS, TREE_DEPTH_PER_LEVEL, treeTooDeep, type SqlLimits } from './limits';
import { DISTINCT_AGGREGATE_PREFIX, DISTINCT_FROM_MARKER, IN_LIST_PREFIX } from './rewrite';
import { expressionKind } from './expression-kind';
import { markedWindowFunction, missingOver, windowCall, withWindowClause, WINDOW_ONLY_FUNCTIONS, type ExprConverter } from './convert-window';

/* node-sql-parser's AST is untyped JSON; we read it structurally. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Node = any;

/** The limits of the conversion under way (set by `withConversion`; conversion is synchronous). */
let limits: SqlLimits = SQL_LIMIT_DEFAULTS;
/** IN lists rewrite.ts took out of the text, by marker number. */
let inLists: readonly Expr[][] = [];

/**
 * Runs `fn` (a conversion) with `l` as the limits its breadth, IN-list and
 * set-operation checks apply, and `lists` as the IN lists whose marker
 * calls (rewrite.ts) it meets.
 */
export function withConversion<T>(l: SqlLimits, lists: readonly Expr[][], fn: () => T): T {
  const before = [limits, inLists] as const;
  limits = l;
  inLists = lists;
  try {
    return fn();
  } finally {
    [limits, inLists] = before;
  }
}

/** The values of an IN list rewrite.ts replaced by a marker call, or undefined for any other list. */
function rewrittenList(list: Node[] | undefined): Expr[] | undefined {
  if (!list || list.length !== 1 || list[0]?.type !== 'function') return undefined;
  const name = (list[0].name?.name as Node[] | undefined)?.map((p) => identText(p)).join('.').toUpperCase() ?? '';
  if (!name.startsWith(IN_LIST_PREFIX)) return undefined;
  const values = inLists[Number(name.slice(IN_LIST_PREFIX.length))];
  if (!values) throw new KalamError('PARSE_ERROR', `Unknown function ${name.toLowerCase()}()`);
  return values;
}

/** A list of `n` items (select list, arguments, CASE arms, GROUP BY, ORDER BY) against maxExpressionTerms. */
function checkTerms(n: number, what: string): void {
  if (n > limits.maxExpressionTerms) throw limitExceeded('maxExpressionTerms', `${what} of ${n.toLocaleString('en-US')} terms`, limits.maxExpressionTerms);
}

export const unsupported = (what: string): never => {
  throw new KalamError('UNSUPPORTED', `${what} is not supported yet`);
};

export function identText(x: Node): string {
  if (typeof x === 'string') return x;
  if (x && typeof x === 'object') {
    if ('expr' in x) return identText(x.expr);
    if ('value' in x) return String(x.value);
  }
  throw new KalamError('PARSE_ERROR', 'Expected an identifier');
}

export const ident = (x: Node): string => identText(x).toLowerCase();

export function tableName(t: Node): TableName {
  if (t.expr) unsupported('A subquery in FROM');
  const name = ident(t.table);
  return t.db ? { namespace: ident(t.db), name } : { name };
}

const COMPARISONS: Record<string, BinaryOp> = {
  '=': '=', '!=': '<>', '<>': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=',
  AND: 'AND', OR: 'OR', '+': '+', '-': '-', '*': '*', '/': '/', '%': '%', '||': '||',
  '->': '->', '->>': '->>', '#>': '#>', '#>>': '#>>', '?': '?', '?|': '?|', '?&': '?&', '@>': '@>', '<@': '<@',
};

export function exprList(x: Node, what = 'A list'): Expr[] {
  const list: Node[] = x && x.type === 'expr_list' ? x.value : Array.isArray(x) ? x : [x];
  checkTerms(list.length, what);
  return list.map(expr);
}

export function expr(x: Node): Expr {
  if (x === null || x === undefined) throw new KalamError('PARSE_ERROR', 'Missing expression');
  // The parser keeps `x[n]` as a mark on x: read as x, it would be a wrong answer.
  if (x.array_index) throw new KalamError('UNSUPPORTED', 'Array subscripts (x[n]) are not supported: read a JSON array element with -> n (0-based), or json_extract_path');
  if (x.ast) return { kind: 'subquery', query: selectStmt(x.ast) };
  if (x.type === 'select') return { kind: 'subquery', query: selectStmt(x) }; // (SELECT …) where the parser leaves no `ast` wrapper
  switch (x.type) {
    case 'number':
    case 'bigint': {
      if (typeof x.value === 'number') return { kind: 'literal', value: x.value };
      const text = String(x.value);
      // A point or an exponent makes a numeric literal (7.0 / 2 is 3.5), which its value alone cannot tell.
      return /[.eE]/.test(text) ? { kind: 'literal', value: numberLiteral(text), type: 'DECIMAL' } : { kind: 'literal', value: numberLiteral(text) };
    }
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
      if (!table && (name === 'current_user' || name === 'current_timestamp' || name === 'localtimestamp' || name === 'localtime')) {
        return { kind: 'call', name: name.toUpperCase(), args: [], distinct: false, star: false };
      }
      return table ? { kind: 'column', table, name } : { kind: 'column', name };
    }
    case 'double_quote_string':
      return { kind: 'column', name: String(x.value).toLowerCase() };
    case 'unary_expr': {
      const op = String(x.operator).toUpperCase();
      if (op === 'NOT' || op === '!') return { kind: 'unary', op: 'NOT', arg: expr(x.expr) };
      if (op === 'NOT EXISTS') return { kind: 'unary', op: 'NOT', arg: { kind: 'exists', query: subqueryOf(x.expr) } };
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
      if (name === 'EXISTS') return { kind: 'exists', query: subqueryOf(x.args) };
      if (name === 'ANY' || name === 'SOME' || name === 'ALL') {
        throw new KalamError('UNSUPPORTED', `${name} (SELECT …) is not supported yet: write x IN (SELECT …), or use EXISTS`);
      }
      const form = keywordFormCall(name, x, expr);
      if (form) return { kind: 'call', name: form.name, args: form.args, distinct: false, star: false };
      const args = x.args ? exprList(x.args, `The argument list of ${name.toLowerCase()}()`) : [];
      if (name === 'NOT' && args.length === 1) return { kind: 'unary', op: 'NOT', arg: args[0] };
      if (name.startsWith(DISTINCT_AGGREGATE_PREFIX) && x.over) return windowCall(x, name.slice(DISTINCT_AGGREGATE_PREFIX.length), args, false, true, converter);
      if (x.over) return windowCall(x, name, args, false, false, converter);
      if (WINDOW_ONLY_FUNCTIONS.has(name)) return missingOver(markedWindowFunction(name, args) ?? name);
      if (x.filter) unsupported(`FILTER on ${name.toLowerCase()}()`);
      return { kind: 'call', name, args, distinct: false, star: false };
    }
    case 'window_func': {
      const name = String(x.name).toUpperCase();
      const args = x.args ? exprList(x.args, `The argument list of ${name.toLowerCase()}()`) : [];
      return x.over ? windowCall(x, name, args, false, false, converter) : missingOver(name);
    }
    case 'aggr_func': {
      let name = String(x.name).toUpperCase();
      // SUM/AVG/MIN/MAX(DISTINCT x), as rewrite.ts left it: STRING_AGG(DISTINCT x, 'KALAMLITE_DISTINCT_SUM').
      const marker = x.args?.separator?.delimiter?.value;
      if (name === 'STRING_AGG' && typeof marker === 'string' && marker.startsWith(DISTINCT_AGGREGATE_PREFIX)) {
        name = marker.slice(DISTINCT_AGGREGATE_PREFIX.length);
        x = { ...x, args: { ...x.args, separator: null } };
      }
      const a = x.args?.expr;
      const star = !!a && a.type === 'star';
      const distinct = String(x.args?.distinct ?? '').toUpperCase() === 'DISTINCT';
      if (x.over) {
        if (x.filter) unsupported('FILTER together with OVER');
        return windowCall(x, name, star || !a ? [] : [expr(a)], star, distinct, converter);
      }
      const args = star || !a ? [] : [expr(a)];
      // string_agg(x, sep): the parser keeps the separator apart.
      if (x.args?.separator?.delimiter) args.push(expr(x.args.separator.delimiter));
      const call: Expr = { kind: 'call', name, args, distinct, star };
      if (x.filter) call.filter = expr(x.filter.where);
      if (x.args?.orderby) call.orderBy = orderBy(x.args.orderby);
      return call;
    }
    case 'case': {
      checkTerms((x.args as Node[]).length, 'A CASE');
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
      // `x::a::b` arrives as one cast with targets [a, b]: each applies in turn.
      let out = expr(x.expr);
      for (const target of x.target as Node[]) {
        const type = dataTypeOf(String(target.dataType).split(/\s/)[0]);
        out = type === 'DECIMAL' && typeof target.length === 'number'
          ? { kind: 'cast', arg: out, type, precision: target.length, scale: typeof target.scale === 'number' ? target.scale : 0 } // ::NUMERIC(p, s)
          : { kind: 'cast', arg: out, type };
      }
      return out;
    }
    case 'date': case 'time': case 'timestamp': case 'datetime': // DATE '2024-01-01'
      return { kind: 'cast', arg: { kind: 'literal', value: String(x.value) }, type: dataTypeOf(String(x.type)) };
    case 'extract': { // EXTRACT(field FROM source) is date_part(field, source) (plan/datetime-functions.ts)
      const source = expr(x.args.source);
      const arg: Expr = x.args.cast_type ? { kind: 'cast', arg: source, type: dataTypeOf(String(x.args.cast_type)) } : source;
      return { kind: 'call', name: 'EXTRACT', args: [{ kind: 'literal', value: String(x.args.field).toLowerCase() }, arg], distinct: false, star: false };
    }
    case 'array': // ARRAY[a, b]: a list value (text[] paths and key lists of the JSON operators and functions)
      return { kind: 'call', name: 'ARRAY', args: x.expr_list ? exprList(x.expr_list, 'An ARRAY') : [], distinct: false, star: false };
    default:
      return extraKinds[x.type]?.(x, expr) ?? unsupported(expressionKind(x.type));
  }
}

/** Expression kinds a SQL extension converts, registered as it loads (INTERVAL's chunk: `interval`, `extract`). */
const extraKinds: Record<string, ((x: Node, expr: (n: Node) => Expr) => Expr) | undefined> = {};

export function registerExpressionKinds(kinds: Record<string, (x: Node, expr: (n: Node) => Expr) => Expr>): void {
  Object.assign(extraKinds, kinds);
}

/** This module's conversions, for convert-window.ts. */
const converter: ExprConverter = { expr, orderBy: (list) => orderBy(list) };
const fromConverter: FromConverter = {
  expr, exprList, tableName, identText, selectStmt: (x) => selectStmt(x),
  unionAll: (members) => setOpTree(members, members.slice(1).map(() => ({ op: 'UNION', all: true }))),
  maxValuesRows: () => limits.maxSetOperationArms,
};

const opOf = (x: Node): string => String(x.operator).toUpperCase();

/**
 * A binary expression. node-sql-parser reads `a OR b OR c …` (and `+`,
 * `||`, …) as a left-deep tree; its left spine is walked here rather than
 * recursed into, so a chain's length costs no stack. An AND or OR chain
 * becomes a balanced tree of the same terms in the same order (both are
 * associative, and short-circuit alike: a term is evaluated unless an
 * earlier one decided the result), so the passes that recurse over
 * expressions go log2(terms) deep; other chains keep their left-deep shape
 * (floating-point and BIGINT arithmetic are not associative), so each of
 * their operators counts as a level of depth (TREE_DEPTH_PER_LEVEL).
 */
function binary(top: Node): Expr {
  const spine: Node[] = [];
  let n: Node = top;
  while (n?.type === 'binary_expr') {
    spine.push(n);
    n = n.left;
  }
  let acc = expr(n);
  let chain = 1; // terms of the current non-AND/OR chain
  for (let k = spine.length - 1; k >= 0;) {
    const op = opOf(spine[k]);
    if (op === 'AND' || op === 'OR') {
      const terms = [acc];
      for (; k >= 0 && opOf(spine[k]) === op; k--) {
        terms.push(expr(spine[k].right));
        checkTerms(terms.length, `An ${op} chain`);
      }
      acc = balanced(op, terms, 0, terms.length);
      chain = 1;
    } else {
      acc = binaryOne(spine[k], acc);
      // Each operator of such a chain nests the tree one level deeper (treeDepth, checked in full after conversion).
      if (++chain > limits.maxExpressionDepth * TREE_DEPTH_PER_LEVEL) throw treeTooDeep(chain, limits);
      k--;
    }
  }
  return acc;
}

/** terms[from, to) joined by `op` as a balanced tree, left half the larger (two or three terms come out left-deep). */
function balanced(op: 'AND' | 'OR', terms: Expr[], from: number, to: number): Expr {
  if (to - from === 1) return terms[from];
  const mid = from + Math.ceil((to - from) / 2);
  return { kind: 'binary', op, left: balanced(op, terms, from, mid), right: balanced(op, terms, mid, to) };
}

function binaryOne(x: Node, left: Expr): Expr {
  const op = opOf(x);
  switch (op) {
    case 'LIKE': case 'NOT LIKE': case 'ILIKE': case 'NOT ILIKE': {
      const like: Expr = { kind: 'like', arg: left, pattern: expr(x.right), negated: op.startsWith('NOT'), caseInsensitive: op.endsWith('ILIKE') };
      if (x.right?.escape) like.escape = expr(x.right.escape.value);
      return like;
    }
    case 'IN': case 'NOT IN': {
      const list = x.right?.type === 'expr_list' ? (x.right.value as Node[]) : undefined;
      if (list && list.length === 1 && list[0]?.ast) return { kind: 'inSubquery', arg: left, query: selectStmt(list[0].ast), negated: op === 'NOT IN' };
      if (x.right?.ast) return { kind: 'inSubquery', arg: left, query: selectStmt(x.right.ast), negated: op === 'NOT IN' };
      if (!list) return unsupported('IN without a parenthesized list');
      const values = rewrittenList(list);
      const n = values ? values.length : list.length;
      if (n > limits.maxInListLength) {
        throw limitExceeded('maxInListLength', `An IN list of ${n.toLocaleString('en-US')} values`, limits.maxInListLength);
      }
      return { kind: 'in', arg: left, list: values ? values.map((v) => ({ ...v })) : list.map(expr), negated: op === 'NOT IN' };
    }
    case 'BETWEEN': case 'NOT BETWEEN': {
      const [low, high] = exprList(x.right);
      return { kind: 'between', arg: left, low, high, negated: op === 'NOT BETWEEN' };
    }
    case 'IS': case 'IS NOT': {
      const negated = op === 'IS NOT';
      const other = distinctFromOperand(x.right);
      // x IS [NOT] DISTINCT FROM y: `=` where NULL is a value (rewrite.ts left its marker on y).
      if (other) return { kind: 'call', name: negated ? 'IS NOT DISTINCT FROM' : 'IS DISTINCT FROM', args: [left, expr(other)], distinct: false, star: false };
      if (x.right?.type === 'null') return { kind: 'isNull', arg: left, negated };
      if (x.right?.type === 'bool') {
        // x IS TRUE: true only when x = true (never NULL)
        const isTrue: Expr = { kind: 'call', name: 'COALESCE', args: [{ kind: 'binary', op: '=', left, right: expr(x.right) }, { kind: 'literal', value: false }], distinct: false, star: false };
        return negated ? { kind: 'unary', op: 'NOT', arg: isTrue } : isTrue;
      }
      return unsupported(`IS ${x.right?.type}`);
    }
    case '~': case '~*': case '!~': case '!~*': { // POSIX regular expression match (plan/regex.ts)
      const call: Expr = { kind: 'call', name: 'REGEXP_LIKE', args: [left, expr(x.right), { kind: 'literal', value: op.endsWith('*') ? 'i' : 'c' }], distinct: false, star: false };
      return op.startsWith('!') ? { kind: 'unary', op: 'NOT', arg: call } : call;
    }
    default: {
      const mapped = COMPARISONS[op];
      if (!mapped) return unsupported(`Operator ${op}`);
      return { kind: 'binary', op: mapped, left, right: expr(x.right) };
    }
  }
}

/** The right operand of `IS [NOT] DISTINCT FROM` without the marker rewrite.ts put at its left edge, or undefined. */
function distinctFromOperand(right: Node | undefined): Node | undefined {
  const isMarker = (n: Node | undefined) => n?.type === 'column_ref' && !n.table && String(n.column?.expr?.value ?? n.column).toUpperCase() === DISTINCT_FROM_MARKER;
  if (right?.type !== 'binary_expr') return undefined;
  if (right.operator === '+' && isMarker(right.left)) return right.right as Node;
  const inner = distinctFromOperand(right.left as Node);
  return inner ? { ...right, left: inner } : undefined;
}

function selectItems(columns: Node): SelectItem[] {
  if (columns === '*') return [{ expr: { kind: 'star' } }];
  checkTerms((columns as Node[]).length, 'A select list');
  return (columns as Node[]).map((c) => {
    const item: SelectItem = { expr: expr(c.expr) };
    if (c.as) item.alias = identText(c.as).toLowerCase();
    return item;
  });
}

function orderBy(list: Node[] | null): OrderItem[] {
  if (!list) return [];
  checkTerms(list.length, 'An ORDER BY list');
  return list.map((o) => {
    const descending = String(o.type ?? 'ASC').toUpperCase() === 'DESC';
    const nulls = String(o.nulls ?? '').toUpperCase();
    const nullsFirst = nulls.includes('FIRST') ? true : nulls.includes('LAST') ? false : descending;
    return { expr: expr(o.expr), descending, nullsFirst };
  });
}

function distinctKind(d: Node): string {
  const kind = String(d?.type ?? '').toUpperCase();
  if (kind !== '' && kind !== 'DISTINCT' && kind !== 'ALL' && kind !== 'DISTINCT ON') unsupported(`SELECT ${kind}`);
  return kind;
}

function applyLimit(stmt: SelectStmt, lim: Node): void {
  if (!lim || !Array.isArray(lim.value) || lim.value.length === 0) return;
  const isAll = (v: Node) => v?.type === 'origin' && String(v.value).toUpperCase() === 'ALL'; // LIMIT ALL: no limit
  if (lim.seperator === 'offset' && lim.value.length === 1) stmt.offset = expr(lim.value[0]);
  else {
    if (!isAll(lim.value[0])) stmt.limit = expr(lim.value[0]);
    if (lim.value.length > 1) stmt.offset = expr(lim.value[1]);
  }
}

/** A subquery operand (EXISTS's argument): `{ ast }` or a one-item list of it. */
function subqueryOf(x: Node): SelectStmt {
  const node = x?.type === 'expr_list' && Array.isArray(x.value) && x.value.length === 1 ? x.value[0] : x;
  if (!node?.ast) throw new KalamError('INVALID_SQL', 'EXISTS needs a subquery: EXISTS (SELECT …)');
  return selectStmt(node.ast);
}

function commonTableExprs(list: Node[]): CommonTableExpr[] {
  return list.map((w) => {
    if (w.recursive) {
      throw new KalamError('UNSUPPORTED', 'WITH RECURSIVE is not supported: write the query without recursion (non-recursive WITH works)');
    }
    const cte: CommonTableExpr = { name: ident(w.name), query: selectStmt(w.stmt?.ast ?? w.stmt) };
    if (w.columns) cte.columns = (w.columns as Node[]).map((c) => ident(c.column ?? c));
    return cte;
  });
}

const SET_OP = /^(UNION|INTERSECT|EXCEPT)(?: (ALL|DISTINCT))?$/;

function setOperator(text: Node): { op: SetOperator; all: boolean } {
  const m = SET_OP.exec(String(text ?? '').toUpperCase().trim().replace(/\s+/g, ' '));
  if (!m) return unsupported(`Set operation '${text}'`);
  return { op: m[1] as SetOperator, all: m[2] === 'ALL' };
}

const isSetOpJoin = (f: Node) => typeof f?.join === 'string' && SET_OP.test(f.join.toUpperCase().trim().replace(/\s+/g, ' '));

/**
 * The members of `a op b op c …` in order. node-sql-parser chains members
 * through `_next`/`set_op`, and reads `… FROM t UNION (SELECT …)` as a join
 * of the parenthesized query (join 'union'); both shapes come out the same.
 * The trailing ORDER BY/LIMIT (on the last member unless it is
 * parenthesized, or on the misread node) belong to the whole.
 */
function setOpMembers(x: Node): { members: Node[]; ops: string[]; orderby: Node; limit: Node } {
  const members: Node[] = [];
  const ops: string[] = [];
  let orderby: Node = x._orderby ?? null;
  let limit: Node = x._limit ?? null;
  const bare = (n: Node): Node => ({ ...n, _next: null, set_op: null, with: null, _orderby: null, _limit: null });
  for (let n: Node = x; n; n = n._next) {
    const from = (n.from ?? []) as Node[];
    const k = from.findIndex(isSetOpJoin);
    if (k > 0) {
      members.push({ ...bare(n), from: from.slice(0, k), orderby: null, limit: null });
      if (n.orderby) orderby = n.orderby;
      if (n.limit?.value?.length) limit = n.limit;
      for (const f of from.slice(k)) {
        if (!isSetOpJoin(f) || !f.expr?.ast) unsupported(`A join after ${String(from[k].join).toUpperCase()}`);
        ops.push(f.join);
        members.push({ ...f.expr.ast, parentheses_symbol: true });
      }
    } else {
      members.push(bare(n));
    }
    if (n._next) ops.push(n.set_op);
    if (members.length > limits.maxSetOperationArms) throw setOperationArms(limits);
  }
  const last = members[members.length - 1];
  if (members.length > 1 && !last.parentheses_symbol) {
    if (last.orderby) orderby = last.orderby;
    if (last.limit?.value?.length) limit = last.limit;
    members[members.length - 1] = { ...last, orderby: null, limit: null };
  }
  return { members, ops, orderby, limit };
}

const emptySelect = (): SelectStmt => ({ kind: 'select', distinct: false, items: [], from: [], groupBy: [], orderBy: [] });

/**
 * Builds `a op b op c` with INTERSECT binding tighter than UNION and EXCEPT,
 * left to right otherwise (as Postgres). A run of one associative operator
 * (UNION ALL, UNION, INTERSECT) becomes a balanced tree of its operands in
 * their order — the same rows in the same order, the output names and types
 * of the same first member — so a long chain nests log2(arms) deep for
 * planning and for the row streams; EXCEPT stays left-deep.
 */
function setOpTree(members: SelectStmt[], ops: { op: SetOperator; all: boolean }[]): SelectStmt {
  type Step = { op: SetOperator; all: boolean; right: SelectStmt };
  // INTERSECT binds tighter: each run of INTERSECTs becomes one operand first.
  const operands: SelectStmt[] = [];
  const outer: { op: SetOperator; all: boolean }[] = [];
  for (let i = 0; i < members.length;) {
    const rest: Step[] = [];
    let j = i;
    for (; j < ops.length && ops[j].op === 'INTERSECT'; j++) rest.push({ ...ops[j], right: members[j + 1] });
    operands.push(foldLeft(members[i], rest));
    if (j < ops.length) outer.push(ops[j]);
    i = j + 1;
  }
  return foldLeft(operands[0], outer.map((o, k): Step => ({ ...o, right: operands[k + 1] })));
}

/** first op right op right …, left to right; a run of one associative operator is combined at once (balanced), EXCEPT one step at a time. */
function foldLeft(first: SelectStmt, rest: readonly { op: SetOperator; all: boolean; right: SelectStmt }[]): SelectStmt {
  let acc = first;
  for (let k = 0; k < rest.length;) {
    const { op, all } = rest[k];
    const run = [acc];
    do {
      run.push(rest[k].right);
      k++;
    } while (op !== 'EXCEPT' && k < rest.length && rest[k].op === op && rest[k].all === all);
    acc = combine(op, all, run, 0, run.length);
  }
  return acc;
}

/** run[from, to) combined by one associative set operator, as a balanced tree (left half the larger). */
function combine(op: SetOperator, all: boolean, run: SelectStmt[], from: number, to: number): SelectStmt {
  if (to - from === 1) return run[from];
  const mid = from + Math.ceil((to - from) / 2);
  return { ...emptySelect(), setOp: { op, all, left: combine(op, all, run, from, mid), right: combine(op, all, run, mid, to) } };
}

function groupBy(list: Node[]): Expr[] {
  checkTerms(list.length, 'A GROUP BY list');
  return list.map(expr);
}

export function selectStmt(x: Node): SelectStmt {
  const withs = x.with ? commonTableExprs(x.with as Node[]) : undefined;
  if (x._next || (x.from ?? []).some(isSetOpJoin)) {
    const { members, ops, orderby, limit } = setOpMembers(x);
    const stmt = setOpTree(members.map(selectStmt), ops.map(setOperator));
    stmt.orderBy = orderBy(orderby);
    applyLimit(stmt, limit);
    if (withs) stmt.with = withs;
    return stmt;
  }
  if (x.into && x.into.position) unsupported('SELECT … INTO');
  return withWindowClause(x.window, () => selectBlock(x, withs));
}

/** One SELECT block (no set operation); its OVER clauses may name its WINDOW clause's windows. */
function selectBlock(x: Node, withs: CommonTableExpr[] | undefined): SelectStmt {
  const stmt: SelectStmt = {
    kind: 'select',
    distinct: distinctKind(x.distinct) === 'DISTINCT',
    items: selectItems(x.columns),
    from: fromItems(x.from, fromConverter),
    groupBy: x.groupby ? groupBy(Array.isArray(x.groupby) ? x.groupby : x.groupby.columns ?? []) : [],
    orderBy: orderBy(x.orderby),
  };
  if (String(x.distinct?.type ?? '').toUpperCase() === 'DISTINCT ON') stmt.distinctOn = (x.distinct.columns as Node[]).map((c) => expr(c.expr));
  if (withs) stmt.with = withs;
  if (x.where) stmt.where = expr(x.where);
  if (x.having) stmt.having = expr(x.having);
  applyLimit(stmt, x.limit);
  return stmt;
}

/**
 * How deep a converted statement nests: the most AST nodes (expressions and
 * statements, anything with a `kind`) on one path from the root. Iterative,
 * so it can measure what a recursive pass could not.
 */
export function treeDepth(root: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [node, above] = stack.pop()!;
    if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node)) continue;
    if (Array.isArray(node)) {
      for (const x of node) stack.push([x, above]);
      continue;
    }
    const depth = typeof (node as { kind?: unknown }).kind === 'string' ? above + 1 : above;
    if (depth > max) max = depth;
    for (const v of Object.values(node)) if (v !== null && typeof v === 'object') stack.push([v, depth]);
  }
  return max;
}
