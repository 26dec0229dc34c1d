/**
 * Generators for the SQL fuzz suite (fuzz.test.ts): a small grammar of the
 * engine's SQL over one fixed schema, hostile literals and parameter
 * values, and token/character mutations of valid statements. Not a test
 * file: fuzz.test.ts drives them.
 */
import fc from 'fast-check';

/** The fixed schema every case runs against (role dba, so SHARED writes are allowed). */
export const FUZZ_SCHEMA = `
  CREATE NAMESPACE app;
  CREATE USER TABLE app.u (id INT PRIMARY KEY, a INT, b TEXT, j JSON, t TIMESTAMP);
  CREATE SHARED TABLE app.s (id BIGINT PRIMARY KEY, a DOUBLE, b TEXT, d DATE, y BYTES) WITH (ACCESS_LEVEL = 'public');
  CREATE STREAM TABLE app.e (k INT, b TEXT) WITH (TTL_SECONDS = 86400)`;

/** Tables and the columns the grammar names; `snapshot` reads every row of each, deleted ones too. */
export const FUZZ_TABLES = {
  'app.u': ['id', 'a', 'b', 'j', 't'],
  'app.s': ['id', 'a', 'b', 'd', 'y'],
  'app.e': ['k', 'b'],
} as const;
export type FuzzTable = keyof typeof FUZZ_TABLES;
const WRITABLE_PK_TABLES: readonly FuzzTable[] = ['app.u', 'app.s'];

/** A generated case: one `execute()` call. */
export interface FuzzCase {
  sql: string;
  params: unknown[];
}

// ---------------------------------------------------------------- literals

const HOSTILE_NUMBERS = [
  '0', '1', '-1', '2', '7', '42', '-0', '0.5', '-2.5', '1e308', '-1e308', '1e-320', '9007199254740993', '-9223372036854775808',
  '9223372036854775807', '18446744073709551616', '99999999999999999999999999999', '2147483648', '-2147483649', '1.5e10', '.5', '3.',
];

const UNICODE = ['é', 'ß', 'İ', 'ǅ', '日本', '🙂', '\u0000', '\u200b', '\ud83d', 'ﬃ', 'Σ', '\\', '%', '_', "''"];

const stringBody = fc
  .array(fc.oneof(fc.constantFrom('a', 'b', 'x', ' ', '1', '-'), fc.constantFrom(...UNICODE), fc.string({ maxLength: 3 }).map((s) => s.replaceAll("'", "''"))), { maxLength: 6 })
  .map((parts) => parts.join(''));

const likePattern = fc.oneof(
  stringBody.map((s) => `'%${s}%'`),
  fc.integer({ min: 1, max: 40 }).map((n) => `'${'%a'.repeat(n)}%c'`),
  fc.integer({ min: 1, max: 3000 }).map((n) => `'${'_%'.repeat(n)}'`),
  fc.integer({ min: 9990, max: 10010 }).map((n) => `'${'a'.repeat(n)}'`),
  fc.constantFrom("'\\%'", "'%\\'", "'a\\_b'", "'%'", "''"),
);

const jsonText = fc.oneof(
  fc.constantFrom('{}', '[]', 'null', '1e400', '{"a":1}', '[1,[2,[3]]]', '{"__proto__":{"x":1}}', '"\\ud800"', '{"a":', '[1,]', 'NaN', '-0'),
  fc.integer({ min: 1, max: 400 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`),
  fc.integer({ min: 1, max: 400 }).map((n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
);

const literal: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTILE_NUMBERS), weight: 4 },
  { arbitrary: fc.integer({ min: -3, max: 12 }).map(String), weight: 4 },
  { arbitrary: stringBody.map((s) => `'${s}'`), weight: 3 },
  { arbitrary: fc.constantFrom('NULL', 'TRUE', 'FALSE'), weight: 2 },
  { arbitrary: jsonText.map((s) => `'${s.replaceAll("'", "''")}'`), weight: 1 },
  { arbitrary: fc.constantFrom("'2024-02-29'", "'0000-01-01'", "'275760-09-13T00:00:00Z'", "'1970-01-01T00:00:00.0001Z'", "'9999-12-31'", "'-271821-04-20'"), weight: 1 },
  { arbitrary: fc.constantFrom("X'00ff'", "'\\x00'", 'E\'\\n\''), weight: 1 },
);

const paramRef = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 4 }).map((n) => `$${n}`), weight: 8 },
  { arbitrary: fc.constantFrom('$0', '$5', '$65535', '$65536', '$4294967296', '$99999999999999999999'), weight: 1 },
);

