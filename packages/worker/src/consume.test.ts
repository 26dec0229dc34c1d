import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, KalamError, type Database } from '@kalamlite/engine';
import { createLocalClient } from './client';
import type { TopicMessage } from './consume';
import type { KalamClient } from './types';

let db: Database;
let client: KalamClient;
const stops: (() => void)[] = [];

beforeEach(async () => {
  db = await openDatabase({ storage: 'memory' });
  client = createLocalClient(db);
  await client.session({ user: 'root', role: 'system' }).execute(`CREATE NAMESPACE app;
    CREATE USER TABLE app.todos (id INT PRIMARY KEY, title TEXT, done BOOLEAN);
    CREATE TOPIC outbox PARTITIONS 2;
    ALTER TOPIC outbox ADD SOURCE app.todos ON INSERT; ALTER TOPIC outbox ADD SOURCE app.todos ON UPDATE WITH (payload = 'diff');
    ALTER TOPIC outbox ADD SOURCE app.todos ON DELETE WITH (payload = 'key')`);
});

afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await client.close();
  await db.close();
});

/** Resolves once `predicate` holds (checked every 5 ms), failing after 3 s. */
async function until(predicate: () => boolean): Promise<void> {
  const end = Date.now() + 3000;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A consumer that "pushes" each batch to a server (an array). */
function outbox(options: Parameters<KalamClient['consume']>[1], server: TopicMessage[], fail?: () => boolean) {
  const stop = client.consume('outbox', { waitMs: 200, retryMs: 10, onError: () => undefined, ...options }, async (batch) => {
    await new Promise((r) => setTimeout(r, 1));
    if (fail?.()) throw new Error('offline');
    server.push(...batch);
  });
  stops.push(stop);
  return stop;
}

describe('client.consume', () => {
  it('delivers local writes in commit order, wakes on new ones, and acks each batch once its handler resolves', async () => {
    const alice = client.session({ user: 'alice', role: 'user' });
    await alice.execute("INSERT INTO app.todos VALUES (1, 'milk', false)");
    const server: TopicMessage[] = [];
    outbox({ group: 'sync' }, server);
    await until(() => server.length === 1);
    await alice.execute("UPDATE app.todos SET done = true WHERE id = 1; INSERT INTO app.todos VALUES (2, 'eggs', false)");
    await alice.execute('DELETE FROM app.todos WHERE id = 2');
    await until(() => server.length === 4);
    expect(server.map((m) => [m.op, m.key, m.payload, m.user_id])).toEqual([
      ['insert', 1, { id: 1, title: 'milk', done: false }, 'alice'],
      ['update', 1, { id: 1, done: true }, 'alice'],
      ['insert', 2, { id: 2, title: 'eggs', done: false }, 'alice'],
      ['delete', 2, { id: 2 }, 'alice'],
    ]);
    await new Promise((r) => setTimeout(r, 30)); // the last batch's ACK
    const offsets = (await client.session({ user: 'root', role: 'system' }).query("SELECT partition_id, last_acked_offset FROM system.topic_offsets WHERE group_id = 'sync'")).rows;
    expect(offsets.reduce((n, r) => n + Number(r.last_acked_offset) + 1, 0)).toBe(4);
  });

  it('redelivers a batch whose handler failed (at least once), and a restarted consumer resumes after its acks', async () => {
    const alice = client.session({ user: 'alice', role: 'user' });
    await alice.execute("INSERT INTO app.todos VALUES (1, 'a', false), (2, 'b', false)");
    const server: TopicMessage[] = [];
    let failures = 2;
    const stop = outbox({ group: 'sync' }, server, () => failures-- > 0);
    await until(() => server.length === 2);
    expect(failures).toBe(-1);
    stop();
    await alice.execute("INSERT INTO app.todos VALUES (3, 'c', false)");
    outbox({ group: 'sync' }, server);
    await until(() => server.length === 3);
    expect(server.map((m) => m.key)).toEqual([1, 2, 3]);
  });

  it("from: 'latest' skips what was written before it started", async () => {
    const alice = client.session({ user: 'alice', role: 'user' });
    await alice.execute("INSERT INTO app.todos VALUES (1, 'old', false)");
    const server: TopicMessage[] = [];
    outbox({ group: 'fresh', from: 'latest' }, server);
    await new Promise((r) => setTimeout(r, 50));
    await alice.execute("INSERT INTO app.todos VALUES (2, 'new', false)");
    await until(() => server.length === 1);
    expect(server[0].key).toBe(2);
  });

  it("a user-role session's consumer gets only its own rows' messages", async () => {
    await client.session({ user: 'bob', role: 'user' }).execute("INSERT INTO app.todos VALUES (7, 'bob-secret', false)");
    const alice = client.session({ user: 'alice', role: 'user' });
    await alice.execute("INSERT INTO app.todos VALUES (1, 'mine', false)");
    const got: TopicMessage[] = [];
    stops.push(alice.consume('outbox', { group: 'g', waitMs: 100 }, (batch) => void got.push(...batch)));
    await until(() => got.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(got.map((m) => [m.key, m.user_id])).toEqual([[1, 'alice']]);
  });

  it('stops: the CONSUME waiting in the worker is cancelled and nothing more is delivered', async () => {
    const server: TopicMessage[] = [];
    const stop = outbox({ group: 'sync', waitMs: 60_000 }, server);
    const running = async () => (await client.session({ user: 'root', role: 'system' }).query("SELECT sql FROM system.queries WHERE sql LIKE 'CONSUME%'")).rows.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(await running()).toBe(1);
    stop();
    await new Promise((r) => setTimeout(r, 400));
    expect(await running()).toBe(0);
    await client.session({ user: 'alice', role: 'user' }).execute("INSERT INTO app.todos VALUES (1, 'late', false)");
    await new Promise((r) => setTimeout(r, 50));
    expect(server).toEqual([]);
  });

  it('refuses a bad topic name, missing group or bad option with a message saying what to pass', () => {
    const s = client.session({ user: 'alice', role: 'user' });
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as KalamError).code;
      }
      return 'none';
    };
    expect(code(() => s.consume("outbox'; DROP TOPIC outbox", { group: 'g' }, () => undefined))).toBe('INVALID_PARAMETER');
    expect(code(() => s.consume('outbox', {} as never, () => undefined))).toBe('INVALID_OPTION');
    expect(code(() => s.consume('outbox', { group: 'g', batchSize: 0 }, () => undefined))).toBe('INVALID_OPTION');
    expect(code(() => s.consume('outbox', { group: 'g', from: 'middle' as never }, () => undefined))).toBe('INVALID_OPTION');
  });

  it("escapes the group name (a quote in it is part of the name)", async () => {
    await client.session({ user: 'alice', role: 'user' }).execute("INSERT INTO app.todos VALUES (1, 'x', false)");
    const server: TopicMessage[] = [];
    outbox({ group: "it's" }, server);
    await until(() => server.length === 1);
    await new Promise((r) => setTimeout(r, 30)); // its ACK
    const groups = (await client.session({ user: 'root', role: 'system' }).query('SELECT DISTINCT group_id FROM system.topic_offsets')).rows;
    expect(groups).toEqual([{ group_id: "it's" }]);
  });
});
