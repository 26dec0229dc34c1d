import { afterEach, describe, expect, it } from 'vitest';
import { random } from '../core/seeded-random.fixture';
import { Hnsw } from './hnsw';
import { simdAvailable, useSimdForTests, vectorArena, type VectorMetric } from './vector-arena';

afterEach(() => useSimdForTests(true));

/** `n` random vectors of `dim` floats in slots 0…n-1 of both arenas. */
function fill(dim: number, metric: VectorMetric, n: number) {
  const next = random(dim * 7 + n);
  const simd = vectorArena(dim, metric, 4);
  useSimdForTests(false);
  const plain = vectorArena(dim, metric, 4);
  useSimdForTests(true);
  simd.grow(n);
  plain.grow(n);
  const vectors = Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => next() * 2 - 1));
  vectors.forEach((v, i) => {
    simd.floats.set(v, i * simd.stride);
    plain.floats.set(v, i * plain.stride);
  });
  return { simd, plain, vectors };
}

function reference(metric: VectorMetric, a: Float32Array, b: Float32Array): number {
  let dot = 0, l2 = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    l2 += (a[i] - b[i]) ** 2;
  }
  return metric === 'l2' ? l2 : metric === 'cosine' ? 1 - dot : -dot;
}

describe('vector arenas', () => {
  it('run the WebAssembly SIMD distance here (Node, as in every supported browser)', () => {
    expect(simdAvailable()).toBe(true);
    useSimdForTests(false);
    expect(simdAvailable()).toBe(false);
  });

  it.each([
    ['cosine', 384],
    ['l2', 7],
    ['dot', 13],
    ['l2', 1],
  ] as const)('give the %s distance of %i-float vectors in both arenas, padding ignored', (metric, dim) => {
    const { simd, plain, vectors } = fill(dim, metric, 40);
    expect(simd.stride).toBe(Math.ceil(dim / 4) * 4);
    for (let a = 0; a < 40; a += 3) {
      for (let b = 0; b < 40; b += 7) {
        const want = reference(metric, vectors[a], vectors[b]);
        expect(simd.distance(a, b)).toBeCloseTo(want, 4);
        expect(plain.distance(a, b)).toBeCloseTo(want, 4);
      }
    }
  });

  it('keep their contents when they grow past a WebAssembly page', () => {
    const { simd, vectors } = fill(384, 'dot', 3);
    simd.grow(2000); // 2000 × 1,536 bytes: many pages
    simd.floats.set(vectors[0], 1999 * simd.stride);
    expect(simd.distance(1999, 1)).toBeCloseTo(reference('dot', vectors[0], vectors[1]), 4);
    expect(simd.distance(2, 2)).toBeCloseTo(reference('dot', vectors[2], vectors[2]), 4);
  });

  it('give a graph the same neighbours with either arena', () => {
    const next = random(3);
    const vectors = Array.from({ length: 500 }, () => Float32Array.from({ length: 10 }, () => next() * 2 - 1));
    const build = () => {
      const g = new Hnsw<number>(10, 'l2', { seed: 9 });
      vectors.forEach((v, i) => g.add(i, v));
      return g;
    };
    const simd = build();
    useSimdForTests(false);
    const plain = build();
    for (const q of vectors.slice(0, 20)) {
      expect(simd.search(q, 5, 500).map((x) => x.key)).toEqual(plain.search(q, 5, 500).map((x) => x.key));
    }
    // A snapshot restores into the other kind of arena unchanged.
    useSimdForTests(true);
    const restored = Hnsw.restore(plain.snapshot())!;
    expect(restored.search(vectors[3], 5, 500)).toEqual(simd.search(vectors[3], 5, 500).map((x) => ({ ...x, distance: expect.closeTo(x.distance, 4) })));
  });
});
