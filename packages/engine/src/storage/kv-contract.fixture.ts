/**
 * The behaviour every KvStore backend must show, as a test suite that each
 * backend's test file runs against itself. Not a test file on its own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isKalamError } from '../core/errors';
import type { KvStore, KvWrite } from './kv';
import { encodeKey, prefixUpperBound, type KeyPart } from './keys';

const k = (...parts: KeyPart[]) => encodeKey(parts);

async function collect(store: KvStore, storeName: KvWrite['store'], lower: Uint8Array, upper: Uint8Array) {
  const out: { key: Uint8Array; value: unknown }[] = [];
  await store.scan(storeName, { lower, upper }, (key, value) => out.push({ key: key.slice(), value }));
  return out;
}

async function expectKalamError(promise: Promise<unknown>, code: string) {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(isKalamError(error), `expected a KalamError, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

export function describeKvContract(label: string, open: () => Promise<KvStore>): void {
  describe(`${label}: KvStore contract`, () => {
    const opened: KvStore[] = [];
    const fresh = async () => {
      const store = await open();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
    });

    it('returns undefined for a key that was never written', async () => {
      const store = await fresh();
      expect(await store.get('user', k('t', 1))).toBeUndefined();
    });

    it('returns what was put, overwrites on a second put, and forgets a deleted key', async () => {
      const store = await fresh();
      await store.commit([{ store: 'user', key: k('t', 1), value: { title: 'a', n: 5n } }]);
      expect(await store.get('user', k('t', 1))).toEqual({ title: 'a', n: 5n });
      await store.commit([{ store: 'user', key: k('t', 1), value: { title: 'b' } }]);
      expect(await store.get('user', k('t', 1))).toEqual({ title: 'b' });
      await store.commit([{ store: 'user', key: k('t', 1) }]);
      expect(await store.get('user', k('t', 1))).toBeUndefined();
    });

    it('deleting a key that does not exist succeeds and changes nothing', async () => {
      const store = await fresh();
      await store.commit([{ store: 'user', key: k('t', 1), value: 1 }]);
      await store.commit([{ store: 'user', key: k('t', 2) }]);
      expect(await collect(store, 'user', k(), prefixUpperBound(k()))).toHaveLength(1);
    });

    it('keeps the stores apart: the same key in two stores holds two values', async () => {
      const store = await fresh();
      await store.commit([
        { store: 'user', key: k('x'), value: 'in user' },
        { store: 'shared', key: k('x'), value: 'in shared' },
      ]);
      expect(await store.get('user', k('x'))).toBe('in user');
      expect(await store.get('shared', k('x'))).toBe('in shared');
      expect(await store.get('system', k('x'))).toBeUndefined();
    });

    it('scans in key order with an inclusive lower and an exclusive upper bound', async () => {
      const store = await fresh();
      const ids = [5, -3, 12, 0, 7, 100, 2.5];
      await store.commit(ids.map((id) => ({ store: 'shared' as const, key: k('t', id), value: id })));
      const all = await collect(store, 'shared', k('t'), prefixUpperBound(k('t')));
      expect(all.map((e) => e.value)).toEqual([-3, 0, 2.5, 5, 7, 12, 100]);
      const middle = await collect(store, 'shared', k('t', 0), k('t', 12));
      expect(middle.map((e) => e.value)).toEqual([0, 2.5, 5, 7]);
      expect(middle[0].key).toEqual(k('t', 0));
    });

    it('visits nothing when the range is empty or reversed', async () => {
      const store = await fresh();
      await store.commit([{ store: 'user', key: k('a'), value: 1 }]);
      expect(await collect(store, 'user', k('a'), k('a'))).toEqual([]);
      expect(await collect(store, 'user', k('b'), k('a'))).toEqual([]);
    });

    it('scans exactly the keys under a tuple prefix', async () => {
      const store = await fresh();
      const keys: KeyPart[][] = [
        [1, 'alice', 'x'],
        [1, 'alice', 'y'],
        [1, 'alice\0', 'z'],
        [1, 'alic', 'w'],
        [1, 'alicea', 'v'],
        [1, 'alice'],
        [2, 'alice', 'x'],
        [0, 'alice', 'x'],
      ];
      await store.commit(keys.map((parts) => ({ store: 'user' as const, key: encodeKey(parts), value: parts.join('/') })));
      const prefix = k(1, 'alice');
      const seen = await collect(store, 'user', prefix, prefixUpperBound(prefix));
      expect(seen.map((e) => e.value)).toEqual(['1/alice', '1/alice/x', '1/alice/y']);
    });

    it('a store that takes range deletes deletes exactly the keys under a tuple prefix, atomically with the batch', async () => {
      const store = await fresh();
      if (!store.rangeDeletes) return expect(store.rangeDeletes).toBeFalsy();
      const keys: KeyPart[][] = [[1, 'S12'], [1, 'S12', 0], [1, 'S12', 1], [1, 'S123', 0], [1, 'S1', 0], [2, 'S12', 0]];
      await store.commit(keys.map((parts) => ({ store: 'segments' as const, key: encodeKey(parts), value: parts.join('/') })));
      const prefix = k(1, 'S12');
      await store.commit([{ store: 'segments', key: prefix, upper: prefixUpperBound(prefix) }, { store: 'user', key: k('x'), value: 1 }]);
      const seen = await collect(store, 'segments', k(0), k(3));
      expect(seen.map((e) => e.value)).toEqual(['1/S1/0', '1/S123/0', '2/S12/0']);
      expect(await store.get('user', k('x'))).toBe(1);
      // A range with a value, or an empty one, is refused and nothing of its batch applied.
      await expectKalamError(store.commit([{ store: 'user', key: k('y'), value: 2 }, { store: 'segments', key: k(2), upper: k(3), value: 1 }]), 'INTERNAL');
      await expectKalamError(store.commit([{ store: 'segments', key: k(3), upper: k(2) }]), 'INTERNAL');
      expect(await store.get('user', k('y'))).toBeUndefined();
    });

    it('scans ranges larger than one read batch completely and in order', async () => {
      const store = await fresh();
      const n = 2_345;
      const writes: KvWrite[] = [];
      for (let i = n - 1; i >= 0; i--) writes.push({ store: 'stream', key: k('big', i), value: { i } });
      await store.commit(writes);
      const seen = await collect(store, 'stream', k('big'), prefixUpperBound(k('big')));
      expect(seen).toHaveLength(n);
      seen.forEach((e, i) => expect(e.value).toEqual({ i }));
    });

    it('applies a batch across several stores, the later of two writes to one key winning', async () => {
      const store = await fresh();
      await store.commit([
        { store: 'system', key: k('a'), value: 1 },
        { store: 'user', key: k('b'), value: 2 },
        { store: 'system', key: k('a'), value: 3 },
        { store: 'segments', key: k('c'), value: new Uint8Array([1, 2, 3]) },
        { store: 'user', key: k('b') },
      ]);
      expect(await store.get('system', k('a'))).toBe(3);
      expect(await store.get('user', k('b'))).toBeUndefined();
      expect(await store.get('segments', k('c'))).toEqual(new Uint8Array([1, 2, 3]));
    });

    it('refuses a batch with a key that is not a Uint8Array and applies none of it', async () => {
      const store = await fresh();
      await store.commit([{ store: 'user', key: k('keep'), value: 'old' }]);
      const bad = [
        { store: 'user', key: k('keep'), value: 'new' },
        { store: 'user', key: k('other'), value: 1 },
        { store: 'user', key: 'not bytes', value: 2 },
      ] as unknown as KvWrite[];
      await expectKalamError(store.commit(bad), 'INTERNAL');
      expect(await store.get('user', k('keep'))).toBe('old');
      expect(await store.get('user', k('other'))).toBeUndefined();
    });

    it('refuses a batch naming an unknown store and applies none of it', async () => {
      const store = await fresh();
      const bad = [
        { store: 'user', key: k('a'), value: 1 },
        { store: 'nope', key: k('a'), value: 1 },
      ] as unknown as KvWrite[];
      await expectKalamError(store.commit(bad), 'INTERNAL');
      expect(await store.get('user', k('a'))).toBeUndefined();
    });

    it('refuses an empty key', async () => {
      const store = await fresh();
      await expectKalamError(store.commit([{ store: 'user', key: new Uint8Array(0), value: 1 }]), 'INTERNAL');
    });

    it('is not changed by later mutation of the committed batch or its key buffers', async () => {
      const store = await fresh();
      const key = k('m', 1);
      const writes: KvWrite[] = [{ store: 'user', key, value: 'v' }];
      await store.commit(writes);
      writes.push({ store: 'user', key: k('m', 2), value: 'late' });
      writes[0] = { store: 'user', key: k('m', 1) };
      key.fill(0x30);
      expect(await store.get('user', k('m', 1))).toBe('v');
      expect(await store.get('user', k('m', 2))).toBeUndefined();
      expect((await collect(store, 'user', k('m'), prefixUpperBound(k('m')))).map((e) => e.value)).toEqual(['v']);
    });

    it('finishes a scan in order when the visitor commits while it runs', async () => {
      const store = await fresh();
      await store.commit([0, 1, 2, 3, 4].map((i) => ({ store: 'user' as const, key: k('s', i), value: i })));
      const seen: number[] = [];
      const pending: Promise<void>[] = [];
      await store.scan('user', { lower: k('s'), upper: prefixUpperBound(k('s')) }, (_key, value) => {
        seen.push(value as number);
        if (value === 1) {
          // Inserts behind the scan position (shifting what follows) and rewrites a visited key.
          pending.push(store.commit([{ store: 'user', key: k('s', -1), value: -1 }, { store: 'user', key: k('s', 0), value: 'x' }]));
        }
      });
      await Promise.all(pending);
      expect(seen).toEqual([0, 1, 2, 3, 4]);
    });

    it('refuses every call after close with CLOSED', async () => {
      const store = await open();
      await store.close();
      await expectKalamError(store.get('user', k('a')), 'CLOSED');
      await expectKalamError(store.commit([{ store: 'user', key: k('a'), value: 1 }]), 'CLOSED');
      await expectKalamError(store.scan('user', { lower: k('a'), upper: k('b') }, () => undefined), 'CLOSED');
    });
  });
}
