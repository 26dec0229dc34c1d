import { describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import type { SegmentStore } from './cold/types';
import { guardSegmentStore, guardStore, lateOutcome } from './guarded-store';
import { encodeKey, prefixUpperBound } from './keys';
import type { KvStore } from './kv';
import { openMemoryStore } from './memory';

const key = encodeKey([1]);
const all = { lower: new Uint8Array([0]), upper: new Uint8Array([0xff]) };

/** A store each of whose operations does what `behave` says. */
function storeThat(behave: (op: string) => Promise<never> | undefined, inner: KvStore = openMemoryStore()): KvStore {
  return {
    kind: 'memory',
    get: (s, k) => behave('get') ?? inner.get(s, k),
    scan: (s, r, v) => behave('scan') ?? inner.scan(s, r, v),
    commit: (w) => behave('commit') ?? inner.commit(w),
    close: () => behave('close') ?? inner.close(),
  };
}

async function failure(p: Promise<unknown>): Promise<KalamError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(KalamError);
  return e as KalamError;
}

const never = () => new Promise<never>(() => undefined);

describe('the guarding store: errors', () => {
  const thrown: [string, unknown, RegExp][] = [
    ['an Error', new Error('disk on fire'), /disk on fire/],
    ['a TypeError', new TypeError('x is not a function'), /TypeError: x is not a function/],
    ['a string', 'no space left', /no space left/],
    ['a plain object with a message', { name: 'NotReadableError', message: 'the file was removed' }, /NotReadableError: the file was removed/],
    ['undefined', undefined, /the value undefined was thrown/],
    ['a number', 42, /the value 42 was thrown/],
    ['a Proxy whose traps throw', new Proxy({}, { get() { throw new Error('trap'); }, getPrototypeOf() { throw new Error('trap'); } }), /cannot be read/],
  ];

  it.each(thrown)('maps %s thrown by any operation to STORAGE_ERROR naming the operation, the backend and its error', async (_what, error, detail) => {
    const kv = guardStore(storeThat(() => Promise.reject(error)), { backend: 'custom KvStore', timeoutMs: 1000 });
    const cases: [() => Promise<unknown>, RegExp][] = [
      [() => kv.get('user', key), /reading from the 'user' store/],
      [() => kv.scan('shared', all, () => undefined), /scanning the 'shared' store/],
      [() => kv.commit([{ store: 'user', key, value: 1 }]), /committing 1 write\(s\)/],
      [() => kv.close(), /closing the database/],
    ];
    for (const [op, action] of cases) {
      const e = await failure(op());
      expect(e.code).toBe('STORAGE_ERROR');
      expect(e.message).toMatch(action);
      expect(e.message).toMatch(/custom KvStore/);
      expect(e.message).toMatch(detail);
      expect(e.message).not.toMatch(/bug in kalamlite/);
    }
  });

  it('maps a synchronous throw the same way', async () => {
    const kv = guardStore({ ...openMemoryStore(), kind: 'memory', commit: () => { throw new Error('sync'); } }, { backend: 'memory', timeoutMs: 1000 });
    const e = await failure(kv.commit([]));
    expect([e.code, e.message]).toEqual(['STORAGE_ERROR', expect.stringMatching(/committing 0 write\(s\) \(memory\): sync/)]);
  });

  it('maps a quota failure to QUOTA_EXCEEDED', async () => {
    const quota = Object.assign(new Error('full'), { name: 'QuotaExceededError' });
    const kv = guardStore(storeThat(() => Promise.reject(quota)), { backend: 'OPFS "x"', timeoutMs: 1000 });
    expect((await failure(kv.commit([]))).code).toBe('QUOTA_EXCEEDED');
    const dom = guardStore(storeThat(() => Promise.reject(new DOMException('q', 'QuotaExceededError'))), { backend: 'x', timeoutMs: 1000 });
    expect((await failure(dom.commit([]))).code).toBe('QUOTA_EXCEEDED');
  });

  it('passes a KalamError the backend threw through unchanged', async () => {
    const own = new KalamError('STORAGE_ERROR', 'The disk is full');
    const kv = guardStore(storeThat(() => Promise.reject(own)), { backend: 'x', timeoutMs: 1000 });
    expect(await failure(kv.commit([]))).toBe(own);
    const closed = new KalamError('CLOSED', 'closed');
    const c = guardStore(storeThat(() => Promise.reject(closed)), { backend: 'x', timeoutMs: 1000 });
    expect(await failure(c.get('user', key))).toBe(closed);
  });

  it("passes a scan visitor's own error through as it is: it is the caller's, not the storage's", async () => {
    const inner = openMemoryStore();
    await inner.commit([{ store: 'user', key, value: 1 }]);
    const kv = guardStore(inner, { backend: 'memory', timeoutMs: 1000 });
    const mine = new TypeError('visitor bug');
    const e = await kv.scan('user', all, () => {
      throw mine;
    }).then(() => undefined, (x: unknown) => x);
    expect(e).toBe(mine);
  });

  it('keeps the kind and the durability hint of the store it wraps, and wraps a store once', () => {
    const seen: string[] = [];
    const inner: KvStore = { ...openMemoryStore(), kind: 'idb', setDurability: (d) => void seen.push(d) };
    const kv = guardStore(inner, { backend: 'x', timeoutMs: 1000 });
    expect(kv.kind).toBe('idb');
    kv.setDurability!('strict');
    expect(seen).toEqual(['strict']);
    expect(guardStore(kv, { backend: 'y', timeoutMs: 5 })).toBe(kv);
    expect(guardStore(openMemoryStore(), { backend: 'x', timeoutMs: 1 }).setDurability).toBeUndefined();
  });

  it('reads and writes through to the store it wraps', async () => {
    const kv = guardStore(openMemoryStore(), { backend: 'memory', timeoutMs: 1000 });
    await kv.commit([{ store: 'user', key, value: 'v' }]);
    expect(await kv.get('user', key)).toBe('v');
    const seen: unknown[] = [];
    await kv.scan('user', { lower: key, upper: prefixUpperBound(key) }, (_k, v) => seen.push(v));
    expect(seen).toEqual(['v']);
    await kv.close();
  });
});

