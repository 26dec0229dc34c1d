import { describe, expect, it } from 'vitest';
import { openDatabase } from '../api/database';
import { KalamError } from '../core/errors';
import { newRowsPerCommit, recordingStore } from '../storage/kv.fixture';
import { openMemoryStore } from '../storage/memory';

async function setup(options: { maxGroupCommitStatements?: number } = {}) {
  const kv = recordingStore(openMemoryStore());
  const db = await openDatabase({ storage: kv, ...options });
  const admin = db.session({ user: 'root', role: 'dba' });
  await admin.execute(`CREATE NAMESPACE app;
    CREATE USER TABLE app.todos (id INT PRIMARY KEY, title TEXT NOT NULL);
    CREATE SHARED TABLE app.notes (id INT PRIMARY KEY, body TEXT) WITH (ACCESS_LEVEL='public');
    CREATE STREAM TABLE app.events (id INT PRIMARY KEY, kind TEXT) WITH (TTL_SECONDS=3600)`);
  kv.committed.length = 0;
  return { db, kv, admin };
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return (e as KalamError).code;
  }
  return 'resolved';
};

const stat = async (admin: { query(sql: string): Promise<{ rows: readonly Record<string, unknown>[] }> }, name: string) =>
  Number((await admin.query(`SELECT metric_value FROM system.stats WHERE metric_name = '${name}'`)).rows[0]?.metric_value);

