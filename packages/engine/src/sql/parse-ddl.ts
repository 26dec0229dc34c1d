/**
 * Parser for KalamDB statements node-sql-parser does not know: namespaces,
 * CREATE [USER|SHARED|STREAM] TABLE … WITH (…), DROP TABLE, SHOW, DESCRIBE,
 * USE. Works on tokens from lexer.ts.
 */
import { KalamError } from '../core/errors';
import type { AlterTableStmt, ColumnSpec, CreateTableStmt, Statement } from './ast';
import { Cursor } from './cursor';
import { parseColumn } from './parse-column';
import type { Token } from './lexer';
import { parseStorageStatement } from './parse-storage';


function parseOptions(c: Cursor): Record<string, string> {
  const options: Record<string, string> = {};
  c.expectPunct('(');
  if (c.acceptPunct(')')) return options;
  do {
    const key = c.next();
    if (key.type !== 'word' && key.type !== 'quoted') c.fail('expected an option name');
    c.expectPunct('=');
    const sign = c.acceptPunct('-') ? '-' : '';
    const v = c.next();
    if (v.type === 'punct' || (sign && v.type !== 'number')) c.fail('expected an option value');
    options[key.text.toUpperCase()] = sign + v.text;
  } while (c.acceptPunct(','));
  c.expectPunct(')');
  return options;
}

function parseCreateTable(c: Cursor, prefixType: CreateTableStmt['prefixType']): CreateTableStmt {
  const ifNotExists = c.acceptWords('IF', 'NOT', 'EXISTS');
  const table = c.tableName();
  if (!c.isPunct('(')) {
    // CREATE TABLE t [WITH (…)] AS <query>: the columns come from the query (execute/create-table-as.ts).
    const options = c.acceptWord('WITH') ? parseOptions(c) : {};
    c.expectWord('AS');
    const head = c.peek();
    if (!head || !['SELECT', 'WITH', 'VALUES', '('].includes(head.text.toUpperCase())) c.fail('expected a query (SELECT …) after AS');
    return { kind: 'createTable', table, ifNotExists, prefixType, columns: [], options, asQueryOffset: head.start };
  }
  c.expectPunct('(');
  const columns: ColumnSpec[] = [];
  const pkColumns: string[] = [];
  do {
    if (c.isWord('CONSTRAINT') || c.isWord('PRIMARY')) {
      if (c.acceptWord('CONSTRAINT')) c.identifier('a constraint name');
      c.expectWord('PRIMARY');
      c.expectWord('KEY');
      c.expectPunct('(');
      do pkColumns.push(c.identifier('a column name')); while (c.acceptPunct(','));
      c.expectPunct(')');
      continue;
    }
    const nameTok = c.peek();
    const col = parseColumn(c, pkColumns);
    if (columns.some((other) => other.name === col.name)) {
      throw new KalamError('DUPLICATE_COLUMN', `Duplicate column name '${nameTok!.text}'. Column names are case-insensitive.`, nameTok!.start);
    }
    columns.push(col);
  } while (c.acceptPunct(','));
  c.expectPunct(')');
  if (c.acceptWord('USING')) c.identifier('an access method');
  const options = c.acceptWord('WITH') ? parseOptions(c) : {};
  c.end();
  const distinct = [...new Set(pkColumns)];
  if (distinct.length > 1) throw new KalamError('UNSUPPORTED', 'Composite PRIMARY KEYs are not supported yet');
  for (const col of columns) if (distinct.includes(col.name)) col.primaryKey = true;
  if (distinct.length === 1 && !columns.some((col) => col.name === distinct[0])) {
    throw new KalamError('COLUMN_NOT_FOUND', `PRIMARY KEY column '${distinct[0]}' is not a column of the table`);
  }
  const keyless = columns.find((col) => col.primaryKey && (col.type === 'EMBEDDING' || col.type === 'FILE'));
  if (keyless) {
    throw new KalamError('INVALID_SQL', `Column '${keyless.name}' cannot be the PRIMARY KEY: a ${keyless.type} value does not identify a row. Key the table by an id column (INT, BIGINT, TEXT, UUID …)`);
  }
  return { kind: 'createTable', table, ifNotExists, prefixType, columns, options };
}

const TABLE_PREFIXES = { USER: 'USER', SHARED: 'SHARED', STREAM: 'STREAM' } as const;

/**
 * CREATE/ALTER/DROP USER's parser (sql/parse-users.ts), an SQL extension
 * (execute/sql-extensions.ts): loaded before a statement whose text says
 * USER is parsed.
 */
let userParser: ((c: Cursor) => Statement | undefined) | undefined;

export function registerUserParser(parse: (c: Cursor) => Statement | undefined): void {
  userParser = parse;
}

