/**
 * queryArrow's up-front check. Apart from arrow.ts so that it costs no
 * Arrow load: see lazy-module.ts.
 */
import { KalamError } from '../core/errors';
import { tokenize } from '../sql/lexer';
import type { SqlLimits } from '../sql/limits';

const READS = new Set(['SELECT', 'VALUES', 'WITH', '(', 'SHOW', 'DESCRIBE', 'DESC']);

/**
 * Refuses, before anything runs, a statement that would not return rows
 * (queryArrow must never write and then fail). `EXECUTE AS USER '…' (stmt)`
 * is judged by its inner statement.
 */
export function checkReturnsRows(sql: string, limits?: SqlLimits): void {
  if (typeof sql !== 'string') return; // the engine reports the bad argument itself
  const tokens = tokenize(sql, limits);
  let head: string | undefined = tokens[0]?.text.toUpperCase();
  if (head === 'EXECUTE') {
    const open = tokens.findIndex((t) => t.text === '(');
    head = open >= 0 ? tokens[open + 1]?.text.toUpperCase() : undefined;
  }
  if (head === undefined || !READS.has(head)) {
    throw new KalamError(
      'INVALID_SQL',
      `queryArrow() runs one statement that returns rows (SELECT, WITH, SHOW, DESCRIBE), not ${head ?? 'an empty statement'}: use execute() for it`,
    );
  }
}
