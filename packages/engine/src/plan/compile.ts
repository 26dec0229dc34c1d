/**
 * The expression compiler: turns an AST expression into a closure, once per
 * plan. Column references become slot reads; NULL follows SQL's
 * three-valued logic (a comparison with NULL is NULL; AND is false if
 * either side is false; OR is true if either side is true).
 */
import { KalamError } from '../core/errors';
import { uuidV7, ulid } from '../core/ids';
import type { Expr } from '../sql/ast';
import type { DataType, Value } from '../core/types';
import { JSON_NULL } from '../core/json';
import { dateOf, timeOfDay, timestampText } from '../core/datetime';
import { coerce, compareValues, isTrue, roundHalfEven, truthy } from '../core/values';
import type { Evaluator, ExecContext, Tuple } from '../exec/context';
import { SQL_LIMIT_DEFAULTS, limitExceeded } from '../sql/limits';
import { compileArithmetic, compileNegate, isFloatType, isIntType, pgTypeName, staticType } from './arith';
import { AGGREGATES, lookupFunction, textTooLong, unknownFunction } from './functions';
import { compileJsonOperator, compileSpecialCall, isJsonOp } from './call-hooks';
import { byteaText, jsonbText } from './scalar-args';
import { compileLike, type LikeMatcher } from './like';
import type { Scope } from './scope';
import { existsSubquery, inSubquery, scalarSubquery } from './subquery';
import { asTypeOf, textToFloat, textToInt } from './typed-compare';

/** Lets a caller replace sub-expressions (group keys, aggregates) with slot reads. */
export type CompileHook = (e: Expr) => Evaluator | undefined;

