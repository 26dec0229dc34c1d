/**
 * The live outbox on its own: what each batch holds (compared whole, with
 * toStrictEqual, so a stale change set or a flag left over from an earlier
 * batch fails), when a batch goes (one per tick, the next only after the
 * acknowledgement), and the bound on pending changes (inserts, updates and
 * deletions all count; the subscription holding the most collapses).
 *
 * The outbox runs on microtasks only (it sends from one, and an
 * acknowledgement resumes it through promise callbacks), so one macrotask
 * turn (`microtasksRun()`) runs only after everything it would send by then
 * has been sent: `client.batch(n)` waits for that point and then requires
 * the n-th batch — an ordering guarantee, not a guess at a duration.
 */
import { describe, expect, it } from 'vitest';
import type { Row, Value } from '@kalamlite/engine';
import { LiveOutbox } from './outbox';
import type { ChangeSet, LiveChange, LiveEvent } from './protocol';

const row = (id: number, title = `t${id}`): Row => Object.freeze({ id, title });
const rowsFrom = (from: number, n: number): Row[] => Array.from({ length: n }, (_, i) => row(from + i));
const microtasksRun = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A listener that records each batch and acknowledges it only when told to; `batch(n)` is the n-th batch (from 0), once sent. */
function slowClient(options: { fail?: 'throw' | 'reject' } = {}) {
  const batches: (readonly LiveEvent[])[] = [];
  const acks: (() => void)[] = [];
  return {
    batches,
    listener: (events: readonly LiveEvent[]) => {
      batches.push(events);
      if (options.fail === 'throw') throw new Error('the page went away');
      if (options.fail === 'reject') return Promise.reject(new Error('the page went away'));
      return new Promise<void>((resolve) => acks.push(resolve));
    },
    /** Acknowledges every batch sent so far. */
    ackAll() {
      for (const ack of acks.splice(0)) ack();
    },
    async batch(n: number): Promise<readonly LiveEvent[]> {
      await microtasksRun();
      expect(batches.length, `batch ${n} was sent`).toBeGreaterThan(n);
      return batches[n];
    },
  };
}

/** What a client does with a patch: drop the rows at `removed`, then place `rows[k]` at `added[k]`. */
function applyPatch(prev: readonly Row[], patch: Extract<LiveEvent, { kind: 'patch' }>): Row[] {
  const removed = new Set(patch.removed);
  const kept = prev.filter((_, i) => !removed.has(i));
  patch.added.forEach((at, k) => kept.splice(at, 0, patch.rows[k]));
  expect(kept).toHaveLength(patch.length);
  return kept;
}

function changes(c: Partial<ChangeSet>): LiveChange {
  return { kind: 'changes', inserted: [], updated: [], deleted: [], ...c };
}
const inserted = (...rows: Row[]) => changes({ inserted: rows });
const deleted = (...keys: Value[]) => changes({ deleted: keys });

/** An outbox whose subscriptions `ids` each hold `base` (sent and acknowledged). */
async function started(maxPendingChanges: number, ids: number[], base: readonly Row[] = []) {
  const client = slowClient();
  const outbox = new LiveOutbox(client.listener, { maxSubscriptions: 10, maxPendingChanges });
  for (const id of ids) {
    outbox.add(id);
    outbox.push(id, base, { kind: 'snapshot' });
  }
  await client.batch(0);
  client.ackAll();
  await microtasksRun();
  expect(outbox.stats().isAwaitingAck).toBe(false);
  return { client, outbox };
}

