import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Engine, type OpenOptions, type SessionState } from '../execute/engine';
import { KalamError } from '../core/errors';
import { flushPartition } from './flush-run';
import type { ExecContext } from '../exec/context';
import type { Value } from '../core/types';

const root: SessionState = { user: 'root', role: 'dba', namespace: 'default' };
const svc: SessionState = { user: 'svc', role: 'service', namespace: 'default' };
const as = (user: string): SessionState => ({ user, role: 'user', namespace: 'default' });

let open: Engine[] = [];
afterEach(async () => {
  for (const e of open) await e.close();
  open = [];
});

async function engineWith(options: Partial<OpenOptions> = {}, schema = true): Promise<Engine> {
  const engine = await Engine.open({ storage: 'memory', ...options });
  open.push(engine);
  if (schema) {
    await engine.execute(root, 'CREATE NAMESPACE IF NOT EXISTS app');
    await engine.execute(root, 'CREATE SHARED TABLE IF NOT EXISTS app.items (id INT PRIMARY KEY, name TEXT, n INT)');
    await engine.execute(root, 'CREATE USER TABLE IF NOT EXISTS app.notes (id INT PRIMARY KEY, body TEXT)');
  }
  return engine;
}

const rows = async (engine: Engine, sql: string, state: SessionState = root, params: Value[] = []) => (await engine.execute(state, sql, params))[0].rows;
const run = async (engine: Engine, sql: string, state: SessionState = root) => (await engine.execute(state, sql))[0].message;
const stat = (engine: Engine, name: string) => engine.metrics().find(([k]) => k === name)?.[1];
const read = (engine: Engine) => stat(engine, 'segments_read') as number;

async function flush(engine: Engine, table = 'app.items'): Promise<string> {
  const message = await run(engine, `FLUSH TABLE ${table}`);
  await engine.jobs.idle();
  return message;
}

async function insertItems(engine: Engine, from: number, to: number, name = (i: number) => `item${i}`): Promise<void> {
  const values = [];
  for (let i = from; i <= to; i++) values.push(`(${i}, '${name(i)}', ${i * 10})`);
  await engine.execute(root, `INSERT INTO app.items (id, name, n) VALUES ${values.join(', ')}`);
}

async function expectError(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(KalamError);
  expect((e as KalamError).code).toBe(code);
  if (message) expect((e as KalamError).message).toMatch(message);
}

