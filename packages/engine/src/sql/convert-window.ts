/**
 * Window functions in node-sql-parser's AST (`f(…) OVER (…)`, `OVER w`,
 * `WINDOW w AS (…)`) converted to our `window` expression. Frames reach us
 * as markers rewrite.ts put in their place (window-frame.ts).
 */
import { KalamError } from '../core/errors';
import type { Expr, OrderItem, WindowFrame } from './ast';
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

/** The window conversion's own part (sql/window-convert.ts), in the window functions' chunk: registered as it loads. */
type WindowCaller = (x: Node, name: string, args: Expr[], star: boolean, distinct: boolean, c: ExprConverter, scope: WindowScope) => Expr;
let caller: WindowCaller | undefined;

export function registerWindowCall(f: WindowCaller): void {
  caller = f;
}

/** What a window call reads of the statement being converted: its frames, and the WINDOW clauses in reach. */
export interface WindowScope {
  frames: readonly WindowFrame[];
  named: readonly Map<string, Node>[];
}

/** An aggregate or window function call with an OVER clause (the text says OVER, so the window chunk is loaded). */
export function windowCall(x: Node, name: string, args: Expr[], star: boolean, distinct: boolean, c: ExprConverter): Expr {
  if (!caller) throw new KalamError('UNSUPPORTED', 'Window functions are not loaded: this statement reached conversion before they were loaded (execute/sql-extensions.ts). This is a bug in kalamlite; please report it with the statement');
  return caller(x, name, args, star, distinct, c, { frames, named });
}

/** A window function written without OVER. */
export function missingOver(name: string): never {
  throw new KalamError('INVALID_SQL', `Window function ${name.toLowerCase()}() requires an OVER clause: ${name.toLowerCase()}() OVER (ORDER BY …)`);
}
