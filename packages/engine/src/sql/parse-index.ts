/**
 * Secondary index statements: CREATE [UNIQUE] INDEX [IF NOT EXISTS] name
 * ON [ns.]t (col [ASC|DESC], …) and DROP INDEX [IF EXISTS] [ns.]name
 * (PostgreSQL's syntax), plus KalamDB's column form ALTER TABLE t CREATE
 * [UNIQUE] INDEX col / ALTER TABLE t DROP INDEX col, whose index is named
 * `<table>_<col>_idx`. KalamDB's VECTOR indexes are refused.
 */
import { KalamError } from '../core/errors';
import type { CreateIndexStmt, Statement } from './ast';
import { Cursor } from './cursor';
import type { Token } from './lexer';

/** The statement, or undefined when the text is not an index statement. */
export function parseIndexStatement(sql: string, tokens: Token[]): Statement | undefined {
  const c = new Cursor(tokens, sql.length);
  if (c.isWord('ALTER') && c.isWord('TABLE', 1)) return parseAlterForm(c, tokens);
  if (c.acceptWords('DROP', 'INDEX')) {
    const ifExists = c.acceptWords('IF', 'EXISTS');
    const index = c.tableName();
    if (c.isPunct(',')) throw new KalamError('UNSUPPORTED', 'DROP INDEX drops one index per statement: write one DROP INDEX for each', c.position());
    c.acceptWord('RESTRICT');
    c.end();
    return { kind: 'dropIndex', index, ifExists };
  }
  if (!c.isWord('CREATE')) return undefined;
  const unique = c.isWord('UNIQUE', 1);
  if (!c.isWord('INDEX', unique ? 2 : 1)) return undefined;
  c.next();
  if (unique) c.next();
  c.next();
  if (c.isWord('CONCURRENTLY')) throw new KalamError('UNSUPPORTED', 'CREATE INDEX CONCURRENTLY is not needed: every CREATE INDEX builds online; remove CONCURRENTLY', c.position());
  const ifNotExists = c.acceptWords('IF', 'NOT', 'EXISTS');
  if (c.isWord('ON')) c.fail('expected the index name (CREATE INDEX name ON t (col))');
  const name = c.identifier('an index name');
  if (c.isPunct('.')) {
    throw new KalamError('INVALID_SQL', "An index lives in its table's namespace: write CREATE INDEX name ON ns.t (col), without a namespace before the index name", c.position());
  }
  c.expectWord('ON');
  const table = c.tableName();
  if (c.acceptWord('USING')) {
    const method = c.identifier('an index method');
    if (method !== 'btree') throw new KalamError('UNSUPPORTED', `Index method '${method}' is not supported: indexes are ordered (btree); remove USING ${method}`, c.position());
  }
  c.expectPunct('(');
  const columns: CreateIndexStmt['columns'] = [];
  do {
    const col = c.identifier('a column name');
    let desc = false;
    if (c.acceptWord('DESC')) desc = true;
    else c.acceptWord('ASC');
    if (c.isWord('NULLS')) throw new KalamError('UNSUPPORTED', 'NULLS FIRST/LAST is not supported in an index: NULLs sort as in ORDER BY (last ascending, first descending)', c.position());
    columns.push({ name: col, desc });
  } while (c.acceptPunct(','));
  c.expectPunct(')');
  if (c.isWord('WHERE')) throw new KalamError('UNSUPPORTED', 'Partial indexes (CREATE INDEX … WHERE) are not supported: index the whole table', c.position());
  if (c.isWord('INCLUDE')) throw new KalamError('UNSUPPORTED', 'CREATE INDEX … INCLUDE is not supported: put the columns in the index key instead', c.position());
  c.end();
  return { kind: 'createIndex', name, table, columns, unique, ifNotExists };
}

/** ALTER TABLE t CREATE [UNIQUE] INDEX col / ALTER TABLE t DROP INDEX col; undefined for every other ALTER TABLE. */
function parseAlterForm(c: Cursor, tokens: Token[]): Statement | undefined {
  // ALTER TABLE [ns.]t: the operation starts after three tokens, or five with a namespace.
  const at = tokens[3]?.type === 'punct' && tokens[3].text === '.' ? 5 : 3;
  const create = c.isWord('CREATE', at);
  const drop = c.isWord('DROP', at);
  const vector = c.isWord('VECTOR', at + 1);
  const unique = create && c.isWord('UNIQUE', at + 1);
  if (!(create || drop) || !(c.isWord('INDEX', at + 1) || vector || (unique && c.isWord('INDEX', at + 2)))) return undefined;
  c.next();
  c.next();
  const table = c.tableName();
  c.next();
  if (vector) {
    c.next();
    c.expectWord('INDEX');
    const column = c.identifier('an EMBEDDING column name');
    let metric: 'cosine' | 'l2' | 'dot' | undefined;
    if (create && c.acceptWord('USING')) {
      const m = c.peek()?.text.toUpperCase();
      if (m !== 'COSINE' && m !== 'L2' && m !== 'DOT') c.fail('expected COSINE, L2 or DOT after USING');
      c.next();
      metric = m === 'COSINE' ? 'cosine' : m === 'L2' ? 'l2' : 'dot';
    }
    c.end();
    return { kind: 'vectorIndex', action: create ? 'create' : 'drop', table, column, metric: create ? (metric ?? 'cosine') : undefined };
  }
  if (unique) c.next();
  c.next();
  const column = c.identifier('a column name');
  c.end();
  const name = `${table.name}_${column}_idx`;
  if (drop) return { kind: 'dropIndex', index: { namespace: table.namespace, name }, ifExists: false, table };
  return { kind: 'createIndex', table, columns: [{ name: column, desc: false }], unique, ifNotExists: false };
}
