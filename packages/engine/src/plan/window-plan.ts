/**
 * Planning of window functions in one SELECT block (block.ts): which calls
 * are valid, and the Window operator
 * (exec/window-fn.ts) between the block's rows (after WHERE, GROUP BY and
 * HAVING) and its projection, DISTINCT, ORDER BY and LIMIT. Functions over
 * the same PARTITION BY and ORDER BY share one sort. A SQL extension: loaded
 * on first use (execute/sql-extensions.ts), it registers with
 * window-check.ts; nothing else may import it but as types.
 */
import { KalamError } from '../core/errors';
import { stableJson } from '../core/values';
import type { Evaluator } from '../exec/context';
import type { SortKey } from '../exec/operators';
import { DEFAULT_FRAME, windowRows, type FrameSpec, type WindowFnName, type WindowGroup } from '../exec/window-fn';
import type { Expr, FrameBound } from '../sql/ast';
import { compileExpr, type CompileHook } from './compile';
import { describe, exprText, nodesOf } from './explain';
import { walk } from './expr-walk';
import type { RowSource } from './scan-plan';

/** The frame and WINDOW-clause rewriting travels with the window functions (sql/rewrite.ts registerWindowRewrites). */
export { findFrames, findWindowClauseMoves } from '../sql/window-frame';
export { windowCall } from '../sql/window-convert';
import type { Scope, ScopeColumn } from './scope';

type WindowExpr = Extract<Expr, { kind: 'window' }>;

/** Arguments each function takes: [fewest, most]. */
const ARITY: Record<WindowFnName, [number, number]> = {
  ROW_NUMBER: [0, 0], RANK: [0, 0], DENSE_RANK: [0, 0], PERCENT_RANK: [0, 0], CUME_DIST: [0, 0],
  NTILE: [1, 1], LAG: [1, 3], LEAD: [1, 3], FIRST_VALUE: [1, 1], LAST_VALUE: [1, 1], NTH_VALUE: [2, 2],
  COUNT: [1, 1], SUM: [1, 1], AVG: [1, 1], MIN: [1, 1], MAX: [1, 1],
};

export interface PlannedWindows {
  /** The block's rows with each window function's value appended. */
  wrap(input: RowSource): RowSource;
  /** Reads a window function's value from its appended slot; other expressions go to the hook before. */
  hook: CompileHook;
  /** The scope of the rows `wrap` returns. */
  scope: Scope;
}

/**
 * The window functions in `exprs` (the select list and ORDER BY), compiled
 * in `scope` over the rows that reach projection (`hook` reads group keys
 * and aggregates of a grouped query); undefined when there are none.
 */
export function planWindows(exprs: readonly Expr[], scope: Scope, hook: CompileHook | undefined): PlannedWindows | undefined {
  const found: WindowExpr[] = [];
  // Planning data: window text → its slot among the appended values.
  const slots = new Map<string, number>();
  for (const e of exprs) {
    walk(e, (x) => {
      if (x.kind !== 'window') return;
      const key = stableJson(x);
      if (slots.has(key)) return;
      slots.set(key, found.length);
      found.push(x);
    });
  }
  if (found.length === 0) return undefined;
  const c = (x: Expr): Evaluator => compileExpr(x, scope, hook);
  const groups = new Map<string, WindowGroup>();
  found.forEach((w, slot) => {
    checkCall(w);
    const specKey = stableJson({ p: w.over.partitionBy, o: w.over.orderBy });
    let g = groups.get(specKey);
    if (!g) {
      const orderBy: SortKey[] = w.over.orderBy.map((o) => ({ eval: c(o.expr), descending: o.descending, nullsFirst: o.nullsFirst }));
      g = { partitionBy: w.over.partitionBy.map(c), orderBy, fns: [] };
      groups.set(specKey, g);
    }
    g.fns.push({ name: w.name as WindowFnName, args: w.args.map(c), frame: frameSpec(w, scope), slot });
  });
  const count = found.length;
  const list = [...groups.values()];
  const extra = found.map((): ScopeColumn => ({ relation: '', name: '', type: 'UNKNOWN', hidden: true }));
  return {
    wrap: (input) => describe((ctx) => windowRows(input(ctx), list, count, ctx), () => ({
      operator: 'Window',
      detail: found.map(exprText).join(', '),
      children: nodesOf(input),
    })),
    hook: (e) => {
      if (e.kind === 'window') {
        const at = slots.get(stableJson(e))!;
        return (r) => r[r.length - count + at];
      }
      return hook?.(e);
    },
    scope: scope.withColumns([...scope.columns, ...extra]),
  };
}

function checkCall(w: WindowExpr): void {
  const name = w.name.toLowerCase();
  const arity = ARITY[w.name as WindowFnName];
  if (!arity) throw new KalamError('UNSUPPORTED', `${name}() cannot be used with OVER`);
  if (w.star && w.name !== 'COUNT') throw new KalamError('INVALID_SQL', `${name}(*) is not valid: only count(*)`);
  const n = w.star ? 1 : w.args.length;
  if (n < arity[0] || n > arity[1]) {
    const takes = arity[0] === arity[1] ? `${arity[0]} argument(s)` : `${arity[0]} to ${arity[1]} arguments`;
    throw new KalamError('INVALID_SQL', `${name}() takes ${takes}, got ${n}`);
  }
  const f = w.over.frame;
  if (f?.unit === 'GROUPS' && w.over.orderBy.length === 0) throw new KalamError('INVALID_SQL', 'GROUPS mode requires an ORDER BY clause in the window');
  const hasOffset = (b: FrameBound) => b.kind === 'preceding' || b.kind === 'following';
  if (f?.unit === 'RANGE' && (hasOffset(f.start) || hasOffset(f.end)) && w.over.orderBy.length !== 1) {
    throw new KalamError('INVALID_SQL', 'RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column in the window');
  }
}

function frameSpec(w: WindowExpr, scope: Scope): FrameSpec {
  const f = w.over.frame;
  if (!f) return DEFAULT_FRAME;
  const bound = (b: FrameBound): FrameSpec['start'] =>
    b.kind === 'preceding' || b.kind === 'following' ? { kind: b.kind, offset: compileExpr(b.offset, scope) } : { kind: b.kind };
  return { unit: f.unit, start: bound(f.start), end: bound(f.end) };
}
