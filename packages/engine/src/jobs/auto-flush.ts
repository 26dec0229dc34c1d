/**
 * The hot tier is a bounded write buffer (ARCHITECTURE decision 9): every
 * USER and SHARED table flushes on its own, so the rows held in memory and
 * loaded at open stay bounded whatever the size of the database.
 *
 * - Default policy (a table without FLUSH_POLICY): a partition that holds
 *   `hotPartitionRows` hot rows is flushed.
 * - Engine budget: when the hot rows of USER and SHARED tables together
 *   exceed `hotBudgetBytes` (rough bytes, core/schema.ts rowBytes), the
 *   largest partitions are flushed until they are back under half of it.
 * - Back-pressure: a write waits while those rows exceed twice the budget
 *   and a flush is under way (`waitForHotRoom`), so a bulk load runs at the
 *   speed flushes drain the buffer instead of growing the heap.
 *
 * STREAM tables are not counted: they are not flushed, their rows expire
 * (TTL_SECONDS). A table with a FLUSH_POLICY is flushed by its policy
 * (flush-policy.ts) and by the budget.
 */
import type { TableDef } from '../core/schema';
import { activeFlush, preloadFlush, requestFlush, type FlushContext } from './flush';
import { flushPolicyOf } from './flush-policy';
import { HOT_DEFAULTS as HOT } from '../core/defaults';

export interface HotBudget {
  /** Rough bytes of hot USER/SHARED rows before the largest partitions are flushed; writes wait past twice this. */
  hotBudgetBytes: number;
  /** Hot rows of one partition that make the default policy flush it. */
  hotPartitionRows: number;
}

export const HOT_DEFAULTS: Readonly<HotBudget> = HOT;

/** Counters for system.stats. */
export interface AutoFlushCounters {
  autoFlushes: number;
  budgetFlushes: number;
  writesWaited: number;
}

export interface AutoFlushContext extends FlushContext {
  readonly budget: HotBudget;
  readonly autoFlush: AutoFlushCounters;
  readonly jobs: FlushContext['jobs'] & { idle(): Promise<void> };
}

/** Rough bytes of the hot rows the budget counts (USER and SHARED tables). */
export function flushableHotBytes(engine: Pick<FlushContext, 'hot' | 'catalog'>): number {
  let stream = 0;
  for (const t of engine.catalog.listTables()) if (t.type === 'STREAM') stream += engine.hot.table(t.id).bytes;
  return engine.hot.bytes - stream;
}

/**
 * After a commit that changed rows of these (table, partitions): queues the
 * flushes the default policy and the budget call for. Cheap when nothing is
 * due: one size check per changed partition.
 */
export function flushAfterCommit(engine: AutoFlushContext, changed: ReadonlyMap<TableDef, ReadonlySet<string>>): void {
  const { hotPartitionRows } = engine.budget;
  for (const [t, users] of changed) {
    if (t.type === 'STREAM') continue;
    preloadFlush();
    const table = engine.hot.table(t.id);
    let isDue = false;
    for (const user of users) if ((table.partitions.get(user)?.size ?? 0) >= hotPartitionRows) isDue = true;
    // The size check first: the policy and job lookups only for a partition at its bound.
    if (!isDue || flushPolicyOf(t) !== undefined || activeFlush(engine, t)) continue;
    const started = requestFlush(engine, t, 'auto', (tt) => fullPartitions(engine, tt));
    if (typeof started !== 'string') engine.autoFlush.autoFlushes++;
  }
  if (flushableHotBytes(engine) > engine.budget.hotBudgetBytes) flushForBudget(engine);
}

/** Partitions of `t` at or past the default policy's row bound (when the job starts). */
function fullPartitions(engine: AutoFlushContext, t: TableDef): string[] {
  const out: string[] = [];
  for (const [user, p] of engine.hot.table(t.id).partitions) if (p.size >= engine.budget.hotPartitionRows) out.push(user);
  return out;
}

/**
 * Over budget: queues a flush of the tables holding the largest hot
 * partitions, choosing (when each job starts) the largest partitions until
 * the flushable hot bytes would be under half the budget.
 */
function flushForBudget(engine: AutoFlushContext): void {
  const candidates: { t: TableDef; bytes: number }[] = [];
  for (const t of engine.catalog.listTables()) {
    if (t.type === 'STREAM' || activeFlush(engine, t)) continue;
    const bytes = engine.hot.table(t.id).bytes;
    if (bytes > 0) candidates.push({ t, bytes });
  }
  candidates.sort((a, b) => b.bytes - a.bytes);
  let excess = flushableHotBytes(engine) - engine.budget.hotBudgetBytes / 2;
  for (const { t, bytes } of candidates) {
    if (excess <= 0) break;
    const started = requestFlush(engine, t, 'budget', (tt) => largestPartitions(engine, tt));
    if (typeof started === 'string') continue;
    engine.autoFlush.budgetFlushes++;
    excess -= bytes;
  }
}

/** The largest partitions of `t` whose flush brings the flushable hot bytes under half the budget; none once they are. */
function largestPartitions(engine: AutoFlushContext, t: TableDef): string[] {
  let excess = flushableHotBytes(engine) - engine.budget.hotBudgetBytes / 2;
  if (excess <= 0) return [];
  const parts = [...engine.hot.table(t.id).partitions].sort((a, b) => b[1].bytes - a[1].bytes);
  const out: string[] = [];
  for (const [user, p] of parts) {
    if (excess <= 0) break;
    out.push(user);
    excess -= p.bytes;
  }
  return out;
}

/**
 * Back-pressure before a write: while the flushable hot rows exceed twice
 * the budget, waits for the flushes under way (queuing them if none is).
 * Returns at once when nothing can be flushed, so a write never waits for
 * a flush that will not come, and when the flushes it waited for made no
 * room (they failed: the storage refuses commits), so a write never waits
 * for ever: it goes on and meets the storage's error itself.
 */
export async function waitForHotRoom(engine: AutoFlushContext): Promise<void> {
  let hasWaited = false;
  for (let bytes = flushableHotBytes(engine); bytes > 2 * engine.budget.hotBudgetBytes; ) {
    if (engine.jobs.active('flush').length === 0) flushForBudget(engine);
    if (engine.jobs.active('flush').length === 0) return;
    if (!hasWaited) engine.autoFlush.writesWaited++;
    hasWaited = true;
    await engine.jobs.idle();
    const after = flushableHotBytes(engine);
    if (after >= bytes) return;
    bytes = after;
  }
}
