import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, type SessionState } from '../execute/engine';
import { columnarAggregates } from './columnar-aggregate';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };

let open: Engine[] = [];
afterEach(async () => {
  columnarAggregates.enabled = true;
  for (const e of open) await e.close();
  open = [];
});

const stat = (engine: Engine, name: string) => engine.metrics().find(([k]) => k === name)?.[1] as number;

async function engineWith(rowGroupRows: number, maxSegmentRows: number, compactL0Segments: number): Promise<Engine> {
  const engine = await Engine.open({ storage: 'memory', flushCheckIntervalMs: 0, compactL0Segments, rowGroupRows, maxSegmentRows });
  open.push(engine);
  await engine.execute(root, 'CREATE NAMESPACE app');
  await engine.execute(root, 'CREATE SHARED TABLE app.t (id INT PRIMARY KEY, cat TEXT, n INT, b BIGINT, d DOUBLE, m DECIMAL(12, 2))');
  return engine;
}

/** Rows of one statement, with the fast path on or off. */
async function query(engine: Engine, sql: string, columnar: boolean): Promise<unknown> {
  columnarAggregates.enabled = columnar;
  try {
    return (await engine.execute(root, sql))[0].rows;
  } finally {
    columnarAggregates.enabled = true;
  }
}

/** Drops cached row groups, so the next read loads them as the merge reaches them. */
const forgetCache = (engine: Engine) => engine.cold.cache.forget(new Set(engine.cold.manifest.all().map((m) => m.id)));

const literal = (v: unknown) => (v === null ? 'NULL' : typeof v === 'string' ? `'${v}'` : String(v));

