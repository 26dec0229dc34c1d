/**
 * Calls compiled with more than their argument values: JSON functions (they
 * need to know which operands are JSON already) and the regexp functions
 * (each call site keeps its compiled pattern). compile.ts offers every call
 * here before looking the name up in functions.ts.
 *
 * The regexp functions (regex-functions.ts, regex.ts) are a SQL extension,
 * loaded on first use (execute/sql-extensions.ts): they register here.
 */
import { KalamError } from '../core/errors';
import type { Evaluator } from '../exec/context';
import type { Expr } from '../sql/ast';
import { compileJsonCall } from './json-functions';
import type { compileRegexCall } from './regex-functions';
import type { Scope } from './scope';

/** The calls regex-functions.ts compiles (convert.ts turns `~ ~* !~ !~*` into REGEXP_LIKE). */
const REGEX_CALLS = new Set(['REGEXP_LIKE', 'REGEXP_MATCH', 'REGEXP_REPLACE']);

let regexCalls: typeof compileRegexCall | undefined;

/** Called by the regular expressions extension as it loads. */
export function registerRegexCalls(compile: typeof compileRegexCall): void {
  regexCalls = compile;
}

function compileRegex(e: Extract<Expr, { kind: 'call' }>, c: (x: Expr) => Evaluator): Evaluator | undefined {
  if (!REGEX_CALLS.has(e.name)) return undefined;
  if (regexCalls === undefined) {
    throw new KalamError('UNSUPPORTED', 'Regular expressions are not loaded: this statement reached planning before they were loaded (execute/sql-extensions.ts). This is a bug in kalamlite; please report it with the statement');
  }
  return regexCalls(e, c);
}

export function compileSpecialCall(e: Extract<Expr, { kind: 'call' }>, scope: Scope, c: (x: Expr) => Evaluator): Evaluator | undefined {
  return compileJsonCall(e, scope, c) ?? compileRegex(e, c);
}
