/**
 * The scalar function library. Expected values are PostgreSQL's, written
 * from its documentation (§9.3 Mathematical Functions, §9.4 String
 * Functions), not from kalamlite's output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import { readFileSync } from 'node:fs';
import { scalarFunctionNames } from './functions';
import { JSON_FUNCTIONS, TEXT_FUNCTION_NAMES } from './function-names';
import { compileJsonCall } from './json-functions';
import { TEXT_LENIENT, TEXT_STRICT } from './text-functions';

let db: Database;
let s: Session;

beforeAll(async () => {
  db = await openDatabase({ storage: 'memory' });
  s = db.session({ user: 'root', role: 'dba' });
});
afterAll(() => db.close());

async function value(expr: string): Promise<Value> {
  return (await s.query(`SELECT ${expr} AS v`)).rows[0].v;
}

async function check(cases: readonly [string, Value][]): Promise<void> {
  for (const [e, want] of cases) expect([e, await value(e)]).toEqual([e, want]);
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

describe('string functions (PostgreSQL §9.4, Tables 9.9 and 9.10)', () => {
  it('trim family honours the characters argument', () => check([
    [`btrim('xyxtrimyyx', 'xyz')`, 'trim'],
    [`ltrim('zzzytest', 'xyz')`, 'test'],
    [`rtrim('testxxzx', 'xyz')`, 'test'],
    [`trim(both 'xyz' from 'yxTomxx')`, 'Tom'],
    [`trim(leading 'xyz' from 'zzzytest')`, 'test'],
    [`trim(trailing 'xyz' from 'testxxzx')`, 'test'],
    [`trim(both from '  a  ')`, 'a'],
    [`trim('x' from 'xxaxx')`, 'a'],
    [`btrim('  a  ')`, 'a'],
    [`ltrim('  a ')`, 'a '],
  ]));

  it('concat and concat_ws print values with their output functions (booleans as t and f)', () => check([
    [`concat('abcde', 2, NULL, 22)`, 'abcde222'],
    [`concat_ws(',', 'abcde', 2, NULL, 22)`, 'abcde,2,22'],
    [`concat(true, '/', false)`, 't/f'],
    [`concat_ws('-', true, false)`, 't-f'],
    [`concat_ws(NULL, 'a', 'b')`, null],
    [`'x' || true`, 'xt'],
  ]));

  it('substring, position, strpos, left, right', () => check([
    [`substring('Thomas' from 2 for 3)`, 'hom'],
    [`substring('Thomas' from 3)`, 'omas'],
    [`substring('Thomas' for 2)`, 'Th'],
    [`substr('alphabet', 3)`, 'phabet'],
    [`substr('alphabet', 3, 2)`, 'ph'],
    [`substring('Thomas', 0, 2)`, 'T'],
    [`position('om' in 'Thomas')`, 3],
    [`strpos('high', 'ig')`, 2],
    [`position('b' in 'ébc')`, 2],
    [`left('abcde', 2)`, 'ab'],
    [`left('abcde', -2)`, 'abc'],
    [`right('abcde', 2)`, 'de'],
    [`right('abcde', -2)`, 'cde'],
  ]));

  it('replace, split_part, pads, initcap, repeat, reverse, starts_with', () => check([
    [`replace('abcdefabcdef', 'cd', 'XX')`, 'abXXefabXXef'],
    [`replace('abc', '', 'X')`, 'abc'],
    [`split_part('abc~@~def~@~ghi', '~@~', 2)`, 'def'],
    [`split_part('abc,def,ghi,jkl', ',', -2)`, 'ghi'],
    [`split_part('abc', ',', 3)`, ''],
    [`lpad('hi', 5, 'xy')`, 'xyxhi'],
    [`rpad('hi', 5, 'xy')`, 'hixyx'],
    [`lpad('hello', 2)`, 'he'],
    [`initcap('hi THOMAS')`, 'Hi Thomas'],
    [`repeat('Pg', 4)`, 'PgPgPgPg'],
    [`reverse('abcde')`, 'edcba'],
    [`starts_with('alphabet', 'alph')`, true],
    [`length('jose')`, 4],
  ]));

  it('md5, ascii, chr, format', () => check([
    [`md5('abc')`, '900150983cd24fb0d6963f7d28e17f72'],
    [`md5('')`, 'd41d8cd98f00b204e9800998ecf8427e'],
    [`ascii('x')`, 120],
    [`chr(65)`, 'A'],
    [`format('Hello %s, %1$s', 'World')`, 'Hello World, World'],
    [`format('Testing %s, %s, %s, %%', 'one', 'two', 'three')`, 'Testing one, two, three, %'],
    [`format('INSERT INTO %I VALUES(%L)', 'Foo bar', 'O''Reilly')`, `INSERT INTO "Foo bar" VALUES('O''Reilly')`],
    [`format('%s|%L', NULL, NULL)`, '|NULL'],
  ]));

  it('refuses what PostgreSQL refuses, with specific codes', async () => {
    expect((await failure(`split_part('a,b', ',', 0)`)).code).toBe('INVALID_PARAMETER');
    expect((await failure(`substring('abc', 1, -1)`)).code).toBe('INVALID_PARAMETER');
    expect((await failure(`chr(0)`)).code).toBe('INVALID_PARAMETER');
    expect((await failure(`format('%5s', 'a')`)).code).toBe('INVALID_PARAMETER');
    expect((await failure(`format('%s %s', 'a')`)).code).toBe('INVALID_PARAMETER');
  });
});

describe('mathematical functions (PostgreSQL §9.3, Table 9.5)', () => {
  it('match the documented examples', () => check([
    [`abs(-17.4)`, 17.4],
    [`ceil(42.2)`, 43],
    [`ceil(-42.8)`, -42],
    [`floor(42.8)`, 42],
    [`floor(-42.8)`, -43],
    [`round(42.4)`, 42],
    [`round(42.4382, 2)`, 42.44],
    [`round(1234.56, -1)`, 1230],
    [`trunc(42.8)`, 42],
    [`trunc(-42.8)`, -42],
    [`trunc(42.4382, 2)`, 42.43],
    [`sign(-8.4)`, -1],
    [`sqrt(2)`, 1.4142135623730951],
    [`cbrt(64.0)`, 4],
    [`exp(1.0)`, 2.718281828459045],
    [`ln(2.0)`, 0.6931471805599453],
    [`log(100)`, 2],
    [`log10(1000)`, 3],
    [`log(2.0, 64.0)`, 6],
    [`power(9, 3)`, 729],
    [`mod(9, 4)`, 1],
    [`pi()`, 3.141592653589793],
    [`round(2.675, 2)`, 2.68],
    [`greatest(1, 3, 2)`, 3],
    [`least(1, NULL, -2)`, -2],
    [`coalesce(NULL, NULL, 'x')`, 'x'],
    [`nullif(1, 1)`, null],
  ]));

  it('refuses arguments outside the domain', async () => {
    expect((await failure('sqrt(-1)')).message).toMatch(/square root of a negative number/);
    expect((await failure('ln(0)')).message).toMatch(/logarithm of zero/);
    expect((await failure('log(-1)')).message).toMatch(/logarithm of a negative number/);
    expect((await failure('power(0, -1)')).code).toBe('INVALID_PARAMETER');
    expect((await failure('mod(1, 0)')).code).toBe('DIVISION_BY_ZERO');
  });
});

describe('unknown functions', () => {
  it('name the function and point at the README list', async () => {
    const e = await failure('no_such_fn(1)');
    expect(e.code).toBe('UNSUPPORTED');
    expect(e.message).toContain('no_such_fn()');
    expect(e.message).toContain('README');
  });
});

describe('the README list', () => {
  it('names every scalar function the engine knows', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('### Functions and operators'), readme.indexOf('Not yet: `WITH RECURSIVE`'));
    const missing = scalarFunctionNames().filter((n) => !new RegExp(`\\b${n}\\b`, 'i').test(section));
    expect(missing).toEqual([]);
  });
});

describe('the names a statement is read for before its extension loads (function-names.ts)', () => {
  it('lists exactly the text functions text-functions.ts implements', () => {
    expect([...TEXT_FUNCTION_NAMES].sort()).toEqual([...Object.keys(TEXT_STRICT), ...Object.keys(TEXT_LENIENT)].sort());
  });

  it('lists only JSON functions json-functions.ts compiles', () => {
    const c = () => () => null;
    // A name json-functions.ts does not know returns undefined; a known one compiles, or refuses this argument list.
    const handled = (n: string) => {
      try {
        return compileJsonCall({ kind: 'call', name: n.toUpperCase(), args: [{ kind: 'literal', value: '{}' }], distinct: false, star: false }, undefined as never, c) !== undefined;
      } catch {
        return true;
      }
    };
    const unknown = JSON_FUNCTIONS.filter((n) => !handled(n));
    expect(unknown).toEqual([]);
  });
});
