/**
 * Walks over expressions the planners share: which columns, subqueries and
 * aggregates an expression mentions, its top-level AND terms, and whether it
 * is constant for one run of a query.
 */
import type { Expr } from '../sql/ast';
import { AGGREGATES } from './functions';
import type { Scope } from './scope';

/** Does the expression mention column `name` anywhere? */
export function mentionsColumn(e: Expr | undefined, name: string): boolean {
  if (!e) return false;
  let found = false;
  walk(e, (x) => { if (x.kind === 'column' && x.name === name) found = true; });
  return found;
}

export function walk(e: Expr, visit: (x: Expr) => void): void {
  visit(e);
  switch (e.kind) {
    case 'unary': walk(e.arg, visit); break;
    case 'binary': walk(e.left, visit); walk(e.right, visit); break;
    case 'like': walk(e.arg, visit); walk(e.pattern, visit); if (e.escape) walk(e.escape, visit); break;
    case 'in': walk(e.arg, visit); e.list.forEach((x) => walk(x, visit)); break;
    case 'between': walk(e.arg, visit); walk(e.low, visit); walk(e.high, visit); break;
    case 'isNull': walk(e.arg, visit); break;
    case 'case':
      if (e.operand) walk(e.operand, visit);
      e.whens.forEach((w) => { walk(w.when, visit); walk(w.then, visit); });
      if (e.else) walk(e.else, visit);
      break;
    case 'call':
      e.args.forEach((x) => walk(x, visit));
      if (e.filter) walk(e.filter, visit);
      e.orderBy?.forEach((o) => walk(o.expr, visit));
      break;
    case 'cast': walk(e.arg, visit); break;
    // A subquery's own expressions belong to its scope: only IN's left side is ours.
    case 'inSubquery': walk(e.arg, visit); break;
    case 'window':
      e.args.forEach((x) => walk(x, visit));
      e.over.partitionBy.forEach((x) => walk(x, visit));
      e.over.orderBy.forEach((o) => walk(o.expr, visit));
      break;
    default: break;
  }
}

export function conjuncts(e: Expr | undefined): Expr[] {
  if (!e) return [];
  if (e.kind === 'binary' && e.op === 'AND') return [...conjuncts(e.left), ...conjuncts(e.right)];
  return [e];
}

export const andAll = (list: Expr[]): Expr | undefined =>
  list.length === 0 ? undefined : list.reduce((a, b) => ({ kind: 'binary', op: 'AND', left: a, right: b }));

/** Subqueries count as columns here: they are never constants. */
export const hasColumns = (e: Expr) => {
  let found = false;
  walk(e, (x) => { if (x.kind === 'column' || x.kind === 'star' || isSubquery(x)) found = true; });
  return found;
};

export const isSubquery = (e: Expr) => e.kind === 'subquery' || e.kind === 'exists' || e.kind === 'inSubquery';

/** Constant for one run of this query: no subquery, and every column belongs to an enclosing query. */
export function isRowConstant(e: Expr, scope: Scope): boolean {
  let constant = true;
  walk(e, (x) => {
    if (x.kind === 'star' || isSubquery(x)) constant = false;
    else if (x.kind === 'column') {
      try {
        if (scope.resolveOuter(x.table, x.name).depth === 0) constant = false;
      } catch {
        constant = false;
      }
    }
  });
  return constant;
}

export const isAggregateCall = (e: Expr): e is Extract<Expr, { kind: 'call' }> => e.kind === 'call' && AGGREGATES.has(e.name);

export function containsAggregate(e: Expr | undefined): boolean {
  if (!e) return false;
  let found = false;
  walk(e, (x) => { if (isAggregateCall(x)) found = true; });
  return found;
}

/** The slot column `e` resolves to in `scope`, or -1 when it does not resolve there. */
export function safeResolve(scope: Scope, e: Extract<Expr, { kind: 'column' }>): number {
  try {
    return scope.resolve(e.table, e.name);
  } catch {
    return -1;
  }
}
