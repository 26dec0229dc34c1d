/**
 * The page of the vectors phase (vectors.html), driven by
 * bench/vectors-run.mjs: the engine in a dedicated worker of this page over
 * IndexedDB (`createClient({ transport: 'worker' })`), one user's USER
 * table `bench.vecs (id INT PRIMARY KEY, v EMBEDDING(384))`, and the HNSW
 * graph (packages/engine/src/storage/hnsw.ts) built in the page, since no
 * SQL statement reaches it yet.
 *
 * - load: N random unit vectors (seeded) in 500-row INSERTs with
 *   Float32Array parameters; the engine flushes on its own as the hot tier
 *   fills.
 * - exact: `SELECT id FROM bench.vecs ORDER BY cosine_distance(v, $1)
 *   LIMIT 10` through the worker (a full scan with a bounded top-10
 *   buffer); its ids are the truth recall is measured against.
 * - index: the HNSW graph over the first `indexRows` vectors (cosine), its
 *   build time, and top-10 searches at several ef, recall@10 against an
 *   exact search over the same vectors in the page.
 */
import { createClient, type KalamClient, type ClientSession } from '@kalamlite/worker';
import { Hnsw, HNSW_EF_CONSTRUCTION, HNSW_M } from '../packages/engine/src/storage/hnsw';
// The seeded generator the engine's vector tests use (mulberry32), so every run writes the same vectors.
import { random } from '../packages/engine/src/core/seeded-random.fixture';

declare global {
  interface Window {
    vectorsBench?: VectorsBenchApi;
  }
}

/** The vectors drawn (see the generators below): uniformly random, Gaussian clusters, or topics of low intrinsic dimension. */
export type VectorData = 'random' | 'clustered' | 'topics';

export interface VectorsBenchApi {
  /** `ef`: the engine's vectorIndexEf (undefined: its default). */
  open(ef?: number): Promise<void>;
  load(rows: number, data: VectorData): Promise<{ ms: number }>;
  exact(queries: number): Promise<{ times: number[]; firstMs: number }>;
  index(indexRows: number, queries: number, efs: number[]): Promise<{ buildMs: number; bytes: number; byEf: { ef: number; times: number[]; recall: number }[]; inPageExactMs: number[]; params: string }>;
  sqlIndex(queries: number): Promise<{ createMs: number; buildMs: number; job: string; bytes: number; firstMs: number; times: number[]; recall: number; plan: string; byKeyTimes: number[]; roundTrips: number[] }>;
  close(): Promise<void>;
}

const NAME = 'vectors-bench';
const DIM = 384;
const BATCH = 500;

let client: KalamClient | undefined;
let session: ClientSession | undefined;
let vectors: Float32Array[] = [];
let queries: Float32Array[] = [];

/**
 * `n` unit vectors around 100 seeded centres (Gaussian noise of σ 0.05 per
 * dimension, about as far from the centre as the centre is long): data with
 * neighbourhoods, as embeddings of real text have; `seed` draws the points,
 * the centres are the same for every seed.
 */
function clusteredVectors(n: number, seed: number): Float32Array[] {
  const cs = centres();
  const next = random(seed);
  return Array.from({ length: n }, () => unit(Float32Array.from(cs[Math.floor(next() * 100)], (c) => c + 0.05 * gauss(next))));
}

/**
 * `n` unit vectors of 100 topics, each a seeded centre and a 16-dimensional
 * subspace of the 384 (a random basis): a vector is its topic's centre
 * moved within the subspace (σ 0.25 along each basis vector) plus a little
 * noise in every dimension (σ 0.01). Text embeddings have a low intrinsic
 * dimension like this, so near neighbours are clearly nearer than the rest
 * of their topic — within a Gaussian cluster (above) they are not: there
 * every point of a cluster is about as far from any other.
 */
