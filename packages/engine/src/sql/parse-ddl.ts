/**
 * Parser for KalamDB statements node-sql-parser does not know: namespaces,
 * CREATE [USER|SHARED|STREAM] TABLE … WITH (…), DROP TABLE, SHOW, DESCRIBE,
 * USE. Works on tokens from lexer.ts.
 */
import { KalamError } from '../core/errors';
import type { DataType } from '../core/types';
import type { ColumnSpec, CreateTableStmt, DefaultSpec, Statement, TableName } from './ast';
import { numberLiteral, type Token } from './lexer';
import { parseUserStatement } from './parse-users';
import { parseAlterTable } from './parse-alter';
import { parseStorageStatement } from './parse-storage';

export class Cursor {
  private i = 0;
  constructor(private readonly tokens: Token[], private readonly sqlLength: number) {}

  peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }
  atEnd(): boolean {
    return this.i >= this.tokens.length;
  }
  position(): number {
    return this.tokens[this.i]?.start ?? this.sqlLength;
  }
  isWord(word: string, offset = 0): boolean {
    const t = this.tokens[this.i + offset];
    return !!t && t.type === 'word' && t.text.toUpperCase() === word;
  }
  acceptWord(word: string): boolean {
    if (this.isWord(word)) { this.i++; return true; }
    return false;
  }
  acceptWords(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) if (!this.isWord(words[k], k)) return false;
    this.i += words.length;
    return true;
  }
  expectWord(word: string): void {
    if (!this.acceptWord(word)) this.fail(`expected ${word}`);
  }
  isPunct(p: string): boolean {
    const t = this.tokens[this.i];
    return !!t && t.type === 'punct' && t.text === p;
  }
  acceptPunct(p: string): boolean {
    if (this.isPunct(p)) { this.i++; return true; }
    return false;
  }
  expectPunct(p: string): void {
    if (!this.acceptPunct(p)) this.fail(`expected '${p}'`);
  }
  next(): Token {
    const t = this.tokens[this.i];
    if (!t) this.fail('unexpected end of statement');
    this.i++;
    return t;
  }
  identifier(what: string): string {
    const t = this.tokens[this.i];
    if (!t || (t.type !== 'word' && t.type !== 'quoted')) this.fail(`expected ${what}`);
    this.i++;
    return t.text.toLowerCase();
  }
  tableName(): TableName {
    const first = this.identifier('a table name');
    if (this.acceptPunct('.')) return { namespace: first, name: this.identifier('a table name') };
    return { name: first };
  }
  end(): void {
    if (!this.atEnd()) this.fail(`unexpected '${this.tokens[this.i].text}'`);
  }
  fail(what: string): never {
    const t = this.tokens[this.i];
    throw new KalamError('PARSE_ERROR', `Syntax error at ${t ? `'${t.text}'` : 'end of statement'}: ${what}`, this.position());
  }
}

const TYPE_NAMES: Record<string, DataType> = {
  BOOLEAN: 'BOOLEAN', BOOL: 'BOOLEAN',
  SMALLINT: 'SMALLINT', INT2: 'SMALLINT',
  INT: 'INT', INTEGER: 'INT', INT4: 'INT', MEDIUMINT: 'INT',
  BIGINT: 'BIGINT', INT8: 'BIGINT',
  FLOAT: 'FLOAT', REAL: 'FLOAT', FLOAT4: 'FLOAT',
  DOUBLE: 'DOUBLE', FLOAT8: 'DOUBLE', FLOAT64: 'DOUBLE',
  DECIMAL: 'DECIMAL', NUMERIC: 'DECIMAL',
  TEXT: 'TEXT', VARCHAR: 'TEXT', CHAR: 'TEXT', STRING: 'TEXT', NVARCHAR: 'TEXT',
  BYTES: 'BYTES', BINARY: 'BYTES', VARBINARY: 'BYTES', BLOB: 'BYTES', BYTEA: 'BYTES',
  JSON: 'JSON', JSONB: 'JSON',
  TIMESTAMP: 'TIMESTAMP', DATETIME: 'DATETIME', DATE: 'DATE', TIME: 'TIME', UUID: 'UUID',
  SERIAL: 'INT', BIGSERIAL: 'BIGINT', SMALLSERIAL: 'SMALLINT',
};

/** Maps an SQL type name to a DataType, or throws with the list of supported types. */
export function dataTypeOf(name: string, position?: number): DataType {
  const t = TYPE_NAMES[name.toUpperCase()];
  if (!t) {
    throw new KalamError(
      'UNSUPPORTED',
      `Unsupported data type '${name}'. Supported: BOOLEAN, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL, TEXT, BYTES, JSON, TIMESTAMP, DATETIME, DATE, TIME, UUID`,
      position,
    );
  }
  return t;
}

const DEFAULT_FUNCTIONS: Record<string, DefaultSpec> = {
  NOW: { kind: 'function', name: 'NOW' },
  CURRENT_TIMESTAMP: { kind: 'function', name: 'NOW' },
  SNOWFLAKE_ID: { kind: 'function', name: 'SNOWFLAKE_ID' },
  UUID_V7: { kind: 'function', name: 'UUID_V7' },
  ULID: { kind: 'function', name: 'ULID' },
  CURRENT_USER: { kind: 'function', name: 'CURRENT_USER' },
  CURRENT_USER_ID: { kind: 'function', name: 'CURRENT_USER' },
};

