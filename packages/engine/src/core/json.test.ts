import { describe, expect, it } from 'vitest';
import { KalamError } from './errors';
import { freezeJsonInPlace, isSealedJson, DEFAULT_MAX_JSON_DEPTH, isJsonDeeperThan, MAX_JSON_NODES, sealJson } from './json';

const seal = (v: unknown) => sealJson(v, 'TYPE_MISMATCH', 'Column j is JSON');

function refusal(v: unknown, code = 'TYPE_MISMATCH'): KalamError {
  try {
    seal(v);
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    expect((e as KalamError).code).toBe(code);
    return e as KalamError;
  }
  throw new Error('expected the value to be refused');
}

function isDeepFrozen(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return true;
  return Object.isFrozen(v) && Object.values(v).every(isDeepFrozen);
}

describe('sealJson', () => {
  it('copies and deep-freezes plain JSON, so the caller changing its value changes nothing', () => {
    const input = { a: 1, b: [true, null, 'x', { c: 2.5 }], d: {} };
    const out = seal(input) as { a: number; b: unknown[] };
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(isDeepFrozen(out)).toBe(true);
    expect(isSealedJson(out)).toBe(true);
    input.a = 666;
    (input.b[3] as { c: number }).c = 777;
    expect(out).toEqual({ a: 1, b: [true, null, 'x', { c: 2.5 }], d: {} });
    expect(Object.isFrozen(input)).toBe(false); // the caller's value is left alone
  });

  it('returns a value it already sealed as it is', () => {
    const once = seal({ a: [1] });
    expect(seal(once)).toBe(once);
  });

  it('keeps scalars and normalizes -0 to 0', () => {
    expect(seal('text')).toBe('text');
    expect(seal(true)).toBe(true);
    expect(seal(null)).toBe(null);
    expect(Object.is(seal(-0), 0)).toBe(true);
    expect(Object.is((seal([-0]) as number[])[0], 0)).toBe(true);
  });

  it('turns a Date into its ISO text (JSON has no date type) and refuses an invalid one', () => {
    expect(seal({ at: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)) })).toEqual({ at: '2024-01-02T03:04:05.006Z' });
    expect(refusal({ at: new Date('nonsense') }).message).toMatch(/an invalid Date at \$\.at/);
  });

  it('leaves out undefined properties, as JSON.stringify does, but refuses undefined and holes in arrays', () => {
    expect(seal({ a: 1, b: undefined })).toStrictEqual({ a: 1 });
    expect(refusal([1, undefined]).message).toMatch(/undefined element is not JSON \(use null\) at \$\[1\]/);
    // eslint-disable-next-line no-sparse-arrays
    expect(refusal([1, , 3]).message).toMatch(/hole.* at \$\[1\]/);
  });

  it('refuses what JSON cannot hold, naming where and what is allowed', () => {
    const cases: [unknown, RegExp][] = [
      [{ f: () => 1 }, /a function is not JSON at \$\.f/],
      [{ s: Symbol('x') }, /a symbol is not JSON at \$\.s/],
      [{ n: 5n }, /5n is a bigint .* at \$\.n/],
      [{ n: Number.NaN }, /NaN is not a finite number at \$\.n/],
      [[Number.POSITIVE_INFINITY], /Infinity is not a finite number at \$\[0\]/],
      [{ m: new Map([[1, 2]]) }, /an instance of Map: only plain objects and arrays are JSON at \$\.m/],
      [{ s: new Set([1]) }, /an instance of Set/],
      [{ r: /x/ }, /an instance of RegExp/],
      [{ b: new Uint8Array(2) }, /binary data \(use a BYTES column for it\): only plain objects and arrays are JSON at \$\.b/],
      [{ b: new String('boxed') }, /an instance of String/],
      [{ c: new (class Point { x = 1; })() }, /an instance of Point/],
      [{ 'odd key': { f() {} } }, /at \$\["odd key"\]\.f/],
      [undefined, /undefined is not JSON/],
    ];
    for (const [v, message] of cases) {
      const e = refusal(v);
      expect(e.message).toMatch(message);
      expect(e.message).toMatch(/^Column j is JSON: /);
      expect(e.message).toMatch(/JSON values are plain objects, arrays, strings, finite numbers, booleans and null/);
    }
  });

  it('refuses cycles, but copies a sub-object reached twice', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    expect(refusal(a).message).toMatch(/a cycle .* at \$\.self/);
    const arr: unknown[] = [1];
    arr.push({ back: arr });
    expect(refusal(arr).message).toMatch(/a cycle .* at \$\[1\]\.back/);
    const shared = { k: 1 };
    const out = seal({ a: shared, b: [shared] }) as { a: object; b: object[] };
    expect(out).toEqual({ a: { k: 1 }, b: [{ k: 1 }] });
  });

  it('bounds nesting (LIMIT_EXCEEDED naming maxJsonDepth) and size, without reading a huge sparse array element by element', () => {
    let deep: unknown = 1;
    for (let i = 0; i <= DEFAULT_MAX_JSON_DEPTH; i++) deep = [deep];
    expect(refusal(deep, 'LIMIT_EXCEEDED').message).toMatch(new RegExp(`nested deeper than ${DEFAULT_MAX_JSON_DEPTH} levels .*\\(maxJsonDepth\\)`));
    let ok: unknown = 1;
    for (let i = 0; i < DEFAULT_MAX_JSON_DEPTH; i++) ok = { k: ok };
    expect(() => seal(ok)).not.toThrow();
    // A bound given by the caller (the engine passes its maxJsonDepth option).
    expect(() => sealJson([[[1]]], 'TYPE_MISMATCH', 'x', 2)).toThrow(/exceeds the limit of 2 \(maxJsonDepth\)/);
    expect(sealJson([[1]], 'TYPE_MISMATCH', 'x', 2)).toEqual([[1]]);
    expect(isJsonDeeperThan(ok, DEFAULT_MAX_JSON_DEPTH)).toBe(false);
    expect(isJsonDeeperThan(deep, DEFAULT_MAX_JSON_DEPTH)).toBe(true);
    expect(isJsonDeeperThan(JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), DEFAULT_MAX_JSON_DEPTH)).toBe(true);
    const sparse: unknown[] = [];
    sparse[1e9] = 1;
    // Refused by its length before it is walked (a walk of 10^9 slots would run past the test's timeout).
    expect(refusal({ sparse }).message).toMatch(/an array of 1000000001 elements .* at \$\.sparse/);
    // A DAG that JSON.stringify would write out 2^30 times over.
    let dag: unknown = [1];
    for (let i = 0; i < 30; i++) dag = [dag, dag];
    expect(refusal(dag).message).toMatch(new RegExp(`more than ${MAX_JSON_NODES} values`));
  });

  it('keeps a __proto__ key as data, as JSON.parse does', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as object;
    const out = seal(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(seal(Object.assign(Object.create(null), { a: 1 }))).toEqual({ a: 1 });
  });

  it('copies a well-behaved Proxy into a plain value', () => {
    const p = new Proxy({ a: 1, b: [2] }, {});
    const out = seal(p);
    expect(out).toEqual({ a: 1, b: [2] });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it('reports a Proxy whose traps throw, and a getter that throws, as refused values (never a raw error)', () => {
    const boom = () => {
      throw new Error('trap!');
    };
    const traps: ProxyHandler<object>[] = [{ ownKeys: boom }, { get: boom }, { getPrototypeOf: boom }, { getOwnPropertyDescriptor: boom }];
    for (const handler of traps) expect(refusal({ p: new Proxy({ a: 1 }, handler) }).message).toMatch(/reading it threw \(trap!\)/);
    const arrayTraps: ProxyHandler<unknown[]>[] = [{ get: boom }, { get: (t, k) => (k === 'length' ? 1e12 : Reflect.get(t, k)) }];
    expect(refusal(new Proxy([1], arrayTraps[0])).message).toMatch(/reading it threw \(trap!\)/);
    expect(refusal(new Proxy([1], arrayTraps[1])).message).toMatch(/an array of 1000000000000 elements/);
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(refusal({ r: proxy }).message).toMatch(/reading it threw .* at \$\.r/);
    expect(refusal({ get a() { throw new Error('getter!'); } }).message).toMatch(/reading it threw \(getter!\) at \$\.a/);
    // Thrown non-Errors, including ones whose own properties are hostile.
    expect(refusal({ get a() { throw Symbol('s'); } }).message).toMatch(/reading it threw/);
    const hostile = new Proxy({}, { get: boom, getPrototypeOf: boom });
    expect(refusal({ get a() { throw hostile; } }).message).toMatch(/reading it threw \(an exception that cannot be read\)/);
  });

  it('takes one consistent snapshot of a Proxy whose keys and values change between reads', () => {
    let reads = 0;
    const shifty = new Proxy({} as Record<string, unknown>, {
      ownKeys: () => (reads++ % 2 === 0 ? ['a', 'b'] : ['c']),
      getOwnPropertyDescriptor: () => ({ value: reads, enumerable: true, configurable: true, writable: true }),
      get: () => reads++,
    });
    const out = seal({ shifty }) as { shifty: Record<string, number> };
    expect(Object.keys(out.shifty)).toEqual(['a', 'b']);
    const snapshot = JSON.stringify(out);
    expect(JSON.stringify(out)).toBe(snapshot);
    expect(isDeepFrozen(out)).toBe(true);
    // A Proxy whose every read returns a new Proxy is bounded by the depth limit.
    const endless: object = new Proxy({}, { ownKeys: () => ['next'], getOwnPropertyDescriptor: () => ({ value: 1, enumerable: true, configurable: true }), get: () => endless2() });
    function endless2(): object {
      return new Proxy({}, { ownKeys: () => ['next'], getOwnPropertyDescriptor: () => ({ value: 1, enumerable: true, configurable: true }), get: () => endless2() });
    }
    expect(refusal(endless, 'LIMIT_EXCEEDED').message).toMatch(/nested deeper than/);
  });

  it('uses the code and subject it is given', () => {
    expect(() => sealJson({ f: () => 1 }, 'INVALID_PARAMETER', 'Parameter $1')).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER', message: expect.stringMatching(/^Parameter \$1: a function/) }));
  });
});

describe('freezeJsonInPlace', () => {
  it('deep-freezes a value the engine made, in place, and ends on cycles', () => {
    const v = JSON.parse('{"a":{"b":[1,{"c":2}]}}') as { a: object };
    expect(freezeJsonInPlace(v)).toBe(v);
    expect(isDeepFrozen(v)).toBe(true);
    expect(isSealedJson(v)).toBe(true);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(freezeJsonInPlace(cyclic)).toBe(cyclic);
    expect(Object.isFrozen(cyclic)).toBe(true);
    expect(freezeJsonInPlace({ bytes: new Uint8Array(3) })).toEqual({ bytes: new Uint8Array(3) });
    expect(freezeJsonInPlace(5)).toBe(5);
  });
});