function topicVectors(n: number, seed: number): Float32Array[] {
  const cs = centres();
  const shape = random(98);
  const bases = cs.map(() => Array.from({ length: 16 }, () => Float32Array.from({ length: DIM }, () => gauss(shape) / Math.sqrt(DIM))));
  const next = random(seed);
  return Array.from({ length: n }, () => {
    const topic = Math.floor(next() * 100);
    const v = Float32Array.from(cs[topic]);
    for (const b of bases[topic]) {
      const z = 0.25 * gauss(next);
      for (let i = 0; i < DIM; i++) v[i] += z * b[i];
    }
    for (let i = 0; i < DIM; i++) v[i] += 0.01 * gauss(next);
    return unit(v);
  });
}

/** The 100 seeded unit centres of the clustered and topic vectors (the same for every seed). */
function centres(): Float32Array[] {
  const next = random(99);
  return Array.from({ length: 100 }, () => unit(Float32Array.from({ length: DIM }, () => gauss(next))));
}

/** A standard normal draw (Box–Muller). */
function gauss(next: () => number): number {
  return Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
}

function unit(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const inv = 1 / Math.sqrt(s);
  for (let i = 0; i < v.length; i++) v[i] *= inv;
  return v;
}

const GENERATORS: Record<VectorData, (n: number, seed: number) => Float32Array[]> = { random: unitVectors, clustered: clusteredVectors, topics: topicVectors };

function unitVectors(n: number, seed: number): Float32Array[] {
  const next = random(seed);
  return Array.from({ length: n }, () => unit(Float32Array.from({ length: DIM }, () => next() * 2 - 1)));
}

/** The exact top-10 by cosine distance over `n` first vectors (all unit length: the largest dot products). */
function exactTop(q: Float32Array, n: number): number[] {
  const best: { i: number; d: number }[] = [];
  for (let i = 0; i < n; i++) {
    const v = vectors[i];
    let d = 0;
    for (let j = 0; j < DIM; j++) d += v[j] * q[j];
    if (best.length < 10 || d > best[9].d) {
      best.push({ i, d });
      best.sort((a, b) => b.d - a.d);
      if (best.length > 10) best.pop();
    }
  }
  return best.map((x) => x.i);
}

