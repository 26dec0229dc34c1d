import { beforeAll, describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import type { Expr, SelectStmt } from './ast';
import { treeDepth } from './convert';
import { tokenize } from './lexer';
import { SQL_LIMIT_DEFAULTS, TREE_DEPTH_PER_LEVEL, type SqlLimits } from './limits';
import { parseStatement } from './parse';
import { IN_LIST_REWRITE_MIN } from './rewrite';
import { loadSqlParser } from './parser-loader';

// The grammar loads as a database opens; these tests parse without one.
beforeAll(() => loadSqlParser());

const limits = (over: Partial<SqlLimits>): SqlLimits => ({ ...SQL_LIMIT_DEFAULTS, ...over });

/** Parses as the planner does: tokens checked by the lexer, then the parser and the conversion. */
const parse = (sql: string, l: SqlLimits = SQL_LIMIT_DEFAULTS) => parseStatement(sql, tokenize(sql, l), l);
const select = (sql: string, l?: SqlLimits) => parse(sql, l) as SelectStmt;

function errorOf(fn: () => unknown): KalamError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected a KalamError');
}

/** LIMIT_EXCEEDED naming `option`. */
function expectLimit(fn: () => unknown, option: keyof SqlLimits): KalamError {
  const e = errorOf(fn);
  expect([e.code, e.message]).toEqual(['LIMIT_EXCEEDED', expect.stringContaining(option)]);
  return e;
}

const list = (n: number, item: (i: number) => string) => Array.from({ length: n }, (_, i) => item(i)).join(', ');

describe('lexer limits', () => {
  it('refuses text past maxSqlLength before reading it (an unterminated string too)', () => {
    expect(() => tokenize('SELECT 1', limits({ maxSqlLength: 8 }))).not.toThrow();
    const e = expectLimit(() => tokenize(`SELECT '${'x'.repeat(100)}`, limits({ maxSqlLength: 50 })), 'maxSqlLength');
    expect(e.message).toContain('108 characters');
  });

  it('stops at the token past maxSqlTokens; whitespace and comments are not tokens', () => {
    expect(tokenize('SELECT 1, 2   -- three\n  ', limits({ maxSqlTokens: 4 }))).toHaveLength(4);
    const e = expectLimit(() => tokenize('SELECT 1, 2, 3', limits({ maxSqlTokens: 4 })), 'maxSqlTokens');
    expect(e.position).toBe(11);
  });

  it('refuses a $n past maxParameters however many digits it has, naming the parameter', () => {
    expect(tokenize('SELECT $65535', SQL_LIMIT_DEFAULTS)[1].text).toBe('$65535');
    expect(expectLimit(() => tokenize('SELECT $65536', SQL_LIMIT_DEFAULTS), 'maxParameters').message).toContain('$65536');
    expect(expectLimit(() => tokenize('SELECT $99999999999999999999', SQL_LIMIT_DEFAULTS), 'maxParameters').message).toContain('$99999999999999999999');
    const e = expectLimit(() => tokenize(`SELECT $${'9'.repeat(100_000)}`, SQL_LIMIT_DEFAULTS), 'maxParameters');
    expect(e.message.length).toBeLessThan(300);
    expect(e.position).toBe(7);
  });
});

