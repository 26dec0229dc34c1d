/**
 * ALTER TABLE, one operation per statement as KalamDB has it (reference
 * §1.1): ADD / DROP / RENAME / MODIFY COLUMN, ALTER COLUMN … SET/DROP NOT
 * NULL, SET/DROP DEFAULT, TYPE, and SET ACCESS LEVEL / SET TBLPROPERTIES.
 * Works on the token cursor of ddl.ts.
 */
import { KalamError } from '../core/errors';
import type { AlterOp, AlterTableStmt, ColumnSpec } from './ast';
import { Cursor } from './cursor';
import { parseColumn, parseDefault } from './parse-column';
import type { Token } from './lexer';

/** Parses `ALTER TABLE …` when the cursor is at ALTER TABLE; undefined otherwise. */
export function parseAlterTable(c: Cursor): AlterTableStmt | undefined {
  if (!(c.isWord('ALTER') && c.isWord('TABLE', 1))) return undefined;
  c.next();
  c.next();
  const table = c.tableName();
  const op = parseOp(c);
  c.end();
  return { kind: 'alterTable', table, op };
}

function parseOp(c: Cursor): AlterOp {
  if (c.acceptWord('ADD')) {
    if (c.isWord('CONSTRAINT') || c.isWord('PRIMARY') || c.isWord('INDEX') || c.isWord('VECTOR') || c.isWord('UNIQUE')) {
      throw unsupported(c, `ALTER TABLE … ADD ${c.peek()!.text.toUpperCase()} is not supported: only ADD COLUMN`);
    }
    c.acceptWord('COLUMN');
    const ifNotExists = c.acceptWords('IF', 'NOT', 'EXISTS');
    const nameTok = c.peek();
    const column = parseColumn(c, []);
    if (column.primaryKey) {
      throw new KalamError('UNSUPPORTED', `Cannot add PRIMARY KEY column '${column.name}': a table's primary key is fixed when it is created`, nameTok?.start);
    }
    return { kind: 'addColumn', column, ifNotExists, written: nameTok?.text ?? column.name };
  }
  if (c.acceptWord('DROP')) {
    if (c.isWord('INDEX') || c.isWord('VECTOR') || c.isWord('CONSTRAINT')) {
      throw unsupported(c, `ALTER TABLE … DROP ${c.peek()!.text.toUpperCase()} is not supported: only DROP COLUMN`);
    }
    c.acceptWord('COLUMN');
    const ifExists = c.acceptWords('IF', 'EXISTS');
    const column = c.identifier('a column name');
    c.acceptWord('CASCADE') || c.acceptWord('RESTRICT');
    return { kind: 'dropColumn', column, ifExists };
  }
  if (c.acceptWord('RENAME')) {
    if (c.isWord('TO')) throw unsupported(c, 'Renaming a table is not supported: create a new table and copy the rows');
    c.acceptWord('COLUMN');
    const from = c.identifier('a column name');
    c.expectWord('TO');
    const to = c.identifier('the new column name');
    return { kind: 'renameColumn', from, to };
  }
  if (c.acceptWord('MODIFY')) {
    c.acceptWord('COLUMN');
    return parseModify(c, c.next());
  }
  if (c.acceptWord('ALTER')) {
    c.acceptWord('COLUMN');
    const nameTok = c.peek();
    const column = c.identifier('a column name');
    if (c.acceptWords('SET', 'NOT', 'NULL')) return { kind: 'setNotNull', column, notNull: true };
    if (c.acceptWords('DROP', 'NOT', 'NULL')) return { kind: 'setNotNull', column, notNull: false };
    if (c.acceptWords('SET', 'DEFAULT')) return { kind: 'setDefault', column, default: parseDefault(c) };
    if (c.acceptWords('DROP', 'DEFAULT')) return { kind: 'setDefault', column, default: null };
    if (c.acceptWord('TYPE') || c.acceptWords('SET', 'DATA', 'TYPE')) return parseModify(c, nameTok!);
    c.fail('expected SET NOT NULL, DROP NOT NULL, SET DEFAULT, DROP DEFAULT or TYPE');
  }
  if (c.acceptWord('SET')) {
    if (c.acceptWords('ACCESS', 'LEVEL')) return { kind: 'setAccessLevel', level: accessLevelValue(c) };
    if (c.acceptWord('TBLPROPERTIES') || c.acceptWord('OPTIONS')) {
      c.expectPunct('(');
      const key = c.next();
      if (key.type !== 'word' && key.type !== 'quoted' && key.type !== 'string') c.fail('expected a property name');
      if (key.text.toUpperCase() !== 'ACCESS_LEVEL') {
        throw new KalamError('INVALID_OPTION', `Unknown table option '${key.text.toUpperCase()}': only ACCESS_LEVEL can be changed`, key.start);
      }
      c.expectPunct('=');
      const level = accessLevelValue(c);
      c.expectPunct(')');
      return { kind: 'setAccessLevel', level };
    }
    c.fail('expected ACCESS LEVEL or TBLPROPERTIES');
  }
  if (c.isWord('CREATE')) throw unsupported(c, 'ALTER TABLE … CREATE INDEX is not supported');
  c.fail('expected ADD COLUMN, DROP COLUMN, RENAME COLUMN, MODIFY COLUMN, ALTER COLUMN or SET ACCESS LEVEL');
}

function accessLevelValue(c: Cursor): string {
  const t = c.next();
  if (t.type !== 'word' && t.type !== 'string' && t.type !== 'quoted') c.fail('expected an access level (public, private, restricted or dba)');
  return t.text;
}

/**
 * The rest of the statement is `<type> [NOT NULL | NULL]`, for the column
 * named by `nameTok`; parsed with CREATE TABLE's column grammar so types read
 * the same everywhere.
 */
function parseModify(c: Cursor, nameTok: Token): AlterOp {
  if (nameTok.type !== 'word' && nameTok.type !== 'quoted') c.fail('expected a column name');
  const rest: Token[] = [];
  while (!c.atEnd()) rest.push(c.next());
  let notNull: boolean | undefined;
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i].type === 'word' ? rest[i].text.toUpperCase() : '';
    if (w === 'NULL') notNull = i > 0 && rest[i - 1].type === 'word' && rest[i - 1].text.toUpperCase() === 'NOT';
  }
  const sub = new Cursor([nameTok, ...rest], c.position());
  const spec: ColumnSpec = parseColumn(sub, []);
  sub.end();
  if (spec.primaryKey) throw new KalamError('UNSUPPORTED', 'MODIFY COLUMN cannot add a PRIMARY KEY: a table\'s primary key is fixed when it is created', nameTok.start);
  if (spec.default) {
    throw new KalamError('INVALID_SQL', `MODIFY COLUMN changes a type and nullability only: use ALTER TABLE … ALTER COLUMN ${spec.name} SET DEFAULT … for a default`, nameTok.start);
  }
  const op: AlterOp = { kind: 'modifyColumn', column: spec.name, type: spec.type };
  if (spec.precision !== undefined) { op.precision = spec.precision; op.scale = spec.scale; }
  if (notNull !== undefined) op.notNull = notNull;
  return op;
}

function unsupported(c: Cursor, message: string): KalamError {
  return new KalamError('UNSUPPORTED', message, c.position());
}
