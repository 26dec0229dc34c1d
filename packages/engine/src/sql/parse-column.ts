/** Column definitions as CREATE TABLE and ALTER TABLE … ADD COLUMN write them: name, type, constraints, DEFAULT. */
import { KalamError } from '../core/errors';
import type { DataType } from '../core/types';
import { vectorMath } from '../core/vector-registry';
import type { ColumnSpec, DefaultSpec } from './ast';
import type { Cursor } from './cursor';
import { numberLiteral, type Token } from './lexer';

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
  EMBEDDING: 'EMBEDDING',
  TIMESTAMP: 'TIMESTAMP', DATETIME: 'DATETIME', TIMESTAMPTZ: 'DATETIME', DATE: 'DATE', TIME: 'TIME', UUID: 'UUID',
  FILE: 'FILE', INTERVAL: 'INTERVAL',
  SERIAL: 'INT', BIGSERIAL: 'BIGINT', SMALLSERIAL: 'SMALLINT',
};

/** Maps an SQL type name to a DataType, or throws with the list of supported types. */
export function dataTypeOf(name: string, position?: number): DataType {
  const t = TYPE_NAMES[name.toUpperCase()];
  if (!t) {
    throw new KalamError(
      'UNSUPPORTED',
      `Unsupported data type '${name}'. Supported: BOOLEAN, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL/NUMERIC, TEXT, BYTES, JSON, TIMESTAMP, TIMESTAMPTZ, DATETIME, DATE, TIME, INTERVAL, UUID, FILE, EMBEDDING(n)`,
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
  let p: Token | undefined;
  let s: Token | undefined;
  if (c.acceptPunct('(')) { // VARCHAR(255), DECIMAL(10,2)
    p = c.next();
    if (p.type !== 'number') c.fail('expected a number');
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
  if (type === 'EMBEDDING') col.precision = vectorMath!.dimension(name, p?.text, s?.text, typeTok.start);
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
