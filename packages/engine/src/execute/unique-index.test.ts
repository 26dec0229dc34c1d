import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import type { Value } from '../core/types';
import type { KvStore } from '../storage/kv';
import { openMemoryStore } from '../storage/memory';
import { Engine, type SessionState } from './engine';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const as = (user: string): SessionState => ({ user, role: 'user', namespace: 'default' });

/** A memory store that outlives the engines opened over it. */
function durable(kv: KvStore): KvStore {
  return { kind: kv.kind, get: (s, k) => kv.get(s, k), scan: (s, r, v) => kv.scan(s, r, v), commit: (w) => kv.commit(w), close: async () => undefined };
}

let kv: KvStore;
let engine: Engine;
const open = () => Engine.open({ storage: kv, rowGroupRows: 4, maxSegmentRows: 16, flushCheckIntervalMs: 0 });

beforeEach(async () => {
  kv = durable(openMemoryStore());
  engine = await open();
  await engine.execute(root, `CREATE NAMESPACE app;
    CREATE SHARED TABLE app.people (id INT PRIMARY KEY, email TEXT, team TEXT, n INT);
    CREATE USER TABLE app.notes (id INT PRIMARY KEY, slug TEXT);
    CREATE UNIQUE INDEX by_email ON app.people (email);
    CREATE UNIQUE INDEX by_team_n ON app.people (team, n);
    CREATE UNIQUE INDEX by_slug ON app.notes (slug)`);
  await engine.execute(root, `INSERT INTO app.people (id, email, team, n) VALUES (1, 'a@x', 'red', 1), (2, 'b@x', 'red', 2), (3, NULL, 'blue', NULL)`);
});

afterEach(async () => {
  await engine.close();
});

const run = (sql: string, who: SessionState = root, params: Value[] = []) => engine.execute(who, sql, params);
const rows = async (sql: string, who: SessionState = root) => (await run(sql, who))[0].rows;

async function errorOf(p: Promise<unknown>): Promise<KalamError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected the statement to fail');
}

const flush = async () => {
  await run('FLUSH TABLE app.people');
  await engine.jobs.idle();
};

const ids = async () => (await rows('SELECT id FROM app.people ORDER BY id')).map((r) => r.id);

