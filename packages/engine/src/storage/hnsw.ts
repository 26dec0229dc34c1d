/**
 * An approximate nearest-neighbour index over vectors of one dimension: a
 * hierarchical navigable small world graph (Malkov and Yashunin, 2016),
 * the structure KalamDB's vector indexes (usearch) use. It is the index a
 * `CREATE VECTOR INDEX` will keep per partition; written here in plain
 * TypeScript (no WASM, no native code) so it can ship in a lazily loaded
 * chunk of the worker.
 *
 * - Metrics: `cosine` (vectors normalised as they are added; distance
 *   1 − a·b), `l2` (squared Euclidean, which orders as Euclidean does) and
 *   `dot` (−a·b, so the largest inner product is the nearest).
 * - Nodes are numbered in insertion order; each holds its caller's key.
 *   `remove` marks a node deleted: it still routes searches but is never
 *   returned; its key may be added again (a new node).
 * - Invariants: `vectors` holds `dim` floats per node; every node on level
 *   l has at most `m` neighbours there (`2m` on level 0); `entry` is a node
 *   on the top level `maxLevel`, or -1 when the graph is empty.
 * - Memory (bytes()): 4·dim per node for the vector, 4 per neighbour link,
 *   and a few words per node; the owner bounds it (a setting) and counts it.
 */

export type VectorMetric = 'cosine' | 'l2' | 'dot';

export interface HnswOptions {
  /** Links per node and level (2m on level 0). 16 unless given. */
  m?: number;
  /** Candidates kept while a node is linked in: higher builds slower, finds better. 100 unless given. */
  efConstruction?: number;
  /** Seeds the level draw, so a build is reproducible. */
  seed?: number;
}

export interface Neighbour<K> {
  key: K;
  distance: number;
}

/** A binary heap of (distance, node) pairs: a min-heap, or a max-heap with `max`. */
class Heap {
  d: number[] = [];
  n: number[] = [];
  constructor(private readonly max: boolean) {}

  get size(): number {
    return this.d.length;
  }

  /** The top's distance (the smallest; the largest for a max-heap). */
  topDistance(): number {
    return this.d[0];
  }

  topNode(): number {
    return this.n[0];
  }

  private before(i: number, j: number): boolean {
    return this.max ? this.d[i] > this.d[j] : this.d[i] < this.d[j];
  }

  private swap(i: number, j: number): void {
    const d = this.d[i];
    this.d[i] = this.d[j];
    this.d[j] = d;
    const n = this.n[i];
    this.n[i] = this.n[j];
    this.n[j] = n;
  }

  push(distance: number, node: number): void {
    this.d.push(distance);
    this.n.push(node);
    let i = this.d.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  pop(): void {
    const last = this.d.length - 1;
    this.swap(0, last);
    this.d.pop();
    this.n.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < this.d.length && this.before(l, best)) best = l;
      if (r < this.d.length && this.before(r, best)) best = r;
      if (best === i) return;
      this.swap(i, best);
      i = best;
    }
  }
}

export class Hnsw<K> {
  readonly m: number;
  readonly efConstruction: number;
  private vectors: Float32Array;
  /** links[node][level]: neighbour node numbers. */
  private readonly links: Int32Array[][] = [];
  private readonly linkCounts: Uint16Array[] = [];
  private readonly keys: K[] = [];
  private deleted: Uint8Array;
  private count = 0;
  private live = 0;
  private entry = -1;
  private maxLevel = -1;
  private readonly levelScale: number;
  private seed: number;
  /** Nodes seen by the running search, by visit mark (reused between searches). */
  private visited = new Uint32Array(0);
  private mark = 0;

  constructor(readonly dim: number, readonly metric: VectorMetric, options: HnswOptions = {}) {
    this.m = options.m ?? 16;
    this.efConstruction = options.efConstruction ?? 100;
    this.levelScale = 1 / Math.log(this.m);
    this.seed = (options.seed ?? 0x9e3779b9) >>> 0 || 1;
    this.vectors = new Float32Array(dim * 64);
    this.deleted = new Uint8Array(64);
  }

  /** Nodes not removed. */
  get size(): number {
    return this.live;
  }