/** Parameter values of hostile shapes (the engine copies and validates them). */
export const paramValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.integer({ min: -5, max: 12 }), weight: 4 },
  { arbitrary: fc.constantFrom(0.5, -0, 1e308, -1e308, Number.NaN, Infinity, -Infinity, 2 ** 53 + 1, 5e-324), weight: 2 },
  { arbitrary: fc.constantFrom(2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n, 0n), weight: 1 },
  { arbitrary: stringBody, weight: 3 },
  { arbitrary: fc.constantFrom('x'.repeat(20_000), '%'.repeat(5000), '[[[[[[[[[[]]]]]]]]]]', '{"a":[1,{"b":null}]}', '2024-01-01', 'not a date'), weight: 1 },
  { arbitrary: fc.boolean(), weight: 1 },
  { arbitrary: fc.constant(null), weight: 2 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 2 },
  {
    arbitrary: fc.constantFrom(
      () => new Uint8Array([0, 255]),
      () => new Date(0),
      () => new Date(Number.NaN),
      () => new Date(8.64e15),
      () => ({ a: 1, b: [true, null, 'x'] }),
      () => [1, 'two', { three: 3 }],
      () => ({ toString() { throw new Error('no'); } }),
      () => new Proxy({}, { ownKeys() { throw new Error('trap'); } }),
      () => undefined,
      () => Symbol('s'),
      () => () => 1,
      () => new Map(),
      () => deepArray(300),
      () => deepArray(60),
    ).map((make) => make()),
    weight: 2,
  },
);

