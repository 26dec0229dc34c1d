/**
 * `SELECT … FROM t [WHERE …] ORDER BY <distance>(col, <constant>) LIMIT k`
 * through t's vector index on col (execute/vector-index.ts): the metric's
 * function ascending (`cosine_distance` for COSINE, `l2_distance` for L2)
 * or `inner_product(…) DESC` for DOT, the other argument a constant or a
 * parameter.
 *
 * Per execution: the partition's graph gives the primary keys of the k
 * nearest (with a WHERE, `4 · max(k, 16)`: over-fetch), looking at `ef =
 * max(vector_index_ef, 2·count)` candidates (the setting, 64 by default);
 * each row is read by its key and filtered by the WHERE, and the ordinary
 * sort (the caller's) orders the survivors by the exact distance, so the
 * answer is the exact one whenever the graph's candidates hold the true top
 * k. Without a WHERE no more than k are read: the graph ranks by the same
 * distance, so a candidate past the k-th could only enter the answer
 * through a tie, and each one more costs a row page read when the rows are
 * cold. The exact path runs instead when the
 * graph is not built yet (its build is requested), inside a transaction or
 * group with staged rows, when the query vector is not a vector of the
 * column's dimension (the function's own error then), and when fewer than
 * k rows survive the WHERE while the partition holds more.
 */
import type { TableDef, VectorIndexDef } from '../core/schema';
import { partitionOf } from '../core/schema';
import type { ExecContext, Tuple } from '../exec/context';
import type { Expr } from '../sql/ast';
import { compileExpr } from './compile';
import { describe, exprText, nodesOf } from './explain';
import { isRowConstant, safeResolve } from './expr-walk';
import { filterOne } from './scan-plan';
import type { RowSource } from './scan-plan';
import { vectorPlanning, type VectorPlanRequest, type VectorSearcher } from './vector-plan';
import { pkStatsKey } from '../storage/cold/cold-tier';
import type { Value } from '../core/types';

/** The least candidates asked of the graph when a WHERE filters them. */
const MIN_CANDIDATES = 16;
/** Candidates per wanted row when a WHERE filters them. */
const OVERFETCH = 4;

const METRIC_OF: Record<string, { metric: VectorIndexDef['metric']; descending: boolean }> = {
  cosine_distance: { metric: 'cosine', descending: false },
  l2_distance: { metric: 'l2', descending: false },
  inner_product: { metric: 'dot', descending: true },
};