describe('FLUSH TABLE', () => {
  it('moves hot rows into one committed segment listed in system.manifest, and the rows still read the same', async () => {
    const engine = await engineWith();
    await insertItems(engine, 1, 3);
    const before = await rows(engine, 'SELECT id, name, n FROM app.items ORDER BY id');
    const message = await flush(engine);
    expect(message).toMatch(/^Storage flush started for table 'app\.items'\. Job ID: FL\d{8}$/);
    expect(stat(engine, 'table_rows.app.items')).toBe(0);
    expect(await rows(engine, 'SELECT id, name, n FROM app.items ORDER BY id')).toEqual(before);
    const manifest = await rows(engine, 'SELECT segment_id, namespace_id, table_name, scope, row_count, min_seq, max_seq, size_bytes, schema_version, status, column_stats FROM system.manifest');
    expect(manifest).toHaveLength(1);
    const m = manifest[0];
    expect([m.namespace_id, m.table_name, m.scope, m.row_count, m.schema_version, m.status]).toEqual(['app', 'items', 'shared', 3, 1, 'committed']);
    expect(typeof m.min_seq === 'bigint' && typeof m.max_seq === 'bigint' && m.min_seq < m.max_seq).toBe(true);
    expect(m.size_bytes).toBeGreaterThan(0);
    // Stats are keyed by column id: id is column 1, n column 3.
    expect((m.column_stats as Record<string, unknown>)['1']).toEqual({ min: 1, max: 3, null_count: 0 });
    expect((m.column_stats as Record<string, unknown>)['3']).toEqual({ min: 10, max: 30, null_count: 0 });
    const jobId = message.split('Job ID: ')[1];
    const job = await rows(engine, `SELECT job_type, status, rows_affected FROM system.jobs WHERE job_id = '${jobId}'`);
    expect(job).toEqual([{ job_type: 'flush', status: 'completed', rows_affected: 3 }]);
  });

  it('accepts STORAGE FLUSH TABLE and says so when nothing is pending', async () => {
    const engine = await engineWith();
    expect(await run(engine, 'STORAGE FLUSH TABLE app.items')).toBe("Storage flush skipped: no pending writes for table 'app.items'");
    await insertItems(engine, 1, 1);
    expect(await run(engine, 'STORAGE FLUSH TABLE app.items')).toMatch(/^Storage flush started for table 'app\.items'\. Job ID: FL/);
    await engine.jobs.idle();
    expect(await run(engine, 'STORAGE FLUSH TABLE app.items')).toBe("Storage flush skipped: no pending writes for table 'app.items'");
  });

  it('refuses STREAM tables and the user role', async () => {
    const engine = await engineWith();
    await engine.execute(root, 'CREATE STREAM TABLE app.events (v INT) WITH (TTL_SECONDS = 60)');
    await expectError(engine.execute(root, 'STORAGE FLUSH TABLE app.events'), 'UNSUPPORTED', /^STORAGE FLUSH TABLE is not supported for STREAM tables$/);
    await expectError(engine.execute(as('alice'), 'FLUSH TABLE app.notes'), 'PERMISSION_DENIED');
    await engine.execute(as('alice'), "INSERT INTO app.notes (id, body) VALUES (1, 'x')");
    expect(await run(engine, 'FLUSH TABLE app.notes', svc)).toMatch(/Job ID: FL/);
  });

  it('STORAGE FLUSH ALL IN a namespace queues one job per table with pending writes', async () => {
    const engine = await engineWith();
    await insertItems(engine, 1, 2);
    await engine.execute(as('alice'), "INSERT INTO app.notes (id, body) VALUES (1, 'x')");
    const message = await run(engine, 'STORAGE FLUSH ALL IN app');
    expect(message).toMatch(/^Storage flush started for 2 table\(s\) in namespace 'app'\. Job IDs: FL\d{8}, FL\d{8}$/);
    await engine.jobs.idle();
    expect(await rows(engine, 'SELECT table_name FROM system.manifest ORDER BY table_name')).toEqual([{ table_name: 'items' }, { table_name: 'notes' }]);
    expect(await run(engine, 'STORAGE FLUSH ALL')).toBe('Storage flush skipped: no pending writes');
  });

  it('rejects an invalid FLUSH_POLICY at CREATE TABLE', async () => {
    const engine = await engineWith();
    for (const bad of ['rows:0', 'rows:abc', 'interval:', 'rows:5,rows:6', 'bytes:5']) {
      await expectError(engine.execute(root, `CREATE SHARED TABLE app.t (id INT PRIMARY KEY) WITH (FLUSH_POLICY = '${bad}')`), 'INVALID_OPTION', /FLUSH_POLICY/);
    }
    expect(await run(engine, "CREATE SHARED TABLE app.t (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:10,interval:60')")).toBe('Table app.t created');
  });
});

