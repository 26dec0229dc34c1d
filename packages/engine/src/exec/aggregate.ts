/**
 * Hash aggregation: groups input rows by key values and folds COUNT, SUM,
 * AVG, MIN, MAX. Output tuples are [group values…, aggregate values…].
 */
import { KalamError } from '../core/errors';
import { isTrue } from '../core/values';
import type { Evaluator, ExecContext, Tuple } from './context';
import { PAUSE } from './pace';
import type { Value } from '../core/types';
import { compareValues, hashKey, tupleKey } from '../core/values';

export type AggregateName = 'COUNT' | 'SUM' | 'AVG' | 'MIN' | 'MAX';

export interface AggregateSpec {
  name: AggregateName;
  /** undefined for COUNT(*) */
  arg?: Evaluator;
  distinct: boolean;
  /** FILTER (WHERE …): only rows it holds true for are folded. */
  filter?: Evaluator;
}

/** A running aggregate (window-fn.ts folds frames with it too). */
export interface State {
  count: number;
  sum: number | bigint | null;
  best: Value;
  seen?: Set<string>;
}

export const newState = (spec: AggregateSpec): State => ({ count: 0, sum: null, best: null, seen: spec.distinct ? new Set() : undefined });

export function step(spec: AggregateSpec, s: State, row: Tuple, ctx: ExecContext): void {
  if (spec.filter && !isTrue(spec.filter(row, ctx))) return;
  if (!spec.arg) { s.count++; return; }
  const v = spec.arg(row, ctx);
  if (v === null) return;
  if (s.seen) {
    const k = hashKey(v);
    if (s.seen.has(k)) return;
    s.seen.add(k);
  }
  s.count++;
  switch (spec.name) {
    case 'SUM':
    case 'AVG': {
      let x: number | bigint;
      if (typeof v === 'number' || typeof v === 'bigint') x = v;
      else if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) x = Number(v);
      else throw new KalamError('TYPE_MISMATCH', `${spec.name}() needs numbers, got ${typeof v}`);
      if (s.sum === null) s.sum = x;
      else if (typeof s.sum === 'bigint' && typeof x === 'bigint') s.sum += x;
      else s.sum = Number(s.sum) + Number(x);
      break;
    }
    case 'MIN':
      if (s.best === null || compareValues(v, s.best) < 0) s.best = v;
      break;
    case 'MAX':
      if (s.best === null || compareValues(v, s.best) > 0) s.best = v;
      break;
    default:
      break;
  }
}

export function finish(spec: AggregateSpec, s: State): Value {
  switch (spec.name) {
    case 'COUNT': return s.count;
    case 'SUM': return s.sum;
    case 'AVG': return s.sum === null ? null : Number(s.sum) / s.count;
    case 'MIN': case 'MAX': return s.best;
  }
}

/** Groups and folds; yields the input's PAUSEs while it reads it, then one tuple per group. */
export function* aggregate(
  input: Iterable<Tuple>,
  groupBy: readonly Evaluator[],
  aggs: readonly AggregateSpec[],
  ctx: ExecContext,
): Generator<Tuple> {
  // Lives for one execution: one entry per group.
  const groups = new Map<string, { keys: Value[]; states: State[] }>();
  for (const row of input) {
    if (row === PAUSE) {
      yield row;
      continue;
    }
    const keys = groupBy.map((g) => g(row, ctx));
    const k = tupleKey(keys);
    let g = groups.get(k);
    if (!g) {
      g = { keys, states: aggs.map(newState) };
      groups.set(k, g);
    }
    for (let i = 0; i < aggs.length; i++) step(aggs[i], g.states[i], row, ctx);
  }
  // An aggregate without GROUP BY over no rows still yields one row.
  if (groups.size === 0 && groupBy.length === 0) groups.set('', { keys: [], states: aggs.map(newState) });
  for (const g of groups.values()) yield [...g.keys, ...aggs.map((a, i) => finish(a, g.states[i]))];
}
