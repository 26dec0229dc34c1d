/**
 * Hash aggregation: groups input rows by key values and folds COUNT, SUM,
 * AVG, MIN, MAX, STRING_AGG. Output tuples are [group values…, aggregate
 * values…].
 */
import { Decimal } from '../core/decimal';
import { Interval } from '../core/interval';
import { intervalMath } from '../core/interval-registry';
import { decimalMath } from '../core/decimal-registry';
import { KalamError } from '../core/errors';
import { isTrue } from '../core/values';
import type { Evaluator, ExecContext, Tuple } from './context';
import { comparator, type SortKey } from './operators';
import { PAUSE } from './pace';
import type { Value } from '../core/types';
import { compareValues, hashKey, tupleKey } from '../core/values';

export type AggregateName = 'COUNT' | 'SUM' | 'AVG' | 'MIN' | 'MAX' | 'STRING_AGG';

export interface AggregateSpec {
  name: AggregateName;
  /** undefined for COUNT(*) */
  arg?: Evaluator;
  distinct: boolean;
  /** FILTER (WHERE …): only rows it holds true for are folded. */
  filter?: Evaluator;
  /** STRING_AGG's separator (evaluated per row, as PostgreSQL does). */
  separator?: Evaluator;
  /** The aggregate's own ORDER BY: the values are folded in this order. */
  orderBy?: SortKey[];
  /** Throws before STRING_AGG builds text longer than maxTextLength. */
  checkText?: (length: number, ctx: ExecContext) => void;
}

/** A running aggregate (window-fn.ts folds frames with it too). */
export interface State {
  count: number;
  sum: number | bigint | Decimal | Interval | null;
  best: Value;
  seen?: Set<string>;
  /** STRING_AGG's values so far, each with the separator before it and its sort keys; `length` counts their characters (≤ maxTextLength). */
  parts?: { text: string; separator: string; keys: Value[] }[];
  length?: number;
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
    case 'STRING_AGG': {
      const text = typeof v === 'string' ? v : String(v);
      const sep = spec.separator?.(row, ctx) ?? null;
      const separator = sep === null ? '' : String(sep);
      s.length = (s.length ?? 0) + text.length + (s.count > 1 ? separator.length : 0);
      spec.checkText?.(s.length, ctx);
      (s.parts ??= []).push({ text, separator, keys: spec.orderBy ? spec.orderBy.map((k) => k.eval(row, ctx)) : [] });
      break;
    }
    case 'SUM':
    case 'AVG': {
      if (v instanceof Interval || s.sum instanceof Interval) {
        s.sum = intervalMath().sum(s.sum, v); // months, days and microseconds each summed (core/interval-registry.ts)
        break;
      }
      if (v instanceof Decimal || s.sum instanceof Decimal) {
        s.sum = decimalMath().sum(s.sum, v, spec.name); // exact (core/decimal-arith.ts)
        break;
      }
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
    case 'AVG': return s.sum === null ? null : s.sum instanceof Decimal ? decimalMath().average(s.sum, s.count) : s.sum instanceof Interval ? intervalMath().average(s.sum, s.count) : Number(s.sum) / s.count;
    case 'MIN': case 'MAX': return s.best;
    case 'STRING_AGG': return stringAgg(spec, s);
  }
}

/** The values joined, each but the first after its own separator; NULL when no value was folded. */
function stringAgg(spec: AggregateSpec, s: State): Value {
  if (!s.parts) return null;
  const byKeys = spec.orderBy ? comparator(spec.orderBy) : undefined;
  const parts = byKeys ? [...s.parts].sort((a, b) => byKeys(a.keys, b.keys)) : s.parts;
  let out = parts[0].text;
  for (let i = 1; i < parts.length; i++) out += parts[i].separator + parts[i].text;
  return out;
}

/** Groups and folds; yields the input's PAUSEs while it reads it, then one tuple per group. */
export function* aggregate(
  input: Iterable<Tuple>,
  groupBy: readonly Evaluator[],
  aggs: readonly AggregateSpec[],
  ctx: ExecContext,
): Generator<Tuple> {
  // Live for one execution: one entry per group, in order of first appearance (`order`); a group is
  // found by its one text key (`byText`, the common single-column GROUP BY: no key string built per
  // row) or else by tupleKey of its keys.
  type Group = { keys: Value[]; states: State[] };
  const order: Group[] = [];
  const byText = new Map<string, Group>();
  const byKey = new Map<string, Group>();
  const single = groupBy.length === 1 ? groupBy[0] : undefined;
  const scratch = new Array<Value>(groupBy.length);
  const add = (keys: Value[]): Group => {
    const g = { keys, states: aggs.map(newState) };
    order.push(g);
    return g;
  };
  for (const row of input) {
    if (row === PAUSE) {
      yield row;
      continue;
    }
    let g: Group | undefined;
    const v = single ? single(row, ctx) : undefined;
    if (typeof v === 'string') {
      g = byText.get(v);
      if (!g) byText.set(v, (g = add([v])));
    } else {
      if (single) scratch[0] = v as Value;
      else for (let i = 0; i < groupBy.length; i++) scratch[i] = groupBy[i](row, ctx);
      const k = tupleKey(scratch);
      g = byKey.get(k);
      if (!g) byKey.set(k, (g = add(scratch.slice())));
    }
    const states = g.states;
    for (let i = 0; i < aggs.length; i++) {
      const spec = aggs[i];
      if (!spec.arg && !spec.filter) states[i].count++; // COUNT(*)
      else step(spec, states[i], row, ctx);
    }
  }
  // An aggregate without GROUP BY over no rows still yields one row.
  if (order.length === 0 && groupBy.length === 0) add([]);
  for (const g of order) yield [...g.keys, ...aggs.map((a, i) => finish(a, g.states[i]))];
}
