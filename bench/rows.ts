/**
 * Deterministic bench rows. A row is a pure function of (seed, id), so the
 * engine and the baseline write exactly the same data whatever order or
 * batch size they use, and a lookup can be checked against `rowFor(id)`.
 */
export interface BenchRow {
  id: number;
  category: string;
  /** A 53-bit random fraction × 1000: ties inside one category are vanishingly rare, so ORDER BY score is deterministic. */
  score: number;
  title: string;
}

export const CATEGORY_COUNT = 10;

const WORDS = ['amber', 'birch', 'cedar', 'delta', 'ember', 'fjord', 'grove', 'heron', 'iris', 'juniper', 'kestrel', 'lumen'];

/** splitmix32: a tiny, well-mixed 32-bit hash; the stream for one id is mix(seed, id, k) for k = 0, 1, 2, … */
function mix(seed: number, id: number, k: number): number {
  let z = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(id, 0xc2b2ae35) + Math.imul(k + 1, 0x27d4eb2f)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

export function categoryName(index: number): string {
  return `c${index % CATEGORY_COUNT}`;
}

export function rowFor(seed: number, id: number): BenchRow {
  const hi = mix(seed, id, 0) >>> 11; // 21 bits
  const lo = mix(seed, id, 1); // 32 bits
  const fraction = (hi * 2 ** 32 + lo) / 2 ** 53;
  return {
    id,
    category: categoryName(mix(seed, id, 2) % CATEGORY_COUNT),
    score: fraction * 1000,
    title: `item ${id} ${WORDS[mix(seed, id, 3) % WORDS.length]}`,
  };
}

/** Rows with ids first, first + 1, …, first + count - 1. */
export function rowsFrom(seed: number, first: number, count: number): BenchRow[] {
  const rows: BenchRow[] = new Array(count);
  for (let i = 0; i < count; i++) rows[i] = rowFor(seed, first + i);
  return rows;
}

/** A seeded PRNG (mulberry32) for choosing lookup ids and query parameters. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The parameters of the i-th filtered query: a category and a score threshold. */
export function queryParams(i: number): { category: string; minScore: number } {
  return { category: categoryName(i * 3), minScore: (i * 37) % 900 };
}
