/**
 * Regular expressions. Expected values are PostgreSQL's, written from its
 * documentation (§9.7.3 POSIX Regular Expressions), not from kalamlite's
 * output; the timing case is a property (linear time), not a benchmark.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import { compileRegex, execRegex, REGEX_MAX_STATES } from './regex';

let db: Database;
let s: Session;

beforeAll(async () => {
  db = await openDatabase({ storage: 'memory' });
  s = db.session({ user: 'root', role: 'dba' });
});
afterAll(() => db.close());

async function check(cases: readonly [string, Value][]): Promise<void> {
  for (const [e, want] of cases) expect([e, (await s.query(`SELECT ${e} AS v`)).rows[0].v]).toEqual([e, want]);
}

async function failure(expr: string): Promise<KalamError> {
  try {
    await s.query(`SELECT ${expr} AS v`);
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error(`expected '${expr}' to fail`);
}

describe('regexp_count, regexp_substr and regexp_split_to_array (PostgreSQL §9.7.3, its examples)', () => {
  it('regexp_count counts the matches, from an optional start, with optional flags', () => check([
    [`regexp_count('ABCABCAXYaxy', 'A.')`, 3],
    [`regexp_count('ABCABCAXYaxy', 'A.', 1, 'i')`, 4],
    [`regexp_count('ABCABCAXYaxy', 'A.', 4)`, 2],
    [`regexp_count('abc', 'x')`, 0],
    [`regexp_count(NULL, 'x')`, null],
  ]));

  it('regexp_substr returns the Nth match or one of its groups, or NULL', () => check([
    [`regexp_substr('ABCDEF', 'c(.)(..)', 1, 1, 'i')`, 'CDEF'],
    [`regexp_substr('ABCDEF', 'c(.)(..)', 1, 1, 'i', 2)`, 'EF'],
    [`regexp_substr('one two three', '[a-z]+', 1, 3)`, 'three'],
    [`regexp_substr('one two', '[a-z]+', 1, 3)`, null],
    [`regexp_substr('one two', 'x')`, null],
  ]));

  it('regexp_split_to_array splits at each match; empty matches split between characters', () => check([
    [`regexp_split_to_array('hello world', '\\s+')`, ['hello', 'world']],
    [`regexp_split_to_array('the quick brown fox', '\\s*')`, ['t', 'h', 'e', 'q', 'u', 'i', 'c', 'k', 'b', 'r', 'o', 'w', 'n', 'f', 'o', 'x']],
    [`regexp_split_to_array('a,b,,c', ',')`, ['a', 'b', '', 'c']],
    [`regexp_split_to_array('abc', 'x')`, ['abc']],
  ]));

  it('refuses the g flag and a start below 1', async () => {
    expect((await failure(`regexp_count('a', 'a', 1, 'g')`)).code).toBe('INVALID_PARAMETER');
    expect((await failure(`regexp_substr('a', 'a', 0)`)).code).toBe('INVALID_PARAMETER');
  });
});

describe('regular expressions (PostgreSQL §9.7.3)', () => {
  it('~ ~* !~ !~* match anywhere in the string', () => check([
    [`'thomas' ~ 't.*ma'`, true],
    [`'thomas' ~* 'T.*ma'`, true],
    [`'thomas' !~ 't.*max'`, true],
    [`'thomas' !~* 'T.*ma'`, false],
    [`'abc' ~ '^(b|c)'`, false],
    [`'abc' ~ 'c$'`, true],
  ]));

  it('regexp_match returns the captured groups, or the whole match, or NULL', () => check([
    [`regexp_match('foobarbequebaz', 'bar.*que')`, ['barbeque']],
    [`regexp_match('foobarbequebaz', '(bar)(beque)')`, ['bar', 'beque']],
    [`regexp_match('abc', 'x')`, null],
    [`regexp_match('abc', '(x)?b')`, [null]],
    [`regexp_match('xy1234z', '[[:digit:]]+')`, ['1234']],
    [`regexp_match('aaa', 'a+?')`, ['a']],
    [`regexp_match('ab', 'a|ab')`, ['ab']],
  ]));

  it('regexp_replace replaces the first match, or every match with g, with \\1 and \\& references', () => check([
    [`regexp_replace('Thomas', '.[mN]a.', 'M')`, 'ThM'],
    [`regexp_replace('foobarbaz', 'b..', 'X', 'g')`, 'fooXX'],
    [`regexp_replace('foobarbaz', 'b(..)', 'X\\1Y', 'g')`, 'fooXarYXazY'],
    [`regexp_replace('abc', 'B', '[\\&]', 'i')`, 'a[b]c'],
    [`regexp_replace('abc', 'x*', '-', 'g')`, '-a-b-c-'],
  ]));

  it('regexp_like tests a match, with flags', () => check([
    [`regexp_like('Hello World', 'world')`, false],
    [`regexp_like('Hello World', 'world', 'i')`, true],
    [`regexp_like('a1', '^\\w\\d$')`, true],
    [`regexp_like('ab', 'a{2}')`, false],
    [`regexp_like('aab', '^a{1,2}b$')`, true],
  ]));

  it('refuses what it cannot run safely or correctly, with specific codes', async () => {
    expect((await failure(`regexp_like('aa', '(a)\\1')`)).code).toBe('UNSUPPORTED');
    expect((await failure(`regexp_like('a', '(?=a)')`)).code).toBe('UNSUPPORTED');
    expect((await failure(`regexp_like('a', '(a')`)).code).toBe('INVALID_PARAMETER');
    expect((await failure(`regexp_like('a', 'a', 'z')`)).code).toBe('INVALID_PARAMETER');
    expect((await failure(`regexp_match('a', 'a', 'g')`)).code).toBe('INVALID_PARAMETER');
    expect((await failure(`regexp_like('a', '((a{255}){255}){255}')`)).code).toBe('LIMIT_EXCEEDED');
    const long = await s.query('SELECT regexp_like($1, $2) AS v', ['a', 'a'.repeat(10_001)]).catch((e: KalamError) => e);
    expect((long as KalamError).code).toBe('LIMIT_EXCEEDED');
  });

  it('matches a pattern that backtracking engines take exponential time on, in linear time', () => {
    const re = compileRegex('^(a+)+$', '');
    const text = Array.from('a'.repeat(5_000) + 'b', (c) => c.codePointAt(0)!);
    expect(execRegex(re, text, 0)).toBeUndefined();
    expect(re.prog.length).toBeLessThan(REGEX_MAX_STATES);
    const nested = compileRegex('(a*)*(a*)*(a*)*b', '');
    expect(execRegex(nested, Array.from('a'.repeat(2_000), (c) => c.codePointAt(0)!), 0)).toBeUndefined();
  });
});
