/**
 * An approximate nearest-neighbour index over vectors of one dimension: a
 * hierarchical navigable small world graph (Malkov and Yashunin, 2016),
 * the structure KalamDB's vector indexes (usearch) use. It is the index a
 * `CREATE VECTOR INDEX` keeps per partition; written in TypeScript, with
 * its distance loop in a ~200-byte WebAssembly SIMD module where that runs
 * (vector-arena.ts), so it ships in a lazily loaded chunk.
 *
 * - Metrics: `cosine` (vectors normalised as they are added; distance
 *   1 − a·b), `l2` (squared Euclidean, which orders as Euclidean does) and
 *   `dot` (−a·b, so the largest inner product is the nearest).
 * - Nodes are numbered in insertion order; each holds its caller's key.
 *   `remove` marks a node deleted: it still routes searches but is never
 *   returned; its key may be added again (a new node).
 * - Layout (no per-node objects on the hot path): every vector lives in one
 *   arena (vector-arena.ts: node n in slot n + 1, `dim` floats padded to a
 *   multiple of 4; slot 0 holds the vector being searched for); level-0 links in one
 *   Int32Array arena of `1 + m0` slots per node (slot 0 the count) with the
 *   links' distances beside them in a Float32Array, so a full list drops
 *   its farthest link without computing a distance; the few nodes above
 *   level 0 keep one such pair of arrays for their upper levels.
 * - Invariants: every node on level l ≥ 1 has at most `m` links there, `m0
 *   = 2m` on level 0; `entry` is a node on the top level `maxLevel`, or -1
 *   when the graph is empty. Levels are drawn with mL = 1/ln(m).
 * - Memory (bytes()): 4·stride per node for the vector, 8 per link slot, and a
 *   few words per node; the owner bounds it (a setting) and counts it.
 */

import { normalise, vectorArena, type VectorArena, type VectorMetric } from './vector-arena';

export type { VectorMetric };

/**
 * Links per node and level unless given (2m on level 0). 32, not the
 * usual 16: on 100,000 384-d vectors of Gaussian clusters (bench/README.md)
 * m 16 found 0.80 of the true top-10 at ef 64 and m 32 0.98, in the same
 * search time and build time; it costs 8·32 more bytes a node (a 384-d
 * vector is 1,536).
 */
export const HNSW_M = 32;
/** Candidates kept while a node is linked in, unless given. */
export const HNSW_EF_CONSTRUCTION = 64;

export interface HnswOptions {
  /** Links per node and level (2m on level 0). HNSW_M unless given. */
  m?: number;
  /** Candidates kept while a node is linked in: higher builds slower, finds better. HNSW_EF_CONSTRUCTION unless given. */
  efConstruction?: number;
  /** Seeds the level draw, so a build is reproducible. */
  seed?: number;
}

/**
 * A graph's state as plain typed arrays (structured-clone friendly: what
 * IndexedDB and the OPFS value codec store), for a snapshot record.
 */
export interface HnswSnapshot<K> {
  dim: number;
  metric: VectorMetric;
  m: number;
  efConstruction: number;
  count: number;
  entry: number;
  maxLevel: number;
  seed: number;
  vectors: Float32Array;
  links0: Int32Array;
  dists0: Float32Array;
  levels: Uint8Array;
  deleted: Uint8Array;
  /** Upper-level links of the nodes above level 0, by node (absent: level 0 only). */
  upper: { node: number; links: Int32Array; dists: Float32Array }[];
  keys: K[];
}

export interface Neighbour<K> {
  key: K;
  distance: number;
}

/**
 * A binary heap of (distance, node) pairs in typed arrays, reused between
 * searches: a min-heap, or a max-heap with `max` (distances negated).
 */
class Heap {
  d = new Float64Array(64);
  n = new Int32Array(64);
  size = 0;
  constructor(private readonly sign: 1 | -1) {}

  clear(): void {
    this.size = 0;
  }

  /** The top's distance (the smallest; the largest for a max-heap). */
  topDistance(): number {
    return this.d[0] * this.sign;
  }

  topNode(): number {
    return this.n[0];
  }