function deepArray(depth: number): unknown {
  let v: unknown = [];
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

// ---------------------------------------------------------------- expressions

const TYPES = ['INT', 'BIGINT', 'TEXT', 'DOUBLE', 'FLOAT', 'BOOLEAN', 'JSON', 'DATE', 'TIMESTAMP', 'BYTES', 'SMALLINT', 'UUID', 'TIME'];
const FUNCTIONS_1 = ['LOWER', 'UPPER', 'LENGTH', 'TRIM', 'REVERSE', 'ABS', 'CEIL', 'FLOOR', 'ROUND', 'SQRT', 'LN', 'EXP', 'SIGN', 'DATE', 'TO_TIMESTAMP', 'OCTET_LENGTH'];
const FUNCTIONS_2 = ['COALESCE', 'NULLIF', 'POWER', 'MOD', 'LEFT', 'RIGHT', 'REPEAT', 'STRPOS', 'CONCAT', 'ROUND', 'STARTS_WITH', 'IFNULL'];
const FUNCTIONS_3 = ['SUBSTRING', 'REPLACE', 'LPAD', 'RPAD', 'CONCAT_WS'];
const AGGREGATES = ['COUNT', 'SUM', 'AVG', 'MIN', 'MAX'];
const BINARY = ['+', '-', '*', '/', '%', '||', '=', '<>', '!=', '<', '<=', '>', '>=', 'AND', 'OR'];

function expression(columns: readonly string[], allowSubquery: boolean): fc.Arbitrary<string> {
  const column = fc.constantFrom(...columns, '_seq', '_deleted');
  return fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      { arbitrary: column, weight: 5 },
      { arbitrary: literal, weight: 4 },
      { arbitrary: paramRef, weight: 2 },
      { arbitrary: fc.tuple(tie('e'), fc.constantFrom(...BINARY), tie('e')).map(([l, op, r]) => `(${l} ${op} ${r})`), weight: 4 },
      { arbitrary: fc.tuple(fc.constantFrom('NOT', '-', '+'), tie('e')).map(([op, x]) => `${op} (${x})`), weight: 1 },
      { arbitrary: fc.tuple(tie('e'), fc.constantFrom('IS NULL', 'IS NOT NULL', 'IS TRUE', 'IS NOT DISTINCT FROM NULL')).map(([x, p]) => `(${x} ${p})`), weight: 1 },
      { arbitrary: fc.tuple(tie('e'), fc.constantFrom('LIKE', 'NOT LIKE', 'ILIKE'), fc.oneof(likePattern, paramRef, column)).map(([x, op, p]) => `(${x} ${op} ${p})`), weight: 2 },
      { arbitrary: fc.tuple(tie('e'), fc.array(fc.oneof(literal, paramRef), { minLength: 1, maxLength: 12 }), fc.boolean()).map(([x, xs, not]) => `(${x} ${not ? 'NOT ' : ''}IN (${xs.join(', ')}))`), weight: 1 },
      { arbitrary: fc.tuple(tie('e'), tie('e'), tie('e')).map(([x, lo, hi]) => `(${x} BETWEEN ${lo} AND ${hi})`), weight: 1 },
      { arbitrary: fc.tuple(tie('e'), tie('e'), tie('e')).map(([c, a, b]) => `CASE WHEN ${c} THEN ${a} ELSE ${b} END`), weight: 1 },
      { arbitrary: fc.tuple(tie('e'), fc.constantFrom(...TYPES)).map(([x, t]) => `CAST(${x} AS ${t})`), weight: 2 },
      { arbitrary: fc.tuple(fc.constantFrom(...FUNCTIONS_1), tie('e')).map(([f, x]) => `${f}(${x})`), weight: 2 },
      { arbitrary: fc.tuple(fc.constantFrom(...FUNCTIONS_2), tie('e'), tie('e')).map(([f, x, y]) => `${f}(${x}, ${y})`), weight: 2 },
      { arbitrary: fc.tuple(fc.constantFrom(...FUNCTIONS_3), tie('e'), tie('e'), tie('e')).map(([f, x, y, z]) => `${f}(${x}, ${y}, ${z})`), weight: 1 },
      { arbitrary: fc.integer({ min: 2, max: 200 }).map((n) => `(${'('.repeat(n)}1${')'.repeat(n)})`), weight: 1 },
      { arbitrary: fc.tuple(fc.integer({ min: 2, max: 700 }), fc.constantFrom('+', 'OR', 'AND', '||', '*')).map(([n, op]) => `(${Array.from({ length: n }, (_, i) => String(i % 7)).join(` ${op} `)})`), weight: 1 },
      { arbitrary: fc.integer({ min: 2, max: 300 }).map((n) => `${'NOT '.repeat(n)}TRUE`), weight: 1 },
      ...(allowSubquery
        ? [
            { arbitrary: fc.tuple(fc.constantFrom(...WRITABLE_PK_TABLES), fc.constantFrom('MAX(a)', 'COUNT(*)', 'MIN(id)', 'a')).map(([t, x]) => `(SELECT ${x} FROM ${t})`), weight: 1 },
            { arbitrary: fc.tuple(tie('e'), fc.constantFrom(...WRITABLE_PK_TABLES)).map(([x, t]) => `(${x} IN (SELECT id FROM ${t}))`), weight: 1 },
            { arbitrary: fc.tuple(fc.constantFrom(...WRITABLE_PK_TABLES), fc.constantFrom('a > 1', 'b IS NULL', 'id = 1')).map(([t, c]) => `EXISTS (SELECT 1 FROM ${t} WHERE ${c})`), weight: 1 },
          ]
        : []),
    ),
  })).e;
}

// ---------------------------------------------------------------- statements

const tableName = fc.constantFrom<FuzzTable>('app.u', 'app.s', 'app.e');

