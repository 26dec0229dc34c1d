/**
 * The API boundary (issue 12, observed defects 4, 5 and 8): values are
 * copied and deep-frozen on the way in, what a query returns is deeply
 * immutable, memory equals disk, every value is checked against its column
 * type's range, and hostile JavaScript values end in a specific KalamError.
 */
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { KalamError } from '../core/errors';
import type { Row, Value } from '../core/types';
import { openDatabase, type Database, type Session } from './database';

async function setup(db?: Database): Promise<{ db: Database; admin: Session }> {
  db ??= await openDatabase({ storage: 'memory' });
  const admin = db.session({ user: 'root', role: 'dba' });
  await admin.execute(`CREATE NAMESPACE IF NOT EXISTS app;
    CREATE SHARED TABLE IF NOT EXISTS app.docs (id INT PRIMARY KEY, j JSON, b BYTES, d DATE, ts TIMESTAMP, n INT, big BIGINT, t TEXT, x DOUBLE,
      jd JSON DEFAULT '{"made":{"by":["default"]}}')`);
  return { db, admin };
}

async function failure(p: Promise<unknown> | (() => unknown)): Promise<KalamError> {
  let e: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (x) {
    e = x;
  }
  if (e === undefined) throw new Error('expected a failure');
  if (!(e instanceof KalamError)) throw new Error(`expected a KalamError, got ${String(e)}`);
  expect(e.code).not.toBe('INTERNAL');
  return e;
}

const code = async (p: Promise<unknown> | (() => unknown)) => (await failure(p)).code;

function isDeepFrozen(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return true;
  return Object.isFrozen(v) && Object.values(v).every(isDeepFrozen);
}

const one = async (s: Session, sql: string, params: Value[] = []): Promise<Row> => (await s.query(sql, params)).rows[0];

