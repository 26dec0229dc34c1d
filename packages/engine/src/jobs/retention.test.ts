import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Engine, type SessionState } from '../execute/engine';
import { type OpenOptions } from '../execute/options';
import { KalamError } from '../core/errors';
import { storedRowCount } from '../storage/kv.fixture';
import type { StoreName } from '../storage/kv';

const T0 = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;
const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const as = (user: string): SessionState => ({ user, role: 'user', namespace: 'default' });

afterEach(() => {
  vi.useRealTimers();
});

function clockAt(ms: number): void {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(ms);
}

async function setup(withClause: string, options: Partial<OpenOptions> = {}): Promise<Engine> {
  const engine = await Engine.open({ storage: 'memory', ...options });
  await engine.execute(root, 'CREATE NAMESPACE app');
  await engine.execute(root, `CREATE USER TABLE app.todos (id INT PRIMARY KEY, title TEXT) ${withClause}`);
  return engine;
}

async function storedRows(engine: Engine, store: StoreName, tableId: number): Promise<number> {
  return storedRowCount(engine.kv, store, tableId);
}

const ids = async (engine: Engine, user: string, where: string) =>
  (await engine.execute(as(user), `SELECT id FROM app.todos WHERE ${where} ORDER BY id`))[0].rows.map((r) => r.id);