describe('the live outbox: what a batch holds', () => {
  it("sends every subscription's events of one commit as one batch, in arrival order", async () => {
    const client = slowClient();
    const outbox = new LiveOutbox(client.listener, { maxSubscriptions: 10, maxPendingChanges: 100 });
    outbox.add(1);
    outbox.add(2);
    const one = [row(1)];
    const two = [row(2)];
    outbox.push(2, two, { kind: 'snapshot' });
    outbox.push(1, one, { kind: 'snapshot' });
    expect(await client.batch(0)).toStrictEqual([
      { kind: 'snapshot', id: 2, rows: two },
      { kind: 'snapshot', id: 1, rows: one },
    ]);
    expect(client.batches).toHaveLength(1);
    expect(outbox.stats()).toStrictEqual({
      subscriptions: 2,
      maxSubscriptions: 10,
      pendingChanges: 0,
      maxPendingChanges: 100,
      pendingSubscriptions: 0,
      isAwaitingAck: true,
      batches: 1,
      patches: 0,
      snapshots: 2,
      collapses: 0,
      pendingChangesPeak: 0,
    });
  });

  it('sends a change as a patch of the changed rows only, with the change set and the commit seq', async () => {
    const base = rowsFrom(0, 20);
    const { client, outbox } = await started(100, [1], base);
    const updated = row(3, 'new');
    const next = [...base.slice(0, 3), updated, base[4], ...base.slice(6)];
    outbox.push(1, next, changes({ updated: [{ row: updated, old: base[3] }], deleted: [5] }), 7n);
    expect(await client.batch(1)).toStrictEqual([
      {
        kind: 'patch',
        id: 1,
        length: 19,
        removed: [3, 5],
        added: [3],
        rows: [updated],
        changes: { inserted: [], updated: [{ row: updated, old: base[3] }], deleted: [5] },
        seq: 7n,
      },
    ]);
    expect(outbox.stats()).toMatchObject({ patches: 1, snapshots: 1 });
  });

  it('sends the whole result, with the change set, when a patch would be no smaller than it', async () => {
    const base = rowsFrom(0, 2);
    const { client, outbox } = await started(100, [1, 2], base);
    // Two rows, one replaced: a patch would remove one and add one — as large as the result.
    const two = [base[0], row(9)];
    outbox.push(1, two, changes({ updated: [{ row: two[1], old: base[1] }] }), 3n);
    // Three rows, one replaced: a patch of two entries is smaller.
    const five = row(5);
    outbox.push(2, [...base, five], inserted(five));
    const [whole, patch] = await client.batch(1);
    expect(whole).toStrictEqual({ kind: 'snapshot', id: 1, rows: two, changes: { inserted: [], updated: [{ row: two[1], old: base[1] }], deleted: [] }, seq: 3n });
    expect(patch).toMatchObject({ kind: 'patch', id: 2, removed: [], added: [2] });
    // Rows in another order: no patch exists, so the whole result goes, with its (here empty) change set.
    client.ackAll();
    const reordered = [five, base[0], base[1]];
    outbox.push(2, reordered, changes({}));
    expect(await client.batch(2)).toStrictEqual([{ kind: 'snapshot', id: 2, rows: reordered, changes: { inserted: [], updated: [], deleted: [] } }]);
  });

  it('a first delivery that is a change set resumed: the whole result with the replayed changes, marked resumed, once', async () => {
    const client = slowClient();
    const outbox = new LiveOutbox(client.listener, { maxSubscriptions: 10, maxPendingChanges: 100 });
    outbox.add(1);
    const rows = rowsFrom(0, 20);
    outbox.push(1, rows, inserted(rows[19]), 40n);
    expect(await client.batch(0)).toStrictEqual([{ kind: 'snapshot', id: 1, rows, changes: { inserted: [rows[19]], updated: [], deleted: [] }, resumed: true, seq: 40n }]);
    client.ackAll();
    const next = [...rows, row(20)];
    outbox.push(1, next, inserted(row(20)), 41n);
    expect(await client.batch(1)).toStrictEqual([
      { kind: 'patch', id: 1, length: 21, removed: [], added: [20], rows: [next[20]], changes: { inserted: [next[20]], updated: [], deleted: [] }, seq: 41n },
    ]);
  });

  it('a resumed result stays marked resumed when a whole result follows it before it is sent', async () => {
    const client = slowClient();
    const outbox = new LiveOutbox(client.listener, { maxSubscriptions: 10, maxPendingChanges: 100 });
    outbox.add(1);
    outbox.push(1, [row(1)], inserted(row(1)));
    const rows = [row(1), row(2)];
    outbox.push(1, rows, { kind: 'snapshot' });
    expect(await client.batch(0)).toStrictEqual([{ kind: 'snapshot', id: 1, rows, resumed: true }]);
  });

  it('passes a snapshot’s resumed and hasMore to the client once; the next result carries neither', async () => {
    const client = slowClient();
    const outbox = new LiveOutbox(client.listener, { maxSubscriptions: 10, maxPendingChanges: 100 });
    outbox.add(1);
    outbox.add(2);
    const first = [row(1)];
    outbox.push(1, first, { kind: 'snapshot', resumed: false, hasMore: true });
    outbox.push(2, first, { kind: 'snapshot', hasMore: false });
    expect(await client.batch(0)).toStrictEqual([
      { kind: 'snapshot', id: 1, rows: first, resumed: false, hasMore: true },
      { kind: 'snapshot', id: 2, rows: first },
    ]);
    client.ackAll();
    const second = [row(1), row(2)];
    outbox.push(1, second, { kind: 'snapshot' });
    expect(await client.batch(1)).toStrictEqual([{ kind: 'snapshot', id: 1, rows: second }]);
  });

  it('changes on top of a result the client does not hold yet go as that whole result, without a change set', async () => {
    const client = slowClient();
    const outbox = new LiveOutbox(client.listener, { maxSubscriptions: 10, maxPendingChanges: 100 });
    outbox.add(1);
    outbox.push(1, [row(1)], { kind: 'snapshot' });
    const rows = [row(1), row(2)];
    outbox.push(1, rows, inserted(rows[1]));
    expect(outbox.stats().pendingChanges).toBe(0);
    expect(await client.batch(0)).toStrictEqual([{ kind: 'snapshot', id: 1, rows }]);
  });

  it('a whole result replaces the changes queued before it, and they stop counting', async () => {
    const base = rowsFrom(0, 20);
    const { client, outbox } = await started(100, [1], base);
    outbox.push(1, [...base, row(20)], inserted(row(20)));
    outbox.push(1, [...base, row(20), row(21)], inserted(row(21)));
    expect(outbox.stats().pendingChanges).toBe(2);
    const rerun = [row(50)];
    outbox.push(1, rerun, { kind: 'snapshot' });
    expect(outbox.stats().pendingChanges).toBe(0);
    expect(await client.batch(1)).toStrictEqual([{ kind: 'snapshot', id: 1, rows: rerun }]);
  });

  it('sends the whole result when the engine reports no change set', async () => {
    const { client, outbox } = await started(100, [1], rowsFrom(0, 20));
    const rows = rowsFrom(0, 21);
    outbox.push(1, rows, undefined);
    expect(await client.batch(1)).toStrictEqual([{ kind: 'snapshot', id: 1, rows }]);
  });

  it('an error follows its subscription’s result in the same batch; an error alone goes alone', async () => {
    const client = slowClient();
    const outbox = new LiveOutbox(client.listener, { maxSubscriptions: 10, maxPendingChanges: 100 });
    outbox.add(1);
    const rows = [row(1)];
    const error = { code: 'TABLE_NOT_FOUND', message: 'gone' } as const;
    outbox.push(1, rows, { kind: 'snapshot' });
    outbox.error(1, error);
    expect(await client.batch(0)).toStrictEqual([
      { kind: 'snapshot', id: 1, rows },
      { kind: 'error', id: 1, error },
    ]);
    client.ackAll();
    outbox.error(1, error);
    expect(await client.batch(1)).toStrictEqual([{ kind: 'error', id: 1, error }]);
  });

  it('ignores deliveries and errors for subscriptions it does not hold', async () => {
    const client = slowClient();
    const outbox = new LiveOutbox(client.listener, { maxSubscriptions: 10, maxPendingChanges: 100 });
    outbox.add(1);
    outbox.push(7, [row(7)], { kind: 'snapshot' });
    outbox.error(7, { code: 'TABLE_NOT_FOUND', message: 'gone' });
    outbox.remove(7);
    const rows = [row(1)];
    outbox.push(1, rows, { kind: 'snapshot' });
    expect(await client.batch(0)).toStrictEqual([{ kind: 'snapshot', id: 1, rows }]);
    expect(outbox.stats()).toMatchObject({ subscriptions: 1, pendingChanges: 0 });
  });
});