describe('reads across the hot and cold tiers', () => {
  it('hot versions shadow cold ones: UPDATE and DELETE of a cold row write hot versions', async () => {
    const engine = await engineWith();
    await insertItems(engine, 1, 3);
    await flush(engine);
    expect(await run(engine, "UPDATE app.items SET name = 'two' WHERE id = 2")).toBe('Updated 1 row(s)');
    expect(await run(engine, 'DELETE FROM app.items WHERE id = 3')).toBe('Deleted 1 row(s)');
    expect(stat(engine, 'table_rows.app.items')).toBe(1);
    expect(stat(engine, 'table_tombstones.app.items')).toBe(1);
    expect(await rows(engine, 'SELECT id, name FROM app.items ORDER BY id')).toEqual([{ id: 1, name: 'item1' }, { id: 2, name: 'two' }]);
    expect(await rows(engine, 'SELECT id FROM app.items WHERE _deleted = true')).toEqual([{ id: 3 }]);
  });

  it('a flushed tombstone keeps hiding the older version in an earlier segment', async () => {
    const engine = await engineWith();
    await insertItems(engine, 1, 2);
    await flush(engine);
    await engine.execute(root, 'DELETE FROM app.items WHERE id = 1');
    await flush(engine);
    expect((await rows(engine, 'SELECT segment_id FROM system.manifest')).length).toBe(2);
    expect(await rows(engine, 'SELECT id FROM app.items ORDER BY id')).toEqual([{ id: 2 }]);
    expect(await rows(engine, 'SELECT id FROM app.items WHERE id = 1')).toEqual([]);
    expect(await rows(engine, 'SELECT id, _deleted FROM app.items WHERE _deleted = true')).toEqual([{ id: 1, _deleted: true }]);
  });

  it('the newest segment wins for a key flushed twice, even when the WHERE could prune it', async () => {
    const engine = await engineWith();
    await insertItems(engine, 1, 1, () => 'old');
    await flush(engine);
    await engine.execute(root, "UPDATE app.items SET name = 'new' WHERE id = 1");
    await flush(engine);
    expect(await rows(engine, "SELECT id, name FROM app.items WHERE name = 'old'")).toEqual([]);
    expect(await rows(engine, "SELECT id, name FROM app.items WHERE name = 'new'")).toEqual([{ id: 1, name: 'new' }]);
    expect(await rows(engine, 'SELECT id, name FROM app.items')).toEqual([{ id: 1, name: 'new' }]);
  });

  it('keeps primary keys unique across tiers', async () => {
    const engine = await engineWith();
    await insertItems(engine, 1, 2);
    await flush(engine);
    await expectError(engine.execute(root, "INSERT INTO app.items (id, name) VALUES (2, 'again')"), 'PRIMARY_KEY_VIOLATION', /value '2' already exists in column 'id'/);
    await expectError(engine.execute(root, "INSERT INTO app.items (id, name) VALUES ($1, 'again')", [1]), 'PRIMARY_KEY_VIOLATION');
    await expectError(engine.execute(root, "INSERT INTO app.items (id, name) SELECT id, name FROM app.items WHERE id = 1"), 'PRIMARY_KEY_VIOLATION');
    await engine.execute(root, 'DELETE FROM app.items WHERE id = 2');
    expect(await run(engine, "INSERT INTO app.items (id, name) VALUES (2, 'back')")).toBe('Inserted 1 row(s)');
    expect(await rows(engine, 'SELECT id, name FROM app.items ORDER BY id')).toEqual([{ id: 1, name: 'item1' }, { id: 2, name: 'back' }]);
  });

  it('updates a cold row inside an explicit transaction', async () => {
    const engine = await engineWith();
    await insertItems(engine, 1, 2);
    await flush(engine);
    await engine.execute(root, "BEGIN; UPDATE app.items SET name = 'tx' WHERE id = 1; COMMIT");
    expect(await rows(engine, 'SELECT id, name FROM app.items ORDER BY id')).toEqual([{ id: 1, name: 'tx' }, { id: 2, name: 'item2' }]);
  });
});

describe('segment pruning', () => {
  async function threeSegments(engine: Engine): Promise<void> {
    for (const [from, to] of [[1, 10], [11, 20], [21, 30]]) {
      await insertItems(engine, from, to);
      await flush(engine);
    }
  }

  it('a point lookup reads one segment and a query no segment can match reads none', async () => {
    const engine = await engineWith();
    await threeSegments(engine);
    let before = read(engine);
    expect(await rows(engine, 'SELECT name FROM app.items WHERE id = 15')).toEqual([{ name: 'item15' }]);
    expect(read(engine) - before).toBe(1);

    before = read(engine);
    expect(await rows(engine, 'SELECT name FROM app.items WHERE id = $1', root, [25])).toEqual([{ name: 'item25' }]);
    expect(read(engine) - before).toBe(1);

    before = read(engine);
    expect(await rows(engine, 'SELECT name FROM app.items WHERE id > 100')).toEqual([]);
    expect(await rows(engine, "SELECT name FROM app.items WHERE name = 'nothing'")).toEqual([]);
    expect(await rows(engine, 'SELECT name FROM app.items WHERE n BETWEEN 1000 AND 2000')).toEqual([]);
    expect(read(engine) - before).toBe(0);

    before = read(engine);
    expect(await rows(engine, 'SELECT COUNT(*) AS c FROM app.items WHERE n >= 110 AND n <= 200')).toEqual([{ c: 10 }]);
    expect(read(engine) - before).toBe(1);

    before = read(engine);
    expect((await rows(engine, 'SELECT id FROM app.items')).length).toBe(30);
    expect(read(engine) - before).toBe(3);
  });

  it('an UPDATE by primary key reads one segment', async () => {
    const engine = await engineWith();
    await threeSegments(engine);
    const before = read(engine);
    expect(await run(engine, "UPDATE app.items SET name = 'x' WHERE id = 5")).toBe('Updated 1 row(s)');
    expect(read(engine) - before).toBe(1);
  });
});

