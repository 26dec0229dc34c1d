/**
 * Rewrites the few shapes node-sql-parser misreads into equivalent shapes it
 * reads, before it sees the text:
 * - `$1::type` fails outside the select list (and inside it the operator after
 *   the cast is dropped); `($1)::type` is read correctly.
 * - `SUM/AVG/MIN/MAX(DISTINCT x)` is a syntax error to it (only COUNT and
 *   STRING_AGG take DISTINCT); it becomes `STRING_AGG(DISTINCT x,
 *   'KALAMLITE_DISTINCT_SUM')`, which it reads with FILTER and OVER after
 *   it, and convert.ts turns back into the distinct aggregate.
 * - A long `IN ($1, $2, …)` list (what literal lifting leaves of a list of
 *   constants) becomes one marker call the parser reads in microseconds —
 *   it needs tens of microseconds per list item — and its values are built
 *   here; convert.ts puts them back.
 * - A window frame clause (`ROWS|RANGE|GROUPS …`) becomes the marker
 *   `ROWS k PRECEDING` for frame number k, read here (window-frame.ts).
 * - A WINDOW clause before ORDER BY / LIMIT moves after them (the parser
 *   reads it only there, and drops what follows it otherwise); `percent_rank()`
 *   and `cume_dist()`, which it cannot read, become marker calls in NTILE().
 * - `IS [NOT] DISTINCT FROM` is a syntax error to it; `x IS [NOT]
 *   DISTINCT_FROM_MARKER + y` is read as IS with `MARKER + y` on the
 *   right, the marker the leftmost operand of that tree: convert.ts takes it
 *   out again (distinctFromOperand).
 * - A statement that is a `VALUES (…), (…)` list (with ORDER BY/LIMIT after
 *   it) is a syntax error to it; it becomes `SELECT * FROM (VALUES …) AS
 *   "*values*"`, as PostgreSQL reads it.
 * - `CAST(x AS a)::b` loses its `::b` in it; `(CAST(x AS a))::b` does not.
 * - `a NATURAL [INNER | LEFT | RIGHT | FULL] JOIN b` is read as a JOIN
 *   without a condition; it becomes `JOIN b USING ("kalamlite_natural")`
 *   (plan/join-using.ts makes the edits and reads the marker).
 * - `UPDATE … SET (a, b) = (x, y)` is a syntax error to it; it becomes
 *   `SET a = x, b = y`; `SET (a, b) = (SELECT x, y FROM … )` becomes
 *   `SET a = (SELECT x FROM …), b = (SELECT y FROM …)`: scalar subqueries,
 *   so no row sets NULLs and more than one is an error, as PostgreSQL has
 *   it for the row subquery.
 * Positions in the rewritten text map back to the text as written, so syntax
 * errors point at what the user typed.
 */
import { KalamError } from '../core/errors';
import type { Expr, WindowFrame } from './ast';
import { tokenize, type Token } from './lexer';
import type { findFrames, findWindowClauseMoves } from './window-frame';
import { UNREAD_WINDOW_FUNCTIONS, WINDOW_FUNCTION_PREFIX } from './window-names';

/**
 * The frame and WINDOW-clause rewriting (window-frame.ts), installed with
 * the window functions (execute/sql-extensions.ts loads them before any
 * statement whose text says OVER or WINDOW, the only ones that have frames
 * or a WINDOW clause). Until then there is none to rewrite.
 */
export interface WindowRewrites {
  findFrames: typeof findFrames;
  findWindowClauseMoves: typeof findWindowClauseMoves;
}
let windowRewrites: WindowRewrites | undefined;

export function registerWindowRewrites(rewrites: WindowRewrites): void {
  windowRewrites = rewrites;
}

/** `SET (a, b) = (SELECT x, y …)`'s select list as one scalar subquery per column (sql/row-subquery.ts, loaded for a text with `SET (`). */
type RowSubqueryColumns = (sql: string, tokens: readonly Token[], select: number, end: number) => string[];
let rowSubqueries: RowSubqueryColumns | undefined;

export function registerRowSubqueries(columns: RowSubqueryColumns): void {
  rowSubqueries = columns;
}

/** The NATURAL JOIN rewriting (plan/join-using.ts, loaded for a text that says NATURAL): the edits for the NATURAL at tokens[k]. */
type NaturalJoinEdits = (tokens: readonly Token[], k: number) => Edit[];
let naturalJoins: NaturalJoinEdits | undefined;

export function registerNaturalJoins(edits: NaturalJoinEdits): void {
  naturalJoins = edits;
}

/** Prefix of the marker functions standing for `AGG(DISTINCT …)`. */
export const DISTINCT_AGGREGATE_PREFIX = 'KALAMLITE_DISTINCT_';