describe('group commit', () => {
  it('commits single-row inserts of several sessions issued in the same tick in one storage commit', async () => {
    const { db, kv } = await setup();
    const sessions = ['alice', 'bob', 'carol', 'dave'].map((user) => db.session({ user }));
    const results = await Promise.all(sessions.map((s, i) => s.execute(`INSERT INTO app.todos (id, title) VALUES (${i}, 'from ${s.user}')`)));
    expect(results.map((r) => r[0].message)).toEqual(Array(4).fill('Inserted 1 row(s)'));
    expect(kv.committed).toHaveLength(1);
    expect(kv.committed[0]).toHaveLength(4);
    for (const [i, s] of sessions.entries()) {
      expect((await s.query('SELECT id, title FROM app.todos')).rows).toEqual([{ id: i, title: `from ${s.user}` }]);
    }
  });

  it('acknowledges no statement of a group before the group commit completed', async () => {
    const { db, kv } = await setup();
    const alice = db.session({ user: 'alice' });
    const order: string[] = [];
    const commit = kv.commit.bind(kv);
    kv.commit = async (writes) => {
      order.push('commit started');
      await commit(writes);
      order.push('commit done');
    };
    await Promise.all([1, 2, 3].map((i) => alice.execute(`INSERT INTO app.todos (id, title) VALUES (${i}, 't')`).then(() => order.push(`ack ${i}`))));
    expect(order).toEqual(['commit started', 'commit done', 'ack 1', 'ack 2', 'ack 3']);
  });

  it('fails only the statement that breaks a constraint; the others of the group commit together', async () => {
    const { db, kv } = await setup();
    const alice = db.session({ user: 'alice' });
    const outcomes = await Promise.all([
      codeOf(alice.execute(`INSERT INTO app.todos (id, title) VALUES (1, 'one')`)),
      codeOf(alice.execute(`INSERT INTO app.todos (id, title) VALUES (1, 'again')`)), // sees the first
      codeOf(alice.execute(`INSERT INTO app.todos (id, title) VALUES (2, NULL)`)),
      codeOf(alice.execute(`INSERT INTO app.todos (id, title) VALUES (3, 'three')`)),
    ]);
    expect(outcomes).toEqual(['resolved', 'PRIMARY_KEY_VIOLATION', 'NOT_NULL_VIOLATION', 'resolved']);
    expect(kv.committed).toHaveLength(1);
    expect((await alice.query('SELECT id, title FROM app.todos ORDER BY id')).rows).toEqual([{ id: 1, title: 'one' }, { id: 3, title: 'three' }]);
  });

  it('runs each statement against the changes of the earlier ones in its group', async () => {
    const { kv, admin } = await setup();
    const alice = admin;
    const [, updated, deleted] = await Promise.all([
      alice.execute(`INSERT INTO app.notes (id, body) VALUES (1, 'a'), (2, 'b')`),
      alice.execute(`UPDATE app.notes SET body = body || '!' WHERE id >= 1`),
      alice.execute(`DELETE FROM app.notes WHERE body = 'b!'`),
      alice.execute(`INSERT INTO app.events (id, kind) VALUES (1, 'x')`),
      alice.execute(`INSERT INTO app.events (id, kind) VALUES (1, 'y')`).catch((e: KalamError) => e.code),
    ]);
    expect(updated[0].rowCount).toBe(2);
    expect(deleted[0].rowCount).toBe(1);
    expect(kv.committed).toHaveLength(1);
    expect((await alice.query('SELECT id, body FROM app.notes')).rows).toEqual([{ id: 1, body: 'a!' }]);
    expect((await alice.query('SELECT id, kind FROM app.events')).rows).toEqual([{ id: 1, kind: 'x' }]);
  });

  it('groups statements that arrive while the previous commit is in flight', async () => {
    const { db, kv, admin } = await setup();
    const alice = db.session({ user: 'alice' });
    const first = alice.execute(`INSERT INTO app.todos (id, title) VALUES (0, 'first')`);
    await Promise.resolve(); // the first group has taken the lock and is committing
    await Promise.resolve();
    const later = [1, 2, 3].map((i) => alice.execute(`INSERT INTO app.todos (id, title) VALUES (${i}, 'later')`));
    await Promise.all([first, ...later]);
    expect(newRowsPerCommit(kv.committed)).toEqual([1, 3]);
    expect(await stat(admin, 'group_commits')).toBeGreaterThanOrEqual(2);
  });

  it('starts a new group past maxGroupCommitStatements', async () => {
    const { db, kv, admin } = await setup({ maxGroupCommitStatements: 3 });
    const alice = db.session({ user: 'alice' });
    await Promise.all([1, 2, 3, 4, 5, 6, 7].map((i) => alice.execute(`INSERT INTO app.todos (id, title) VALUES (${i}, 't')`)));
    expect(newRowsPerCommit(kv.committed)).toEqual([3, 3, 1]);
    expect((await admin.query(`SELECT value FROM system.settings WHERE name = 'max_group_commit_statements'`)).rows[0]?.value).toBe('3');
    expect(await stat(admin, 'group_commit_statements')).toBe(7);
  });

  it("takes durability 'relaxed' (default) or 'strict', shows it in system.settings, and refuses anything else", async () => {
    const read = async (db: Awaited<ReturnType<typeof openDatabase>>) =>
      (await db.session({ user: 'root', role: 'dba' }).query(`SELECT value FROM system.settings WHERE name = 'durability'`)).rows[0]?.value;
    expect(await read(await openDatabase({ storage: 'memory' }))).toBe('relaxed');
    expect(await read(await openDatabase({ storage: 'memory', durability: 'strict' }))).toBe('strict');
    expect(await codeOf(openDatabase({ storage: 'memory', durability: 'always' as never }))).toBe('INVALID_OPTION');
  });

  it('refuses a maxGroupCommitStatements that is not a whole number of at least 1', async () => {
    expect(await codeOf(openDatabase({ storage: 'memory', maxGroupCommitStatements: 0 }))).toBe('INVALID_OPTION');
  });

  it('fails every statement of a group whose commit fails, and applies none of them', async () => {
    const { db, kv } = await setup();
    const alice = db.session({ user: 'alice' });
    await alice.execute(`INSERT INTO app.todos (id, title) VALUES (1, 'kept')`);
    kv.isFull = true;
    const codes = await Promise.all([2, 3].map((i) => codeOf(alice.execute(`INSERT INTO app.todos (id, title) VALUES (${i}, 'lost')`))));
    expect(codes).toEqual(['QUOTA_EXCEEDED', 'QUOTA_EXCEEDED']);
    expect((await alice.query('SELECT id FROM app.todos')).rows).toEqual([{ id: 1 }]);
  });
});
