import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine, type SessionState } from '../execute/engine';
import type { Value } from '../core/types';
import { hashKey } from '../core/values';
import { HotTier, legacyRowKey, PAGE_ROWS, SMALL_PAGE_ROWS, type PageRecord } from './hot-tier';
import { encodeKey, prefixUpperBound } from './keys';
import { recordingStore, storedRowCount } from './kv.fixture';
import type { KvStore, KvWrite } from './kv';
import { openMemoryStore } from './memory';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const as = (user: string): SessionState => ({ user, role: 'user', namespace: 'default' });

let open: Engine[] = [];
afterEach(async () => {
  for (const e of open) await e.close();
  open = [];
});

async function openIdb(name: string, indexedDB: IDBFactory): Promise<Engine> {
  const engine = await Engine.open({ storage: 'idb', name, indexedDB });
  open.push(engine);
  return engine;
}

async function reopen(engine: Engine, name: string, indexedDB: IDBFactory): Promise<Engine> {
  await engine.close();
  open = open.filter((e) => e !== engine);
  return openIdb(name, indexedDB);
}

const tableId = (engine: Engine, name = 'items') => engine.catalog.findTable('app', name)!.id;
const stat = (engine: Engine, name: string) => engine.metrics().find(([k]) => k === name)?.[1];

/** Every stored page of a table: its key's page number and its rows. */
async function pages(kv: KvStore, store: 'user' | 'shared' | 'stream', id: number): Promise<PageRecord[]> {
  const out: PageRecord[] = [];
  const lower = encodeKey([id]);
  await kv.scan(store, { lower, upper: prefixUpperBound(lower) }, (_k, v) => out.push(v as PageRecord));
  return out;
}

async function insertItems(engine: Engine, from: number, to: number): Promise<void> {
  const values = [];
  for (let i = from; i <= to; i++) values.push(`(${i}, 'item${i}')`);
  await engine.execute(root, `INSERT INTO app.items (id, name) VALUES ${values.join(', ')}`);
}

const ids = async (engine: Engine, state: SessionState = root, table = 'app.items') =>
  (await engine.execute(state, `SELECT id FROM ${table} ORDER BY id`))[0].rows.map((r) => Number(r.id));

