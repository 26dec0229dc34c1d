import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import { parseSimpleInsert } from './insert-fast';
import { tokenize } from './lexer';
import { parseStatement, parseWithParser } from './parse';
import { loadSqlParser } from './parser-loader';

// The grammar loads as a database opens; these tests parse without one.
beforeAll(() => loadSqlParser());

const fast = (sql: string) => parseSimpleInsert(tokenize(sql));

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return (e as KalamError).code;
  }
  return 'parsed';
}

describe('the INSERT … VALUES fast path', () => {
  it('builds exactly what the full parser builds, for any simple INSERT', () => {
    const name = fc.constantFrom('items', 'Items', '"Notes"', 'todo_2', 't');
    const value = fc.oneof(fc.integer({ min: 1, max: 40 }).map((n) => `$${n}`), fc.constantFrom('NULL', 'null', 'TRUE', 'false', 'DEFAULT'));
    fc.assert(
      fc.property(
        fc.option(name, { nil: undefined }),
        name,
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 6 }),
        fc.array(value, { minLength: 30, maxLength: 30 }),
        fc.constantFrom('', ';', ' ;'),
        (ns, table, width, withColumns, rowCount, values, end) => {
          const columns = Array.from({ length: width }, (_, i) => `c${i}`);
          let k = 0;
          const rows = Array.from({ length: rowCount }, () => `(${columns.map(() => values[k++ % values.length]).join(', ')})`);
          const sql = `insert into ${ns ? `${ns}.` : ''}${table} ${withColumns ? `(${columns.join(', ')}) ` : ''}VALUES ${rows.join(',\n ')}${end}`;
          const quick = fast(sql);
          expect(quick).toBeDefined();
          expect(quick).toEqual(parseWithParser(sql));
          expect(parseStatement(sql)).toEqual(quick);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('leaves every other shape to the full parser, which gives the same answers and errors as before', () => {
    for (const sql of [
      'INSERT INTO t (a) VALUES (1)', // literals are lifted to parameters before planning; unlifted ones take the parser
      "INSERT INTO t (a) VALUES ('x')",
      'INSERT INTO t (a) VALUES ($1 + 1)',
      'INSERT INTO t (a) VALUES (-$1)',
      'INSERT INTO t (a) SELECT a FROM u',
      'INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING',
      'INSERT INTO t (a) VALUES ($1) RETURNING a',
      'INSERT INTO t (a) VALUES (NOW())',
      'INSERT INTO t VALUES',
      'INSERT t (a) VALUES ($1)',
    ]) {
      expect(fast(sql), sql).toBeUndefined();
    }
    expect(codeOf(() => parseStatement('INSERT INTO t (a) VALUES ($1) ON CONFLICT DO NOTHING'))).toBe('UNSUPPORTED');
    expect(codeOf(() => parseStatement('INSERT INTO t (a) VALUES ($1) RETURNING a'))).toBe('UNSUPPORTED');
    expect(codeOf(() => parseStatement('INSERT INTO t (a) VALUES ($1'))).toBe('PARSE_ERROR');
  });

  it('refuses a row whose value count differs from the column list, as the full parser does', () => {
    const sql = 'INSERT INTO t (a, b) VALUES ($1, $2), ($3)';
    expect(() => fast(sql)).toThrow(/INSERT row 2 has a different number of values than the column list names/);
    expect(codeOf(() => parseWithParser(sql))).toBe('INVALID_SQL');
    expect(codeOf(() => parseStatement(sql))).toBe('INVALID_SQL');
  });
});