describe('nesting and breadth, read off the tokens before the parser runs', () => {
  it('counts parentheses, CASE and runs of NOT and signs against maxExpressionDepth', () => {
    const l = limits({ maxExpressionDepth: 4 });
    expect(() => parse('SELECT ((((1))))', l)).not.toThrow();
    expect(expectLimit(() => parse('SELECT (((((1)))))', l), 'maxExpressionDepth').position).toBe(11);
    expect(() => parse('SELECT NOT NOT NOT NOT true', l)).not.toThrow();
    expectLimit(() => parse('SELECT NOT NOT NOT NOT NOT true', l), 'maxExpressionDepth');
    expectLimit(() => parse('SELECT - - - - - 1', l), 'maxExpressionDepth');
    expectLimit(() => parse('SELECT NOT (NOT (NOT (true)))', l), 'maxExpressionDepth'); // NOT ( is two levels
    expect(() => parse('SELECT CASE WHEN CASE WHEN CASE WHEN true THEN true END THEN true END THEN 1 END', limits({ maxExpressionDepth: 3 }))).not.toThrow();
    expectLimit(() => parse('SELECT CASE WHEN CASE WHEN CASE WHEN true THEN true END THEN true END THEN 1 END', limits({ maxExpressionDepth: 2 })), 'maxExpressionDepth');
  });

  it('does not count NOT IN, NOT LIKE, IS NOT NULL or binary minus as nesting', () => {
    const l = limits({ maxExpressionDepth: 2 }); // IN ($1) nests once
    expect(() => parse('SELECT a FROM t WHERE a NOT IN ($1) AND b NOT LIKE $2 AND c IS NOT NULL AND d - 1 - 2 > 0', l)).not.toThrow();
  });

  it('counts list items (select list, arguments, GROUP BY …) against maxExpressionTerms, IN values against maxInListLength', () => {
    const l = limits({ maxExpressionTerms: 5, maxInListLength: 8 });
    expect(() => parse(`SELECT ${list(5, (i) => `a${i}`)} FROM t`, l)).not.toThrow();
    expectLimit(() => parse(`SELECT ${list(6, (i) => `a${i}`)} FROM t`, l), 'maxExpressionTerms');
    expectLimit(() => parse(`SELECT coalesce(${list(6, (i) => `a${i}`)})`, l), 'maxExpressionTerms');
    expectLimit(() => parse(`SELECT 1 FROM t GROUP BY ${list(6, (i) => `a${i}`)}`, l), 'maxExpressionTerms');
    expect(() => parse(`SELECT 1 FROM t WHERE a IN (${list(8, (i) => `$${i + 1}`)})`, l)).not.toThrow();
    expectLimit(() => parse(`SELECT 1 FROM t WHERE a IN (${list(9, (i) => `$${i + 1}`)})`, l), 'maxInListLength');
    // Rows of VALUES are no expression list; each row's values are.
    expect(() => parse(`INSERT INTO t VALUES ${list(20, (i) => `(${i}, -1)`)}`, l)).not.toThrow();
  });

  it('counts the terms of an AND or OR chain, not BETWEEN … AND, and not the ANDs of OR-ed terms together', () => {
    const l = limits({ maxExpressionTerms: 3 });
    expect(() => parse('SELECT 1 FROM t WHERE a OR b OR c', l)).not.toThrow();
    expectLimit(() => parse('SELECT 1 FROM t WHERE a OR b OR c OR d', l), 'maxExpressionTerms');
    expect(() => parse('SELECT 1 FROM t WHERE a BETWEEN 1 AND 2 AND b BETWEEN 3 AND 4 AND c', l)).not.toThrow();
    expect(() => parse('SELECT 1 FROM t WHERE a AND b OR c AND d OR e AND f', l)).not.toThrow();
    expectLimit(() => parse('SELECT 1 FROM t WHERE a AND b AND c AND d', l), 'maxExpressionTerms');
  });

  it('counts the arms of a set operation against maxSetOperationArms', () => {
    const l = limits({ maxSetOperationArms: 3 });
    expect(() => parse('SELECT 1 UNION SELECT 2 EXCEPT SELECT 3', l)).not.toThrow();
    expectLimit(() => parse('SELECT 1 UNION SELECT 2 UNION ALL SELECT 3 INTERSECT SELECT 4', l), 'maxSetOperationArms');
    expect(() => parse('SELECT 1 FROM (SELECT 1 UNION SELECT 2) a WHERE 1 IN (SELECT 1 UNION SELECT 2) UNION SELECT 3', l)).not.toThrow();
  });

  it('counts each operator of an arithmetic or || chain as a level of depth', () => {
    const max = 2 * TREE_DEPTH_PER_LEVEL;
    const l = limits({ maxExpressionDepth: 2 });
    expect(() => parse(`SELECT ${list(max - 1, () => 'a').replace(/, /g, ' + ')}`, l)).not.toThrow();
    expectLimit(() => parse(`SELECT ${list(max + 2, () => 'a').replace(/, /g, ' + ')}`, l), 'maxExpressionDepth');
    // Not a flat run (so not refused off the tokens) but as deep once converted.
    expectLimit(() => parse(`SELECT ${list(max + 2, () => '(a)').replace(/, /g, ' || ')}`, l), 'maxExpressionDepth');
  });
});