export function planVectorScan(req: VectorPlanRequest, searcher: VectorSearcher): RowSource | undefined {
  const { src, scope, order, where, exact } = req;
  const t = src.table as TableDef;
  if (order.kind !== 'call' || order.args.length !== 2 || t.pk < 0 || !src.lookup) return undefined;
  const fn = METRIC_OF[order.name.toLowerCase()];
  if (!fn || fn.descending !== req.descending) return undefined;
  let column: Expr | undefined;
  let constant: Expr | undefined;
  for (const [a, b] of [[order.args[0], order.args[1]], [order.args[1], order.args[0]]] as const) {
    if (!column && a.kind === 'column' && isRowConstant(b, scope)) {
      column = a;
      constant = b;
    }
  }
  if (!column || !constant) return undefined;
  const slot = column.kind === 'column' ? safeResolve(scope, column) : undefined;
  const col = slot !== undefined && slot >= 0 ? t.columns[slot] : undefined;
  const vi = col && t.vectorIndexes?.find((x) => x.columnId === col.id && x.metric === fn.metric);
  if (!col || !vi) return undefined;
  const queryEval = compileExpr(constant, scope);
  const pred = where ? compileExpr(where, scope) : undefined;
  const lookup = src.lookup.bind(src);
  const dim = col.precision ?? 0;
  /** Candidates found while the execution's cold reads were prepared, by those reads (then only their row groups are loaded). */
  const preparedKeys = new WeakMap<object, Value[]>();
  const pkKey = pkStatsKey(t);
  if (!where && pkKey !== undefined) {
    vectorPlanning.current?.push({
      tableId: t.id,
      narrow(user, params) {
        const partition = partitionOf(t, user);
        if (!searcher.isBuilt(t, vi, partition)) return undefined;
        const raw = constant!.kind === 'param' ? params[constant!.index] : constant!.kind === 'literal' ? constant!.value : undefined;
        const query = queryVector(raw, dim);
        let keep: number | undefined;
        try {
          keep = req.keep({ params } as unknown as ExecContext);
        } catch {
          return undefined;
        }
        if (!query || keep === undefined || keep <= 0) return undefined;
        const count = candidateCount(keep, false);
        const keys = searcher.search(t, vi, partition, query, count, Math.max(searcher.ef, 2 * count));
        if (!keys) return undefined;
        return { bounds: [{ key: pkKey, isPk: true, op: 'in', values: keys }], prepared: (reads) => preparedKeys.set(reads, keys) };
      },
    });
  }
  const rows = (ctx: ExecContext): Iterable<Tuple> => {
    const keep = req.keep(ctx);
    const prepared = ctx.cold ? preparedKeys.get(ctx.cold) : undefined;
    // Only the candidates' cold row groups were loaded: they are the answer's rows (no exact scan could run).
    if (prepared) return candidates(ctx, prepared);
    if (keep === undefined || keep <= 0 || (ctx.staged && ctx.staged.partition(t.id, partitionOf(t, ctx.user))?.size)) return exact(ctx);
    const query = queryVector(queryEval([], ctx), dim);
    if (!query) return exact(ctx); // NULL or not a vector of this dimension: the distance function answers
    const partition = partitionOf(t, ctx.user);
    const count = candidateCount(keep, pred !== undefined);
    const keys = searcher.search(t, vi, partition, query, count, Math.max(searcher.ef, 2 * count));
    if (!keys) return exact(ctx);
    const out = candidates(ctx, keys);
    // Too few survived the WHERE while the partition has rows the graph did not offer: search exactly.
    if (out.length < keep && (searcher.sizeOf(t, vi, partition) ?? 0) > keys.length) {
      searcher.fallbacks++;
      return exact(ctx);
    }
    return out;
  };
  /** The candidates' current rows (by primary key: a deleted or expired one is not found), filtered by the WHERE. */
  function candidates(ctx: ExecContext, keys: readonly Value[]): Tuple[] {
    const out: Tuple[] = [];
    const opts = { includeDeleted: false };
    for (const pk of keys) {
      const row = lookup(ctx, pk, opts);
      if (row && (!pred || filterOne(pred, row, ctx))) out.push(row);
    }
    return out;
  }
  return describe(rows, () => ({
    operator: 'Vector index scan',
    detail: `${src.name}; ${col.name} USING ${vi.metric.toUpperCase()} (ef max(${searcher.ef}, 2 × candidates), candidates ${where ? `max(${MIN_CANDIDATES}, k) × ${OVERFETCH}` : 'k'}); nearest to ${exprText(constant)}${where ? `; filter: ${exprText(where)}` : ''}; exact scan when the index is not built`,
    children: nodesOf(exact),
  }));
}

/** Primary keys asked of the graph for `keep` rows: k, or with a WHERE `OVERFETCH · max(MIN_CANDIDATES, k)`. */
function candidateCount(keep: number, filtered: boolean): number {
  return filtered ? Math.max(MIN_CANDIDATES, keep) * OVERFETCH : keep;
}

/** The query vector as the distance functions read it (a Float32Array, an array of numbers or text '[…]') when it has `dim` finite elements; else undefined. */
function queryVector(value: unknown, dim: number): Float32Array | undefined {
  let v: unknown = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  if (!(v instanceof Float32Array) && !Array.isArray(v)) return undefined;
  if (v.length !== dim) return undefined;
  const out = Float32Array.from(v as ArrayLike<number>);
  for (let i = 0; i < out.length; i++) if (!Number.isFinite(out[i])) return undefined;
  return out;
}
