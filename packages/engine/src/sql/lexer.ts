/**
 * A small SQL tokenizer: enough to split a batch into statements, lift
 * literals out of DML text for the plan cache, and drive the DDL parser.
 * It never allocates per character; tokens are slices of the input.
 */
import { KalamError } from '../core/errors';
import { checkParameterNumber, checkSqlLength, limitExceeded, type SqlLimits } from './limits';

export type TokenType = 'word' | 'quoted' | 'string' | 'number' | 'param' | 'punct';

export interface Token {
  type: TokenType;
  /** Source text (for 'string' and 'quoted', the unescaped contents). */
  text: string;
  start: number;
  end: number;
}

const isWordStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
const isWordPart = (c: number) => isWordStart(c) || (c >= 48 && c <= 57) || c === 36;
const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Splits SQL text into tokens. With `limits`, text longer than
 * maxSqlLength is refused before it is read, and the scan stops at the
 * token past maxSqlTokens or at a `$n` past maxParameters (LIMIT_EXCEEDED).
 */
export function tokenize(sql: string, limits?: SqlLimits): Token[] {
  if (limits) checkSqlLength(sql, limits);
  const maxTokens = limits ? limits.maxSqlTokens : Number.POSITIVE_INFINITY;
  const out: Token[] = [];
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) { i++; continue; }
    if (c === 45 && sql.charCodeAt(i + 1) === 45) { // -- comment
      while (i < n && sql.charCodeAt(i) !== 10) i++;
      continue;
    }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) { // /* comment */
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) throw new KalamError('PARSE_ERROR', 'Unterminated /* comment: close it with */', i);
      i = close + 2;
      continue;
    }
    const start = i;
    if (out.length >= maxTokens) {
      throw limitExceeded('maxSqlTokens', `SQL text of more than ${maxTokens.toLocaleString('en-US')} tokens`, maxTokens, start);
    }
    if (c === 39) { // 'string' with '' escapes
      let text = '';
      i++;
      for (;;) {
        const q = sql.indexOf("'", i);
        if (q < 0) throw new KalamError('PARSE_ERROR', "Unterminated string literal: close it with a single quote (')", start);
        text += sql.slice(i, q);
        if (sql.charCodeAt(q + 1) === 39) { text += "'"; i = q + 2; continue; }
        i = q + 1;
        break;
      }
      out.push({ type: 'string', text, start, end: i });
      continue;
    }
    if (c === 34 || c === 96) { // "ident" or `ident`
      const q = sql.indexOf(String.fromCharCode(c), i + 1);
      if (q < 0) throw new KalamError('PARSE_ERROR', 'Unterminated quoted identifier', start);
      out.push({ type: 'quoted', text: sql.slice(i + 1, q), start, end: q + 1 });
      i = q + 1;
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(sql.charCodeAt(i + 1)))) {
      while (i < n && isDigit(sql.charCodeAt(i))) i++;
      if (sql.charCodeAt(i) === 46) { i++; while (i < n && isDigit(sql.charCodeAt(i))) i++; }
      const e = sql.charCodeAt(i);
      if (e === 101 || e === 69) {
        let j = i + 1;
        const s = sql.charCodeAt(j);
        if (s === 43 || s === 45) j++;
        if (isDigit(sql.charCodeAt(j))) { i = j; while (i < n && isDigit(sql.charCodeAt(i))) i++; }
      }
      if (i < n && isWordStart(sql.charCodeAt(i))) { // like 1abc: part of a word
        while (i < n && isWordPart(sql.charCodeAt(i))) i++;
        out.push({ type: 'word', text: sql.slice(start, i), start, end: i });
        continue;
      }
      out.push({ type: 'number', text: sql.slice(start, i), start, end: i });
      continue;
    }
    if (c === 36 && isDigit(sql.charCodeAt(i + 1))) { // $1
      i++;
      while (i < n && isDigit(sql.charCodeAt(i))) i++;
      const text = sql.slice(start, i);
      if (limits) checkParameterNumber(text, start, limits);
      out.push({ type: 'param', text, start, end: i });
      continue;
    }
    if (isWordStart(c)) {
      while (i < n && isWordPart(sql.charCodeAt(i))) i++;
      out.push({ type: 'word', text: sql.slice(start, i), start, end: i });
      continue;
    }
    // two-character operators
    const two = sql.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '<>' || two === '!=' || two === '||' || two === '::' || two === '->') {
      i += 2;
      if (two === '->' && sql.charCodeAt(i) === 62) i++;
      out.push({ type: 'punct', text: sql.slice(start, i), start, end: i });
      continue;
    }
    i++;
    out.push({ type: 'punct', text: sql[start], start, end: i });
  }
  return out;
}

/** One statement of a batch: its text and where it starts in the batch. */
export interface StatementText {
  text: string;
  start: number;
}

