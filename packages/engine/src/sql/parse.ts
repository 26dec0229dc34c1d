/**
 * Statement parsing: KalamDB statements through our own parser (ddl.ts),
 * standard SQL through node-sql-parser's PostgreSQL build, both into our
 * typed AST.
 */
import * as pgModule from 'node-sql-parser/build/postgresql';
import { KalamError } from '../core/errors';
import type { Statement } from './ast';
import { deleteStmt, insertStmt, selectStmt, updateStmt } from './convert';
import { parseKalamStatement } from './parse-ddl';
import { parseSimpleInsert } from './insert-fast';
import { parseLiveStatement } from './parse-live';
import { tokenize, type Token } from './lexer';
import { rewriteForParser } from './rewrite';

// The build is UMD/CommonJS: bundlers and Node expose it as a default export.
const { Parser } = ((pgModule as unknown as { default?: typeof pgModule }).default ?? pgModule) as typeof pgModule;
const parser = new Parser();

/** Statement words of SQL we know but do not run. */
const KNOWN_UNSUPPORTED = new Set([
  'CREATE', 'DROP', 'ALTER', 'EXPLAIN', 'SET', 'GRANT', 'REVOKE', 'TRUNCATE', 'MERGE', 'COPY', 'VACUUM', 'ANALYZE',
  'CALL', 'SHOW', 'DESCRIBE', 'KILL', 'STORAGE', 'FLUSH', 'SUBSCRIBE', 'CLUSTER', 'BACKUP', 'RESTORE', 'EXPORT',
  'CONSUME', 'ACK', 'PREPARE', 'DECLARE', 'LOCK', 'EXECUTE', 'REPLACE', 'UPSERT', 'VALUES',
]);

/** Parses one statement's text (no trailing semicolon needed). */
export function parseStatement(sql: string, tokens: Token[] = tokenize(sql)): Statement {
  if (tokens.length === 0) throw new KalamError('PARSE_ERROR', 'Empty statement: write a SQL statement to run');
  const executeAs = parseExecuteAs(sql, tokens);
  if (executeAs) return executeAs;
  const live = parseLiveStatement(sql, tokens);
  if (live) return live;
  const kalam = parseKalamStatement(tokens, sql.length);
  if (kalam) return kalam;
  return parseStandard(sql, tokens);
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

function parseStandard(sql: string, tokens: Token[]): Statement {
  const first = tokens[0];
  const head = first.text.toUpperCase();
  if (!['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'WITH', '('].includes(head)) {
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
  return parseWithParser(sql, tokens);
}

/** The full route: node-sql-parser's PostgreSQL grammar, converted to our AST. Exported for tests of the fast paths. */
export function parseWithParser(sql: string, tokens: Token[] = tokenize(sql)): Statement {
  refuseSetOperationAll(tokens);
  const rewritten = rewriteForParser(sql, tokens);
  let ast;
  try {
    ast = parser.astify(rewritten.text, { database: 'postgresql' });
  } catch (e) {
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
  switch (x.type) {
    case 'select': return selectStmt(x);
    case 'insert': return insertStmt(x);
    case 'update': return updateStmt(x);
    case 'delete': return deleteStmt(x);
    default:
      throw new KalamError('UNSUPPORTED', `Statement '${x.type}' is not supported`);
  }
}
