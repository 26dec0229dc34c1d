/**
 * Numbers as PostgreSQL computes them: the static numeric type of an
 * expression (from column types, casts and literal types, known at plan
 * time) and arithmetic by it. Integer operands give an integer result of the
 * wider operand type (`/` truncates toward zero, `%` takes the dividend's
 * sign, a result outside the type is OUT_OF_RANGE); a FLOAT or DOUBLE
 * operand makes the arithmetic floating point; a DECIMAL value with an
 * integer, a DECIMAL or a fractional literal is exact (core/decimal-arith.ts).
 * Two plain numbers stay floating point even when the plan calls a literal
 * DECIMAL (`0.1 + 0.2`): a README departure. Where a type is not
 * known at plan time (a parameter, a computed column of a derived table) the
 * value decides: an integral number or a bigint counts as an integer of the
 * smallest type holding it.
 */
import { Decimal, decimalToNumber } from '../core/decimal';
import { decimalMath } from '../core/decimal-registry';
import { KalamError } from '../core/errors';
import { Interval } from '../core/interval';
import { intervalMath, intervalResultType } from '../core/interval-registry';
import type { DataType, Value } from '../core/types';
import type { Evaluator } from '../exec/context';
import type { Expr } from '../sql/ast';
import type { Scope } from './scope';

export type IntType = 'SMALLINT' | 'INT' | 'BIGINT';

const INT_RANK: Partial<Record<DataType, number>> = { SMALLINT: 1, INT: 2, BIGINT: 3 };

export const isIntType = (t: DataType | undefined): t is IntType => t !== undefined && INT_RANK[t] !== undefined;
export const isFloatType = (t: DataType | undefined) => t === 'FLOAT' || t === 'DOUBLE';
const isInexact = (t: DataType | undefined) => t === 'FLOAT' || t === 'DOUBLE' || t === 'DECIMAL';

/** PostgreSQL's name of a type, as its error messages give it. */
export function pgTypeName(t: DataType): string {
  switch (t) {
    case 'SMALLINT': return 'smallint';
    case 'INT': return 'integer';
    case 'BIGINT': return 'bigint';
    case 'FLOAT': return 'real';
    case 'DOUBLE': return 'double precision';
    case 'DECIMAL': return 'numeric';
    case 'BOOLEAN': return 'boolean';
    case 'BYTES': return 'bytea';
    case 'JSON': return 'jsonb';
    case 'DATETIME': return 'timestamp';
    default: return t.toLowerCase();
  }
}

const wider = (a: IntType, b: IntType): IntType => (INT_RANK[a]! >= INT_RANK[b]! ? a : b);

/** The type two numeric operands combine into; undefined when either is unknown or not numeric. */
export function combinedType(a: DataType | undefined, b: DataType | undefined): DataType | undefined {
  const numeric = (t: DataType | undefined) => isIntType(t) || isInexact(t);
  if (!numeric(a) || !numeric(b)) return undefined;
  if (isFloatType(a) || isFloatType(b)) return 'DOUBLE';
  if (a === 'DECIMAL' || b === 'DECIMAL') return 'DECIMAL';
  return wider(a as IntType, b as IntType);
}

const FLOAT_FUNCTIONS = new Set(['SQRT', 'CBRT', 'POWER', 'POW', 'EXP', 'LN', 'LOG', 'LOG10', 'PI', 'RANDOM', 'DEGREES', 'RADIANS', 'SIN', 'COS', 'TAN', 'ASIN', 'ACOS', 'ATAN', 'ATAN2']);
const ROUNDING_FUNCTIONS = new Set(['ROUND', 'TRUNC', 'CEIL', 'CEILING', 'FLOOR']);
/** Functions whose value is a TIMESTAMP (UTC ms). */
const TIMESTAMP_FUNCTIONS = new Set(['NOW', 'CURRENT_TIMESTAMP', 'LOCALTIMESTAMP', 'DATE_TRUNC', 'MAKE_TIMESTAMP', 'TO_TIMESTAMP']);

/**
 * The static type of an expression where the plan knows it: a column's
 * declared type, a CAST's type, a number literal's type (INT, BIGINT or
 * DECIMAL; a lifted literal's parameter carries it), and what arithmetic and
 * the numeric functions make of those. Undefined when unknown.
 */