describe('segments after ALTER TABLE', () => {
  it('keep their schema version and read by column id: added columns are NULL or their default, renamed ones keep values', async () => {
    const engine = await engineWith();
    await insertItems(engine, 1, 2);
    await flush(engine);
    await engine.execute(root, 'ALTER TABLE app.items ADD COLUMN extra INT');
    await engine.execute(root, "ALTER TABLE app.items ADD COLUMN tag TEXT DEFAULT 'none'");
    await engine.execute(root, 'ALTER TABLE app.items RENAME COLUMN name TO title');
    await engine.execute(root, "INSERT INTO app.items (id, title, n, extra, tag) VALUES (3, 'three', 30, 7, 'hot')");
    await flush(engine);
    expect(await rows(engine, 'SELECT schema_version, row_count FROM system.manifest ORDER BY schema_version')).toEqual([
      { schema_version: 1, row_count: 2 },
      { schema_version: 4, row_count: 1 },
    ]);
    expect(await rows(engine, 'SELECT id, title, extra, tag FROM app.items ORDER BY id')).toEqual([
      { id: 1, title: 'item1', extra: null, tag: 'none' },
      { id: 2, title: 'item2', extra: null, tag: 'none' },
      { id: 3, title: 'three', extra: 7, tag: 'hot' },
    ]);
    await engine.execute(root, 'ALTER TABLE app.items DROP COLUMN n');
    expect(await rows(engine, 'SELECT * FROM app.items WHERE id = 1')).toEqual([{ id: 1, title: 'item1', extra: null, tag: 'none' }]);
  });
});

describe('USER tables', () => {
  it('flush per user scope, and a user never reads another user\'s segments', async () => {
    const engine = await engineWith();
    await engine.execute(as('alice'), "INSERT INTO app.notes (id, body) VALUES (1, 'a1'), (2, 'a2')");
    await engine.execute(as('bob'), "INSERT INTO app.notes (id, body) VALUES (1, 'b1')");
    await flush(engine, 'app.notes');
    expect(await rows(engine, 'SELECT scope, row_count FROM system.manifest ORDER BY scope')).toEqual([
      { scope: 'alice', row_count: 2 },
      { scope: 'bob', row_count: 1 },
    ]);
    const before = read(engine);
    expect(await rows(engine, 'SELECT id, body FROM app.notes ORDER BY id', as('bob'))).toEqual([{ id: 1, body: 'b1' }]);
    expect(read(engine) - before).toBe(1);
    expect(await rows(engine, 'SELECT id, body FROM app.notes ORDER BY id', as('carol'))).toEqual([]);
    expect(read(engine) - before).toBe(1);
    // PK uniqueness is per user across tiers too.
    await expectError(engine.execute(as('bob'), "INSERT INTO app.notes (id, body) VALUES (1, 'dup')"), 'PRIMARY_KEY_VIOLATION');
    expect(await run(engine, "INSERT INTO app.notes (id, body) VALUES (2, 'b2')", as('bob'))).toBe('Inserted 1 row(s)');
  });
});

