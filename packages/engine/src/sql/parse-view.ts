/**
 * CREATE [OR REPLACE] VIEW [IF NOT EXISTS] [ns.]name [(columns)] AS <query>
 * and DROP VIEW [IF EXISTS] [ns.]name (PostgreSQL's syntax, as KalamDB
 * writes it). The query is kept as text: the catalog stores it, and it is
 * parsed again wherever the view is read (plan/view-expand.ts).
 */
import { KalamError } from '../core/errors';
import type { Statement } from './ast';
import { Cursor } from './cursor';
import type { Token } from './lexer';

const QUERY_HEADS = new Set(['SELECT', 'VALUES', 'WITH', '(']);

/** The statement, or undefined when the text is not a view statement. */
export function parseViewStatement(sql: string, tokens: Token[]): Statement | undefined {
  const c = new Cursor(tokens, sql.length);
  if (c.acceptWords('DROP', 'VIEW')) {
    const ifExists = c.acceptWords('IF', 'EXISTS');
    const view = c.tableName();
    if (c.isPunct(',')) throw new KalamError('UNSUPPORTED', 'DROP VIEW drops one view per statement: write one DROP VIEW for each', c.position());
    c.acceptWord('RESTRICT');
    if (c.isWord('CASCADE')) throw new KalamError('UNSUPPORTED', 'DROP VIEW … CASCADE is not supported: drop the views that read this one first, each with DROP VIEW', c.position());
    c.end();
    return { kind: 'dropView', view, ifExists };
  }
  if (!c.acceptWord('CREATE')) return undefined;
  const orReplace = c.acceptWords('OR', 'REPLACE');
  if (!c.acceptWord('VIEW')) {
    if (orReplace) c.fail('expected VIEW (CREATE OR REPLACE is for views only)');
    return undefined;
  }
  const ifNotExists = c.acceptWords('IF', 'NOT', 'EXISTS');
  if (orReplace && ifNotExists) {
    throw new KalamError('INVALID_SQL', 'CREATE OR REPLACE VIEW cannot also say IF NOT EXISTS: use one or the other', tokens[0].start);
  }
  const view = c.tableName();
  let columns: string[] | undefined;
  if (c.acceptPunct('(')) {
    columns = [];
    do columns.push(c.identifier('a column name')); while (c.acceptPunct(','));
    c.expectPunct(')');
  }
  c.expectWord('AS');
  const head = c.peek();
  if (!head || !QUERY_HEADS.has(head.text.toUpperCase()) || head.type === 'string' || head.type === 'quoted') {
    return c.fail('expected the SELECT the view shows (CREATE VIEW v AS SELECT …)');
  }
  const param = tokens.find((t) => t.type === 'param');
  if (param) {
    throw new KalamError('INVALID_SQL', `A view's query cannot use parameters (${param.text}): write the value into the query, or filter the view when you read it (SELECT … FROM v WHERE col = $1)`, param.start);
  }
  let end = tokens.length;
  while (end > 0 && tokens[end - 1].type === 'punct' && tokens[end - 1].text === ';') end--;
  const query = sql.slice(head.start, tokens[end - 1].end);
  return { kind: 'createView', view, orReplace, ifNotExists, columns, query };
}