describe('the live outbox: when a batch goes', () => {
  it('waits for the acknowledgement, then sends everything that piled up in one batch', async () => {
    const base = rowsFrom(0, 20);
    const { client, outbox } = await started(100, [1], base);
    let rows: Row[] = base;
    for (let i = 0; i < 5; i++) {
      rows = [...rows, row(100 + i)];
      outbox.push(1, rows, inserted(rows[rows.length - 1]), BigInt(i));
    }
    await client.batch(1);
    for (let i = 5; i < 8; i++) {
      rows = [...rows, row(100 + i)];
      outbox.push(1, rows, inserted(rows[rows.length - 1]), BigInt(i));
    }
    await microtasksRun();
    expect(client.batches).toHaveLength(2); // the second is not acknowledged yet
    expect(outbox.stats()).toMatchObject({ pendingChanges: 3, pendingSubscriptions: 1, isAwaitingAck: true, batches: 2, pendingChangesPeak: 5 });
    client.ackAll();
    expect(await client.batch(2)).toStrictEqual([
      { kind: 'patch', id: 1, length: 28, removed: [], added: [25, 26, 27], rows: rows.slice(25), changes: { inserted: rows.slice(25), updated: [], deleted: [] }, seq: 7n },
    ]);
    expect(outbox.stats()).toMatchObject({ pendingChanges: 0, pendingSubscriptions: 0, batches: 3, patches: 2 });
  });

  it('sends no batch when nothing changed for the client', async () => {
    const base = [row(1)];
    const { client, outbox } = await started(100, [1], base);
    outbox.push(1, base, { kind: 'snapshot' }); // the result the client holds
    await microtasksRun();
    expect(outbox.stats()).toMatchObject({ batches: 1, isAwaitingAck: false, pendingSubscriptions: 0 });
    const rows = [row(1), row(2)];
    outbox.push(1, rows, { kind: 'snapshot' });
    expect(await client.batch(1)).toStrictEqual([{ kind: 'snapshot', id: 1, rows }]);
  });

  for (const fail of ['throw', 'reject'] as const) {
    it(`a listener that fails (${fail}) counts as an acknowledgement: the next batch still goes`, async () => {
      const client = slowClient({ fail });
      const outbox = new LiveOutbox(client.listener, { maxSubscriptions: 10, maxPendingChanges: 100 });
      outbox.add(1);
      outbox.push(1, [row(1)], { kind: 'snapshot' });
      await client.batch(0);
      const rows = [row(2)];
      outbox.push(1, rows, { kind: 'snapshot' });
      expect(await client.batch(1)).toStrictEqual([{ kind: 'snapshot', id: 1, rows }]);
    });
  }

  it('forgets a removed subscription: its pending changes stop counting and nothing of it is sent', async () => {
    const base = rowsFrom(0, 20);
    const { client, outbox } = await started(100, [1, 2], base);
    outbox.push(1, [...base, row(20)], inserted(row(20)));
    outbox.push(2, [...base, row(30), row(31)], inserted(row(30), row(31)));
    outbox.push(2, [...base, row(30), row(31), row(32)], inserted(row(32)));
    await client.batch(1);
    outbox.push(1, [...base, row(20), row(21)], inserted(row(21)));
    outbox.push(2, [...base, row(40)], changes({ deleted: [30, 31, 32], inserted: [row(40)] }));
    expect(outbox.stats()).toMatchObject({ pendingChanges: 5, pendingSubscriptions: 2, subscriptions: 2 });
    outbox.remove(2);
    expect(outbox.stats()).toMatchObject({ pendingChanges: 1, pendingSubscriptions: 1, subscriptions: 1 });
    client.ackAll();
    expect((await client.batch(2)).map((e) => e.id)).toEqual([1]);
    outbox.push(1, base, deleted(20, 21));
    outbox.clear();
    expect(outbox.stats()).toMatchObject({ pendingChanges: 0, pendingSubscriptions: 0, subscriptions: 0 });
  });
});

