/**
 * Columnar aggregation: COUNT/SUM/AVG/MIN/MAX of plain columns grouped by
 * plain columns of one table, folded straight from the column values of
 * cold row groups (a run of rows no other tier or segment has a newer
 * version of, storage/partition-view.ts ColdRun) without building a row per
 * version; rows the merge had to decide between versions of come as rows
 * and are folded as exec/aggregate.ts folds them. The results are exactly
 * the row path's: the same values (the group's prepared columns, which the
 * row path reads too), the same folding (`fold`), groups in order of first
 * appearance in key order.
 *
 * Loaded on first use with plan/columnar.ts (its own chunk).
 */
import type { Value } from '../core/types';
import { compareValues, tupleKey } from '../core/values';
import { coldRow, type ColdRun } from '../storage/partition-view';
import { finish, newState, step, type AggregateSpec, type State } from './aggregate';
import type { ExecContext, Tuple } from './context';
import { isSliceOver, PAUSE } from './pace';

/** One aggregate and the slot of the column it reads (-1: COUNT(*)). */
export interface ColumnFold {
  spec: AggregateSpec;
  slot: number;
}

/** Reads the one value of the row `fold` hands `step`. */
const first = (row: Tuple) => row[0];

/**
 * Folds one non-NULL value as exec/aggregate.ts's `step` does: COUNT, MIN,
 * MAX and SUM/AVG of numbers or bigints here, anything else (DECIMAL,
 * INTERVAL, text, mixed) through `step` itself with the value as a row.
 */
function fold(spec: AggregateSpec, byValue: AggregateSpec, s: State, v: Value, ctx: ExecContext): void {
  switch (spec.name) {
    case 'COUNT':
      s.count++;
      return;
    case 'MIN':
      s.count++;
      if (s.best === null || compareValues(v, s.best) < 0) s.best = v;
      return;
    case 'MAX':
      s.count++;
      if (s.best === null || compareValues(v, s.best) > 0) s.best = v;
      return;
    default: {
      const sum = s.sum;
      if (typeof v === 'number' ? sum === null || typeof sum === 'number' : typeof v === 'bigint' && (sum === null || typeof sum === 'bigint')) {
        s.sum = (sum === null ? v : (sum as number) + (v as number)) as number | bigint;
        s.count++;
      } else step(byValue, s, [v], ctx);
    }
  }
}

/** Off: every aggregate takes the row path (tests compare the two). */
export const columnarAggregates = { enabled: true };

/** Per row of a run, its group's index (-1: a tombstone); grown to the largest run (a row group's rows), reused. */
let groupIds = new Int32Array(2048);

