// The slimmed node-sql-parser that the published worker ships
// (worker-sql.js, scripts/node-sql-parser-slim.mjs) parses exactly as the
// full build does for the engine's one call, astify(sql, { database:
// 'postgresql' }): same trees, same errors with the same locations.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parseAst } from 'rolldown/parseAst';
// @ts-expect-error: a plain .mjs build helper, without types
import { slimNodeSqlParser } from './node-sql-parser-slim.mjs';

interface Parser {
  astify(sql: string, options: { database: string }): unknown;
}
type ParserClass = new () => Parser;

const require = createRequire(import.meta.url);
const source = readFileSync(require.resolve('node-sql-parser/build/postgresql.js'), 'utf8');

/** Runs a CommonJS bundle's text; its exports. */
function evaluate(code: string): { Parser: ParserClass } {
  const module = { exports: {} as Record<string, unknown> };
  new Function('exports', 'module', 'require', code)(module.exports, module, require);
  return module.exports as unknown as { Parser: ParserClass };
}

const full = new (evaluate(source).Parser)();
const slimText: string = slimNodeSqlParser(source, parseAst);
const slim = new (evaluate(slimText).Parser)();

function outcome(parser: Parser, sql: string): unknown {
  try {
    return { ast: parser.astify(sql, { database: 'postgresql' }) };
  } catch (e) {
    const err = e as { name?: string; message?: string; location?: unknown };
    return { error: { name: err.name, message: err.message, location: err.location } };
  }
}

const STATEMENTS = [
  'SELECT 1',
  "SELECT id, title FROM app.todos WHERE done = false AND title LIKE 'a%' ORDER BY id DESC LIMIT 10 OFFSET 5",
  'SELECT t.a, COUNT(*) AS n FROM t JOIN u ON t.id = u.tid GROUP BY t.a HAVING COUNT(*) > 2',
  'SELECT * FROM (SELECT a FROM t UNION SELECT b FROM u) AS x WHERE a IN (SELECT c FROM v)',
  'WITH w AS (SELECT 1 AS a) SELECT a FROM w',
  "INSERT INTO app.todos (id, title, meta) VALUES (1, 'x', '{\"a\":1}'), (2, 'y', NULL)",
  "UPDATE app.todos SET done = true, title = title || '!' WHERE id = $1",
  'DELETE FROM app.todos WHERE id BETWEEN 1 AND 9007199254740993',
  'SELECT 9007199254740993, 12345678901234567890, -5, 1.5e3',
  'SELECT CASE WHEN a > 1 THEN 1 ELSE 0 END, CAST(b AS BIGINT), COALESCE(c, 0) FROM t',
  // errors: the same message and location
  'SELEC 1',
  'SELECT FROM WHERE',
  "INSERT INTO t (a, b) VALUES (1)",
  'SELECT (1',
];

describe('the slimmed node-sql-parser', () => {
  it('is smaller than the full build', () => {
    expect(slimText.length).toBeLessThan(source.length * 0.9);
  });

  it.each(STATEMENTS)('gives the same tree or error as the full build: %s', (sql) => {
    expect(outcome(slim, sql)).toEqual(outcome(full, sql));
  });

  it('refuses a bundle that is not shaped as it expects', () => {
    expect(() => slimNodeSqlParser('module.exports = {}', parseAst)).toThrow(/not shaped as/);
  });
});
