import { describe, expect, it, vi } from 'vitest';
import { isKalamError } from '../core/errors';
import { encodeKey, prefixUpperBound } from './keys';
import { describeKvContract } from './kv-contract.fixture';
import type { KvStore, KvWrite } from './kv';
import { LogStore, logFileName, RELAXED_FLUSH_MS } from './opfs-log';
import { FakeDirectory } from './opfs.fixture';

describeKvContract('opfs log (fake directory)', () => LogStore.open(new FakeDirectory()));

const k = (...parts: (string | number)[]) => encodeKey(parts);

async function all(store: KvStore, name: KvWrite['store'] = 'user'): Promise<[string, unknown][]> {
  const out: [string, unknown][] = [];
  await store.scan(name, { lower: new Uint8Array(0), upper: new Uint8Array([0xff, 0xff]) }, (key, value) => out.push([Buffer.from(key).toString('hex'), value]));
  return out;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    expect(isKalamError(e)).toBe(true);
    return (e as { code: string }).code;
  }
  throw new Error('expected a rejection');
}

describe('OPFS log store', () => {
  it('replays committed batches after a reopen, deletes included', async () => {
    const dir = new FakeDirectory();
    const a = await LogStore.open(dir);
    await a.commit([{ store: 'user', key: k(1), value: [1, 'a', 5n] }, { store: 'shared', key: k(2), value: { x: 1 } }]);
    await a.commit([{ store: 'user', key: k(3), value: [3] }, { store: 'user', key: k(1) }]);
    await a.close();
    const b = await LogStore.open(dir);
    expect(await b.get('user', k(1))).toBeUndefined();
    expect(await b.get('user', k(3))).toEqual([3]);
    expect(await b.get('shared', k(2))).toEqual({ x: 1 });
    expect(b.stats().truncatedBytes).toBe(0);
    await b.close();
  });

  it('with strict durability, acknowledges a commit only after a flush of the record that holds it', async () => {
    const dir = new FakeDirectory();
    const store = await LogStore.open(dir, { durability: 'strict' });
    const flushes = dir.flushes;
    await store.commit([{ store: 'user', key: k(1), value: 1 }]);
    expect(dir.flushes).toBe(flushes + 1);
    dir.crash(); // a power loss drops everything not flushed: the acknowledged write stays
    const again = await LogStore.open(dir);
    expect(await again.get('user', k(1))).toBe(1);
  });

  it('with relaxed durability (the default), writes each commit at once and flushes within RELAXED_FLUSH_MS and at close', async () => {
    vi.useFakeTimers();
    try {
      const dir = new FakeDirectory();
      const store = await LogStore.open(dir);
      const flushes = dir.flushes;
      await store.commit([{ store: 'user', key: k(1), value: 1 }]);
      await store.commit([{ store: 'user', key: k(2), value: 2 }]);
      expect(dir.flushes).toBe(flushes);
      // A crash of the worker or the browser keeps what was written (the operating system has it).
      const copy = dir.clone();
      copy.crash((unflushed) => unflushed);
      const afterCrash = await LogStore.open(copy);
      expect(await afterCrash.get('user', k(2))).toBe(2);
      await afterCrash.close();
      vi.advanceTimersByTime(RELAXED_FLUSH_MS);
      expect(dir.flushes).toBe(flushes + 1);
      await store.commit([{ store: 'user', key: k(3), value: 3 }]);
      await store.close();
      expect(dir.flushes).toBe(flushes + 2);
      dir.crash(); // a power loss after close loses nothing
      const again = await LogStore.open(dir);
      expect(await all(again)).toHaveLength(3);
      await again.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('drops a torn last batch whole and truncates the file after the last complete one', async () => {
    for (const cut of [1, 4, 8, 9, 20, 'all-but-one'] as const) {
      const dir = new FakeDirectory();
      const store = await LogStore.open(dir);
      await store.commit([{ store: 'user', key: k(1), value: 'kept' }]);
      const name = logFileName(1);
      const before = dir.files.get(name)!.data.length;
      await store.commit([{ store: 'user', key: k(2), value: 'torn' }, { store: 'user', key: k(3), value: 'x'.repeat(100) }]);
      const full = dir.files.get(name)!.data.length - before;
      // Pretend the second record was never flushed, and a prefix of it reached the disk.
      const f = dir.files.get(name)!;
      f.durable = f.data.slice(0, before);
      dir.crash(() => (cut === 'all-but-one' ? full - 1 : cut));
      const reopened = await LogStore.open(dir);
      expect(await all(reopened)).toEqual([[Buffer.from(k(1)).toString('hex'), 'kept']]);
      expect(reopened.stats().truncatedBytes).toBe(cut === 'all-but-one' ? full - 1 : cut);
      expect(dir.files.get(name)!.data.length).toBe(before);
      // The log stays appendable after the cut.
      await reopened.commit([{ store: 'user', key: k(4), value: 'after' }]);
      await reopened.close();
      const third = await LogStore.open(dir);
      expect(await third.get('user', k(4))).toBe('after');
      await third.close();
    }
  });

  it('drops a record whose checksum does not match, and everything after it', async () => {
    const dir = new FakeDirectory();
    const store = await LogStore.open(dir);
    await store.commit([{ store: 'user', key: k(1), value: 'a' }]);
    const f = dir.files.get(logFileName(1))!;
    const second = f.data.length;
    await store.commit([{ store: 'user', key: k(2), value: 'b' }]);
    await store.commit([{ store: 'user', key: k(3), value: 'c' }]);
    await store.close();
    f.data[second + 12] ^= 0xff; // a byte inside the second record's payload
    const reopened = await LogStore.open(dir);
    expect((await all(reopened)).map(([, v]) => v)).toEqual(['a']);
  });

  it.each([
    ['strict', 'power losses that keep a torn part of what was not flushed'],
    ['relaxed', 'crashes of the worker or browser (everything written is kept)'],
  ] as const)('with %s durability survives random %s: every acknowledged batch is there, no batch is partial', async (durability, _crashes) => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const dir = new FakeDirectory();
    const acknowledged = new Set<number>();
    let batch = 0;
    for (let round = 0; round < 40; round++) {
      const store = await LogStore.open(dir, { compactMinBytes: 2048, durability });
      const rows = await all(store);
      // Atomic: each batch's 3 rows are all there or none are.
      const counts = new Map<number, number>();
      for (const [, v] of rows) counts.set((v as number[])[0], (counts.get((v as number[])[0]) ?? 0) + 1);
      for (const [b, n] of counts) expect(n, `batch ${b}`).toBe(3);
      for (const b of acknowledged) expect(counts.get(b), `acknowledged batch ${b}`).toBe(3);
      const pending: Promise<void>[] = [];
      const n = 1 + Math.floor(random() * 5);
      for (let i = 0; i < n; i++) {
        const b = batch++;
        const writes: KvWrite[] = [0, 1, 2].map((j) => ({ store: 'user', key: k(b, j), value: [b, j, 'v'.repeat(Math.floor(random() * 200))] }));
        // Sometimes delete a whole earlier batch in the same commit.
        if (b > 3 && random() < 0.3) {
          const old = Math.floor(random() * (b - 1));
          if (acknowledged.has(old)) {
            acknowledged.delete(old);
            for (const j of [0, 1, 2]) writes.push({ store: 'user', key: k(old, j) });
          }
        }
        pending.push(store.commit(writes).then(() => void acknowledged.add(b)));
        if (random() < 0.5) await pending[pending.length - 1];
      }
      await Promise.allSettled(pending);
      dir.crash(durability === 'strict' ? (unflushed) => Math.floor(random() * (unflushed + 1)) : (unflushed) => unflushed);
    }
    const last = await LogStore.open(dir);
    expect((await all(last)).length).toBeGreaterThan(0);
  });

  it('compacts into a new generation with the same content, and deletes the old file', async () => {
    const dir = new FakeDirectory();
    const store = (await LogStore.open(dir, { compactMinBytes: 4096, compactRatio: 2 })) as LogStore;
    for (let round = 0; round < 50; round++) {
      await store.commit([0, 1, 2, 3].map((i) => ({ store: 'user' as const, key: k(i), value: [round, i, 'x'.repeat(50)] })));
    }
    const stats = store.stats();
    expect(stats.compactions).toBeGreaterThan(0);
    expect(stats.fileBytes).toBeLessThan(4096 * 2);
    expect([...dir.files.keys()]).toEqual([logFileName(stats.generation)]);
    const expected = await all(store);
    expect(expected.map(([, v]) => v)).toEqual([0, 1, 2, 3].map((i) => [49, i, 'x'.repeat(50)]));
    await store.close();
    const reopened = await LogStore.open(dir);
    expect(await all(reopened)).toEqual(expected);
  });

  it('ignores an unfinished compaction at open: a newer file without a valid header is deleted', async () => {
    const dir = new FakeDirectory();
    const store = await LogStore.open(dir);
    await store.commit([{ store: 'user', key: k(1), value: 'data' }]);
    await store.close();
    // A compaction that crashed before writing its header: zeros up front, some records after.
    const next = await dir.open(logFileName(2));
    next.write(new Uint8Array(40).fill(1), { at: 16 });
    next.flush();
    next.close();
    const reopened = await LogStore.open(dir);
    expect(await reopened.get('user', k(1))).toBe('data');
    expect([...dir.files.keys()]).toEqual([logFileName(1)]);
  });

  it('opens the newest complete generation when a crash left the old file beside it', async () => {
    const dir = new FakeDirectory();
    const store = (await LogStore.open(dir, { compactMinBytes: 1 << 30 })) as LogStore;
    await store.commit([{ store: 'user', key: k(1), value: 'old' }]);
    await store.commit([{ store: 'user', key: k(1), value: 'new' }]);
    await store.commit([{ store: 'user', key: k(2), value: 'gone' }]);
    const oldBytes = dir.files.get(logFileName(1))!.data.slice();
    await store.commit([{ store: 'user', key: k(2) }]);
    await store.compact();
    await store.close();
    // Put back the old generation, as if the crash came between the new header and removing the old file.
    const old = await dir.open(logFileName(1));
    old.write(oldBytes, { at: 0 });
    old.flush();
    old.close();
    const reopened = await LogStore.open(dir);
    expect(await reopened.get('user', k(1))).toBe('new');
    expect(await reopened.get('user', k(2))).toBeUndefined();
    expect([...dir.files.keys()]).toEqual([logFileName(2)]);
  });

  it('refuses a second open while the first holds the file, with STORAGE_ERROR', async () => {
    const dir = new FakeDirectory();
    const first = await LogStore.open(dir);
    expect(await codeOf(LogStore.open(dir))).toBe('STORAGE_ERROR');
    await first.close();
    await (await LogStore.open(dir)).close();
  });

  it('refuses a batch with a value it cannot store before writing any of it', async () => {
    const dir = new FakeDirectory();
    const store = await LogStore.open(dir);
    const size = dir.files.get(logFileName(1))!.data.length;
    expect(await codeOf(store.commit([{ store: 'user', key: k(1), value: 1 }, { store: 'user', key: k(2), value: () => 1 }]))).toBe('STORAGE_ERROR');
    expect(dir.files.get(logFileName(1))!.data.length).toBe(size);
    expect(await store.get('user', k(1))).toBeUndefined();
  });

  it('gives QUOTA_EXCEEDED when the disk is full, keeps what was committed and works again once there is space', async () => {
    const dir = new FakeDirectory();
    const store = await LogStore.open(dir);
    await store.commit([{ store: 'user', key: k(1), value: 'committed' }]);
    dir.quotaBytes = dir.files.get(logFileName(1))!.data.length + 10;
    expect(await codeOf(store.commit([{ store: 'user', key: k(2), value: 'x'.repeat(100) }]))).toBe('QUOTA_EXCEEDED');
    expect(await all(store)).toEqual([[Buffer.from(k(1)).toString('hex'), 'committed']]);
    dir.quotaBytes = undefined;
    await store.commit([{ store: 'user', key: k(2), value: 'later' }]);
    await store.close();
    const reopened = await LogStore.open(dir);
    expect((await all(reopened)).map(([, v]) => v)).toEqual(['committed', 'later']);
  });

  it('scans a large store in key order across read windows', async () => {
    const store = await LogStore.open(new FakeDirectory());
    const writes: KvWrite[] = [];
    for (let i = 5000; i > 0; i--) writes.push({ store: 'user', key: k('t', i), value: ['v'.repeat(100), i] });
    await store.commit(writes);
    const seen: number[] = [];
    await store.scan('user', { lower: k('t'), upper: prefixUpperBound(k('t')) }, (_key, v) => seen.push((v as [string, number])[1]));
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
  });
});