export function compileExpr(e: Expr, scope: Scope, hook?: CompileHook): Evaluator {
  const c = (x: Expr) => compileExpr(x, scope, hook);
  const hooked = hook?.(e);
  if (hooked) return hooked;
  switch (e.kind) {
    case 'literal': {
      const v = e.value;
      return () => v;
    }
    case 'param': {
      const i = e.index;
      return (_r, ctx) => {
        const v = ctx.params[i];
        if (v === undefined) {
          throw new KalamError('INVALID_PARAMETER', `Parameter $${i + 1} has no value: pass a value for each $n in the statement`);
        }
        return v instanceof Date ? v.getTime() : v; // the TIMESTAMP wire mapping: ms since the epoch
      };
    }
    case 'column': {
      const { depth, slot, scope: at } = scope.resolveOuter(e.table, e.name);
      // A FULL JOIN … USING column read unqualified: COALESCE of both sides' copies (plan/join-using.ts).
      const other = at.columns[slot].coalesce;
      const o = e.table === undefined && other !== undefined ? at.resolve(other, e.name) : slot;
      if (depth === 0) return o === slot ? (r) => r[slot] : (r) => r[slot] ?? r[o];
      // A correlated reference: every query from here out to the one owning the column re-runs per outer row.
      for (let q = scope.env; q && q !== at.env; q = q.enclosing) q.correlated = true;
      return (_r, ctx) => {
        const rows = ctx.outer!;
        const row = rows[rows.length - depth];
        return row[slot] ?? row[o];
      };
    }
    case 'star':
      throw new KalamError('INVALID_SQL', '* can only be used in the select list or COUNT(*)');
    case 'unary': {
      const a = c(e.arg);
      if (e.op === 'NOT') return (r, ctx) => { const v = a(r, ctx); return v === null ? null : !truthy(v); };
      if (e.op === '+') return a;
      return compileNegate(a, staticType(e.arg, scope));
    }
    case 'binary': {
      if (isJsonOp(e.op)) return compileJsonOperator({ op: e.op, left: e.left, right: e.right }, scope, c);
      if (ARITHMETIC.has(e.op)) return compileArithmetic(e.op, c(e.left), c(e.right), staticType(e.left, scope), staticType(e.right, scope));
      if (e.op === '||') {
        const [lt, rt] = [staticType(e.left, scope), staticType(e.right, scope)];
        checkConcatTypes(lt, rt);
        return compileBinary('||', asText(c(e.left), lt), asText(c(e.right), rt)); // a timestamp joins as its text, not its milliseconds
      }
      if (!COMPARISONS.has(e.op)) return compileBinary(e.op, c(e.left), c(e.right));
      // A literal or parameter is read as the type of the other side (WHERE created_at > '2024-01-01', n = '5').
      const l = asTypeOf(staticType(e.right, scope), c(e.left), isConstantValue(e.left));
      const r = asTypeOf(staticType(e.left, scope), c(e.right), isConstantValue(e.right));
      return compileBinary(e.op, l, r);
    }
    case 'like': {
      const a = c(e.arg);
      const p = c(e.pattern);
      const esc = e.escape ? c(e.escape) : () => '\\';
      const ci = e.caseInsensitive;
      const neg = e.negated;
      // Patterns are almost always constant per execution: keep the last compiled one.
      let lastPattern: string | undefined;
      let lastEscape: string | undefined;
      let lastMatch: LikeMatcher | undefined;
      return (r, ctx) => {
        const v = a(r, ctx);
        const pat = p(r, ctx);
        const escape = esc(r, ctx);
        if (v === null || pat === null || escape === null) return null;
        const ps = String(pat);
        const es = String(escape);
        if (ps !== lastPattern || es !== lastEscape) {
          if (es.length > 1) throw new KalamError('INVALID_SQL', `ESCAPE must be a single character or empty, got '${es}'`);
          const max = ctx.limits?.maxLikePatternLength ?? SQL_LIMIT_DEFAULTS.maxLikePatternLength;
          if (ps.length > max) throw limitExceeded('maxLikePatternLength', `A LIKE pattern of ${ps.length.toLocaleString('en-US')} characters`, max);
          lastMatch = compileLike(ps, ci, es);
          lastPattern = ps;
          lastEscape = es;
        }
        const m = lastMatch!(typeof v === 'string' ? v : String(v));
        return neg ? !m : m;
      };
    }
    case 'in': {
      const a = c(e.arg);
      const type = staticType(e.arg, scope);
      const list = e.list.map((x) => asTypeOf(type, c(x), isConstantValue(x)));
      const neg = e.negated;
      if (list.length >= IN_SET_MIN && e.list.every(isConstantValue)) return inConstantList(a, list, neg);
      return (r, ctx) => {
        const v = a(r, ctx);
        if (v === null) return null;
        let sawNull = false;
        for (const item of list) {
          const x = item(r, ctx);
          if (x === null) { sawNull = true; continue; }
          if (sqlEquals(v, x)) return !neg;
        }
        return sawNull ? null : neg;
      };
    }
    case 'between': {
      const a = c(e.arg);
      const type = staticType(e.arg, scope);
      const lo = asTypeOf(type, c(e.low), isConstantValue(e.low));
      const hi = asTypeOf(type, c(e.high), isConstantValue(e.high));
      const neg = e.negated;
      return (r, ctx) => {
        const v = a(r, ctx);
        const l = lo(r, ctx);
        const h = hi(r, ctx);
        const ge = v === null || l === null ? null : sqlCompare(v, l) >= 0;
        const le = v === null || h === null ? null : sqlCompare(v, h) <= 0;
        const res = and3(ge, le);
        return res === null ? null : neg ? !res : res;
      };
    }
    case 'isNull': {
      const a = c(e.arg);
      return e.negated ? (r, ctx) => a(r, ctx) !== null : (r, ctx) => a(r, ctx) === null;
    }
    case 'case': {
      const operand = e.operand ? c(e.operand) : undefined;
      const whens = e.whens.map((w) => ({ when: c(w.when), then: c(w.then) }));
      const otherwise = e.else ? c(e.else) : () => null;
      return (r, ctx) => {
        const o = operand ? operand(r, ctx) : undefined;
        for (const w of whens) {
          const cond = w.when(r, ctx);
          if (operand ? o !== null && cond !== null && sqlEquals(o as Value, cond) : cond !== null && truthy(cond)) {
            return w.then(r, ctx);
          }
        }
        return otherwise(r, ctx);
      };
    }
    case 'cast': {
      const a = c(e.arg);
      const type = e.type;
      // double precision → integer rounds half to even (rint), numeric → integer half away from zero.
      const argType = staticType(e.arg, scope);
      const halfEven = isIntType(type) && isFloatType(argType);
      const instantText = type === 'TEXT' && (argType === 'TIMESTAMP' || argType === 'DATETIME');
      return (r, ctx) => {
        const v = a(r, ctx);
        if (instantText && typeof v === 'number') return timestampText(v, argType === 'DATETIME');
        // integer ↔ boolean, as PostgreSQL's int4 casts: 0 is false, any other integer true; true is 1.
        if (type === 'BOOLEAN' && typeof v === 'number' && Number.isInteger(v)) return v !== 0;
        if (isIntType(type) && typeof v === 'boolean') return coerce(v ? 1 : 0, type, 'CAST');
        if (halfEven && typeof v === 'number' && Number.isFinite(v)) return coerce(roundHalfEven(v), type, 'CAST');
        if (type === 'TEXT' && v !== null && typeof v === 'object') return v instanceof Uint8Array ? byteaText(v) : jsonbText(v);
        if (type === 'TIME' && typeof v === 'number') return timeOfDay(v); // timestamp::time
        if (type === 'JSON' && typeof v !== 'string') return v;
        // Text reads as PostgreSQL's input functions read it ('2.5'::INT is an error, 'NaN'::DOUBLE is NaN).
        if (typeof v === 'string' && isIntType(type)) return textToInt(v, type);
        if (typeof v === 'string' && (isFloatType(type) || type === 'DECIMAL') && /^\s*nan\s*$/i.test(v)) return textToFloat(v, type);
        if (typeof v === 'number' && Number.isNaN(v) && (isFloatType(type) || type === 'DECIMAL')) return v;
        const out = coerce(v, type, 'CAST', ctx.limits?.maxJsonDepth, e.precision, e.scale);
        return type === 'JSON' && out === null && v !== null ? JSON_NULL : out; // 'null'::json is a JSON null, not SQL NULL
      };
    }
    case 'call':
      // round(double precision) rounds half to even, as PostgreSQL's float8 round (rint) does; round(numeric) halves away from zero.
      if (e.name === 'ROUND' && e.args.length === 1 && isFloatType(staticType(e.args[0], scope))) return roundFloat(c(e.args[0]));
      // to_char's template means a number or a date/time by its argument's type: passed on as a third argument.
      if (e.name === 'TO_CHAR' && e.args.length === 2) return compileCall({ ...e, args: [...e.args, { kind: 'literal', value: staticType(e.args[0], scope) ?? '' }] }, c);
      if (e.name === 'IS DISTINCT FROM' || e.name === 'IS NOT DISTINCT FROM') return isDistinctFrom(e.args[0], e.args[1], e.name === 'IS DISTINCT FROM', scope, c);
      return compileSpecialCall(e, scope, c) ?? compileCall(e, c);
    case 'window':
      throw new KalamError('INVALID_SQL', `Window function ${e.name.toLowerCase()}() is not allowed here: window functions belong in a SELECT's select list or ORDER BY`);
    case 'default':
      throw new KalamError('INVALID_SQL', 'DEFAULT can only be used as a value in INSERT … VALUES or UPDATE … SET');
    case 'subquery': case 'exists': case 'inSubquery': {
      if (!scope.env) throw new KalamError('UNSUPPORTED', 'A subquery is not supported here yet: use it in a SELECT (or INSERT … SELECT)');
      const q = scope.env.planNested(e.query, scope);
      if (e.kind === 'subquery') return scalarSubquery(q);
      if (e.kind === 'exists') return existsSubquery(q);
      return inSubquery(c(e.arg), q, e.negated, sqlEquals);
    }
  }
}