  /** A rough count of the bytes this index holds (vectors, links, per-node words). */
  bytes(): number {
    let links = 0;
    for (const levels of this.links) for (const l of levels) links += l.length * 4;
    return this.count * (this.dim * 4 + 32) + links;
  }

  /** Adds `vector` (of `dim` finite floats) under `key`; returns its node number. */
  add(key: K, vector: Float32Array): number {
    const node = this.count++;
    this.grow(node + 1);
    const v = this.vectors.subarray(node * this.dim, (node + 1) * this.dim);
    v.set(vector);
    if (this.metric === 'cosine') normalise(v);
    this.keys[node] = key;
    this.live++;
    const level = this.drawLevel();
    this.links[node] = [];
    this.linkCounts[node] = new Uint16Array(level + 1);
    for (let l = 0; l <= level; l++) this.links[node][l] = new Int32Array(l === 0 ? 2 * this.m : this.m);
    if (this.entry < 0) {
      this.entry = node;
      this.maxLevel = level;
      return node;
    }
    let nearest = this.entry;
    let nearestDistance = this.distanceTo(v, nearest);
    for (let l = this.maxLevel; l > level; l--) [nearest, nearestDistance] = this.greedy(v, nearest, nearestDistance, l);
    for (let l = Math.min(level, this.maxLevel); l >= 0; l--) {
      const found = this.searchLevel(v, nearest, nearestDistance, this.efConstruction, l);
      const chosen = this.selectNeighbours(found, l === 0 ? 2 * this.m : this.m);
      for (const n of chosen) {
        this.link(node, n, l);
        this.link(n, node, l);
      }
      // The nearest found seeds the level below.
      let best = found.d[0];
      let bestNode = found.n[0];
      for (let i = 1; i < found.d.length; i++) if (found.d[i] < best) [best, bestNode] = [found.d[i], found.n[i]];
      nearest = bestNode;
      nearestDistance = best;
    }
    if (level > this.maxLevel) {
      this.maxLevel = level;
      this.entry = node;
    }
    return node;
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

  /**
   * The `k` nearest live nodes to `query` (of `dim` floats), nearest first,
   * looking at `ef` candidates (at least k; more finds more of the true
   * nearest, slower).
   */
  search(query: Float32Array, k: number, ef: number = Math.max(k, 64)): Neighbour<K>[] {
    if (this.entry < 0 || k <= 0) return [];
    const q = this.metric === 'cosine' ? normalise(Float32Array.from(query)) : query;
    let nearest = this.entry;
    let nearestDistance = this.distanceTo(q, nearest);
    for (let l = this.maxLevel; l > 0; l--) [nearest, nearestDistance] = this.greedy(q, nearest, nearestDistance, l);
    // Deleted nodes fill the candidate list without being results: look at as many more.
    const want = Math.max(ef, k) + (this.count - this.live > 0 ? Math.min(this.count - this.live, Math.max(ef, k)) : 0);
    const found = this.searchLevel(q, nearest, nearestDistance, want, 0);
    const out: Neighbour<K>[] = [];
    for (let i = 0; i < found.d.length; i++) if (!this.deleted[found.n[i]]) out.push({ key: this.keys[found.n[i]], distance: this.reported(found.d[i]) });
    out.sort((a, b) => a.distance - b.distance);
    return out.length > k ? out.slice(0, k) : out;
  }

  /** The distance as the SQL function gives it: cosine 1 − cos, l2 the Euclidean length, dot the inner product negated. */
  private reported(d: number): number {
    return this.metric === 'l2' ? Math.sqrt(d) : d;
  }

  private grow(nodes: number): void {
    if (nodes * this.dim > this.vectors.length) {
      const next = new Float32Array(Math.max(nodes, (this.vectors.length / this.dim) * 2) * this.dim);
      next.set(this.vectors);
      this.vectors = next;
    }
    if (nodes > this.deleted.length) {
      const next = new Uint8Array(Math.max(nodes, this.deleted.length * 2));
      next.set(this.deleted);
      this.deleted = next;
    }
  }

  /** A level drawn from the exponential distribution HNSW uses (xorshift32, seeded). */
  private drawLevel(): number {
    let x = this.seed;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.seed = x >>> 0;
    const u = (this.seed + 1) / 4294967297;
    return Math.min(16, Math.floor(-Math.log(u) * this.levelScale));
  }

  private distanceTo(v: Float32Array, node: number, vAt = 0): number {
    const w = this.vectors;
    const at = node * this.dim;
    const n = this.dim;
    if (this.metric === 'l2') {
      let s = 0;
      for (let i = 0; i < n; i++) {
        const t = v[vAt + i] - w[at + i];
        s += t * t;
      }
      return s;
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += v[vAt + i] * w[at + i];
    return this.metric === 'cosine' ? 1 - s : -s;
  }

  private distanceBetween(a: number, b: number): number {
    return this.distanceTo(this.vectors, b, a * this.dim);
  }

  /** Greedy descent on level `l`: the neighbour nearest to `v` until none is nearer. */
  private greedy(v: Float32Array, from: number, fromDistance: number, l: number): [number, number] {
    let node = from;
    let distance = fromDistance;
    for (let moved = true; moved; ) {
      moved = false;
      const links = this.links[node][l];
      const count = this.linkCounts[node][l];
      for (let i = 0; i < count; i++) {
        const d = this.distanceTo(v, links[i]);
        if (d < distance) {
          distance = d;
          node = links[i];
          moved = true;
        }
      }
    }
    return [node, distance];
  }

  /** The `ef` nearest nodes to `v` on level `l` found from `from` (a max-heap: the farthest on top). */
  private searchLevel(v: Float32Array, from: number, fromDistance: number, ef: number, l: number): Heap {
    if (this.visited.length < this.count) this.visited = new Uint32Array(Math.max(this.count, this.visited.length * 2));
    if (++this.mark === 0xffffffff) {
      this.visited.fill(0);
      this.mark = 1;
    }
    const mark = this.mark;
    const visited = this.visited;
    const candidates = new Heap(false);
    const found = new Heap(true);
    candidates.push(fromDistance, from);
    found.push(fromDistance, from);
    visited[from] = mark;
    while (candidates.size > 0) {
      const d = candidates.topDistance();
      const c = candidates.topNode();
      if (d > found.topDistance() && found.size >= ef) break;
      candidates.pop();
      const levels = this.links[c];
      if (l >= levels.length) continue;
      const links = levels[l];
      const count = this.linkCounts[c][l];
      for (let i = 0; i < count; i++) {
        const n = links[i];
        if (visited[n] === mark) continue;
        visited[n] = mark;
        const dn = this.distanceTo(v, n);
        if (found.size < ef || dn < found.topDistance()) {
          candidates.push(dn, n);
          found.push(dn, n);
          if (found.size > ef) found.pop();
        }
      }
    }
    return found;
  }

  /** HNSW's neighbour heuristic: nearest first, skipping a candidate nearer to one already chosen than to the new node (keeps links spread). */
  private selectNeighbours(found: Heap, max: number): number[] {
    const order = found.n.map((n, i) => ({ n, d: found.d[i] })).sort((a, b) => a.d - b.d);
    const chosen: number[] = [];
    const skipped: number[] = [];
    for (const c of order) {
      if (chosen.length >= max) break;
      if (chosen.every((x) => this.distanceBetween(c.n, x) > c.d)) chosen.push(c.n);
      else skipped.push(c.n);
    }
    // Fill up with the nearest skipped ones, so sparse regions stay connected.
    for (const n of skipped) {
      if (chosen.length >= max) break;
      chosen.push(n);
    }
    return chosen;
  }

  /** Links `from` to `to` on level `l`; a full list keeps its nearest (the farthest link, or `to`, is dropped). */
  private link(from: number, to: number, l: number): void {
    const links = this.links[from][l];
    const counts = this.linkCounts[from];
    const count = counts[l];
    for (let i = 0; i < count; i++) if (links[i] === to) return;
    if (count < links.length) {
      links[count] = to;
      counts[l] = count + 1;
      return;
    }
    let farthest = this.distanceBetween(from, to);
    let at = -1;
    for (let i = 0; i < count; i++) {
      const d = this.distanceBetween(from, links[i]);
      if (d > farthest) {
        farthest = d;
        at = i;
      }
    }
    if (at >= 0) links[at] = to;
  }
}

/** Scales `v` to length 1 in place (a zero vector stays zero); returns it. */
function normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  if (s === 0) return v;
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < v.length; i++) v[i] *= inv;
  return v;
}