const select: fc.Arbitrary<string> = tableName.chain((t) => {
  const cols = FUZZ_TABLES[t];
  const e = expression(cols, true);
  return fc
    .record({
      distinct: fc.boolean(),
      items: fc.oneof(fc.constant('*'), fc.array(fc.tuple(e, fc.option(fc.constantFrom('x', 'y', '"Z z"'), { nil: undefined })).map(([x, a]) => (a ? `${x} AS ${a}` : x)), { minLength: 1, maxLength: 4 }).map((xs) => xs.join(', '))),
      join: fc.option(fc.tuple(fc.constantFrom('JOIN', 'LEFT JOIN', 'CROSS JOIN', 'INNER JOIN'), tableName, fc.constantFrom('q.id = p.id', 'q.b = p.b', 'TRUE', 'q.a > p.a')), { nil: undefined }),
      where: fc.option(e, { nil: undefined }),
      group: fc.option(fc.tuple(fc.constantFrom(...cols), fc.constantFrom(...AGGREGATES), fc.option(e, { nil: undefined })), { nil: undefined }),
      order: fc.option(fc.array(fc.tuple(fc.oneof(fc.constantFrom(...cols), e, fc.constantFrom('1', '2', '0', '99')), fc.constantFrom('', ' ASC', ' DESC', ' NULLS FIRST', ' DESC NULLS LAST')), { minLength: 1, maxLength: 3 }), { nil: undefined }),
      limit: fc.option(fc.oneof(fc.constantFrom('0', '1', '3', '-1', '9223372036854775807', '1e3', '$1', 'NULL')), { nil: undefined }),
      offset: fc.option(fc.constantFrom('0', '2', '-5', '99999999999', '$2'), { nil: undefined }),
      union: fc.option(fc.tuple(fc.constantFrom('UNION', 'UNION ALL', 'INTERSECT', 'EXCEPT'), tableName), { nil: undefined }),
    })
    .map((q) => {
      if (q.group) {
        const [g, agg, having] = q.group;
        const from = q.join ? `${t} p ${q.join[0]} ${q.join[1]} q${q.join[0] === 'CROSS JOIN' ? '' : ` ON ${q.join[2]}`}` : t;
        return `SELECT ${g}, ${agg}(${agg === 'COUNT' ? '*' : g}) AS n FROM ${from}${q.where ? ` WHERE ${q.where}` : ''} GROUP BY ${g}${having ? ` HAVING ${having}` : ''} ORDER BY 1${q.limit ? ` LIMIT ${q.limit}` : ''}`;
      }
      if (q.union) return `SELECT ${cols[0]}, b FROM ${t}${q.where ? ` WHERE ${q.where}` : ''} ${q.union[0]} SELECT ${FUZZ_TABLES[q.union[1]][0]}, b FROM ${q.union[1]} ORDER BY 1${q.limit ? ` LIMIT ${q.limit}` : ''}`;
      const from = q.join ? `${t} p ${q.join[0]} ${q.join[1]} q${q.join[0] === 'CROSS JOIN' ? '' : ` ON ${q.join[2]}`}` : t;
      const items = q.join && q.items === '*' ? 'p.*, q.b AS qb' : q.items;
      return (
        `SELECT ${q.distinct ? 'DISTINCT ' : ''}${items} FROM ${from}${q.where ? ` WHERE ${q.where}` : ''}` +
        `${q.order ? ` ORDER BY ${q.order.map(([x, d]) => x + d).join(', ')}` : ''}${q.limit ? ` LIMIT ${q.limit}` : ''}${q.limit && q.offset ? ` OFFSET ${q.offset}` : ''}`
      );
    });
});

const pkLiteral = fc.oneof(fc.integer({ min: 1, max: 12 }).map(String), fc.constantFrom('$1', '$2', '0', '-1', '2147483648', '9223372036854775808', "'3'", 'NULL', '1.5'));

const insert: fc.Arbitrary<string> = fc.constantFrom<FuzzTable>('app.u', 'app.s', 'app.e').chain((t) => {
  const cols = FUZZ_TABLES[t];
  const e = expression(cols.filter((c) => c !== 'id'), false);
  const row = fc.tuple(pkLiteral, fc.array(fc.oneof(literal, paramRef, e), { minLength: cols.length - 1, maxLength: cols.length - 1 })).map(([pk, rest]) => `(${[pk, ...rest].join(', ')})`);
  return fc.oneof(
    { arbitrary: fc.array(row, { minLength: 1, maxLength: 4 }).map((rows) => `INSERT INTO ${t} (${cols.join(', ')}) VALUES ${rows.join(', ')}`), weight: 4 },
    { arbitrary: fc.tuple(pkLiteral, fc.constantFrom('b', 'a')).map(([pk, c]) => `INSERT INTO ${t} (${cols[0]}, ${c === 'a' && t === 'app.e' ? 'b' : c}) VALUES (${pk}, ${c === 'b' ? "'only'" : '1'})`), weight: 2 },
    { arbitrary: fc.tuple(fc.constantFrom(...WRITABLE_PK_TABLES), expression(['id', 'a', 'b'], false)).map(([src, w]) => `INSERT INTO ${t} (${cols[0]}, b) SELECT id + 100, b FROM ${src} WHERE ${w}`), weight: 1 },
  );
});

