/**
 * A fast path for the commonest write: `INSERT INTO t [(columns)] VALUES
 * (…), (…)` whose values are parameters (`$n`, which is what literal lifting
 * leaves), NULL, TRUE, FALSE or DEFAULT. Read straight from the tokens into
 * the same InsertStmt node-sql-parser's route builds — that parser needs
 * hundreds of milliseconds for a 1,000-row VALUES list in a browser. Any
 * other shape returns undefined and takes the full parser (which also
 * reports the errors).
 */
import { KalamError } from '../core/errors';
import type { Expr, InsertStmt, TableName } from './ast';
import type { Token } from './lexer';

const isWord = (t: Token | undefined, w: string) => t !== undefined && t.type === 'word' && t.text.toUpperCase() === w;
const isPunct = (t: Token | undefined, p: string) => t !== undefined && t.type === 'punct' && t.text === p;
const isName = (t: Token | undefined) => t !== undefined && (t.type === 'word' || t.type === 'quoted');

export function parseSimpleInsert(tokens: readonly Token[]): InsertStmt | undefined {
  let i = 0;
  if (!isWord(tokens[i++], 'INSERT') || !isWord(tokens[i++], 'INTO')) return undefined;
  if (!isName(tokens[i])) return undefined;
  let table: TableName = { name: tokens[i++].text.toLowerCase() };
  if (isPunct(tokens[i], '.')) {
    i++;
    if (!isName(tokens[i])) return undefined;
    table = { namespace: table.name, name: tokens[i++].text.toLowerCase() };
  }
  let columns: string[] | undefined;
  if (isPunct(tokens[i], '(')) {
    i++;
    columns = [];
    for (;;) {
      if (!isName(tokens[i])) return undefined;
      columns.push(tokens[i++].text.toLowerCase());
      if (isPunct(tokens[i], ',')) i++;
      else if (isPunct(tokens[i], ')')) { i++; break; }
      else return undefined;
    }
  }
  if (!isWord(tokens[i++], 'VALUES')) return undefined;
  const rows: Expr[][] = [];
  for (;;) {
    if (!isPunct(tokens[i++], '(')) return undefined;
    const row: Expr[] = [];
    for (;;) {
      const t = tokens[i++];
      if (t === undefined) return undefined;
      if (t.type === 'param') {
        const n = Number(t.text.slice(1));
        if (!Number.isInteger(n) || n < 1) return undefined;
        row.push({ kind: 'param', index: n - 1 });
      } else if (isWord(t, 'NULL')) row.push({ kind: 'literal', value: null });
      else if (isWord(t, 'TRUE')) row.push({ kind: 'literal', value: true });
      else if (isWord(t, 'FALSE')) row.push({ kind: 'literal', value: false });
      else if (isWord(t, 'DEFAULT')) row.push({ kind: 'default' });
      else return undefined;
      if (isPunct(tokens[i], ',')) i++;
      else if (isPunct(tokens[i], ')')) { i++; break; }
      else return undefined;
    }
    if (columns !== undefined && row.length !== columns.length) {
      throw new KalamError('INVALID_SQL', `INSERT row ${rows.length + 1} has a different number of values than the column list names`);
    }
    rows.push(row);
    if (isPunct(tokens[i], ',')) i++;
    else break;
  }
  if (isPunct(tokens[i], ';')) i++;
  if (i !== tokens.length) return undefined;
  const stmt: InsertStmt = { kind: 'insert', table, rows };
  if (columns !== undefined) stmt.columns = columns;
  return stmt;
}
