/**
 * Statement parsing: KalamDB statements through our own parser (ddl.ts),
 * standard SQL through node-sql-parser's PostgreSQL build, both into our
 * typed AST.
 */
import * as pgModule from 'node-sql-parser/build/postgresql';
import { KalamError } from '../errors';
import type { Statement } from './ast';
import { deleteStmt, insertStmt, selectStmt, updateStmt } from './convert';
import { parseKalamStatement } from './ddl';
import { tokenize, type Token } from './lexer';

// The build is UMD/CommonJS: bundlers and Node expose it as a default export.
const { Parser } = ((pgModule as unknown as { default?: typeof pgModule }).default ?? pgModule) as typeof pgModule;
const parser = new Parser();

/** Parses one statement's text (no trailing semicolon needed). */
export function parseStatement(sql: string, tokens: Token[] = tokenize(sql)): Statement {
  if (tokens.length === 0) throw new KalamError('PARSE_ERROR', 'Empty statement: write a SQL statement to run');
  const kalam = parseKalamStatement(tokens, sql.length);
  if (kalam) return kalam;
  return parseStandard(sql, tokens[0]);
}

function parseStandard(sql: string, first: Token): Statement {
  const head = first.text.toUpperCase();
  if (!['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'WITH', '('].includes(head)) {
    throw new KalamError('UNSUPPORTED', `Statement '${first.text}' is not supported`, first.start);
  }
  let ast;
  try {
    ast = parser.astify(sql, { database: 'postgresql' });
  } catch (e) {
    const err = e as { message?: string; location?: { start?: { offset?: number } } };
    const pos = err.location?.start?.offset;
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
