/**
 * regexp_like, regexp_match, regexp_replace, regexp_count, regexp_substr,
 * regexp_split_to_array and the `~ ~* !~ !~*` operators (convert.ts turns those into REGEXP_LIKE calls) over the
 * linear-time matcher of regex.ts. A pattern is bounded like a LIKE
 * pattern (maxLikePatternLength) and compiles to at most REGEX_MAX_STATES
 * states; each call site keeps its last compiled pattern.
 */
import { KalamError } from '../core/errors';
import type { JsonValue, Value } from '../core/types';
import type { Evaluator, ExecContext } from '../exec/context';
import type { Expr } from '../sql/ast';
import { limitExceeded, SQL_LIMIT_DEFAULTS } from '../sql/limits';
import { compileRegex, execRegex, type Regex } from './regex';
import { fits, str } from './scalar-args';

type Call = Extract<Expr, { kind: 'call' }>;

const codePoints = (s: string): number[] => Array.from(s, (c) => c.codePointAt(0)!);
const textOf = (cps: readonly number[], from: number, to: number): string => String.fromCodePoint(...cps.slice(from, to));

/** A compiler keeping the last pattern and flags it compiled (patterns are almost always constant). */
function memo(): (pattern: string, flags: string, ctx: ExecContext) => Regex {
  let last: { pattern: string; flags: string; re: Regex } | undefined;
  return (pattern, flags, ctx) => {
    if (last && last.pattern === pattern && last.flags === flags) return last.re;
    const max = ctx.limits?.maxLikePatternLength ?? SQL_LIMIT_DEFAULTS.maxLikePatternLength;
    if (pattern.length > max) throw limitExceeded('maxLikePatternLength', `A regular expression of ${pattern.length.toLocaleString('en-US')} characters`, max);
    last = { pattern, flags, re: compileRegex(pattern, flags) };
    return last.re;
  };
}

function arity(e: Call, min: number, max: number, usage: string): void {
  if (e.args.length < min || e.args.length > max) throw new KalamError('INVALID_SQL', `${e.name.toLowerCase()}() takes ${usage}`);
}

/** PostgreSQL's replacement text: \1 … \9 a group, \& the whole match, \\ a backslash. */
function expand(repl: string, text: readonly number[], caps: Int32Array): string {
  let out = '';
  for (let i = 0; i < repl.length; i++) {
    const ch = repl[i];
    if (ch !== '\\' || i + 1 >= repl.length) {
      out += ch;
      continue;
    }
    const next = repl[++i];
    const g = next === '&' ? 0 : /[1-9]/.test(next) ? Number(next) : -1;
    if (g < 0) out += next === '\\' ? '\\' : `\\${next}`;
    else if (2 * g < caps.length && caps[2 * g] >= 0) out += textOf(text, caps[2 * g], caps[2 * g + 1]);
  }
  return out;
}

/** Every match from `from` on, left to right, not overlapping; an empty match right after the previous one is skipped (PostgreSQL). */
function* matches(re: Regex, text: readonly number[], from: number): Generator<Int32Array> {
  let lastEnd = -1;
  while (from <= text.length) {
    const caps = execRegex(re, text, from);
    if (!caps) return;
    if (caps[1] === caps[0] && caps[0] === lastEnd) {
      from = caps[0] + 1;
      continue;
    }
    yield caps;
    lastEnd = caps[1];
    from = caps[1] === caps[0] ? caps[1] + 1 : caps[1];
  }
}

/** A 1-based position or count argument: a positive whole number. */
function positive(v: Value | undefined, fn: string, what: string): number {
  if (v === undefined) return 1;
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : Number.NaN;
  if (!Number.isInteger(n) || n < 1) throw new KalamError('INVALID_PARAMETER', `${fn}(): invalid value for parameter "${what}": ${String(v)} (a whole number from 1)`);
  return n;
}

