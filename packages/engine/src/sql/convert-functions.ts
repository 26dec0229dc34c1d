/**
 * The keyword forms of a few SQL functions, as node-sql-parser hands them
 * over (the keywords arrive as `origin` nodes among the arguments, or as a
 * `separator` list), turned into plain calls:
 * - `SUBSTRING(s FROM a FOR b)`, `SUBSTRING(s FROM a)`, `SUBSTRING(s FOR b)`
 *   → SUBSTRING(s, a[, b]) (FOR alone starts at 1);
 * - `POSITION(a IN b)` → POSITION(a, b);
 * - `TRIM([BOTH | LEADING | TRAILING] [chars] FROM s)` → BTRIM / LTRIM /
 *   RTRIM(s[, chars]).
 */
import { KalamError } from '../core/errors';
import type { Expr } from './ast';

/* node-sql-parser's AST is untyped JSON; we read it structurally. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Node = any;

const keyword = (n: Node): string | undefined => (n?.type === 'origin' ? String(n.value).toUpperCase() : undefined);

/** The call for a keyword form of `name`, or undefined when `x` is an ordinary call. */
export function keywordFormCall(name: string, x: Node, expr: (n: Node) => Expr): { name: string; args: Expr[] } | undefined {
  const raw: Node[] = x.args?.type === 'expr_list' ? (x.args.value as Node[]) : [];
  if (name === 'SUBSTRING' && Array.isArray(x.separator)) {
    const seps = (x.separator as Node[]).map(keyword);
    const args = raw.map(expr);
    if (seps.length === 1 && seps[0] === 'FOR' && args.length === 2) return { name, args: [args[0], { kind: 'literal', value: 1 }, args[1]] };
    return { name, args };
  }
  if (!raw.some((n) => keyword(n) !== undefined)) return undefined;
  if (name === 'POSITION') {
    if (raw.length !== 3 || keyword(raw[1]) !== 'IN') throw new KalamError('PARSE_ERROR', 'POSITION is written POSITION(substring IN string)');
    return { name, args: [expr(raw[0]), expr(raw[2])] };
  }
  if (name === 'TRIM') {
    let k = 0;
    const side = keyword(raw[0]);
    let fn = 'BTRIM';
    if (side === 'BOTH' || side === 'LEADING' || side === 'TRAILING') {
      fn = side === 'LEADING' ? 'LTRIM' : side === 'TRAILING' ? 'RTRIM' : 'BTRIM';
      k = 1;
    }
    const from = raw.findIndex((n, i) => i >= k && keyword(n) === 'FROM');
    const chars = from > k ? raw.slice(k, from) : [];
    const rest = from === -1 ? raw.slice(k) : raw.slice(from + 1);
    if (rest.length !== 1 || chars.length > 1 || rest.some((n) => keyword(n) !== undefined)) {
      throw new KalamError('PARSE_ERROR', "TRIM is written TRIM([BOTH | LEADING | TRAILING] [characters] FROM string), e.g. TRIM(BOTH 'x' FROM s)");
    }
    return { name: fn, args: chars.length === 1 ? [expr(rest[0]), expr(chars[0])] : [expr(rest[0])] };
  }
  return undefined;
}
