/**
 * Model-based property test: a maintained live result always equals its
 * query run afresh. Random one-table schemas (USER or SHARED), random live
 * queries (filters with IN / IS NULL / BETWEEN / LIKE, ORDER BY with ties,
 * LIMIT / OFFSET, projections), random interleavings of inserts, updates,
 * deletes and BEGIN … COMMIT / ROLLBACK batches by two users, and of
 * flushes and compactions (STORAGE FLUSH / STORAGE COMPACT, and automatic
 * compactions with tiny row groups and segments, so rows move between the
 * hot tier and cold segments of both levels between commits); after every
 * step each subscription's last delivered rows must equal a fresh run
 * (same rows, same order), and every delivery's change set must turn the
 * previous result into the new one.
 *
 * Every write's outcome is checked against a model of each partition:
 * it must succeed, except where the model expects PRIMARY_KEY_VIOLATION
 * (then the statement — or the whole BEGIN … batch — writes nothing), and
 * each user's rows must equal the model's after every step.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import { openDatabase, type Session } from '../api/database';
import type { Row, Value } from '../core/types';
import type { LiveChange } from './types';

interface Schema {
  type: 'USER' | 'SHARED';
  pkText: boolean;
  hasC: boolean;
}

const num = fc.oneof(fc.constant<null>(null), fc.integer({ min: 0, max: 5 }));
const txt = fc.constantFrom<string | null>(null, 'x', 'xy', 'y', 'yz', 'z');
const lit = (v: Value) => (v === null ? 'NULL' : typeof v === 'string' ? `'${v}'` : String(v));

const predicate: fc.Arbitrary<string> = fc.letrec<{ p: string }>((tie) => ({
  p: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: 0, max: 5 }).map((k) => `a > ${k}`),
    fc.integer({ min: 0, max: 5 }).map((k) => `a <= ${k}`),
    fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })).map(([x, y]) => `a IN (${x}, ${y})`),
    fc.constant('a IS NULL'),
    fc.constant('b IS NOT NULL'),
    fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })).map(([x, y]) => `a BETWEEN ${Math.min(x, y)} AND ${Math.max(x, y)}`),
    fc.constantFrom("b LIKE 'x%'", "b LIKE '%z'", "b NOT LIKE 'y%'"),
    fc.integer({ min: 0, max: 5 }).map((k) => `NOT (a = ${k})`),
    fc.tuple(tie('p'), tie('p')).map(([l, r]) => `(${l}) AND (${r})`),
    fc.tuple(tie('p'), tie('p')).map(([l, r]) => `(${l}) OR (${r})`),
  ),
})).p;

const query = (s: Schema) =>
  fc.record({
    select: fc.constantFrom('*', 'id, a', 'b, id', 'id, a + 1 AS a1, b', "upper(b) AS ub, id", s.hasC ? 'id, c' : 'id'),
    where: fc.option(predicate, { nil: undefined }),
    order: fc.constantFrom('', 'a', 'a DESC', 'a NULLS FIRST', 'b DESC NULLS LAST, a', 'a + 1 DESC', 'b', s.hasC ? 'c DESC, b' : 'id DESC', '_seq DESC'),
    limit: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
    offset: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
  }).map((q) =>
    `SELECT ${q.select} FROM app.t${q.where ? ` WHERE ${q.where}` : ''}${q.order ? ` ORDER BY ${q.order}` : ''}` +
    `${q.limit !== undefined ? ` LIMIT ${q.limit}` : ''}${q.offset !== undefined ? ` OFFSET ${q.offset}` : ''}`);

/** One write, as the model and the SQL both read it. */
type Write =
  | { kind: 'insert'; k: number; a: number | null; b: string | null; c: number }
  | { kind: 'setAB'; k: number; a: number | null; b: string | null }
  | { kind: 'incA'; k: number }
  | { kind: 'setB'; k: number; b: string | null }
  | { kind: 'delId'; k: number }
  | { kind: 'delA'; k: number };

const id = fc.integer({ min: 1, max: 8 });

const insert: fc.Arbitrary<Write> = fc.tuple(id, num, txt, fc.integer({ min: 0, max: 3 })).map(([k, a, b, c]) => ({ kind: 'insert', k, a, b, c }));

const write: fc.Arbitrary<Write> = fc.oneof(
  { weight: 4, arbitrary: insert },
  fc.tuple(id, num, txt).map(([k, a, b]): Write => ({ kind: 'setAB', k, a, b })),
  fc.integer({ min: 0, max: 5 }).map((k): Write => ({ kind: 'incA', k })),
  fc.tuple(id, txt).map(([k, b]): Write => ({ kind: 'setB', k, b })),
  id.map((k): Write => ({ kind: 'delId', k })),
  fc.integer({ min: 0, max: 5 }).map((k): Write => ({ kind: 'delA', k })),
);

