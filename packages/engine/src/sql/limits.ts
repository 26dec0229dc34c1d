/**
 * Bounds on what one SQL text may ask of the engine (ARCHITECTURE decision
 * 10: hostile input is an error, never a crash or a stall). Each is an
 * engine option (execute/options.ts), shown in system.settings; exceeding
 * one is a LIMIT_EXCEEDED KalamError naming the limit, the value seen and
 * the option that raises it. They are checked as early as they can be: the
 * lexer checks length, tokens and parameter numbers; `checkNesting` reads
 * nesting and list sizes off the tokens before node-sql-parser (which
 * recurses, and costs tens of microseconds per list item) runs; the AST
 * conversion checks breadth, IN lists, set-operation arms and the depth of
 * the converted statement exactly; a LIKE checks its pattern when it
 * compiles it (patterns are usually parameters).
 */
import { KalamError } from '../core/errors';
import { DEFAULT_MAX_JSON_DEPTH } from '../core/json';

/** What checkNesting reads of a token (lexer.ts's Token; not imported, as the lexer imports this module). */
interface Token {
  type: string;
  text: string;
  start: number;
}

export interface SqlLimits {
  /** Characters of SQL text in one call (a batch, or one statement). */
  maxSqlLength: number;
  /** Tokens of SQL text in one call. */
  maxSqlTokens: number;
  /** Parameter values one call may pass, and the highest `$n` a statement may name. */
  maxParameters: number;
  /**
   * How deeply an expression may nest: parentheses (subqueries, function
   * calls), CASE … END and NOT / unary sign chains, counted on the tokens
   * before the SQL parser runs; and the depth of the converted expression,
   * where each operator of a chain of arithmetic, comparison or `||`
   * operators nests one level too (AND/OR chains are kept balanced).
   */
  maxExpressionDepth: number;
  /** Terms of one AND or OR chain, items of one list (select list, arguments, CASE arms, GROUP BY, ORDER BY). */
  maxExpressionTerms: number;
  /** Values of one `IN (…)` list. */
  maxInListLength: number;
  /** SELECTs one UNION / INTERSECT / EXCEPT combines. */
  maxSetOperationArms: number;
  /** Characters of one LIKE / ILIKE pattern. */
  maxLikePatternLength: number;
  /** Characters of one text value an expression builds (`||`, CONCAT, REPEAT, LPAD, RPAD, REPLACE). */
  maxTextLength: number;
  /** Nesting levels of one JSON value: a parameter, a value stored into a JSON column, JSON text read as JSON. */
  maxJsonDepth: number;
  /** Milliseconds the SQL parser (node-sql-parser) may spend on one statement. */
  maxParseMs: number;
  /** Views one statement may expand: each use of a view, also inside another view's query (so also how deeply views may nest). */
  maxViewExpansions: number;
  /** Rows one `generate_series()` may produce (checked before the first one is). */
  maxSeriesRows: number;
}

/**
 * Defaults: generous for applications, well below what the engine survives
 * (measured in Node 20, cold, in a worker with a 1 MB stack):
 * - node-sql-parser recurses about 2.7 KB of stack per nesting level (CASE,
 *   a function call, a subquery; a bare parenthesis less) and overflowed
 *   between 300 and 400 levels; flat chains (a OR b OR …, a + b + …, UNION)
 *   it reads in a loop. 128 levels leave it two thirds of that stack.
 * - the engine's own recursive passes handled chains of 1,000 `+` (planning,
 *   group keys, live analysis) and overflowed at 2,000 with GROUP BY: an
 *   arithmetic chain may be 4 × 128 = 512 operators deep (TREE_DEPTH_PER_LEVEL).
 * - the parser costs 30–80 µs per list item (5–10 µs per token): 100,000
 *   tokens stay around a second; 10,000 terms well under one.
 * Lengths and counts follow SQLite where it has a default (1,000,000 bytes
 * of SQL, 500 compound SELECT arms; its 50,000-byte LIKE patterns are
 * 10,000 here, as matching costs up to value × pattern steps); 65,535
 * parameters is Postgres's bound (SQLite's is 32,766).
 */
