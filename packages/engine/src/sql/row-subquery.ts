/**
 * `UPDATE … SET (a, b) = (SELECT x, y FROM …)`: the row subquery's select
 * list taken apart into one scalar subquery per column, `(SELECT x FROM …)`,
 * `(SELECT y FROM …)`, for sql/rewrite.ts (which registers this as it
 * loads, execute/sql-extensions.ts). A scalar subquery gives NULL for no row
 * and fails on more than one, as PostgreSQL's row subquery in SET does.
 */
import { KalamError } from '../core/errors';
import type { Token } from './lexer';
import { splitTopLevel, word } from './rewrite';

const SELECT_LIST_ENDS = new Set(['FROM', 'WHERE', 'GROUP', 'HAVING', 'ORDER', 'LIMIT', 'OFFSET', 'FETCH', 'WINDOW']);

/**
 * `SELECT x, y FROM …` in tokens[select, end) as one scalar subquery per
 * output column: `(SELECT x FROM …)`, `(SELECT y FROM …)`. A form whose
 * columns cannot be taken apart (`*`, DISTINCT, a set operation) is
 * UNSUPPORTED.
 */
export function rowSubqueryColumns(sql: string, tokens: readonly Token[], select: number, end: number): string[] {
  const refuse = (why: string, at: number) => {
    throw new KalamError('UNSUPPORTED', `UPDATE … SET (columns) = (SELECT …) with ${why} is not supported: name each column in the select list, or set each column to its own scalar subquery`, tokens[at].start);
  };
  if (word(tokens[select + 1], 'DISTINCT')) refuse('DISTINCT', select + 1);
  let depth = 0;
  let listEnd = end;
  for (let i = select + 1; i < end; i++) {
    const t = tokens[i];
    if (t.text === '(') depth++;
    else if (t.text === ')') depth--;
    else if (depth === 0 && (word(t, 'UNION') || word(t, 'INTERSECT') || word(t, 'EXCEPT'))) refuse(t.text.toUpperCase(), i);
    else if (depth === 0 && listEnd === end && t.type === 'word' && SELECT_LIST_ENDS.has(t.text.toUpperCase())) listEnd = i;
  }
  const rest = listEnd < end ? ` ${sql.slice(tokens[listEnd].start, tokens[end - 1].end)}` : '';
  return splitTopLevel(tokens, select + 1, listEnd).map(([a, b]) => {
    if (tokens[b - 1].text === '*') refuse('*', b - 1);
    return `(SELECT ${sql.slice(tokens[a].start, tokens[b - 1].end)}${rest})`;
  });
}