  push(distance: number, node: number): void {
    if (this.size === this.d.length) {
      const d = new Float64Array(this.size * 2);
      d.set(this.d);
      this.d = d;
      const n = new Int32Array(this.size * 2);
      n.set(this.n);
      this.n = n;
    }
    const key = distance * this.sign;
    const ds = this.d;
    const ns = this.n;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (ds[p] <= key) break;
      ds[i] = ds[p];
      ns[i] = ns[p];
      i = p;
    }
    ds[i] = key;
    ns[i] = node;
  }

  pop(): void {
    const ds = this.d;
    const ns = this.n;
    const size = --this.size;
    if (size === 0) return;
    const key = ds[size];
    const node = ns[size];
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && ds[c + 1] < ds[c]) c++;
      if (ds[c] >= key) break;
      ds[i] = ds[c];
      ns[i] = ns[c];
      i = c;
    }
    ds[i] = key;
    ns[i] = node;
  }
}

export class Hnsw<K> {
  readonly m: number;
  readonly m0: number;
  readonly efConstruction: number;
  /** The vectors: node n's in slot n + 1, slot 0 the vector being searched for (vector-arena.ts). */
  private readonly arena: VectorArena;
  /** Level-0 links: `1 + m0` slots per node, slot 0 the count. */
  private links0: Int32Array;
  /** The distance of each level-0 link from its node (slot 0 unused). */
  private dists0: Float32Array;
  /** Levels 1…level of a node above level 0: `1 + m` slots per level (slot 0 the count), and their distances. Undefined on level-0 nodes. */
  private readonly upper: (Int32Array | undefined)[] = [];
  private readonly upperDists: (Float32Array | undefined)[] = [];
  private levels: Uint8Array;
  private readonly keys: K[] = [];
  private deleted: Uint8Array;
  private capacity = 64;
  private count = 0;
  private live = 0;
  private upperSlots = 0;
  private entry = -1;
  private maxLevel = -1;
  private readonly levelScale: number;
  private seed: number;
  /** Nodes seen by the running search, by visit mark (reused between searches). */
  private visited = new Uint32Array(64);
  private mark = 0;
  private readonly candidates = new Heap(1);
  private readonly found = new Heap(-1);
  /** The running search's result, nearest first (reused). */
  private resultNodes = new Int32Array(64);
  private resultDists = new Float64Array(64);

  constructor(readonly dim: number, readonly metric: VectorMetric, options: HnswOptions = {}) {
    this.m = Math.max(2, options.m ?? HNSW_M);
    this.m0 = 2 * this.m;
    this.efConstruction = Math.max(1, options.efConstruction ?? HNSW_EF_CONSTRUCTION);
    this.levelScale = 1 / Math.log(this.m);
    this.seed = (options.seed ?? 0x9e3779b9) >>> 0 || 1;
    this.arena = vectorArena(dim, metric, this.capacity + 1);
    this.links0 = new Int32Array((1 + this.m0) * this.capacity);
    this.dists0 = new Float32Array((1 + this.m0) * this.capacity);
    this.levels = new Uint8Array(this.capacity);
    this.deleted = new Uint8Array(this.capacity);
  }

  /** Nodes not removed. */
  get size(): number {
    return this.live;
  }

  /** Nodes ever added (removed ones included): the graph's memory grows with this. */
  get nodes(): number {
    return this.count;
  }

  /** A rough count of the bytes this index holds (vectors, links and their distances, per-node words). */
  bytes(): number {
    return this.count * (this.arena.stride * 4 + (1 + this.m0) * 8 + 16) + this.upperSlots * 8;
  }