/** FLUSH TABLE and wait for its job. */
async function flushed(admin: Session, table: string): Promise<void> {
  const [r] = await admin.execute(`FLUSH TABLE ${table}`);
  const id = /Job ID: (\S+)/.exec(r.message)?.[1];
  if (!id) return;
  for (let i = 0; i < 500; i++) {
    const job = await one(admin, 'SELECT status, message FROM system.jobs WHERE job_id = $1', [id]);
    if (job && job.status !== 'running' && job.status !== 'queued') {
      expect(job.status).toBe('completed');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`flush job ${id} did not finish`);
}

describe('JSON and BYTES values are copies: the caller cannot change a stored row (defect 4)', () => {
  it('stores a copy of a JSON parameter; rows are deeply frozen; memory equals disk after a reopen', async () => {
    const indexedDB = new IDBFactory();
    const { db, admin } = await setup(await openDatabase({ storage: 'idb', name: 'json-copy', indexedDB }));
    const o = { a: 1, nested: { list: [1, 2] } };
    await admin.execute('INSERT INTO app.docs (id, j) VALUES (1, $1)', [o]);
    o.a = 666;
    o.nested.list.push(3);
    const first = await one(admin, 'SELECT j FROM app.docs WHERE id = 1');
    expect(first.j).toEqual({ a: 1, nested: { list: [1, 2] } });
    expect(isDeepFrozen(first)).toBe(true);
    expect(() => {
      (first.j as { a: number }).a = 777;
    }).toThrow(TypeError);
    expect(() => (first.j as { nested: { list: number[] } }).nested.list.push(4)).toThrow(TypeError);
    expect((await one(admin, 'SELECT j FROM app.docs WHERE id = 1')).j).toEqual({ a: 1, nested: { list: [1, 2] } });
    await db.close();
    const again = await openDatabase({ storage: 'idb', name: 'json-copy', indexedDB });
    const reread = await one(again.session({ user: 'root', role: 'dba' }), 'SELECT j FROM app.docs WHERE id = 1');
    expect(reread.j).toEqual({ a: 1, nested: { list: [1, 2] } });
    expect(isDeepFrozen(reread)).toBe(true); // rows read back from storage are frozen as well
    expect((await one(again.session({ user: 'root', role: 'dba' }), 'SELECT j FROM app.docs WHERE id = 1')).j).toBe(reread.j); // frozen at load, not copied per query
    await again.close();
  });

  it('stores and hands out copies of BYTES, so neither the input nor a returned Uint8Array reaches the stored row', async () => {
    const indexedDB = new IDBFactory();
    const { db, admin } = await setup(await openDatabase({ storage: 'idb', name: 'bytes-copy', indexedDB }));
    const input = new Uint8Array([1, 2, 3]);
    await admin.execute('INSERT INTO app.docs (id, b) VALUES (1, $1)', [input]);
    input[0] = 99;
    const out = (await one(admin, 'SELECT b FROM app.docs WHERE id = 1')).b as Uint8Array;
    expect([...out]).toEqual([1, 2, 3]);
    out[1] = 99;
    expect([...((await one(admin, 'SELECT b FROM app.docs WHERE id = 1')).b as Uint8Array)]).toEqual([1, 2, 3]);
    const arrow = await admin.queryArrow('SELECT b FROM app.docs WHERE id = 1');
    (arrow.getChild('b')!.get(0) as Uint8Array)[2] = 99;
    await db.close();
    const again = await openDatabase({ storage: 'idb', name: 'bytes-copy', indexedDB });
    expect([...((await one(again.session({ user: 'root', role: 'dba' }), 'SELECT b FROM app.docs WHERE id = 1')).b as Uint8Array)]).toEqual([1, 2, 3]);
    await again.close();
  });

  it('deep-freezes JSON on every path that stores it: INSERT, UPDATE SET, DEFAULT, ALTER ADD COLUMN, INSERT … SELECT, CAST, cold segments', async () => {
    const { admin } = await setup();
    await admin.execute(`INSERT INTO app.docs (id, j) VALUES (1, '{"text":{"a":[1]}}')`);
    await admin.execute('INSERT INTO app.docs (id, j) VALUES (2, $1)', [{ param: { a: [1] } }]);
    await admin.execute('INSERT INTO app.docs (id) VALUES (3)');
    await admin.execute('UPDATE app.docs SET j = $1 WHERE id = 3', [{ updated: { a: [1] } }]);
    await admin.execute('INSERT INTO app.docs (id, j) SELECT id + 10, j FROM app.docs WHERE id <= 3');
    await admin.execute(`ALTER TABLE app.docs ADD COLUMN added JSON DEFAULT '{"added":{"a":[1]}}'`);
    const hot = (await admin.query('SELECT id, j, jd, added, CAST(\'{"cast":{"a":[1]}}\' AS JSON) AS c FROM app.docs ORDER BY id')).rows;
    expect(hot.map((r) => r.j)).toEqual([
      { text: { a: [1] } }, { param: { a: [1] } }, { updated: { a: [1] } },
      { text: { a: [1] } }, { param: { a: [1] } }, { updated: { a: [1] } },
    ]);
    expect(hot[0].jd).toEqual({ made: { by: ['default'] } });
    expect(hot[0].added).toEqual({ added: { a: [1] } });
    expect(hot[0].c).toEqual({ cast: { a: [1] } });
    for (const r of hot) expect(isDeepFrozen(r)).toBe(true);
    // Rows decoded from a cold segment, and a column added after it was written (filled from the default).
    await flushed(admin, 'app.docs');
    await admin.execute(`ALTER TABLE app.docs ADD COLUMN later JSON DEFAULT '{"later":{"a":[1]}}'`);
    const cold = (await admin.query('SELECT j, jd, added, later FROM app.docs ORDER BY id')).rows;
    expect(cold.map((r) => r.j)).toEqual(hot.map((r) => r.j));
    expect(cold[5].later).toEqual({ later: { a: [1] } });
    for (const r of cold) expect(isDeepFrozen(r)).toBe(true);
    // Sealed where the segment was decoded, not copied per query: the same frozen object each time.
    const coldAgain = (await admin.query('SELECT j, jd, added, later FROM app.docs ORDER BY id')).rows;
    for (const k of ['j', 'jd', 'added', 'later']) expect(coldAgain[0][k]).toBe(cold[0][k]);
    expect(() => {
      ((cold[0].j as { text: { a: number[] } }).text.a)[0] = 2;
    }).toThrow(TypeError);
    expect((await one(admin, 'SELECT j FROM app.docs WHERE id = 1')).j).toEqual({ text: { a: [1] } });
  });

  it('refuses cyclic objects and throwing Proxies, so CAST(j AS TEXT) and queryArrow only ever see JSON', async () => {
    const { admin } = await setup();
    await admin.execute('INSERT INTO app.docs (id, j) VALUES (1, $1)', [{ ok: true }]);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const throwing = new Proxy({}, { ownKeys() { throw new Error('no keys'); } });
    for (const bad of [cyclic, throwing, [cyclic], { deep: { fn: () => 1 } }]) {
      expect(await code(admin.execute('INSERT INTO app.docs (id, j) VALUES (2, $1)', [bad as Value]))).toBe('INVALID_PARAMETER');
      expect(await code(admin.execute('UPDATE app.docs SET j = $1 WHERE id = 1', [bad as Value]))).toBe('INVALID_PARAMETER');
    }
    const e = await failure(admin.execute('INSERT INTO app.docs (id, j) VALUES (2, $1)', [cyclic as Value]));
    expect(e.message).toMatch(/^Parameter \$1 is an object, so it must be a JSON value: a cycle \(the value contains itself\) at \$\.self\. JSON values are plain objects/);
    expect((await admin.query('SELECT CAST(j AS TEXT) AS s FROM app.docs')).rows).toEqual([{ s: '{"ok": true}' }]); // jsonb's text form
    const table = await admin.queryArrow('SELECT id, j FROM app.docs');
    expect(table.getChild('j')!.get(0)).toBe('{"ok":true}');
  });

  it('turns a Date inside JSON into its ISO text and leaves out undefined properties, as JSON.stringify does', async () => {
    const { admin } = await setup();
    await admin.execute('INSERT INTO app.docs (id, j) VALUES (1, $1)', [{ at: new Date(Date.UTC(2024, 1, 29)), gone: undefined } as unknown as Value]);
    expect((await one(admin, 'SELECT j FROM app.docs WHERE id = 1')).j).toStrictEqual({ at: '2024-02-29T00:00:00.000Z' });
  });

  it('hands out deep-frozen JSON and copies of BYTES in live results', async () => {
    const { admin } = await setup();
    const deliveries: (readonly Row[])[] = [];
    const stop = await admin.live('SELECT id, j, b FROM app.docs WHERE id < 10', [], (rows) => deliveries.push(rows));
    await admin.execute('INSERT INTO app.docs (id, j, b) VALUES (1, $1, $2)', [{ a: { b: 1 } }, new Uint8Array([1, 2])]);
    const [row] = deliveries[deliveries.length - 1];
    expect(isDeepFrozen(row)).toBe(true);
    (row.b as Uint8Array)[0] = 99;
    expect((await one(admin, 'SELECT b FROM app.docs WHERE id = 1')).b).toEqual(new Uint8Array([1, 2]));
    stop();
  });

  it('hands out a BYTES primary key of a deleted row as a copy', async () => {
    const { admin } = await setup();
    await admin.execute('CREATE SHARED TABLE app.blobs (k BYTES PRIMARY KEY, v INT)');
    await admin.execute('INSERT INTO app.blobs (k, v) VALUES ($1, 1), ($2, 2)', [new Uint8Array([1]), new Uint8Array([2])]);
    const deleted: Value[] = [];
    const stop = await admin.live('SELECT k, v FROM app.blobs', [], (_rows, change) => {
      if (change.kind === 'changes') deleted.push(...change.deleted);
    });
    await admin.execute('DELETE FROM app.blobs WHERE v = 1');
    expect(deleted).toEqual([new Uint8Array([1])]);
    (deleted[0] as Uint8Array)[0] = 99;
    stop();
    const rows = (await admin.query('SELECT k FROM app.blobs WHERE _deleted = true')).rows;
    expect(rows).toEqual([{ k: new Uint8Array([1]) }]);
  });

  it('hands out system tables\' JSON deep-frozen without freezing the catalog, and ±Infinity in segment stats as text', async () => {
    const { admin } = await setup();
    const schemas = (await admin.query(`SELECT columns FROM system.schemas WHERE table_name = 'docs'`)).rows;
    expect(schemas.length).toBe(1);
    expect(isDeepFrozen(schemas[0])).toBe(true);
    await admin.execute(`INSERT INTO app.docs (id, x) VALUES (1, 'Infinity'), (2, '-Infinity')`);
    await flushed(admin, 'app.docs');
    const [manifest] = (await admin.query('SELECT column_stats FROM system.manifest')).rows;
    expect(isDeepFrozen(manifest)).toBe(true);
    expect(Object.values(manifest.column_stats as Record<string, { min: Value; max: Value }>)).toContainEqual({ min: '-Infinity', max: 'Infinity', null_count: 0 });
    await admin.execute('ALTER TABLE app.docs ADD COLUMN more TEXT'); // the catalog's own objects were not frozen
    expect((await admin.query('SELECT x FROM app.docs ORDER BY id')).rows).toEqual([{ x: Number.POSITIVE_INFINITY }, { x: Number.NEGATIVE_INFINITY }]);
  });

  it('lets a frozen result value be passed back as a parameter', async () => {
    const { admin } = await setup();
    await admin.execute('INSERT INTO app.docs (id, j) VALUES (1, $1)', [{ a: [1] }]);
    const j = (await one(admin, 'SELECT j FROM app.docs WHERE id = 1')).j;
    await admin.execute('INSERT INTO app.docs (id, j) VALUES (2, $1)', [j]);
    expect((await one(admin, 'SELECT j FROM app.docs WHERE id = 2')).j).toEqual({ a: [1] });
  });
});

describe('values are checked against their column type range on the way in (defect 5)', () => {
  it('refuses a DATE or TIMESTAMP out of range with OUT_OF_RANGE naming the column, the value and the range', async () => {
    const { admin } = await setup();
    const date = await failure(admin.execute('INSERT INTO app.docs (id, d) VALUES (1, $1)', [1e308]));
    expect(date.code).toBe('OUT_OF_RANGE');
    expect(date.message).toBe("Value 1e+308 is out of range for column 'd' of type DATE (0000-01-01 to 9999-12-31)");
    const ts = await failure(admin.execute('INSERT INTO app.docs (id, ts) VALUES (1, $1)', [1e308]));
    expect(ts.code).toBe('OUT_OF_RANGE');
    expect(ts.message).toMatch(/^Value 1e\+308 is out of range for column 'ts' of type TIMESTAMP/);
    expect(await code(admin.execute(`INSERT INTO app.docs (id, d) VALUES (1, '9999-12-31T23:00:00-05:00')`))).toBe('OUT_OF_RANGE');
    expect(await code(admin.execute('INSERT INTO app.docs (id, ts) VALUES (1, $1)', [-8.64e15 - 1]))).toBe('OUT_OF_RANGE');
    expect((await admin.query('SELECT id FROM app.docs')).rows).toEqual([]);
  });

  it('stores a TIMESTAMP as whole milliseconds (fractions rounded half to even), so queryArrow reads it', async () => {
    const { admin } = await setup();
    await admin.execute('INSERT INTO app.docs (id, ts) VALUES (1, $1), (2, $2), (3, $3)', [0.5, 1.5, 8.64e15]);
    expect((await admin.query('SELECT ts FROM app.docs ORDER BY id')).rows).toEqual([{ ts: 0 }, { ts: 2 }, { ts: 8.64e15 }]);
    const table = await admin.queryArrow('SELECT ts FROM app.docs ORDER BY id');
    expect(table.numRows).toBe(3);
    expect(table.getChild('ts')!.toArray().length).toBe(3);
  });

  it('does not skip cold segments by a bound that rounding made tighter (WHERE n > 0.5, ts > 1.5)', async () => {
    const { admin } = await setup();
    await admin.execute('INSERT INTO app.docs (id, n, ts, x) VALUES (1, 0, 0, 0.1), (2, 1, 2, 0.2)');
    await flushed(admin, 'app.docs');
    await admin.execute('INSERT INTO app.docs (id, n, ts, x) VALUES (3, 5, 10, 5)');
    await flushed(admin, 'app.docs');
    const ids = async (where: string) => (await admin.query(`SELECT id FROM app.docs WHERE ${where} ORDER BY id`)).rows.map((r) => r.id);
    expect(await ids('n > 0.5')).toEqual([2, 3]);
    expect(await ids('n >= 0.5')).toEqual([2, 3]);
    expect(await ids('n < 0.5')).toEqual([1]);
    expect(await ids('ts > 1.5')).toEqual([2, 3]);
    expect(await ids('ts < 0.4')).toEqual([1]);
    expect(await ids('x >= 0.2')).toEqual([2, 3]);
  });

  it('rounds a number into an integer column (numeric → integer) but refuses text that is not a whole number, and a Date', async () => {
    const { admin } = await setup();
    await admin.execute('INSERT INTO app.docs (id, n) VALUES (1, $1)', [0.5]);
    expect((await one(admin, 'SELECT n FROM app.docs WHERE id = 1')).n).toBe(1);
    await admin.execute('INSERT INTO app.docs (id, n) VALUES (2, 2.5)');
    expect((await one(admin, 'SELECT n FROM app.docs WHERE id = 2')).n).toBe(3);
    const text = await failure(admin.execute(`INSERT INTO app.docs (id, n) VALUES (3, '0.5')`));
    expect(text.code).toBe('TYPE_MISMATCH');
    expect(text.message).toMatch(/column 'n' of type INT: text for an integer column must be a whole number/);
    const date = new Date(1000) as unknown as Value;
    for (const column of ['n', 'big', 't', 'x', 'j']) {
      const e = await failure(admin.execute(`INSERT INTO app.docs (id, ${column}) VALUES (4, $1)`, [date]));
      expect([column, e.code]).toEqual([column, 'TYPE_MISMATCH']);
      expect(e.message).toMatch(new RegExp(`^Parameter \\$1 is a Date, which only a TIMESTAMP, DATETIME or DATE column holds: column '${column}'`));
    }
    expect(await code(admin.execute('UPDATE app.docs SET n = $1 WHERE id = 1', [date]))).toBe('TYPE_MISMATCH');
    await admin.execute('INSERT INTO app.docs (id, ts, d) VALUES (5, $1, $1)', [new Date(Date.UTC(2024, 0, 2, 3)) as unknown as Value]);
    expect(await one(admin, 'SELECT ts, d FROM app.docs WHERE id = 5')).toEqual({ ts: Date.UTC(2024, 0, 2, 3), d: '2024-01-02' });
    // Expressions still read a Date parameter as its ms since the epoch.
    expect(await one(admin, 'SELECT id FROM app.docs WHERE ts = $1', [new Date(Date.UTC(2024, 0, 2, 3)) as unknown as Value])).toEqual({ id: 5 });
    expect(await code(admin.execute('INSERT INTO app.docs (id, n) VALUES (6, $1)', [2 ** 31]))).toBe('OUT_OF_RANGE');
    expect(await code(admin.execute('INSERT INTO app.docs (id, big) VALUES (6, $1)', [2n ** 63n]))).toBe('OUT_OF_RANGE');
    expect(await code(admin.execute('INSERT INTO app.docs (id, x) VALUES (6, $1)', ['1e400']))).toBe('OUT_OF_RANGE');
    await admin.execute(`INSERT INTO app.docs (id, x) VALUES (6, 'Infinity')`);
    expect((await one(admin, 'SELECT x FROM app.docs WHERE id = 6')).x).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('hostile JavaScript values at the API end in a specific KalamError (defect 8)', () => {
  const boom = () => {
    throw new Error('hostile');
  };

  it('refuses a Proxy as the parameters array, for every call that takes parameters', async () => {
    const { admin } = await setup();
    const params = new Proxy([1], { get: boom }) as unknown as Value[];
    const lying = new Proxy([1], { get: (t, k) => (k === 'length' ? -1 : Reflect.get(t, k)) }) as unknown as Value[];
    const revocable = Proxy.revocable([1], {});
    revocable.revoke();
    for (const p of [params, lying, revocable.proxy as unknown as Value[]]) {
      expect(await code(admin.execute('SELECT $1 AS x', p))).toBe('INVALID_PARAMETER');
      expect(await code(admin.query('SELECT $1 AS x', p))).toBe('INVALID_PARAMETER');
      expect(await code(admin.queryArrow('SELECT $1 AS x', p))).toBe('INVALID_PARAMETER');
      expect(await code(admin.live('SELECT id FROM app.docs WHERE id = $1', p, () => undefined))).toBe('INVALID_PARAMETER');
      expect(await code(admin.transaction((tx) => tx.query('SELECT $1 AS x', p)))).toBe('INVALID_PARAMETER');
    }
    expect((await admin.query('SELECT $1 AS x', [1])).rows).toEqual([{ x: 1 }]);
  });

  it('never runs toString, valueOf or Symbol.toPrimitive of a parameter, nor lets a getter or trap escape', async () => {
    const { admin } = await setup();
    const primitive = { [Symbol.toPrimitive]: boom } as unknown as Value; // symbol keys are not JSON: copied as {}
    expect(await code(admin.execute('INSERT INTO app.docs (id, n) VALUES (1, $1)', [primitive]))).toBe('TYPE_MISMATCH');
    expect(await code(admin.execute('INSERT INTO app.docs (id, t) VALUES (1, $1)', [primitive]))).toBe('TYPE_MISMATCH');
    const methods = { toString: boom, valueOf: boom } as unknown as Value;
    expect((await failure(admin.execute('INSERT INTO app.docs (id, t) VALUES (1, $1)', [methods]))).message).toMatch(/a function is not JSON at \$\.toString/);
    class Hostile {
      toString(): string {
        throw new Error('hostile');
      }
    }
    expect(await code(admin.execute('INSERT INTO app.docs (id, t) VALUES (1, $1)', [new Hostile() as unknown as Value]))).toBe('INVALID_PARAMETER');
    const getter = Object.defineProperty({}, 'a', { get: boom, enumerable: true }) as Value;
    expect((await failure(admin.execute('SELECT $1 AS x', [getter]))).message).toMatch(/reading it threw \(hostile\) at \$\.a/);
    for (const handler of [{ getPrototypeOf: boom }, { ownKeys: boom }, { get: boom }, { getOwnPropertyDescriptor: boom }]) {
      expect(await code(admin.execute('SELECT $1 AS x', [new Proxy({ a: 1 }, handler) as Value]))).toBe('INVALID_PARAMETER');
    }
    // A thrown value that is itself hostile.
    const thrown = new Proxy({}, { get: boom, getPrototypeOf: boom });
    const throwsHostile = Object.defineProperty([], 0, { get: () => { throw thrown; }, enumerable: true }) as Value[];
    expect(await code(admin.execute('SELECT $1 AS x', throwsHostile))).toBe('INVALID_PARAMETER');
    expect(await code(admin.execute('SELECT 1 AS x', new Proxy([], { get: () => { throw thrown; } }) as Value[]))).toBe('INVALID_PARAMETER');
    expect(await code(admin.execute({ toString: boom } as unknown as string))).toBe('INVALID_SQL');
    expect(await code(admin.query('SELECT $1 AS x', [Symbol('s') as unknown as Value]))).toBe('INVALID_PARAMETER');
  });

  it('refuses holes and a huge sparse parameters array at once', async () => {
    const { admin } = await setup();
    // eslint-disable-next-line no-sparse-arrays
    const holes = [, 1] as Value[];
    expect((await failure(admin.execute('SELECT $2 AS x', holes))).message).toBe('Parameter $1 is undefined (or a hole in the array): pass null for SQL NULL');
    const sparse: Value[] = [];
    sparse[1e9] = 1;
    // Refused by its length, before anything is sized by it or walked (a walk of 10^9 slots would
    // run past the test's timeout): no wall-clock bound here, which a loaded machine breaks.
    const e = await failure(admin.execute('SELECT 1 AS x', sparse));
    expect(e.code).toBe('LIMIT_EXCEEDED');
    expect(e.message).toContain('1,000,000,001 parameter values exceeds the limit of 65,535 (maxParameters)');
    expect(await code(admin.execute('SELECT 1 AS x', 'not an array' as unknown as Value[]))).toBe('INVALID_PARAMETER');
  });

  it('refuses bad session options, including null, Proxies and hostile values, where the session is made', async () => {
    const { db } = await setup();
    const options: unknown[] = [
      null,
      undefined,
      [],
      'alice',
      new Proxy({}, { get: boom }),
      { get user() { throw new Error('hostile'); } },
      { user: { toString: boom } },
      { user: 'alice', role: { toString: boom } },
      { user: 'alice', client: { [Symbol.toPrimitive]: boom } },
    ];
    for (const o of options) {
      const e = await failure(() => db.session(o as never));
      expect(e.code).toBe('INVALID_PARAMETER');
    }
  });

  it('refuses openDatabase() options whose reading throws with INVALID_OPTION', async () => {
    expect(await code(openDatabase(new Proxy({ storage: 'memory' }, { ownKeys: boom }) as never))).toBe('INVALID_OPTION');
    expect(await code(openDatabase({ get storage(): 'memory' { throw new Error('hostile'); } }))).toBe('INVALID_OPTION');
  });

  it('rolls a transaction back when its callback throws a hostile value, and rethrows that value', async () => {
    const { admin } = await setup();
    const thrown = new Proxy({}, { get: boom, getPrototypeOf: boom });
    let caught: unknown;
    try {
      await admin.transaction(async (tx) => {
        await tx.execute('INSERT INTO app.docs (id) VALUES (1)');
        throw thrown;
      });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(thrown);
    expect((await admin.query('SELECT id FROM app.docs')).rows).toEqual([]);
    await admin.transaction((tx) => tx.execute('INSERT INTO app.docs (id) VALUES (2)'));
    expect((await admin.query('SELECT id FROM app.docs')).rows).toEqual([{ id: 2 }]);
  });

  it('refuses hostile live options with INVALID_OPTION', async () => {
    const { admin } = await setup();
    expect(await code(admin.live('SELECT id FROM app.docs', [], () => undefined, undefined, new Proxy({}, { get: boom })))).toBe('INVALID_OPTION');
    expect(await code(admin.live('SELECT id FROM app.docs', [], () => undefined, undefined, { lastRows: { valueOf: boom } as unknown as number }))).toBe('INVALID_OPTION');
  });
});
