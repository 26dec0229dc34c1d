/**
 * Aggregates over cold rows in Node, without a browser
 * (bench/aggregates-node.mjs bundles and runs it): the bench table
 * (bench/sql.ts) in the engine over memory storage, loaded with insertMany, flushed and
 * compacted, then per round with the columnar fold on and off
 * (exec/columnar-aggregate.ts), alternating so machine load falls on both:
 *
 * - `SELECT category, COUNT(*) AS n, AVG(score) AS avg_score FROM bench.items GROUP BY category ORDER BY category`
 * - `SELECT COUNT(*) AS n FROM bench.items`
 *
 * each run once with the row-group cache emptied first ("cold": groups are
 * loaded and decoded as the merge reaches them) and once right after
 * ("cached"). Prints one JSON line: p50, min and max per query and mode,
 * and whether both paths gave equal answers.
 */
import { resolveInsertManyOptions } from '../packages/engine/src/api/session-options';
import { columnarAggregates } from '../packages/engine/src/exec/columnar-aggregate';
import { Engine, type SessionState } from '../packages/engine/src/execute/engine';
import { insertMany } from '../packages/engine/src/execute/insert-many';
import { rowFor } from './rows';
import { CREATE_NAMESPACE, CREATE_TABLE } from './sql';

const ROWS = Number(process.env.KALAM_AGG_ROWS ?? 200_000);
const ROUNDS = Number(process.env.KALAM_AGG_ROUNDS ?? 7);
const SEED = 7;
const GROUP_BY = 'SELECT category, COUNT(*) AS n, AVG(score) AS avg_score FROM bench.items GROUP BY category ORDER BY category';
const COUNT = 'SELECT COUNT(*) AS n FROM bench.items';

const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
};

async function main(): Promise<void> {
  // The engine itself (not openDatabase): the bench empties its row-group cache between runs.
  const engine = await Engine.open({ storage: 'memory', flushCheckIntervalMs: 0 });
  const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
  const query = async (sql: string) => (await engine.execute(root, sql))[0].rows as Record<string, unknown>[];
  await engine.execute(root, `${CREATE_NAMESPACE}; ${CREATE_TABLE}`);
  const t0 = performance.now();
  async function* rows() {
    for (let id = 0; id < ROWS; id++) {
      const r = rowFor(SEED, id);
      yield { id: BigInt(r.id), category: r.category, score: r.score, title: r.title };
    }
  }
  await insertMany(engine, root, 'bench.items', rows(), resolveInsertManyOptions({}));
  await engine.execute(root, 'FLUSH TABLE bench.items');
  await engine.jobs.idle();
  await engine.execute(root, 'STORAGE COMPACT TABLE bench.items');
  await engine.jobs.idle();
  const loadMs = performance.now() - t0;
  const stats = () => Object.fromEntries(engine.metrics()) as Record<string, number>;
  const before = stats();

  const times: Record<string, number[]> = {};
  /** Row groups fetched and decoded per run (row_group_loads): the fold must not load more than the row path. */
  const loads: Record<string, number> = {};
  const answers: Record<string, string> = {};
  let same = true;
  const time = async (label: string, sql: string, columnar: boolean, cold: boolean) => {
    columnarAggregates.enabled = columnar;
    if (cold) engine.cold.cache.forget(new Set(engine.cold.manifest.all().map((m) => m.id)));
    const loaded = stats().row_group_loads;
    const t = performance.now();
    const out = await query(sql);
    const ms = performance.now() - t;
    loads[`${label} ${cold ? 'cold' : 'cached'} ${columnar ? 'columnar' : 'rows'}`] = stats().row_group_loads - loaded;
    columnarAggregates.enabled = true;
    const key = `${label} ${cold ? 'cold' : 'cached'}`;
    (times[`${key} ${columnar ? 'columnar' : 'rows'}`] ??= []).push(ms);
    const text = JSON.stringify(out, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    if (answers[label] === undefined) answers[label] = text;
    else if (answers[label] !== text) same = false;
  };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [true, false] : [false, true];
    for (const columnar of order) {
      await time('group by', GROUP_BY, columnar, true);
      await time('group by', GROUP_BY, columnar, false);
      await time('count', COUNT, columnar, true);
      await time('count', COUNT, columnar, false);
    }
  }
  const after = stats();
  const figures = Object.fromEntries(Object.entries(times).map(([k, xs]) => [k, summary(xs)]));
  console.log(JSON.stringify({
    rows: ROWS,
    rounds: ROUNDS,
    loadMs,
    segments: after.segments,
    rowGroups: after.row_groups,
    rowGroupsAggregatedColumnar: after.row_groups_aggregated_columnar - before.row_groups_aggregated_columnar,
    figures,
    loads,
    same,
  }));
  await engine.close();
}

await main();
