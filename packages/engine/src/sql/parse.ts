/**
 * Statement parsing: KalamDB statements through our own parser (ddl.ts),
 * standard SQL through node-sql-parser's PostgreSQL build, both into our
 * typed AST.
 */
import { KalamError } from '../core/errors';
import type { Statement } from './ast';
import { selectStmt, treeDepth, withConversion } from './convert';
import { deleteStmt, insertStmt, updateStmt } from './convert-dml';
import { parseKalamStatement } from './parse-ddl';
import { parseSimpleInsert } from './insert-fast';
import { parseLiveStatement } from './parse-live';
import { tokenize, type Token } from './lexer';
import { checkNesting, SQL_LIMIT_DEFAULTS, stackExhausted, TREE_DEPTH_PER_LEVEL, treeTooDeep, type SqlLimits } from './limits';
import { sqlParser } from './parser-loader';
import { rewriteForParser } from './rewrite';
import { withWindowFrames } from './convert-window';


class ParseBudgetSpent {}

/**
 * The SQL text as node-sql-parser's generated (PEG) parser reads it, one
 * character code at a time; every 1024 reads the clock is checked, and
 * past `budgetMs` the parse stops. The parser keeps no memo, so on a
 * syntax error inside nested CASTs, parenthesized subqueries or EXISTS it
 * retries every alternative at every level — reads grow about 5× per
 * level (seven levels took 30 s, ten would take hours) — while a
 * statement it accepts costs a few dozen reads per character.
 */
class BudgetedInput extends String {
  private reads = 0;
  private readonly deadline: number;
  constructor(text: string, budgetMs: number) {
    super(text);
    this.deadline = performance.now() + budgetMs;
  }
  override charCodeAt(index: number): number {
    if ((++this.reads & 1023) === 0 && performance.now() > this.deadline) throw new ParseBudgetSpent();
    return super.charCodeAt(index);
  }
}

function parseTooCostly(limits: SqlLimits): KalamError {
  return new KalamError(
    'LIMIT_EXCEEDED',
    `Parsing the statement took longer than the limit of ${limits.maxParseMs.toLocaleString('en-US')} ms (maxParseMs): the SQL parser backtracks through nested CASTs, subqueries and EXISTS when there is a syntax error inside them. Check the statement's syntax, nest less, or raise maxParseMs in openDatabase() options`,
  );
}

/**
 * The index statements' parser (sql/parse-index.ts), an SQL extension
 * (execute/sql-extensions.ts): loaded before a statement whose text says
 * INDEX is parsed; until then such a statement is UNSUPPORTED.
 */
let indexParser: ((sql: string, tokens: Token[]) => Statement | undefined) | undefined;

export function registerIndexParser(parse: (sql: string, tokens: Token[]) => Statement | undefined): void {
  indexParser = parse;
}

/**
 * The view statements' parser (sql/parse-view.ts), an SQL extension
 * (execute/sql-extensions.ts): loaded before a statement whose text says
 * VIEW is parsed; until then such a statement is UNSUPPORTED.
 */
let viewParser: ((sql: string, tokens: Token[]) => Statement | undefined) | undefined;

export function registerViewParser(parse: (sql: string, tokens: Token[]) => Statement | undefined): void {
  viewParser = parse;
}

/** Statement words of SQL we know but do not run. */
const KNOWN_UNSUPPORTED = new Set([
  'CREATE', 'DROP', 'ALTER', 'EXPLAIN', 'SET', 'GRANT', 'REVOKE', 'TRUNCATE', 'MERGE', 'COPY', 'VACUUM', 'ANALYZE',
  'CALL', 'SHOW', 'DESCRIBE', 'KILL', 'STORAGE', 'FLUSH', 'SUBSCRIBE', 'CLUSTER', 'BACKUP', 'RESTORE', 'EXPORT',
  'CONSUME', 'ACK', 'PREPARE', 'DECLARE', 'LOCK', 'EXECUTE', 'REPLACE', 'UPSERT',
]);

/**
 * Parses one statement's text (no trailing semicolon needed). `limits`
 * bound what the SQL parser and the conversion are asked to do (defaults
 * when not given); the caller has checked length and tokens (tokenize).
 */
