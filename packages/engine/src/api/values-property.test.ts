/**
 * Property: for random JSON-ish values — hostile ones included (cycles
 * built after generation, Proxies, throwing getters, NaN, -0, holes, Dates,
 * bigints, class instances) — inserting into a JSON column and reading back
 * gives either a KalamError with a non-INTERNAL code or a deep-equal,
 * deep-frozen copy that mutating the input afterwards does not change. Then
 * memory equals disk: after a reopen of the IndexedDB database every
 * accepted value reads back the same.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import { openDatabase } from './database';

/** A generated value, described so that the expected stored JSON can be derived from it. */
type Node =
  | { k: 'str'; v: string }
  | { k: 'num'; v: number }
  | { k: 'bool'; v: boolean }
  | { k: 'null' }
  | { k: 'undef' }
  | { k: 'bigint'; v: bigint }
  | { k: 'date'; t: number }
  | { k: 'fn' }
  | { k: 'sym' }
  | { k: 'map' }
  | { k: 'bytes' }
  | { k: 'arr'; items: Node[]; hole: boolean }
  | { k: 'obj'; entries: [string, Node][]; getter: 'none' | 'ok' | 'throws' }
  | { k: 'proxy'; inner: Extract<Node, { k: 'arr' | 'obj' }>; mode: 'transparent' | 'throwGet' | 'throwKeys' | 'shrinkingKeys' };

const NOT_JSON = Symbol('not JSON');
type Expected = unknown | typeof NOT_JSON;

const key = fc.oneof(fc.constantFrom('a', 'b', '__proto__', 'constructor', 'toString', ''), fc.string({ maxLength: 4 }));

const tree = fc.letrec<{ node: Node; container: Extract<Node, { k: 'arr' | 'obj' }> }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    // JSON most of the time, so that whole documents are often valid; the rest hostile or not JSON.
    { arbitrary: fc.string({ maxLength: 6 }).map((v): Node => ({ k: 'str', v })), weight: 4 },
    { arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((v): Node => ({ k: 'num', v })), weight: 3 },
    { arbitrary: fc.constantFrom(0, -0, 1, 2 ** 53).map((v): Node => ({ k: 'num', v })), weight: 3 },
    { arbitrary: fc.boolean().map((v): Node => ({ k: 'bool', v })), weight: 2 },
    { arbitrary: fc.constant<Node>({ k: 'null' }), weight: 2 },
    { arbitrary: fc.maxSafeInteger().map((t): Node => ({ k: 'date', t: t % 8.64e15 })), weight: 1 },
    { arbitrary: fc.constantFrom<Node>({ k: 'undef' }, { k: 'num', v: Number.NaN }, { k: 'num', v: Number.NEGATIVE_INFINITY }, { k: 'date', t: Number.NaN }), weight: 1 },
    { arbitrary: fc.bigInt({ min: -5n, max: 5n }).map((v): Node => ({ k: 'bigint', v })), weight: 1 },
    { arbitrary: fc.constantFrom<Node>({ k: 'fn' }, { k: 'sym' }, { k: 'map' }, { k: 'bytes' }), weight: 1 },
    { arbitrary: tie('container'), weight: 4 },
    {
      arbitrary: fc
        .tuple(tie('container'), fc.constantFrom('transparent', 'throwGet', 'throwKeys', 'shrinkingKeys') as fc.Arbitrary<'transparent' | 'throwGet' | 'throwKeys' | 'shrinkingKeys'>)
        .map(([inner, mode]): Node => ({ k: 'proxy', inner, mode })),
      weight: 2,
    },
  ),
  container: fc.oneof(
    { depthSize: 'small' },
    fc.tuple(fc.array(tie('node'), { maxLength: 4 }), fc.integer({ min: 0, max: 5 })).map(([items, hole]) => ({ k: 'arr' as const, items, hole: hole === 0 && items.length > 0 })),
    fc
      .tuple(fc.uniqueArray(fc.tuple(key, tie('node')), { maxLength: 4, selector: ([k]) => k }), fc.constantFrom('none', 'none', 'none', 'ok', 'throws') as fc.Arbitrary<'none' | 'ok' | 'throws'>)
      .map(([entries, getter]) => ({ k: 'obj' as const, entries, getter })),
  ),
}));

function build(n: Node): unknown {
  switch (n.k) {
    case 'str': case 'num': case 'bool': case 'bigint': return n.v;
    case 'null': return null;
    case 'undef': return undefined;
    case 'date': return new Date(n.t);
    case 'fn': return () => 1;
    case 'sym': return Symbol('s');
    case 'map': return new Map([[1, 2]]);
    case 'bytes': return new Uint8Array([1, 2]);
    case 'arr': {
      const a = n.items.map(build);
      if (n.hole) delete a[0];
      return a;
    }
    case 'obj': {
      const o: Record<string, unknown> = {};
      for (const [k, v] of n.entries) Object.defineProperty(o, k, { value: build(v), enumerable: true, writable: true, configurable: true });
      if (n.getter === 'ok') Object.defineProperty(o, 'g', { get: () => 'got', enumerable: true, configurable: true });
      if (n.getter === 'throws') Object.defineProperty(o, 'g', { get: () => { throw new Error('getter'); }, enumerable: true, configurable: true });
      return o;
    }
    case 'proxy': {
      const target = build(n.inner) as object;
      const boom = () => {
        throw new Error('trap');
      };
      switch (n.mode) {
        case 'transparent': return new Proxy(target, {});
        case 'throwGet': return new Proxy(target, { get: boom });
        case 'throwKeys': return new Proxy(target, { ownKeys: boom });
        case 'shrinkingKeys': {
          let reads = 0;
          return new Proxy(target, { ownKeys: (t) => (reads++ === 0 ? Reflect.ownKeys(t) : []) });
        }
      }
    }
  }
}

