/**
 * Index nested-loop joins: an inner equi-join step whose next relation has
 * a secondary index led by the join column probes that index once per row
 * joined so far, instead of hashing one side and scanning the other — when
 * those rows are few (at most INDEX_JOIN_MAX_ROWS) and few against the
 * relation's estimate (a probe costs O(log n), a scan O(n)). Registered
 * with plan/join-plan.ts (joinHooks) when secondary indexes load.
 *
 * It returns exactly the rows the hash join would: a probe value is used
 * only when it already has the column's own representation (as an index
 * scan's constants, plan/index-plan.ts), and every row found is confirmed
 * with `=`'s own equality (sqlEquals, the hash join's too), the relation's
 * own WHERE terms and the join's other terms. An execution the index cannot
 * serve — a probe value of another type (text against a number column, a
 * NaN), a partition with cold segments not read through this probe
 * (RelationSource.indexRows says so), more rows than the probe budget —
 * runs the hash join over the same rows instead.
 */
import type { IndexDef } from '../core/schema';
import type { Value } from '../core/types';
import { isTrue } from '../core/values';
import type { ExecContext, Tuple } from '../exec/context';
import { paced, PAUSE } from '../exec/pace';
import { sqlEquals } from './compile';
import { describe, nodesOf } from './explain';
import { safeResolve } from './expr-walk';
import { headOrHashed, type JoinStepPlan } from './join-plan';
import type { RowSource } from './scan-plan';

/** Rows joined so far past which the step hashes instead of probing. */
export const INDEX_JOIN_MAX_ROWS = 1024;
/** Probes are chosen when the rows joined so far are at most this share of the relation's estimate. */
export const INDEX_JOIN_RATIO = 1 / 4;

/** Executions that probed an index, across the engine (tests read it to know the path was taken). */
export const indexJoinRuns = { probed: 0 };

const NUMERIC = new Set(['SMALLINT', 'INT', 'BIGINT', 'FLOAT', 'DOUBLE']);

/** Whether the index holds `v` as `v` for a column of `type` (so a span at `v` finds every row `=` matches, NULL aside). */
function probeable(v: Value, type: string): boolean {
  if (NUMERIC.has(type)) return typeof v === 'bigint' || (typeof v === 'number' && !Number.isNaN(v));
  if (type === 'TEXT') return typeof v === 'string';
  return type === 'BOOLEAN' && typeof v === 'boolean';
}

/** The index probe join for `step`, or undefined when no index of the next relation is led by its join column. */
export function planIndexJoin(step: JoinStepPlan): RowSource | undefined {
  const { source, rExpr, opts } = step;
  const src = source.src;
  const t = src.table;
  if (!t?.indexes?.length || !src.indexRows || opts.includeDeleted || rExpr.kind !== 'column') return undefined;
  const slot = safeResolve(source.scope, rExpr);
  if (slot < 0 || slot >= t.columns.length) return undefined;
  const col = t.columns[slot];
  const type = col.type;
  if (!NUMERIC.has(type) && type !== 'TEXT' && type !== 'BOOLEAN') return undefined;
  // The narrowest index led by the column (its entries are the smallest to search).
  let index: IndexDef | undefined;
  for (const x of t.indexes) if (x.columns[0].id === col.id && (!index || x.columns.length < index.columns.length)) index = x;
  if (!index) return undefined;
  const chosen = index;
  const indexRows = src.indexRows.bind(src);
  const { left, leftKey, ownPred, residual, hashed, rightEstimate } = step;

  const run = function* (ctx: ExecContext): Generator<Tuple> {
    const budget = Math.min(INDEX_JOIN_MAX_ROWS, rightEstimate(ctx) * INDEX_JOIN_RATIO);
    // Lives for one execution: the rows joined so far (at most the budget) and their keys.
    const head = yield* headOrHashed(left(ctx), budget, hashed, ctx);
    if (head === undefined || head.length === 0) return;
    const keys = head.map((l) => leftKey(l, ctx));
    if (keys.some((k) => k !== null && !probeable(k, type))) {
      yield* hashed(head, ctx);
      return;
    }
    const probe = (k: Value) => indexRows(ctx, { index: chosen, spans: [{ lower: { tuple: [k], inclusive: true }, upper: { tuple: [k], inclusive: true } }], reverse: false, probe: true });
    let first = true;
    for (let i = 0; i < head.length; i++) {
      const k = keys[i];
      if (k === null) continue;
      const rows = probe(k);
      if (!rows) {
        // Whether the partition can be probed does not change within an execution: the first probe decides, before any row is out.
        yield* hashed(head, ctx);
        return;
      }
      if (first) indexJoinRuns.probed++;
      first = false;
      const l = head[i];
      for (const r of paced(rows, ctx)) {
        if (r === PAUSE) {
          yield r;
          continue;
        }
        if (r[slot] === null || !sqlEquals(k, r[slot])) continue;
        if (ownPred && !isTrue(ownPred(r, ctx))) continue;
        const row = (l as Value[]).concat(r as Value[]);
        if (residual && !isTrue(residual(row, ctx))) continue;
        yield row;
      }
    }
  };
  return describe(run, () => ({
    operator: 'Index nested loop join',
    detail: `${step.detail}; index ${chosen.name}: a probe per row, a hash join past ${INDEX_JOIN_MAX_ROWS} rows or a quarter of ${src.name}'s estimate`,
    children: nodesOf(left, step.rightRows),
  }));
}