describe('converted shapes', () => {
  const where = (sql: string) => select(sql).where!;
  const leaves = (e: Expr, op: string): Expr[] => (e.kind === 'binary' && e.op === op ? [...leaves(e.left, op), ...leaves(e.right, op)] : [e]);

  it('builds an AND / OR chain as a balanced tree of its terms in order', () => {
    const n = 1000;
    const e = where(`SELECT 1 FROM t WHERE ${list(n, (i) => `a = $${i + 1}`).replace(/, /g, ' OR ')}`);
    expect(leaves(e, 'OR').map((x) => (x as { right: { index: number } }).right.index)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(treeDepth(e)).toBeLessThanOrEqual(Math.ceil(Math.log2(n)) + 2);
    // Two or three terms come out as the parser read them (left-deep).
    expect(where('SELECT 1 FROM t WHERE a AND b AND c')).toMatchObject({ op: 'AND', left: { op: 'AND', left: { name: 'a' }, right: { name: 'b' } }, right: { name: 'c' } });
  });

  it('keeps an arithmetic chain left-deep (a - b - c is (a - b) - c)', () => {
    expect(select('SELECT a - b - c + d').items[0].expr).toMatchObject({ op: '+', left: { op: '-', left: { op: '-', left: { name: 'a' } } }, right: { name: 'd' } });
  });

  it('combines a long run of one set operator as a balanced tree of its members in order, EXCEPT left to right', () => {
    const names = (s: SelectStmt): string[] => (s.setOp ? [...names(s.setOp.left), ...names(s.setOp.right)] : s.from.map((f) => f.table.name));
    const s = select(Array.from({ length: 64 }, (_, i) => `SELECT a FROM t${i}`).join(' UNION ALL '));
    expect(names(s)).toEqual(Array.from({ length: 64 }, (_, i) => `t${i}`));
    expect(treeDepth(s)).toBeLessThanOrEqual(8);
    const shape = (x: SelectStmt): unknown => (x.setOp ? [shape(x.setOp.left), x.setOp.op, shape(x.setOp.right)] : x.from[0].table.name);
    expect(shape(select('SELECT a FROM p EXCEPT SELECT a FROM q EXCEPT SELECT a FROM r UNION SELECT a FROM s INTERSECT SELECT a FROM u INTERSECT SELECT a FROM v')))
      .toEqual([[['p', 'EXCEPT', 'q'], 'EXCEPT', 'r'], 'UNION', [['s', 'INTERSECT', 'u'], 'INTERSECT', 'v']]);
  });

  it('reads a long IN list of parameters without the SQL parser, into what the parser would have built', () => {
    const n = IN_LIST_REWRITE_MIN;
    const items = list(n, (i) => (i % 3 === 1 ? `-$${i + 1}` : i % 3 === 2 ? `+$${i + 1}` : `$${i + 1}`));
    const fast = where(`SELECT 1 FROM t WHERE a NOT IN (${items})`);
    // A NULL among the values keeps the list in the parser's hands.
    const parsed = where(`SELECT 1 FROM t WHERE a NOT IN (${items}, NULL)`);
    expect(fast).toEqual({ ...parsed, list: (parsed as { list: Expr[] }).list.slice(0, n) });
    // Errors inside still point at what was written.
    expect(errorOf(() => parse(`SELECT 1 FROM t WHERE a IN (${list(n, (i) => `$${i + 1}`)}) AND AND`)).position).toBeGreaterThan(n * 4);
  });
});