/** What the engine stores for the value `n` describes (JSON rules of core/json.ts), or NOT_JSON. */
function expected(n: Node): Expected {
  switch (n.k) {
    case 'str': case 'bool': return n.v;
    case 'num': return Number.isFinite(n.v) ? n.v + 0 : NOT_JSON;
    case 'null': return null;
    case 'date': return Number.isNaN(n.t) ? NOT_JSON : new Date(n.t).toISOString();
    case 'undef': case 'bigint': case 'fn': case 'sym': case 'map': case 'bytes': return NOT_JSON;
    case 'arr': {
      if (n.hole) return NOT_JSON;
      const out: unknown[] = [];
      for (const item of n.items) {
        const e = expected(item);
        if (e === NOT_JSON) return NOT_JSON;
        out.push(e);
      }
      return out;
    }
    case 'obj': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of n.entries) {
        if (v.k === 'undef') continue; // left out, as JSON.stringify does
        const e = expected(v);
        if (e === NOT_JSON) return NOT_JSON;
        Object.defineProperty(out, k, { value: e, enumerable: true, writable: true, configurable: true });
      }
      if (n.getter === 'throws') return NOT_JSON;
      if (n.getter === 'ok') out.g = 'got';
      return out;
    }
    case 'proxy': {
      const inner = expected(n.inner);
      if (inner === NOT_JSON) return NOT_JSON;
      const inner0 = n.inner;
      const isArray = inner0.k === 'arr';
      const isEmpty = inner0.k === 'obj' && inner0.entries.length === 0 && inner0.getter === 'none';
      if (n.mode === 'throwGet' && !isEmpty) return NOT_JSON; // arrays read their length through get
      if (n.mode === 'throwKeys' && !isArray) return NOT_JSON; // arrays are read by index, objects by their keys
      return inner;
    }
  }
}

/** Tries to change everything reachable in a value the caller still holds (whatever it throws is ignored). */
function mutate(v: unknown, seen = new Set<unknown>()): void {
  if (typeof v !== 'object' || v === null || seen.has(v)) return;
  seen.add(v);
  try {
    if (v instanceof Date) v.setTime(0);
    else if (v instanceof Uint8Array) v.fill(9);
    else if (Array.isArray(v)) {
      for (const x of v) mutate(x, seen);
      v.push('pushed');
      v[0] = 'changed';
    } else {
      for (const k of Object.keys(v)) {
        mutate((v as Record<string, unknown>)[k], seen);
        (v as Record<string, unknown>)[k] = 'changed';
      }
      (v as Record<string, unknown>).added = 'added';
    }
  } catch {
    // a Proxy or getter that refuses: nothing to change there
  }
}

/** Only plain objects and arrays, all the way down. */
function isPlain(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return true;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === Array.prototype) && Object.values(v).every(isPlain);
}

function isDeepFrozen(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return true;
  return Object.isFrozen(v) && Object.values(v).every(isDeepFrozen);
}

describe('JSON values through the engine (property)', () => {
  it('are refused with a non-INTERNAL KalamError or stored as a deep-frozen copy the caller cannot change; memory equals disk', async () => {
    const indexedDB = new IDBFactory();
    const name = 'json-property';
    const db = await openDatabase({ storage: 'idb', name, indexedDB });
    const admin = db.session({ user: 'root', role: 'dba' });
    await admin.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.docs (id INT PRIMARY KEY, j JSON)');
    const accepted = new Map<number, unknown>();
    let nextId = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(tree.container, fc.boolean(), async (node, cyclic) => {
        const id = ++nextId;
        const value = build(node);
        let want = expected(node);
        if (cyclic && typeof value === 'object' && value !== null && !(node.k === 'arr' && node.hole)) {
          // A cycle made after generation: the value contains itself.
          if (Array.isArray(value)) value.push(value);
          else Object.defineProperty(value, 'loop', { value, enumerable: true, configurable: true, writable: true });
          want = NOT_JSON;
        }
        let error: unknown;
        try {
          await admin.execute('INSERT INTO app.docs (id, j) VALUES ($1, $2)', [id, value as Value]);
        } catch (e) {
          error = e;
        }
        if (error !== undefined) {
          expect(error).toBeInstanceOf(KalamError);
          expect(['INVALID_PARAMETER', 'TYPE_MISMATCH']).toContain((error as KalamError).code);
          expect(want).toBe(NOT_JSON);
          refused++;
          return;
        }
        expect(want).not.toBe(NOT_JSON);
        const read = async () => (await admin.query('SELECT j FROM app.docs WHERE id = $1', [id])).rows[0].j;
        const stored = await read();
        expect(stored).toEqual(want); // toEqual tells -0 from 0; toStrictEqual would compare a 'constructor' key as the class
        expect(isDeepFrozen(stored)).toBe(true);
        expect(isPlain(stored)).toBe(true);
        mutate(value);
        expect(await read()).toEqual(want);
        accepted.set(id, want);
      }),
      { numRuns: 500, seed: 12 },
    );
    expect(accepted.size).toBeGreaterThan(30);
    expect(refused).toBeGreaterThan(30);
    await db.close();
    const again = await openDatabase({ storage: 'idb', name, indexedDB });
    const rows = (await again.session({ user: 'root', role: 'dba' }).query('SELECT id, j FROM app.docs ORDER BY id')).rows;
    expect(new Map(rows.map((r) => [r.id as number, r.j]))).toEqual(accepted);
    await again.close();
  });
});