function compileCall(e: Extract<Expr, { kind: 'call' }>, c: (x: Expr) => Evaluator): Evaluator {
  if (AGGREGATES.has(e.name)) {
    throw new KalamError('INVALID_SQL', `Aggregate ${e.name}() is not allowed here (only in the select list, HAVING or ORDER BY of a query)`);
  }
  switch (e.name) {
    case 'NOW': case 'CURRENT_TIMESTAMP': case 'LOCALTIMESTAMP': return (_r, ctx) => ctx.now;
    case 'CURRENT_DATE': return (_r, ctx) => dateOf(ctx.now);
    case 'CURRENT_TIME': case 'LOCALTIME': return (_r, ctx) => timeOfDay(ctx.now);
    case 'CURRENT_USER': case 'CURRENT_USER_ID': case 'KDB_CURRENT_USER': return (_r, ctx) => ctx.user;
    case 'CURRENT_ROLE': return (_r, ctx) => ctx.role;
    case 'SNOWFLAKE_ID': return (_r, ctx) => ctx.snowflakeId();
    case 'UUID_V7': return (_r, ctx) => uuidV7(ctx.now);
    case 'ULID': return () => ulid();
    case 'NULLIF': {
      const [a, b] = e.args.map(c);
      return (r, ctx) => { const x = a(r, ctx); const y = b(r, ctx); return x !== null && y !== null && sqlEquals(x, y) ? null : x; };
    }
    case 'GREATEST': case 'LEAST': {
      const args = e.args.map(c);
      const sign = e.name === 'GREATEST' ? 1 : -1;
      return (r, ctx) => {
        let best: Value = null;
        for (const a of args) {
          const v = a(r, ctx);
          if (v !== null && (best === null || sign * compareValues(v, best) > 0)) best = v;
        }
        return best;
      };
    }
  }
  const f = lookupFunction(e.name);
  if (!f) throw unknownFunction(e.name);
  const args = e.args.map(c);
  const { fn, isStrict } = f;
  return (r, ctx) => {
    const vals = new Array<Value>(args.length);
    for (let i = 0; i < args.length; i++) {
      const v = args[i](r, ctx);
      if (v === null && isStrict) return null;
      vals[i] = v;
    }
    return fn(vals, ctx.limits?.maxTextLength ?? SQL_LIMIT_DEFAULTS.maxTextLength);
  };
}