export function parseStatement(sql: string, tokens: Token[] = tokenize(sql), limits: SqlLimits = SQL_LIMIT_DEFAULTS): Statement {
  if (tokens.length === 0) throw new KalamError('PARSE_ERROR', 'Empty statement: write a SQL statement to run');
  const executeAs = parseExecuteAs(sql, tokens);
  if (executeAs) return executeAs;
  const live = parseLiveStatement(sql, tokens);
  if (live) return live;
  const explain = parseExplain(sql, tokens);
  if (explain) return explain;
  const view = viewParser?.(sql, tokens);
  if (view) return view;
  if (isTopicStatement(tokens)) return { kind: 'topic', text: sql };
  const index = indexParser?.(sql, tokens);
  if (index) return index;
  const kalam = parseKalamStatement(tokens, sql.length);
  if (kalam) return kalam;
  return parseStandard(sql, tokens, limits);
}

/**
 * Topic statements (CREATE/DROP/CLEAR/ALTER TOPIC, CONSUME, ACK), judged on
 * their first words: their parser (parse-topic.ts) loads with their
 * executor, on first use.
 */
function isTopicStatement(tokens: readonly Token[]): boolean {
  const w = (i: number) => (tokens[i]?.type === 'word' ? tokens[i].text.toUpperCase() : '');
  const head = w(0);
  return head === 'CONSUME' || head === 'ACK' || ((head === 'CREATE' || head === 'DROP' || head === 'ALTER' || head === 'CLEAR') && w(1) === 'TOPIC');
}

/** `EXECUTE AS USER '<id>' ( <one statement> )`: the inner text is parsed and run by the caller. */
function parseExecuteAs(sql: string, tokens: Token[]): Statement | undefined {
  const word = (i: number, w: string) => tokens[i]?.type === 'word' && tokens[i].text.toUpperCase() === w;
  if (!word(0, 'EXECUTE')) return undefined;
  if (!word(1, 'AS') || !word(2, 'USER')) {
    throw new KalamError('PARSE_ERROR', "Expected EXECUTE AS USER '<user_id>' (<statement>)", tokens[0].start);
  }
  const id = tokens[3];
  if (!id || (id.type !== 'string' && id.type !== 'quoted')) {
    throw new KalamError('PARSE_ERROR', "EXECUTE AS USER needs the user id in single quotes: EXECUTE AS USER 'alice' (SELECT …)", id?.start);
  }
  const open = tokens[4];
  const close = tokens[tokens.length - 1];
  if (!open || open.text !== '(' || close === open || close.text !== ')') {
    throw new KalamError('PARSE_ERROR', "EXECUTE AS USER wraps exactly one statement in parentheses: EXECUTE AS USER 'alice' (SELECT …)", open?.start ?? sql.length);
  }
  const inner = sql.slice(open.end, close.start);
  const innerTokens = tokens.slice(5, -1);
  if (innerTokens.some((t) => t.type === 'punct' && t.text === ';' )) {
    throw new KalamError('INVALID_SQL', 'EXECUTE AS USER wraps exactly one statement');
  }
  if (innerTokens.length === 0) throw new KalamError('PARSE_ERROR', 'EXECUTE AS USER needs a statement inside the parentheses', open.end);
  return { kind: 'executeAs', user: id.text, sql: inner, offset: open.end };
}

/** node-sql-parser reads only UNION ALL; say so for INTERSECT ALL / EXCEPT ALL rather than report a syntax error. */
function refuseSetOperationAll(tokens: Token[]): void {
  for (let k = 0; k + 1 < tokens.length; k++) {
    const t = tokens[k];
    const next = tokens[k + 1];
    if (t.type !== 'word' || next.type !== 'word' || next.text.toUpperCase() !== 'ALL') continue;
    const op = t.text.toUpperCase();
    if (op === 'INTERSECT' || op === 'EXCEPT') {
      throw new KalamError('UNSUPPORTED', `${op} ALL is not supported yet: use ${op} (which removes duplicate rows)`, t.start);
    }
  }
}

/** `EXPLAIN [ANALYZE | ANALYSE] <statement>`; the statement is planned by the caller. */
function parseExplain(sql: string, tokens: Token[]): Statement | undefined {
  if (tokens[0].text.toUpperCase() !== 'EXPLAIN' || tokens[0].type !== 'word') return undefined;
  let i = 1;
  const word = tokens[1]?.type === 'word' ? tokens[1].text.toUpperCase() : '';
  const analyze = word === 'ANALYZE' || word === 'ANALYSE';
  if (analyze) i++;
  if (i >= tokens.length) throw new KalamError('PARSE_ERROR', 'EXPLAIN needs a statement to explain, for example EXPLAIN SELECT * FROM app.t WHERE id = 1', tokens[0].start);
  return { kind: 'explain', analyze, text: sql.slice(tokens[i].start) };
}

