/**
 * Running statements: system.queries lists them, KILL QUERY and an
 * AbortSignal on query() / execute() cancel them with QUERY_CANCELLED, and
 * the registry behind them is bounded (maxRunningQueries).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database, type Session } from '../api/database';
import { KalamError } from '../core/errors';
import { faultyStore } from '../storage/faulty.fixture';
import { openMemoryStore } from '../storage/memory';
import type { OpenOptions } from './engine';

/** Three 300-row tables crossed: 27 million rows, far longer than any test waits; it pauses every few ms. */
const LONG = 'SELECT COUNT(*) AS n FROM app.a x, app.a y, app.a z';

let open: Database[] = [];
afterEach(async () => {
  for (const db of open) await db.close();
  open = [];
});

async function setup(options: Partial<OpenOptions> = {}): Promise<{ db: Database; root: Session; alice: Session; bob: Session }> {
  // A broken cancellation ends in STATEMENT_TIMEOUT, not in a hung test.
  const db = await openDatabase({ storage: 'memory', statementTimeoutMs: 20_000, ...options } as OpenOptions);
  open.push(db);
  const root = db.session({ user: 'root', role: 'dba' });
  await root.execute(`CREATE NAMESPACE app;
    CREATE SHARED TABLE app.a (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'public');
    CREATE SHARED TABLE app.log (id INT PRIMARY KEY) WITH (ACCESS_LEVEL = 'public');
    CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT)`);
  await root.execute(`INSERT INTO app.a (id) VALUES ${Array.from({ length: 300 }, (_, i) => `(${i})`).join(', ')}`);
  return { db, root, alice: db.session({ user: 'alice', role: 'user' }), bob: db.session({ user: 'bob', role: 'user' }) };
}

async function failure(run: Promise<unknown>): Promise<KalamError> {
  try {
    await run;
  } catch (e) {
    expect(e).toBeInstanceOf(KalamError);
    return e as KalamError;
  }
  throw new Error('expected the call to fail');
}

