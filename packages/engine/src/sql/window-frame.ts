/**
 * Window frame clauses (`ROWS|RANGE|GROUPS BETWEEN … AND …`), read here
 * from the tokens rather than by node-sql-parser: its PostgreSQL grammar
 * reads only ROWS, and only with literal offsets, so `RANGE …`, `GROUPS …`
 * and `ROWS $1 PRECEDING` (what literal lifting makes of `ROWS 1 PRECEDING`)
 * would be syntax errors. rewrite.ts puts the marker `ROWS k PRECEDING` in
 * place of frame number k; convert.ts reads the marker back.
 */
import { KalamError } from '../core/errors';
import type { Expr, FrameBound, WindowFrame } from './ast';
import type { Token } from './lexer';

/** Where a frame clause lies among the tokens: tokens[start, close) (tokens[close] is the spec's `)`). */
export interface FrameClause {
  start: number;
  close: number;
  frame: WindowFrame;
}

const UNITS = new Set(['ROWS', 'RANGE', 'GROUPS']);
/** Words that end a WINDOW clause at its own depth. */
const AFTER_WINDOW_CLAUSE = new Set(['ORDER', 'LIMIT', 'OFFSET', 'UNION', 'INTERSECT', 'EXCEPT', 'FETCH', 'FOR']);

const word = (t: Token | undefined): string => (t && t.type === 'word' ? t.text.toUpperCase() : '');

/**
 * The frame clauses of every window specification (`OVER (…)`, and
 * `WINDOW w AS (…)`), by the index of their first token. A specification's
 * parenthesis is one opened right after OVER, or after `name AS` inside a
 * WINDOW clause.
 */
export function findFrames(tokens: readonly Token[]): Map<number, FrameClause> {
  const found = new Map<number, FrameClause>();
  // For each open parenthesis: does it hold a window specification? Bounded by the nesting.
  const isSpec: boolean[] = [];
  let windowClauseDepth = -1;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.type === 'punct') {
      if (t.text === '(') {
        const prev = word(tokens[k - 1]);
        isSpec.push(prev === 'OVER' || (prev === 'AS' && windowClauseDepth === isSpec.length));
      } else if (t.text === ')') {
        isSpec.pop();
        if (isSpec.length < windowClauseDepth) windowClauseDepth = -1;
      }
      continue;
    }
    const w = word(t);
    if (w === 'WINDOW') windowClauseDepth = isSpec.length;
    else if (AFTER_WINDOW_CLAUSE.has(w) && windowClauseDepth === isSpec.length) windowClauseDepth = -1;
    else if (UNITS.has(w) && isSpec[isSpec.length - 1] && startsBound(tokens[k + 1])) {
      const close = closingParen(tokens, k);
      if (close < 0) continue; // unbalanced: the parser reports it
      found.set(k, { start: k, close, frame: readFrame(tokens, k, close) });
      k = close - 1;
    }
  }
  return found;
}

/** Can `t` start what follows a frame's unit (so `ORDER BY range` stays a column)? */
function startsBound(t: Token | undefined): boolean {
  if (!t) return false;
  if (t.type === 'number' || t.type === 'param') return true;
  if (t.type === 'punct') return t.text === '-' || t.text === '+';
  return ['BETWEEN', 'UNBOUNDED', 'CURRENT'].includes(word(t));
}

function closingParen(tokens: readonly Token[], from: number): number {
  let depth = 0;
  for (let k = from; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.type !== 'punct') continue;
    if (t.text === '(') depth++;
    else if (t.text === ')' && depth-- === 0) return k;
  }
  return -1;
}

