/**
 * Hostile SQL (issue 12, observed defects 1–3): every input below ends in a
 * result or a KalamError with a specific code — never INTERNAL, never a
 * crash — and does so without doing work sized by what the input claims.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KalamError, type ErrorCode } from '../core/errors';
import type { Value } from '../core/types';
import { SQL_LIMIT_DEFAULTS } from '../sql/limits';
import { openDatabase, type Database, type Session } from './database';

let db: Database;
let s: Session;

beforeAll(async () => {
  db = await openDatabase({ storage: 'memory' });
  s = db.session({ user: 'root', role: 'dba' });
  await s.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, name TEXT, n BIGINT, j JSON)');
  await s.execute(`INSERT INTO app.t VALUES (1, 'one', 1, '{"a":1}'), (2, 'two', 2, NULL), (3, NULL, NULL, NULL), (10, '10', 10, '[1]')`);
});

afterAll(() => db.close());

async function failure(run: Promise<unknown>): Promise<KalamError> {
  try {
    await run;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected the statement to fail');
}

/** Fails with `code`; for LIMIT_EXCEEDED, naming `option` and saying how to raise it. */
async function expectFailure(run: Promise<unknown>, code: ErrorCode, option?: string): Promise<KalamError> {
  const e = await failure(run);
  expect([e.code, e.message]).toEqual([code, option ? expect.stringContaining(option) : expect.any(String)]);
  if (code === 'LIMIT_EXCEEDED') expect(e.message).toMatch(/raise \w+ in openDatabase\(\) options/);
  return e;
}

const chain = (n: number, term: (i: number) => string, op: string) => Array.from({ length: n }, (_, i) => term(i)).join(op);

describe('observed 1: a parameter number cannot kill or stall the process', () => {
  it('refuses $N past maxParameters from the lexer, before anything is sized by N', async () => {
    for (const p of ['$99999999999999999999', '$4294967296', '$200000000']) {
      const e = await expectFailure(s.query(`SELECT ${p}`, [1]), 'LIMIT_EXCEEDED', 'maxParameters');
      expect(e.message).toContain(p);
    }
  });

  it('refuses a $N beyond the parameters given with INVALID_PARAMETER, however large the limit', async () => {
    const e = await expectFailure(s.query('SELECT $1, $3', [1, 2]), 'INVALID_PARAMETER');
    expect(e.message).toBe('The statement uses $3 but only 2 parameter(s) were given: pass a value for each $n');
    const roomy = await openDatabase({ storage: 'memory', maxParameters: 4_294_967_296 });
    const r = roomy.session({ user: 'root', role: 'dba' });
    for (const p of ['$4294967296', '$200000000']) {
      expect((await expectFailure(r.query(`SELECT ${p}`, [1]), 'INVALID_PARAMETER')).message).toContain(`uses ${p} but only 1 parameter(s)`);
    }
    await expectFailure(r.execute('INSERT INTO x.y VALUES ($300000000)', [1]), 'INVALID_PARAMETER');
    await roomy.close();
  });

  it('refuses more parameter values than maxParameters, in execute(), query() and live()', async () => {
    const small = await openDatabase({ storage: 'memory', maxParameters: 3 });
    const t = small.session({ user: 'root', role: 'dba' });
    expect((await t.query('SELECT $1 + $2 + $3 AS x', [1, 2, 3])).rows).toEqual([{ x: 6 }]);
    await expectFailure(t.query('SELECT $1', [1, 2, 3, 4]), 'LIMIT_EXCEEDED', 'maxParameters');
    await expectFailure(t.query('SELECT $4', [1]), 'LIMIT_EXCEEDED', 'maxParameters');
    await expectFailure(t.live('SELECT $1 AS x', [1, 2, 3, 4], () => undefined), 'LIMIT_EXCEEDED', 'maxParameters');
    await small.close();
  });
});

