/**
 * Plan descriptions for EXPLAIN. While a statement is planned for EXPLAIN
 * (`recordPlan`), the planners attach a `PlanNode` to each row source they
 * build (`describe`): what it does, over which relation and by which access
 * path, and its inputs. With ANALYZE each described source also counts the
 * rows it produces and the time spent producing them. Outside EXPLAIN,
 * `describe` returns its source untouched: a plan in the plan cache
 * carries nothing of this.
 */
import type { ExecContext, Tuple } from '../exec/context';
import { PAUSE } from '../exec/pace';
import type { Expr, FrameBound, WindowSpec } from '../sql/ast';
import type { RelationSource } from './source';

/** How a scan reads its relation. */
export type Access = 'pk lookup' | 'pk range' | 'pk order' | 'full scan' | 'index scan';

export interface PlanNode {
  operator: string;
  detail: string;
  children: PlanNode[];
  /** Scans: the relation read and how. */
  source?: RelationSource;
  access?: Access;
  /** Rows the node reads at most, where the plan knows it (an IN list's keys); EXPLAIN's estimate. */
  estimate?: number;
  /** With ANALYZE, after the run: rows produced, times the source was started, and milliseconds inside it (its inputs included). */
  actual?: { rows: number; loops: number; ms: number };
  /**
   * A plan chosen per execution (join order from row estimates): EXPLAIN
   * calls this with the statement's context before reading the node, and
   * the node becomes the plan chosen for that context.
   */
  resolve?: (ctx: ExecContext) => void;
}

type Source = (ctx: ExecContext) => Iterable<Tuple>;

let recording: { analyze: boolean } | undefined;
const NODE = Symbol('planNode');

/** Plans with `plan()` while recording descriptions (and, with `analyze`, counting). */
export function recordPlan<T>(analyze: boolean, plan: () => T): T {
  const previous = recording;
  recording = { analyze };
  try {
    return plan();
  } finally {
    recording = previous;
  }
}

/** The node attached to a row source, if it was planned for EXPLAIN. */
export function nodeOf(source: unknown): PlanNode | undefined {
  return source && typeof source === 'function' ? (source as { [NODE]?: PlanNode })[NODE] : undefined;
}

/** The child nodes of these sources that have one. */
export const nodesOf = (...sources: unknown[]): PlanNode[] => sources.map(nodeOf).filter((n): n is PlanNode => n !== undefined);

/**
 * Attaches `node` to `source` when planning for EXPLAIN (with ANALYZE, a
 * counting wrapper carries it); otherwise returns `source` as it is.
 */
export function describe<S extends Source>(source: S, node: () => PlanNode): S {
  if (!recording) return source;
  const n = node();
  let out: Source = source;
  if (recording.analyze) {
    const actual = (n.actual = { rows: 0, loops: 0, ms: 0 });
    out = (ctx) => counted(source, ctx, actual);
    // Keep what callers read off the source (an ordered scan's `ordered`).
    Object.assign(out, source);
  }
  (out as unknown as { [NODE]: PlanNode })[NODE] = n;
  return out as S;
}

/**
 * Marks `source` as choosing its plan per execution: when planning for
 * EXPLAIN, it gets a node that `resolve(ctx)` turns into the chosen plan's
 * node; `build` wraps the building of a chosen plan so that, for EXPLAIN,
 * its sources are described (and with ANALYZE, counted) too.
 */
export function describeChosen<S extends Source>(source: S, chosen: (ctx: ExecContext) => unknown): { source: S; build<T>(make: () => T): T } {
  const rec = recording;
  if (!rec) return { source, build: (make) => make() };
  const n: PlanNode = {
    operator: '',
    detail: '',
    children: [],
    resolve: (ctx) => {
      const node = nodeOf(chosen(ctx));
      if (node) Object.assign(n, node, { resolve: node.resolve });
    },
  };
  (source as unknown as { [NODE]: PlanNode })[NODE] = n;
  return { source, build: (make) => recordPlan(rec.analyze, make) };
}

