/**
 * Model-based property test of reads across tiers: any interleaving of
 * inserts, updates, deletes (by key and by key range), flushes,
 * compactions (STORAGE COMPACT, and automatic ones after flushes with
 * compactL0Segments 0, 2 or 3), crashes in the middle of a compaction and
 * reopens on a table with tiny row groups and segments (4 and 16 rows, so
 * many groups, segments and levels overlap) answers point lookups, key
 * ranges in both orders, full scans with a non-key filter, COUNT(*) and
 * tombstone reads exactly as an in-memory model does — also inside a
 * transaction whose staged rows overlay the committed ones. With
 * DELETED_RETENTION_HOURS = 0 compactions drop tombstones: then the
 * tombstones read are a subset of the model's. After every step the
 * storage holds only committed segments' entries and bytes, level 1 is one
 * sorted run, and (with automatic compaction) fewer than compactL0Segments
 * level 0 segments remain.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Value } from '../core/types';
import type { KvStore } from '../storage/kv';
import { openMemoryStore } from '../storage/memory';
import { coldStorage, expectSortedRun, maxSegmentsPerKey } from '../jobs/compact.fixture';
import { compactPartition } from '../jobs/compact';
import { levelOf } from '../storage/cold/types';
import { Engine, type SessionState } from './engine';
import type { Transaction } from './transaction';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };

type Version = { a: number | null; b: string; deleted: boolean };
type Model = Map<number, Version>;

type Op =
  | { kind: 'upsert'; keys: number[]; a: number | null; b: string }
  | { kind: 'update'; lo: number; hi: number; a: number | null }
  | { kind: 'delete'; lo: number; hi: number }
  | { kind: 'flush' }
  | { kind: 'compact' }
  | { kind: 'crash'; stopAfter: 1 | 2 }
  | { kind: 'reopen' }
  | { kind: 'tx'; ops: Op[]; commit: boolean };

const key = fc.integer({ min: 0, max: 60 });
const aValue = fc.option(fc.integer({ min: 0, max: 9 }), { nil: null });
const bValue = fc.constantFrom('x', 'yy', 'zzz', 'note');
const write: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('upsert' as const), keys: fc.uniqueArray(key, { minLength: 1, maxLength: 12 }), a: aValue, b: bValue }) },
  { weight: 2, arbitrary: fc.tuple(key, fc.integer({ min: 0, max: 8 }), aValue).map(([lo, w, a]): Op => ({ kind: 'update', lo, hi: lo + w, a })) },
  { weight: 2, arbitrary: fc.tuple(key, fc.integer({ min: 0, max: 6 })).map(([lo, w]): Op => ({ kind: 'delete', lo, hi: lo + w })) },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: write },
  { weight: 5, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constantFrom(1 as const, 2 as const).map((stopAfter): Op => ({ kind: 'crash', stopAfter })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tx' as const), ops: fc.array(write, { minLength: 1, maxLength: 4 }), commit: fc.boolean() }) },
);

const sqlValue = (v: Value) => (v === null ? 'NULL' : typeof v === 'string' ? `'${v}'` : String(v));

/** The statements of one write against the model's state (INSERT for new or deleted keys, UPDATE for live ones). */
function statements(w: Op, model: Model): string[] {
  switch (w.kind) {
    case 'upsert': {
      const fresh = w.keys.filter((k) => !model.get(k) || model.get(k)!.deleted);
      const live = w.keys.filter((k) => model.get(k) && !model.get(k)!.deleted);
      const out: string[] = [];
      if (fresh.length > 0) out.push(`INSERT INTO app.t (id, a, b) VALUES ${fresh.map((k) => `(${k}, ${sqlValue(w.a)}, '${w.b}')`).join(', ')}`);
      if (live.length > 0) out.push(`UPDATE app.t SET a = ${sqlValue(w.a)}, b = '${w.b}' WHERE id IN (${live.join(', ')})`);
      return out;
    }
    case 'update': return [`UPDATE app.t SET a = ${sqlValue(w.a)} WHERE id BETWEEN ${w.lo} AND ${w.hi}`];
    case 'delete': return [`DELETE FROM app.t WHERE id >= ${w.lo} AND id <= ${w.hi}`];
    default: return [];
  }
}