/** LIMIT_EXCEEDED before an expression builds text longer than maxTextLength. */
function checkTextLength(length: number, by: string, ctx: ExecContext): void {
  const max = ctx.limits?.maxTextLength ?? SQL_LIMIT_DEFAULTS.maxTextLength;
  if (length > max) throw textTooLong(length, by, max);
}


/** IN lists this long, of literals and parameters only, are looked up in a set. */
const IN_SET_MIN = 8;

/** A literal or a parameter, signed or not (what literal lifting leaves of a constant). */
const isConstantValue = (e: Expr): boolean =>
  e.kind === 'literal' || e.kind === 'param' || (e.kind === 'unary' && e.op !== 'NOT' && (e.arg.kind === 'literal' || e.arg.kind === 'param'));

/** An IN list's values for one execution, by type: a value finds its equal among those of its own type in one step. */
interface InValues {
  /** Values of each primitive type ('string', 'number', 'bigint', 'boolean'). */
  byType: Map<string, Set<Value>>;
  /** JSON and BYTES values (compared one by one). */
  objects: Value[];
  sawNull: boolean;
}

/**
 * `v [NOT] IN (constants…)`: the list is evaluated once per execution (its
 * values are literals and parameters, maybe signed) and looked up by type, instead of
 * compared one by one for every row. The answer is the one the
 * one-by-one loop gives: a match anywhere is true, otherwise NULL if the
 * list holds a NULL; values of another type than `v` are still compared
 * with `=`'s coercions (text against a number…). If evaluating the list
 * fails, the one-by-one loop runs instead, so an error surfaces exactly
 * where it did.
 */
