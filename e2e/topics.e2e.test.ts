/**
 * Topics in a real Chromium, through the worker client over IndexedDB: an
 * outbox topic routes a USER table's writes; `client.consume()` pushes
 * each batch to a (simulated) server and acks it; a rolled-back
 * transaction writes no message; closing the client and opening the
 * database again resumes the group after its acks, delivering only what
 * was written meanwhile; and a user's consumer sees only that user's rows.
 */
import { expect, it } from 'vitest';
import { clientPage } from './client-page';

const client = clientPage();

it('delivers committed writes once per ack, none of a rollback, and resumes after a reopen', async () => {
  const result = await client.page.evaluate(async () => {
    type Worker = typeof import('@kalamlite/worker');
    const { createClient } = (window as unknown as { kalamlite: Worker }).kalamlite;
    const name = `topics-${Date.now()}`;
    const until = async (check: () => boolean) => {
      const end = Date.now() + 10_000;
      while (!check()) {
        if (Date.now() > end) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    /** What the "server" received: op and key of each message, per consumer run. */
    const server: string[] = [];
    let client = await createClient({ name, storage: 'idb' });
    const root = client.session({ user: 'root', role: 'system' });
    await root.execute(`CREATE NAMESPACE app; CREATE USER TABLE app.todos (id INT PRIMARY KEY, title TEXT);
      CREATE TOPIC outbox PARTITIONS 3;
      ALTER TOPIC outbox ADD SOURCE app.todos ON INSERT; ALTER TOPIC outbox ADD SOURCE app.todos ON UPDATE WITH (payload = 'diff');
      ALTER TOPIC outbox ADD SOURCE app.todos ON DELETE WITH (payload = 'key')`);
    const alice = client.session({ user: 'alice', role: 'user' });
    let stop = client.consume('outbox', { group: 'push', waitMs: 5000 }, async (batch) => {
      server.push(...batch.map((m) => `${m.op}:${String(m.key)}:${m.user_id}`));
    });
    const started = performance.now();
    await alice.execute("INSERT INTO app.todos VALUES (1, 'milk')");
    await until(() => server.length === 1);
    const firstDeliveryMs = performance.now() - started;
    await alice.execute("BEGIN; INSERT INTO app.todos VALUES (2, 'never'); ROLLBACK");
    await alice.execute("UPDATE app.todos SET title = 'oat milk' WHERE id = 1; INSERT INTO app.todos VALUES (3, 'eggs')");
    await client.session({ user: 'bob', role: 'user' }).execute("INSERT INTO app.todos VALUES (9, 'bob')");
    await until(() => server.length === 4);
    await new Promise((r) => setTimeout(r, 100)); // the last ACK
    stop();
    await client.close();

    // Written while no consumer runs, then a new client on the same database: only these arrive.
    client = await createClient({ name, storage: 'idb' });
    await client.session({ user: 'alice', role: 'user' }).execute('DELETE FROM app.todos WHERE id = 3');
    const afterReopen: string[] = [];
    stop = client.consume('outbox', { group: 'push', waitMs: 5000 }, (batch) => {
      afterReopen.push(...batch.map((m) => `${m.op}:${String(m.key)}:${m.user_id}`));
    });
    await until(() => afterReopen.length === 1);
    // A user's own consumer: only alice's messages, whatever the group.
    const mine: string[] = [];
    const stopMine = client.session({ user: 'alice', role: 'user' }).consume('outbox', { group: 'mine', waitMs: 5000 }, (batch) => {
      mine.push(...batch.map((m) => `${m.op}:${String(m.key)}:${m.user_id}`));
    });
    await until(() => mine.length === 4);
    await new Promise((r) => setTimeout(r, 100));
    stop();
    stopMine();
    const stats = (await client.session({ user: 'root', role: 'system' }).query(
      "SELECT metric_name, metric_value FROM system.stats WHERE metric_name IN ('topics', 'topic_messages', 'topic_groups')",
    )).rows;
    await client.close();
    return { server, afterReopen, mine, firstDeliveryMs, stats };
  });
  console.log(`topics e2e: first message reached the consumer ${result.firstDeliveryMs.toFixed(1)} ms after its INSERT was sent`);
  expect(result.server).toEqual(['insert:1:alice', 'update:1:alice', 'insert:3:alice', 'insert:9:bob']);
  expect(result.afterReopen).toEqual(['delete:3:alice']);
  expect(result.mine).toEqual(['insert:1:alice', 'update:1:alice', 'insert:3:alice', 'delete:3:alice']);
  expect(Object.fromEntries(result.stats.map((r) => [r.metric_name, Number(r.metric_value)]))).toEqual({ topics: 1, topic_messages: 5, topic_groups: 2 });
});
