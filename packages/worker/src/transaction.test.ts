import { afterEach, describe, expect, it } from 'vitest';
import type { Row } from '@kalamlite/engine';
import { createClient, createLocalClient } from './client';
import { MAX_CLIENT_TRANSACTIONS } from './host';
import { caught, closePorts, createChannelClient, openTestDatabase } from './testing/channel.fixture';

const INSERT = 'INSERT INTO app.todos (id, title) VALUES ($1, $2)';
const SELECT = 'SELECT id, title FROM app.todos ORDER BY id';

afterEach(closePorts);

for (const [transport, connect] of [
  ['in-process', async () => createLocalClient(await openTestDatabase())],
  ['over Comlink', createChannelClient],
] as const) {
  describe(`transactions on a client ${transport}`, () => {
    it('commits when the callback resolves, hiding staged writes from other sessions until then', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      const other = client.session({ user: 'alice', namespace: 'app' });
      const result = await alice.transaction(async (tx) => {
        await tx.execute(INSERT, ['a', 'milk']);
        await tx.execute(INSERT, ['b', 'eggs']);
        expect((await tx.query(SELECT)).rows).toEqual([{ id: 'a', title: 'milk' }, { id: 'b', title: 'eggs' }]);
        expect((await other.query('SELECT id FROM todos')).rows).toEqual([]);
        return 'ok';
      });
      expect(result).toBe('ok');
      const { rows } = await other.query('SELECT id FROM todos ORDER BY id');
      expect(rows).toEqual([{ id: 'a' }, { id: 'b' }]);
      expect(Object.isFrozen(rows[0])).toBe(true);
      await client.close();
    });

    it('rolls back and rethrows the callback error unchanged', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      const boom = new Error('boom');
      await expect(alice.transaction(async (tx) => {
        await tx.execute(INSERT, ['a', 'milk']);
        throw boom;
      })).rejects.toBe(boom);
      expect((await alice.query(SELECT)).rows).toEqual([]);
      await client.close();
    });

    it('rolls back everything when a statement fails, even if the callback swallows the error', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      const err = await caught(alice.transaction(async (tx) => {
        await tx.execute(INSERT, ['a', 'milk']);
        expect((await caught(tx.execute(INSERT, ['a', 'again']))).code).toBe('PRIMARY_KEY_VIOLATION');
      }));
      expect(err.code).toBe('TRANSACTION_ERROR');
      expect((await alice.query(SELECT)).rows).toEqual([]);
      await client.close();
    });

    it('supports begin, commit and rollback explicitly, and refuses statements after the end', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      const kept = await alice.begin();
      await kept.execute(INSERT, ['a', 'milk']);
      await kept.commit();
      expect((await caught(kept.execute(SELECT))).code).toBe('TRANSACTION_ERROR');
      expect((await caught(kept.rollback())).code).toBe('TRANSACTION_ERROR');
      const dropped = await alice.begin();
      await dropped.execute(INSERT, ['b', 'eggs']);
      await dropped.rollback();
      await dropped.rollback();
      expect((await alice.query(SELECT)).rows).toEqual([{ id: 'a', title: 'milk' }]);
      await client.close();
    });

    it('runs SQL BEGIN … COMMIT batches through execute()', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      await alice.execute(`BEGIN; INSERT INTO app.todos (id, title) VALUES ('a', 'x'); COMMIT`);
      expect((await caught(alice.execute(`BEGIN; INSERT INTO app.todos (id, title) VALUES ('b', 'x')`))).code).toBe('TRANSACTION_ERROR');
      expect((await alice.query(SELECT)).rows).toEqual([{ id: 'a', title: 'x' }]);
      await client.close();
    });

    it('delivers a live result once with all of a transaction\'s rows', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      const results: (readonly Row[])[] = [];
      let wake: (() => void) | undefined;
      const stop = await alice.live(SELECT, undefined, (rows) => {
        results.push(rows);
        wake?.();
      });
      const next = async (n: number) => {
        while (results.length < n) await new Promise<void>((resolve) => (wake = resolve));
      };
      await next(1);
      await alice.transaction(async (tx) => {
        await tx.execute(INSERT, ['a', 'milk']);
        await tx.execute(INSERT, ['b', 'eggs']);
      });
      await next(2);
      expect(results[1].map((r) => r.id)).toEqual(['a', 'b']);
      await alice.execute(INSERT, ['c', 'tea']);
      await next(3);
      expect(results[2].map((r) => r.id)).toEqual(['a', 'b', 'c']);
      stop();
      await client.close();
    });

    it(`refuses more than ${MAX_CLIENT_TRANSACTIONS} open transactions per client`, async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      const open = [];
      for (let i = 0; i < MAX_CLIENT_TRANSACTIONS; i++) open.push(await alice.begin());
      const err = await caught(alice.begin());
      expect(err.code).toBe('TRANSACTION_ERROR');
      expect(err.message).toMatch(/Too many open transactions on this client/);
      await open[0].rollback();
      await (await alice.begin()).commit();
      await client.close();
    });
  });
}

describe('a closing client', () => {
  it('rolls back the transactions it left open', async () => {
    const db = await openTestDatabase();
    const admin = db.session({ user: 'admin', role: 'dba' });
    const client = createLocalClient(db);
    const tx = await client.session({ user: 'alice' }).begin();
    await tx.execute(INSERT, ['a', 'milk']);
    expect((await admin.query('SELECT owner_id FROM system.transactions')).rows).toEqual([{ owner_id: 'alice' }]);
    await client.close();
    expect((await admin.query('SELECT owner_id FROM system.transactions')).rows).toEqual([]);
    expect((await db.session({ user: 'alice' }).query(SELECT)).rows).toEqual([]);
    expect((await caught(tx.execute(SELECT))).code).toBe('CLOSED');
    await db.close();
  });
});