const DISTINCT_AGGREGATES = new Set(['SUM', 'AVG', 'MIN', 'MAX']);

export interface Edit {
  /** Replaces source[start, end) with text. */
  start: number;
  end: number;
  text: string;
}

const NATURAL_JOINS = new Set(['JOIN', 'INNER', 'LEFT', 'RIGHT', 'FULL', 'CROSS']);

/** The marker column `IS [NOT] DISTINCT FROM` leaves before its right operand. */
export const DISTINCT_FROM_MARKER = 'KALAMLITE_DISTINCT_FROM';

/** Name prefix of the marker call standing for IN list number k: `KALAMLITE_IN_LIST_k()`. */
export const IN_LIST_PREFIX = 'KALAMLITE_IN_LIST_';

/** IN lists at least this long are taken out of the parser's way. */
export const IN_LIST_REWRITE_MIN = 16;

export interface RewrittenSql {
  text: string;
  /** The values of each IN list replaced by a marker call, by its number. */
  inLists: Expr[][];
  /** The window frames replaced by markers `ROWS k PRECEDING`, by their number k. */
  frames: WindowFrame[];
  /** Maps an offset in `text` back to an offset in the original SQL. */
  originalOffset(offset: number): number;
}

export function rewriteForParser(sql: string, tokens: readonly Token[]): RewrittenSql {
  const edits: Edit[] = [];
  const inLists: Expr[][] = [];
  const frames: WindowFrame[] = [];
  const frameAt = windowRewrites?.findFrames(tokens) ?? new Map<number, never>();
  const moves = windowRewrites?.findWindowClauseMoves(tokens) ?? new Map<number, never>();
  /** tokens[from, to) as written, each frame in it replaced by its marker. */
  const segment = (from: number, to: number): string => {
    let out = '';
    let at = tokens[from].start;
    for (let j = from; j < to; j++) {
      const f = frameAt.get(j);
      if (!f) continue;
      out += sql.slice(at, tokens[j].start) + `ROWS ${frames.length} PRECEDING`;
      frames.push(f.frame);
      at = tokens[f.close - 1].end;
      j = f.close - 1;
    }
    return out + sql.slice(at, tokens[to - 1].end);
  };
  // SET (a, b) = (x, y) moves text: made first, then the rest of the rewriting runs on its result.
  const tuples = tupleAssignments(sql, tokens);
  if (tuples.length > 0) {
    const pre = applied(sql, tuples);
    const rest = rewriteForParser(pre.text, tokenize(pre.text));
    return { ...rest, originalOffset: (offset) => pre.originalOffset(rest.originalOffset(offset)) };
  }
  const valuesEnd = topLevelValues(tokens);
  if (valuesEnd !== undefined) {
    edits.push({ start: tokens[0].start, end: tokens[0].start, text: 'SELECT * FROM (' });
    edits.push({ start: tokens[valuesEnd].end, end: tokens[valuesEnd].end, text: ') AS "*values*"' });
  }
  let closers: Int32Array | undefined; // each '(' token's matching ')' (-1: none), found once when a CAST needs it
  for (let k = 0; k + 1 < tokens.length; k++) {
    const t = tokens[k];
    const next = tokens[k + 1];
    const move = moves.get(k);
    if (move) {
      edits.push({ start: t.start, end: tokens[move.end - 1].end, text: `${segment(move.tail, move.end)} ${segment(move.window, move.tail)}` });
      k = move.end - 1;
      continue;
    }
    const frame = frameAt.get(k);
    if (frame) {
      edits.push({ start: t.start, end: tokens[frame.close - 1].end, text: `ROWS ${frames.length} PRECEDING` });
      frames.push(frame.frame);
      k = frame.close - 1;
      continue;
    }
    if (t.type === 'word' && UNREAD_WINDOW_FUNCTIONS.has(t.text.toUpperCase()) && next.text === '(' && tokens[k + 2]?.text === ')') {
      edits.push({ start: t.start, end: tokens[k + 2].end, text: `NTILE(${WINDOW_FUNCTION_PREFIX}${t.text.toUpperCase()}())` });
      k += 2;
      continue;
    }
    if (t.type === 'word' && t.text.toUpperCase() === 'IN' && next.type === 'punct' && next.text === '(') {
      const list = parameterList(tokens, k + 2);
      if (list) {
        edits.push({ start: tokens[k + 2].start, end: tokens[list.close - 1].end, text: `${IN_LIST_PREFIX}${inLists.length}()` });
        inLists.push(list.values);
        k = list.close;
        continue;
      }
    }
    if (t.type === 'word' && t.text.toUpperCase() === 'NATURAL' && next.type === 'word' && NATURAL_JOINS.has(next.text.toUpperCase())) {
      // The parser reads NATURAL JOIN as a JOIN without a condition: it becomes JOIN … USING (a marker), read by join-using.ts.
      edits.push(...naturalJoins!(tokens, k)); // loaded for a text that says NATURAL (execute/sql-extensions.ts)
      continue;
    }
    if (t.type === 'word' && t.text.toUpperCase() === 'IS') {
      const not = next.type === 'word' && next.text.toUpperCase() === 'NOT' ? 1 : 0;
      const d = tokens[k + 1 + not];
      const f = tokens[k + 2 + not];
      if (d?.type === 'word' && d.text.toUpperCase() === 'DISTINCT' && f?.type === 'word' && f.text.toUpperCase() === 'FROM') {
        edits.push({ start: t.start, end: f.end, text: `IS ${not ? 'NOT ' : ''}${DISTINCT_FROM_MARKER} +` });
        k += 2 + not;
        continue;
      }
    }
    if (t.type === 'word' && t.text.toUpperCase() === 'CAST' && next.text === '(') {
      // CAST(x AS a)::b: the parser drops the ::b; (CAST(x AS a))::b is read whole.
      const close = (closers ??= matchingParens(tokens))[k + 1];
      if (close >= 0 && tokens[close + 1]?.text === '::') {
        edits.push({ start: t.start, end: t.start, text: '(' });
        edits.push({ start: tokens[close].end, end: tokens[close].end, text: ')' });
      }
    }
    if (t.type === 'param' && next.type === 'punct' && next.text === '::') {
      edits.push({ start: t.start, end: t.end, text: `(${t.text})` });
      continue;
    }
    const third = tokens[k + 2];
    if (
      t.type === 'word' && DISTINCT_AGGREGATES.has(t.text.toUpperCase()) &&
      next.type === 'punct' && next.text === '(' &&
      third && third.type === 'word' && third.text.toUpperCase() === 'DISTINCT'
    ) {
      const close = closingParen(tokens, k + 1);
      if (close === undefined || tokens[close + 1]?.text.toUpperCase() === 'OVER') {
        // The parser reads no STRING_AGG(…) OVER: a marker function, which convert.ts refuses as a window (PostgreSQL has no DISTINCT there either).
        edits.push({ start: t.start, end: third.end, text: `${DISTINCT_AGGREGATE_PREFIX}${t.text.toUpperCase()}(` });
      } else {
        edits.push({ start: t.start, end: third.end, text: 'STRING_AGG(DISTINCT' });
        edits.push({ start: tokens[close].start, end: tokens[close].start, text: `, '${DISTINCT_AGGREGATE_PREFIX}${t.text.toUpperCase()}'` });
      }
      k += 2;
    }
  }
  if (edits.length === 0) return { text: sql, inLists, frames, originalOffset: (offset) => offset };
  edits.sort((a, b) => a.start - b.start); // a DISTINCT aggregate's closing edit was pushed before the edits inside it
  return { ...applied(sql, edits), inLists, frames };
}

