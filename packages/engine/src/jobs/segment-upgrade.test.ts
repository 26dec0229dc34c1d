import { afterEach, describe, expect, it } from 'vitest';
import type { StoredRow } from '../core/schema';
import { Engine, type SessionState } from '../execute/engine';
import { manifestKey } from '../storage/cold/manifest';
import { encodeSegment } from '../storage/cold/segment';
import type { SegmentMeta } from '../storage/cold/types';
import { encodeKey, prefixUpperBound } from '../storage/keys';
import type { KvStore, KvWrite } from '../storage/kv';
import { openMemoryStore } from '../storage/memory';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const as = (user: string): SessionState => ({ user, role: 'user', namespace: 'default' });

let open: Engine[] = [];
afterEach(async () => {
  for (const e of open) await e.close();
  open = [];
});

/** A memory store that outlives an engine's close. */
function durable(kv: KvStore): KvStore {
  return { kind: kv.kind, get: (s, k) => kv.get(s, k), scan: (s, r, v) => kv.scan(s, r, v), commit: (w) => kv.commit(w), close: async () => undefined };
}

async function openOn(kv: KvStore): Promise<Engine> {
  const engine = await Engine.open({ storage: kv, rowGroupRows: 4, maxSegmentRows: 8, flushCheckIntervalMs: 0 });
  open.push(engine);
  return engine;
}

async function closeIt(engine: Engine): Promise<void> {
  await engine.close();
  open = open.filter((e) => e !== engine);
}

const rows = async (engine: Engine, sql: string, state: SessionState = root) => (await engine.execute(state, sql))[0].rows;

/** Every key in a store. */
async function keys(kv: KvStore, store: 'segments' | 'system', prefix: (string | number)[] = []): Promise<unknown[][]> {
  const { decodeKey } = await import('../storage/keys');
  const out: unknown[][] = [];
  const lower = encodeKey(prefix);
  await kv.scan(store, { lower, upper: prefix.length ? prefixUpperBound(lower) : new Uint8Array([0xff]) }, (k) => out.push(decodeKey(k)));
  return out;
}

/** A format 1 segment as the previous build wrote it: one Arrow IPC blob of unsorted rows, and its manifest entry (no `format`). */
function formatOne(tableId: number, user: string, id: string, rowsOf: readonly StoredRow[], t: Parameters<typeof encodeSegment>[0], status: SegmentMeta['status'], hotPurged: boolean): KvWrite[] {
  const enc = encodeSegment(t, rowsOf);
  const meta: SegmentMeta = {
    id, table_id: tableId, user_id: user, min_seq: enc.minSeq, max_seq: enc.maxSeq, row_count: rowsOf.length, size_bytes: enc.bytes.byteLength,
    created_at: 1, column_stats: enc.stats, schema_version: t.version, status, hot_purged: hotPurged,
  };
  return [
    { store: 'segments', key: encodeKey([tableId, user, id]), value: enc.bytes },
    { store: 'system', key: manifestKey(tableId, user, id), value: meta },
  ];
}