function inConstantList(a: Evaluator, list: readonly Evaluator[], neg: boolean): Evaluator {
  let forParams: readonly Value[] | undefined;
  let values: InValues | null | undefined; // null: evaluating the list failed for these parameters
  const build = (r: Tuple, ctx: ExecContext): InValues | undefined => {
    const byType = new Map<string, Set<Value>>();
    const objects: Value[] = [];
    let sawNull = false;
    try {
      for (const item of list) {
        const x = item(r, ctx);
        if (x === null) sawNull = true;
        else if (typeof x === 'object') objects.push(x);
        else {
          let set = byType.get(typeof x);
          if (!set) byType.set(typeof x, (set = new Set()));
          set.add(x);
        }
      }
    } catch {
      return undefined;
    }
    return { byType, objects, sawNull };
  };
  const oneByOne = (v: Value, r: Tuple, ctx: ExecContext): Value => {
    let sawNull = false;
    for (const item of list) {
      const x = item(r, ctx);
      if (x === null) { sawNull = true; continue; }
      if (sqlEquals(v, x)) return !neg;
    }
    return sawNull ? null : neg;
  };
  return (r, ctx) => {
    const v = a(r, ctx);
    if (v === null) return null;
    if (forParams !== ctx.params || values === undefined) {
      values = build(r, ctx) ?? null;
      forParams = ctx.params;
    }
    if (values === null) return oneByOne(v, r, ctx);
    const own = typeof v;
    // Same type, not an object: `=` is ===, which a Set's lookup is (NaN aside, which === never equals).
    if (own !== 'object' && values.byType.get(own)?.has(v) && v === v) return !neg;
    for (const [type, set] of values.byType) {
      if (type === own && own !== 'object') continue;
      for (const x of set) if (sqlEquals(v, x)) return !neg;
    }
    for (const x of values.objects) if (sqlEquals(v, x)) return !neg;
    return values.sawNull ? null : neg;
  };
}

function and3(a: boolean | null, b: boolean | null): boolean | null {
  if (a === false || b === false) return false;
  if (a === null || b === null) return null;
  return true;
}

function compileBinary(op: string, l: Evaluator, r: Evaluator): Evaluator {
  switch (op) {
    case 'AND':
      return (row, ctx) => {
        const a = l(row, ctx);
        if (a !== null && !truthy(a)) return false;
        const b = r(row, ctx);
        if (b !== null && !truthy(b)) return false;
        return a === null || b === null ? null : true;
      };
    case 'OR':
      return (row, ctx) => {
        const a = l(row, ctx);
        if (a !== null && truthy(a)) return true;
        const b = r(row, ctx);
        if (b !== null && truthy(b)) return true;
        return a === null || b === null ? null : false;
      };
    case '=': return cmp(l, r, (x) => x === 0, true);
    case '<>': return cmp(l, r, (x) => x !== 0, true);
    case '<': return cmp(l, r, (x) => x < 0, false);
    case '<=': return cmp(l, r, (x) => x <= 0, false);
    case '>': return cmp(l, r, (x) => x > 0, false);
    case '>=': return cmp(l, r, (x) => x >= 0, false);
    case '||':
      return (row, ctx) => {
        const a = l(row, ctx);
        const b = r(row, ctx);
        if (a === null || b === null) return null;
        const x = text(a);
        const y = text(b);
        checkTextLength(x.length + y.length, '||', ctx);
        return x + y;
      };
    default:
      throw new KalamError('UNSUPPORTED', `Operator ${op} is not supported`);
  }
}

const ARITHMETIC = new Set(['+', '-', '*', '/', '%']);

