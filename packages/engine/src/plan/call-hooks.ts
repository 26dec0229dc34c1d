/**
 * Calls compiled with more than their argument values: JSON functions (they
 * need to know which operands are JSON already) and the regexp functions
 * (each call site keeps its compiled pattern). compile.ts offers every call
 * here before looking the name up in functions.ts.
 */
import type { Evaluator } from '../exec/context';
import type { Expr } from '../sql/ast';
import { compileJsonCall } from './json-functions';
import { compileRegexCall } from './regex-functions';
import type { Scope } from './scope';

export function compileSpecialCall(e: Extract<Expr, { kind: 'call' }>, scope: Scope, c: (x: Expr) => Evaluator): Evaluator | undefined {
  return compileJsonCall(e, scope, c) ?? compileRegexCall(e, c);
}