describe('hot tier pages', () => {
  it(`stores rows in pages of at most ${PAGE_ROWS}, one storage record per page`, async () => {
    const kv = recordingStore(openMemoryStore());
    const engine = await Engine.open({ storage: kv });
    open.push(engine);
    await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT)');
    kv.committed.length = 0;
    await insertItems(engine, 1, 1000);
    const expected = Math.ceil(1000 / PAGE_ROWS);
    expect(kv.committed).toHaveLength(1);
    expect(kv.committed[0]).toHaveLength(expected);
    const stored = await pages(kv, 'shared', tableId(engine));
    expect(stored).toHaveLength(expected);
    expect(stored.every((p) => p.rows.length <= PAGE_ROWS)).toBe(true);
    expect(await storedRowCount(kv, 'shared', tableId(engine))).toBe(1000);
    expect(stat(engine, 'hot_pages')).toBe(expected);
  });

  it('rewrites only the page of an updated row, and deletes a page when its last row is removed', async () => {
    const kv = recordingStore(openMemoryStore());
    const engine = await Engine.open({ storage: kv });
    open.push(engine);
    await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT)');
    await insertItems(engine, 1, PAGE_ROWS * 3);
    kv.committed.length = 0;
    await engine.execute(root, `UPDATE app.items SET name = 'x' WHERE id = ${PAGE_ROWS + 5}`);
    expect(kv.committed).toHaveLength(1);
    expect(kv.committed[0]).toHaveLength(1);
    const page = kv.committed[0][0].value as PageRecord;
    expect(page.rows).toHaveLength(PAGE_ROWS);
    expect(page.rows.filter((r) => r[1] === 'x')).toHaveLength(1);

    // Soft deletes keep tombstones in their page; a flush purges them and the page goes.
    await engine.execute(root, `DELETE FROM app.items WHERE id > ${PAGE_ROWS * 2}`);
    expect(await storedRowCount(kv, 'shared', tableId(engine))).toBe(PAGE_ROWS * 3);
    await engine.execute(root, 'FLUSH TABLE app.items');
    await engine.jobs.idle();
    expect(await pages(kv, 'shared', tableId(engine))).toHaveLength(0);
    expect(stat(engine, 'hot_pages')).toBe(0);
    expect(await ids(engine)).toHaveLength(PAGE_ROWS * 2);
  });

  it(`keeps users in separate pages, and puts keys inserted a few at a time into pages of ${SMALL_PAGE_ROWS}`, async () => {
    const kv = recordingStore(openMemoryStore());
    const engine = await Engine.open({ storage: kv });
    open.push(engine);
    await engine.execute(root, 'CREATE NAMESPACE app; CREATE USER TABLE app.todos (id INT PRIMARY KEY, title TEXT)');
    for (let i = 1; i <= PAGE_ROWS + 1; i++) {
      await engine.execute(as('alice'), `INSERT INTO app.todos (id, title) VALUES (${i}, 'a')`);
      await engine.execute(as('bob'), `INSERT INTO app.todos (id, title) VALUES (${i}, 'b')`);
    }
    const stored = await pages(kv, 'user', tableId(engine, 'todos'));
    const perUser = Math.ceil((PAGE_ROWS + 1) / SMALL_PAGE_ROWS);
    expect(stored).toHaveLength(2 * perUser);
    expect(stored.filter((p) => p.rows.length === SMALL_PAGE_ROWS)).toHaveLength(2 * (perUser - 1));
    for (const p of stored) expect(new Set(p.rows.map((r) => r[1])).size).toBe(1);
    // A single-row insert rewrites only its small page.
    kv.committed.length = 0;
    await engine.execute(as('alice'), `INSERT INTO app.todos (id, title) VALUES (1000, 'a')`);
    expect(kv.committed[0]).toHaveLength(1);
    expect((kv.committed[0][0].value as PageRecord).rows.length).toBeLessThanOrEqual(SMALL_PAGE_ROWS);
  });

  it('reopens every row, tombstone and ALTER-rewritten row from pages; new keys after a reopen start a new page', async () => {
    const indexedDB = new IDBFactory();
    let engine = await openIdb('pages', indexedDB);
    await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT)');
    await insertItems(engine, 1, 100);
    await engine.execute(root, 'DELETE FROM app.items WHERE id <= 10');
    await engine.execute(root, 'ALTER TABLE app.items ADD COLUMN n INT DEFAULT 7');
    engine = await reopen(engine, 'pages', indexedDB);
    expect(await ids(engine)).toEqual(Array.from({ length: 90 }, (_, i) => i + 11));
    expect((await engine.execute(root, 'SELECT COUNT(*) AS c FROM app.items WHERE _deleted = true'))[0].rows[0].c).toBe(10);
    expect((await engine.execute(root, 'SELECT n FROM app.items WHERE id = 50'))[0].rows).toEqual([{ n: 7 }]);
    await insertItems(engine, 101, 110);
    const stored = await pages(engine.kv, 'shared', tableId(engine));
    expect(stored.map((p) => p.rows.length).sort((a, b) => a - b)).toEqual([10, 100 - PAGE_ROWS, PAGE_ROWS]);
    engine = await reopen(engine, 'pages', indexedDB);
    expect(await ids(engine)).toHaveLength(100);
  });

  it('rewrites a database stored one record per row (storage format 1) into pages on open', async () => {
    const indexedDB = new IDBFactory();
    let engine = await openIdb('legacy', indexedDB);
    await engine.execute(root, 'CREATE NAMESPACE app; CREATE USER TABLE app.todos (id INT PRIMARY KEY, title TEXT)');
    await engine.execute(as('alice'), "INSERT INTO app.todos (id, title) VALUES (1, 'a1'), (2, 'a2'), (3, 'a3')");
    await engine.execute(as('bob'), "INSERT INTO app.todos (id, title) VALUES (1, 'b1')");
    await engine.execute(as('alice'), 'DELETE FROM app.todos WHERE id = 3');
    // Turn the pages into what format 1 stored: one record per row under (table, user, pk).
    const id = tableId(engine, 'todos');
    const t = engine.catalog.tableById(id)!;
    const writes: KvWrite[] = [];
    const lower = encodeKey([id]);
    await engine.kv.scan('user', { lower, upper: prefixUpperBound(lower) }, (key) => writes.push({ store: 'user', key: key.slice() }));
    for (const [user, p] of engine.hot.table(id).partitions) {
      for (const row of p.values()) writes.push({ store: 'user', key: legacyRowKey(id, user, row[t.pk]), value: [...row] });
    }
    await engine.kv.commit(writes);
    expect(await countRecords(engine.kv, id)).toBe(4);

    engine = await reopen(engine, 'legacy', indexedDB);
    expect(await ids(engine, as('alice'), 'app.todos')).toEqual([1, 2]);
    expect(await ids(engine, as('bob'), 'app.todos')).toEqual([1]);
    expect((await engine.execute(as('alice'), 'SELECT id FROM app.todos WHERE _deleted = true'))[0].rows).toEqual([{ id: 3 }]);
    expect(await countRecords(engine.kv, id)).toBe(2); // one page per user
    expect(await storedRowCount(engine.kv, 'user', id)).toBe(4);
    // Writes after the rewrite go to the pages, and survive another reopen.
    await engine.execute(as('alice'), "UPDATE app.todos SET title = 'A1' WHERE id = 1");
    engine = await reopen(engine, 'legacy', indexedDB);
    expect((await engine.execute(as('alice'), 'SELECT title FROM app.todos WHERE id = 1'))[0].rows).toEqual([{ title: 'A1' }]);
    expect(await countRecords(engine.kv, id)).toBe(2);
  });

  it('after any sequence of writes, deletes and flushes, storage holds exactly the hot rows, and a reopen reads them back', async () => {
    type Op = { kind: 'insert'; user: number; from: number; count: number } | { kind: 'update' | 'delete'; user: number; id: number } | { kind: 'flush' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('insert' as const), user: fc.integer({ min: 0, max: 1 }), from: fc.integer({ min: 0, max: 300 }), count: fc.integer({ min: 1, max: 150 }) }),
      fc.record({ kind: fc.constantFrom('update' as const, 'delete' as const), user: fc.integer({ min: 0, max: 1 }), id: fc.integer({ min: 0, max: 450 }) }),
      fc.record({ kind: fc.constant('flush' as const) }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        const indexedDB = new IDBFactory();
        const name = `prop${run++}`;
        let engine = await openIdb(name, indexedDB);
        await engine.execute(root, 'CREATE NAMESPACE app; CREATE USER TABLE app.todos (id INT PRIMARY KEY, v INT)');
        const users = ['alice', 'bob'];
        for (const o of ops) {
          if (o.kind === 'flush') {
            await engine.execute(root, 'FLUSH TABLE app.todos');
            await engine.jobs.idle();
          } else if (o.kind === 'insert') {
            const values = Array.from({ length: o.count }, (_, i) => `(${o.from + i}, ${i})`).join(', ');
            // Keys already present make the INSERT fail as a whole; that is part of the sequence too.
            await engine.execute(as(users[o.user]), `INSERT INTO app.todos (id, v) VALUES ${values}`).catch(() => undefined);
          } else if (o.kind === 'update') {
            await engine.execute(as(users[o.user]), `UPDATE app.todos SET v = v + 1 WHERE id = ${o.id}`);
          } else {
            await engine.execute(as(users[o.user]), `DELETE FROM app.todos WHERE id BETWEEN ${o.id} AND ${o.id + 20}`);
          }
        }
        const id = tableId(engine, 'todos');
        const before = await Promise.all(users.map((u) => engine.execute(as(u), 'SELECT id, v FROM app.todos ORDER BY id').then((r) => r[0].rows)));
        const hot = engine.hot.table(id);
        const hotRows = [...hot.partitions.values()].reduce((n, p) => n + p.size, 0);
        expect(await storedRowCount(engine.kv, 'user', id)).toBe(hotRows);
        for (const p of await pages(engine.kv, 'user', id)) {
          expect(p.rows.length).toBeGreaterThan(0);
          expect(p.rows.length).toBeLessThanOrEqual(PAGE_ROWS);
        }
        engine = await reopen(engine, name, indexedDB);
        const after = await Promise.all(users.map((u) => engine.execute(as(u), 'SELECT id, v FROM app.todos ORDER BY id').then((r) => r[0].rows)));
        expect(after).toEqual(before);
        // seq order survives: a new write gets a larger _seq than any stored
        let maxSeq = 0n;
        for (const u of users) {
          const m = (await engine.execute(as(u), 'SELECT MAX(_seq) AS m FROM app.todos WHERE _deleted = true OR _deleted = false'))[0].rows[0].m as bigint | null;
          if (m !== null && m > maxSeq) maxSeq = m;
        }
        await engine.execute(as('alice'), 'INSERT INTO app.todos (id, v) VALUES (100000, 0)');
        const seq = (await engine.execute(as('alice'), 'SELECT _seq FROM app.todos WHERE id = 100000'))[0].rows[0]._seq as bigint;
        expect(seq > maxSeq).toBe(true);
        await engine.close();
        open = open.filter((e) => e !== engine);
      }),
      { numRuns: 25 },
    );
  });
});