describe('the live outbox: the bound on pending changes', () => {
  it('counts inserts, updates and deletions against the bound, and collapses past it into the whole result alone', async () => {
    const base = rowsFrom(0, 20);
    const { client, outbox } = await started(4, [1], base);
    let rows = base.slice(2);
    outbox.push(1, rows, deleted(0, 1));
    expect(outbox.stats().pendingChanges).toBe(2);
    const updated = row(5, 'new');
    rows = rows.map((r) => (r === base[5] ? updated : r));
    outbox.push(1, rows, changes({ updated: [{ row: updated, old: base[5] }] }));
    expect(outbox.stats().pendingChanges).toBe(3);
    outbox.push(1, rows.slice(1), deleted(2));
    expect(outbox.stats().pendingChanges).toBe(4);
    rows = rows.slice(2);
    outbox.push(1, rows, deleted(3));
    expect(outbox.stats()).toMatchObject({ pendingChanges: 0, collapses: 1, pendingChangesPeak: 4 });
    // A collapsed subscription queues no more changes: it will send its latest result whole.
    rows = rows.slice(1);
    outbox.push(1, rows, deleted(4));
    expect(outbox.stats()).toMatchObject({ pendingChanges: 0, collapses: 1 });
    expect(await client.batch(1)).toStrictEqual([{ kind: 'snapshot', id: 1, rows, collapsed: true }]);
    // Collapsing is per batch: the next change is a patch again.
    client.ackAll();
    outbox.push(1, rows.slice(1), deleted(rows[0].id));
    expect(await client.batch(2)).toMatchObject([{ kind: 'patch', id: 1, removed: [0], added: [] }]);
  });

  it('collapses the subscription holding the most changes, not the one whose change did not fit', async () => {
    const base = rowsFrom(0, 20);
    const { client, outbox } = await started(10, [1, 2], base);
    let big = base;
    for (let i = 0; i < 8; i++) {
      big = [...big, row(100 + i)];
      outbox.push(1, big, inserted(big[big.length - 1]));
    }
    const small = [...base, row(200)];
    outbox.push(2, small, inserted(small[20]));
    expect(outbox.stats()).toMatchObject({ pendingChanges: 9, collapses: 0 });
    const small2 = [...small, row(201), row(202), row(203)];
    outbox.push(2, small2, inserted(row(201), row(202), row(203)));
    expect(outbox.stats()).toMatchObject({ pendingChanges: 4, collapses: 1 });
    const events = await client.batch(1);
    expect(events).toStrictEqual([
      { kind: 'snapshot', id: 1, rows: big, collapsed: true },
      { kind: 'patch', id: 2, length: 24, removed: [], added: [20, 21, 22, 23], rows: small2.slice(20), changes: { inserted: small2.slice(20), updated: [], deleted: [] } },
    ]);
  });

  it('collapses the subscription whose change does not fit when it would hold the most, or as many as another', async () => {
    const base = rowsFrom(0, 20);
    const { client, outbox } = await started(9, [1, 2, 3], base);
    let a = base;
    for (let i = 0; i < 4; i++) {
      a = [...a, row(100 + i)];
      outbox.push(1, a, inserted(a[a.length - 1]));
    }
    // 4 + 6 > 9, and the newcomer would hold 6, more than the 4 of subscription 1: it collapses.
    const b = [...base, ...rowsFrom(200, 6)];
    outbox.push(2, b, inserted(...b.slice(20)));
    expect(outbox.stats()).toMatchObject({ pendingChanges: 4, collapses: 1 });
    let c = base;
    for (let i = 0; i < 4; i++) {
      c = [...c, row(300 + i)];
      outbox.push(3, c, inserted(c[c.length - 1]));
    }
    a = [...a, row(104)];
    outbox.push(1, a, inserted(row(104)));
    expect(outbox.stats()).toMatchObject({ pendingChanges: 9, collapses: 1 });
    // 9 + 1 > 9, and subscription 3 would hold 5, as many as subscription 1: on a tie the newcomer collapses.
    c = [...c, row(304)];
    outbox.push(3, c, inserted(row(304)));
    expect(outbox.stats()).toMatchObject({ pendingChanges: 5, collapses: 2 });
    const events = await client.batch(1);
    expect(events.map((e) => [e.id, e.kind, e.kind === 'snapshot' && e.collapsed === true])).toEqual([
      [1, 'patch', false],
      [2, 'snapshot', true],
      [3, 'snapshot', true],
    ]);
    expect(events[0]).toMatchObject({ added: [20, 21, 22, 23, 24], rows: a.slice(20) });
    expect(events[1]).toStrictEqual({ kind: 'snapshot', id: 2, rows: b, collapsed: true });
    expect(events[2]).toStrictEqual({ kind: 'snapshot', id: 3, rows: c, collapsed: true });
  });

  it('never holds more than the bound, whatever mix of subscriptions and changes arrives', async () => {
    const base = rowsFrom(0, 5);
    const { client, outbox } = await started(6, [1, 2, 3], base);
    const results = new Map<number, Row[]>([
      [1, base],
      [2, base],
      [3, base],
    ]);
    let next = 1000;
    for (let step = 0; step < 200; step++) {
      const id = 1 + ((step * 7) % 3);
      const size = 1 + ((step * 5) % 4);
      const added = rowsFrom(next, size);
      next += size;
      const rows = [...results.get(id)!, ...added];
      results.set(id, rows);
      outbox.push(id, rows, inserted(...added));
      expect(outbox.stats().pendingChanges).toBeLessThanOrEqual(6);
    }
    expect(outbox.stats().collapses).toBeGreaterThan(0);
    const events = await client.batch(1);
    // Nothing is lost: each subscription's event leaves the client with its latest result.
    for (const e of events) {
      if (e.kind === 'snapshot') expect(e.rows).toBe(results.get(e.id));
      else if (e.kind === 'patch') expect(applyPatch(base, e)).toEqual(results.get(e.id));
    }
    expect(events.map((e) => e.id).sort()).toEqual([1, 2, 3]);
  });
});