describe('retention', () => {
  it('purges tombstones older than DELETED_RETENTION_HOURS, keeps recent ones and live rows, across a reopen', async () => {
    const indexedDB = new IDBFactory();
    clockAt(T0);
    let engine = await setup('WITH (DELETED_RETENTION_HOURS = 24)', { storage: 'idb', name: 'retain', indexedDB });
    const alice = as('alice');
    await engine.execute(alice, "INSERT INTO app.todos (id, title) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    await engine.execute(alice, 'DELETE FROM app.todos WHERE id = 1');
    vi.setSystemTime(T0 + 20 * HOUR);
    await engine.execute(alice, 'DELETE FROM app.todos WHERE id = 2');
    const id = engine.catalog.findTable('app', 'todos')!.id;
    expect(await ids(engine, 'alice', '_deleted = true')).toEqual([1, 2]);

    vi.setSystemTime(T0 + 25 * HOUR);
    const [record] = await engine.jobs.run('retention');
    expect(record).toMatchObject({ job_type: 'retention', status: 'completed', rows_affected: 1 });
    expect(record.parameters).toMatchObject({ namespace_id: 'app', table_name: 'todos', deleted_retention_hours: 24 });
    expect(await ids(engine, 'alice', '_deleted = true')).toEqual([2]);
    expect(await ids(engine, 'alice', '_deleted = false')).toEqual([3]);
    expect(await storedRows(engine, 'user', id)).toBe(2);
    await engine.close();

    engine = await Engine.open({ storage: 'idb', name: 'retain', indexedDB });
    expect(await storedRows(engine, 'user', id)).toBe(2);
    expect(engine.hot.table(id)).toMatchObject({ liveRows: 1, tombstones: 1 });
    expect(await ids(engine, 'alice', '_deleted = true OR _deleted = false')).toEqual([2, 3]);
    await engine.close();
  });

  it('keeps tombstones for 168 hours when the table sets no DELETED_RETENTION_HOURS', async () => {
    clockAt(T0);
    const engine = await setup('');
    await engine.execute(as('alice'), "INSERT INTO app.todos (id, title) VALUES (1, 'a')");
    await engine.execute(as('alice'), 'DELETE FROM app.todos WHERE id = 1');
    expect(await engine.jobs.run('retention', T0 + 167 * HOUR)).toEqual([]);
    expect(await ids(engine, 'alice', '_deleted = true')).toEqual([1]);
    const [record] = await engine.jobs.run('retention', T0 + 169 * HOUR);
    expect(record.parameters.deleted_retention_hours).toBe(168);
    expect(await ids(engine, 'alice', '_deleted = true')).toEqual([]);
    await engine.close();
  });

  it("purges old tombstones of every user's partition and of SHARED tables", async () => {
    clockAt(T0);
    const engine = await setup('WITH (DELETED_RETENTION_HOURS = 1)');
    await engine.execute(root, 'CREATE SHARED TABLE app.notes (id INT PRIMARY KEY) WITH (DELETED_RETENTION_HOURS = 1)');
    for (const user of ['alice', 'bob']) {
      await engine.execute(as(user), "INSERT INTO app.todos (id, title) VALUES (1, 'a'), (2, 'b')");
      await engine.execute(as(user), 'DELETE FROM app.todos WHERE id = 1');
    }
    await engine.execute(root, 'INSERT INTO app.notes (id) VALUES (1), (2)');
    await engine.execute(root, 'DELETE FROM app.notes WHERE id = 2');

    const records = await engine.jobs.run('retention', T0 + 2 * HOUR);
    expect(records.map((r) => [r.parameters.table_name, r.rows_affected])).toEqual([['notes', 1], ['todos', 2]]);
    for (const user of ['alice', 'bob']) expect(await ids(engine, user, '_deleted = true OR id > 0')).toEqual([2]);
    const notes = (await engine.execute(root, 'SELECT id FROM app.notes WHERE _deleted = true OR id > 0'))[0].rows;
    expect(notes.map((r) => r.id)).toEqual([1]);
    expect(engine.hot.table(engine.catalog.findTable('app', 'notes')!.id).tombstones).toBe(0);
    await engine.close();
  });

  it('purges every tombstone at the next run when DELETED_RETENTION_HOURS is 0', async () => {
    clockAt(T0);
    const engine = await setup('WITH (DELETED_RETENTION_HOURS = 0)');
    await engine.execute(as('alice'), "INSERT INTO app.todos (id, title) VALUES (1, 'a')");
    await engine.execute(as('alice'), 'DELETE FROM app.todos WHERE id = 1');
    const [record] = await engine.jobs.run('retention', T0 + 1);
    expect(record.rows_affected).toBe(1);
    expect(await ids(engine, 'alice', '_deleted = true')).toEqual([]);
    await engine.close();
  });

  it('lets a purged primary key be inserted again as a new row', async () => {
    clockAt(T0);
    const engine = await setup('WITH (DELETED_RETENTION_HOURS = 0)');
    await engine.execute(as('alice'), "INSERT INTO app.todos (id, title) VALUES (1, 'a')");
    await engine.execute(as('alice'), 'DELETE FROM app.todos WHERE id = 1');
    await engine.jobs.run('retention', T0 + 1);
    await engine.execute(as('alice'), "INSERT INTO app.todos (id, title) VALUES (1, 'again')");
    const rows = (await engine.execute(as('alice'), 'SELECT title FROM app.todos'))[0].rows;
    expect(rows).toEqual([{ title: 'again' }]);
    await engine.close();
  });
});

describe('DELETED_RETENTION_HOURS at CREATE TABLE', () => {
  for (const bad of ['-1', '1.5', "'soon'", "''"]) {
    it(`refuses DELETED_RETENTION_HOURS = ${bad} with INVALID_OPTION`, async () => {
      const engine = await Engine.open({ storage: 'memory' });
      await engine.execute(root, 'CREATE NAMESPACE app');
      const err = await engine
        .execute(root, `CREATE USER TABLE app.t (id INT PRIMARY KEY) WITH (DELETED_RETENTION_HOURS = ${bad})`)
        .then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(KalamError);
      expect((err as KalamError).code).toBe('INVALID_OPTION');
      expect((err as KalamError).message).toMatch(/^DELETED_RETENTION_HOURS must be a non-negative whole number of hours/);
      expect(engine.catalog.findTable('app', 't')).toBeUndefined();
      await engine.close();
    });
  }

  it('accepts 0 and whole numbers of hours, quoted or not', async () => {
    const engine = await Engine.open({ storage: 'memory' });
    await engine.execute(root, 'CREATE NAMESPACE app');
    await engine.execute(root, 'CREATE USER TABLE app.a (id INT PRIMARY KEY) WITH (DELETED_RETENTION_HOURS = 0)');
    await engine.execute(root, "CREATE SHARED TABLE app.b (id INT PRIMARY KEY) WITH (DELETED_RETENTION_HOURS = '72')");
    expect(engine.catalog.findTable('app', 'a')!.options.DELETED_RETENTION_HOURS).toBe('0');
    expect(engine.catalog.findTable('app', 'b')!.options.DELETED_RETENTION_HOURS).toBe('72');
    await engine.close();
  });
});
