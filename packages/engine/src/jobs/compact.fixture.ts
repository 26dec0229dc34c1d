/** Helpers shared by the compaction tests. */
import { expect } from 'vitest';
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import { Engine, type OpenOptions, type SessionState } from '../execute/engine';
import { levelOf, type SegmentMeta } from '../storage/cold/types';
import { decodeKey, encodeKey, prefixUpperBound } from '../storage/keys';
import type { KvStore } from '../storage/kv';

export const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
export const svc: SessionState = { user: 'svc', role: 'service', namespace: 'default' };
export const as = (user: string): SessionState => ({ user, role: 'user', namespace: 'default' });

export const rows = async (engine: Engine, sql: string, state: SessionState = root, params: Value[] = []) => (await engine.execute(state, sql, params))[0].rows;
export const run = async (engine: Engine, sql: string, state: SessionState = root) => (await engine.execute(state, sql))[0].message;
export const stat = (engine: Engine, name: string) => engine.metrics().find(([k]) => k === name)?.[1];

/** A memory store that outlives an engine's close, so a new engine can open it again (a crash leaves storage as it was). */
export function durable(kv: KvStore): KvStore {
  return { kind: kv.kind, get: (s, k) => kv.get(s, k), scan: (s, r, v) => kv.scan(s, r, v), commit: (w) => kv.commit(w), close: async () => undefined };
}

export const SMALL: Partial<OpenOptions> = { rowGroupRows: 4, maxSegmentRows: 16, flushCheckIntervalMs: 0, retentionIntervalMs: 0, streamEvictionIntervalMs: 0 };

export async function flush(engine: Engine, table = 'app.t'): Promise<void> {
  await engine.execute(root, `FLUSH TABLE ${table}`);
  await engine.jobs.idle();
}

export async function compact(engine: Engine, table = 'app.t'): Promise<string> {
  const message = await run(engine, `STORAGE COMPACT TABLE ${table}`);
  await engine.jobs.idle();
  return message;
}

/** INSERT rows (id, a, b) for each id. */
export async function insert(engine: Engine, ids: number[], a = 0, table = 'app.t', state: SessionState = root): Promise<void> {
  await engine.execute(state, `INSERT INTO ${table} (id, a, b) VALUES ${ids.map((i) => `(${i}, ${a}, 'r${i}')`).join(', ')}`);
}

export const range = (from: number, to: number, step = 1) => {
  const out: number[] = [];
  for (let i = from; i <= to; i += step) out.push(i);
  return out;
};

export async function expectError(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(KalamError);
  expect((e as KalamError).code).toBe(code);
  if (message) expect((e as KalamError).message).toMatch(message);
}

/** Every decoded key of a KV store (or of one prefix in it). */
export async function keysOf(kv: KvStore, store: 'segments' | 'system', prefix: (string | number)[] = []): Promise<unknown[][]> {
  const out: unknown[][] = [];
  const lower = encodeKey(prefix);
  await kv.scan(store, { lower, upper: prefix.length ? prefixUpperBound(lower) : new Uint8Array([0xff]) }, (k) => out.push(decodeKey(k)));
  return out;
}

/**
 * What storage holds for cold segments: the manifest entries (by status)
 * and the segment ids that have bytes — and that they agree: every segment
 * with bytes has a committed entry, every committed entry all its groups.
 */
export async function coldStorage(kv: KvStore): Promise<{ entries: SegmentMeta[]; withBytes: string[] }> {
  const entries: SegmentMeta[] = [];
  const lower = encodeKey(['manifest']);
  await kv.scan('system', { lower, upper: prefixUpperBound(lower) }, (_k, v) => entries.push(v as SegmentMeta));
  const groups = new Map<string, number>();
  for (const k of await keysOf(kv, 'segments')) groups.set(k[2] as string, (groups.get(k[2] as string) ?? 0) + 1);
  return { entries, withBytes: [...groups.keys()].sort() };
}

/** Storage holds exactly the committed segments of the manifest: no in_progress or obsolete entry, no bytes of anything else. */
export async function expectClean(engine: Engine): Promise<void> {
  const { entries, withBytes } = await coldStorage(engine.kv);
  expect(entries.map((m) => m.status).filter((s) => s !== 'committed')).toEqual([]);
  expect(withBytes).toEqual(engine.cold.manifest.all().map((m) => m.id).sort());
  expect(entries.map((m) => m.id).sort()).toEqual(withBytes);
  expect(engine.cold.manifest.obsolete).toEqual([]);
}

/** For every key 0..maxKey of a partition, how many committed segments' key ranges hold it; the largest count. */
export function maxSegmentsPerKey(engine: Engine, tableId: number, user: string, maxKey: number): number {
  const segments = engine.cold.manifest.segments(tableId, user);
  let most = 0;
  for (let k = 0; k <= maxKey; k++) {
    let n = 0;
    for (const m of segments) {
      const g = m.groups!;
      if ((g.key_min[0] as number) <= k && k <= (g.key_max[g.rows.length - 1] as number)) n++;
    }
    most = Math.max(most, n);
  }
  return most;
}

/** Level 1 segments of a partition never overlap each other. */
export function expectSortedRun(engine: Engine, tableId: number, user: string): void {
  const l1 = engine.cold.manifest.segments(tableId, user).filter((m) => levelOf(m) === 1)
    .map((m) => [m.groups!.key_min[0] as number, m.groups!.key_max[m.groups!.rows.length - 1] as number])
    .sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < l1.length; i++) expect(l1[i][0]).toBeGreaterThan(l1[i - 1][1]);
}

export const levels = (engine: Engine, tableId: number, user = '') => {
  const out = [0, 0];
  for (const m of engine.cold.manifest.segments(tableId, user)) out[levelOf(m)]++;
  return out;
};

/** Waits (bounded) until `cond` holds. */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