const update: fc.Arbitrary<string> = fc.constantFrom<FuzzTable>('app.u', 'app.s', 'app.e').chain((t) => {
  const cols = FUZZ_TABLES[t];
  const e = expression(cols, true);
  return fc.tuple(fc.array(fc.tuple(fc.constantFrom(...cols), e), { minLength: 1, maxLength: 3 }), e).map(([sets, w]) => `UPDATE ${t} SET ${sets.map(([c, x]) => `${c} = ${x}`).join(', ')} WHERE ${w}`);
});

const del: fc.Arbitrary<string> = tableName.chain((t) => expression(FUZZ_TABLES[t], true).map((w) => `DELETE FROM ${t} WHERE ${w}`));

/** Other shapes: CTEs, derived tables, JSON and BYTES ordering and grouping, system tables, introspection, EXECUTE AS. */
const other: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom(...WRITABLE_PK_TABLES), expression(['id', 'a', 'b'], false)).map(([t, w]) => `WITH c AS (SELECT id, a, b FROM ${t} WHERE ${w}) SELECT b, COUNT(*) AS n FROM c GROUP BY b ORDER BY n DESC, b`),
  fc.tuple(fc.constantFrom(...WRITABLE_PK_TABLES), expression(['id', 'a', 'b'], false)).map(([t, w]) => `SELECT s.x FROM (SELECT a + id AS x FROM ${t}) AS s WHERE s.x > ${w.length % 5} ORDER BY 1 DESC`),
  fc.constantFrom(
    'SELECT j, COUNT(*) AS n FROM app.u GROUP BY j ORDER BY j',
    'SELECT DISTINCT j FROM app.u ORDER BY j DESC',
    'SELECT y, d FROM app.s ORDER BY y, d NULLS FIRST',
    'SELECT CAST(y AS TEXT), CAST(j AS TEXT), CAST(t AS TEXT), CAST(d AS TIMESTAMP) FROM app.u p CROSS JOIN app.s q',
    "SELECT id FROM app.u WHERE j = '{\"k\": [1, 2]}' OR j = '[]' OR j > '1'",
    'SELECT * FROM system.stats ORDER BY metric_name LIMIT 5',
    'SELECT * FROM system.live',
    'SELECT * FROM system.tables WHERE table_name LIKE $1',
    'SHOW TABLES IN app',
    'DESCRIBE TABLE app.u',
    'SHOW STATS FOR TABLE app.s',
    "EXECUTE AS USER 'bob' (INSERT INTO app.u (id, b) VALUES (1, 'from alice'))",
    "EXECUTE AS USER 'bob' (SELECT * FROM app.u)",
    'SUBSCRIBE TO SELECT * FROM app.u',
    'SELECT MIN(j), MAX(y), SUM(t), AVG(d) FROM app.u p JOIN app.s q ON q.id = p.id',
  ),
);

const statement: fc.Arbitrary<string> = fc.oneof({ arbitrary: select, weight: 4 }, { arbitrary: insert, weight: 3 }, { arbitrary: update, weight: 2 }, { arbitrary: del, weight: 1 }, { arbitrary: other, weight: 1 });
const writeStatement: fc.Arbitrary<string> = fc.oneof({ arbitrary: insert, weight: 3 }, { arbitrary: update, weight: 2 }, { arbitrary: del, weight: 1 }, { arbitrary: select, weight: 1 });

const batch: fc.Arbitrary<string> = fc
  .tuple(fc.array(writeStatement, { minLength: 1, maxLength: 4 }), fc.constantFrom('COMMIT', 'COMMIT', 'ROLLBACK', ''))
  // Parameters are for single statements only: a batch gets literals where its statements had them.
  .map(([stmts, end]) => `BEGIN; ${stmts.join('; ')}${end ? `; ${end}` : ''}`.replace(/\$\d+/g, '7'));

