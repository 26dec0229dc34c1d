import { describe, expect, it } from 'vitest';
import { encodeKey } from './keys';
import { describeKvContract } from './kv-contract.fixture';
import { openMemoryStore } from './memory';

describeKvContract('memory', async () => openMemoryStore());

describe('openMemoryStore', () => {
  it('reports its kind as memory', () => {
    expect(openMemoryStore().kind).toBe('memory');
  });

  it('returns the committed value object itself, not a copy', async () => {
    const store = openMemoryStore();
    const row = Object.freeze({ id: 1 });
    await store.commit([{ store: 'user', key: encodeKey([1]), value: row }]);
    expect(await store.get('user', encodeKey([1]))).toBe(row);
  });

  it('shows a scan the keys committed ahead of its position by its own visitor', async () => {
    const store = openMemoryStore();
    await store.commit([{ store: 'user', key: encodeKey([1]), value: 1 }, { store: 'user', key: encodeKey([3]), value: 3 }]);
    const seen: unknown[] = [];
    await store.scan('user', { lower: encodeKey([0]), upper: encodeKey([9]) }, (_k, v) => {
      seen.push(v);
      if (v === 1) void store.commit([{ store: 'user', key: encodeKey([2]), value: 2 }]);
    });
    expect(seen).toEqual([1, 2, 3]);
  });
});