/** `2 || 3`: PostgreSQL has no || for two numbers or booleans (text || anything concatenates). */
function checkConcatTypes(l: DataType | undefined, r: DataType | undefined): void {
  const scalar = (t: DataType | undefined) => t !== undefined && (isIntType(t) || isFloatType(t) || t === 'DECIMAL' || t === 'BOOLEAN');
  if (scalar(l) && scalar(r)) {
    throw new KalamError('TYPE_MISMATCH', `operator does not exist: ${pgTypeName(l!)} || ${pgTypeName(r!)}; cast an operand to TEXT (x::TEXT) to concatenate`);
  }
}

/** `x IS [NOT] DISTINCT FROM y`: `=` (with its coercions) where two NULLs are equal and one NULL differs; never NULL. */
function isDistinctFrom(x: Expr, y: Expr, distinct: boolean, scope: Scope, c: (x: Expr) => Evaluator): Evaluator {
  const l = asTypeOf(staticType(y, scope), c(x), isConstantValue(x));
  const r = asTypeOf(staticType(x, scope), c(y), isConstantValue(y));
  return (row, ctx) => {
    const a = l(row, ctx);
    const b = r(row, ctx);
    const same = a === null || b === null ? a === b : sqlEquals(a, b);
    return same !== distinct;
  };
}

function roundFloat(a: Evaluator): Evaluator {
  return (r, ctx) => {
    const v = a(r, ctx);
    if (v === null) return null;
    if (typeof v !== 'number') throw new KalamError('TYPE_MISMATCH', `round() needs a number, got ${typeof v}`);
    return Number.isFinite(v) ? roundHalfEven(v) : v;
  };
}

/** A TIMESTAMP/DATETIME operand of || as its text ('2024-01-31 10:00:00'); any other as it is. */
function asText(a: Evaluator, type: DataType | undefined): Evaluator {
  if (type !== 'TIMESTAMP' && type !== 'DATETIME') return a;
  return (r, ctx) => {
    const v = a(r, ctx);
    return typeof v === 'number' ? timestampText(v, type === 'DATETIME') : v;
  };
}

/** A value as || reads it: PostgreSQL's output form (booleans as t/f, JSON as jsonb text). */
const text = (v: Value) => (typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? 't' : 'f') : v instanceof Uint8Array ? byteaText(v) : typeof v === 'object' ? jsonbText(v) : String(v));

function cmp(l: Evaluator, r: Evaluator, test: (c: number) => boolean, isEquality: boolean): Evaluator {
  return (row, ctx) => {
    const a = l(row, ctx);
    const b = r(row, ctx);
    if (a === null || b === null) return null;
    if (isEquality && typeof a === typeof b && typeof a !== 'object') return test(a === b || (a !== a && b !== b) ? 0 : 1);
    return test(sqlCompare(a, b));
  };
}

/** Orders two non-null values as a comparison operator does (text read as a number against a number). */
function sqlCompare(a: Value, b: Value): number {
  return compareValues(coerceForCompare(a, b), coerceForCompare(b, a));
}

/** Equality as `=` sees it; IN, simple CASE and NULLIF use the same. */
export function sqlEquals(a: Value, b: Value): boolean {
  if (typeof a === typeof b && typeof a !== 'object') return a === b || (a !== a && b !== b); // NaN = NaN, as PostgreSQL's float order has it
  return sqlCompare(a, b) === 0;
}

const COMPARISONS = new Set(['=', '<>', '<', '<=', '>', '>=']);

/** A string compared with a number is read as a number (and booleans alike), as Postgres does for literals. */
function coerceForCompare(v: Value, other: Value): Value {
  if (typeof v === 'string') {
    if ((typeof other === 'number' || typeof other === 'bigint') && v.trim() !== '' && !Number.isNaN(Number(v))) {
      return typeof other === 'bigint' && /^\s*-?\d+\s*$/.test(v) ? BigInt(v.trim()) : Number(v);
    }
    if (typeof other === 'boolean') {
      const s = v.toLowerCase();
      if (s === 'true' || s === 't') return true;
      if (s === 'false' || s === 'f') return false;
    }
  }
  return v;
}

export type { Tuple, ExecContext };