describe('the flush policy', () => {
  it('flushes a table once its hot rows reach the policy, when the flush job runs', async () => {
    const engine = await engineWith({ flushCheckIntervalMs: 60_000 });
    await engine.execute(root, "CREATE SHARED TABLE app.logs (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:5')");
    await engine.execute(root, 'INSERT INTO app.logs (id) VALUES (1), (2), (3), (4)');
    expect(await engine.jobs.run('flush')).toEqual([]);
    await engine.execute(root, 'INSERT INTO app.logs (id) VALUES (5)');
    const records = await engine.jobs.run('flush');
    expect(records.map((r) => [r.job_type, r.status, r.rows_affected, r.job_id.slice(0, 2)])).toEqual([['flush', 'completed', 5, 'FL']]);
    expect(stat(engine, 'table_rows.app.logs')).toBe(0);
    expect((await rows(engine, 'SELECT id FROM app.logs')).length).toBe(5);
    expect(engine.jobs.hasTimer).toBe(true);
  });

  it('flushes by interval when the oldest pending write is older than the policy says', async () => {
    const engine = await engineWith();
    await engine.execute(root, "CREATE SHARED TABLE app.logs (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:1000,interval:60')");
    await engine.execute(root, 'INSERT INTO app.logs (id) VALUES (1)');
    expect(await engine.jobs.run('flush', Date.now() + 30_000)).toEqual([]);
    const records = await engine.jobs.run('flush', Date.now() + 61_000);
    expect(records.map((r) => r.rows_affected)).toEqual([1]);
  });

  it('is checked by runDue on its interval only while some table has a policy', async () => {
    const opened = Date.now();
    const engine = await engineWith({ flushCheckIntervalMs: 1000, streamEvictionIntervalMs: 0, retentionIntervalMs: 0 });
    expect(engine.jobs.hasTimer).toBe(false);
    await engine.execute(root, "CREATE SHARED TABLE app.logs (id INT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:1')");
    expect(engine.jobs.hasTimer).toBe(true);
    await engine.execute(root, 'INSERT INTO app.logs (id) VALUES (1)');
    const records = await engine.jobs.runDue(opened + 5_000);
    expect(records.map((r) => [r.job_type, r.rows_affected])).toEqual([['flush', 1]]);
  });
});

describe('KILL JOB', () => {
  it('cancels a queued flush before it starts and a running one before its segment is committed', async () => {
    const engine = await engineWith();
    await insertItems(engine, 1, 2);
    await engine.execute(as('alice'), "INSERT INTO app.notes (id, body) VALUES (1, 'x')");
    // Hold the write lock so the first flush waits at its commit step, still running.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const held = engine.exclusive(() => gate);
    const first = (await run(engine, 'FLUSH TABLE app.items')).split('Job ID: ')[1];
    const second = (await run(engine, 'FLUSH TABLE app.notes')).split('Job ID: ')[1];
    const status = async (id: string) => (await rows(engine, `SELECT status FROM system.jobs WHERE job_id = '${id}'`))[0].status;
    await vi.waitFor(async () => expect(await status(first)).toBe('running'), { timeout: 5_000 });
    expect(await status(second)).toBe('queued');
    expect(await run(engine, `KILL JOB '${second}'`)).toBe(`Job '${second}' cancelled`);
    expect(await run(engine, `KILL JOB '${first}'`)).toBe(`Job '${first}' cancelled`);
    release();
    await held;
    await engine.jobs.idle();
    expect(await status(first)).toBe('cancelled');
    expect(await status(second)).toBe('cancelled');
    expect(await rows(engine, 'SELECT segment_id FROM system.manifest')).toEqual([]);
    expect(stat(engine, 'table_rows.app.items')).toBe(2);
    expect(await run(engine, `KILL JOB '${first}'`)).toBe(`Job '${first}' already cancelled: nothing to kill`);
    await expectError(engine.execute(root, "KILL JOB 'FL99999999'"), 'JOB_NOT_FOUND');
    await expectError(engine.execute(svc, `KILL JOB '${first}'`), 'PERMISSION_DENIED');
  });
});

