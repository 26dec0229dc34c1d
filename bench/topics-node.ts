/**
 * The cost of topics in Node, without a browser (bench/topics-node.mjs
 * bundles and runs it): the engine over memory storage (so the figures are
 * the engine's CPU, not IndexedDB's), a SHARED table, writes with no
 * source, with one source (`payload = 'full'`), and with three sources on
 * three topics (one with a WHERE); then CONSUME of 100 messages from a
 * group position in a topic holding 100,000, and opening a database whose
 * topic holds 100,000 messages (the topic log reads every retained record
 * once at open). Write figures are the best of three alternating rounds.
 */
import { openDatabase, type KvStore } from '@kalamlite/engine';
import { openMemoryStore } from '../packages/engine/src/storage/memory';

const SINGLE = 3000;
const BULK_ROWS = 1000;
const BULK_STATEMENTS = 20;
const LOG = 100_000;

/** A memory store that outlives the databases opened over it. */
function durable(): KvStore {
  const inner = openMemoryStore();
  return { kind: inner.kind, get: (s, k) => inner.get(s, k), scan: (s, r, v) => inner.scan(s, r, v), commit: (w) => inner.commit(w), close: async () => undefined };
}

async function writes(sources: 0 | 1 | 3): Promise<{ singleUs: number; bulkRowsPerS: number }> {
  const db = await openDatabase({ storage: 'memory', maxTopicMessages: 1_000_000, hotBudgetBytes: 256 * 2 ** 20 });
  const s = db.session({ user: 'root', role: 'system' });
  await s.execute('CREATE NAMESPACE b; CREATE SHARED TABLE b.t (id BIGINT PRIMARY KEY, title TEXT, n INT)');
  if (sources >= 1) await s.execute('CREATE TOPIC t1; ALTER TOPIC t1 ADD SOURCE b.t ON INSERT');
  if (sources === 3) {
    await s.execute(`CREATE TOPIC t2 PARTITIONS 4; ALTER TOPIC t2 ADD SOURCE b.t ON INSERT WITH (payload = 'key');
      CREATE TOPIC t3; ALTER TOPIC t3 ADD SOURCE b.t ON INSERT WHERE n % 2 = 0`);
  }
  for (let i = 0; i < 200; i++) await s.execute('INSERT INTO b.t VALUES ($1, $2, $3)', [BigInt(-1 - i), 'warm', i]); // warm-up
  let t0 = performance.now();
  for (let i = 0; i < SINGLE; i++) await s.execute('INSERT INTO b.t VALUES ($1, $2, $3)', [BigInt(i), `title ${i}`, i]);
  const singleUs = ((performance.now() - t0) * 1000) / SINGLE;
  t0 = performance.now();
  for (let k = 0; k < BULK_STATEMENTS; k++) {
    const base = 1_000_000 + k * BULK_ROWS;
    await s.execute(`INSERT INTO b.t VALUES ${Array.from({ length: BULK_ROWS }, (_, i) => `(${base + i}, 'bulk ${i}', ${i})`).join(', ')}`);
  }
  const bulkRowsPerS = (BULK_ROWS * BULK_STATEMENTS) / ((performance.now() - t0) / 1000);
  await db.close();
  return { singleUs, bulkRowsPerS };
}

async function consumeAndOpen(): Promise<{ consumeMs: number; openMs: number; openNoTopicMs: number }> {
  const kv = durable();
  let db = await openDatabase({ storage: kv, maxTopicMessages: LOG, hotBudgetBytes: 256 * 2 ** 20 });
  let s = db.session({ user: 'root', role: 'system' });
  await s.execute('CREATE NAMESPACE b; CREATE SHARED TABLE b.t (id BIGINT PRIMARY KEY, title TEXT, n INT); CREATE TOPIC log PARTITIONS 4; ALTER TOPIC log ADD SOURCE b.t ON INSERT');
  for (let k = 0; k < LOG / 1000; k++) {
    await s.execute(`INSERT INTO b.t VALUES ${Array.from({ length: 1000 }, (_, i) => `(${k * 1000 + i}, 'row ${i}', ${i})`).join(', ')}`);
  }
  await s.execute("ACK log GROUP 'g' UPTO LATEST");
  for (let p = 0; p < 4; p++) await s.execute(`ACK log GROUP 'h' PARTITION ${p} UPTO OFFSET 12000`);
  const runs: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    const r = await s.query("CONSUME FROM log GROUP 'h' LIMIT 100");
    runs.push(performance.now() - t0);
    if (r.rows.length !== 100) throw new Error('expected 100 messages');
  }
  runs.sort((a, b) => a - b);
  await db.close();
  let t0 = performance.now();
  db = await openDatabase({ storage: kv, maxTopicMessages: LOG, hotBudgetBytes: 256 * 2 ** 20 });
  const openMs = performance.now() - t0;
  s = db.session({ user: 'root', role: 'system' });
  await s.execute('DROP TOPIC log');
  await db.close();
  t0 = performance.now();
  db = await openDatabase({ storage: kv, hotBudgetBytes: 256 * 2 ** 20 });
  const openNoTopicMs = performance.now() - t0;
  await db.close();
  return { consumeMs: runs[runs.length >> 1], openMs, openNoTopicMs };
}

// Alternating rounds, the best of each (JIT warm-up and GC otherwise favour whichever runs later).
const best = { none: { singleUs: Infinity, bulkRowsPerS: 0 }, one: { singleUs: Infinity, bulkRowsPerS: 0 }, three: { singleUs: Infinity, bulkRowsPerS: 0 } };
for (let round = 0; round < 3; round++) {
  for (const [key, sources] of [['none', 0], ['one', 1], ['three', 3]] as const) {
    const r = await writes(sources);
    best[key].singleUs = Math.min(best[key].singleUs, r.singleUs);
    best[key].bulkRowsPerS = Math.max(best[key].bulkRowsPerS, r.bulkRowsPerS);
  }
}
const { none, one, three } = best;
const log = await consumeAndOpen();
console.log(JSON.stringify({ none, one, three, ...log }));
