import { beforeAll, describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import type { CreateTableStmt, Expr, SelectStmt, Statement } from './ast';
import { parseStatement } from './parse';
import { loadSqlParser } from './parser-loader';
import { registerWindowRewrites } from './rewrite';
import { findFrames, findWindowClauseMoves } from './window-frame';

// The grammar loads as a database opens; these tests parse without one.
beforeAll(async () => {
  await loadSqlParser();
  // In the engine the frame rewriting loads with the window functions (execute/sql-extensions.ts).
  registerWindowRewrites({ findFrames, findWindowClauseMoves });
});

const parse = (sql: string): Statement => parseStatement(sql);

function createTable(sql: string): CreateTableStmt {
  const s = parse(sql);
  if (s.kind !== 'createTable') throw new Error(`expected createTable, got ${s.kind}`);
  return s;
}

function select(sql: string): SelectStmt {
  const s = parse(sql);
  if (s.kind !== 'select') throw new Error(`expected select, got ${s.kind}`);
  return s;
}

function errorOf(sql: string): KalamError {
  try {
    parse(sql);
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error(`expected '${sql}' to fail`);
}

describe('namespace statements', () => {
  it('classifies CREATE NAMESPACE with and without IF NOT EXISTS, lower-casing the name', () => {
    expect(parse('CREATE NAMESPACE App')).toEqual({ kind: 'createNamespace', name: 'app', ifNotExists: false });
    expect(parse('create namespace if not exists app')).toEqual({ kind: 'createNamespace', name: 'app', ifNotExists: true });
  });

  it('classifies DROP NAMESPACE with IF EXISTS and CASCADE', () => {
    expect(parse('DROP NAMESPACE app')).toEqual({ kind: 'dropNamespace', name: 'app', ifExists: false });
    expect(parse('DROP NAMESPACE IF EXISTS app CASCADE')).toEqual({ kind: 'dropNamespace', name: 'app', ifExists: true });
  });

  it('classifies SHOW NAMESPACES, SHOW TABLES [IN ns], DESCRIBE TABLE and USE', () => {
    expect(parse('SHOW NAMESPACES')).toEqual({ kind: 'showNamespaces' });
    expect(parse('SHOW TABLES')).toEqual({ kind: 'showTables', namespace: undefined });
    expect(parse('SHOW TABLES IN App')).toEqual({ kind: 'showTables', namespace: 'app' });
    expect(parse('SHOW TABLES IN NAMESPACE app')).toEqual({ kind: 'showTables', namespace: 'app' });
    expect(parse('DESCRIBE TABLE app.Todos')).toEqual({ kind: 'describeTable', table: { namespace: 'app', name: 'todos' } });
    expect(parse('DESC todos')).toEqual({ kind: 'describeTable', table: { name: 'todos' } });
    expect(parse('USE App')).toEqual({ kind: 'use', namespace: 'app' });
    expect(parse('USE NAMESPACE app')).toEqual({ kind: 'use', namespace: 'app' });
    expect(parse('SET NAMESPACE app')).toEqual({ kind: 'use', namespace: 'app' });
  });

  it('rejects trailing garbage after a namespace statement with PARSE_ERROR at its position', () => {
    const e = errorOf('CREATE NAMESPACE app extra');
    expect(e.code).toBe('PARSE_ERROR');
    expect(e.position).toBe('CREATE NAMESPACE app '.length);
  });
});

describe('CREATE TABLE', () => {
  it('reads the table type from the prefix, the namespace-qualified name and IF NOT EXISTS', () => {
    const user = createTable('CREATE USER TABLE IF NOT EXISTS App.Todos (id TEXT PRIMARY KEY)');
    expect(user.prefixType).toBe('USER');
    expect(user.ifNotExists).toBe(true);
    expect(user.table).toEqual({ namespace: 'app', name: 'todos' });
    expect(createTable('CREATE SHARED TABLE app.t (id INT PRIMARY KEY)').prefixType).toBe('SHARED');
    expect(createTable("CREATE STREAM TABLE app.t (v TEXT) WITH (TTL_SECONDS=10)").prefixType).toBe('STREAM');
    const plain = createTable('CREATE TABLE t (id INT PRIMARY KEY)');
    expect(plain.prefixType).toBeUndefined();
    expect(plain.ifNotExists).toBe(false);
    expect(plain.table).toEqual({ name: 't' });
  });

  it('reads column types, NOT NULL and an inline PRIMARY KEY', () => {
    const s = createTable(`CREATE USER TABLE app.t (
      ID BIGINT PRIMARY KEY, title VARCHAR(200) NOT NULL, price DECIMAL(10, 2), flag BOOL NULL,
      at TIMESTAMP, d DOUBLE PRECISION, blob BYTEA, doc JSONB, tz TIMESTAMP WITH TIME ZONE)`);
    expect(s.columns.map((c) => [c.name, c.type, c.notNull, c.primaryKey])).toEqual([
      ['id', 'BIGINT', false, true],
      ['title', 'TEXT', true, false],
      ['price', 'DECIMAL', false, false],
      ['flag', 'BOOLEAN', false, false],
      ['at', 'TIMESTAMP', false, false],
      ['d', 'DOUBLE', false, false],
      ['blob', 'BYTES', false, false],
      ['doc', 'JSON', false, false],
      ['tz', 'DATETIME', false, false],
    ]);
    expect(s.columns[2]).toMatchObject({ precision: 10, scale: 2 });
  });

  it('reads a PRIMARY KEY given as a table constraint, named or not', () => {
    const a = createTable('CREATE USER TABLE app.t (a TEXT, b INT, PRIMARY KEY (b))');
    expect(a.columns.map((c) => c.primaryKey)).toEqual([false, true]);
    const b = createTable('CREATE USER TABLE app.t (a TEXT, b INT, CONSTRAINT pk_t PRIMARY KEY (A))');
    expect(b.columns.map((c) => c.primaryKey)).toEqual([true, false]);
  });

  it('refuses composite primary keys and a constraint naming a missing column', () => {
    expect(errorOf('CREATE USER TABLE app.t (a TEXT, b INT, PRIMARY KEY (a, b))')).toMatchObject({
      code: 'UNSUPPORTED',
      message: 'Composite PRIMARY KEYs are not supported yet',
    });
    expect(errorOf('CREATE USER TABLE app.t (a TEXT, PRIMARY KEY (zz))').code).toBe('COLUMN_NOT_FOUND');
  });

  it('reads function defaults and literal defaults', () => {
    const s = createTable(`CREATE USER TABLE app.t (
      id TEXT PRIMARY KEY DEFAULT ULID(), a TIMESTAMP DEFAULT NOW(), b TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
      c BIGINT DEFAULT SNOWFLAKE_ID(), d TEXT DEFAULT UUID_V7(), e TEXT DEFAULT CURRENT_USER(), e2 TEXT DEFAULT CURRENT_USER,
      f TEXT DEFAULT 'it''s', g INT DEFAULT 42, h INT DEFAULT -7, i BOOLEAN DEFAULT false, j TEXT DEFAULT NULL,
      k DOUBLE DEFAULT 1.5, l BIGINT DEFAULT 9007199254740993)`);
    expect(Object.fromEntries(s.columns.map((c) => [c.name, c.default]))).toEqual({
      id: { kind: 'function', name: 'ULID' },
      a: { kind: 'function', name: 'NOW' },
      b: { kind: 'function', name: 'NOW' },
      c: { kind: 'function', name: 'SNOWFLAKE_ID' },
      d: { kind: 'function', name: 'UUID_V7' },
      e: { kind: 'function', name: 'CURRENT_USER' },
      e2: { kind: 'function', name: 'CURRENT_USER' },
      f: { kind: 'literal', value: "it's" },
      g: { kind: 'literal', value: 42 },
      h: { kind: 'literal', value: -7 },
      i: { kind: 'literal', value: false },
      j: { kind: 'literal', value: null },
      k: { kind: 'literal', value: 1.5 },
      l: { kind: 'literal', value: 9007199254740993n },
    });
  });

  it('turns AUTO_INCREMENT, SERIAL and GENERATED … AS IDENTITY into DEFAULT SNOWFLAKE_ID()', () => {
    const s = createTable(`CREATE USER TABLE app.t (
      a BIGINT AUTO_INCREMENT PRIMARY KEY, b SERIAL, c BIGSERIAL, d BIGINT GENERATED ALWAYS AS IDENTITY,
      e BIGINT GENERATED BY DEFAULT AS IDENTITY, f BIGINT)`);
    const snowflake = { kind: 'function', name: 'SNOWFLAKE_ID' };
    expect(s.columns.map((c) => c.default)).toEqual([snowflake, snowflake, snowflake, snowflake, snowflake, undefined]);
    expect(s.columns.map((c) => c.type)).toEqual(['BIGINT', 'INT', 'BIGINT', 'BIGINT', 'BIGINT', 'BIGINT']);
  });

  it('reads WITH options with upper-cased keys and unquoted values', () => {
    const s = createTable("CREATE TABLE app.t (id INT PRIMARY KEY) WITH (type='USER', TTL_SECONDS=60, Access_Level = 'public')");
    expect(s.options).toEqual({ TYPE: 'USER', TTL_SECONDS: '60', ACCESS_LEVEL: 'public' });
  });

  it('reads a negative option value, leaving its validation to CREATE TABLE', () => {
    expect(createTable('CREATE STREAM TABLE app.t (v INT) WITH (TTL_SECONDS = -5)').options).toEqual({ TTL_SECONDS: '-5' });
    expect(errorOf("CREATE STREAM TABLE app.t (v INT) WITH (TTL_SECONDS = -'x')").code).toBe('PARSE_ERROR');
  });

  it('refuses a column declared twice in any case, quoting the second name as written at its position', () => {
    const sql = 'CREATE USER TABLE app.t (id INT PRIMARY KEY, title TEXT, TITLE TEXT)';
    expect(errorOf(sql)).toMatchObject({
      code: 'DUPLICATE_COLUMN',
      message: "Duplicate column name 'TITLE'. Column names are case-insensitive.",
      position: sql.indexOf('TITLE'),
    });
  });

  it('rejects an unknown column type with UNSUPPORTED naming the type', () => {
    const e = errorOf('CREATE USER TABLE app.t (id WIDGET PRIMARY KEY)');
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toContain("'WIDGET'");
    expect(e.position).toBe('CREATE USER TABLE app.t (id '.length);
  });

  it('rejects a malformed column list with PARSE_ERROR and a position', () => {
    const e = errorOf('CREATE USER TABLE app.t (id INT PRIMARY KEY');
    expect(e.code).toBe('PARSE_ERROR');
    expect(e.position).toBe('CREATE USER TABLE app.t (id INT PRIMARY KEY'.length);
    const f = errorOf('CREATE USER TABLE app.t (id INT PRIMARY KEY,) ');
    expect(f.code).toBe('PARSE_ERROR');
    expect(f.position).toBe('CREATE USER TABLE app.t (id INT PRIMARY KEY,'.length);
  });
});

describe('DROP TABLE', () => {
  it('classifies DROP [USER|SHARED|STREAM] TABLE [IF EXISTS]', () => {
    expect(parse('DROP TABLE app.t')).toEqual({ kind: 'dropTable', table: { namespace: 'app', name: 't' }, ifExists: false });
    expect(parse('DROP USER TABLE IF EXISTS app.T')).toEqual({ kind: 'dropTable', table: { namespace: 'app', name: 't' }, ifExists: true });
    expect(parse('DROP SHARED TABLE t')).toEqual({ kind: 'dropTable', table: { name: 't' }, ifExists: false });
    expect(parse('DROP STREAM TABLE IF EXISTS t')).toEqual({ kind: 'dropTable', table: { name: 't' }, ifExists: true });
  });
});

describe('standard statements', () => {
  it('converts a SELECT into our AST: items, aliases, FROM, WHERE, GROUP BY, ORDER BY, LIMIT and OFFSET', () => {
    const s = select('SELECT t.ID AS Ident, COUNT(*) FROM App.Todos t WHERE done = $1 GROUP BY t.id ORDER BY 2 DESC NULLS LAST LIMIT 10 OFFSET 5');
    expect(s.items).toEqual([
      { expr: { kind: 'column', table: 't', name: 'id' }, alias: 'ident' },
      { expr: { kind: 'call', name: 'COUNT', args: [], distinct: false, star: true } },
    ]);
    expect(s.from).toEqual([{ table: { namespace: 'app', name: 'todos' }, alias: 't', join: 'first' }]);
    expect(s.where).toEqual({ kind: 'binary', op: '=', left: { kind: 'column', name: 'done' }, right: { kind: 'param', index: 0 } });
    expect(s.groupBy).toEqual([{ kind: 'column', table: 't', name: 'id' }]);
    expect(s.orderBy).toEqual([{ expr: { kind: 'literal', value: 2 }, descending: true, nullsFirst: false }]);
    expect(s.limit).toEqual({ kind: 'literal', value: 10 });
    expect(s.offset).toEqual({ kind: 'literal', value: 5 });
  });

  it('defaults NULLS LAST for ascending and NULLS FIRST for descending order', () => {
    const s = select('SELECT a FROM t ORDER BY a, b DESC, c ASC NULLS FIRST');
    expect(s.orderBy.map((o) => [o.descending, o.nullsFirst])).toEqual([[false, false], [true, true], [false, true]]);
  });

  it('converts joins with their kind and ON condition', () => {
    const s = select('SELECT * FROM a JOIN b ON a.id = b.aid LEFT JOIN c ON c.id = b.cid CROSS JOIN d');
    expect(s.from.map((f) => [f.table.name, f.join, f.on !== undefined])).toEqual([
      ['a', 'first', false], ['b', 'inner', true], ['c', 'left', true], ['d', 'cross', false],
    ]);
  });

  it('converts the expression forms the compiler evaluates', () => {
    const where = (sql: string): Expr => select(`SELECT 1 FROM t WHERE ${sql}`).where!;
    expect(where("a NOT LIKE 'x%'")).toMatchObject({ kind: 'like', negated: true, caseInsensitive: false });
    expect(where("a ILIKE 'x%'")).toMatchObject({ kind: 'like', negated: false, caseInsensitive: true });
    expect(where('a NOT IN (1, 2)')).toMatchObject({ kind: 'in', negated: true, list: [{ kind: 'literal', value: 1 }, { kind: 'literal', value: 2 }] });
    expect(where('a BETWEEN 1 AND 2')).toMatchObject({ kind: 'between', negated: false, low: { value: 1 }, high: { value: 2 } });
    expect(where('a IS NOT NULL')).toEqual({ kind: 'isNull', arg: { kind: 'column', name: 'a' }, negated: true });
    expect(where('NOT a')).toEqual({ kind: 'unary', op: 'NOT', arg: { kind: 'column', name: 'a' } });
    expect(where("CAST(a AS BIGINT) = 1")).toMatchObject({ kind: 'binary', left: { kind: 'cast', type: 'BIGINT' } });
    expect(where("a <> 1 OR a != 2")).toMatchObject({ op: 'OR', left: { op: '<>' }, right: { op: '<>' } });
  });

  it('reads a $n::type cast anywhere, keeping the operators around it', () => {
    const cast = (index: number) => ({ kind: 'cast', arg: { kind: 'param', index }, type: 'BIGINT' });
    expect(select('SELECT a FROM t WHERE id = $1::BIGINT').where).toEqual({
      kind: 'binary', op: '=', left: { kind: 'column', name: 'id' }, right: cast(0),
    });
    expect(select('SELECT $1::BIGINT * $2 + $3').items[0].expr).toEqual({
      kind: 'binary', op: '+',
      left: { kind: 'binary', op: '*', left: cast(0), right: { kind: 'param', index: 1 } },
      right: { kind: 'param', index: 2 },
    });
  });

  it('reports a syntax error after a $n::type cast at its position in the text as written', () => {
    const sql = 'SELECT a FROM t WHERE id = $1::BIGINT AND $2::INT = = 1';
    const e = errorOf(sql);
    expect(e.code).toBe('PARSE_ERROR');
    expect(e.position).toBe(sql.lastIndexOf('= 1'));
  });

  it('reads LIKE … ESCAPE, aggregate FILTER and typed literals', () => {
    expect(select("SELECT 1 FROM t WHERE a LIKE 'x!%' ESCAPE '!'").where).toEqual({
      kind: 'like', arg: { kind: 'column', name: 'a' }, pattern: { kind: 'literal', value: 'x!%' },
      negated: false, caseInsensitive: false, escape: { kind: 'literal', value: '!' },
    });
    expect(select('SELECT COUNT(*) FILTER (WHERE a > 1) FROM t').items[0].expr).toEqual({
      kind: 'call', name: 'COUNT', args: [], distinct: false, star: true,
      filter: { kind: 'binary', op: '>', left: { kind: 'column', name: 'a' }, right: { kind: 'literal', value: 1 } },
    });
    expect(select("SELECT DATE '2024-01-02'").items[0].expr).toEqual({ kind: 'cast', arg: { kind: 'literal', value: '2024-01-02' }, type: 'DATE' });
    expect(select('SELECT a FROM t LIMIT ALL').limit).toBeUndefined();
  });

  it('reads DISTINCT inside SUM, AVG, MIN and MAX as well as COUNT', () => {
    const items = select('SELECT COUNT(DISTINCT a), sum(DISTINCT a), Avg(distinct b), MIN(DISTINCT c), MAX(DISTINCT t.d), SUM(e) FROM t').items;
    expect(items.map((i) => i.expr)).toEqual([
      { kind: 'call', name: 'COUNT', args: [{ kind: 'column', name: 'a' }], distinct: true, star: false },
      { kind: 'call', name: 'SUM', args: [{ kind: 'column', name: 'a' }], distinct: true, star: false },
      { kind: 'call', name: 'AVG', args: [{ kind: 'column', name: 'b' }], distinct: true, star: false },
      { kind: 'call', name: 'MIN', args: [{ kind: 'column', name: 'c' }], distinct: true, star: false },
      { kind: 'call', name: 'MAX', args: [{ kind: 'column', table: 't', name: 'd' }], distinct: true, star: false },
      { kind: 'call', name: 'SUM', args: [{ kind: 'column', name: 'e' }], distinct: false, star: false },
    ]);
  });

  it('points a syntax error after a rewritten aggregate at the text as written', () => {
    const sql = 'SELECT SUM(DISTINCT a) FROM t WHERE a = = 1';
    const e = errorOf(sql);
    expect(e.code).toBe('PARSE_ERROR');
    expect(e.position).toBe(sql.lastIndexOf('= 1'));
  });

  it('keeps integer literals above 2^53 exact as bigint', () => {
    const s = select('SELECT 9007199254740993');
    expect(s.items[0].expr).toEqual({ kind: 'literal', value: 9007199254740993n });
  });

  it('converts INSERT, UPDATE and DELETE', () => {
    expect(parse("INSERT INTO app.t (A, b) VALUES (1, 'x'), ($1, NULL)")).toEqual({
      kind: 'insert',
      table: { namespace: 'app', name: 't' },
      columns: ['a', 'b'],
      rows: [
        [{ kind: 'literal', value: 1 }, { kind: 'literal', value: 'x' }],
        [{ kind: 'param', index: 0 }, { kind: 'literal', value: null }],
      ],
    });
    expect(parse('UPDATE app.t SET Done = NOT done WHERE id = $1')).toEqual({
      kind: 'update',
      table: { namespace: 'app', name: 't' },
      set: [{ column: 'done', value: { kind: 'unary', op: 'NOT', arg: { kind: 'column', name: 'done' } } }],
      where: { kind: 'binary', op: '=', left: { kind: 'column', name: 'id' }, right: { kind: 'param', index: 0 } },
    });
    expect(parse('DELETE FROM app.t WHERE id = 3')).toEqual({
      kind: 'delete',
      table: { namespace: 'app', name: 't' },
      where: { kind: 'binary', op: '=', left: { kind: 'column', name: 'id' }, right: { kind: 'literal', value: 3 } },
    });
    expect(parse('DELETE FROM app.t')).toEqual({ kind: 'delete', table: { namespace: 'app', name: 't' } });
  });

  it('reads DEFAULT as a value and the alias of an UPDATE or DELETE target', () => {
    expect(parse('INSERT INTO t (a, b) VALUES (1, DEFAULT)')).toMatchObject({ rows: [[{ kind: 'literal', value: 1 }, { kind: 'default' }]] });
    expect(parse('UPDATE app.t AS X SET a = DEFAULT WHERE x.id = 1')).toMatchObject({ alias: 'x', set: [{ column: 'a', value: { kind: 'default' } }] });
    expect(parse('DELETE FROM app.t y WHERE y.id = 1')).toMatchObject({ kind: 'delete', alias: 'y' });
  });
});

describe('errors', () => {
  it('reports a syntax error in a standard statement as PARSE_ERROR with the position of the offending token', () => {
    const e = errorOf('SELECT a FROM t WHERE a = = 1');
    expect(e.code).toBe('PARSE_ERROR');
    expect(e.position).toBeGreaterThanOrEqual('SELECT a FROM t WHERE a ='.length);
    expect(e.position).toBeLessThanOrEqual('SELECT a FROM t WHERE a = ='.length);
  });

  it('reports an unterminated string as PARSE_ERROR at its opening quote', () => {
    const e = errorOf("SELECT 'abc FROM t");
    expect(e).toMatchObject({ code: 'PARSE_ERROR', position: 7 });
  });

  it('reports an INSERT row with the wrong number of values as INVALID_SQL naming the row', () => {
    expect(errorOf("INSERT INTO t (a, b) VALUES (1, 2), (3)")).toMatchObject({ code: 'INVALID_SQL', message: expect.stringContaining('row 2') });
  });

  it('reports an empty statement as PARSE_ERROR', () => {
    expect(errorOf('   ').code).toBe('PARSE_ERROR');
    expect(errorOf('-- only a comment').code).toBe('PARSE_ERROR');
  });

  it('refuses unknown statements and unsupported shapes with UNSUPPORTED instead of crashing', () => {
    for (const sql of [
      'GRANT ALL ON t TO bob',
      'WITH RECURSIVE x AS (SELECT 1) SELECT * FROM x',
      'SELECT a FROM t INTERSECT ALL SELECT a FROM u',
      'SELECT a FROM t EXCEPT ALL SELECT a FROM u',
      'SELECT a FROM t WHERE a = ANY (SELECT b FROM u)',
      'SELECT a FROM t, LATERAL (SELECT 1) x',
      "INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO NOTHING",
      'UPDATE t SET a = 1 WHERE a = 2 RETURNING a',
      'SELECT SUM(a) OVER (ORDER BY a ROWS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE TIES) FROM t',
    ]) {
      const e = errorOf(sql);
      expect([sql, e.code]).toEqual([sql, 'UNSUPPORTED']);
    }
  });

  it('refuses a CREATE statement it does not know without crashing', () => {
    expect(errorOf('CREATE TRIGGER trg BEFORE INSERT ON t')).toMatchObject({ code: 'UNSUPPORTED', position: 0 });
  });
});

describe('subqueries, WITH and set operations', () => {
  const shape = (s: SelectStmt): unknown =>
    s.setOp ? [shape(s.setOp.left), `${s.setOp.op}${s.setOp.all ? ' ALL' : ''}`, shape(s.setOp.right)] : s.from.map((f) => f.table.name).join(',');

  it('reads scalar, EXISTS, NOT EXISTS and IN subqueries into their own nodes', () => {
    const s = select('SELECT (SELECT 1) AS x FROM t WHERE EXISTS (SELECT 1 FROM u) AND NOT EXISTS (SELECT 1 FROM v) AND a NOT IN (SELECT b FROM w)');
    expect(s.items[0].expr.kind).toBe('subquery');
    const conjuncts = (e: Expr): Expr[] => (e.kind === 'binary' && e.op === 'AND' ? [...conjuncts(e.left), ...conjuncts(e.right)] : [e]);
    const [exists, notExists, inSub] = conjuncts(s.where!);
    expect(exists).toMatchObject({ kind: 'exists', query: { from: [{ table: { name: 'u' } }] } });
    expect(notExists).toMatchObject({ kind: 'unary', op: 'NOT', arg: { kind: 'exists', query: { from: [{ table: { name: 'v' } }] } } });
    expect(inSub).toMatchObject({ kind: 'inSubquery', negated: true, arg: { kind: 'column', name: 'a' }, query: { from: [{ table: { name: 'w' } }] } });
  });

  it('reads a derived table with its alias and column names', () => {
    expect(select('SELECT * FROM (SELECT 1 AS x) AS s (y)').from[0]).toMatchObject({ table: { name: 's' }, alias: 's', columnAliases: ['y'], subquery: { kind: 'select' } });
  });

  it('reads WITH items in order, with column lists', () => {
    const s = select('WITH a AS (SELECT 1 AS x), b (y) AS (SELECT x FROM a) SELECT * FROM b');
    expect(s.with?.map((c) => [c.name, c.columns, shape(c.query)])).toEqual([['a', undefined, ''], ['b', ['y'], 'a']]);
  });

  it('builds set operations with INTERSECT binding tighter and the trailing ORDER BY/LIMIT on the whole', () => {
    const s = select('SELECT a FROM t UNION SELECT a FROM u INTERSECT SELECT a FROM v EXCEPT SELECT a FROM w ORDER BY 1 LIMIT 2');
    expect(shape(s)).toEqual([['t', 'UNION', ['u', 'INTERSECT', 'v']], 'EXCEPT', 'w']);
    expect(s.orderBy).toHaveLength(1);
    expect(s.limit).toEqual({ kind: 'literal', value: 2 });
    expect(s.setOp!.right.orderBy).toEqual([]);
  });

  it('reads `FROM t UNION (SELECT …)` as a set operation, not a join', () => {
    const s = select('SELECT a FROM t UNION ALL (SELECT a FROM u ORDER BY a LIMIT 1) ORDER BY 1');
    expect(shape(s)).toEqual(['t', 'UNION ALL', 'u']);
    expect(s.orderBy).toHaveLength(1);
    expect(s.setOp!.right.limit).toEqual({ kind: 'literal', value: 1 });
  });

  it('reads INSERT … SELECT', () => {
    const s = parse('INSERT INTO t (a) SELECT b FROM u');
    expect(s).toMatchObject({ kind: 'insert', columns: ['a'], rows: [], select: { from: [{ table: { name: 'u' } }] } });
  });
});