function* counted(source: Source, ctx: ExecContext, actual: NonNullable<PlanNode['actual']>): Generator<Tuple> {
  actual.loops++;
  let t = performance.now();
  const it = source(ctx)[Symbol.iterator]();
  for (;;) {
    const n = it.next();
    actual.ms += performance.now() - t;
    if (n.done) return;
    if (n.value !== PAUSE) actual.rows++;
    yield n.value;
    t = performance.now();
  }
}

const BINARY_TEXT = new Set(['=', '<>', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', '||', 'AND', 'OR']);

/** An expression as SQL-like text for EXPLAIN (parameters as $n, lifted literals included). */
export function exprText(e: Expr | undefined): string {
  if (!e) return '';
  switch (e.kind) {
    case 'literal': return e.value === null ? 'NULL' : typeof e.value === 'string' ? `'${e.value.replace(/'/g, "''")}'` : typeof e.value === 'object' ? '…' : String(e.value);
    case 'param': return `$${e.index + 1}`;
    case 'column': return e.table ? `${e.table}.${e.name}` : e.name;
    case 'star': return e.table ? `${e.table}.*` : '*';
    case 'unary': return e.op === 'NOT' ? `NOT ${exprText(e.arg)}` : `${e.op}${exprText(e.arg)}`;
    case 'binary': return BINARY_TEXT.has(e.op) ? `(${exprText(e.left)} ${e.op} ${exprText(e.right)})` : `(${exprText(e.left)} ${String(e.op)} ${exprText(e.right)})`;
    case 'like': return `${exprText(e.arg)}${e.negated ? ' NOT' : ''} ${e.caseInsensitive ? 'ILIKE' : 'LIKE'} ${exprText(e.pattern)}`;
    case 'in': return `${exprText(e.arg)}${e.negated ? ' NOT' : ''} IN (${e.list.map(exprText).join(', ')})`;
    case 'between': return `${exprText(e.arg)}${e.negated ? ' NOT' : ''} BETWEEN ${exprText(e.low)} AND ${exprText(e.high)}`;
    case 'isNull': return `${exprText(e.arg)} IS${e.negated ? ' NOT' : ''} NULL`;
    case 'case': return 'CASE …';
    case 'call':
      if (e.name.endsWith(' DISTINCT FROM')) return `${exprText(e.args[0])} ${e.name} ${exprText(e.args[1])}`;
      return `${e.name}(${e.star ? '*' : `${e.distinct ? 'DISTINCT ' : ''}${e.args.map(exprText).join(', ')}`})`;
    case 'cast': return `CAST(${exprText(e.arg)} AS ${e.type})`;
    case 'default': return 'DEFAULT';
    case 'subquery': return '(SELECT …)';
    case 'exists': return 'EXISTS (SELECT …)';
    case 'inSubquery': return `${exprText(e.arg)}${e.negated ? ' NOT' : ''} IN (SELECT …)`;
    case 'window': return `${e.name}(${e.star ? '*' : e.args.map(exprText).join(', ')}) OVER (${windowText(e.over)})`;
  }
}

/** A window specification as SQL-like text for EXPLAIN. */
function windowText(w: WindowSpec): string {
  const bound = (b: FrameBound): string => {
    switch (b.kind) {
      case 'unboundedPreceding': return 'UNBOUNDED PRECEDING';
      case 'preceding': return `${exprText(b.offset)} PRECEDING`;
      case 'currentRow': return 'CURRENT ROW';
      case 'following': return `${exprText(b.offset)} FOLLOWING`;
      case 'unboundedFollowing': return 'UNBOUNDED FOLLOWING';
    }
  };
  return [
    w.partitionBy.length ? `PARTITION BY ${w.partitionBy.map(exprText).join(', ')}` : '',
    w.orderBy.length ? `ORDER BY ${w.orderBy.map((o) => exprText(o.expr) + (o.descending ? ' DESC' : '')).join(', ')}` : '',
    w.frame ? `${w.frame.unit} BETWEEN ${bound(w.frame.start)} AND ${bound(w.frame.end)}` : '',
  ].filter(Boolean).join(' ');
}
