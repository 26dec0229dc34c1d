/**
 * Model-based property test: a maintained live result always equals its
 * query run afresh. Random one-table schemas (USER or SHARED), random live
 * queries (filters with IN / IS NULL / BETWEEN / LIKE, ORDER BY with ties,
 * LIMIT / OFFSET, projections), random interleavings of inserts, updates,
 * deletes and BEGIN … COMMIT / ROLLBACK batches by two users; after every
 * statement each subscription's last delivered rows must equal a fresh run
 * (same rows, same order), and every delivery's change set must turn the
 * previous result into the new one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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

const id = fc.integer({ min: 1, max: 8 });

const insert = (s: Schema) =>
  fc.tuple(id, num, txt, fc.integer({ min: 0, max: 3 })).map(([k, a, b, c]) =>
    `INSERT INTO app.t (id, a, b${s.hasC ? ', c' : ''}) VALUES (${s.pkText ? `'k${k}'` : k}, ${lit(a)}, ${lit(b)}${s.hasC ? `, ${c}` : ''})`);

const write = (s: Schema) => {
  const key = (k: number) => (s.pkText ? `'k${k}'` : String(k));
  return fc.oneof(
    { weight: 4, arbitrary: insert(s) },
    fc.tuple(id, num, txt).map(([k, a, b]) => `UPDATE app.t SET a = ${lit(a)}, b = ${lit(b)} WHERE id = ${key(k)}`),
    fc.integer({ min: 0, max: 5 }).map((k) => `UPDATE app.t SET a = a + 1 WHERE a >= ${k}`),
    fc.tuple(id, txt).map(([k, b]) => `UPDATE app.t SET b = ${lit(b)} WHERE id = ${key(k)}`),
    id.map((k) => `DELETE FROM app.t WHERE id = ${key(k)}`),
    fc.integer({ min: 0, max: 5 }).map((k) => `DELETE FROM app.t WHERE a < ${k}`),
  );
};

const step = (s: Schema) =>
  fc.record({
    user: fc.constantFrom(0, 1),
    statements: fc.oneof(
      { weight: 4, arbitrary: write(s).map((w) => [w]) },
      { weight: 1, arbitrary: fc.tuple(fc.array(write(s), { minLength: 1, maxLength: 4 }), fc.boolean()).map(([ws, commit]) => ['BEGIN', ...ws, commit ? 'COMMIT' : 'ROLLBACK']) },
    ),
  });

const scenario = fc
  .record({ type: fc.constantFrom<'USER' | 'SHARED'>('USER', 'SHARED'), pkText: fc.boolean(), hasC: fc.boolean() })
  .chain((s) => fc.record({
    schema: fc.constant(s),
    queries: fc.array(fc.tuple(fc.constantFrom(0, 1), query(s)), { minLength: 1, maxLength: 4 }),
    seed: fc.array(insert(s), { minLength: 2, maxLength: 8 }),
    steps: fc.array(step(s), { minLength: 8, maxLength: 24 }),
  }));

interface Probe {
  sql: string;
  session: Session;
  rows: readonly Row[];
  deliveries: number;
  stop: () => void;
}

/** Applies a change set to the previous result by identity and checks it yields the new rows' members. */
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
}

async function runScenario(sc: { schema: Schema; queries: [number, string][]; seed: string[]; steps: { user: number; statements: string[] }[] }): Promise<void> {
  const db = await openDatabase({ storage: 'memory' });
  try {
    const root = db.session({ user: 'root', role: 'system' });
    const s = sc.schema;
    await root.execute('CREATE NAMESPACE app');
    await root.execute(
      `CREATE ${s.type} TABLE app.t (id ${s.pkText ? 'TEXT' : 'INT'} PRIMARY KEY, a INT, b TEXT${s.hasC ? ', c INT NOT NULL DEFAULT 0' : ''})`,
    );
    const users = [db.session({ user: 'alice', role: 'service' }), db.session({ user: 'bob', role: 'service' })];
    for (const w of sc.seed) await users[0].execute(w).catch(() => undefined);
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
    const check = async (after: string) => {
      expect(errors, after).toEqual([]);
      for (const p of probes) {
        const fresh = (await p.session.query(p.sql)).rows;
        expect(p.rows, `${p.sql} after ${after}`).toEqual(fresh);
      }
    };
    await check('subscribing');
    const stats = Object.fromEntries((await root.query('SELECT * FROM system.stats')).rows.map((r) => [r.metric_name, r.metric_value]));
    expect(stats.live_queries_maintained).toBe(String(probes.length));
    for (const st of sc.steps) {
      await users[st.user].execute(st.statements.join('; ')).catch(() => undefined);
      await check(`${st.user}: ${st.statements.join('; ')}`);
    }
    for (const p of probes) p.stop();
  } finally {
    await db.close();
  }
}

describe('maintained live queries (model-based)', () => {
  it('equal their query run afresh after every commit, for random schemas, queries and writes by two users', async () => {
    await fc.assert(fc.asyncProperty(scenario, runScenario), { numRuns: 300 });
  }, 120_000);
});