/** Groups and folds `input` (a table's rows and ColdRuns, in key order); yields its pauses, then one tuple [group keys…, aggregates…] per group. */
export function* columnarAggregate(
  input: Iterable<Tuple | ColdRun>,
  groupSlots: readonly number[],
  folds: readonly ColumnFold[],
  ctx: ExecContext,
): Generator<Tuple> {
  // Live for one execution, as exec/aggregate.ts's: groups in order of first appearance, found by
  // their one text key or by tupleKey of their keys; states[j][g]: fold j's state of group g.
  const keys: Value[][] = [];
  const byValue = folds.map((f) => ({ ...f.spec, arg: first }));
  const states: State[][] = folds.map(() => []);
  const byText = new Map<string, number>();
  const byKey = new Map<string, number>();
  const width = groupSlots.length;
  const scratch = new Array<Value>(width);
  const add = (k: Value[]): number => {
    keys.push(k);
    for (let j = 0; j < folds.length; j++) states[j].push(newState(folds[j].spec));
    return keys.length - 1;
  };
  const groupOf = (one: Value): number => {
    let g: number | undefined;
    if (width === 1 && typeof one === 'string') {
      g = byText.get(one);
      if (g === undefined) byText.set(one, (g = add([one])));
      return g;
    }
    const k = tupleKey(scratch);
    g = byKey.get(k);
    if (g === undefined) byKey.set(k, (g = add(scratch.slice())));
    return g;
  };
  const foldRow = (row: Tuple) => {
    for (let s = 0; s < width; s++) scratch[s] = row[groupSlots[s]];
    const g = width === 0 ? (keys.length === 0 ? add([]) : 0) : groupOf(scratch[0]);
    for (let j = 0; j < folds.length; j++) {
      const { spec, slot } = folds[j];
      if (slot < 0) states[j][g].count++;
      else if (row[slot] !== null) fold(spec, byValue[j], states[j][g], row[slot], ctx);
    }
  };
  const pace = ctx.pace;
  for (const item of input) {
    if (item === PAUSE) {
      yield PAUSE;
      continue;
    }
    if (Array.isArray(item)) {
      if (pace && isSliceOver(pace)) yield PAUSE;
      foldRow(item as Tuple);
      continue;
    }
    const { group, start, end } = item as ColdRun;
    if (pace) {
      pace.rows += end - start - 1;
      if (isSliceOver(pace)) yield PAUSE;
    }
    const columns = group.columns;
    if (group.readers || groupSlots.some((s) => !columns[s]) || folds.some((f) => f.slot >= 0 && !columns[f.slot])) {
      // Read value by value (a narrow read) or a column not prepared: its rows, as the row path builds them.
      for (let i = start; i < end; i++) if (group.data.deleted[i] !== 1) foldRow(coldRow(group, i));
      continue;
    }
    foldRun(group.data.deleted, columns as readonly ArrayLike<Value>[], start, end);
  }
  // An aggregate without GROUP BY over no rows still yields one row.
  if (keys.length === 0 && width === 0) add([]);
  for (let g = 0; g < keys.length; g++) yield [...keys[g], ...folds.map((f, j) => finish(f.spec, states[j][g]))];

  function foldRun(deleted: Uint8Array, columns: readonly ArrayLike<Value>[], start: number, end: number): void {
    const n = end - start;
    if (groupIds.length < n) groupIds = new Int32Array(n);
    const ids = groupIds;
    let live = 0;
    if (width === 0) {
      const g = keys.length === 0 ? add([]) : 0;
      for (let k = 0; k < n; k++) {
        const isLive = deleted[start + k] !== 1;
        ids[k] = isLive ? g : -1;
        if (isLive) live++;
      }
    } else {
      const first = columns[groupSlots[0]];
      let last: Value | undefined;
      let lastGroup = -1;
      for (let k = 0; k < n; k++) {
        const i = start + k;
        if (deleted[i] === 1) {
          ids[k] = -1;
          continue;
        }
        live++;
        if (width === 1) {
          // Rows in key order often repeat a group key: the last one's group, found again without a lookup.
          const v = first[i];
          if (lastGroup < 0 || !Object.is(v, last)) {
            scratch[0] = v;
            lastGroup = groupOf(v);
            last = v;
          }
          ids[k] = lastGroup;
        } else {
          for (let s = 0; s < width; s++) scratch[s] = columns[groupSlots[s]][i];
          ids[k] = groupOf(scratch[0]);
        }
      }
    }
    if (live === 0) return;
    for (let j = 0; j < folds.length; j++) {
      const { spec, slot } = folds[j];
      const st = states[j];
      if (slot < 0) {
        if (width === 0) st[0].count += live;
        else for (let k = 0; k < n; k++) if (ids[k] >= 0) st[ids[k]].count++;
        continue;
      }
      const values = columns[slot];
      const isSum = spec.name === 'SUM' || spec.name === 'AVG';
      const isCount = spec.name === 'COUNT';
      for (let k = 0; k < n; k++) {
        const g = ids[k];
        if (g < 0) continue;
        const v = values[start + k];
        if (v === null) continue;
        const s = st[g];
        if (isCount) s.count++;
        else if (isSum && typeof v === 'number' && (typeof s.sum === 'number' || s.sum === null)) {
          // fold's number case, inlined: the common SUM/AVG of an INT or DOUBLE column.
          s.sum = s.sum === null ? v : s.sum + v;
          s.count++;
        } else fold(spec, byValue[j], s, v, ctx);
      }
    }
  }
}