function sqlOf(w: Write, s: Schema): string {
  const key = (k: number) => (s.pkText ? `'k${k}'` : String(k));
  switch (w.kind) {
    case 'insert': return `INSERT INTO app.t (id, a, b${s.hasC ? ', c' : ''}) VALUES (${key(w.k)}, ${lit(w.a)}, ${lit(w.b)}${s.hasC ? `, ${w.c}` : ''})`;
    case 'setAB': return `UPDATE app.t SET a = ${lit(w.a)}, b = ${lit(w.b)} WHERE id = ${key(w.k)}`;
    case 'incA': return `UPDATE app.t SET a = a + 1 WHERE a >= ${w.k}`;
    case 'setB': return `UPDATE app.t SET b = ${lit(w.b)} WHERE id = ${key(w.k)}`;
    case 'delId': return `DELETE FROM app.t WHERE id = ${key(w.k)}`;
    case 'delA': return `DELETE FROM app.t WHERE a < ${w.k}`;
  }
}

/** A partition's live rows by key. */
type Part = Map<number, { a: number | null; b: string | null; c: number }>;

/** Applies a write to the model: 'ok', or the error code the engine must answer (and then nothing changed). */
function applyWrite(w: Write, p: Part, s: Schema): 'ok' | 'PRIMARY_KEY_VIOLATION' {
  switch (w.kind) {
    case 'insert':
      if (p.has(w.k)) return 'PRIMARY_KEY_VIOLATION';
      p.set(w.k, { a: w.a, b: w.b, c: s.hasC ? w.c : 0 });
      return 'ok';
    case 'setAB': {
      const r = p.get(w.k);
      if (r) p.set(w.k, { ...r, a: w.a, b: w.b });
      return 'ok';
    }
    case 'incA':
      for (const [k, r] of p) if (r.a !== null && r.a >= w.k) p.set(k, { ...r, a: r.a + 1 });
      return 'ok';
    case 'setB': {
      const r = p.get(w.k);
      if (r) p.set(w.k, { ...r, b: w.b });
      return 'ok';
    }
    case 'delId':
      p.delete(w.k);
      return 'ok';
    case 'delA':
      for (const [k, r] of p) if (r.a !== null && r.a < w.k) p.delete(k);
      return 'ok';
  }
}

type Step =
  | { kind: 'write'; user: number; writes: Write[]; tx?: { commit: boolean } }
  | { kind: 'storage'; sql: 'STORAGE FLUSH TABLE app.t' | 'STORAGE COMPACT TABLE app.t' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom(0, 1), write).map(([user, w]): Step => ({ kind: 'write', user, writes: [w] })) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constantFrom(0, 1), fc.array(write, { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([user, writes, commit]): Step => ({ kind: 'write', user, writes, tx: { commit } })),
  },
  { weight: 3, arbitrary: fc.constant<Step>({ kind: 'storage', sql: 'STORAGE FLUSH TABLE app.t' }) },
  { weight: 1, arbitrary: fc.constant<Step>({ kind: 'storage', sql: 'STORAGE COMPACT TABLE app.t' }) },
);

const scenario = fc
  .record({ type: fc.constantFrom<'USER' | 'SHARED'>('USER', 'SHARED'), pkText: fc.boolean(), hasC: fc.boolean() })
  .chain((s) => fc.record({
    schema: fc.constant(s),
    queries: fc.array(fc.tuple(fc.constantFrom(0, 1), query(s)), { minLength: 1, maxLength: 4 }),
    seed: fc.array(insert, { minLength: 2, maxLength: 8 }),
    steps: fc.array(step, { minLength: 8, maxLength: 24 }),
    cacheBytes: fc.constantFrom(1_000, 64 << 20),
  }));

interface Probe {
  sql: string;
  session: Session;
  rows: readonly Row[];
  deliveries: number;
  stop: () => void;
}

/** Applies a change set to the previous result by identity and checks it yields the new rows' members; deleted keys are exactly the ids that left. */
function checkChange(prev: readonly Row[], next: readonly Row[], change: LiveChange): void {
  if (change.kind !== 'changes') return;
  const members = new Set(prev);
  for (const u of change.updated) {
    expect(members.has(u.old)).toBe(true);
    members.delete(u.old);
    members.add(u.row);
  }
  // Deleted keys name rows of `prev` that are gone: the new result plus deletions accounts for all of prev.
  expect(prev.length - change.deleted.length - change.updated.length + change.updated.length + change.inserted.length).toBe(next.length);
  for (const r of change.inserted) members.add(r);
  for (const r of next) expect(members.has(r)).toBe(true);
  // Every query selects id: the deleted keys are ids of prev, and every id that left is among them.
  const prevIds = new Set(prev.map((r) => r.id));
  const nextIds = new Set(next.map((r) => r.id));
  expect(new Set(change.deleted).size).toBe(change.deleted.length);
  for (const k of change.deleted) expect(prevIds.has(k as Value)).toBe(true);
  for (const k of prevIds) if (!nextIds.has(k)) expect(change.deleted).toContain(k);
}