/** Four parameters most cases can use; one hostile value fails the whole call, so they come less often. */
const params: fc.Arbitrary<unknown[]> = fc.oneof(
  { arbitrary: fc.array(fc.oneof(fc.integer({ min: -2, max: 12 }), stringBody, fc.constant(null)), { minLength: 4, maxLength: 4 }), weight: 3 },
  { arbitrary: fc.array(paramValue, { maxLength: 4 }), weight: 1 },
);

/** Grammar-based cases: one statement or one BEGIN … COMMIT/ROLLBACK batch, with 0–4 parameters. */
export const grammarCase: fc.Arbitrary<FuzzCase> = fc
  .tuple(fc.oneof({ arbitrary: statement, weight: 5 }, { arbitrary: batch, weight: 1 }), params)
  .map(([sql, params]) => ({ sql, params: sql.startsWith('BEGIN') ? [] : params }));

// ---------------------------------------------------------------- mutations

/** Valid statements to mutate (each runs as written on the fuzz schema). */
export const MUTATION_CORPUS: readonly string[] = [
  'SELECT * FROM app.u WHERE a > 1 ORDER BY b DESC LIMIT 3',
  "SELECT id, UPPER(b) AS ub FROM app.s WHERE b LIKE '%x%' OR a IN (1, 2, 3)",
  'SELECT a, COUNT(*) AS n FROM app.u GROUP BY a HAVING COUNT(*) > 0 ORDER BY a',
  'SELECT p.id, q.b FROM app.u p LEFT JOIN app.s q ON q.id = p.id WHERE p.a IS NOT NULL',
  'SELECT id FROM app.u WHERE id IN (SELECT id FROM app.s WHERE a > 0) UNION SELECT k FROM app.e',
  "SELECT CASE WHEN a > 2 THEN 'big' ELSE 'small' END AS size, CAST(a AS TEXT) FROM app.u",
  'SELECT (SELECT MAX(a) FROM app.s) AS m, COALESCE(b, $1) FROM app.u WHERE a BETWEEN $2 AND 9',
  "INSERT INTO app.u (id, a, b, j, t) VALUES (1, 2, 'two', '{\"k\": [1, 2]}', '2024-01-01T00:00:00Z')",
  'INSERT INTO app.s (id, a, b, d) VALUES ($1, 1.5, $2, \'2024-02-29\'), (7, -1e10, NULL, NULL)',
  "INSERT INTO app.e (k, b) VALUES (1, 'ping')",
  'INSERT INTO app.s (id, b) SELECT id + 50, b FROM app.u WHERE a < 3',
  "UPDATE app.u SET a = a + 1, b = b || '!' WHERE id = 1",
  'UPDATE app.s SET a = a * 2 WHERE EXISTS (SELECT 1 FROM app.u WHERE app.u.id = app.s.id)',
  'DELETE FROM app.u WHERE a IS NULL OR b NOT LIKE \'a%\'',
  'DELETE FROM app.s WHERE id = $1',
  "BEGIN; INSERT INTO app.u (id, a) VALUES (5, 5); UPDATE app.u SET b = 'in tx' WHERE id = 5; COMMIT",
  'BEGIN; DELETE FROM app.s WHERE id > 2; INSERT INTO app.s (id, a) VALUES (3, 3); ROLLBACK',
  "SELECT DISTINCT b FROM app.u WHERE b ILIKE '%É%' ORDER BY b NULLS FIRST LIMIT 2 OFFSET 1",
  'SELECT id, j FROM app.u WHERE j IS NOT NULL AND t > 0 ORDER BY t DESC, id',
  'SELECT SUM(a), AVG(a), MIN(b), MAX(d) FROM app.s',
  'FLUSH TABLE app.u',
  'STORAGE COMPACT TABLE app.s',
];