/** regexp_count(s, p [, start [, flags]]), regexp_substr(s, p [, start [, N [, flags [, subexpr]]]]), regexp_split_to_array(s, p [, flags]). */
function compileMoreRegexCall(e: Call, c: (x: Expr) => Evaluator): Evaluator {
  const name = e.name;
  const fn = name.toLowerCase();
  if (name === 'REGEXP_COUNT') arity(e, 2, 4, 'a string, a pattern, an optional start position and optional flags');
  else if (name === 'REGEXP_SUBSTR') arity(e, 2, 6, 'a string, a pattern, and optionally a start position, an occurrence, flags and a subexpression');
  else arity(e, 2, 3, 'a string, a pattern and optional flags');
  const args = e.args.map(c);
  const flagsAt = name === 'REGEXP_COUNT' ? 3 : name === 'REGEXP_SUBSTR' ? 4 : 2;
  const regex = memo();
  return (r, ctx) => {
    const vals = args.map((a) => a(r, ctx));
    if (vals.some((v) => v === null)) return null;
    const flags = vals[flagsAt] === undefined ? '' : str(vals[flagsAt]);
    if (flags.includes('g')) throw new KalamError('INVALID_PARAMETER', `${fn}() does not support the "global" option (g): it is for regexp_replace`);
    const re = regex(str(vals[1]), flags, ctx);
    const text = codePoints(str(vals[0]));
    if (name === 'REGEXP_SPLIT_TO_ARRAY') {
      const parts: string[] = [];
      let at = 0;
      for (const caps of matches(re, text, 0)) {
        // A zero-length match at the start or the end of the text splits nothing (PostgreSQL).
        if (caps[0] === caps[1] && (caps[0] === 0 || caps[0] === text.length)) continue;
        parts.push(textOf(text, at, caps[0]));
        at = caps[1];
      }
      parts.push(textOf(text, at, text.length));
      return Object.freeze(parts) as JsonValue;
    }
    const start = positive(vals[2], fn, 'start') - 1;
    if (name === 'REGEXP_COUNT') {
      let n = 0;
      for (const _ of matches(re, text, start)) n++;
      return n;
    }
    const occurrence = positive(vals[3], fn, 'n');
    const group = vals[5] === undefined ? 0 : typeof vals[5] === 'number' && Number.isInteger(vals[5]) && vals[5] >= 0 ? vals[5] : -1;
    if (group < 0) throw new KalamError('INVALID_PARAMETER', `${fn}(): invalid value for parameter "subexpr": ${String(vals[5])} (0 for the whole match, 1… for a group)`);
    let k = 0;
    for (const caps of matches(re, text, start)) {
      if (++k < occurrence) continue;
      if (group > re.groups || caps[2 * group] < 0) return null;
      return textOf(text, caps[2 * group], caps[2 * group + 1]);
    }
    return null;
  };
}

export function compileRegexCall(e: Call, c: (x: Expr) => Evaluator): Evaluator | undefined {
  const name = e.name;
  if (name === 'REGEXP_COUNT' || name === 'REGEXP_SUBSTR' || name === 'REGEXP_SPLIT_TO_ARRAY') return compileMoreRegexCall(e, c);
  if (name !== 'REGEXP_LIKE' && name !== 'REGEXP_MATCH' && name !== 'REGEXP_REPLACE') return undefined;
  if (name === 'REGEXP_REPLACE') arity(e, 3, 4, 'a string, a pattern, a replacement and optional flags');
  else arity(e, 2, 3, 'a string, a pattern and optional flags');
  const args = e.args.map(c);
  const flagsAt = name === 'REGEXP_REPLACE' ? 3 : 2;
  const regex = memo();
  return (r, ctx) => {
    const vals = args.map((a) => a(r, ctx));
    if (vals.some((v) => v === null)) return null;
    const flags = vals[flagsAt] === undefined ? '' : str(vals[flagsAt]);
    if (typeof vals[flagsAt] === 'number' || typeof vals[flagsAt] === 'bigint') {
      throw new KalamError('UNSUPPORTED', `${name.toLowerCase()}() with a start position is not supported: pass flags ('g', 'i') as the last argument`);
    }
    if (flags.includes('g') && name !== 'REGEXP_REPLACE') {
      throw new KalamError('INVALID_PARAMETER', `${name.toLowerCase()}() does not support the "global" option (g): it is for regexp_replace`);
    }
    const re = regex(str(vals[1]), flags, ctx);
    const text = codePoints(str(vals[0]));
    if (name === 'REGEXP_LIKE') return execRegex(re, text, 0) !== undefined;
    if (name === 'REGEXP_MATCH') {
      const caps = execRegex(re, text, 0);
      if (!caps) return null;
      const out: (string | null)[] = [];
      if (re.groups === 0) out.push(textOf(text, caps[0], caps[1]));
      for (let g = 1; g <= re.groups; g++) out.push(caps[2 * g] >= 0 ? textOf(text, caps[2 * g], caps[2 * g + 1]) : null);
      return Object.freeze(out) as JsonValue;
    }
    return replace(re, text, str(vals[2]), flags.includes('g'), ctx);
  };
}

function replace(re: Regex, text: readonly number[], repl: string, isGlobal: boolean, ctx: ExecContext): Value {
  const max = ctx.limits?.maxTextLength ?? SQL_LIMIT_DEFAULTS.maxTextLength;
  let out = '';
  let at = 0;
  let from = 0;
  while (from <= text.length) {
    const caps = execRegex(re, text, from);
    if (!caps) break;
    out += textOf(text, at, caps[0]) + expand(repl, text, caps);
    fits(out.length, 'REGEXP_REPLACE', max);
    at = caps[1];
    if (!isGlobal) break;
    if (caps[1] === caps[0]) {
      // An empty match: keep the next character and look again after it.
      if (caps[1] < text.length) out += textOf(text, caps[1], caps[1] + 1);
      at = caps[1] + 1;
      from = caps[1] + 1;
    } else from = caps[1];
  }
  if (at < text.length) out += textOf(text, at, text.length);
  fits(out.length, 'REGEXP_REPLACE', max);
  return out;
}
