import 'fake-indexeddb/auto';
import { beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import { IDBFactory } from 'fake-indexeddb';
import type { Row, Value } from '../core/types';

let db: Database;
let admin: Session;

beforeEach(async () => {
  db = await openDatabase({ storage: 'memory' });
  admin = db.session({ user: 'root', role: 'dba' });
  await admin.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT, qty INT) WITH (ACCESS_LEVEL = 'public');
    CREATE TOPIC outbox PARTITIONS 4`);
});

async function failure(p: Promise<unknown>): Promise<KalamError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected the statement to fail');
}

const consume = async (s: Session, sql: string, params: Value[] = []): Promise<readonly Row[]> => (await s.query(sql, params)).rows;
const brief = (rows: readonly Row[]) => rows.map((r) => [r.op, r.key, r.payload]);

describe('topic DDL', () => {
  it('creates, lists, clears and drops topics, refusing names that exist or do not', async () => {
    await admin.execute('CREATE TOPIC events WITH (retention_seconds = 60, retention_max_bytes = 4096)');
    const topics = (await admin.query('SELECT name, partitions, retention_seconds, retention_max_bytes FROM system.topics ORDER BY name')).rows;
    expect(topics).toEqual([
      { name: 'events', partitions: 1, retention_seconds: 60, retention_max_bytes: 4096 },
      { name: 'outbox', partitions: 4, retention_seconds: null, retention_max_bytes: null },
    ]);
    expect((await failure(admin.execute('CREATE TOPIC events'))).code).toBe('TOPIC_EXISTS');
    await admin.execute('CREATE TOPIC IF NOT EXISTS events');
    await admin.execute('DROP TOPIC events');
    expect((await failure(admin.execute('DROP TOPIC events'))).code).toBe('TOPIC_NOT_FOUND');
    await admin.execute('DROP TOPIC IF EXISTS events');
    expect((await failure(admin.execute('CLEAR TOPIC nope'))).code).toBe('TOPIC_NOT_FOUND');
    expect((await failure(admin.execute('CONSUME FROM nope'))).code).toBe('TOPIC_NOT_FOUND');
  });

  it('refuses bad partitions, unknown options and payload modes with a message saying what to write', async () => {
    expect((await failure(admin.execute('CREATE TOPIC t PARTITIONS 0'))).code).toBe('INVALID_PARAMETER');
    expect((await failure(admin.execute('CREATE TOPIC t PARTITIONS 257'))).code).toBe('INVALID_PARAMETER');
    expect((await failure(admin.execute('CREATE TOPIC t WITH (colour = 1)'))).message).toMatch(/retention_seconds or retention_max_bytes/);
    const bad = await failure(admin.execute("ALTER TOPIC outbox ADD SOURCE app.items ON INSERT WITH (payload = 'all')"));
    expect([bad.code, bad.message]).toEqual(['INVALID_OPTION', "Unknown payload mode 'all': use 'key' (the primary key), 'full' (the whole row) or 'diff' (the changed columns)"]);
    expect((await failure(admin.execute('ALTER TOPIC outbox ADD SOURCE app.items ON UPSERT'))).code).toBe('PARSE_ERROR');
    expect((await failure(admin.execute('ALTER TOPIC outbox ADD SOURCE app.nope ON INSERT'))).code).toBe('TABLE_NOT_FOUND');
    expect((await failure(admin.execute('ALTER TOPIC outbox ADD SOURCE app.items ON INSERT WHERE colour = 1'))).code).toBe('COLUMN_NOT_FOUND');
    expect((await failure(admin.execute('ALTER TOPIC outbox ADD SOURCE app.items ON INSERT WHERE qty > (SELECT 1)'))).code).toBeTruthy();
  });

  it('lets only the dba and system roles define topics; every role may consume', async () => {
    for (const role of ['user', 'service'] as const) {
      const s = db.session({ user: 'u1', role });
      const e = await failure(s.execute('CREATE TOPIC mine'));
      expect([e.code, e.message]).toEqual(['PERMISSION_DENIED', 'Admin privileges (DBA or System role) required for topic operations (CREATE, DROP, CLEAR, ALTER TOPIC)']);
      expect((await failure(s.execute('DROP TOPIC outbox'))).code).toBe('PERMISSION_DENIED');
      expect((await s.query('CONSUME FROM outbox')).rows).toEqual([]);
    }
  });

  it('refuses topic statements inside an explicit transaction', async () => {
    const e = await failure(admin.execute('BEGIN; CONSUME FROM outbox; COMMIT'));
    expect(e.code).toBe('TRANSACTION_ERROR');
  });
});

describe('messages of row changes', () => {
  beforeEach(async () => {
    await admin.execute(`ALTER TOPIC outbox ADD SOURCE app.items ON INSERT;
      ALTER TOPIC outbox ADD SOURCE app.items ON UPDATE WITH (payload = 'diff');
      ALTER TOPIC outbox ADD SOURCE app.items ON DELETE WITH (payload = 'key')`);
  });

  it('writes one message per change, in commit order, with the payload of each route mode', async () => {
    await admin.execute("INSERT INTO app.items VALUES (1, 'pen', 5), (2, 'ink', 1)");
    await admin.execute("UPDATE app.items SET qty = 7 WHERE id = 1");
    await admin.execute('DELETE FROM app.items WHERE id = 2');
    const rows = await consume(admin, 'CONSUME FROM outbox FROM EARLIEST');
    expect(brief(rows)).toEqual([
      ['insert', 1, { id: 1, name: 'pen', qty: 5 }],
      ['insert', 2, { id: 2, name: 'ink', qty: 1 }],
      ['update', 1, { id: 1, qty: 7 }],
      ['delete', 2, { id: 2 }],
    ]);
    expect(rows.every((r) => r.topic === 'outbox' && r.table_name === 'app.items' && r.user_id === null && typeof r._seq === 'bigint')).toBe(true);
    // A key always lands in the same partition; offsets count from 0 in each.
    const byKey = new Map<unknown, Set<unknown>>();
    for (const r of rows) byKey.set(r.key, (byKey.get(r.key) ?? new Set()).add(r.partition));
    expect([...byKey.values()].every((s) => s.size === 1)).toBe(true);
    for (const p of new Set(rows.map((r) => r.partition))) {
      const offsets = rows.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offsets).toEqual(offsets.map((_, i) => BigInt(i)));
    }
  });

  it('sends the whole new row for full UPDATE payloads and the old row for full DELETE payloads', async () => {
    await admin.execute(`ALTER TOPIC outbox ADD SOURCE app.items ON UPDATE WITH (payload = 'full');
      ALTER TOPIC outbox ADD SOURCE app.items ON DELETE`);
    await admin.execute("INSERT INTO app.items VALUES (1, 'pen', 5)");
    await admin.execute('UPDATE app.items SET qty = 6 WHERE id = 1');
    await admin.execute('DELETE FROM app.items WHERE id = 1');
    expect(brief(await consume(admin, 'CONSUME FROM outbox')).slice(1)).toEqual([
      ['update', 1, { id: 1, name: 'pen', qty: 6 }],
      ['delete', 1, { id: 1, name: 'pen', qty: 6 }],
    ]);
  });

  it("applies a route's WHERE to the row (the old row for a delete)", async () => {
    await admin.execute(`CREATE TOPIC big; ALTER TOPIC big ADD SOURCE app.items ON INSERT WHERE qty >= 10 AND name LIKE 'p%';
      ALTER TOPIC big ADD SOURCE app.items ON DELETE WHERE qty >= 10`);
    await admin.execute("INSERT INTO app.items VALUES (1, 'pen', 50), (2, 'pad', 5), (3, 'ink', 99)");
    await admin.execute('DELETE FROM app.items WHERE id IN (1, 2)');
    expect(brief(await consume(admin, 'CONSUME FROM big'))).toEqual([
      ['insert', 1, { id: 1, name: 'pen', qty: 50 }],
      ['delete', 1, { id: 1, name: 'pen', qty: 50 }],
    ]);
  });

  it('writes no message for a failed statement or a rolled-back transaction, and a transaction\'s at COMMIT', async () => {
    await admin.execute("INSERT INTO app.items VALUES (1, 'pen', 5)");
    await failure(admin.execute("INSERT INTO app.items VALUES (2, 'a', 1), (1, 'dup', 1)"));
    await admin.execute("BEGIN; INSERT INTO app.items VALUES (3, 'gone', 1); ROLLBACK");
    const tx = await admin.begin();
    await tx.execute("INSERT INTO app.items VALUES (4, 'later', 1)");
    expect((await consume(admin, 'CONSUME FROM outbox')).map((r) => r.key)).toEqual([1]);
    await tx.commit();
    expect((await consume(admin, 'CONSUME FROM outbox')).map((r) => r.key)).toEqual([1, 4]);
  });

  it('routes the changes of statements group-committed together', async () => {
    await Promise.all([1, 2, 3].map((i) => admin.execute(`INSERT INTO app.items VALUES (${i}, 'x', ${i})`)));
    expect((await consume(admin, 'CONSUME FROM outbox')).map((r) => r.key)).toEqual([1, 2, 3]);
  });

  it('stops sending once the source is dropped', async () => {
    await admin.execute('ALTER TOPIC outbox DROP SOURCE app.items ON INSERT');
    await admin.execute("INSERT INTO app.items VALUES (1, 'pen', 5)");
    await admin.execute('UPDATE app.items SET qty = 1 WHERE id = 1');
    expect((await consume(admin, 'CONSUME FROM outbox')).map((r) => r.op)).toEqual(['update']);
    expect((await failure(admin.execute('ALTER TOPIC outbox DROP SOURCE app.items ON INSERT'))).code).toBe('INVALID_SQL');
    const routes = (await admin.query("SELECT routes FROM system.topics WHERE name = 'outbox'")).rows[0].routes;
    expect(routes).toEqual([
      { table: 'app.items', op: 'update', where: null, payload: 'diff' },
      { table: 'app.items', op: 'delete', where: null, payload: 'key' },
    ]);
  });

  it('CLEAR TOPIC removes the messages but offsets keep counting', async () => {
    await admin.execute("INSERT INTO app.items VALUES (1, 'pen', 5)");
    await admin.execute('CLEAR TOPIC outbox');
    expect(await consume(admin, 'CONSUME FROM outbox FROM EARLIEST')).toEqual([]);
    await admin.execute('UPDATE app.items SET qty = 1 WHERE id = 1');
    expect((await consume(admin, 'CONSUME FROM outbox FROM EARLIEST')).map((r) => r.offset)).toEqual([1n]);
  });
});

describe('CONSUME and ACK', () => {
  beforeEach(async () => {
    await admin.execute('CREATE TOPIC one; ALTER TOPIC one ADD SOURCE app.items ON INSERT');
    for (let i = 0; i < 5; i++) await admin.execute(`INSERT INTO app.items VALUES (${i}, 'n${i}', ${i})`);
  });

  it('reads from EARLIEST, LATEST or an offset, LIMIT messages at a time', async () => {
    expect((await consume(admin, 'CONSUME FROM one FROM EARLIEST LIMIT 2')).map((r) => r.offset)).toEqual([0n, 1n]);
    expect((await consume(admin, 'CONSUME FROM one FROM 3')).map((r) => r.offset)).toEqual([3n, 4n]);
    expect(await consume(admin, 'CONSUME FROM one FROM LATEST')).toEqual([]);
    expect((await consume(admin, 'CONSUME FROM one FROM $1 LIMIT $2', [1, 1])).map((r) => r.offset)).toEqual([1n]);
    expect((await failure(admin.execute('CONSUME FROM one LIMIT 10001'))).code).toBe('LIMIT_EXCEEDED');
  });

  it("starts a group after its last ack, and ACK never moves a group back", async () => {
    expect((await consume(admin, "CONSUME FROM one GROUP 'g' LIMIT 2")).map((r) => r.offset)).toEqual([0n, 1n]);
    await admin.execute("ACK one GROUP 'g' UPTO OFFSET 1");
    expect((await consume(admin, "CONSUME FROM one GROUP 'g' LIMIT 2")).map((r) => r.offset)).toEqual([2n, 3n]);
    await admin.execute("ACK one GROUP 'g' PARTITION 0 UPTO OFFSET 0");
    expect((await consume(admin, "CONSUME FROM one GROUP 'g' LIMIT 1")).map((r) => r.offset)).toEqual([2n]);
    expect((await admin.query('SELECT topic_id, group_id, user_id, partition_id, last_acked_offset FROM system.topic_offsets')).rows).toEqual([
      { topic_id: 'one', group_id: 'g', user_id: null, partition_id: 0, last_acked_offset: 1n },
    ]);
    expect((await failure(admin.execute("ACK one GROUP 'g' UPTO OFFSET 5"))).code).toBe('INVALID_PARAMETER');
    expect((await failure(admin.execute("ACK one GROUP 'g' PARTITION 1 UPTO OFFSET 0"))).code).toBe('INVALID_PARAMETER');
  });
});

describe('long polling and UPTO LATEST', () => {
  beforeEach(async () => {
    await admin.execute('CREATE TOPIC one PARTITIONS 2; ALTER TOPIC one ADD SOURCE app.items ON INSERT');
    await admin.execute("INSERT INTO app.items VALUES (1, 'old', 1)");
  });

  it('CONSUME … WAIT returns the messages a later commit writes, and FROM LATEST only those', async () => {
    const waiting = admin.query('CONSUME FROM one FROM LATEST WAIT 5000');
    await new Promise((r) => setTimeout(r, 20));
    await admin.execute("INSERT INTO app.items VALUES (2, 'new', 1)");
    expect((await waiting).rows.map((r) => r.key)).toEqual([2]);
  });

  it('CONSUME … WAIT returns nothing after the wait when nothing is written, and stops when cancelled', async () => {
    const started = Date.now();
    expect((await admin.query('CONSUME FROM one FROM LATEST WAIT 300')).rows).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const controller = new AbortController();
    const waiting = admin.query('CONSUME FROM one FROM LATEST WAIT 60000', [], { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect((await failure(waiting)).code).toBe('QUERY_CANCELLED');
    expect((await failure(admin.query('CONSUME FROM one WAIT 60001'))).code).toBe('INVALID_PARAMETER');
  });

  it("ACK … UPTO LATEST moves a group past everything written so far, in every partition", async () => {
    await admin.execute("INSERT INTO app.items VALUES (2, 'b', 1), (3, 'c', 1), (4, 'd', 1)");
    await admin.execute("ACK one GROUP 'g' UPTO LATEST");
    expect((await admin.query("CONSUME FROM one GROUP 'g'")).rows).toEqual([]);
    await admin.execute("INSERT INTO app.items VALUES (5, 'e', 1)");
    expect((await admin.query("CONSUME FROM one GROUP 'g'")).rows.map((r) => r.key)).toEqual([5]);
    const empty = await admin.execute("CREATE TOPIC blank; ACK blank GROUP 'g' UPTO LATEST");
    expect(empty[1].message).toBe("Acknowledged topic 'blank' group 'g': no messages yet");
  });
});

describe('durability', () => {
  it("keeps topics, messages, offsets and groups' acks across a reopen", async () => {
    const indexedDB = new IDBFactory();
    const open = () => openDatabase({ storage: 'idb', name: 'topics', indexedDB });
    let d = await open();
    let s = d.session({ user: 'root', role: 'system' });
    await s.execute(`CREATE NAMESPACE app; CREATE SHARED TABLE app.t (id INT PRIMARY KEY, v TEXT);
      CREATE TOPIC tp PARTITIONS 2; ALTER TOPIC tp ADD SOURCE app.t ON INSERT WHERE v <> 'skip'`);
    await s.execute("INSERT INTO app.t VALUES (1, 'a'), (2, 'b'), (3, 'skip')");
    const before = (await s.query('CONSUME FROM tp')).rows;
    const first = before[0];
    await s.execute(`ACK tp GROUP 'g' PARTITION ${first.partition} UPTO OFFSET ${first.offset}`);
    await d.close();

    d = await open();
    s = d.session({ user: 'root', role: 'system' });
    expect((await s.query('CONSUME FROM tp')).rows).toEqual(before);
    expect((await s.query("CONSUME FROM tp GROUP 'g'")).rows).toEqual(before.slice(1));
    // The route (with its filter) survives too, and offsets go on from where they were.
    await s.execute("INSERT INTO app.t VALUES (4, 'c'), (5, 'skip')");
    const after = (await s.query('CONSUME FROM tp')).rows;
    expect(after.map((r) => r.key)).toEqual([1, 2, 4]);
    const last = after[2];
    expect(last.offset).toBe(BigInt(before.filter((r) => r.partition === last.partition).length));
    await d.close();
  });

  it('a source of a dropped table never routes the table that gets its id again after a reopen', async () => {
    const indexedDB = new IDBFactory();
    const open = () => openDatabase({ storage: 'idb', name: 'reuse', indexedDB });
    let d = await open();
    let s = d.session({ user: 'root', role: 'system' });
    await s.execute('CREATE NAMESPACE app; CREATE SHARED TABLE app.old (id INT PRIMARY KEY); CREATE TOPIC tp; ALTER TOPIC tp ADD SOURCE app.old ON INSERT');
    const oldId = (await s.query("SELECT table_id FROM system.tables WHERE table_name = 'old'")).rows[0].table_id;
    await s.execute('DROP TABLE app.old');
    await d.close();
    d = await open();
    s = d.session({ user: 'root', role: 'system' });
    await s.execute('CREATE SHARED TABLE app.fresh (id INT PRIMARY KEY); INSERT INTO app.fresh VALUES (1)');
    expect((await s.query("SELECT table_id FROM system.tables WHERE table_name = 'fresh'")).rows[0].table_id).toBe(oldId); // the id is given again
    expect((await s.query('CONSUME FROM tp')).rows).toEqual([]);
    await d.close();
  });
});
