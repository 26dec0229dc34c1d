import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { isKalamError } from '../core/errors';
import { openIdbStore, SCAN_BATCH } from './idb';
import { STORE_NAMES } from './kv';
import { encodeKey, prefixUpperBound } from './keys';
import { describeKvContract } from './kv-contract.fixture';

describeKvContract('idb', () => openIdbStore('contract', new IDBFactory()));

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (e) {
    expect(isKalamError(e)).toBe(true);
    return e as { code: string; message: string };
  }
  throw new Error('expected a rejection');
}

function rawOpen(factory: IDBFactory, name: string, version?: number): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = factory.open(name, version);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

describe('openIdbStore', () => {
  it('creates one database with exactly the kalamlite object stores', async () => {
    const factory = new IDBFactory();
    const store = await openIdbStore('shape', factory);
    expect(store.kind).toBe('idb');
    await store.close();
    const db = await rawOpen(factory, 'shape');
    expect([...db.objectStoreNames].sort()).toEqual([...STORE_NAMES].sort());
    db.close();
  });

  it('reads several keys in one transaction (getMany), in the order asked, undefined for an absent one', async () => {
    const store = await openIdbStore('many', new IDBFactory());
    await store.commit([{ store: 'segments', key: encodeKey([1]), value: new Uint8Array([1]) }, { store: 'segments', key: encodeKey([2]), value: 'two' }]);
    expect(await store.getMany!('segments', [encodeKey([2]), encodeKey([3]), encodeKey([1])])).toEqual(['two', undefined, new Uint8Array([1])]);
    expect(await store.getMany!('segments', [])).toEqual([]);
    await store.close();
  });

  it('keeps committed data across close and reopen of the same name', async () => {
    const factory = new IDBFactory();
    const first = await openIdbStore('persist', factory);
    await first.commit([
      { store: 'user', key: encodeKey(['t', 1n]), value: { n: 1n, b: new Uint8Array([9]) } },
      { store: 'system', key: encodeKey(['catalog']), value: ['a', 'b'] },
    ]);
    await first.close();
    const second = await openIdbStore('persist', factory);
    expect(await second.get('user', encodeKey(['t', 1n]))).toEqual({ n: 1n, b: new Uint8Array([9]) });
    expect(await second.get('system', encodeKey(['catalog']))).toEqual(['a', 'b']);
    await second.close();
  });

  it('keeps databases of different names apart', async () => {
    const factory = new IDBFactory();
    const a = await openIdbStore('a', factory);
    const b = await openIdbStore('b', factory);
    await a.commit([{ store: 'user', key: encodeKey([1]), value: 'a' }]);
    expect(await b.get('user', encodeKey([1]))).toBeUndefined();
    await a.close();
    await b.close();
  });

  it('hands scan keys back as Uint8Arrays equal to the keys written', async () => {
    const factory = new IDBFactory();
    const store = await openIdbStore('keys', factory);
    const key = encodeKey(['k', 'é', 3.5, null]);
    await store.commit([{ store: 'shared', key, value: 1 }]);
    const keys: Uint8Array[] = [];
    await store.scan('shared', { lower: encodeKey(['k']), upper: prefixUpperBound(encodeKey(['k'])) }, (k) => keys.push(k));
    expect(keys).toHaveLength(1);
    expect(keys[0]).toBeInstanceOf(Uint8Array);
    expect([...keys[0]]).toEqual([...key]);
    await store.close();
  });

  it('scans from the start of a store when the lower bound is empty', async () => {
    const store = await openIdbStore('empty-lower', new IDBFactory());
    await store.commit([{ store: 'user', key: encodeKey([null]), value: 'first' }, { store: 'user', key: encodeKey(['z']), value: 'last' }]);
    const seen: unknown[] = [];
    await store.scan('user', { lower: new Uint8Array(0), upper: new Uint8Array([0xff]) }, (_k, v) => seen.push(v));
    expect(seen).toEqual(['first', 'last']);
    await store.close();
  });

  it('reads a scan of exactly one full batch and the boundary key once', async () => {
    const store = await openIdbStore('batch-edge', new IDBFactory());
    const writes = [];
    for (let i = 0; i < SCAN_BATCH * 2; i++) writes.push({ store: 'user' as const, key: encodeKey([i]), value: i });
    await store.commit(writes);
    const seen: number[] = [];
    await store.scan('user', { lower: encodeKey([0]), upper: encodeKey([SCAN_BATCH * 2]) }, (_k, v) => seen.push(v as number));
    expect(seen).toEqual(writes.map((w) => w.value));
    await store.close();
  });

  it('rolls back the whole batch when IndexedDB cannot copy a value, as STORAGE_ERROR', async () => {
    const store = await openIdbStore('clone', new IDBFactory());
    await store.commit([{ store: 'user', key: encodeKey([1]), value: 'old' }]);
    const error = await rejection(
      store.commit([
        { store: 'user', key: encodeKey([1]), value: 'new' },
        { store: 'shared', key: encodeKey([2]), value: 2 },
        { store: 'user', key: encodeKey([3]), value: { f: () => 1 } },
      ]),
    );
    expect(error.code).toBe('STORAGE_ERROR');
    expect(error.message).toMatch(/Nothing of this write was saved/);
    expect(await store.get('user', encodeKey([1]))).toBe('old');
    expect(await store.get('shared', encodeKey([2]))).toBeUndefined();
    await store.close();
  });

  it('closes itself when another connection upgrades the database, then asks for a reload', async () => {
    const factory = new IDBFactory();
    const store = await openIdbStore('upgrade', factory);
    const newer = await rawOpen(factory, 'upgrade', 2);
    newer.close();
    const error = await rejection(store.get('user', encodeKey([1])));
    expect(error.code).toBe('STORAGE_ERROR');
    expect(error.message).toMatch(/Reload this page/);
  });

  it('reports a database written by a newer version as STORAGE_ERROR', async () => {
    const factory = new IDBFactory();
    (await rawOpen(factory, 'future', 5)).close();
    const error = await rejection(openIdbStore('future', factory));
    expect(error.code).toBe('STORAGE_ERROR');
    expect(error.message).toMatch(/newer version/);
  });

  it('refuses a database of the same name that lacks the kalamlite stores', async () => {
    const factory = new IDBFactory();
    (await rawOpen(factory, 'foreign', 1)).close();
    const error = await rejection(openIdbStore('foreign', factory));
    expect(error.code).toBe('STORAGE_ERROR');
    expect(error.message).toMatch(/not made by kalamlite/);
  });
});