function parseStandard(sql: string, tokens: Token[], limits: SqlLimits): Statement {
  const first = tokens[0];
  const head = first.text.toUpperCase();
  if (!['SELECT', 'VALUES', 'INSERT', 'UPDATE', 'DELETE', 'WITH', '('].includes(head)) {
    if (KNOWN_UNSUPPORTED.has(head)) throw new KalamError('UNSUPPORTED', `Statement '${first.text}' is not supported`, first.start);
    throw new KalamError(
      'PARSE_ERROR',
      `Syntax error at '${first.text}': expected a statement such as SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, SHOW or BEGIN`,
      first.start,
    );
  }
  if (head === 'INSERT') {
    const simple = parseSimpleInsert(tokens);
    if (simple) return simple;
  }
  return parseWithParser(sql, tokens, limits);
}

/**
 * The full route: node-sql-parser's PostgreSQL grammar, converted to our
 * AST. The parser recurses once per nesting level (about 2.7 KB of stack
 * each), so nesting is checked on the tokens first (maxExpressionDepth);
 * the conversion checks breadth, IN lists and set-operation arms, and the
 * converted statement's depth. Exported for tests of the fast paths.
 */
export function parseWithParser(sql: string, tokens: Token[] = tokenize(sql), limits: SqlLimits = SQL_LIMIT_DEFAULTS): Statement {
  refuseSetOperationAll(tokens);
  checkNesting(tokens, limits);
  const rewritten = rewriteForParser(sql, tokens);
  const parser = sqlParser();
  let ast;
  try {
    const input = new BudgetedInput(rewritten.text.trim(), limits.maxParseMs);
    ast = parser.astify(input as unknown as string, { database: 'postgresql', trimQuery: false } as never);
  } catch (e) {
    if (isStackOverflow(e)) throw tooDeep(limits);
    if (e instanceof ParseBudgetSpent) throw parseTooCostly(limits);
    const err = e as { message?: string; location?: { start?: { offset?: number } } };
    const count = /column count doesn't match value count at row (\d+)/.exec(err.message ?? '');
    if (count) {
      throw new KalamError('INVALID_SQL', `INSERT row ${count[1]} has a different number of values than the column list names`);
    }
    const at = err.location?.start?.offset;
    const pos = at === undefined ? undefined : rewritten.originalOffset(at);
    const near = pos !== undefined ? ` near '${sql.slice(pos, pos + 20).split(/\s/)[0] || 'end of statement'}'` : '';
    throw new KalamError('PARSE_ERROR', `Syntax error${near}: check the statement against the SQL reference`, pos);
  }
  const node = Array.isArray(ast) ? ast : [ast];
  if (node.length !== 1) throw new KalamError('PARSE_ERROR', 'Expected exactly one statement');
  const x = node[0] as { type: string };
  let stmt: Statement;
  try {
    stmt = withConversion(limits, rewritten.inLists, () => withWindowFrames(rewritten.frames, () => convertStatement(x)));
  } catch (e) {
    if (isStackOverflow(e)) throw tooDeep(limits);
    throw e;
  }
  const depth = treeDepth(stmt);
  if (depth > limits.maxExpressionDepth * TREE_DEPTH_PER_LEVEL) throw treeTooDeep(depth, limits);
  return stmt;
}

function convertStatement(x: { type: string }): Statement {
  switch (x.type) {
    case 'select': return selectStmt(x);
    case 'insert': return insertStmt(x);
    case 'update': return updateStmt(x);
    case 'delete': return deleteStmt(x);
    default:
      throw new KalamError('UNSUPPORTED', `Statement '${x.type}' is not supported`);
  }
}

/** V8 and SpiderMonkey: RangeError "Maximum call stack size exceeded" / InternalError "too much recursion". */
function isStackOverflow(e: unknown): boolean {
  return e instanceof Error && (e.name === 'RangeError' || e.name === 'InternalError') && /call stack|recursion/i.test(e.message);
}

const tooDeep = (limits: SqlLimits) => stackExhausted('parse', limits);