describe('crash safety of a flush', () => {
  async function reopenable(name: string) {
    const indexedDB = new IDBFactory();
    const options: OpenOptions = { storage: 'idb', name, indexedDB };
    return { options, open: () => engineWith(options, false) };
  }

  it('recovers a flush interrupted after writing the segment: the segment is dropped, rows stay hot', async () => {
    const { open: openIt } = await reopenable('crash1');
    const first = await openIt();
    await first.execute(root, 'CREATE NAMESPACE app');
    await first.execute(root, 'CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT, n INT)');
    await insertItems(first, 1, 3);
    const t = first.catalog.requireTable('app', 'items');
    await flushPartition(first, t, '', { stopAfter: 1 });
    await first.close();
    open = open.filter((e) => e !== first);

    const second = await openIt();
    expect(await rows(second, 'SELECT segment_id FROM system.manifest')).toEqual([]);
    expect(await rows(second, 'SELECT id FROM app.items ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(stat(second, 'table_rows.app.items')).toBe(3);
    let segmentBytes = 0;
    await second.kv.scan('segments', { lower: new Uint8Array([0]), upper: new Uint8Array([0xff]) }, () => segmentBytes++);
    expect(segmentBytes).toBe(0);
  });

  it('recovers a flush interrupted after committing the manifest: hot copies are removed, no row is lost or doubled', async () => {
    const { open: openIt } = await reopenable('crash2');
    const first = await openIt();
    await first.execute(root, 'CREATE NAMESPACE app');
    await first.execute(root, 'CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT, n INT)');
    await insertItems(first, 1, 3);
    const t = first.catalog.requireTable('app', 'items');
    await flushPartition(first, t, '', { stopAfter: 2 });
    // Between the steps, hot shadows the identical cold copy: no duplicates.
    expect(await rows(first, 'SELECT id FROM app.items ORDER BY id')).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    await first.close();
    open = open.filter((e) => e !== first);

    const second = await openIt();
    expect(stat(second, 'table_rows.app.items')).toBe(0);
    expect(await rows(second, 'SELECT status, row_count FROM system.manifest')).toEqual([{ status: 'committed', row_count: 3 }]);
    expect(await rows(second, 'SELECT id, name FROM app.items ORDER BY id')).toEqual([
      { id: 1, name: 'item1' }, { id: 2, name: 'item2' }, { id: 3, name: 'item3' },
    ]);
  });

  it('keeps a completed flush across a reopen and continues _seq above the flushed rows', async () => {
    const { open: openIt } = await reopenable('crash3');
    const first = await openIt();
    await first.execute(root, 'CREATE NAMESPACE app');
    await first.execute(root, 'CREATE SHARED TABLE app.items (id INT PRIMARY KEY, name TEXT, n INT)');
    await insertItems(first, 1, 3);
    await flush(first);
    await first.close();
    open = open.filter((e) => e !== first);

    const second = await openIt();
    const maxSeq = (await rows(second, 'SELECT max_seq FROM system.manifest'))[0].max_seq as bigint;
    await second.execute(root, "UPDATE app.items SET name = 'u' WHERE id = 1");
    const seq = (await rows(second, 'SELECT _seq FROM app.items WHERE id = 1'))[0]._seq as bigint;
    expect(seq > maxSeq).toBe(true);
    expect(await rows(second, 'SELECT id, name FROM app.items ORDER BY id')).toEqual([
      { id: 1, name: 'u' }, { id: 2, name: 'item2' }, { id: 3, name: 'item3' },
    ]);
  });
});

describe('the segment cache', () => {
  it('stays within segmentCacheBytes, evicting the least recently used segment', async () => {
    const engine = await engineWith({ segmentCacheBytes: 8_000 });
    for (let s = 0; s < 4; s++) {
      await insertItems(engine, s * 10 + 1, s * 10 + 10);
      await flush(engine);
    }
    expect((await rows(engine, 'SELECT id FROM app.items')).length).toBe(40);
    expect((await rows(engine, 'SELECT id FROM app.items')).length).toBe(40);
    expect(stat(engine, 'segment_cache_bytes') as number).toBeLessThanOrEqual(8_000);
    expect(stat(engine, 'segment_cache_evictions') as number).toBeGreaterThan(0);
    expect(stat(engine, 'segment_loads') as number).toBeGreaterThan(0);
    expect(await rows(engine, "SELECT value FROM system.settings WHERE name = 'segment_cache_bytes'")).toEqual([{ value: '8000' }]);
  });
});

describe('DROP TABLE and retention with cold segments', () => {
  it('DROP TABLE removes the table\'s segments and manifest entries', async () => {
    const engine = await engineWith();
    await insertItems(engine, 1, 3);
    await flush(engine);
    await engine.execute(root, 'DROP TABLE app.items');
    expect(await rows(engine, 'SELECT segment_id FROM system.manifest')).toEqual([]);
    let left = 0;
    await engine.kv.scan('segments', { lower: new Uint8Array([0]), upper: new Uint8Array([0xff]) }, () => left++);
    expect(left).toBe(0);
  });

  it('retention keeps a hot tombstone that still hides a cold version', async () => {
    const engine = await engineWith();
    await engine.execute(root, 'CREATE SHARED TABLE app.r (id INT PRIMARY KEY) WITH (DELETED_RETENTION_HOURS = 0)');
    await engine.execute(root, 'INSERT INTO app.r (id) VALUES (1), (2)');
    await flush(engine, 'app.r');
    await engine.execute(root, 'DELETE FROM app.r WHERE id = 1');
    await engine.execute(root, 'INSERT INTO app.r (id) VALUES (50)');
    await engine.execute(root, 'DELETE FROM app.r WHERE id = 50');
    await engine.jobs.run('retention', Date.now() + 10_000);
    expect(stat(engine, 'table_tombstones.app.r')).toBe(1); // id 50 purged, id 1 kept
    expect(await rows(engine, 'SELECT id FROM app.r ORDER BY id')).toEqual([{ id: 2 }]);
  });
});

describe('executions in flight during a flush', () => {
  it('a read prepared before the segment was committed still sees every row: the flush waits for it', async () => {
    const engine = await engineWith();
    await insertItems(engine, 1, 3);
    const planned = engine.plan(root, 'SELECT id FROM app.items', []);
    if ('stmt' in planned) throw new Error('expected a plan');
    const prepared = await engine.prepareCold(planned.plan, root.user, planned.params);
    const flushing = flush(engine);
    // Until the flush committed its segment (it encodes and decodes row groups first), then it waits for the read.
    for (let waited = 0; engine.cold.manifest.size === 0 && waited < 5000; waited += 5) await new Promise((r) => setTimeout(r, 5));
    expect(await rows(engine, 'SELECT segment_id FROM system.manifest')).toHaveLength(1); // committed, hot rows still there
    const context = (engine as unknown as { context(s: SessionState, p: readonly Value[]): ExecContext }).context(root, planned.params);
    const seen = planned.plan.kind === 'select' ? planned.plan.run({ ...context, cold: prepared.reads }) : [];
    expect(seen.length).toBe(3);
    expect(stat(engine, 'table_rows.app.items')).toBe(3);
    prepared.release();
    await flushing;
    expect(stat(engine, 'table_rows.app.items')).toBe(0);
    expect((await rows(engine, 'SELECT id FROM app.items')).length).toBe(3);
  });

  it('a live query over flushed rows works after a reopen', async () => {
    const { openDatabase } = await import('../api/database');
    const indexedDB = new IDBFactory();
    const first = await engineWith({ storage: 'idb', name: 'live-cold', indexedDB });
    await insertItems(first, 1, 2);
    await flush(first);
    await first.close();
    open = open.filter((e) => e !== first);
    const db = await openDatabase({ storage: 'idb', name: 'live-cold', indexedDB });
    try {
      const me = db.session({ user: 'root', role: 'dba' });
      let latest: readonly unknown[] = [];
      const stop = await me.live('SELECT id, name FROM app.items ORDER BY id', [], (r) => { latest = r; }, (e) => { throw e; });
      expect(latest).toEqual([{ id: 1, name: 'item1' }, { id: 2, name: 'item2' }]);
      await me.execute("UPDATE app.items SET name = 'one' WHERE id = 1");
      await vi.waitFor(() => expect(latest).toEqual([{ id: 1, name: 'one' }, { id: 2, name: 'item2' }]), { timeout: 5_000 });
      stop();
    } finally {
      await db.close();
    }
  });
});