const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof KalamError ? e.code : `not a KalamError: ${String(e)}`));

async function runScenario(sc: { schema: Schema; queries: [number, string][]; seed: Write[]; steps: Step[]; cacheBytes: number }): Promise<void> {
  const db = await openDatabase({ storage: 'memory', rowGroupRows: 2, maxSegmentRows: 4, compactL0Segments: 2, segmentCacheBytes: sc.cacheBytes, flushCheckIntervalMs: 0 });
  try {
    const root = db.session({ user: 'root', role: 'system' });
    const s = sc.schema;
    await root.execute('CREATE NAMESPACE app');
    await root.execute(
      `CREATE ${s.type} TABLE app.t (id ${s.pkText ? 'TEXT' : 'INT'} PRIMARY KEY, a INT, b TEXT${s.hasC ? ', c INT NOT NULL DEFAULT 0' : ''})`,
    );
    const users = [db.session({ user: 'alice', role: 'service' }), db.session({ user: 'bob', role: 'service' })];
    // The model: one partition per user of a USER table, one shared by both for SHARED.
    const parts: Part[] = s.type === 'USER' ? [new Map(), new Map()] : [new Map()];
    const partOf = (user: number) => parts[s.type === 'USER' ? user : 0];
    for (const w of sc.seed) {
      const expected = applyWrite(w, partOf(0), s);
      expect(await outcome(users[0].execute(sqlOf(w, s))), sqlOf(w, s)).toBe(expected);
    }
    const probes: Probe[] = [];
    const errors: unknown[] = [];
    for (const [u, sql] of sc.queries) {
      const probe: Probe = { sql, session: users[u], rows: [], deliveries: 0, stop: () => undefined };
      probe.stop = await users[u].live(sql, [], (rows, change) => {
        if (probe.deliveries > 0) checkChange(probe.rows, rows, change);
        probe.rows = rows;
        probe.deliveries++;
      }, (e) => errors.push(e));
      probes.push(probe);
    }
    const key = (k: number) => (s.pkText ? `k${k}` : k);
    const check = async (after: string) => {
      expect(errors, after).toEqual([]);
      for (const [u, session] of users.entries()) {
        const modelRows = [...partOf(u)].sort(([x], [y]) => x - y).map(([k, r]) => ({ id: key(k), a: r.a, b: r.b }));
        expect((await session.query('SELECT id, a, b FROM app.t ORDER BY id')).rows, `user ${u} after ${after}`).toEqual(modelRows);
      }
      for (const p of probes) {
        const fresh = (await p.session.query(p.sql)).rows;
        expect(p.rows, `${p.sql} after ${after}`).toEqual(fresh);
      }
    };
    const jobsIdle = async () => {
      for (let i = 0; ; i++) {
        const { rows } = await root.query("SELECT COUNT(*) AS c FROM system.jobs WHERE status = 'queued' OR status = 'running'");
        if (rows[0].c === 0) return;
        if (i > 5_000) throw new Error('jobs never finished');
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    await check('subscribing');
    const stats = Object.fromEntries((await root.query('SELECT * FROM system.stats')).rows.map((r) => [r.metric_name, r.metric_value]));
    expect(stats.live_queries_maintained).toBe(String(probes.length));
    for (const st of sc.steps) {
      if (st.kind === 'storage') {
        expect(await outcome(root.execute(st.sql)), st.sql).toBe('ok');
        await jobsIdle();
        const failed = await root.query("SELECT message FROM system.jobs WHERE status = 'failed'");
        expect(failed.rows, st.sql).toEqual([]);
        await check(st.sql);
        continue;
      }
      const part = partOf(st.user);
      let expected: string;
      let text: string;
      if (st.tx) {
        // BEGIN … COMMIT/ROLLBACK: the first failing statement fails the batch and rolls it back.
        const staged: Part = new Map(part);
        const failure = st.writes.map((w) => applyWrite(w, staged, s)).find((o) => o !== 'ok');
        expected = failure ?? 'ok';
        if (!failure && st.tx.commit) {
          part.clear();
          for (const [k, r] of staged) part.set(k, r);
        }
        text = ['BEGIN', ...st.writes.map((w) => sqlOf(w, s)), st.tx.commit ? 'COMMIT' : 'ROLLBACK'].join('; ');
      } else {
        expected = applyWrite(st.writes[0], part, s);
        text = sqlOf(st.writes[0], s);
      }
      expect(await outcome(users[st.user].execute(text)), text).toBe(expected);
      await check(`${st.user}: ${text}`);
    }
    for (const p of probes) p.stop();
  } finally {
    await db.close();
  }
}

describe('maintained live queries (model-based)', () => {
  it('equal their query run afresh after every commit, flush and compaction, for random schemas, queries and writes by two users', async () => {
    await fc.assert(fc.asyncProperty(scenario, runScenario), { numRuns: 300 });
  }, 240_000);
});
