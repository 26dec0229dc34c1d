import { describe, expect, it } from 'vitest';
import { liftLiterals, splitStatements, tokenize } from './lexer';

describe('lexer', () => {
  it('splits a batch on top-level semicolons, ignoring those in strings and comments', () => {
    const parts = splitStatements(`SELECT 'a;b' FROM t; -- one; two\nINSERT INTO t VALUES (1);;  `);
    expect(parts.map((p) => p.text)).toEqual([`SELECT 'a;b' FROM t`, 'INSERT INTO t VALUES (1)']);
    expect(parts[1].start).toBeGreaterThan(parts[0].start);
  });

  it('lifts literals so statements differing only in constants share one text', () => {
    const a = liftLiterals(`SELECT * FROM t WHERE id = 5 AND name = 'x'`);
    const b = liftLiterals(`SELECT * FROM t WHERE id = 6 AND name = 'it''s'`);
    expect(a.text).toBe(b.text);
    expect(a.text).toBe('SELECT * FROM t WHERE id = $1 AND name = $2');
    expect(b.literals).toEqual([6, "it's"]);
  });

  it('numbers lifted literals after the parameters the caller wrote', () => {
    const l = liftLiterals(`SELECT * FROM t WHERE a = $2 AND b = 7 LIMIT 10`);
    expect(l.paramCount).toBe(2);
    expect(l.text).toBe('SELECT * FROM t WHERE a = $2 AND b = $3 LIMIT $4');
    expect(l.literals).toEqual([7, 10]);
  });

  it('lifts equal literals into one parameter, keeping text and numbers apart', () => {
    const l = liftLiterals(`SELECT a % 10, 'x' FROM t WHERE b = '10' GROUP BY a % 10, 'x'`);
    expect(l.text).toBe('SELECT a % $1, $2 FROM t WHERE b = $3 GROUP BY a % $1, $2');
    expect(l.literals).toEqual([10, 'x', '10']);
  });

  it("gives each lifted number literal PostgreSQL's literal type, and keeps 7 and 7.0 apart", () => {
    const l = liftLiterals(`SELECT 7 / 2, 7.0 / 2, 3000000000, 9223372036854775808, 1e3, 'x'`);
    expect(l.text).toBe('SELECT $1 / $2, $3 / $2, $4, $5, $6, $7');
    expect(l.literals).toEqual([7, 2, 7, 3000000000, 9223372036854775808n, 1000, 'x']);
    expect(l.types).toEqual(['INT', 'INT', 'DECIMAL', 'BIGINT', 'DECIMAL', 'DECIMAL', undefined]);
  });

  it('leaves the ESCAPE character of a LIKE in the text', () => {
    expect(liftLiterals(`SELECT 1 FROM t WHERE a LIKE 'x!%' ESCAPE '!'`).text).toBe(`SELECT $1 FROM t WHERE a LIKE $2 ESCAPE '!'`);
  });

  it('keeps integers beyond 2^53 exact as bigint', () => {
    expect(liftLiterals('SELECT 9007199254740993').literals).toEqual([9007199254740993n]);
  });

  it('leaves ORDER BY positions and typed literals in the text', () => {
    expect(liftLiterals('SELECT a, b FROM t ORDER BY 2, 1 LIMIT 3').text).toBe('SELECT a, b FROM t ORDER BY 2, 1 LIMIT $1');
    expect(liftLiterals(`SELECT DATE '2020-01-01'`).text).toBe(`SELECT DATE '2020-01-01'`);
  });

  it('reports an unterminated string with its position', () => {
    expect(() => tokenize(`SELECT 'abc`)).toThrowError(/Unterminated string/);
  });
});