describe('observed 2: LIKE cannot backtrack or overflow', () => {
  it('answers the exponential case with the right boolean', async () => {
    const pattern = '%a'.repeat(14) + '%c';
    const { rows } = await s.query(`SELECT 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab' LIKE '${pattern}' AS m, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaac' LIKE '${pattern}' AS n`);
    expect(rows).toEqual([{ m: false, n: true }]);
    expect((await s.query(`SELECT 1 AS x WHERE 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab' LIKE '${pattern}'`)).rows).toEqual([]);
  });

  it('refuses a 1 MB pattern: in the SQL text (maxSqlLength), or as a parameter (maxLikePatternLength)', async () => {
    const big = 'a%_'.repeat(350_000);
    await expectFailure(s.query(`SELECT 'a' LIKE '${big}'`), 'LIMIT_EXCEEDED', 'maxSqlLength');
    await expectFailure(s.query('SELECT name LIKE $1 FROM app.t', [big]), 'LIMIT_EXCEEDED', 'maxLikePatternLength');
    await expectFailure(s.query('SELECT name ILIKE $1 FROM app.t', ['%'.repeat(SQL_LIMIT_DEFAULTS.maxLikePatternLength + 1)]), 'LIMIT_EXCEEDED', 'maxLikePatternLength');
  });

  it('matches a 1 MB pattern in linear time when the limit allows it', async () => {
    const roomy = await openDatabase({ storage: 'memory', maxLikePatternLength: 2_000_000 });
    const r = roomy.session({ user: 'root', role: 'dba' });
    const big = 'a%_'.repeat(350_000);
    expect((await r.query('SELECT $1 LIKE $2 AS yes, $3 LIKE $2 AS no', ['ab'.repeat(350_000), big, 'a'.repeat(350_000)])).rows).toEqual([{ yes: true, no: false }]);
    await roomy.close();
  });

  it('keeps LIKE semantics: NULLs, ESCAPE, ILIKE, NOT LIKE, patterns from columns', async () => {
    const one = async (sql: string, params: Value[] = []) => Object.values((await s.query(sql, params)).rows[0]);
    expect(await one(`SELECT NULL LIKE 'a', 'a' LIKE NULL, name LIKE $1 FROM app.t WHERE id = 3`, ['%'])).toEqual([null, null, null]);
    expect(await one(`SELECT '50%' LIKE '50!%' ESCAPE '!', '500' LIKE '50!%' ESCAPE '!', 'a_c' LIKE 'a\\_c', 'abc' LIKE 'a\\_c'`)).toEqual([true, false, true, false]);
    expect(await one(`SELECT 'ÉCOLE' ILIKE 'école', 'Straße' NOT ILIKE 'STRASSE', 'x' NOT LIKE '_'`)).toEqual([true, true, false]);
    expect((await s.query(`SELECT id FROM app.t WHERE name LIKE '%o%' ORDER BY id`)).rows).toEqual([{ id: 1 }, { id: 2 }]);
    expect((await s.query(`SELECT id FROM app.t WHERE 'xx10yy' LIKE '%' || name || '%'`)).rows).toEqual([{ id: 10 }]);
    await expectFailure(s.query(`SELECT 'a' LIKE 'a' ESCAPE '!!'`), 'INVALID_SQL');
  });

  it('refuses SIMILAR TO; bounds a regular expression (~, regexp_*) as a LIKE pattern, and matches it in linear time', async () => {
    await expectFailure(s.query(`SELECT 'a' SIMILAR TO 'a'`), 'UNSUPPORTED');
    await expectFailure(s.query('SELECT $1 ~ $2', ['a', 'a'.repeat(SQL_LIMIT_DEFAULTS.maxLikePatternLength + 1)]), 'LIMIT_EXCEEDED', 'maxLikePatternLength');
    const { rows } = await s.query(`SELECT $1 ~ '^(a+)+$' AS v`, ['a'.repeat(20_000) + 'b']);
    expect(rows).toEqual([{ v: false }]);
  });
});