/** Polls until `check` holds (a positive condition; gives up after 5 s). */
async function until<T>(check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const got = await check();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error('condition not reached within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

type QueryRow = { query_id: string; user_id: string; role: string; owner: string | null; state: string; sql: string; transaction_id: string | null };

/** The system.queries row of the running statement whose SQL is `sql` (waits for it to be listed). */
async function runningRow(root: Session, sql: string): Promise<QueryRow> {
  return until(async () => {
    const { rows } = await root.query('SELECT * FROM system.queries');
    return (rows as unknown as QueryRow[]).find((r) => r.sql === sql);
  });
}

async function stat(root: Session, name: string): Promise<number> {
  const { rows } = await root.query('SELECT metric_value FROM system.stats WHERE metric_name = $1', [name]);
  return Number(rows[0].metric_value);
}

describe('system.queries', () => {
  it('lists each running call with its user, role, client, state and SQL, and forgets it when it settles', async () => {
    const { db, root } = await setup();
    const carol = db.session({ user: 'carol', role: 'service', client: 'tab-7' });
    const controller = new AbortController();
    const long = carol.query(LONG, [], { signal: controller.signal });
    const row = await runningRow(root, LONG);
    expect(row).toMatchObject({ query_id: expect.stringMatching(/^Q\d+$/), user_id: 'carol', role: 'service', owner: 'tab-7', state: 'running', transaction_id: null });
    // The call reading system.queries is listed too, while it runs.
    const { rows } = await root.query('SELECT user_id, sql FROM system.queries WHERE user_id = $1', ['root']);
    expect(rows).toEqual([{ user_id: 'root', sql: 'SELECT user_id, sql FROM system.queries WHERE user_id = $1' }]);
    controller.abort();
    expect((await failure(long)).code).toBe('QUERY_CANCELLED');
    expect((await root.query('SELECT COUNT(*) AS n FROM system.queries WHERE user_id = $1', ['carol'])).rows).toEqual([{ n: 0 }]);
    expect(await stat(root, 'queries_running')).toBe(1); // the stats query itself
  });

  it('keeps the first 1024 characters of a long SQL text', async () => {
    const { root } = await setup();
    const controller = new AbortController();
    const sql = `${LONG} WHERE x.id >= 0 ${'AND y.id >= 0 '.repeat(100)}`;
    const long = root.query(sql, [], { signal: controller.signal });
    const row = await runningRow(root, `${sql.slice(0, 1024)}…`);
    expect(row.sql).toHaveLength(1025);
    controller.abort();
    await failure(long);
  });
});

describe('an AbortSignal on query() and execute()', () => {
  it('cancels a running SELECT with QUERY_CANCELLED and its reason; the database keeps answering', async () => {
    const { root, alice } = await setup();
    const controller = new AbortController();
    const long = alice.query(LONG, [], { signal: controller.signal });
    await runningRow(root, LONG);
    controller.abort('the user left the page');
    const e = await failure(long);
    expect([e.code, e.message]).toEqual(['QUERY_CANCELLED', expect.stringContaining('the user left the page')]);
    expect((await alice.query('SELECT COUNT(*) AS n FROM app.a')).rows).toEqual([{ n: 300 }]);
    expect(await stat(root, 'queries_cancelled')).toBe(1);
  });

  it('an already aborted signal runs nothing: a write is not made', async () => {
    const { root, alice } = await setup();
    const e = await failure(alice.execute("INSERT INTO app.notes (id, body) VALUES (1, 'x')", [], { signal: AbortSignal.abort() }));
    expect([e.code, e.message]).toEqual(['QUERY_CANCELLED', expect.stringContaining('before it started')]);
    expect((await alice.query('SELECT COUNT(*) AS n FROM app.notes')).rows).toEqual([{ n: 0 }]);
    expect(await stat(root, 'queries_cancelled')).toBe(1);
  });

  it('cancels a write waiting for the write lock: nothing of it is written, and the write ahead of it commits', async () => {
    const store = faultyStore(openMemoryStore());
    const { root } = await setup({ storage: store });
    // The first write's commit hangs, holding the write lock.
    store.control.armed = true;
    store.control.hang = true;
    const first = root.execute('INSERT INTO app.log (id) VALUES (1)');
    await until(async () => (store.control.hung.length === 1 ? true : undefined));
    const controller = new AbortController();
    const sql = 'INSERT INTO app.log (id) VALUES (2)';
    const second = root.execute(sql, [], { signal: controller.signal });
    expect((await runningRow(root, sql)).state).toBe('running');
    controller.abort();
    expect((await root.query('SELECT state FROM system.queries WHERE sql = $1', [sql])).rows).toEqual([{ state: 'cancelling' }]);
    store.control.hang = false;
    await store.control.hung[0].land();
    await first;
    expect((await failure(second)).code).toBe('QUERY_CANCELLED');
    expect((await root.query('SELECT id FROM app.log')).rows).toEqual([{ id: 1 }]);
    // The write lock is free: the next write goes through.
    await root.execute('INSERT INTO app.log (id) VALUES (3)');
    expect((await root.query('SELECT id FROM app.log ORDER BY id')).rows).toEqual([{ id: 1 }, { id: 3 }]);
  });

  it('stops a batch at the cancelled statement: statements before it stay committed, none after it runs', async () => {
    const { root } = await setup();
    const controller = new AbortController();
    const batch = root.execute(`INSERT INTO app.log (id) VALUES (1); ${LONG}; INSERT INTO app.log (id) VALUES (2)`, [], { signal: controller.signal });
    await until(async () => ((await root.query('SELECT COUNT(*) AS n FROM app.log')).rows[0].n === 1 ? true : undefined));
    controller.abort();
    const e = await failure(batch);
    expect(e.code).toBe('QUERY_CANCELLED');
    expect((await root.query('SELECT id FROM app.log')).rows).toEqual([{ id: 1 }]);
  });

  it('inside session.transaction() rolls the transaction back', async () => {
    const { root } = await setup();
    const controller = new AbortController();
    let txId = '';
    const done = root.transaction(async (tx) => {
      txId = tx.id;
      await tx.execute('INSERT INTO app.log (id) VALUES (1)');
      await tx.query(LONG, [], { signal: controller.signal });
    });
    const row = await runningRow(root, LONG);
    expect(row.transaction_id).toBe(txId);
    controller.abort();
    expect((await failure(done)).code).toBe('QUERY_CANCELLED');
    expect((await root.query('SELECT COUNT(*) AS n FROM app.log')).rows).toEqual([{ n: 0 }]);
    expect((await root.query('SELECT COUNT(*) AS n FROM system.transactions')).rows).toEqual([{ n: 0 }]);
  });

  it('queryArrow() takes the signal too', async () => {
    const { root } = await setup();
    const controller = new AbortController();
    const long = root.queryArrow(LONG, [], { signal: controller.signal });
    await runningRow(root, LONG);
    controller.abort();
    expect((await failure(long)).code).toBe('QUERY_CANCELLED');
  });

  it('refuses options that are not { signal: AbortSignal } with INVALID_OPTION', async () => {
    const { root } = await setup();
    const bad: unknown[] = [5, [], { signal: 'stop' }, { signal: {} }, { timeout: 5 }, new Proxy({}, { ownKeys: () => { throw new Error('trap'); } })];
    for (const options of bad) {
      const e = await failure(root.query('SELECT 1', [], options as never));
      expect([e.code, e.message]).toEqual(['INVALID_OPTION', expect.any(String)]);
    }
    expect((await root.query('SELECT 1 AS one', [], { signal: undefined })).rows).toEqual([{ one: 1 }]);
    expect((await root.query('SELECT 1 AS one', [], null as never)).rows).toEqual([{ one: 1 }]);
  });
});

describe('KILL QUERY', () => {
  it('lets a dba cancel anyone\'s statement by its system.queries id', async () => {
    const { root, alice } = await setup();
    const long = alice.query(LONG);
    const { query_id } = await runningRow(root, LONG);
    const [killed] = await root.execute(`KILL QUERY '${query_id}'`);
    expect(killed.message).toBe(`Query '${query_id}' cancelled`);
    const e = await failure(long);
    expect([e.code, e.message]).toEqual(['QUERY_CANCELLED', expect.stringContaining(`KILL QUERY '${query_id}' by 'root'`)]);
  });

  it('lets a user cancel only their own statements: another user\'s id is QUERY_NOT_FOUND, as an unknown one', async () => {
    const { root, alice, bob } = await setup();
    const long = alice.query(LONG);
    const { query_id } = await runningRow(root, LONG);
    const e = await failure(bob.execute(`KILL QUERY '${query_id}'`));
    expect([e.code, e.message]).toEqual(['QUERY_NOT_FOUND', expect.stringContaining('system.queries')]);
    expect((await root.query('SELECT state FROM system.queries WHERE query_id = $1', [query_id])).rows).toEqual([{ state: 'running' }]);
    await alice.execute(`KILL QUERY '${query_id}'`);
    expect((await failure(long)).code).toBe('QUERY_CANCELLED');
    expect((await failure(root.execute("KILL QUERY 'Q999999'"))).code).toBe('QUERY_NOT_FOUND');
    // Only dba and system see what others run.
    expect((await failure(bob.query('SELECT * FROM system.queries'))).code).toBe('PERMISSION_DENIED');
    expect((await failure(root.execute(`KILL QUERY '${query_id}'`))).code).toBe('QUERY_NOT_FOUND'); // finished
  });

  it('needs a quoted id', async () => {
    const { root } = await setup();
    const e = await failure(root.execute('KILL QUERY'));
    expect([e.code, e.message]).toEqual(['PARSE_ERROR', expect.stringContaining("KILL QUERY '<query_id>'")]);
  });
});

describe('the running-query registry', () => {
  it('tracks at most maxRunningQueries calls; past it a call runs untracked and its AbortSignal still cancels it', async () => {
    const { root } = await setup({ maxRunningQueries: 2 });
    const signals = [new AbortController(), new AbortController(), new AbortController()];
    const sqls = [LONG, `${LONG} WHERE x.id >= 0`, `${LONG} WHERE x.id >= 1`];
    const a = root.query(sqls[0], [], { signal: signals[0].signal });
    await runningRow(root, sqls[0]);
    const b = root.query(sqls[1], [], { signal: signals[1].signal });
    await runningRow(root, sqls[1]);
    // Full: the calls reading system.queries and system.stats run untracked now, and so does the third long one.
    const before = await stat(root, 'queries_untracked');
    const c = root.query(sqls[2], [], { signal: signals[2].signal });
    expect(await stat(root, 'queries_untracked')).toBe(before + 2); // c, and this stats query
    expect(await stat(root, 'queries_running')).toBe(2);
    expect(await stat(root, 'queries_running_max')).toBe(2);
    const { rows } = await root.query('SELECT sql FROM system.queries ORDER BY sql');
    expect(rows).toEqual([{ sql: sqls[0] }, { sql: sqls[1] }]);
    signals[2].abort();
    expect((await failure(c)).code).toBe('QUERY_CANCELLED');
    signals[0].abort();
    signals[1].abort();
    expect((await failure(a)).code).toBe('QUERY_CANCELLED');
    expect((await failure(b)).code).toBe('QUERY_CANCELLED');
    expect(await stat(root, 'queries_cancelled')).toBe(3);
    expect(await stat(root, 'queries_running')).toBe(1); // the stats query itself, tracked again
    expect((await root.query("SELECT value FROM system.settings WHERE name = 'max_running_queries'")).rows).toEqual([{ value: '2' }]);
  });

  it('close() cancels running statements and returns', async () => {
    const { db, root } = await setup();
    const long = root.query(LONG);
    await runningRow(root, LONG);
    await db.close();
    open = [];
    const e = await failure(long);
    expect([e.code, e.message]).toEqual(['QUERY_CANCELLED', expect.stringContaining('the database was closed')]);
  });
});
