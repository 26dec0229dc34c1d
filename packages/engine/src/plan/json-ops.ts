/**
 * The JSON operators `-> ->> #> #>> ? ?| ?& @> <@` with PostgreSQL's jsonb
 * semantics (json-values.ts holds the value rules). compile.ts hands every
 * binary expression with one of these operators (function-names.ts's
 * JSON_OPS) here through call-hooks.ts: a SQL extension, loaded with the
 * JSON functions (execute/sql-extensions.ts).
 */
import { KalamError } from '../core/errors';
import type { JsonValue, Value } from '../core/types';
import type { Evaluator, ExecContext } from '../exec/context';
import type { Expr } from '../sql/ast';
import { SQL_LIMIT_DEFAULTS } from '../sql/limits';
import {
  asJson, isJsonExpr, jsonAsText, jsonContains, jsonGet, jsonGetPath, jsonHasKey, textArray,
} from './json-values';
import type { Scope } from './scope';

export type JsonOp = '->' | '->>' | '#>' | '#>>' | '?' | '?|' | '?&' | '@>' | '<@';

export const maxJsonDepthOf = (ctx: ExecContext): number => ctx.limits?.maxJsonDepth ?? SQL_LIMIT_DEFAULTS.maxJsonDepth;

/** An evaluator giving `e`'s value as JSON (SQL NULL as null, a JSON null as JSON_NULL). */
export function jsonOperand(e: Expr, scope: Scope, c: (x: Expr) => Evaluator, what: string): (r: Parameters<Evaluator>[0], ctx: ExecContext) => JsonValue | null {
  const ev = c(e);
  const isJson = isJsonExpr(e, scope);
  return (r, ctx) => asJson(ev(r, ctx), isJson, what, maxJsonDepthOf(ctx));
}

export function compileJsonOp(e: { op: JsonOp; left: Expr; right: Expr }, scope: Scope, c: (x: Expr) => Evaluator): Evaluator {
  const op = e.op;
  const left = jsonOperand(e.left, scope, c, `The left side of ${op}`);
  switch (op) {
    case '->': case '->>': {
      const key = c(e.right);
      const asText = op === '->>';
      return (r, ctx) => {
        const j = left(r, ctx);
        const k = key(r, ctx);
        if (j === null || k === null) return null;
        const v = jsonGet(j, k);
        return asText ? jsonAsText(v) : v;
      };
    }
    case '#>': case '#>>': {
      const path = c(e.right);
      const asText = op === '#>>';
      return (r, ctx) => {
        const j = left(r, ctx);
        const p = path(r, ctx);
        if (j === null || p === null) return null;
        const v = jsonGetPath(j, textArray(p, `The path of ${op}`));
        return asText ? jsonAsText(v) : v;
      };
    }
    case '?': {
      const key = c(e.right);
      return (r, ctx) => {
        const j = left(r, ctx);
        const k = key(r, ctx);
        if (j === null || k === null) return null;
        if (typeof k !== 'string') throw new KalamError('TYPE_MISMATCH', `The right side of ? is a key (text), got ${typeof k}`);
        return jsonHasKey(j, k);
      };
    }
    case '?|': case '?&': {
      const keys = c(e.right);
      const any = op === '?|';
      return (r, ctx) => {
        const j = left(r, ctx);
        const k = keys(r, ctx);
        if (j === null || k === null) return null;
        const list = textArray(k, `The right side of ${op}`).filter((x): x is string => x !== null);
        return any ? list.some((x) => jsonHasKey(j, x)) : list.every((x) => jsonHasKey(j, x));
      };
    }
    case '@>': case '<@': {
      const right = jsonOperand(e.right, scope, c, `The right side of ${op}`);
      const contains = op === '@>';
      return (r, ctx) => {
        const a = left(r, ctx);
        const b = right(r, ctx);
        if (a === null || b === null) return null;
        return contains ? jsonContains(a, b) : jsonContains(b, a);
      };
    }
  }
}

/** What `v` is, for a message. */
export const typeName = (v: Value): string => (v === null ? 'NULL' : Array.isArray(v) ? 'an array' : typeof v);
