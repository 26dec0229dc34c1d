/**
 * EMBEDDING(n) values and the distance functions, a chunk loaded on first
 * use (execute/sql-extensions.ts): the dimension check of a column
 * definition, coerce() into an EMBEDDING column, and COSINE_DISTANCE,
 * L2_DISTANCE and INNER_PRODUCT, which register with plan/functions.ts.
 *
 * A vector is written as a Float32Array, an array of numbers, or text
 * '[0.1, 0.2, …]' (KalamDB's literal); every element must be a finite
 * number. Distances are computed in doubles over the float32 elements.
 */
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import { describeValue } from '../core/values';
import { registerVectorMath, type VectorMath } from '../core/vector-registry';
import { registerScalarFunctions } from './functions';
import type { ScalarFn } from './scalar-args';

/** EMBEDDING(n)'s largest n, as KalamDB's. */
export const MAX_EMBEDDING_DIMENSION = 8192;

function dimension(column: string, p: string | undefined, s: string | undefined, position?: number): number {
  const n = Number(p);
  if (p === undefined || s !== undefined || !Number.isInteger(n) || n < 1 || n > MAX_EMBEDDING_DIMENSION) {
    const written = p === undefined ? 'EMBEDDING' : `EMBEDDING(${p}${s === undefined ? '' : `,${s}`})`;
    throw new KalamError('INVALID_SQL', `Column '${column}': ${written} is invalid; write EMBEDDING(n) with n, the vector's dimension, from 1 to ${MAX_EMBEDDING_DIMENSION}`, position);
  }
  return n;
}

/** `v` read as a vector, or undefined when it is none (not a vector, or an element that is not a finite number). */
export function readVector(v: unknown): Float32Array | undefined {
  if (v instanceof Float32Array) return v.every(Number.isFinite) ? v : undefined;
  let items: readonly unknown[];
  if (Array.isArray(v)) items = v;
  else if (typeof v === 'string') {
    const t = v.trim();
    if (t[0] !== '[' || t[t.length - 1] !== ']') return undefined;
    const body = t.slice(1, -1).trim();
    items = body === '' ? [] : body.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
  } else if (v instanceof Float64Array) items = Array.from(v);
  else return undefined;
  const out = new Float32Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const x = items[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) return undefined;
    const f = Math.fround(x);
    if (!Number.isFinite(f)) return undefined;
    out[i] = f;
  }
  return out;
}

function coerce(value: unknown, dim: number | undefined, column: string): Float32Array {
  const v = readVector(value);
  const n = dim ?? 0;
  if (!v) {
    throw new KalamError('TYPE_MISMATCH', `Cannot store ${describeValue(value as Value)} in column '${column}' of type EMBEDDING(${n}): pass a Float32Array, an array of ${n} finite numbers or text '[0.1, 0.2, …]'`);
  }
  if (v.length !== n) {
    throw new KalamError('TYPE_MISMATCH', `Column '${column}' is EMBEDDING(${n}) and cannot hold a vector of ${v.length} element(s): pass exactly ${n}`);
  }
  return v;
}

export const VECTOR_MATH: VectorMath = { dimension, coerce };

/** Both arguments of a distance function as vectors of one dimension, or TYPE_MISMATCH naming the function. */
function pair(fn: string, args: Value[]): [Float32Array, Float32Array] {
  if (args.length !== 2) throw new KalamError('INVALID_SQL', `${fn}() takes exactly two arguments, two vectors of one dimension`);
  const [a, b] = args;
  const x = readVector(a);
  const y = readVector(b);
  if (!x || !y) {
    throw new KalamError('TYPE_MISMATCH', `${fn}(): ${describeValue(x ? b : a)} is not a vector; pass an EMBEDDING column, a Float32Array, an array of numbers or text '[0.1, 0.2, …]'`);
  }
  if (x.length !== y.length) {
    throw new KalamError('TYPE_MISMATCH', `${fn}(): the vectors have different dimensions (${x.length} and ${y.length}); compare vectors of the column's dimension`);
  }
  return [x, y];
}

export function dot(x: Float32Array, y: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  return s;
}

/** 1 − cos(x, y); NaN when either vector is all zeros (it has no direction). */
export function cosineDistance(x: Float32Array, y: Float32Array): number {
  let d = 0;
  let nx = 0;
  let ny = 0;
  for (let i = 0; i < x.length; i++) {
    d += x[i] * y[i];
    nx += x[i] * x[i];
    ny += y[i] * y[i];
  }
  return nx === 0 || ny === 0 ? NaN : 1 - d / Math.sqrt(nx * ny);
}

export function l2Distance(x: Float32Array, y: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const t = x[i] - y[i];
    s += t * t;
  }
  return Math.sqrt(s);
}

/** The distance functions (strict: NULL in → NULL out). A zero vector's cosine distance is NULL. */
export const VECTOR_FUNCTIONS: Record<string, ScalarFn> = {
  COSINE_DISTANCE: (args) => {
    const d = cosineDistance(...pair('cosine_distance', args));
    return Number.isNaN(d) ? null : d;
  },
  L2_DISTANCE: (args) => l2Distance(...pair('l2_distance', args)),
  INNER_PRODUCT: (args) => dot(...pair('inner_product', args)),
};

/** Called once as the chunk loads. */
export function registerVectors(): void {
  registerVectorMath(VECTOR_MATH);
  registerScalarFunctions(VECTOR_FUNCTIONS);
}