/** `sql` with `edits` (sorted, not overlapping) made, and the map of new offsets back to `sql`'s. */
function applied(sql: string, edits: readonly Edit[]): { text: string; originalOffset(offset: number): number } {
  let text = '';
  let at = 0;
  // For each edit: where its replacement starts and ends in the new text.
  const placed: { newStart: number; newEnd: number; edit: Edit }[] = [];
  for (const e of edits) {
    text += sql.slice(at, e.start);
    const newStart = text.length;
    text += e.text;
    placed.push({ newStart, newEnd: text.length, edit: e });
    at = e.end;
  }
  text += sql.slice(at);
  return {
    text,
    originalOffset(offset) {
      let delta = 0;
      for (const p of placed) {
        if (offset < p.newStart) break;
        if (offset < p.newEnd) return p.edit.start; // inside a replacement: point at what it replaced
        delta = p.edit.end - p.newEnd;
      }
      return offset + delta;
    },
  };
}

export const word = (t: Token | undefined, w: string) => t?.type === 'word' && t.text.toUpperCase() === w;

/** The edits that turn each `(a, b) = [ROW] (x, y)` of an UPDATE's SET list into `a = x, b = y`. */
function tupleAssignments(sql: string, tokens: readonly Token[]): Edit[] {
  if (!word(tokens[0], 'UPDATE')) return [];
  const set = tokens.findIndex((t) => word(t, 'SET'));
  if (set < 0) return [];
  const edits: Edit[] = [];
  let depth = 0;
  for (let i = set + 1; i < tokens.length; i++) {
    const t = tokens[i];
    const startsItem = i === set + 1 || (tokens[i - 1].text === ',' && depth === 0);
    if (t.text === '(' && startsItem) {
      const close = closingParen(tokens, i);
      const eq = close === undefined ? undefined : close + 1;
      if (close === undefined || tokens[eq!]?.text !== '=') continue;
      let open = eq! + 1;
      if (word(tokens[open], 'ROW')) open++;
      const end = tokens[open]?.text === '(' ? closingParen(tokens, open) : undefined;
      if (end === undefined) throw new KalamError('UNSUPPORTED', 'UPDATE … SET (columns) = needs a parenthesized list of values, e.g. SET (a, b) = (1, 2)', tokens[eq!].start);
      const columns = splitTopLevel(tokens, i + 1, close).map(([a, b]) => sql.slice(tokens[a].start, tokens[b - 1].end));
      const values = word(tokens[open + 1], 'SELECT') && open === eq! + 1
        ? rowSubqueries!(sql, tokens, open + 1, end) // loaded for a text with SET ( (execute/sql-extensions.ts)
        : splitTopLevel(tokens, open + 1, end).map(([a, b]) => sql.slice(tokens[a].start, tokens[b - 1].end));
      if (columns.length !== values.length) {
        throw new KalamError('INVALID_SQL', `number of columns does not match number of values: ${columns.length} column(s), ${values.length} value(s)`, tokens[i].start);
      }
      edits.push({ start: t.start, end: tokens[end].end, text: columns.map((c, k) => `${c} = ${values[k]}`).join(', ') });
      i = end;
      continue;
    }
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && (word(t, 'WHERE') || word(t, 'FROM') || word(t, 'RETURNING'))) break;
  }
  return edits;
}