export function parseDefault(c: Cursor): DefaultSpec {
  const t = c.next();
  if (t.type === 'string') return { kind: 'literal', value: t.text };
  if (t.type === 'number') return { kind: 'literal', value: numberLiteral(t.text) };
  if (t.type === 'punct' && t.text === '-') {
    const n = c.next();
    if (n.type !== 'number') c.fail('expected a number after -');
    const v = numberLiteral(n.text);
    return { kind: 'literal', value: typeof v === 'bigint' ? -v : -v };
  }
  if (t.type === 'word') {
    const w = t.text.toUpperCase();
    if (w === 'TRUE' || w === 'FALSE') return { kind: 'literal', value: w === 'TRUE' };
    if (w === 'NULL') return { kind: 'literal', value: null };
    const fn = DEFAULT_FUNCTIONS[w];
    if (fn) {
      if (c.acceptPunct('(')) c.expectPunct(')');
      return fn;
    }
    // KalamDB stores other function defaults as string literals.
    let text = t.text;
    if (c.acceptPunct('(')) {
      let depth = 1;
      text += '(';
      while (depth > 0) {
        const x = c.next();
        if (x.type === 'punct' && x.text === '(') depth++;
        if (x.type === 'punct' && x.text === ')') depth--;
        text += x.text;
      }
    }
    return { kind: 'literal', value: text };
  }
  c.fail('expected a default value');
}

export function parseColumn(c: Cursor, pkColumns: string[]): ColumnSpec {
  const name = c.identifier('a column name');
  const typeTok = c.next();
  if (typeTok.type !== 'word') c.fail('expected a column type');
  let typeName = typeTok.text.toUpperCase();
  if (typeName === 'DOUBLE') c.acceptWord('PRECISION');
  if (typeName === 'TIMESTAMP' || typeName === 'TIME') {
    if (c.acceptWords('WITH', 'TIME', 'ZONE')) typeName = typeName === 'TIMESTAMP' ? 'DATETIME' : typeName;
    else c.acceptWords('WITHOUT', 'TIME', 'ZONE');
  }
  const type = dataTypeOf(typeName, typeTok.start);
  const col: ColumnSpec = { name, type, notNull: false, primaryKey: false };
  if (c.acceptPunct('(')) { // VARCHAR(255), DECIMAL(10,2)
    const p = c.next();
    if (p.type !== 'number') c.fail('expected a number');
    let s: Token | undefined;
    if (c.acceptPunct(',')) s = c.next();
    c.expectPunct(')');
    if (type === 'DECIMAL') {
      col.precision = Number(p.text);
      col.scale = s ? Number(s.text) : 0;
      if (!(col.precision >= 1 && col.precision <= 38 && col.scale >= 0 && col.scale <= col.precision)) {
        throw new KalamError('INVALID_SQL', `DECIMAL(${p.text},${s?.text ?? 0}) is invalid: precision must be 1..38 and scale 0..precision`, p.start);
      }
    }
  }
  if (typeName.endsWith('SERIAL')) col.default = { kind: 'function', name: 'SNOWFLAKE_ID' };
  for (;;) {
    if (c.acceptWords('NOT', 'NULL')) { col.notNull = true; continue; }
    if (c.acceptWord('NULL')) continue;
    if (c.acceptWords('PRIMARY', 'KEY')) { col.primaryKey = true; continue; }
    if (c.acceptWord('UNIQUE')) continue; // parsed and ignored, as KalamDB does
    if (c.acceptWord('AUTO_INCREMENT') || c.acceptWord('AUTOINCREMENT')) {
      col.default = { kind: 'function', name: 'SNOWFLAKE_ID' };
      continue;
    }
    if (c.acceptWord('GENERATED')) {
      c.acceptWord('ALWAYS') || c.acceptWords('BY', 'DEFAULT');
      c.expectWord('AS');
      c.expectWord('IDENTITY');
      col.default = { kind: 'function', name: 'SNOWFLAKE_ID' };
      continue;
    }
    if (c.acceptWord('DEFAULT')) { col.default = parseDefault(c); continue; }
    break;
  }
  if (col.primaryKey) pkColumns.push(name);
  return col;
}

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
  return { kind: 'createTable', table, ifNotExists, prefixType, columns, options };
}

const TABLE_PREFIXES = { USER: 'USER', SHARED: 'SHARED', STREAM: 'STREAM' } as const;

/**
 * Parses a KalamDB-specific statement. Returns undefined when the text is
 * not one (so it goes to the standard SQL parser).
 */
export function parseKalamStatement(tokens: Token[], sqlLength: number): Statement | undefined {
  const c = new Cursor(tokens, sqlLength);
  const users = parseUserStatement(c);
  if (users) return users;
  const storage = parseStorageStatement(c);
  if (storage) return storage;
  const alter = parseAlterTable(c);
  if (alter) return alter;
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