export const SQL_LIMIT_DEFAULTS: Readonly<SqlLimits> = Object.freeze({
  maxSqlLength: 1024 * 1024,
  maxSqlTokens: 100_000,
  maxParameters: 65_535,
  maxExpressionDepth: 128,
  maxExpressionTerms: 10_000,
  maxInListLength: 50_000,
  maxSetOperationArms: 500,
  maxLikePatternLength: 10_000,
  maxTextLength: 16 * 1024 * 1024,
  maxJsonDepth: DEFAULT_MAX_JSON_DEPTH,
  maxParseMs: 5_000,
  maxViewExpansions: 256,
  maxSeriesRows: 10_000_000,
});

export const SQL_LIMIT_NAMES = Object.keys(SQL_LIMIT_DEFAULTS) as readonly (keyof SqlLimits)[];

/** Each limit's name as a system.settings row (its description: execute/setting-descriptions.ts). */
export const SQL_LIMIT_SETTINGS: Readonly<Record<keyof SqlLimits, string>> = {
  maxSqlLength: 'max_sql_length',
  maxSqlTokens: 'max_sql_tokens',
  maxParameters: 'max_parameters',
  maxExpressionDepth: 'max_expression_depth',
  maxExpressionTerms: 'max_expression_terms',
  maxInListLength: 'max_in_list_length',
  maxSetOperationArms: 'max_set_operation_arms',
  maxLikePatternLength: 'max_like_pattern_length',
  maxTextLength: 'max_text_length',
  maxJsonDepth: 'max_json_depth',
  maxParseMs: 'max_parse_ms',
  maxViewExpansions: 'max_view_expansions',
  maxSeriesRows: 'max_series_rows',
};

/**
 * LIMIT_EXCEEDED for `limit`: `what` says what was too big ("SQL text of
 * 2,000,000 characters"), `max` is the limit in force.
 */