describe('UNIQUE indexes', () => {
  it('refuse a repeated value, naming the column and the value; the whole INSERT writes nothing', async () => {
    const e = await errorOf(run(`INSERT INTO app.people (id, email) VALUES (10, 'new@x'), (11, 'a@x')`));
    expect(e.code).toBe('UNIQUE_VIOLATION');
    expect(e.message).toContain(`'a@x'`);
    expect(e.message).toContain(`column 'email'`);
    expect(e.message).toContain('app.by_email');
    expect(await ids()).toEqual([1, 2, 3]);
  });

  it('refuse two rows of one statement sharing a value, and name every column of a multi-column index', async () => {
    expect((await errorOf(run(`INSERT INTO app.people (id, email) VALUES (10, 'z@x'), (11, 'z@x')`))).code).toBe('UNIQUE_VIOLATION');
    const e = await errorOf(run(`INSERT INTO app.people (id, team, n) VALUES (12, 'red', 2)`));
    expect(e.message).toContain(`columns (team, n)`);
    expect(await ids()).toEqual([1, 2, 3]);
  });

  it('let NULLs repeat (PostgreSQL rule), in single and multi-column indexes', async () => {
    await run(`INSERT INTO app.people (id, email, team, n) VALUES (10, NULL, 'blue', NULL), (11, NULL, NULL, 5), (12, NULL, NULL, 5)`);
    expect(await ids()).toEqual([1, 2, 3, 10, 11, 12]);
  });

  it('check UPDATEs: moving onto a taken value fails whole, keeping or swapping free values works', async () => {
    expect((await errorOf(run(`UPDATE app.people SET email = 'a@x' WHERE id = 2`))).code).toBe('UNIQUE_VIOLATION');
    expect((await errorOf(run(`UPDATE app.people SET email = 'same@x' WHERE id IN (1, 2)`))).code).toBe('UNIQUE_VIOLATION');
    await run(`UPDATE app.people SET n = n WHERE id IN (1, 2)`);
    await run(`UPDATE app.people SET email = 'c@x' WHERE id = 1`);
    await run(`UPDATE app.people SET email = 'a@x' WHERE id = 2`);
    expect(await rows('SELECT id, email FROM app.people WHERE id < 3 ORDER BY id')).toEqual([{ id: 1, email: 'c@x' }, { id: 2, email: 'a@x' }]);
  });

  it('a deleted row frees its value', async () => {
    await run('DELETE FROM app.people WHERE id = 1');
    await run(`INSERT INTO app.people (id, email) VALUES (20, 'a@x')`);
    expect(await ids()).toEqual([2, 3, 20]);
  });

  it('see cold rows: a flushed value stays taken, a cold row deleted or changed in the hot tier frees it', async () => {
    await flush();
    expect(await engine.cold.manifest.hasSegments(engine.catalog.requireTable('app', 'people').id, '')).toBe(true);
    expect((await errorOf(run(`INSERT INTO app.people (id, email) VALUES (10, 'b@x')`))).code).toBe('UNIQUE_VIOLATION');
    expect((await errorOf(run(`INSERT INTO app.people (id, team, n) VALUES (10, 'red', 1)`))).code).toBe('UNIQUE_VIOLATION');
    await run('DELETE FROM app.people WHERE id = 2');
    await run(`UPDATE app.people SET email = 'moved@x' WHERE id = 1`);
    await run(`INSERT INTO app.people (id, email) VALUES (10, 'b@x'), (11, 'a@x')`);
    await flush();
    expect((await errorOf(run(`INSERT INTO app.people (id, email) VALUES (12, 'moved@x')`))).code).toBe('UNIQUE_VIOLATION');
    expect(await ids()).toEqual([1, 3, 10, 11]);
  });

  it('are per user on USER tables: each user has their own values', async () => {
    await run(`INSERT INTO app.notes (id, slug) VALUES (1, 'hello')`, as('alice'));
    await run(`INSERT INTO app.notes (id, slug) VALUES (1, 'hello')`, as('bob'));
    expect((await errorOf(run(`INSERT INTO app.notes (id, slug) VALUES (2, 'hello')`, as('alice')))).code).toBe('UNIQUE_VIOLATION');
    expect(await rows('SELECT id, slug FROM app.notes', as('bob'))).toEqual([{ id: 1, slug: 'hello' }]);
  });

  it('a transaction that would repeat a value is rolled back whole at COMMIT', async () => {
    const e = await errorOf(run(`BEGIN; INSERT INTO app.people (id, email) VALUES (30, 'tx@x'); UPDATE app.people SET email = 'b@x' WHERE id = 1; COMMIT`));
    expect(e.code).toBe('UNIQUE_VIOLATION');
    expect(await ids()).toEqual([1, 2, 3]);
    await run(`BEGIN; UPDATE app.people SET email = 'tmp@x' WHERE id = 2; UPDATE app.people SET email = 'b@x' WHERE id = 1; COMMIT`);
    expect(await rows('SELECT email FROM app.people WHERE id = 1')).toEqual([{ email: 'b@x' }]);
  });

  it('in one group commit, the statement that repeats a value fails and the others commit', async () => {
    const results = await Promise.allSettled([
      run(`INSERT INTO app.people (id, email) VALUES (40, 'g@x')`),
      run(`INSERT INTO app.people (id, email) VALUES (41, 'g@x')`),
      run(`INSERT INTO app.people (id, email) VALUES (42, 'h@x')`),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as KalamError).code).toBe('UNIQUE_VIOLATION');
    expect(await ids()).toEqual([1, 2, 3, 40, 42]);
  });

  it('CREATE UNIQUE INDEX over repeated values (hot or cold) fails and creates nothing', async () => {
    await run('DROP INDEX app.by_team_n');
    await run(`INSERT INTO app.people (id, email, team, n) VALUES (50, 'x@x', 'green', 1), (51, 'y@x', 'green', 1)`);
    await flush();
    const e = await errorOf(run('CREATE UNIQUE INDEX by_team_n ON app.people (team, n)'));
    expect(e.code).toBe('UNIQUE_VIOLATION');
    expect(e.message).toContain(`'green', 1`);
    expect(await rows(`SELECT index_name FROM system.indexes WHERE index_name = 'by_team_n'`)).toEqual([]);
    await run('CREATE UNIQUE INDEX by_team_n ON app.people (team, n DESC, id)');
  });

  it('are enforced after a reopen', async () => {
    await engine.close();
    engine = await open();
    expect((await errorOf(run(`INSERT INTO app.people (id, email) VALUES (60, 'a@x')`))).code).toBe('UNIQUE_VIOLATION');
    await run(`INSERT INTO app.people (id, email) VALUES (60, 'fresh@x')`);
  });

  it('hot index entries are counted in system.stats', async () => {
    await run(`INSERT INTO app.people (id, email) VALUES (70, 'q@x')`);
    const stat = await rows(`SELECT metric_value FROM system.stats WHERE metric_name = 'hot_index_entries'`);
    expect(Number(stat[0].metric_value)).toBeGreaterThan(0);
  });
});