export function staticType(e: Expr, scope: Scope): DataType | undefined {
  switch (e.kind) {
    case 'literal': {
      if (e.type) return e.type;
      const v = e.value;
      if (typeof v === 'boolean') return 'BOOLEAN';
      if (typeof v === 'bigint') return 'BIGINT';
      if (typeof v !== 'number') return undefined;
      if (!Number.isInteger(v)) return 'DECIMAL';
      return v >= -2147483648 && v <= 2147483647 ? 'INT' : 'BIGINT';
    }
    case 'param': return e.type;
    case 'cast': return e.type;
    case 'column':
      try {
        const { slot, scope: at } = scope.resolveOuter(e.table, e.name);
        const t = at.columns[slot].type;
        return t === 'UNKNOWN' ? undefined : t;
      } catch {
        return undefined;
      }
    case 'unary': return e.op === 'NOT' ? 'BOOLEAN' : staticType(e.arg, scope);
    case 'binary':
      if (e.op === '||') return undefined;
      // JSON operators: -> and #> give JSON, ->> and #>> text, the tests (? ?| ?& @> <@) and regex matches booleans.
      if (e.op === '->' || e.op === '#>') return 'JSON';
      if (e.op === '->>' || e.op === '#>>') return 'TEXT';
      if (['?', '?|', '?&', '@>', '<@', '~', '~*', '!~', '!~*'].includes(e.op)) return 'BOOLEAN';
      if (e.op === 'AND' || e.op === 'OR' || e.op === '=' || e.op === '<>' || e.op === '<' || e.op === '<=' || e.op === '>' || e.op === '>=') return 'BOOLEAN';
    {
      const lt = staticType(e.left, scope);
      const rt = staticType(e.right, scope);
      return intervalResultType(e.op, lt, rt) ?? combinedType(lt, rt);
    }
    case 'like': case 'in': case 'between': case 'isNull': case 'exists': case 'inSubquery':
      return 'BOOLEAN';
    case 'case': {
      const types = e.whens.map((w) => staticType(w.then, scope));
      if (e.else) types.push(staticType(e.else, scope));
      return sameOrCombined(types);
    }
    case 'call': {
      const arg = e.args[0] ? staticType(e.args[0], scope) : undefined;
      if (e.name === 'COUNT') return 'BIGINT';
      if (TIMESTAMP_FUNCTIONS.has(e.name)) return 'TIMESTAMP';
      if (e.name === 'CURRENT_DATE' || e.name === 'MAKE_DATE' || e.name === 'TO_DATE') return 'DATE';
      if (e.name === 'SUM') return isIntType(arg) ? 'BIGINT' : arg;
      if (e.name === 'AVG') return arg === 'INTERVAL' ? arg : 'DECIMAL';
      if (e.name === 'MIN' || e.name === 'MAX' || e.name === 'ABS' || e.name === 'SIGN') return arg;
      if (FLOAT_FUNCTIONS.has(e.name)) return 'DOUBLE';
      if (ROUNDING_FUNCTIONS.has(e.name)) return arg === 'DECIMAL' ? 'DECIMAL' : isIntType(arg) || isFloatType(arg) ? 'DOUBLE' : undefined;
      if (e.name === 'MOD') return combinedType(arg, e.args[1] ? staticType(e.args[1], scope) : undefined);
      if (e.name === 'COALESCE' || e.name === 'NULLIF' || e.name === 'GREATEST' || e.name === 'LEAST') {
        return sameOrCombined(e.args.map((a) => staticType(a, scope)));
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function sameOrCombined(types: (DataType | undefined)[]): DataType | undefined {
  if (types.length === 0 || types.some((t) => t === undefined)) return undefined;
  let t = types[0];
  for (const u of types.slice(1)) t = t === u ? t : combinedType(t, u);
  return t;
}

/** The smallest integer type holding an integral value (a parameter's, or a value of unknown type). */
const valueIntType = (v: number | bigint): IntType =>
  (typeof v === 'number' ? v >= -2147483648 && v <= 2147483647 : v >= -2147483648n && v <= 2147483647n) ? 'INT' : 'BIGINT';

const RANGE: Record<IntType, [bigint, bigint]> = {
  SMALLINT: [-32768n, 32767n],
  INT: [-2147483648n, 2147483647n],
  BIGINT: [-(2n ** 63n), 2n ** 63n - 1n],
};

export function intOutOfRange(t: IntType, what: string): KalamError {
  const [lo, hi] = RANGE[t];
  const wider = t === 'BIGINT' ? 'cast an operand to DOUBLE' : `cast an operand to BIGINT (x::BIGINT)`;
  return new KalamError('OUT_OF_RANGE', `${pgTypeName(t)} out of range: ${what} does not fit in ${t} (${lo} to ${hi}); ${wider} for a wider result`);
}

const divZero = () => new KalamError('DIVISION_BY_ZERO', 'Division by zero');

/** A value read as a number for arithmetic: text holding a number is read as one (an untyped literal). */
function operand(v: Value, op: string, other: Value): number | bigint {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) {
    return /^\s*[-+]?\d+\s*$/.test(v) && !Number.isSafeInteger(Number(v)) ? BigInt(v.trim()) : Number(v);
  }
  const kind = (x: Value) => (typeof x === 'string' ? `text ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + '…' : x)}` : typeof x === 'object' ? 'a JSON or BYTES value' : `a ${typeof x}`);
  throw new KalamError('TYPE_MISMATCH', `Operator ${op} needs numbers, got ${kind(v)} ${op} ${kind(other)}: cast the operands to a number type`);
}

const isIntegral = (v: number | bigint) => typeof v === 'bigint' || Number.isInteger(v);

type NumberOp = (a: number, b: number) => number;

const unsupportedOp = (op: string) => new KalamError('UNSUPPORTED', `Operator ${op} is not supported`);

/** Integer operators on numbers (the range is checked by the caller). */
const INT_OPS: Record<string, NumberOp> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => { if (b === 0) throw divZero(); return Math.trunc(a / b); },
  '%': (a, b) => { if (b === 0) throw divZero(); return a % b; },
};

/** Integer arithmetic in type `t`: exact, truncating division, OUT_OF_RANGE past the type. */
export function intArith(op: string, a: number | bigint, b: number | bigint, t: IntType): number | bigint {
  const f = INT_OPS[op];
  if (!f) throw unsupportedOp(op);
  const [lo, hi] = RANGE[t];
  if (typeof a === 'number' && typeof b === 'number') {
    const v = f(a, b) + 0; // -0 → 0
    if (Number.isSafeInteger(v)) {
      if (v < lo || v > hi) throw intOutOfRange(t, `${a} ${op} ${b}`);
      return v;
    }
    // Past 2^53 a number loses digits: redo it exactly (the range check follows).
  }
  const x = BigInt(a);
  const y = BigInt(b);
  if (y === 0n && (op === '/' || op === '%')) throw divZero();
  const v = op === '+' ? x + y : op === '-' ? x - y : op === '*' ? x * y : op === '/' ? x / y : x % y;
  if (v < lo || v > hi) throw intOutOfRange(t, `${a} ${op} ${b}`);
  // A bigint operand keeps the result a bigint; numbers stay numbers while exact.
  return typeof a === 'bigint' || typeof b === 'bigint' || !Number.isSafeInteger(Number(v)) ? v : Number(v);
}

/** Floating-point arithmetic; a finite result is required of finite operands (PostgreSQL's float8 overflow check). */
export function floatArith(op: string, a: number, b: number, checkUnderflow: boolean): number {
  if (b === 0 && (op === '/' || op === '%')) throw divZero();
  const v = op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : op === '/' ? a / b : op === '%' ? a % b : NaN;
  if (v !== v && !(op in INT_OPS)) throw unsupportedOp(op); // eslint-disable-line no-self-compare
  if ((v === Infinity || v === -Infinity) && Number.isFinite(a) && Number.isFinite(b)) {
    throw new KalamError('OUT_OF_RANGE', `value out of range: overflow (${a} ${op} ${b} is past double precision's range)`);
  }
  if (checkUnderflow && v === 0 && a !== 0 && (op === '*' ? b !== 0 : op === '/' && Number.isFinite(b))) {
    throw new KalamError('OUT_OF_RANGE', `value out of range: underflow (${a} ${op} ${b} is too small for double precision)`);
  }
  return v;
}

/**
 * `l op r` for + - * / %, by the operands' static types (`lt`, `rt`;
 * undefined when unknown). Operands of known types that are plain numbers
 * take a fast path; everything else (bigints, text, unknown types, results
 * near a limit) goes through intArith/floatArith.
 */
export function compileArithmetic(op: string, l: Evaluator, r: Evaluator, lt: DataType | undefined, rt: DataType | undefined): Evaluator {
  const inexact = isInexact(lt) || isInexact(rt);
  const underflow = isFloatType(lt) || isFloatType(rt);
  const lInt = isIntType(lt) ? lt : undefined;
  const rInt = isIntType(rt) ? rt : undefined;
  // Interval arithmetic (timestamp - timestamp, timestamp ± interval, interval * number, …): INTERVAL's chunk.
  if (intervalResultType(op, lt, rt)) {
    const m = intervalMath();
    return (row, ctx) => {
      const a = l(row, ctx);
      const b = r(row, ctx);
      return a === null || b === null ? null : m.arith(op, a, b, lt, rt);
    };
  }
  const general = (av: Value, bv: Value): Value => {
    if (av instanceof Interval || bv instanceof Interval) return intervalMath().arith(op, av, bv, lt, rt);
    if (av instanceof Decimal || bv instanceof Decimal) {
      // DECIMAL with anything but a float is exact; with a FLOAT/DOUBLE operand it is float arithmetic (as numeric and float8 combine).
      if (!underflow) return decimalMath().arith(op, av, bv);
      return floatArith(op, av instanceof Decimal ? decimalToNumber(av) : Number(operand(av, op, bv)), bv instanceof Decimal ? decimalToNumber(bv) : Number(operand(bv, op, av)), true);
    }
    const a = operand(av, op, bv);
    const b = operand(bv, op, av);
    if (!inexact && isIntegral(a) && isIntegral(b)) {
      return intArith(op, a, b, wider(lInt ?? valueIntType(a), rInt ?? valueIntType(b)));
    }
    return floatArith(op, Number(a), Number(b), underflow);
  };
  const intOp = INT_OPS[op];
  if (!intOp) throw unsupportedOp(op);
  if (lInt && rInt) {
    const t = wider(lInt, rInt);
    const lo = Number(RANGE[t][0]);
    const hi = Number(RANGE[t][1]);
    return (row, ctx) => {
      const a = l(row, ctx);
      const b = r(row, ctx);
      if (a === null || b === null) return null;
      if (typeof a === 'number' && typeof b === 'number') {
        const v = intOp(a, b) + 0;
        if (v >= lo && v <= hi && Number.isSafeInteger(v)) return v;
      }
      return general(a, b);
    };
  }
  if (inexact && op !== '%') {
    return (row, ctx) => {
      const a = l(row, ctx);
      const b = r(row, ctx);
      if (a === null || b === null) return null;
      if (typeof a === 'number' && typeof b === 'number' && b !== 0) {
        const v = op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : a / b;
        if (Number.isFinite(v) && v !== 0) return v;
      }
      return general(a, b);
    };
  }
  return (row, ctx) => {
    const av = l(row, ctx);
    const bv = r(row, ctx);
    if (av === null || bv === null) return null;
    return general(av, bv);
  };
}

/** Unary minus: an integer of a known type stays within it (-(-2147483648) is out of range for INT). */
export function compileNegate(a: Evaluator, t: DataType | undefined): Evaluator {
  const it = isIntType(t) ? t : undefined;
  return (r, ctx) => {
    const v = a(r, ctx);
    if (v === null) return null;
    if (v instanceof Decimal) return new Decimal(-v.unscaled, v.scale);
    if (v instanceof Interval) return intervalMath().negate(v);
    if (typeof v === 'bigint') {
      if (v === RANGE.BIGINT[0]) throw intOutOfRange('BIGINT', `-(${v})`);
      return -v;
    }
    if (typeof v === 'number') {
      if (it && it !== 'BIGINT' && -v > Number(RANGE[it][1])) throw intOutOfRange(it, `-(${v})`);
      return it ? -v + 0 : -v;
    }
    throw new KalamError('TYPE_MISMATCH', `Cannot negate ${typeof v === 'string' ? 'text' : `a ${typeof v}`}: the operand of unary - must be a number`);
  };
}