  /** Adds `vector` (of `dim` finite floats) under `key`; returns its node number. */
  add(key: K, vector: Float32Array): number {
    const node = this.count;
    if (node === this.capacity) this.grow();
    this.count++;
    const slot = node + 1;
    this.put(slot, vector);
    this.keys[node] = key;
    this.live++;
    const level = this.drawLevel();
    this.levels[node] = level;
    if (level > 0) {
      const slots = level * (1 + this.m);
      this.upper[node] = new Int32Array(slots);
      this.upperDists[node] = new Float32Array(slots);
      this.upperSlots += slots;
    }
    if (this.entry < 0) {
      this.entry = node;
      this.maxLevel = level;
      return node;
    }
    let nearest = this.entry;
    let nearestDistance = this.arena.distance(slot, nearest + 1);
    for (let l = this.maxLevel; l > level; l--) {
      nearest = this.greedy(slot, nearest, nearestDistance, l);
      nearestDistance = this.greedyDistance;
    }
    for (let l = Math.min(level, this.maxLevel); l >= 0; l--) {
      const n = this.searchLevel(slot, nearest, nearestDistance, this.efConstruction, l);
      // The nearest found seeds the level below.
      nearest = this.resultNodes[0];
      nearestDistance = this.resultDists[0];
      const chosen = this.selectNeighbours(n, l === 0 ? this.m0 : this.m);
      for (let i = 0; i < chosen; i++) {
        const other = this.resultNodes[i];
        const d = this.resultDists[i];
        this.link(node, other, d, l);
        this.link(other, node, d, l);
      }
    }
    if (level > this.maxLevel) {
      this.maxLevel = level;
      this.entry = node;
    }
    return node;
  }

  /** A copy of the graph's state (see HnswSnapshot); the graph goes on unchanged. */
  snapshot(): HnswSnapshot<K> {
    const n = this.count;
    const upper: HnswSnapshot<K>['upper'] = [];
    for (let i = 0; i < n; i++) {
      const links = this.upper[i];
      if (links) upper.push({ node: i, links: links.slice(), dists: (this.upperDists[i] as Float32Array).slice() });
    }
    return {
      dim: this.dim,
      metric: this.metric,
      m: this.m,
      efConstruction: this.efConstruction,
      count: n,
      entry: this.entry,
      maxLevel: this.maxLevel,
      seed: this.seed,
      vectors: this.vectorsOf(n),
      links0: this.links0.slice(0, n * (1 + this.m0)),
      dists0: this.dists0.slice(0, n * (1 + this.m0)),
      levels: this.levels.slice(0, n),
      deleted: this.deleted.slice(0, n),
      upper,
      keys: this.keys.slice(0, n),
    };
  }

  /** The graph a snapshot was taken of; undefined when the snapshot is not one of a graph of these sizes. */
  static restore<K>(s: HnswSnapshot<K>): Hnsw<K> | undefined {
    const g = new Hnsw<K>(s.dim, s.metric, { m: s.m, efConstruction: s.efConstruction, seed: s.seed });
    const n = s.count;
    if (s.vectors.length !== n * s.dim || s.links0.length !== n * (1 + g.m0) || s.levels.length !== n || s.keys.length !== n) return undefined;
    while (g.capacity < n) g.grow();
    for (let i = 0; i < n; i++) g.arena.floats.set(s.vectors.subarray(i * s.dim, (i + 1) * s.dim), (i + 1) * g.arena.stride);
    g.links0.set(s.links0);
    g.dists0.set(s.dists0);
    g.levels.set(s.levels);
    g.deleted.set(s.deleted);
    for (const u of s.upper) {
      g.upper[u.node] = u.links;
      g.upperDists[u.node] = u.dists;
      g.upperSlots += u.links.length;
    }
    for (let i = 0; i < n; i++) {
      g.keys[i] = s.keys[i];
      if (!s.deleted[i]) g.live++;
    }
    g.count = n;
    g.entry = s.entry;
    g.maxLevel = s.maxLevel;
    g.seed = s.seed;
    return g;
  }

  /** Marks `node` deleted: searches pass through it and never return it. */
  remove(node: number): void {
    if (node < 0 || node >= this.count || this.deleted[node]) return;
    this.deleted[node] = 1;
    this.live--;
  }

  /** The key a node was added under. */
  keyOf(node: number): K {
    return this.keys[node];
  }

  /** Whether `node` was removed. */
  isRemoved(node: number): boolean {
    return this.deleted[node] === 1;
  }