/**
 * ALTER TABLE's parser (sql/parse-alter.ts), an SQL extension
 * (execute/sql-extensions.ts): loaded before a statement whose text says
 * ALTER is parsed.
 */
let alterParser: ((c: Cursor) => AlterTableStmt) | undefined;

export function registerAlterParser(parse: (c: Cursor) => AlterTableStmt): void {
  alterParser = parse;
}

/**
 * Parses a KalamDB-specific statement. Returns undefined when the text is
 * not one (so it goes to the standard SQL parser).
 */
export function parseKalamStatement(tokens: Token[], sqlLength: number): Statement | undefined {
  const c = new Cursor(tokens, sqlLength);
  if ((c.isWord('CREATE') || c.isWord('ALTER') || c.isWord('DROP')) && c.isWord('USER', 1) && !c.isWord('TABLE', 2)) {
    if (!userParser) throw new KalamError('UNSUPPORTED', 'CREATE/ALTER/DROP USER reached the parser before its parser loaded (a bug in loadSqlExtensions): report it');
    const users = userParser(c);
    if (users) return users;
  }
  const storage = parseStorageStatement(c);
  if (storage) return storage;
  if (c.isWord('ALTER') && c.isWord('TABLE', 1)) {
    if (!alterParser) throw new KalamError('UNSUPPORTED', 'ALTER TABLE reached the parser before its parser loaded (a bug in loadSqlExtensions): report it');
    return alterParser(c);
  }
  if (c.isWord('BEGIN') || c.isWord('START') || c.isWord('COMMIT') || c.isWord('ROLLBACK')) {
    const head = c.next().text.toUpperCase();
    if (head === 'START') c.expectWord('TRANSACTION');
    else if (!c.acceptWord('TRANSACTION')) c.acceptWord('WORK');
    c.end();
    return { kind: head === 'COMMIT' ? 'commit' : head === 'ROLLBACK' ? 'rollback' : 'begin' };
  }
  if (c.acceptWord('CREATE')) {
    if (c.acceptWord('NAMESPACE') || c.acceptWord('SCHEMA')) {
      const ifNotExists = c.acceptWords('IF', 'NOT', 'EXISTS');
      const name = c.identifier('a namespace name');
      c.end();
      return { kind: 'createNamespace', name, ifNotExists };
    }
    const t = c.peek();
    const prefix = t && t.type === 'word' ? TABLE_PREFIXES[t.text.toUpperCase() as keyof typeof TABLE_PREFIXES] : undefined;
    if (prefix && c.isWord('TABLE', 1)) {
      c.next();
      c.next();
      return parseCreateTable(c, prefix);
    }
    if (c.acceptWord('TABLE')) return parseCreateTable(c, undefined);
    return undefined;
  }
  if (c.acceptWord('DROP')) {
    if (c.acceptWord('NAMESPACE') || c.acceptWord('SCHEMA')) {
      const ifExists = c.acceptWords('IF', 'EXISTS');
      const name = c.identifier('a namespace name');
      c.acceptWord('CASCADE');
      c.end();
      return { kind: 'dropNamespace', name, ifExists };
    }
    const t = c.peek();
    if (t && t.type === 'word' && t.text.toUpperCase() in TABLE_PREFIXES && c.isWord('TABLE', 1)) c.next();
    if (c.acceptWord('TABLE')) {
      const ifExists = c.acceptWords('IF', 'EXISTS');
      const table = c.tableName();
      c.end();
      return { kind: 'dropTable', table, ifExists };
    }
    return undefined;
  }
  if (c.acceptWord('SHOW')) {
    if (c.acceptWord('NAMESPACES') || c.acceptWord('SCHEMAS')) { c.end(); return { kind: 'showNamespaces' }; }
    if (c.acceptWord('TABLES')) {
      let namespace: string | undefined;
      if (c.acceptWord('IN') || c.acceptWord('FROM')) {
        c.acceptWord('NAMESPACE');
        namespace = c.identifier('a namespace name');
      }
      c.end();
      return { kind: 'showTables', namespace };
    }
    if (c.acceptWords('STATS', 'FOR')) {
      c.acceptWord('TABLE');
      const table = c.tableName();
      c.end();
      return { kind: 'showStats', table };
    }
    c.fail('expected NAMESPACES, TABLES or STATS FOR TABLE');
  }
  if (c.acceptWord('DESCRIBE') || c.acceptWord('DESC')) {
    c.acceptWord('TABLE');
    const table = c.tableName();
    c.end();
    return { kind: 'describeTable', table };
  }
  if (c.acceptWord('USE') || c.acceptWords('SET', 'NAMESPACE')) {
    c.acceptWord('NAMESPACE');
    const namespace = c.identifier('a namespace name');
    c.end();
    return { kind: 'use', namespace };
  }
  return undefined;
}