describe('columnar aggregation over cold row groups', () => {
  it('folds unshadowed row groups from their columns and counts them in system.stats', async () => {
    const engine = await engineWith(16, 64, 0);
    const values = Array.from({ length: 200 }, (_, id) => `(${id}, '${['a', 'b', 'c'][id % 3]}', ${id % 5 === 0 ? 'NULL' : id}, ${id * 1000}, ${id / 4}, ${id}.25)`);
    await engine.execute(root, `INSERT INTO app.t (id, cat, n, b, d, m) VALUES ${values.join(', ')}`);
    await engine.execute(root, 'FLUSH TABLE app.t');
    await engine.jobs.idle();
    // One hot update and one hot delete shadow two cold rows; the rest of their groups still fold from columns.
    await engine.execute(root, "UPDATE app.t SET cat = 'z', n = 7 WHERE id = 10; DELETE FROM app.t WHERE id = 11");
    forgetCache(engine);
    const groups = stat(engine, 'row_groups_aggregated_columnar');
    const sql = 'SELECT cat, COUNT(*) AS c, COUNT(n) AS cn, SUM(n) AS sn, SUM(b) AS sb, AVG(d) AS ad, MIN(n) AS mi, MAX(cat) AS mx, SUM(m) AS sm FROM app.t GROUP BY cat ORDER BY cat';
    const fast = (await query(engine, sql, true)) as Record<string, unknown>[];
    // 13 groups of 16 rows (the one holding ids 10 and 11 in three runs around their hot versions), each counted once.
    expect(stat(engine, 'row_groups_aggregated_columnar') - groups).toBe(13);
    expect(fast).toEqual(await query(engine, sql, false));
    expect(fast.map((r) => r.cat)).toEqual(['a', 'b', 'c', 'z']);
    const a = fast[0];
    expect(a.c).toBe(67);
    // SUM of INT is a number, of BIGINT a bigint; AVG a double.
    expect(typeof a.sn).toBe('number');
    expect(typeof a.sb).toBe('bigint');
    expect(fast[3]).toMatchObject({ c: 1, cn: 1, sn: 7, mi: 7, mx: 'z' });
    // Off: nothing folded from columns.
    const before = stat(engine, 'row_groups_aggregated_columnar');
    await query(engine, 'SELECT COUNT(*) AS c FROM app.t', false);
    expect(stat(engine, 'row_groups_aggregated_columnar')).toBe(before);
    expect(await query(engine, 'SELECT COUNT(*) AS c FROM app.t', true)).toEqual([{ c: 199 }]);
  });

  it('leaves statements it does not cover to the row path', async () => {
    const engine = await engineWith(16, 64, 0);
    await engine.execute(root, `INSERT INTO app.t (id, cat, n) VALUES ${Array.from({ length: 50 }, (_, id) => `(${id}, 'k${id % 4}', ${id})`).join(', ')}`);
    await engine.execute(root, 'FLUSH TABLE app.t');
    await engine.jobs.idle();
    const before = stat(engine, 'row_groups_aggregated_columnar');
    for (const sql of [
      'SELECT COUNT(*) FROM app.t WHERE n > 3',
      'SELECT COUNT(DISTINCT cat) FROM app.t',
      'SELECT SUM(n + 1) FROM app.t',
      'SELECT n % 2, COUNT(*) FROM app.t GROUP BY n % 2',
      'SELECT COUNT(*) FILTER (WHERE n > 3) FROM app.t',
      "SELECT STRING_AGG(cat, ',') FROM app.t",
    ]) await engine.execute(root, sql);
    expect(stat(engine, 'row_groups_aggregated_columnar')).toBe(before);
  });

  // A model of the table: key → row, to draw updates and deletes of present keys.
  type Row = [number, string | null, number | null, bigint | null, number | null, string | null];
  const cell = fc.record({
    cat: fc.option(fc.constantFrom('a', 'b', 'c', 'd'), { freq: 5 }),
    n: fc.option(fc.integer({ min: -50, max: 50 }), { freq: 5 }),
    b: fc.option(fc.bigInt({ min: -(2n ** 60n), max: 2n ** 60n }), { freq: 5 }),
    d: fc.option(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { freq: 5 }),
    m: fc.option(fc.integer({ min: -100_000, max: 100_000 }).map((c) => (c / 100).toFixed(2)), { freq: 5 }),
  });
  type Cell = typeof cell extends fc.Arbitrary<infer T> ? T : never;
  const step = fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('insert' as const), ids: fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 1, maxLength: 40 }), cell }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('update' as const), lo: fc.integer({ min: 0, max: 120 }), span: fc.integer({ min: 0, max: 30 }), cell }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), lo: fc.integer({ min: 0, max: 120 }), span: fc.integer({ min: 0, max: 20 }) }) },
    { weight: 3, arbitrary: fc.constant({ kind: 'flush' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
  );
  const aggregateCall = fc.oneof(
    fc.constant('COUNT(*)'),
    fc.tuple(fc.constantFrom('COUNT', 'SUM', 'AVG', 'MIN', 'MAX'), fc.constantFrom('n', 'b', 'd', 'm')).map(([f, c]) => `${f}(${c})`),
    fc.tuple(fc.constantFrom('COUNT', 'MIN', 'MAX'), fc.constantFrom('cat', 'id')).map(([f, c]) => `${f}(${c})`),
  );
  const aggregateQuery = fc.record({
    groupBy: fc.subarray(['cat', 'n', 'b', 'm'], { maxLength: 2 }),
    aggs: fc.array(aggregateCall, { minLength: 1, maxLength: 4 }),
  }).map(({ groupBy, aggs }) => {
    const list = [...groupBy, ...aggs.map((a, i) => `${a} AS a${i}`)].join(', ');
    return `SELECT ${list} FROM app.t${groupBy.length ? ` GROUP BY ${groupBy.join(', ')}` : ''}`;
  });

  it('gives the row path\'s results for any hot and cold versions, flushes and compactions', async () => {
    let folded = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          steps: fc.array(step, { minLength: 1, maxLength: 12 }),
          queries: fc.array(aggregateQuery, { minLength: 1, maxLength: 4 }),
          rowGroupRows: fc.constantFrom(4, 8, 16),
          autoCompact: fc.boolean(),
          cold: fc.boolean(),
        }),
        async ({ steps, queries, rowGroupRows, autoCompact, cold }) => {
          const engine = await engineWith(rowGroupRows, rowGroupRows * 4, autoCompact ? 2 : 0);
          const present = new Set<number>();
          const put = (id: number, c: Cell): Row => [id, c.cat, c.n, c.b, c.d, c.m];
          for (const s of steps) {
            if (s.kind === 'insert') {
              const ids = [...new Set(s.ids)].filter((id) => !present.has(id));
              if (ids.length === 0) continue;
              ids.forEach((id) => present.add(id));
              await engine.execute(root, `INSERT INTO app.t (id, cat, n, b, d, m) VALUES ${ids.map((id) => `(${put(id, s.cell).map(literal).join(', ')})`).join(', ')}`);
            } else if (s.kind === 'update') {
              const c = s.cell;
              await engine.execute(root, `UPDATE app.t SET cat = ${literal(c.cat)}, n = ${literal(c.n)}, b = ${literal(c.b)}, d = ${literal(c.d)}, m = ${literal(c.m)} WHERE id BETWEEN ${s.lo} AND ${s.lo + s.span}`);
            } else if (s.kind === 'delete') {
              await engine.execute(root, `DELETE FROM app.t WHERE id BETWEEN ${s.lo} AND ${s.lo + s.span}`);
              for (let id = s.lo; id <= s.lo + s.span; id++) present.delete(id);
            } else if (s.kind === 'flush') {
              await engine.execute(root, 'FLUSH TABLE app.t');
            } else {
              await engine.execute(root, 'STORAGE COMPACT TABLE app.t');
            }
            await engine.jobs.idle();
          }
          if (cold) {
            await engine.execute(root, 'FLUSH TABLE app.t');
            await engine.jobs.idle();
          }
          const before = stat(engine, 'row_groups_aggregated_columnar');
          for (const sql of queries) {
            forgetCache(engine);
            const fast = await query(engine, sql, true);
            expect(fast).toEqual(await query(engine, sql, false));
          }
          folded += stat(engine, 'row_groups_aggregated_columnar') - before;
          await engine.close();
          open = open.filter((e) => e !== engine);
        },
      ),
      { numRuns: Number(process.env.COLUMNAR_PROPERTY_RUNS ?? 40) },
    );
    // The drawn tables reached the columnar path (and the row path decided the versions it did not).
    expect(folded).toBeGreaterThan(0);
  }, 600_000);
});