  /**
   * The `k` nearest live nodes to `query` (of `dim` floats), nearest first,
   * looking at `ef` candidates (at least k; more finds more of the true
   * nearest, slower).
   */
  search(query: Float32Array, k: number, ef: number = Math.max(k, 64)): Neighbour<K>[] {
    if (this.entry < 0 || k <= 0) return [];
    this.put(0, query);
    let nearest = this.entry;
    let nearestDistance = this.arena.distance(0, nearest + 1);
    for (let l = this.maxLevel; l > 0; l--) {
      nearest = this.greedy(0, nearest, nearestDistance, l);
      nearestDistance = this.greedyDistance;
    }
    // Level 0 looks at max(ef, k); deleted nodes fill the candidate list without being results: look at as many more.
    const removed = this.count - this.live;
    const base = Math.max(ef, k);
    const n = this.searchLevel(0, nearest, nearestDistance, base + Math.min(removed, base), 0);
    const out: Neighbour<K>[] = [];
    for (let i = 0; i < n && out.length < k; i++) {
      const node = this.resultNodes[i];
      if (!this.deleted[node]) out.push({ key: this.keys[node], distance: this.reported(this.resultDists[i]) });
    }
    return out;
  }

  /** The distance as the SQL function gives it: cosine 1 − cos, l2 the Euclidean length, dot the inner product negated. */
  private reported(d: number): number {
    return this.metric === 'l2' ? Math.sqrt(Math.max(0, d)) : d;
  }

  private grow(): void {
    const capacity = this.capacity * 2;
    this.arena.grow(capacity + 1);
    const links = new Int32Array(capacity * (1 + this.m0));
    links.set(this.links0);
    this.links0 = links;
    const dists = new Float32Array(capacity * (1 + this.m0));
    dists.set(this.dists0);
    this.dists0 = dists;
    const levels = new Uint8Array(capacity);
    levels.set(this.levels);
    this.levels = levels;
    const deleted = new Uint8Array(capacity);
    deleted.set(this.deleted);
    this.deleted = deleted;
    this.capacity = capacity;
  }

  /** Writes `vector` (its first `dim` floats) to `slot`, normalised for cosine. */
  private put(slot: number, vector: Float32Array): void {
    const floats = this.arena.floats;
    const at = slot * this.arena.stride;
    floats.set(vector.length >= this.dim ? vector.subarray(0, this.dim) : vector, at);
    if (vector.length < this.dim) floats.fill(0, at + vector.length, at + this.dim);
    if (this.metric === 'cosine') normalise(floats, at, this.dim);
  }

  /** The first `n` nodes' vectors, `dim` floats each (a snapshot's layout). */
  private vectorsOf(n: number): Float32Array {
    const out = new Float32Array(n * this.dim);
    const { floats, stride } = this.arena;
    for (let i = 0; i < n; i++) out.set(floats.subarray((i + 1) * stride, (i + 1) * stride + this.dim), i * this.dim);
    return out;
  }

  /** A level drawn from the exponential distribution HNSW uses, mL = 1/ln(m) (xorshift32, seeded). */
  private drawLevel(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    const u = (this.seed + 1) / 4294967297;
    return Math.min(16, Math.floor(-Math.log(u) * this.levelScale));
  }

  /** The link list of `node` on level `l`: its array and the offset of its count slot. */
  private listArray(node: number, l: number): Int32Array {
    return l === 0 ? this.links0 : (this.upper[node] as Int32Array);
  }

  private listDists(node: number, l: number): Float32Array {
    return l === 0 ? this.dists0 : (this.upperDists[node] as Float32Array);
  }

  private listAt(node: number, l: number): number {
    return l === 0 ? node * (1 + this.m0) : (l - 1) * (1 + this.m);
  }

  private greedyDistance = 0;

