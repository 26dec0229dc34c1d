/**
 * Window functions in node-sql-parser's AST (`f(…) OVER (…)`, `OVER w`,
 * `WINDOW w AS (…)`) converted to our `window` expression. Frames reach us
 * as markers rewrite.ts put in their place (window-frame.ts).
 */
import { KalamError } from '../core/errors';
import type { Expr, OrderItem, WindowFrame, WindowSpec } from './ast';
import { WINDOW_FUNCTION_PREFIX } from './window-names';

/* node-sql-parser's AST is untyped JSON; we read it structurally. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Node = any;

/** What the conversion of the rest of an expression gives this module (convert.ts). */
export interface ExprConverter {
  expr(x: Node): Expr;
  orderBy(list: Node[] | null): OrderItem[];
}

/** Functions that only exist over a window. */
export const WINDOW_ONLY_FUNCTIONS = new Set([
  'ROW_NUMBER', 'RANK', 'DENSE_RANK', 'PERCENT_RANK', 'CUME_DIST', 'NTILE',
  'LAG', 'LEAD', 'FIRST_VALUE', 'LAST_VALUE', 'NTH_VALUE',
]);

/** Aggregates that may run over a window. */
export const WINDOW_AGGREGATES = new Set(['COUNT', 'SUM', 'AVG', 'MIN', 'MAX']);

/** The frames of the statement being converted, by marker number (set by `withWindowFrames`). */
let frames: readonly WindowFrame[] = [];
/** The WINDOW clauses of the SELECTs being converted, innermost last; bounded by the nesting. */
const named: Map<string, Node>[] = [];

/** Runs `fn` (a conversion) with `list` as the frames rewrite.ts took out of its text. */
export function withWindowFrames<T>(list: readonly WindowFrame[], fn: () => T): T {
  const before = frames;
  frames = list;
  try {
    return fn();
  } finally {
    frames = before;
  }
}

/** Runs `fn` (a SELECT's conversion) with its `WINDOW name AS (…)` definitions in reach of its OVER clauses. */
export function withWindowClause<T>(clause: Node, fn: () => T): T {
  const defs = new Map<string, Node>();
  for (const w of (clause?.expr ?? []) as Node[]) {
    const name = String(w.name).toLowerCase();
    if (defs.has(name)) throw new KalamError('INVALID_SQL', `Window '${name}' is defined more than once: give each window a different name`);
    defs.set(name, w);
  }
  named.push(defs);
  try {
    return fn();
  } finally {
    named.pop();
  }
}

/** `NTILE(KALAMLITE_WINDOW_<name>())`, rewrite.ts's spelling of a window function the parser cannot read: `<name>`. */
export function markedWindowFunction(name: string, args: readonly Expr[]): string | undefined {
  const inner = args.length === 1 && args[0].kind === 'call' ? args[0].name : '';
  return name === 'NTILE' && inner.startsWith(WINDOW_FUNCTION_PREFIX) ? inner.slice(WINDOW_FUNCTION_PREFIX.length) : undefined;
}

/** An aggregate or window function call with an OVER clause. */
export function windowCall(x: Node, name: string, args: Expr[], star: boolean, distinct: boolean, c: ExprConverter): Expr {
  const marked = markedWindowFunction(name, args);
  if (marked) return windowCall(x, marked, [], false, false, c);
  if (!WINDOW_ONLY_FUNCTIONS.has(name) && !WINDOW_AGGREGATES.has(name)) {
    throw new KalamError(
      'UNSUPPORTED',
      `${name.toLowerCase()}() cannot be used with OVER: the window functions are row_number, rank, dense_rank, percent_rank, cume_dist, ntile, lag, lead, first_value, last_value, nth_value and the aggregates count, sum, avg, min, max`,
    );
  }
  if (distinct) throw new KalamError('UNSUPPORTED', 'DISTINCT is not implemented for window functions: aggregate the distinct values in a subquery first');
  if (x.consider_nulls) throw new KalamError('UNSUPPORTED', `${String(x.consider_nulls).toUpperCase()} is not supported: filter the NULLs out first`);
  return { kind: 'window', name, args, star, over: windowSpec(x.over, c) };
}

/** A window function written without OVER. */
export function missingOver(name: string): never {
  throw new KalamError('INVALID_SQL', `Window function ${name.toLowerCase()}() requires an OVER clause: ${name.toLowerCase()}() OVER (ORDER BY …)`);
}

function windowSpec(over: Node, c: ExprConverter): WindowSpec {
  const spec = over?.as_window_specification;
  if (typeof spec === 'string') {
    const name = spec.toLowerCase();
    const def = named[named.length - 1]?.get(name);
    if (!def) throw new KalamError('INVALID_SQL', `Window '${name}' does not exist: define it with WINDOW ${name} AS (…) after the query's HAVING, or write OVER (…) in place`);
    return windowSpec(def, c);
  }
  const s = spec?.window_specification;
  if (!s) throw new KalamError('PARSE_ERROR', 'Expected a window specification: OVER (PARTITION BY … ORDER BY …) or OVER name');
  if (s.name) throw new KalamError('UNSUPPORTED', 'A window built on a named window is not supported yet: repeat its PARTITION BY and ORDER BY');
  const out: WindowSpec = {
    partitionBy: ((s.partitionby ?? []) as Node[]).map((p) => c.expr(p.expr ?? p)),
    orderBy: c.orderBy(s.orderby ?? null),
  };
  if (s.window_frame_clause) out.frame = frameOf(s.window_frame_clause);
  return out;
}

/** The frame a marker `ROWS k PRECEDING` stands for. */
function frameOf(clause: Node): WindowFrame {
  const m = clause?.type === 'rows' ? /^(\d+) PRECEDING$/i.exec(String(clause.expr?.value ?? '')) : null;
  const frame = m ? frames[Number(m[1])] : undefined;
  if (!frame) throw new KalamError('PARSE_ERROR', 'This window frame could not be read: write ROWS|RANGE|GROUPS BETWEEN start AND end');
  return frame;
}