/** Splits a batch on top-level semicolons; empty statements are dropped. `limits` as for tokenize(). */
export function splitStatements(sql: string, limits?: SqlLimits): StatementText[] {
  const tokens = tokenize(sql, limits);
  const out: StatementText[] = [];
  let from = -1;
  let depth = 0;
  let last = -1;
  for (const t of tokens) {
    if (t.type === 'punct' && t.text === '(') depth++;
    if (t.type === 'punct' && t.text === ')') depth--;
    if (t.type === 'punct' && t.text === ';' && depth <= 0) {
      if (from >= 0) out.push({ text: sql.slice(from, last), start: from });
      from = -1;
      depth = 0;
      continue;
    }
    if (from < 0) from = t.start;
    last = t.end;
  }
  if (from >= 0) out.push({ text: sql.slice(from, last), start: from });
  return out;
}

/** Words after which a string literal is a typed literal, not a value to lift. */
const BY_LIST_END = new Set(['LIMIT', 'OFFSET', 'HAVING', 'WINDOW', 'UNION', 'INTERSECT', 'EXCEPT', 'FROM', 'WHERE', 'SELECT', 'FETCH']);

// ESCAPE '<c>' is part of the LIKE's shape too (and the SQL parser cannot read `ESCAPE $n`).
const TYPED_LITERAL_WORDS = new Set(['DATE', 'TIME', 'TIMESTAMP', 'INTERVAL', 'DATETIME', 'ESCAPE']);

export interface LiftedSql {
  /** The SQL with each lifted literal replaced by `$k`. */
  text: string;
  /** Values of the lifted literals; `$k` refers to literals[k - 1 - paramCount]. */
  literals: (string | number | bigint)[];
  /**
   * Each lifted literal's type as PostgreSQL gives it: an integer literal is
   * INT within int4's range, BIGINT within int8's, DECIMAL past it; one with
   * a point or an exponent is DECIMAL (so `7.0 / 2` is 3.5 while `7 / 2` is
   * 3); a string literal is untyped (undefined). Plans are keyed by these too.
   */
  types: (LiteralType | undefined)[];
  /** Highest `$n` the caller wrote. */
  paramCount: number;
}

/**
 * Lifts string and number literals out of DML text so `WHERE id = 5` and
 * `WHERE id = 6` share one plan. Lifted literals become parameters numbered
 * after the caller's own.
 */
export function liftLiterals(sql: string, tokens: Token[] = tokenize(sql)): LiftedSql {
  let paramCount = 0;
  for (const t of tokens) if (t.type === 'param') paramCount = Math.max(paramCount, Number(t.text.slice(1)));
  const literals: (string | number | bigint)[] = [];
  const types: (LiteralType | undefined)[] = [];
  // Lives for one call: literal (type and value) → its parameter number.
  const seen = new Map<string, number>();
  let text = '';
  let at = 0;
  // Inside ORDER BY / GROUP BY lists a bare integer is a position, part of the plan's shape.
  let inByList = false;
  let depth = 0;
  let byDepth = 0;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    const prev = tokens[k - 1];
    if (t.type === 'punct') {
      if (t.text === '(') depth++;
      else if (t.text === ')') { depth--; if (depth < byDepth) inByList = false; }
      continue;
    }
    if (t.type === 'word') {
      const w = t.text.toUpperCase();
      if (w === 'BY' && prev && prev.type === 'word' && /^(ORDER|GROUP)$/i.test(prev.text)) { inByList = true; byDepth = depth; }
      else if (BY_LIST_END.has(w) && depth === byDepth) inByList = false;
      continue;
    }
    if (t.type !== 'string' && t.type !== 'number') continue;
    if (t.type === 'number' && inByList && depth === byDepth && prev && (prev.text === ',' || prev.text.toUpperCase() === 'BY')) {
      const next = tokens[k + 1];
      if (!next || next.text === ',' || next.type === 'word' || next.text === ')') continue;
    }
    if (t.type === 'string' && prev && prev.type === 'word' && TYPED_LITERAL_WORDS.has(prev.text.toUpperCase())) continue;
    const value = t.type === 'string' ? t.text : numberLiteral(t.text);
    const type = t.type === 'string' ? undefined : numberLiteralType(t.text, value as number | bigint);
    // Equal literals share one parameter, so `GROUP BY x % 10` still matches `SELECT x % 10`.
    const key = `${type ?? typeof value}:${String(value)}`;
    let index = seen.get(key);
    if (index === undefined) {
      literals.push(value);
      types.push(type);
      index = paramCount + literals.length;
      seen.set(key, index);
    }
    text += sql.slice(at, t.start) + '$' + index;
    at = t.end;
  }
  text += sql.slice(at);
  return { text, literals, types, paramCount };
}

/** The static type of a number literal (LiftedSql.types). */
export type LiteralType = 'INT' | 'BIGINT' | 'DECIMAL';

const INT4_MAX = 2147483647;
const INT8_MAX = 2n ** 63n - 1n;

/** PostgreSQL's type of a number literal: int4, int8 or numeric (any point or exponent makes it numeric). */
export function numberLiteralType(text: string, value: number | bigint): LiteralType {
  if (!/^\d+$/.test(text)) return 'DECIMAL';
  if (typeof value === 'number') return value <= INT4_MAX ? 'INT' : 'BIGINT';
  return value <= INT8_MAX ? 'BIGINT' : 'DECIMAL';
}

/** Integer literals beyond 2^53 stay exact as bigint. */
export function numberLiteral(text: string): number | bigint {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (!Number.isSafeInteger(n)) return BigInt(text);
    return n;
  }
  return Number(text);
}