  /** Greedy descent on level `l` (≥ 1): the neighbour nearest to the vector in slot `v` until none is nearer; its distance in `greedyDistance`. */
  private greedy(v: number, from: number, fromDistance: number, l: number): number {
    const dist = this.arena.distance;
    let node = from;
    let distance = fromDistance;
    for (let moved = true; moved; ) {
      moved = false;
      const links = this.listArray(node, l);
      const at = this.listAt(node, l);
      const count = links[at];
      for (let i = 1; i <= count; i++) {
        const other = links[at + i];
        const d = dist(v, other + 1);
        if (d < distance) {
          distance = d;
          node = other;
          moved = true;
        }
      }
    }
    this.greedyDistance = distance;
    return node;
  }

  /**
   * The `ef` nearest nodes to the vector in slot `v` on level `l` found from `from`: written to
   * `resultNodes` / `resultDists` nearest first; returns how many.
   */
  private searchLevel(v: number, from: number, fromDistance: number, ef: number, l: number): number {
    if (this.visited.length < this.count) this.visited = new Uint32Array(Math.max(this.count, this.visited.length * 2));
    if (++this.mark === 0xffffffff) {
      this.visited.fill(0);
      this.mark = 1;
    }
    const mark = this.mark;
    const visited = this.visited;
    const distance = this.arena.distance;
    const candidates = this.candidates;
    const found = this.found;
    candidates.clear();
    found.clear();
    candidates.push(fromDistance, from);
    found.push(fromDistance, from);
    visited[from] = mark;
    while (candidates.size > 0) {
      const d = candidates.topDistance();
      if (d > found.topDistance() && found.size >= ef) break;
      const c = candidates.topNode();
      candidates.pop();
      if (l > this.levels[c]) continue;
      const links = this.listArray(c, l);
      const at = this.listAt(c, l);
      const count = links[at];
      for (let i = 1; i <= count; i++) {
        const n = links[at + i];
        if (visited[n] === mark) continue;
        visited[n] = mark;
        const dn = distance(v, n + 1);
        if (found.size < ef || dn < found.topDistance()) {
          candidates.push(dn, n);
          found.push(dn, n);
          if (found.size > ef) found.pop();
        }
      }
    }
    const size = found.size;
    if (this.resultNodes.length < size) {
      this.resultNodes = new Int32Array(size * 2);
      this.resultDists = new Float64Array(size * 2);
    }
    for (let i = size - 1; i >= 0; i--) {
      this.resultNodes[i] = found.topNode();
      this.resultDists[i] = found.topDistance();
      found.pop();
    }
    return size;
  }

  /**
   * HNSW's neighbour heuristic over the `n` results (nearest first): keep a
   * candidate unless it is nearer to one already kept than to the new node
   * (links spread out instead of bunching in one direction). The kept ones
   * are moved to the front of the results; returns how many (≤ max).
   */
  private selectNeighbours(n: number, max: number): number {
    const nodes = this.resultNodes;
    const dists = this.resultDists;
    const distance = this.arena.distance;
    let kept = 0;
    for (let i = 0; i < n && kept < max; i++) {
      const c = nodes[i];
      const dc = dists[i];
      let keep = true;
      for (let j = 0; j < kept; j++) {
        if (distance(c + 1, nodes[j] + 1) < dc) {
          keep = false;
          break;
        }
      }
      if (keep) {
        nodes[i] = nodes[kept];
        dists[i] = dists[kept];
        nodes[kept] = c;
        dists[kept] = dc;
        kept++;
      }
    }
    return kept;
  }

  /** Links `from` to `to` (at distance `d`) on level `l`; a full list keeps its nearest (its farthest link, or `to`, is dropped). */
  private link(from: number, to: number, d: number, l: number): void {
    const links = this.listArray(from, l);
    const dists = this.listDists(from, l);
    const at = this.listAt(from, l);
    const max = l === 0 ? this.m0 : this.m;
    const count = links[at];
    if (count < max) {
      links[at + 1 + count] = to;
      dists[at + 1 + count] = d;
      links[at] = count + 1;
      return;
    }
    let farthest = d;
    let slot = -1;
    for (let i = 1; i <= count; i++) {
      if (dists[at + i] > farthest) {
        farthest = dists[at + i];
        slot = i;
      }
    }
    if (slot >= 0) {
      links[at + slot] = to;
      dists[at + slot] = d;
    }
  }
}