async function countRecords(kv: KvStore, id: number): Promise<number> {
  let n = 0;
  const lower = encodeKey([id]);
  await kv.scan('user', { lower, upper: prefixUpperBound(lower) }, () => n++);
  return n;
}

describe('hot bytes', () => {
  it('grow with the rows held, shrink when rows leave, and return to zero when the table is dropped', async () => {
    const engine = await Engine.open({ storage: 'memory' });
    open.push(engine);
    await engine.execute(root, 'CREATE NAMESPACE app; CREATE USER TABLE app.items (id INT PRIMARY KEY, title TEXT)');
    expect(stat(engine, 'hot_bytes')).toBe(0);
    await engine.execute(as('alice'), `INSERT INTO app.items (id, title) VALUES (1, '${'x'.repeat(100)}'), (2, 'b')`);
    const two = stat(engine, 'hot_bytes') as number;
    expect(two).toBeGreaterThan(200); // the 100-character title alone is 200 bytes of UTF-16
    expect(engine.hot.table(tableId(engine)).bytes).toBe(two);
    await engine.execute(as('bob'), `INSERT INTO app.items (id, title) VALUES (1, 'c')`);
    const three = stat(engine, 'hot_bytes') as number;
    expect(three).toBeGreaterThan(two);
    // A soft delete replaces the row with a tombstone of the same size; an update to a shorter title shrinks it.
    await engine.execute(as('alice'), `UPDATE app.items SET title = 'a' WHERE id = 1`);
    expect(stat(engine, 'hot_bytes') as number).toBeLessThan(three - 150);
    await engine.execute(root, 'DROP TABLE app.items');
    expect(stat(engine, 'hot_bytes')).toBe(0);
  });
});