/** The [start, end) token ranges of the comma-separated items in tokens[from, to) (commas inside parentheses do not split). */
export function splitTopLevel(tokens: readonly Token[], from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  let depth = 0;
  let start = from;
  for (let i = from; i < to; i++) {
    const t = tokens[i].text;
    if (t === '(') depth++;
    else if (t === ')') depth--;
    else if (t === ',' && depth === 0) {
      out.push([start, i]);
      start = i + 1;
    }
  }
  if (to > start) out.push([start, to]);
  return out;
}

/** When the statement is `VALUES (…), (…) …`: the index of the list's last `)`. */
function topLevelValues(tokens: readonly Token[]): number | undefined {
  if (tokens[0]?.type !== 'word' || tokens[0].text.toUpperCase() !== 'VALUES') return undefined;
  for (let i = 1; tokens[i]?.text === '(';) {
    const close = closingParen(tokens, i);
    if (close === undefined) return undefined;
    if (tokens[close + 1]?.text !== ',') return close;
    i = close + 2;
  }
  return undefined;
}

/** For each `(` token, the index of its matching `)` (-1 when it is not closed or not a `(`): one pass. */
function matchingParens(tokens: readonly Token[]): Int32Array {
  const out = new Int32Array(tokens.length).fill(-1);
  const open: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.type !== 'punct') continue;
    if (t.text === '(') open.push(i);
    else if (t.text === ')' && open.length > 0) out[open.pop()!] = i;
  }
  return out;
}

/** The index of the `)` matching the `(` at tokens[open], or undefined when it is not closed. */
export function closingParen(tokens: readonly Token[], open: number): number | undefined {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.type !== 'punct') continue;
    if (t.text === '(') depth++;
    else if (t.text === ')' && --depth === 0) return i;
  }
  return undefined;
}

/**
 * `$a, -$b, +$c, … )` from tokens[from]: the values (as convert.ts builds
 * them from the parser's reading) and the index of the closing parenthesis,
 * when the list holds only parameters, optionally signed, and is at least
 * IN_LIST_REWRITE_MIN long; otherwise undefined (the parser reads it).
 */
function parameterList(tokens: readonly Token[], from: number): { values: Expr[]; close: number } | undefined {
  const values: Expr[] = [];
  for (let i = from; i < tokens.length; i++) {
    let t = tokens[i];
    let sign: '-' | '+' | undefined;
    if (t.type === 'punct' && (t.text === '-' || t.text === '+')) {
      sign = t.text;
      t = tokens[++i];
    }
    if (!t || t.type !== 'param') return undefined;
    const n = Number(t.text.slice(1));
    if (!Number.isSafeInteger(n) || n < 1) return undefined;
    const param: Expr = { kind: 'param', index: n - 1 };
    values.push(sign ? { kind: 'unary', op: sign, arg: param } : param);
    const after = tokens[i + 1];
    if (!after || after.type !== 'punct') return undefined;
    if (after.text === ')') return values.length >= IN_LIST_REWRITE_MIN ? { values, close: i + 1 } : undefined;
    if (after.text !== ',') return undefined;
    i++;
  }
  return undefined;
}