/** Words, numbers, quoted strings, quoted names, parameters and single punctuation characters. */
const TOKEN_RE = /'(?:[^']|'')*'?|"(?:[^"]|"")*"?|\$\d+|\d+(?:\.\d*)?(?:e[+-]?\d+)?|[A-Za-z_][\w.]*|<=|>=|<>|!=|\|\||\s+|./gsu;

export function tokenize(sql: string): string[] {
  return sql.match(TOKEN_RE) ?? [];
}

/** Tokens a mutation may insert. No DDL keyword: the schema stays fixed. */
const INSERTABLE = [
  '(', ')', ',', ';', "'", '"', '*', '$1', '$9', '$0', '--', '/*', '*/', '\\', '.', '=', '<', '||', 'NULL', 'NOT', 'AND', 'OR', 'SELECT', 'FROM', 'WHERE',
  'IN', 'LIKE', 'CASE', 'WHEN', 'END', 'CAST', 'AS', 'JSON', 'UNION', 'BEGIN', 'COMMIT', 'ROLLBACK', 'ORDER', 'BY', 'LIMIT', 'GROUP', 'VALUES', 'SET',
  '9223372036854775808', '-1', '1e999', "'%a%a%'", "'{\"a\":'", 'app.u', 'app.s', 'app.e', 'system.stats', '🙂', '\u0000', 'ǅ', 'EXISTS', 'DISTINCT', 'ESCAPE',
];

type Mutation =
  | { kind: 'deleteToken'; at: number }
  | { kind: 'duplicateToken'; at: number }
  | { kind: 'swapTokens'; at: number; with: number }
  | { kind: 'insertToken'; at: number; token: string }
  | { kind: 'deleteChar'; at: number }
  | { kind: 'insertChar'; at: number; char: string }
  | { kind: 'replaceChar'; at: number; char: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((at): Mutation => ({ kind: 'deleteToken', at })),
  fc.nat().map((at): Mutation => ({ kind: 'duplicateToken', at })),
  fc.tuple(fc.nat(), fc.nat()).map(([at, w]): Mutation => ({ kind: 'swapTokens', at, with: w })),
  fc.tuple(fc.nat(), fc.constantFrom(...INSERTABLE)).map(([at, token]): Mutation => ({ kind: 'insertToken', at, token })),
  fc.nat().map((at): Mutation => ({ kind: 'deleteChar', at })),
  fc.tuple(fc.nat(), fc.oneof(fc.constantFrom("'", '"', '(', ')', '\\', '$', ';', '\u0000', '\ud800', '%', '-'), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }))).map(([at, char]): Mutation => ({ kind: 'insertChar', at, char })),
  fc.tuple(fc.nat(), fc.constantFrom("'", '(', ')', '$', ' ', '9', 'é')).map(([at, char]): Mutation => ({ kind: 'replaceChar', at, char })),
);

function mutate(sql: string, m: Mutation): string {
  if (m.kind === 'deleteChar' || m.kind === 'insertChar' || m.kind === 'replaceChar') {
    const i = sql.length === 0 ? 0 : m.at % (sql.length + (m.kind === 'insertChar' ? 1 : 0));
    if (m.kind === 'deleteChar') return sql.slice(0, i) + sql.slice(i + 1);
    if (m.kind === 'insertChar') return sql.slice(0, i) + m.char + sql.slice(i);
    return sql.slice(0, i) + m.char + sql.slice(i + 1);
  }
  const t = tokenize(sql);
  if (t.length === 0) return sql;
  const i = m.at % t.length;
  switch (m.kind) {
    case 'deleteToken': t.splice(i, 1); break;
    case 'duplicateToken': t.splice(i, 0, t[i]); break;
    case 'swapTokens': { const j = m.with % t.length; [t[i], t[j]] = [t[j], t[i]]; break; }
    case 'insertToken': t.splice(i, 0, ` ${m.token} `); break;
  }
  return t.join('');
}

/** Mutation-based cases: a corpus statement with 1–4 mutations applied in turn. */
export const mutationCase: fc.Arbitrary<FuzzCase> = fc
  .tuple(fc.constantFrom(...MUTATION_CORPUS), fc.array(mutation, { minLength: 1, maxLength: 4 }), params)
  .map(([sql, ms, params]) => ({ sql: ms.reduce(mutate, sql), params }));
