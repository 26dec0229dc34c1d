import { describe, expect, it } from 'vitest';
import { MemoryBlobStore, pieces, type BlobStore } from './blob-store';
import { FakeDirectory } from './opfs.fixture';
import { opfsBlobStore } from './opfs-blob-store';

async function* chunksOf(data: Uint8Array, cut: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += cut) yield data.subarray(i, i + cut);
}

const data = Uint8Array.from({ length: 10_000 }, (_, i) => (i * 13) & 0xff);

describe('pieces', () => {
  it('re-cuts any stream into pieces of the given size, the last one shorter', async () => {
    for (const cut of [1, 999, 1000, 1001, 10_000]) {
      const out: Uint8Array[] = [];
      for await (const p of pieces(chunksOf(data, cut), 1000)) out.push(p.slice());
      expect(out.map((p) => p.length)).toEqual(new Array(10).fill(1000));
      expect(Buffer.concat(out).equals(Buffer.from(data))).toBe(true);
    }
    const odd: number[] = [];
    for await (const p of pieces(chunksOf(data.subarray(0, 2500), 700), 1000)) odd.push(p.length);
    expect(odd).toEqual([1000, 1000, 500]);
  });
});

const stores: [string, () => BlobStore & { flushed?: () => number }][] = [
  ['memory', () => new MemoryBlobStore()],
  ['OPFS files', () => opfsBlobStore(new FakeDirectory())],
];

describe.each(stores)('blob store: %s', (_name, make) => {
  it('writes a stream, reads it back whole, lists and deletes it', async () => {
    const store = make();
    await store.write('a1', chunksOf(data, 777));
    await store.write('b2', chunksOf(new Uint8Array(0), 1));
    expect((await store.list()).sort()).toEqual(['a1', 'b2']);
    expect(Buffer.from(await (await store.read('a1'))!.arrayBuffer()).equals(Buffer.from(data))).toBe(true);
    expect((await store.read('b2'))!.size).toBe(0);
    expect(await store.read('nope')).toBeUndefined();
    await store.delete(['a1', 'nope']);
    expect(await store.list()).toEqual(['b2']);
  });

  it('a stream that fails part way leaves a listed blob to delete', async () => {
    const store = make();
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield data.subarray(0, 100);
      throw new Error('the page went away');
    }
    await expect(store.write('c3', failing())).rejects.toThrow();
    expect(await store.list()).toEqual(['c3']);
    await store.delete(['c3']);
    expect(await store.list()).toEqual([]);
  });
});

describe('OPFS blob store', () => {
  it('flushes a file before write resolves: it survives a crash', async () => {
    const dir = new FakeDirectory();
    const store = opfsBlobStore(dir);
    await store.write('d4', chunksOf(data, 4096));
    dir.crash();
    expect((await opfsBlobStore(dir).read('d4'))!.size).toBe(data.length);
  });
});