function apply(w: Op, model: Model): void {
  switch (w.kind) {
    case 'upsert':
      for (const k of w.keys) model.set(k, { a: w.a, b: w.b, deleted: false });
      break;
    case 'update':
      for (const [k, v] of model) if (k >= w.lo && k <= w.hi && !v.deleted) model.set(k, { ...v, a: w.a });
      break;
    case 'delete':
      for (const [k, v] of model) if (k >= w.lo && k <= w.hi && !v.deleted) model.set(k, { ...v, deleted: true });
      break;
    default:
  }
}

interface Reader {
  rows(sql: string): Promise<Record<string, Value>[]>;
}

/** Every check against the model: point lookups, ranges both ways, a non-key filter, COUNT(*), tombstones (all of them, or some when compactions may drop them). */
async function check(r: Reader, model: Model, probe: { k: number; lo: number; hi: number; a: number }, purges: boolean): Promise<void> {
  const live = [...model].filter(([, v]) => !v.deleted).sort(([x], [y]) => x - y);
  const row = ([k, v]: [number, Version]) => ({ id: k, a: v.a, b: v.b });
  const at = model.get(probe.k);
  expect(await r.rows(`SELECT id, a, b FROM app.t WHERE id = ${probe.k}`)).toEqual(at && !at.deleted ? [row([probe.k, at])] : []);
  const inRange = live.filter(([k]) => k >= probe.lo && k <= probe.hi);
  expect(await r.rows(`SELECT id, a, b FROM app.t WHERE id BETWEEN ${probe.lo} AND ${probe.hi}`)).toEqual(inRange.map(row));
  // A key list (lookups per key): duplicates and NULL named, in key order either way.
  const named = new Set([probe.k, probe.lo, probe.hi]);
  const listed = live.filter(([k]) => named.has(k));
  expect(await r.rows(`SELECT id, a, b FROM app.t WHERE id IN (${probe.hi}, ${probe.k}, NULL, ${probe.lo}, ${probe.k})`)).toEqual(listed.map(row));
  expect(await r.rows(`SELECT id FROM app.t WHERE id = ${probe.lo} OR ${probe.hi} = id OR id = ${probe.k} ORDER BY id DESC`)).toEqual(listed.reverse().map(([k]) => ({ id: k })));
  expect(await r.rows(`SELECT id FROM app.t WHERE id IN (${probe.k}, ${probe.lo}) AND a > ${probe.a}`)).toEqual(
    live.filter(([k, v]) => (k === probe.k || k === probe.lo) && v.a !== null && v.a > probe.a).map(([k]) => ({ id: k })));
  expect(await r.rows(`SELECT id FROM app.t WHERE id > ${probe.lo} ORDER BY id DESC LIMIT 3`)).toEqual(
    live.filter(([k]) => k > probe.lo).reverse().slice(0, 3).map(([k]) => ({ id: k })));
  expect(await r.rows(`SELECT id, b FROM app.t WHERE a = ${probe.a}`)).toEqual(live.filter(([, v]) => v.a === probe.a).map(([k, v]) => ({ id: k, b: v.b })));
  expect(await r.rows(`SELECT id FROM app.t WHERE a > ${probe.a} OR a IS NULL`)).toEqual(
    live.filter(([, v]) => v.a === null || v.a > probe.a).map(([k]) => ({ id: k })));
  expect(await r.rows('SELECT COUNT(*) AS c FROM app.t')).toEqual([{ c: live.length }]);
  const tombstones = [...model].filter(([, v]) => v.deleted).sort(([x], [y]) => x - y).map(([k]) => ({ id: k }));
  const seen = await r.rows('SELECT id FROM app.t WHERE _deleted = true');
  if (purges) for (const t of seen) expect(tombstones).toContainEqual(t);
  else expect(seen).toEqual(tombstones);
}