const api: VectorsBenchApi = {
  async open(ef) {
    await new Promise<void>((resolve) => {
      const r = indexedDB.deleteDatabase(NAME);
      r.onsuccess = r.onerror = r.onblocked = () => resolve();
    });
    client = await createClient({ name: NAME, storage: 'idb', transport: 'worker', engine: ef === undefined ? undefined : { vectorIndexEf: ef } });
    const root = client.session({ user: 'root', role: 'system' });
    await root.execute(`CREATE NAMESPACE bench; CREATE USER TABLE bench.vecs (id INT PRIMARY KEY, v EMBEDDING(${DIM}))`);
    session = client.session({ user: 'u1', role: 'dba' });
  },
  async load(rows, data) {
    vectors = GENERATORS[data](rows, 16);
    queries = GENERATORS[data](100, 17);
    const started = performance.now();
    for (let i = 0; i < rows; i += BATCH) {
      const batch = vectors.slice(i, i + BATCH);
      await session!.execute(`INSERT INTO bench.vecs (id, v) VALUES ${batch.map((_, j) => `(${i + j}, $${j + 1})`).join(', ')}`, batch);
    }
    return { ms: performance.now() - started };
  },
  async exact(count) {
    const times: number[] = [];
    let firstMs = 0;
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      const { rows } = await session!.query('SELECT id FROM bench.vecs ORDER BY cosine_distance(v, $1) LIMIT 10', [queries[i]]);
      const ms = performance.now() - t;
      if (i === 0) firstMs = ms;
      else times.push(ms);
      const truth = exactTop(queries[i], vectors.length);
      if (rows.map((r) => r.id).join() !== truth.join()) throw new Error(`the exact scan's top-10 differs from the page's for query ${i}`);
    }
    return { times, firstMs };
  },
  async index(indexRows, count, efs) {
    const n = Math.min(indexRows, vectors.length);
    const started = performance.now();
    const graph = new Hnsw<number>(DIM, 'cosine', { seed: 5 }); // the engine's m and efConstruction
    for (let i = 0; i < n; i++) graph.add(i, vectors[i]);
    const buildMs = performance.now() - started;
    const inPageExactMs: number[] = [];
    const truths = queries.slice(0, count).map((q) => {
      const t = performance.now();
      const top = exactTop(q, n);
      inPageExactMs.push(performance.now() - t);
      return top;
    });
    const byEf = efs.map((ef) => {
      const times: number[] = [];
      let hit = 0;
      queries.slice(0, count).forEach((q, i) => {
        const t = performance.now();
        const got = graph.search(q, 10, ef).map((x) => x.key);
        times.push(performance.now() - t);
        const truth = new Set(truths[i]);
        hit += got.filter((x) => truth.has(x)).length;
      });
      return { ef, times, recall: hit / (10 * count) };
    });
    return { buildMs, bytes: graph.bytes(), byEf, inPageExactMs, params: `M ${HNSW_M}, efConstruction ${HNSW_EF_CONSTRUCTION}` };
  },
  /**
   * The vector index through SQL and the worker: CREATE VECTOR INDEX, the
   * first query (exact) requesting the partition's `vector_index` job, the
   * job's build time (polling system.jobs), then top-10 queries through the
   * index — their times and recall@10 against the page's exact top-10 over
   * every vector.
   */
  async sqlIndex(count) {
    const root = client!.session({ user: 'root', role: 'system' });
    const sql = 'SELECT id FROM bench.vecs ORDER BY cosine_distance(v, $1) LIMIT 10';
    let t = performance.now();
    await root.execute('ALTER TABLE bench.vecs CREATE VECTOR INDEX v USING COSINE');
    const createMs = performance.now() - t;
    t = performance.now();
    await session!.query(sql, [queries[0]]);
    const firstMs = performance.now() - t;
    let job: { job_id: string; status: string; message: string | null } | undefined;
    for (;;) {
      const r = await root.query<{ job_id: string; status: string; message: string | null }>(`SELECT job_id, status, message FROM system.jobs WHERE job_type = 'vector_index'`);
      job = r.rows[0];
      if (job && job.status !== 'new' && job.status !== 'queued' && job.status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const buildMs = performance.now() - t;
    if (job.status !== 'completed') throw new Error(`the vector_index job ended ${job.status}: ${job.message}`);
    const explain = await session!.query(`EXPLAIN ${sql}`, [queries[0]]);
    const plan = JSON.stringify(explain.rows, (_, x) => (typeof x === 'bigint' ? String(x) : x));
    const times: number[] = [];
    let hit = 0;
    for (let i = 0; i < count; i++) {
      const q = queries[i % queries.length];
      const s = performance.now();
      const { rows } = await session!.query(sql, [q]);
      times.push(performance.now() - s);
      const truth = new Set(exactTop(q, vectors.length));
      hit += rows.filter((r) => truth.has(r.id as number)).length;
    }
    // What the query costs without the graph: the same kind of rows read by key (another query's true top-10, so their pages are as cold), and a statement's round trip.
    const byKeyTimes: number[] = [];
    const roundTrips: number[] = [];
    for (let i = 0; i < count; i++) {
      const ids = exactTop(queries[(i + count) % queries.length], vectors.length);
      let s = performance.now();
      const { rows } = await session!.query(`SELECT id, v FROM bench.vecs WHERE id IN (${ids.join(', ')})`);
      byKeyTimes.push(performance.now() - s);
      if (rows.length !== 10) throw new Error(`reading 10 rows by key returned ${rows.length}`);
      s = performance.now();
      await session!.query('SELECT 1');
      roundTrips.push(performance.now() - s);
    }
    const stats = await root.query<{ metric_value: unknown }>(`SELECT metric_value FROM system.stats WHERE metric_name = 'vector_index_bytes'`);
    return { createMs, buildMs, job: `${job.job_id}: ${job.message}`, bytes: Number(stats.rows[0]?.metric_value ?? 0), firstMs, times, recall: hit / (10 * count), plan, byKeyTimes, roundTrips };
  },
  async close() {
    await client?.close();
  },
};

window.vectorsBench = api;
