/**
 * A window function call's conversion (`f(…) OVER (…)`, `OVER w`): the
 * window specification, its frame (a marker rewrite.ts put in its place,
 * window-frame.ts) and the checks. In the window functions' chunk
 * (execute/sql-extensions.ts), registered with convert-window.ts, which
 * keeps the statement's frames and WINDOW clauses.
 */
import { KalamError } from '../core/errors';
import type { Expr, WindowFrame, WindowSpec } from './ast';
import { markedWindowFunction, WINDOW_ONLY_FUNCTIONS, type ExprConverter, type WindowScope } from './convert-window';

/* node-sql-parser's AST is untyped JSON; we read it structurally. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Node = any;

/** Aggregates that may run over a window. */
const WINDOW_AGGREGATES = new Set(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX']);

/** An aggregate or window function call with an OVER clause. */
export function windowCall(x: Node, name: string, args: Expr[], star: boolean, distinct: boolean, c: ExprConverter, scope: WindowScope): Expr {
  const marked = markedWindowFunction(name, args);
  if (marked) return windowCall(x, marked, [], false, false, c, scope);
  if (!WINDOW_ONLY_FUNCTIONS.has(name) && !WINDOW_AGGREGATES.has(name)) {
    throw new KalamError(
      'UNSUPPORTED',
      `${name.toLowerCase()}() cannot be used with OVER: the window functions are row_number, rank, dense_rank, percent_rank, cume_dist, ntile, lag, lead, first_value, last_value, nth_value and the aggregates count, sum, avg, min, max`,
    );
  }
  if (distinct) throw new KalamError('UNSUPPORTED', 'DISTINCT is not implemented for window functions: aggregate the distinct values in a subquery first');
  if (x.consider_nulls) throw new KalamError('UNSUPPORTED', `${String(x.consider_nulls).toUpperCase()} is not supported: filter the NULLs out first`);
  return { kind: 'window', name, args, star, over: windowSpec(x.over, c, scope) };
}

function windowSpec(over: Node, c: ExprConverter, scope: WindowScope): WindowSpec {
  const spec = over?.as_window_specification;
  if (typeof spec === 'string') {
    const name = spec.toLowerCase();
    const def = scope.named[scope.named.length - 1]?.get(name);
    if (!def) throw new KalamError('INVALID_SQL', `Window '${name}' does not exist: define it with WINDOW ${name} AS (…) after the query's HAVING, or write OVER (…) in place`);
    return windowSpec(def, c, scope);
  }
  const s = spec?.window_specification;
  if (!s) throw new KalamError('PARSE_ERROR', 'Expected a window specification: OVER (PARTITION BY … ORDER BY …) or OVER name');
  if (s.name) throw new KalamError('UNSUPPORTED', 'A window built on a named window is not supported yet: repeat its PARTITION BY and ORDER BY');
  const out: WindowSpec = {
    partitionBy: ((s.partitionby ?? []) as Node[]).map((p) => c.expr(p.expr ?? p)),
    orderBy: c.orderBy(s.orderby ?? null),
  };
  if (s.window_frame_clause) out.frame = frameOf(s.window_frame_clause, scope.frames);
  return out;
}

/** The frame a marker `ROWS k PRECEDING` stands for. */
function frameOf(clause: Node, frames: readonly WindowFrame[]): WindowFrame {
  const m = clause?.type === 'rows' ? /^(\d+) PRECEDING$/i.exec(String(clause.expr?.value ?? '')) : null;
  const frame = m ? frames[Number(m[1])] : undefined;
  if (!frame) throw new KalamError('PARSE_ERROR', 'This window frame could not be read: write ROWS|RANGE|GROUPS BETWEEN start AND end');
  return frame;
}
