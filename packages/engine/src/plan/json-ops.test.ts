/**
 * JSON operators and functions. Expected values are PostgreSQL's, written
 * from its documentation (§8.14 JSON Types, §9.16 JSON Functions and
 * Operators), not from kalamlite's output. A JSON result arrives as its
 * parsed value, a text result as a string.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import type { Row, Value } from '../core/types';

let db: Database;
let s: Session;

beforeAll(async () => {
  db = await openDatabase({ storage: 'memory' });
  s = db.session({ user: 'root', role: 'dba' });
  await s.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.docs (id INT PRIMARY KEY, doc JSON)`);
  await s.execute(`INSERT INTO app.docs (id, doc) VALUES
    (1, '{"name": "ann", "tags": ["a", "b"], "n": 1, "addr": {"city": "Oslo"}, "gone": null}'),
    (2, '{"name": "bob", "tags": ["b"], "n": 2}'),
    (3, '[1, 2, 3]'),
    (4, '"just text"'),
    (5, NULL)`);
});
afterAll(() => db.close());

async function value(expr: string): Promise<Value> {
  const r = await s.query(`SELECT ${expr} AS v`);
  return r.rows[0].v;
}

async function failure(sql: string): Promise<KalamError> {
  try {
    await s.query(sql);
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error(`expected '${sql}' to fail`);
}

const ids = async (where: string): Promise<number[]> =>
  (await s.query(`SELECT id FROM app.docs WHERE ${where} ORDER BY id`)).rows.map((r: Row) => r.id as number);

describe('JSON operators (PostgreSQL §9.16, Table 9.45 and 9.46)', () => {
  it('-> ->> #> #>> read members, elements and paths', async () => {
    const cases: [string, Value][] = [
      [`'[{"a":"foo"},{"b":"bar"},{"c":"baz"}]'::jsonb -> 2`, { c: 'baz' }],
      [`'[{"a":"foo"},{"b":"bar"},{"c":"baz"}]'::jsonb -> -3`, { a: 'foo' }],
      [`'{"a": {"b":"foo"}}'::jsonb -> 'a'`, { b: 'foo' }],
      [`'[1,2,3]'::jsonb ->> 2`, '3'],
      [`'{"a":1,"b":2}'::jsonb ->> 'b'`, '2'],
      [`'{"a": {"b": ["foo","bar"]}}'::jsonb #> '{a,b,1}'`, 'bar'],
      [`'{"a": {"b": ["foo","bar"]}}'::jsonb #>> '{a,b,1}'`, 'bar'],
      [`'{"a": {"b": ["foo","bar"]}}'::jsonb #> ARRAY['a', 'b']`, ['foo', 'bar']],
      [`'{"a":1}'::jsonb -> 'missing'`, null],
      [`'[1,2]'::jsonb -> 5`, null],
      [`'{"a":1}'::jsonb -> 0`, null],
      [`'1'::jsonb -> 'a'`, null],
      [`'{"a":{"b":1}}'::jsonb #> '{a,x}'`, null],
      [`'{"a":1}'::jsonb -> NULL`, null],
    ];
    for (const [e, want] of cases) expect([e, await value(e)]).toEqual([e, want]);
  });

  it('->> of an object or array gives jsonb text (keys shorter first, a space after : and ,)', async () => {
    expect(await value(`'{"a": {"bb": [1,2], "c": true}}'::jsonb ->> 'a'`)).toBe('{"c": true, "bb": [1, 2]}');
    // §8.14: SELECT '{"bar": "baz", "balance": 7.77, "active":false}'::jsonb
    expect(await value(`CAST('{"bar": "baz", "balance": 7.77, "active":false}'::jsonb AS TEXT)`)).toBe('{"bar": "baz", "active": false, "balance": 7.77}');
  });

  it('? ?| ?& test keys and string elements (§8.14.3 existence)', async () => {
    const cases: [string, boolean][] = [
      [`'{"a":1, "b":2}'::jsonb ? 'b'`, true],
      [`'["a", "b", "c"]'::jsonb ? 'b'`, true],
      [`'["foo", "bar", "baz"]'::jsonb ? 'bar'`, true],
      [`'{"foo": "bar"}'::jsonb ? 'foo'`, true],
      [`'{"foo": "bar"}'::jsonb ? 'bar'`, false],
      [`'{"foo": {"bar": "baz"}}'::jsonb ? 'bar'`, false],
      [`'"foo"'::jsonb ? 'foo'`, true],
      [`'{"a":1, "b":2, "c":3}'::jsonb ?| array['b', 'd']`, true],
      [`'{"a":1, "b":2, "c":3}'::jsonb ?| '{x,y}'`, false],
      [`'["a", "b", "c"]'::jsonb ?& array['a', 'b']`, true],
      [`'["a", "b", "c"]'::jsonb ?& array['a', 'z']`, false],
    ];
    for (const [e, want] of cases) expect([e, await value(e)]).toEqual([e, want]);
  });

  it('@> and <@ follow jsonb containment (§8.14.3)', async () => {
    const cases: [string, boolean][] = [
      [`'"foo"'::jsonb @> '"foo"'::jsonb`, true],
      [`'[1, 2, 3]'::jsonb @> '[1, 3]'::jsonb`, true],
      [`'[1, 2, 3]'::jsonb @> '[3, 1]'::jsonb`, true],
      [`'[1, 2, 3]'::jsonb @> '[1, 2, 2]'::jsonb`, true],
      [`'{"product": "PostgreSQL", "version": 9.4, "jsonb": true}'::jsonb @> '{"version": 9.4}'::jsonb`, true],
      [`'[1, 2, [1, 3]]'::jsonb @> '[1, 3]'::jsonb`, false],
      [`'[1, 2, [1, 3]]'::jsonb @> '[[1, 3]]'::jsonb`, true],
      [`'{"foo": {"bar": "baz"}}'::jsonb @> '{"bar": "baz"}'::jsonb`, false],
      [`'{"foo": {"bar": "baz"}}'::jsonb @> '{"foo": {}}'::jsonb`, true],
      [`'["foo", "bar"]'::jsonb @> '"foo"'::jsonb`, true],
      [`'"bar"'::jsonb @> '["bar"]'::jsonb`, false],
      [`'{"a":1, "b":2}'::jsonb @> '{"b":2}'::jsonb`, true],
      [`'{"b":2}'::jsonb <@ '{"a":1, "b":2}'::jsonb`, true],
      [`'{"a":null}'::jsonb @> '{"a":null}'`, true],
    ];
    for (const [e, want] of cases) expect([e, await value(e)]).toEqual([e, want]);
  });
});

describe('JSON null is not SQL NULL', () => {
  it('a JSON null is a value; ->> of one, and a missing key, are SQL NULL', async () => {
    const cases: [string, Value][] = [
      [`'null'::jsonb IS NULL`, false],
      [`'{"a":null}'::jsonb -> 'a' IS NULL`, false],
      [`'{"a":null}'::jsonb ->> 'a' IS NULL`, true],
      [`'{"a":1}'::jsonb -> 'b' IS NULL`, true],
      [`jsonb_typeof('{"a":null}'::jsonb -> 'a')`, 'null'],
      [`CAST('null'::jsonb AS TEXT)`, 'null'],
    ];
    for (const [e, want] of cases) expect([e, await value(e)]).toEqual([e, want]);
  });

  it('a JSON null handed out is null', async () => {
    expect(await value(`'{"a":null}'::jsonb -> 'a'`)).toBeNull();
  });
});

describe('JSON operators on a JSON column', () => {
  it('filters and projects with -> ->> ? @>', async () => {
    expect(await ids(`doc ->> 'name' = 'bob'`)).toEqual([2]);
    expect(await ids(`doc -> 'addr' ->> 'city' = 'Oslo'`)).toEqual([1]);
    expect(await ids(`doc ? 'gone'`)).toEqual([1]);
    expect(await ids(`doc @> '{"tags": ["b"]}'`)).toEqual([1, 2]);
    expect(await ids(`doc -> 'tags' ? 'a'`)).toEqual([1]);
    expect(await ids(`doc -> 'n' = '2'`)).toEqual([2]);
    expect(await ids(`(doc -> 'gone') IS NOT NULL`)).toEqual([1]);
    expect(await ids(`doc ->> 0 = '1'`)).toEqual([3]);
    // A JSON string in the column is a string, not JSON text to parse.
    expect((await s.query(`SELECT jsonb_typeof(doc) AS t, doc ->> 0 AS x FROM app.docs WHERE id = 4`)).rows).toEqual([{ t: 'string', x: null }]);
    expect((await s.query(`SELECT doc #>> '{tags,0}' AS t FROM app.docs ORDER BY id`)).rows.map((r) => r.t)).toEqual(['a', 'b', null, null, null]);
  });

  it('refuses text that is not JSON with TYPE_MISMATCH saying so', async () => {
    const e = await failure(`SELECT 'not json' -> 'a'`);
    expect(e.code).toBe('TYPE_MISMATCH');
    expect(e.message).toMatch(/not JSON text/);
    expect((await failure(`SELECT '{"a":1}'::jsonb #> 'a,b'`)).code).toBe('TYPE_MISMATCH');
  });
});

describe('JSON functions (PostgreSQL Table 9.47 to 9.49, KalamDB json_*)', () => {
  it('match the documented examples', async () => {
    const cases: [string, Value][] = [
      [`json_array_length('[1,2,3,{"f1":1,"f2":[5,6]},4]')`, 5],
      [`jsonb_array_length('[]')`, 0],
      [`json_extract_path('{"f2":{"f3":1},"f4":{"f5":99,"f6":"foo"}}', 'f4', 'f6')`, 'foo'],
      [`jsonb_extract_path_text('{"f2":{"f3":1},"f4":{"f5":99,"f6":"foo"}}', 'f4', 'f6')`, 'foo'],
      [`json_extract_path('{"a":[10,20]}', 'a', '1')`, 20],
      [`json_typeof('-123.4')`, 'number'],
      [`json_typeof('null'::json)`, 'null'],
      [`jsonb_typeof('[1]')`, 'array'],
      [`jsonb_typeof(NULL::jsonb)`, null],
      [`json_build_array(1, 2, 'foo', 4, 5)`, [1, 2, 'foo', 4, 5]],
      [`jsonb_build_object('foo', 1, 'bar', NULL)`, { foo: 1, bar: null }],
      [`jsonb_build_object()`, {}],
      [`jsonb_strip_nulls('[{"f1":1, "f2":null}, 2, null, 3]')`, [{ f1: 1 }, 2, null, 3]],
      [`to_json('Fred said "Hi."'::text)`, 'Fred said "Hi."'],
      [`to_jsonb(42) ->> 0`, null],
      [`jsonb_object_keys('{"f1":"abc","f2":{"f3":"a", "f4":"b"}}')`, ['f1', 'f2']],
    ];
    for (const [e, want] of cases) expect([e, await value(e)]).toEqual([e, want]);
  });

  it("KalamDB's json_get family reads paths of keys and indexes", async () => {
    const doc = `'{"a": {"b": [1, 2.5, "x", true]}, "s": "str"}'`;
    const cases: [string, Value][] = [
      [`json_get(${doc}, 'a', 'b', 2)`, 'x'],
      [`json_get_str(${doc}, 's')`, 'str'],
      [`json_get_str(${doc}, 'a')`, null],
      [`json_get_int(${doc}, 'a', 'b', 0)`, 1n],
      [`json_get_int(${doc}, 'a', 'b', 1)`, null],
      [`json_get_float(${doc}, 'a', 'b', 1)`, 2.5],
      [`json_get_bool(${doc}, 'a', 'b', 3)`, true],
      [`json_get_json(${doc}, 'a')`, '{"b": [1, 2.5, "x", true]}'],
      [`json_as_text(${doc}, 's')`, 'str'],
      [`json_contains(${doc}, 'a', 'b')`, true],
      [`json_contains(${doc}, 'nope')`, false],
      [`json_length(${doc}, 'a', 'b')`, 4],
      [`json_length(${doc})`, 2],
      [`json_object_keys(${doc})`, ['a', 's']],
    ];
    for (const [e, want] of cases) expect([e, await value(e)]).toEqual([e, want]);
  });

  it('refuses bad arguments with specific codes', async () => {
    expect((await failure(`SELECT jsonb_array_length('{"a":1}')`)).code).toBe('TYPE_MISMATCH');
    expect((await failure(`SELECT jsonb_build_object('a')`)).code).toBe('INVALID_SQL');
    expect((await failure(`SELECT jsonb_build_object(NULL, 1)`)).code).toBe('INVALID_PARAMETER');
    expect((await failure(`SELECT CAST('null'::jsonb AS INT)`)).code).toBe('TYPE_MISMATCH');
  });
});

describe('JSON in live queries', () => {
  it('a live query filtering on a JSON expression follows inserts, updates and deletes', async () => {
    await s.execute('CREATE SHARED TABLE app.events (id INT PRIMARY KEY, payload JSON)');
    const deliveries: (readonly Row[])[] = [];
    const stop = await s.live(`SELECT id, payload ->> 'kind' AS kind FROM app.events WHERE payload @> '{"kind": "click"}' ORDER BY id`, [], (rows) => deliveries.push(rows), () => {});
    await s.execute(`INSERT INTO app.events (id, payload) VALUES (1, '{"kind": "click", "x": 1}'), (2, '{"kind": "view"}')`);
    expect(deliveries[deliveries.length - 1]).toEqual([{ id: 1, kind: 'click' }]);
    await s.execute(`UPDATE app.events SET payload = '{"kind": "click"}' WHERE id = 2`);
    expect(deliveries[deliveries.length - 1]).toEqual([{ id: 1, kind: 'click' }, { id: 2, kind: 'click' }]);
    await s.execute(`UPDATE app.events SET payload = '{"kind": "scroll"}' WHERE id = 1`);
    expect(deliveries[deliveries.length - 1]).toEqual([{ id: 2, kind: 'click' }]);
    await stop();
  });
});