/** Storage and levels after the jobs settled: only committed segments, one sorted run, the read-amplification bound. */
async function checkStorage(engine: Engine, l0Max: number, compacted: boolean): Promise<void> {
  const { entries, withBytes } = await coldStorage(engine.kv);
  const committed = engine.cold.manifest.all().map((m) => m.id).sort();
  expect(entries.map((m) => m.status).filter((s) => s !== 'committed')).toEqual([]);
  expect(withBytes).toEqual(committed);
  const t = engine.catalog.requireTable('app', 't');
  expectSortedRun(engine, t.id, '');
  const l0 = engine.cold.manifest.segments(t.id, '').filter((m) => levelOf(m) === 0).length;
  if (compacted) expect(l0).toBe(0);
  if (l0Max > 0) {
    expect(l0).toBeLessThan(l0Max);
    expect(maxSegmentsPerKey(engine, t.id, '', 60)).toBeLessThanOrEqual(l0Max);
  }
}

/** A memory store that outlives an engine's close, so a new engine can open it again. */
function durable(kv: KvStore): KvStore {
  return { kind: kv.kind, get: (s, k) => kv.get(s, k), scan: (s, r, v) => kv.scan(s, r, v), commit: (w) => kv.commit(w), close: async () => undefined };
}

const probeArb = fc.record({ k: key, lo: key, hi: key, a: fc.integer({ min: 0, max: 9 }) }).map((p) => ({ ...p, hi: Math.max(p.lo, p.hi) }));

describe('reads across hot and cold tiers equal a model', () => {
  it('after any interleaving of writes, flushes, compactions, crashes and reopens, with row groups of 4 and segments of 16 rows', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(op, probeArb), { minLength: 10, maxLength: 30, size: 'max' }),
        fc.constantFrom(2_000, 40_000, 64 << 20),
        fc.constantFrom(0, 2, 3),
        fc.boolean(),
        async (steps, cacheBytes, l0Max, purges) => {
          const kv = durable(openMemoryStore());
          const open = async () => {
            const e = await Engine.open({ storage: kv, rowGroupRows: 4, maxSegmentRows: 16, segmentCacheBytes: cacheBytes, flushCheckIntervalMs: 0, compactL0Segments: l0Max });
            await e.jobs.idle(); // a compaction open found due
            return e;
          };
          let engine = await open();
          try {
            await engine.execute(root, `CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, a INT, b TEXT) WITH (DELETED_RETENTION_HOURS = ${purges ? 0 : 168})`);
            const model: Model = new Map();
            const reader = (tx?: Transaction): Reader => ({ rows: async (sql) => (await engine.execute(root, sql, [], tx))[0].rows as Record<string, Value>[] });
            for (const [o, probe] of steps) {
              let compacted = false;
              if (o.kind === 'flush') {
                await engine.execute(root, 'FLUSH TABLE app.t');
                await engine.jobs.idle();
              } else if (o.kind === 'compact') {
                await engine.execute(root, 'STORAGE COMPACT TABLE app.t');
                await engine.jobs.idle();
                compacted = true;
              } else if (o.kind === 'crash') {
                // A crash in the middle of a compaction, then open.
                await compactPartition(engine, engine.catalog.requireTable('app', 't'), '', { stopAfter: o.stopAfter, rewriteUnknown: true });
                await engine.close();
                engine = await open();
              } else if (o.kind === 'reopen') {
                await engine.close();
                engine = await open();
              } else if (o.kind === 'tx') {
                const tx = engine.beginTransaction('root', 'api');
                const staged: Model = new Map(model);
                for (const w of o.ops) {
                  for (const sql of statements(w, staged)) await engine.execute(root, sql, [], tx);
                  apply(w, staged);
                }
                await check(reader(tx), staged, probe, purges);
                if (o.commit) {
                  await engine.commitTransaction(tx);
                  for (const [k, v] of staged) {
                    // A key neither live before nor after the transaction is not written (it stays as it was).
                    const before = model.get(k);
                    if ((!before || before.deleted) && v.deleted) continue;
                    model.set(k, v);
                  }
                } else {
                  engine.rollbackTransaction(tx);
                }
              } else {
                for (const sql of statements(o, model)) await engine.execute(root, sql);
                apply(o, model);
              }
              await check(reader(), model, probe, purges);
              await checkStorage(engine, l0Max, compacted);
            }
            expect(engine.metrics().find(([k]) => k === 'segment_pins')?.[1]).toBe(0);
          } finally {
            await engine.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