describe('observed 3: long flat expressions neither overflow the stack nor plan for seconds', () => {
  it('runs 2,000 OR terms (a balanced tree), with the right answer', async () => {
    const { rows } = await s.query(`SELECT id FROM app.t WHERE ${chain(2000, (i) => `id = ${i * 5}`, ' OR ')} ORDER BY id`);
    expect(rows).toEqual([{ id: 10 }]);
    const and = await s.query(`SELECT id FROM app.t WHERE ${chain(2000, (i) => `id <> ${i + 3}`, ' AND ')} ORDER BY id`);
    expect(and.rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('refuses 5,000 NOTs, 20,000 + and 3,000 UNION ALL with LIMIT_EXCEEDED', async () => {
    await expectFailure(s.query(`SELECT ${'NOT '.repeat(5000)}true`), 'LIMIT_EXCEEDED', 'maxExpressionDepth');
    await expectFailure(s.query(`SELECT ${chain(20_000, () => '1', '+')}`), 'LIMIT_EXCEEDED', 'maxExpressionDepth');
    await expectFailure(s.query(`SELECT ${chain(20_000, (i) => `id + ${i}`, ' + ')} FROM app.t`), 'LIMIT_EXCEEDED', 'maxExpressionDepth');
    await expectFailure(s.query(chain(3000, () => 'SELECT 1', ' UNION ALL ')), 'LIMIT_EXCEEDED', 'maxSetOperationArms');
    await expectFailure(s.query(`SELECT ${chain(20_000, (i) => `${i}`, ', ')}`), 'LIMIT_EXCEEDED', 'maxExpressionTerms');
    await expectFailure(s.query(`SELECT ${'('.repeat(5000)}1${')'.repeat(5000)}`), 'LIMIT_EXCEEDED', 'maxExpressionDepth');
    await expectFailure(s.query(`SELECT ${'CASE WHEN true THEN '.repeat(1000)}1${' END'.repeat(1000)}`), 'LIMIT_EXCEEDED', 'maxExpressionDepth');
  });

  it('runs 3,000 UNION ALL arms, in order, when maxSetOperationArms allows them', async () => {
    const roomy = await openDatabase({ storage: 'memory', maxSetOperationArms: 3000 });
    const r = roomy.session({ user: 'root', role: 'dba' });
    const { rows } = await r.query(chain(3000, (i) => `SELECT ${i} AS x`, ' UNION ALL '));
    expect(rows.map((x) => x.x)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    // A mixed chain keeps its meaning: ((0 ∪ 1 ∪ 1) ∖ 1) ∪all 2 ∪all 2 …
    const mixed = await r.query(`SELECT 0 AS x UNION SELECT 1 UNION SELECT 1 EXCEPT SELECT 1 UNION ALL ${chain(100, () => 'SELECT 2', ' UNION ALL ')}`);
    expect(mixed.rows.map((x) => x.x)).toEqual([0, ...Array.from({ length: 100 }, () => 2)]);
    await roomy.close();
  });

  it('runs a 5,000-value IN list as a set lookup, with IN’s NULL and type rules', async () => {
    const values = Array.from({ length: 5000 }, (_, i) => i * 2 + 1); // odd numbers
    const ids = async (sql: string, params: Value[] = []) => (await s.query(sql, params)).rows.map((r) => r.id);
    expect(await ids(`SELECT id FROM app.t WHERE id IN (${values.join(', ')}) ORDER BY id`)).toEqual([1, 3]);
    expect(await ids(`SELECT id FROM app.t WHERE id NOT IN (${values.join(', ')}) ORDER BY id`)).toEqual([2, 10]);
    // A NULL in the list: NOT IN is never true, IN is true or NULL.
    const some = values.slice(0, 200).join(', ');
    expect(await ids(`SELECT id FROM app.t WHERE id NOT IN (${some}, NULL)`)).toEqual([]);
    expect(await ids(`SELECT id FROM app.t WHERE (id IN (${some}, NULL)) IS NULL ORDER BY id`)).toEqual([2, 10]);
    // Values of another type compare as = does: text against a number, a number against BIGINT, parameters of any type.
    const mixed = [...values.map(String), '10'];
    expect(await ids(`SELECT id FROM app.t WHERE n IN (${mixed.map((_, i) => `$${i + 1}`).join(', ')}) ORDER BY id`, mixed)).toEqual([1, 10]);
    expect(await ids(`SELECT id FROM app.t WHERE name IN (${chain(20, (i) => `'${['one', 'x', 'y'][i % 3]}${i > 2 ? i : ''}'`, ', ')}) ORDER BY id`)).toEqual([1]);
    expect(await ids(`SELECT id FROM app.t WHERE j IN (${chain(10, (i) => `'[${i}]'`, ', ')})`)).toEqual([10]);
    // Signed values, and a value that cannot be negated: the error surfaces only where the one-by-one loop meets it.
    expect(await ids(`SELECT id FROM app.t WHERE -id IN (${values.map((v) => -v).join(', ')}) ORDER BY id`)).toEqual([1, 3]);
    const signed = Array.from({ length: 10 }, (_, i) => `-$${i + 1}`).join(', ');
    expect(await ids(`SELECT id FROM app.t WHERE id = 1 AND -1 IN (${signed})`, [1, 'x', 2, 3, 4, 5, 6, 7, 8, 9])).toEqual([1]);
    await expectFailure(s.query(`SELECT id FROM app.t WHERE id = 1 AND -2 IN (${signed})`, [1, 'x', 2, 3, 4, 5, 6, 7, 8, 9]), 'TYPE_MISMATCH');
    // The same statement with other values reuses the plan and gets its own lookup.
    expect(await ids(`SELECT id FROM app.t WHERE id IN (${values.map((v) => v + 1).join(', ')}) ORDER BY id`)).toEqual([2, 10]);
  });

  it('does not evaluate the terms an earlier term decided, in a balanced AND / OR chain either', async () => {
    const terms = (n: number, decider: string) => chain(n, (i) => (i === 0 ? decider : i === n - 2 ? '1 / (id - id) = 1' : `id = ${1000 + i}`), ' OR ');
    expect((await s.query(`SELECT id FROM app.t WHERE ${terms(40, 'id > 0')} ORDER BY id`)).rows.length).toBe(4);
    await expectFailure(s.query(`SELECT id FROM app.t WHERE ${terms(40, 'id > 1000')}`), 'DIVISION_BY_ZERO');
    const ands = chain(40, (i) => (i === 0 ? 'id < 0' : i === 30 ? '1 / (id - id) = 1' : `id <> ${1000 + i}`), ' AND ');
    expect((await s.query(`SELECT id FROM app.t WHERE ${ands}`)).rows).toEqual([]);
  });

  it('runs what is just within the limits: 128 nested CASEs under GROUP BY, a 499-operator chain, 128 nested subqueries', async () => {
    const depth = SQL_LIMIT_DEFAULTS.maxExpressionDepth;
    const cases = `${'CASE WHEN id > 0 THEN '.repeat(depth)}name || '!'${' END'.repeat(depth)}`;
    expect((await s.query(`SELECT ${cases} AS x, count(*) AS c FROM app.t GROUP BY id, name ORDER BY x`)).rows).toEqual([
      { x: '10!', c: 1 }, { x: 'one!', c: 1 }, { x: 'two!', c: 1 }, { x: null, c: 1 },
    ]);
    expect((await s.query(`SELECT ${chain(500, () => 'id', ' + ')} AS x, count(*) AS c FROM app.t WHERE id = 2 GROUP BY ${chain(500, () => 'id', ' + ')}`)).rows).toEqual([{ x: 1000, c: 1 }]);
    const nested = `SELECT id FROM app.t WHERE id IN ${'(SELECT id FROM app.t WHERE id IN '.repeat(depth - 1)}(2, 3)${')'.repeat(depth - 1)}`;
    expect((await s.query(nested)).rows).toEqual([{ id: 2 }, { id: 3 }]);
    await expectFailure(s.query(`SELECT ${chain(514, () => 'id', ' + ')} FROM app.t`), 'LIMIT_EXCEEDED', 'maxExpressionDepth');
  });

  it('plans a wide GROUP BY and a DISTINCT … ORDER BY over many expressions without comparing every pair', async () => {
    const exprs = Array.from({ length: 1000 }, (_, i) => `id + ${i}`);
    const grouped = await s.query(`SELECT ${exprs.join(', ')}, count(*) AS c FROM app.t GROUP BY ${exprs.join(', ')} ORDER BY ${exprs.slice(0, 50).join(', ')}`);
    expect(grouped.rows.map((r) => r.c)).toEqual([1, 1, 1, 1]);
    const distinct = await s.query(`SELECT DISTINCT ${exprs.join(', ')} FROM app.t ORDER BY ${exprs.slice().reverse().join(', ')}`);
    expect(distinct.rowCount).toBe(4);
  });
});

describe('limits as options', () => {
  it('are shown in system.settings with their values', async () => {
    const tight = await openDatabase({ storage: 'memory', maxSqlLength: 5000, maxExpressionDepth: 16 });
    const { rows } = await tight.session({ user: 'root', role: 'dba' }).query(`SELECT name, value FROM system.settings WHERE name LIKE 'max\\_%' ORDER BY name`);
    const settings = Object.fromEntries(rows.map((r) => [r.name, r.value]));
    expect(settings).toMatchObject({
      max_sql_length: '5000', max_sql_tokens: String(SQL_LIMIT_DEFAULTS.maxSqlTokens), max_parameters: '65535', max_expression_depth: '16',
      max_expression_terms: '10000', max_in_list_length: '50000', max_set_operation_arms: '500', max_like_pattern_length: '10000',
      max_text_length: String(16 * 1024 * 1024), max_json_depth: '128', max_parse_ms: '5000', max_view_expansions: '256',
    });
    await tight.close();
  });

  it('are validated like every other count', async () => {
    for (const [key, value] of [['maxSqlLength', 0], ['maxExpressionDepth', 1.5], ['maxInListLength', '10'], ['maxParameters', -1]] as const) {
      const e = await failure(openDatabase({ storage: 'memory', [key]: value } as never));
      expect([key, e.code, e.message]).toEqual([key, 'INVALID_OPTION', expect.stringContaining(key)]);
    }
  });

  it('apply to batches, SQL text and live queries alike', async () => {
    const tight = await openDatabase({ storage: 'memory', maxSqlLength: 100, maxSqlTokens: 20, maxInListLength: 3 });
    const t = tight.session({ user: 'root', role: 'dba' });
    const wide = `SELECT ${chain(11, (i) => `${i}`, ', ')}`; // 22 tokens
    await expectFailure(t.execute(`SELECT 1; SELECT '${'x'.repeat(100)}'`), 'LIMIT_EXCEEDED', 'maxSqlLength');
    await expectFailure(t.execute(wide), 'LIMIT_EXCEEDED', 'maxSqlTokens');
    await expectFailure(t.queryArrow(wide), 'LIMIT_EXCEEDED', 'maxSqlTokens');
    await expectFailure(t.live('SELECT 1 WHERE 1 IN (1, 2, 3, 4)', [], () => undefined), 'LIMIT_EXCEEDED', 'maxInListLength');
    expect((await t.query('SELECT 1 AS x WHERE 1 IN (1, 2, 3)')).rows).toEqual([{ x: 1 }]);
    await tight.close();
  });
});

describe('text an expression builds is bounded (maxTextLength)', () => {
  it('refuses REPEAT, LPAD, RPAD, ||, CONCAT, CONCAT_WS and REPLACE past the limit before building the text', async () => {
    const over = SQL_LIMIT_DEFAULTS.maxTextLength + 1;
    for (const [sql, params] of [
      ["SELECT REPEAT('abc', 1000000000)", []], // 3 GB: was INTERNAL "Invalid string length"
      ["SELECT REPEAT('a', 1e300)", []],
      ['SELECT LPAD($1, 1000000000)', ['a']],
      ["SELECT RPAD('a', 1e300, 'xy')", []],
      ['SELECT LPAD(name, n * 1000000000) FROM app.t WHERE id = 10', []], // a column-driven length, as the fuzz suite found
      ['SELECT $1 || $1', ['x'.repeat(over / 2 + 1)]],
      ['SELECT CONCAT($1, $1, $1)', ['x'.repeat(over / 3 + 1)]],
      ["SELECT CONCAT_WS($1, 'a', 'b')", ['x'.repeat(over)]],
      ["SELECT REPLACE($1, 'x', $1)", ['x'.repeat(5000)]], // 5,000 × 5,000 characters (an empty search string changes nothing, as in PostgreSQL)
    ] as [string, Value[]][]) {
      const e = await expectFailure(s.execute(sql, params), 'LIMIT_EXCEEDED', 'maxTextLength');
      expect(e.message).toMatch(/Text of [\d,]+ characters|more than 10\^15/);
    }
  });

  it('builds text up to the limit, with PostgreSQL’s padding rules', async () => {
    const { rows } = await s.query("SELECT LENGTH(REPEAT('ab', 1000)) AS r, LPAD('abc', 5, 'xy') AS l, RPAD('abc', 2) AS p, LPAD('abc', -1) AS n, REPEAT('', 1e300) AS e, REPLACE('aXa', 'a', 'bb') AS x");
    expect(rows).toEqual([{ r: 2000, l: 'xyabc', p: 'ab', n: '', e: '', x: 'bbXbb' }]);
    const tight = await openDatabase({ storage: 'memory', maxTextLength: 10 });
    const t = tight.session({ user: 'root', role: 'dba' });
    expect((await t.query("SELECT 'abcde' || 'fghij' AS x")).rows).toEqual([{ x: 'abcdefghij' }]);
    await expectFailure(t.query("SELECT 'abcde' || 'fghijk'"), 'LIMIT_EXCEEDED', 'maxTextLength');
    await tight.close();
  });
});

describe('JSON nesting is bounded (maxJsonDepth)', () => {
  const nested = (n: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < n; i++) v = [v];
    return v;
  };
  const nestedText = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
  const max = SQL_LIMIT_DEFAULTS.maxJsonDepth;

  it('refuses a parameter, a stored value, a CAST and JSON text compared with a column past the limit', async () => {
    await expectFailure(s.execute('INSERT INTO app.t (id, j) VALUES (100, $1)', [nested(max + 1) as Value]), 'LIMIT_EXCEEDED', 'maxJsonDepth');
    await expectFailure(s.execute('INSERT INTO app.t (id, j) VALUES (100, $1)', [nestedText(max + 1)]), 'LIMIT_EXCEEDED', 'maxJsonDepth');
    await expectFailure(s.execute('SELECT CAST($1 AS JSON)', [nestedText(100_000)]), 'LIMIT_EXCEEDED', 'maxJsonDepth');
    // Comparing a JSON column with deep JSON text recursed until the stack overflowed: INTERNAL.
    await expectFailure(s.query('SELECT id FROM app.t WHERE j = $1', [nestedText(100_000)]), 'LIMIT_EXCEEDED', 'maxJsonDepth');
    await expectFailure(s.query(`SELECT id FROM app.t WHERE j = '${nestedText(100_000)}'`), 'LIMIT_EXCEEDED', 'maxJsonDepth');
    expect((await s.query('SELECT id FROM app.t WHERE id = 100')).rows).toEqual([]);
  });

  it('stores and compares a value exactly at the limit; the option raises or lowers it', async () => {
    await s.execute('INSERT INTO app.t (id, j) VALUES (101, $1)', [nested(max) as Value]);
    expect((await s.query('SELECT id FROM app.t WHERE j = $1', [nestedText(max)])).rows).toEqual([{ id: 101 }]);
    await s.execute('DELETE FROM app.t WHERE id = 101');
    const tight = await openDatabase({ storage: 'memory', maxJsonDepth: 2 });
    const t = tight.session({ user: 'root', role: 'dba' });
    expect((await t.query('SELECT CAST($1 AS JSON) AS j', ['[[1]]'])).rows).toEqual([{ j: [[1]] }]);
    const e = await expectFailure(t.query('SELECT $1 AS j', [[[[1]]]]), 'LIMIT_EXCEEDED', 'maxJsonDepth');
    expect(e.message).toMatch(/Parameter \$1 .* nested deeper than 2 levels/);
    const { rows } = await t.query(`SELECT value FROM system.settings WHERE name = 'max_json_depth'`);
    expect(rows).toEqual([{ value: '2' }]);
    await tight.close();
  });
});

describe('the SQL parser cannot be made to backtrack for hours (maxParseMs)', () => {
  it('stops a syntax error inside nested CASTs, subqueries and EXISTS with LIMIT_EXCEEDED', async () => {
    // Each level multiplies node-sql-parser's work about 5×: seven CASTs took 30 s, ten would take hours.
    const quick = await openDatabase({ storage: 'memory', maxParseMs: 200 });
    const q = quick.session({ user: 'root', role: 'dba' });
    for (const sql of [
      `SELECT ${'CAST('.repeat(11)}1 AS FOO)${' AS INT)'.repeat(10)}`,
      `SELECT ${'(SELECT '.repeat(10)}1 +${')'.repeat(10)}`,
      `SELECT ${'EXISTS (SELECT '.repeat(10)}1 +${')'.repeat(10)}`,
    ]) {
      await expectFailure(q.execute(sql), 'LIMIT_EXCEEDED', 'maxParseMs');
    }
    expect((await q.query('SELECT CAST(CAST(1 AS INT) AS TEXT) AS x')).rows).toEqual([{ x: '1' }]); // still answering
    await quick.close();
    // The same shapes without the error parse as usual.
    expect((await s.query(`SELECT ${'CAST('.repeat(11)}1 AS INT)${' AS INT)'.repeat(10)} AS x`)).rows).toEqual([{ x: 1 }]);
  });

  it('reports an ordinary syntax error as PARSE_ERROR', async () => {
    await expectFailure(s.execute('SELECT CAST(CAST(1 AS FOO) AS INT)'), 'PARSE_ERROR');
  });
});