describe('the guarding store: time-outs', () => {
  it('fails a get, a commit and a close that never settle with STORAGE_TIMEOUT after timeoutMs', async () => {
    const kv = guardStore(storeThat(never), { backend: 'custom KvStore', timeoutMs: 30 });
    for (const op of [() => kv.get('user', key), () => kv.commit([]), () => kv.close()]) {
      const started = performance.now();
      const e = await failure(op());
      expect(e.code).toBe('STORAGE_TIMEOUT');
      expect(e.message).toMatch(/within 30 ms \(storageTimeoutMs\)/);
      expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    }
  });

  it("keeps a timed-out commit's late outcome: true when it completes after all, false when it fails", async () => {
    let settle: { resolve(): void; reject(e: unknown): void } | undefined;
    const inner = storeThat((op) => (op === 'commit' ? new Promise<never>((resolve, reject) => (settle = { resolve: resolve as () => void, reject })) : undefined));
    const kv = guardStore(inner, { backend: 'x', timeoutMs: 20 });

    const landed = await failure(kv.commit([]));
    expect(landed.message).toMatch(/outcome is unknown/);
    const outcome = lateOutcome(landed)!;
    settle!.resolve();
    expect(await outcome).toBe(true);

    const failed = await failure(kv.commit([]));
    settle!.reject(new Error('late failure'));
    expect(await lateOutcome(failed)!).toBe(false);

    expect(lateOutcome(new KalamError('STORAGE_TIMEOUT', 'a backend timing out on its own'))).toBeUndefined();
    expect(lateOutcome(new Error('x'))).toBeUndefined();
  });

  it('does not time out a scan that keeps visiting entries, and times out one that stops making progress, visiting nothing after', async () => {
    const inner = openMemoryStore();
    await inner.commit([1, 2, 3, 4, 5].map((i) => ({ store: 'user' as const, key: encodeKey([i]), value: i })));
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const slow: KvStore = {
      ...inner,
      kind: 'memory',
      async scan(s, r, visit) {
        const entries: [Uint8Array, unknown][] = [];
        await inner.scan(s, r, (k, v) => entries.push([k, v]));
        const delays = [15, 15, 15, 200, 15]; // the 4th entry stalls
        for (let i = 0; i < entries.length; i++) {
          await pause(delays[i]);
          visit(entries[i][0], entries[i][1]);
        }
      },
    };
    const kv = guardStore(slow, { backend: 'x', timeoutMs: 60 });
    const seen: unknown[] = [];
    const e = await failure(kv.scan('user', all, (_k, v) => seen.push(v)));
    expect(e.code).toBe('STORAGE_TIMEOUT');
    expect(seen).toEqual([1, 2, 3]); // three entries over ~45 ms: progress; then a stall of 200 ms
    await pause(300);
    expect(seen).toEqual([1, 2, 3]); // the abandoned scan delivers nothing more
  });
});

describe('the guarding segment store', () => {
  it('maps failures of a custom segment store and bounds its operations', async () => {
    const k = { tableId: 1, user: '', segmentId: 'S1' };
    const ref = { ...k, format: 2 as const, groups: 1 };
    const failing: SegmentStore = {
      readGroups: () => Promise.reject(new Error('gone')),
      get: () => Promise.reject('a string'),
      put: () => Promise.reject(Object.assign(new Error('full'), { name: 'QuotaExceededError' })),
      delete: never,
      list: () => { throw new TypeError('no directory'); },
      close: never,
    };
    const store = guardSegmentStore(failing, { backend: 'custom segment store', timeoutMs: 20 });
    const read = await failure(store.readGroups(k, [{ index: 0, offset: 0, bytes: 1 }]));
    expect([read.code, read.message]).toEqual(['STORAGE_ERROR', expect.stringMatching(/reading 1 row group\(s\) of segment S1 of table 1 \(custom segment store\): gone/)]);
    expect((await failure(store.get(k))).message).toMatch(/reading segment S1 of table 1 \(custom segment store\): a string/);
    expect((await failure(store.put!(k, [new Uint8Array(1)]))).code).toBe('QUOTA_EXCEEDED');
    expect((await failure(store.delete!([ref]))).code).toBe('STORAGE_TIMEOUT');
    expect((await failure(store.list!())).message).toMatch(/listing the segments .*TypeError: no directory/);
    expect((await failure(Promise.resolve(store.close!()))).code).toBe('STORAGE_TIMEOUT');
    expect(store.write).toBeUndefined();
    expect(store.remove).toBeUndefined();

    const writing = guardSegmentStore(
      { readGroups: async () => [], get: async () => undefined, write: () => { throw new Error('bad key'); }, remove: () => { throw new Error('bad ref'); } },
      { backend: 'custom segment store', timeoutMs: 20 },
    );
    expect(() => writing.write!(k, [new Uint8Array(1)])).toThrow(expect.objectContaining({ code: 'STORAGE_ERROR', message: expect.stringMatching(/preparing the write of segment S1/) }));
    expect(() => writing.remove!(ref)).toThrow(expect.objectContaining({ code: 'STORAGE_ERROR', message: expect.stringMatching(/preparing the removal of segment S1/) }));
  });
});