export function limitExceeded(limit: keyof SqlLimits, what: string, max: number, position?: number): KalamError {
  return new KalamError(
    'LIMIT_EXCEEDED',
    `${what} exceeds the limit of ${max.toLocaleString('en-US')} (${limit}): simplify the statement, or raise ${limit} in openDatabase() options`,
    position,
  );
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * LIMIT_EXCEEDED for a statement within maxExpressionDepth that still ran
 * out of stack (`doing`: 'parse', 'plan'): only when the limit was raised
 * past what this JavaScript engine's stack holds.
 */
export function stackExhausted(doing: string, limits: SqlLimits): KalamError {
  return new KalamError(
    'LIMIT_EXCEEDED',
    `The statement nests too deeply to ${doing} on this JavaScript engine's stack (maxExpressionDepth is ${count(limits.maxExpressionDepth)}): nest it less, or lower maxExpressionDepth in openDatabase() options`,
  );
}

/** The SQL text's length, before anything reads it. */
export function checkSqlLength(sql: string, limits: SqlLimits): void {
  if (sql.length > limits.maxSqlLength) throw limitExceeded('maxSqlLength', `SQL text of ${count(sql.length)} characters`, limits.maxSqlLength);
}

/** A `$n` token's number against maxParameters, without reading more digits than the limit can have. */
export function checkParameterNumber(text: string, start: number, limits: SqlLimits): void {
  const digits = text.length - 1;
  const n = digits > 15 ? Number.POSITIVE_INFINITY : Number(text.slice(1));
  if (n > limits.maxParameters) {
    const shown = digits > 24 ? `${text.slice(0, 12)}…(${digits} digits)` : text;
    throw limitExceeded('maxParameters', `Parameter ${shown}`, limits.maxParameters, start);
  }
}

/** Set-operation arms past maxSetOperationArms. */
export function setOperationArms(limits: SqlLimits, position?: number): KalamError {
  const max = limits.maxSetOperationArms;
  return limitExceeded('maxSetOperationArms', `A UNION / INTERSECT / EXCEPT of more than ${count(max)} SELECTs`, max, position);
}

/**
 * Levels of a converted statement (treeDepth in convert.ts) allowed per
 * unit of maxExpressionDepth: a parenthesis nests one to three levels, and
 * the engine's own recursive passes (compile, group keys, live analysis)
 * were measured to handle more than 1,000 levels in a 1 MB stack.
 */
export const TREE_DEPTH_PER_LEVEL = 4;

/** A converted statement `depth` levels deep, past TREE_DEPTH_PER_LEVEL × maxExpressionDepth. */
export function treeTooDeep(depth: number, limits: SqlLimits): KalamError {
  const max = limits.maxExpressionDepth * TREE_DEPTH_PER_LEVEL;
  return new KalamError(
    'LIMIT_EXCEEDED',
    `The statement nests at least ${count(depth)} levels deep, more than the ${count(max)} allowed (${TREE_DEPTH_PER_LEVEL} × maxExpressionDepth ${count(limits.maxExpressionDepth)}); ` +
      'each operator of a chain of arithmetic, comparison or || operators nests one level deeper: shorten the chain, or raise maxExpressionDepth in openDatabase() options',
  );
}

/** Words after which `-`, `+` and NOT begin an operand (so they are prefix operators). */
const OPERAND_START = new Set([
  'AND', 'OR', 'NOT', 'SELECT', 'WHERE', 'WHEN', 'THEN', 'ELSE', 'ON', 'HAVING', 'BY', 'IS', 'IN', 'LIKE', 'ILIKE',
  'BETWEEN', 'CASE', 'LIMIT', 'OFFSET', 'VALUES', 'SET', 'DISTINCT', 'ALL', 'RETURNING', 'ESCAPE', 'EXISTS',
]);

/** Words that start a new list or expression at their level: counts of commas, ANDs and ORs start again after them. */
const CLAUSE = new Set([
  'SELECT', 'FROM', 'WHERE', 'GROUP', 'ORDER', 'HAVING', 'LIMIT', 'OFFSET', 'VALUES', 'SET', 'UNION', 'INTERSECT', 'EXCEPT',
  'RETURNING', 'ON', 'USING', 'JOIN', 'WITH', 'WHEN', 'THEN', 'ELSE', 'WINDOW', 'FETCH',
]);

/** One open level (a parenthesis or CASE) while checkNesting reads the tokens. */
interface Level {
  /** Nesting depth inside this level. */
  base: number;
  /** ')' or 'END'. */
  closer: string;
  /** `IN (`: its commas separate IN values (until a SELECT makes it a subquery). */
  isIn: boolean;
  /** After VALUES: commas separate rows, which no expression limit bounds. */
  inValues: boolean;
  commas: number;
  /** UNION / INTERSECT / EXCEPT at this level: one chain of set operations. */
  setOps: number;
  ands: number;
  betweens: number;
  ors: number;
  /** The binary operator of the current `x op x op x …` run (single-token operands), and its length. */
  runOp: string;
  runLength: number;
}

const level = (base: number, closer: string, isIn: boolean): Level => ({ base, closer, isIn, inValues: false, commas: 0, setOps: 0, ands: 0, betweens: 0, ors: 0, runOp: '', runLength: 0 });

/**
 * Reads the statement's shape off its tokens, before the SQL parser (which
 * recurses on each level of nesting and is slow per list item) sees them:
 * - nesting: every open parenthesis and CASE is a level, and so is each
 *   operator of a run of prefix NOT, `-`, `+` or `~` (NOT NOT NOT x is three
 *   deep) — maxExpressionDepth;
 * - breadth: the items of one list (commas at one level between clause
 *   words) and the terms of one AND or OR chain — maxExpressionTerms, or
 *   maxInListLength for the values of `IN (…)`; the arms of one set
 *   operation — maxSetOperationArms;
 * - `x + x + x …`: a run of one arithmetic or `||` operator between
 *   single-token operands nests one level per operator (TREE_DEPTH_PER_LEVEL
 *   × maxExpressionDepth).
 * LIMIT_EXCEEDED at the token that goes past a limit. The AST conversion
 * checks the same limits again, exactly; this never refuses what it would
 * accept, it only refuses sooner.
 */
export function checkNesting(tokens: readonly Token[], limits: SqlLimits): void {
  const max = limits.maxExpressionDepth;
  const terms = limits.maxExpressionTerms;
  const stack: Level[] = [];
  let at = level(0, '', false);
  let run = 0; // prefix operators since the last operand at this level
  let prev: Token | undefined;
  let beforePrev: Token | undefined;
  const maxChain = max * TREE_DEPTH_PER_LEVEL;
  const tooDeep = (t: Token): never => {
    throw limitExceeded('maxExpressionDepth', 'Expression nesting (parentheses, subqueries, CASE, NOT and sign chains)', max, t.start);
  };
  for (const t of tokens) {
    const upper = t.type === 'word' ? t.text.toUpperCase() : '';
    if ((t.type === 'punct' && t.text === '(') || upper === 'CASE') {
      stack.push(at);
      const isIn = upper === '' && prev?.type === 'word' && prev.text.toUpperCase() === 'IN';
      at = level(at.base + run + 1, upper === 'CASE' ? 'END' : ')', isIn);
      run = 0;
      if (at.base > max) tooDeep(t);
    } else if ((t.type === 'punct' && t.text === ')') || upper === 'END') {
      // An unbalanced closer is the parser's to report; keep counting from the outermost level.
      at = stack.pop() ?? level(0, '', false);
      run = 0;
    } else if (isPrefixOperator(t, upper, prev)) {
      run++;
      if (at.base + run > max) tooDeep(t);
    } else if (t.type === 'punct' && CHAIN_OPERATORS.has(t.text) && isOperand(prev)) {
      // `x op` after `x op x op … x`: the run goes on; anything else starts one.
      const goesOn = at.runOp === t.text && beforePrev?.type === 'punct' && beforePrev.text === t.text;
      at.runOp = t.text;
      at.runLength = goesOn ? at.runLength + 1 : 1;
      if (at.runLength > maxChain) throw treeTooDeep(at.runLength, limits);
      run = 0;
    } else {
      if (t.type === 'punct' && t.text === ',') {
        at.commas++;
        at.ands = at.betweens = at.ors = 0;
        if (at.inValues) { /* rows of VALUES */ }
        else if (at.isIn) {
          if (at.commas + 1 > limits.maxInListLength) {
            throw limitExceeded('maxInListLength', `An IN list of more than ${count(limits.maxInListLength)} values`, limits.maxInListLength, t.start);
          }
        } else if (at.commas + 1 > terms) {
          throw limitExceeded('maxExpressionTerms', `A list of more than ${count(terms)} items`, terms, t.start);
        }
      } else if (CLAUSE.has(upper)) {
        if ((upper === 'UNION' || upper === 'INTERSECT' || upper === 'EXCEPT') && ++at.setOps + 1 > limits.maxSetOperationArms) {
          throw setOperationArms(limits, t.start);
        }
        at.commas = at.ands = at.betweens = at.ors = 0;
        at.inValues = upper === 'VALUES';
        if (upper === 'SELECT') at.isIn = false;
      } else if (upper === 'OR' || upper === 'AND') {
        if (upper === 'OR') {
          at.ors++;
          at.ands = at.betweens = 0; // OR binds looser: it ends an AND chain
        } else at.ands++;
        // BETWEEN x AND y: that AND joins no terms.
        if (at.ors + 1 > terms || at.ands - at.betweens + 1 > terms) {
          throw limitExceeded('maxExpressionTerms', `An ${upper} chain of more than ${count(terms)} terms`, terms, t.start);
        }
      } else if (upper === 'BETWEEN') at.betweens++;
      if (!(t.type === 'punct' || OPERAND_START.has(upper))) run = 0; // an operand ends the run
    }
    beforePrev = prev;
    prev = t;
  }
}

/** Binary operators whose chains stay left-deep (convert.ts balances only AND and OR). */
const CHAIN_OPERATORS = new Set(['+', '-', '*', '/', '%', '||']);

/** A one-token operand (a name, a literal, a parameter). */
function isOperand(t: Token | undefined): boolean {
  return t !== undefined && (t.type === 'number' || t.type === 'string' || t.type === 'param' || t.type === 'quoted' || (t.type === 'word' && !OPERAND_START.has(t.text.toUpperCase()) && !CLAUSE.has(t.text.toUpperCase())));
}

function isPrefixOperator(t: Token, upper: string, prev: Token | undefined): boolean {
  const sign = t.type === 'punct' && (t.text === '-' || t.text === '+' || t.text === '~');
  if (!sign && upper !== 'NOT') return false;
  if (prev === undefined) return true;
  if (prev.type === 'punct') return prev.text !== ')' && prev.text !== ']';
  if (prev.type === 'word') {
    const p = prev.text.toUpperCase();
    return p !== 'IS' && OPERAND_START.has(p);
  }
  return false; // after a value: binary minus, or NOT IN / NOT LIKE / NOT BETWEEN
}
