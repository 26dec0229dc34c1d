import { describe, expect, it } from 'vitest';
import type { Row } from '@kalamlite/engine';
import { LiveOutbox } from './outbox';
import type { LiveChange, LiveEvent } from './protocol';

const row = (id: number, title = `t${id}`): Row => Object.freeze({ id, title });
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** A listener that records each batch and acknowledges only when told to. */
function slowListener() {
  const batches: (readonly LiveEvent[])[] = [];
  const acks: (() => void)[] = [];
  return {
    batches,
    listener: (events: readonly LiveEvent[]) => {
      batches.push(events);
      return new Promise<void>((resolve) => acks.push(resolve));
    },
    ackAll() {
      for (const ack of acks.splice(0)) ack();
    },
  };
}

function inserted(...rows: Row[]): LiveChange {
  return { kind: 'changes', inserted: rows, updated: [], deleted: [] };
}

describe('the live outbox', () => {
  it("sends every subscription's events of one commit as one batch", async () => {
    const client = slowListener();
    const outbox = new LiveOutbox(client.listener, { maxSubscriptions: 10, maxPendingChanges: 100 });
    outbox.add(1);
    outbox.add(2);
    outbox.push(1, [row(1)], { kind: 'snapshot' });
    outbox.push(2, [row(2)], { kind: 'snapshot' });
    await tick();
    expect(client.batches).toHaveLength(1);
    expect(client.batches[0].map((e) => [e.kind, e.id])).toEqual([
      ['snapshot', 1],
      ['snapshot', 2],
    ]);
  });

  it('sends a change as a patch holding only the changed row, with the change set', async () => {
    const client = slowListener();
    const outbox = new LiveOutbox(client.listener, { maxSubscriptions: 10, maxPendingChanges: 100 });
    outbox.add(1);
    const first = Array.from({ length: 20 }, (_, i) => row(i));
    outbox.push(1, first, { kind: 'snapshot' });
    await tick();
    client.ackAll();
    await tick();
    const added = row(100);
    outbox.push(1, [added, ...first.slice(0, 19)], inserted(added));
    await tick();
    expect(client.batches).toHaveLength(2);
    const event = client.batches[1][0];
    expect(event).toEqual({
      kind: 'patch',
      id: 1,
      length: 20,
      removed: [19],
      added: [0],
      rows: [added],
      changes: { inserted: [added], updated: [], deleted: [] },
    });
  });

  it('waits for the acknowledgement, then sends everything that piled up in one batch', async () => {
    const client = slowListener();
    const outbox = new LiveOutbox(client.listener, { maxSubscriptions: 10, maxPendingChanges: 100 });
    outbox.add(1);
    const base = Array.from({ length: 20 }, (_, i) => row(i));
    let rows: Row[] = base;
    outbox.push(1, rows, { kind: 'snapshot' });
    await tick();
    for (let i = 0; i < 5; i++) {
      rows = [...rows, row(100 + i)];
      outbox.push(1, rows, inserted(rows[rows.length - 1]));
      await tick();
    }
    expect(client.batches).toHaveLength(1);
    expect(outbox.stats()).toMatchObject({ pendingChanges: 5, isAwaitingAck: true });
    client.ackAll();
    await tick();
    expect(client.batches).toHaveLength(2);
    const [event] = client.batches[1];
    expect(event.kind).toBe('patch');
    if (event.kind !== 'patch') return;
    expect(event.added).toEqual([20, 21, 22, 23, 24]);
    expect(event.rows).toEqual(rows.slice(20));
    expect(event.changes.inserted).toEqual(rows.slice(20));
    expect(outbox.stats().pendingChanges).toBe(0);
  });

  it('collapses the subscription holding the most changes into a fresh result when the queue is full', async () => {
    const client = slowListener();
    const outbox = new LiveOutbox(client.listener, { maxSubscriptions: 10, maxPendingChanges: 10 });
    outbox.add(1);
    outbox.add(2);
    let big: Row[] = [];
    let small: Row[] = [];
    outbox.push(1, big, { kind: 'snapshot' });
    outbox.push(2, small, { kind: 'snapshot' });
    await tick(); // first batch out, not acknowledged
    small = [row(-1)];
    outbox.push(2, small, inserted(small[0]));
    for (let i = 0; i < 50; i++) {
      big = [...big, row(i)];
      outbox.push(1, big, inserted(big[i]));
      expect(outbox.stats().pendingChanges).toBeLessThanOrEqual(10);
    }
    const stats = outbox.stats();
    expect(stats.collapses).toBeGreaterThan(0);
    expect(stats.pendingChangesPeak).toBeLessThanOrEqual(10);
    client.ackAll();
    await tick();
    const events = client.batches[1];
    const bigEvent = events.find((e) => e.id === 1)!;
    expect(bigEvent).toMatchObject({ kind: 'snapshot', collapsed: true, rows: big });
    // The small subscription kept its change set.
    const smallEvent = events.find((e) => e.id === 2)!;
    expect(smallEvent).toMatchObject({ changes: { inserted: small } });
    expect(smallEvent).not.toHaveProperty('collapsed');
  });

  it('sends the whole result when the engine reports no change set', async () => {
    const client = slowListener();
    const outbox = new LiveOutbox(client.listener, { maxSubscriptions: 10, maxPendingChanges: 10 });
    outbox.add(1);
    outbox.push(1, [row(1)], undefined);
    await tick();
    client.ackAll();
    await tick();
    outbox.push(1, [row(1), row(2)], undefined);
    await tick();
    expect(client.batches.map((b) => b[0].kind)).toEqual(['snapshot', 'snapshot']);
  });

  it('forgets the pending changes of a removed subscription', async () => {
    const client = slowListener();
    const outbox = new LiveOutbox(client.listener, { maxSubscriptions: 10, maxPendingChanges: 10 });
    outbox.add(1);
    outbox.push(1, [], { kind: 'snapshot' });
    await tick();
    outbox.push(1, [row(1)], inserted(row(1)));
    expect(outbox.stats()).toMatchObject({ pendingChanges: 1, pendingSubscriptions: 1, subscriptions: 1 });
    outbox.remove(1);
    expect(outbox.stats()).toMatchObject({ pendingChanges: 0, pendingSubscriptions: 0, subscriptions: 0 });
    client.ackAll();
    await tick();
    expect(client.batches).toHaveLength(1);
  });
});