/** Reads `unit [BETWEEN] bound [AND bound]` from tokens[from, close). */
function readFrame(tokens: readonly Token[], from: number, close: number): WindowFrame {
  let k = from;
  const unit = word(tokens[k++]) as WindowFrame['unit'];
  const fail = (what: string): never => {
    const at = tokens[Math.min(k, close)];
    throw new KalamError('PARSE_ERROR', `Syntax error in the window frame near '${at.text}': ${what}`, at.start);
  };
  const bound = (): FrameBound => {
    const w = word(tokens[k]);
    if (w === 'UNBOUNDED') {
      k++;
      const dir = word(tokens[k++]);
      if (dir === 'PRECEDING') return { kind: 'unboundedPreceding' };
      if (dir === 'FOLLOWING') return { kind: 'unboundedFollowing' };
      k--;
      return fail('write UNBOUNDED PRECEDING or UNBOUNDED FOLLOWING');
    }
    if (w === 'CURRENT') {
      k++;
      if (word(tokens[k]) !== 'ROW') return fail('write CURRENT ROW');
      k++;
      return { kind: 'currentRow' };
    }
    const offset = offsetExpr();
    const dir = word(tokens[k++]);
    if (dir === 'PRECEDING') return { kind: 'preceding', offset };
    if (dir === 'FOLLOWING') return { kind: 'following', offset };
    k--;
    return fail('an offset is followed by PRECEDING or FOLLOWING');
  };
  const offsetExpr = (): Expr => {
    let t = tokens[k];
    let negative = false;
    if (t && t.type === 'punct' && (t.text === '-' || t.text === '+')) {
      negative = t.text === '-';
      t = tokens[++k];
    }
    let e: Expr;
    if (t && t.type === 'number') e = { kind: 'literal', value: Number(t.text) };
    else if (t && t.type === 'param' && Number(t.text.slice(1)) >= 1) e = { kind: 'param', index: Number(t.text.slice(1)) - 1 };
    else return fail('a frame bound is UNBOUNDED PRECEDING, n PRECEDING, CURRENT ROW, n FOLLOWING or UNBOUNDED FOLLOWING, with n a number or a $n parameter');
    k++;
    return negative ? { kind: 'unary', op: '-', arg: e } : e;
  };
  let start: FrameBound;
  let end: FrameBound = { kind: 'currentRow' };
  if (word(tokens[k]) === 'BETWEEN') {
    k++;
    start = bound();
    if (word(tokens[k]) !== 'AND') return fail('write BETWEEN start AND end');
    k++;
    end = bound();
  } else {
    start = bound();
  }
  if (word(tokens[k]) === 'EXCLUDE') {
    throw new KalamError('UNSUPPORTED', 'EXCLUDE in a window frame is not supported yet: leave it out (frames include every row between their bounds)', tokens[k].start);
  }
  if (k !== close) return fail('the frame should end here');
  checkFrame({ unit, start, end }, tokens[from].start);
  return { unit, start, end };
}

/** PostgreSQL's rules on which bounds may pair (its own messages). */
function checkFrame(f: WindowFrame, position: number): void {
  const bad = (message: string): never => {
    throw new KalamError('INVALID_SQL', message, position);
  };
  if (f.start.kind === 'unboundedFollowing') bad('Frame start cannot be UNBOUNDED FOLLOWING');
  if (f.end.kind === 'unboundedPreceding') bad('Frame end cannot be UNBOUNDED PRECEDING');
  if (f.start.kind === 'currentRow' && f.end.kind === 'preceding') bad('Frame starting from current row cannot have preceding rows');
  if (f.start.kind === 'following' && (f.end.kind === 'preceding' || f.end.kind === 'currentRow')) {
    bad('Frame starting from following row cannot have preceding rows');
  }
}

export { UNREAD_WINDOW_FUNCTIONS, WINDOW_FUNCTION_PREFIX } from './window-names';

/** Words after which a WINDOW clause's query goes on (ORDER BY, LIMIT, OFFSET, FETCH). */
const TAIL_WORDS = new Set(['ORDER', 'LIMIT', 'OFFSET', 'FETCH']);
const SET_WORDS = new Set(['UNION', 'INTERSECT', 'EXCEPT']);

/**
 * A WINDOW clause followed by ORDER BY / LIMIT / OFFSET: node-sql-parser
 * reads a WINDOW clause only after them, and silently drops what follows
 * it otherwise, so rewrite.ts writes tokens[tail, end) before
 * tokens[window, tail). Keyed by the index of the WINDOW token.
 */
export interface WindowClauseMove {
  window: number;
  tail: number;
  end: number;
}

export function findWindowClauseMoves(tokens: readonly Token[]): Map<number, WindowClauseMove> {
  const moves = new Map<number, WindowClauseMove>();
  for (let k = 0; k < tokens.length; k++) {
    if (word(tokens[k]) !== 'WINDOW') continue;
    // The clause and the query's tail end where a set operator, a ')' closing the query, or ';' at this depth comes.
    const stop = (t: Token, depth: number) => depth < 0 || (depth === 0 && (SET_WORDS.has(word(t)) || (t.type === 'punct' && t.text === ';')));
    let depth = 0;
    let tail = -1;
    let end = tokens.length;
    for (let j = k + 1; j < tokens.length; j++) {
      const t = tokens[j];
      if (t.type === 'punct' && t.text === '(') depth++;
      else if (t.type === 'punct' && t.text === ')') depth--;
      if (stop(t, depth)) { end = j; break; }
      if (depth === 0 && tail < 0 && TAIL_WORDS.has(word(t))) tail = j;
    }
    if (tail > 0) moves.set(k, { window: k, tail, end });
  }
  return moves;
}