describe('hot partitions in key order', () => {
  const key = (i: number) => i;
  const rowOf = (k: number, v: number) => Object.freeze([k, v, BigInt(v), false]);
  type Op = { kind: 'put' | 'del'; keys: number[]; v: number };
  const opArb = fc.record({ kind: fc.constantFrom<'put' | 'del'>('put', 'put', 'del'), keys: fc.array(fc.integer({ min: -40, max: 200 }), { minLength: 1, maxLength: 40 }), v: fc.integer({ min: 0, max: 1000 }) });
  const rangeArb = fc.record({
    lower: fc.option(fc.record({ value: fc.integer({ min: -50, max: 210 }), inclusive: fc.boolean() }), { nil: undefined }),
    upper: fc.option(fc.record({ value: fc.integer({ min: -50, max: 210 }), inclusive: fc.boolean() }), { nil: undefined }),
  });

  it('point, range and descending reads after inserts, updates and deletes equal a sorted model', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), fc.array(rangeArb, { minLength: 1, maxLength: 5 }), (ops, ranges) => {
        const hot = new HotTier();
        const model = new Map<number, readonly Value[]>();
        for (const op of ops) {
          const changes = new Map<number, readonly Value[] | null>();
          for (const k of op.keys) changes.set(k, op.kind === 'put' ? rowOf(k, op.v) : null);
          hot.stage([...changes].map(([k, row]) => ({ tableId: 1, user: 'u', pkHash: hashKey(key(k)), key: key(k), row, store: 'user' as const, deletedSlot: 3 }))).apply();
          for (const [k, row] of changes) {
            if (row) model.set(k, row);
            else model.delete(k);
          }
        }
        const sorted = [...model.keys()].sort((a, b) => a - b);
        const p = hot.partition(1, 'u');
        if (sorted.length === 0) {
          expect(p).toBeUndefined();
          return;
        }
        expect(p!.count).toBe(sorted.length);
        expect([...p!.ordered()].map((r) => r[0])).toEqual(sorted);
        for (const k of sorted) expect(p!.get(hashKey(k))).toBe(model.get(k));
        for (const r of ranges) {
          const inside = sorted.filter((k) =>
            (!r.lower || k > r.lower.value || (k === r.lower.value && r.lower.inclusive)) && (!r.upper || k < r.upper.value || (k === r.upper.value && r.upper.inclusive)));
          expect([...p!.ordered(r)].map((row) => row[0])).toEqual(inside);
          expect([...p!.ordered(r, true)].map((row) => row[0])).toEqual([...inside].reverse());
          for (const row of p!.ordered(r)) expect(row).toBe(model.get(row[0] as number));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a read that pauses sees the partition as it was when it started, whatever commits and removals run meanwhile', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 10 }), fc.array(opArb, { minLength: 1, maxLength: 10 }), fc.nat(), fc.boolean(), (before, during, pauseAt, descending) => {
        const hot = new HotTier();
        const model = new Map<number, readonly Value[]>();
        const apply = (op: Op) => {
          const changes = new Map<number, readonly Value[] | null>();
          for (const k of op.keys) changes.set(k, op.kind === 'put' ? rowOf(k, op.v) : null);
          hot.stage([...changes].map(([k, row]) => ({ tableId: 1, user: 'u', pkHash: hashKey(key(k)), key: key(k), row, store: 'user' as const, deletedSlot: 3 }))).apply();
          for (const [k, row] of changes) {
            if (row) model.set(k, row);
            else model.delete(k);
          }
        };
        before.forEach(apply);
        const p = hot.partition(1, 'u');
        if (!p) return;
        const expected = [...p.ordered(undefined, descending)];
        // Two reads paused part-way (a statement yielding between rows) while the writes run, one per change.
        const reads = [p.ordered(undefined, descending), p.ordered({ lower: { value: -1000, inclusive: true } }, descending)];
        const seen: (readonly Value[])[][] = reads.map(() => []);
        const step = (r: number) => {
          const n = reads[r].next();
          if (!n.done) seen[r].push(n.value);
        };
        // A read starts at its first row (a generator runs on its first pull): each has read 1…all rows.
        const pulls = expected.length === 0 ? 0 : 1 + (pauseAt % expected.length);
        for (let i = 0; i < pulls; i++) reads.forEach((_, r) => step(r));
        for (const op of during) {
          apply(op);
          hot.partition(1, 'u')?.count; // settles the key order now, as the next statement would
          reads.forEach((_, r) => step(r));
        }
        for (let r = 0; r < reads.length; r++) {
          for (let n = reads[r].next(); !n.done; n = reads[r].next()) seen[r].push(n.value);
          expect(seen[r]).toEqual(expected);
        }
        // Once the reads are over, the partition reads as the writes left it.
        const now = [...model.keys()].sort((a, b) => a - b).map((k) => model.get(k));
        expect([...(hot.partition(1, 'u')?.ordered() ?? [])]).toEqual(now);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps text and bigint keys in order, and reloads a partition in order', async () => {
    const indexedDB = new IDBFactory();
    let engine = await openIdb('ordered', indexedDB);
    await engine.execute(root, 'CREATE NAMESPACE app; CREATE SHARED TABLE app.t (k TEXT PRIMARY KEY, v INT); CREATE SHARED TABLE app.b (k BIGINT PRIMARY KEY)');
    await engine.execute(root, "INSERT INTO app.t (k, v) VALUES ('m', 1), ('b', 2), ('z', 3), ('a', 4)");
    await engine.execute(root, "INSERT INTO app.t (k, v) VALUES ('c', 5)");
    await engine.execute(root, "DELETE FROM app.t WHERE k = 'm'");
    await engine.execute(root, 'INSERT INTO app.b (k) VALUES (9223372036854775807), (-5), (3)');
    const order = (e: Engine) => [...e.hot.partition(tableId(e, 't'), '')!.ordered()].map((r) => [r[0], r[3]]);
    const expected = [['a', false], ['b', false], ['c', false], ['m', true], ['z', false]];
    expect(order(engine)).toEqual(expected);
    engine = await reopen(engine, 'ordered', indexedDB);
    expect(order(engine)).toEqual(expected);
    expect([...engine.hot.partition(tableId(engine, 'b'), '')!.ordered(undefined, true)].map((r) => r[0])).toEqual([9223372036854775807n, 3n, -5n]);
  });
});
