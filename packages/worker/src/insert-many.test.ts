import { afterEach, describe, expect, it } from 'vitest';
import type { InsertManyError } from '@kalamlite/engine';
import { createLocalClient } from './client';
import { caught, closePorts, createChannelClient, openTestDatabase } from './testing/channel.fixture';
import type { KalamClient } from './types';

afterEach(closePorts);

const todo = (i: number) => ({ id: `t${String(i).padStart(3, '0')}`, title: `todo ${i}` });
const ids = async (client: KalamClient, user: string) =>
  (await client.session({ user }).query<{ id: string }>('SELECT id FROM app.todos ORDER BY id')).rows.map((r) => r.id);

for (const [transport, connect] of [
  ['in-process', async () => createLocalClient(await openTestDatabase())],
  ['over Comlink', () => createChannelClient()],
] as const) {
  describe(`insertMany ${transport}`, () => {
    it('reads the input one chunk at a time and commits each chunk before reading the next', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      let pulled = 0;
      async function* input() {
        for (let i = 0; i < 23; i++) {
          pulled++;
          yield todo(i);
        }
      }
      const seen: [number, number][] = [];
      const result = await alice.insertMany('app.todos', input(), { chunkRows: 5, onProgress: (p) => seen.push([p.rowsCommitted, pulled]) });
      expect(result).toEqual({ rowsCommitted: 23, chunks: 5 });
      // When a chunk has committed, nothing past it has been read.
      expect(seen).toEqual([[5, 5], [10, 10], [15, 15], [20, 20], [23, 23]]);
      expect(await ids(client, 'alice')).toHaveLength(23);
      // A USER table: the rows are alice's alone.
      expect(await ids(client, 'bob')).toEqual([]);
      await client.close();
    });

    it('fails with the failing chunk’s error, naming the row, with the rows committed before it', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      const rows = Array.from({ length: 12 }, (_, i) => (i === 7 ? { id: 'bad', title: null } : todo(i)));
      const error = (await caught(alice.insertMany('app.todos', rows, { chunkRows: 5 }))) as InsertManyError;
      expect(error.code).toBe('NOT_NULL_VIOLATION');
      expect(error.message).toMatch(/^Row 7: NOT NULL violation: column 'title'/);
      expect(error.message).toMatch(/resume from row 5 \(error\.rowsCommitted\)$/);
      expect(error.rowsCommitted).toBe(5);
      expect(await ids(client, 'alice')).toEqual([0, 1, 2, 3, 4].map((i) => todo(i).id));
      // Resumed from there with the row fixed.
      const rest = rows.slice(5).map((r, k) => (r.title === null ? todo(5 + k) : r));
      expect(await alice.insertMany('app.todos', rest, { chunkRows: 5, offset: error.rowsCommitted })).toEqual({ rowsCommitted: 12, chunks: 2 });
      expect(await ids(client, 'alice')).toHaveLength(12);
      await client.close();
    });

    it('refuses a row it cannot send on the page, before anything of its chunk is written', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      const error = (await caught(alice.insertMany('app.todos', [todo(0), todo(1), { id: 'x', title: () => 'no' }], { chunkRows: 2 }))) as InsertManyError;
      expect(error.code).toBe('INVALID_PARAMETER');
      expect(error.message).toMatch(/^Row 2, column 'title' has unsupported type function/);
      expect(error.rowsCommitted).toBe(2);
      expect(await ids(client, 'alice')).toEqual([todo(0).id, todo(1).id]);
      expect((await caught(alice.insertMany('app.missing', []))).code).toBe('TABLE_NOT_FOUND');
      expect((await caught(alice.insertMany('app.todos', [], { chunkRows: 0 }))).code).toBe('INVALID_OPTION');
      await client.close();
    });

    it('stops between chunks when its signal aborts', async () => {
      const client = await connect();
      const alice = client.session({ user: 'alice' });
      const controller = new AbortController();
      const rows = Array.from({ length: 20 }, (_, i) => todo(i));
      const error = (await caught(
        alice.insertMany('app.todos', rows, {
          chunkRows: 5,
          signal: controller.signal,
          onProgress: (p) => {
            if (p.chunks === 1) controller.abort();
          },
        }),
      )) as InsertManyError;
      expect([error.code, error.rowsCommitted]).toEqual(['QUERY_CANCELLED', 5]);
      expect(await ids(client, 'alice')).toHaveLength(5);
      await client.close();
    });
  });
}
