/**
 * Expressions whose code is a SQL extension, loaded on first use
 * (execute/sql-extensions.ts): the JSON operators and functions
 * (json-ops.ts, json-functions.ts: they need to know which operands are
 * JSON already), generate_series (generate-series.ts), JOIN … USING
 * (join-using.ts) and the regexp functions (regex-functions.ts: each call
 * site keeps its compiled pattern). compile.ts offers every call here
 * before looking the name up in functions.ts, and every JSON operator.
 * Each extension registers here as it loads; one a statement reaches
 * unloaded is a bug (the loader reads the statement's text for it).
 */
import { KalamError } from '../core/errors';
import type { ColumnInfo } from '../core/types';
import type { Evaluator, ExecContext, Tuple } from '../exec/context';
import type { BinaryOp, Expr, FromTable } from '../sql/ast';
import { JSON_OPS } from './function-names';
import type { compileJsonCall } from './json-functions';
import type { compileJsonOp, JsonOp } from './json-ops';
import type { compileRegexCall } from './regex-functions';
import type { Scope } from './scope';

/** The calls regex-functions.ts compiles (convert.ts turns `~ ~* !~ !~*` into REGEXP_LIKE). */
const REGEX_CALLS = new Set(['REGEXP_LIKE', 'REGEXP_MATCH', 'REGEXP_REPLACE', 'REGEXP_COUNT', 'REGEXP_SUBSTR', 'REGEXP_SPLIT_TO_ARRAY']);

let regexCalls: typeof compileRegexCall | undefined;
let json: { call: typeof compileJsonCall; op: typeof compileJsonOp } | undefined;
/** generate-series.ts's planSeries (its type written out here: that module imports the planner, which imports this one). */
type SeriesPlanner = (call: Extract<Expr, { kind: 'call' }>, column: string, scope: Scope) => { columns: ColumnInfo[]; rows(ctx: ExecContext): Iterable<Tuple> };
let series: SeriesPlanner | undefined;

/** join-using.ts's resolveUsing (its type written out, as for the series planner). */
type UsingResolver = <S extends { relation: string; from: FromTable; scope: Scope }>(sources: readonly S[]) => S[];
let using: UsingResolver | undefined;

/** Called by the JOIN … USING extension as it loads. */
export function registerUsing(resolve: UsingResolver): void {
  using = resolve;
}

export function usingResolver(): UsingResolver {
  if (using === undefined) throw notLoaded('JOIN … USING');
  return using;
}

/** Called by the generate_series extension as it loads. */
export function registerSeries(plan: SeriesPlanner): void {
  series = plan;
}

/** The generate_series planner (plan/select.ts plans a FROM generate_series(…) with it). */
export function seriesPlanner(): SeriesPlanner {
  if (series === undefined) throw notLoaded('Table functions (generate_series)');
  return series;
}

/** Called by the regular expressions extension as it loads. */
export function registerRegexCalls(compile: typeof compileRegexCall): void {
  regexCalls = compile;
}

/** Called by the JSON extension as it loads. */
export function registerJson(call: typeof compileJsonCall, op: typeof compileJsonOp): void {
  json = { call, op };
}

/** UNSUPPORTED for an extension a statement reached unloaded. */
export function notLoaded(what: string): KalamError {
  return new KalamError('UNSUPPORTED', `${what} are not loaded: this statement reached planning before they were loaded (execute/sql-extensions.ts). This is a bug in kalamlite; please report it with the statement`);
}

export const isJsonOp = (op: BinaryOp): op is JsonOp => JSON_OPS.has(op);

/** A JSON call: json_…, jsonb_…, to_json, to_jsonb. */
const isJsonCall = (name: string): boolean => name.startsWith('JSON_') || name.startsWith('JSONB_') || name === 'TO_JSON' || name === 'TO_JSONB';

export function compileJsonOperator(e: { op: JsonOp; left: Expr; right: Expr }, scope: Scope, c: (x: Expr) => Evaluator): Evaluator {
  if (json === undefined) throw notLoaded('The JSON operators');
  return json.op(e, scope, c);
}

function compileRegex(e: Extract<Expr, { kind: 'call' }>, c: (x: Expr) => Evaluator): Evaluator | undefined {
  if (!REGEX_CALLS.has(e.name)) return undefined;
  if (regexCalls === undefined) throw notLoaded('Regular expressions');
  return regexCalls(e, c);
}

function compileJson(e: Extract<Expr, { kind: 'call' }>, scope: Scope, c: (x: Expr) => Evaluator): Evaluator | undefined {
  if (!isJsonCall(e.name)) return undefined;
  if (json === undefined) throw notLoaded('The JSON functions');
  return json.call(e, scope, c);
}

export function compileSpecialCall(e: Extract<Expr, { kind: 'call' }>, scope: Scope, c: (x: Expr) => Evaluator): Evaluator | undefined {
  return compileJson(e, scope, c) ?? compileRegex(e, c);
}
