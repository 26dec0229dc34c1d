import { describe, expect, it } from 'vitest';
import { Hnsw, HNSW_M, type VectorMetric } from './hnsw';
import { random } from '../core/seeded-random.fixture';


const vectorsOf = (n: number, dim: number, seed: number) => {
  const next = random(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => next() * 2 - 1));
};

function distance(metric: VectorMetric, a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0, l2 = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    l2 += (a[i] - b[i]) ** 2;
  }
  return metric === 'cosine' ? 1 - dot / Math.sqrt(na * nb) : metric === 'l2' ? Math.sqrt(l2) : -dot;
}

/** The exact k nearest keys by brute force. */
function exact(metric: VectorMetric, vectors: Float32Array[], q: Float32Array, k: number, skip: ReadonlySet<number> = new Set()): number[] {
  return vectors.map((v, i) => ({ i, d: distance(metric, v, q) })).filter((x) => !skip.has(x.i)).sort((a, b) => a.d - b.d).slice(0, k).map((x) => x.i);
}

function recall(found: number[][], truth: number[][]): number {
  let hit = 0;
  let all = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = new Set(truth[i]);
    hit += found[i].filter((x) => t.has(x)).length;
    all += truth[i].length;
  }
  return hit / all;
}

describe('HNSW', () => {
  it.each(['cosine', 'l2', 'dot'] as const)('finds the exact k nearest when it looks at every node (%s, 300 vectors)', (metric) => {
    const vectors = vectorsOf(300, 8, 1);
    const index = new Hnsw<number>(8, metric, { seed: 3 });
    vectors.forEach((v, i) => index.add(i, v));
    for (const q of vectorsOf(10, 8, 2)) {
      const got = index.search(q, 5, 300);
      expect(got.map((x) => x.key)).toEqual(exact(metric, vectors, q, 5));
      // Distances as the SQL functions give them.
      got.forEach((x) => expect(x.distance).toBeCloseTo(distance(metric, vectors[x.key], q), 5));
    }
  });

  it('reaches recall@10 ≥ 0.95 on 4,000 random 32-dimensional vectors with ef 100 (cosine)', () => {
    const vectors = vectorsOf(4000, 32, 5);
    const index = new Hnsw<number>(32, 'cosine', { seed: 7 });
    vectors.forEach((v, i) => index.add(i, v));
    const queries = vectorsOf(50, 32, 6);
    const r = recall(queries.map((q) => index.search(q, 10, 100).map((x) => x.key)), queries.map((q) => exact('cosine', vectors, q, 10)));
    expect(r).toBeGreaterThanOrEqual(0.95);
  });

  it('reaches recall@10 ≥ 0.95 on 3,000 clustered 128-dimensional unit vectors with ef 64 (cosine, m 16, efConstruction 64)', () => {
    const next = random(21);
    const gauss = () => Math.sqrt(-2 * Math.log(next() || 1e-9)) * Math.cos(2 * Math.PI * next());
    const unit = (v: Float32Array) => {
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const centres = Array.from({ length: 30 }, () => unit(Float32Array.from({ length: 128 }, gauss)));
    const make = () => unit(Float32Array.from(centres[Math.floor(next() * 30)], (c) => c + 0.08 * gauss()));
    const vectors = Array.from({ length: 3000 }, make);
    const index = new Hnsw<number>(128, 'cosine', { m: 16, efConstruction: 64, seed: 5 });
    vectors.forEach((v, i) => index.add(i, v));
    const queries = Array.from({ length: 40 }, make);
    const r = recall(queries.map((q) => index.search(q, 10, 64).map((x) => x.key)), queries.map((q) => exact('cosine', vectors, q, 10)));
    expect(r).toBeGreaterThanOrEqual(0.95);
  });

  it('reaches recall@10 ≥ 0.95 with ef 64 and its default m where near neighbours are barely nearer than the rest (3,000 128-d vectors of one Gaussian cluster)', () => {
    const gauss = (next: () => number) => Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
    const unit = (v: Float32Array) => {
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const centreDraw = random(99);
    const centre = unit(Float32Array.from({ length: 128 }, () => gauss(centreDraw)));
    // Noise as long as the centre: every point is about as far from any other, the hard case for a graph index (m 16 finds 0.925 here).
    const draw = (n: number, seed: number) => {
      const next = random(seed);
      return Array.from({ length: n }, () => unit(Float32Array.from(centre, (c) => c + 0.09 * gauss(next))));
    };
    const vectors = draw(3000, 1);
    const index = new Hnsw<number>(128, 'cosine', { seed: 5 });
    expect(index.snapshot().m).toBe(HNSW_M);
    vectors.forEach((v, i) => index.add(i, v));
    const queries = draw(40, 2);
    const r = recall(queries.map((q) => index.search(q, 10, 64).map((x) => x.key)), queries.map((q) => exact('cosine', vectors, q, 10)));
    expect(r).toBeGreaterThanOrEqual(0.95);
  });

  it('never returns a removed node, and finds the nearest of the others', () => {
    const vectors = vectorsOf(500, 8, 11);
    const index = new Hnsw<number>(8, 'l2', { seed: 1 });
    const nodes = vectors.map((v, i) => index.add(i, v));
    const removed = new Set<number>();
    for (let i = 0; i < 500; i += 3) {
      index.remove(nodes[i]);
      removed.add(i);
    }
    expect(index.size).toBe(500 - removed.size);
    for (const q of vectorsOf(10, 8, 12)) {
      const got = index.search(q, 10, 500).map((x) => x.key);
      expect(got.some((k) => removed.has(k))).toBe(false);
      expect(got).toEqual(exact('l2', vectors, q, 10, removed));
    }
  });

  it('keeps a key added again after its node was removed (an UPDATE) at its new place', () => {
    const index = new Hnsw<string>(2, 'l2');
    const a = index.add('a', new Float32Array([0, 0]));
    index.add('b', new Float32Array([5, 5]));
    index.remove(a);
    index.add('a', new Float32Array([10, 10]));
    expect(index.search(new Float32Array([9, 9]), 2).map((x) => x.key)).toEqual(['a', 'b']);
    expect(index.search(new Float32Array([0, 0]), 1).map((x) => x.key)).toEqual(['b']);
    expect(index.size).toBe(2);
  });

  it('answers an empty index and k = 0 with nothing, and counts its bytes as it grows', () => {
    const index = new Hnsw<number>(4, 'cosine');
    expect(index.search(new Float32Array(4), 3)).toEqual([]);
    expect(index.bytes()).toBe(0);
    index.add(1, new Float32Array([1, 0, 0, 0]));
    const one = index.bytes();
    expect(one).toBeGreaterThanOrEqual(16);
    index.add(2, new Float32Array([0, 1, 0, 0]));
    expect(index.bytes()).toBeGreaterThan(one);
    expect(index.search(new Float32Array([1, 0, 0, 0]), 0)).toEqual([]);
  });

  it('answers the same after a snapshot is restored, and goes on taking vectors', () => {
    const vectors = vectorsOf(400, 16, 31);
    const index = new Hnsw<number>(16, 'l2', { seed: 2 });
    vectors.forEach((v, i) => index.add(i, v));
    index.remove(5);
    const restored = Hnsw.restore(structuredClone(index.snapshot()))!;
    expect(restored.size).toBe(399);
    expect(restored.bytes()).toBe(index.bytes());
    for (const q of vectorsOf(10, 16, 32)) expect(restored.search(q, 10, 50)).toEqual(index.search(q, 10, 50));
    const extra = vectorsOf(1, 16, 33)[0];
    restored.add(1000, extra);
    expect(restored.search(extra, 1)[0].key).toBe(1000);
    expect(Hnsw.restore({ ...index.snapshot(), count: 3 })).toBeUndefined();
  });
});