describe('format 1 segments at open', () => {
  it('are rewritten as sorted row groups in bounded segments, old blobs and entries removed, every row reading as before', async () => {
    const store = openMemoryStore();
    const kv = durable(store);
    let engine = await openOn(kv);
    await engine.execute(root, 'CREATE NAMESPACE app; CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT)');
    // Hot rows: alice's id 3 is newer than its cold version; bob's 100 only hot.
    await engine.execute(as('alice'), "INSERT INTO app.notes (id, body) VALUES (3, 'hot three')");
    await engine.execute(as('bob'), "INSERT INTO app.notes (id, body) VALUES (100, 'hot')");
    const t = engine.catalog.requireTable('app', 'notes');
    await closeIt(engine);

    // Cold rows with _seq below every hot one; unsorted; a tombstone; an older segment shadowed by a newer one.
    const row = (id: number, body: string, seq: bigint, deleted = false): StoredRow => Object.freeze([id, body, seq, deleted]);
    const aliceOld = [13, 1, 7, 20, 3, 11, 2, 19, 5, 8, 17, 4].map((id, i) => row(id, `old ${id}`, BigInt(10 + i)));
    const aliceNew = [row(7, 'new 7', 40n), row(4, 'gone', 41n, true), row(21, 'new 21', 42n)];
    const bob = [row(2, 'bob 2', 50n), row(1, 'bob 1', 51n)];
    await store.commit([
      ...formatOne(t.id, 'alice', 'S1', aliceOld, t, 'committed', true),
      ...formatOne(t.id, 'alice', 'S2', aliceNew, t, 'committed', true),
      ...formatOne(t.id, 'bob', 'S3', bob, t, 'committed', true),
      // An interrupted format 1 flush: never readable, removed with its blob.
      ...formatOne(t.id, 'bob', 'S4', [row(9, 'half', 60n)], t, 'in_progress', false),
    ]);

    engine = await openOn(kv);
    const manifest = engine.cold.manifest.all();
    expect(manifest.every((m) => m.format === 2 && m.status === 'committed')).toBe(true);
    // maxSegmentRows 8: alice's 12 old rows become segments of 8 and 4, her 3 newer rows one of 3.
    expect(manifest.filter((m) => m.user_id === 'alice').map((m) => m.row_count).sort((a, b) => a - b)).toEqual([3, 4, 8]);
    for (const m of manifest) {
      expect(m.groups!.rows.every((n) => n <= 4)).toBe(true);
      for (let g = 1; g < m.groups!.rows.length; g++) expect(Number(m.groups!.key_min[g])).toBeGreaterThan(Number(m.groups!.key_max[g - 1]));
    }
    // No format 1 blob or entry is left; every segment key has a group number.
    expect((await keys(store, 'segments')).every((k) => k.length === 4)).toBe(true);
    expect((await keys(store, 'system', ['manifest'])).map((k) => k[3])).not.toContain('S1');
    expect(await rows(engine, 'SELECT id, body FROM app.notes', as('alice'))).toEqual([
      { id: 1, body: 'old 1' }, { id: 2, body: 'old 2' }, { id: 3, body: 'hot three' }, { id: 5, body: 'old 5' }, { id: 7, body: 'new 7' },
      { id: 8, body: 'old 8' }, { id: 11, body: 'old 11' }, { id: 13, body: 'old 13' }, { id: 17, body: 'old 17' }, { id: 19, body: 'old 19' },
      { id: 20, body: 'old 20' }, { id: 21, body: 'new 21' },
    ]);
    expect(await rows(engine, 'SELECT id FROM app.notes WHERE _deleted = true', as('alice'))).toEqual([{ id: 4 }]);
    expect(await rows(engine, 'SELECT id, body FROM app.notes', as('bob'))).toEqual([{ id: 1, body: 'bob 1' }, { id: 2, body: 'bob 2' }, { id: 100, body: 'hot' }]);
    expect(await rows(engine, 'SELECT body FROM app.notes WHERE id = 7', as('alice'))).toEqual([{ body: 'new 7' }]);
    // Writes continue above every _seq seen.
    await engine.execute(as('alice'), "UPDATE app.notes SET body = 'later' WHERE id = 13");
    expect((await rows(engine, 'SELECT _seq FROM app.notes WHERE id = 13', as('alice')))[0]._seq as bigint).toBeGreaterThan(60n);

    // A second open has nothing left to rewrite.
    const before = manifest.map((m) => m.id).sort();
    await closeIt(engine);
    engine = await openOn(kv);
    expect(engine.cold.manifest.all().map((m) => m.id).sort()).toEqual(before);
    expect(await rows(engine, 'SELECT COUNT(*) AS n FROM app.notes', as('alice'))).toEqual([{ n: 12 }]);
  });

  it('a format 1 segment committed but not purged from the hot tier is rewritten, then its hot copies are purged', async () => {
    const store = openMemoryStore();
    const kv = durable(store);
    let engine = await openOn(kv);
    await engine.execute(root, "CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT); INSERT INTO app.items (id, name) VALUES (2, 'b'), (1, 'a'), (3, 'c')");
    const t = engine.catalog.requireTable('app', 'items');
    const hot = [...engine.hot.partition(t.id, '')!.ordered()];
    await closeIt(engine);
    // The crash came after the entry was committed, before the hot rows were deleted.
    await store.commit(formatOne(t.id, '', 'S9', [hot[2], hot[0], hot[1]], t, 'committed', false));
    engine = await openOn(kv);
    expect(engine.metrics().find(([k]) => k === 'table_rows.app.items')?.[1]).toBe(0);
    expect(engine.cold.manifest.all().map((m) => [m.format, m.hot_purged, m.row_count])).toEqual([[2, true, 3]]);
    expect(await rows(engine, 'SELECT id, name FROM app.items')).toEqual([{ id: 1, name: 'a' }, { id: 2, name: 'b' }, { id: 3, name: 'c' }]);
  });
});
